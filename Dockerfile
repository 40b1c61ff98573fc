# The gateway with Debian's Chromium. Build context: the repository root.
#   docker build -t gemini-gateway .
#   docker run -d -p 8000:8000 -v gateway-data:/data \
#     -e GATEWAY_ADMIN_KEYS=<admin key> gemini-gateway
# Then add accounts and hand out keys through http://localhost:8000/admin/ui (README "Operations").
FROM python:3.11-slim-bookworm

# Chromium from Debian (the version Playwright drives here), fonts for CJK and emoji, curl for the
# health check. Not pinned (DL3008): Debian replaces Chromium with each security update, so a pinned
# version would soon be gone from the mirror; the Playwright pin must follow what it installs.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-noto-cjk fonts-noto-color-emoji curl \
    && rm -rf /var/lib/apt/lists/*

# A non-root user owns the data directory, created 0700: it holds cookies and hashed keys. /media is
# the mount point of media every replica shares (media.shared_dir, deploy/compose): a volume mounted
# there starts with this owner.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --home-dir /home/gateway --create-home gateway \
    && install -d -o gateway -g gateway -m 0700 /data /media

WORKDIR /app
# The runtime dependencies from the lock, hash-checked: the versions the test suite ran with (pip and
# setuptools included, so the build below uses the locked backend). Their own layer: a code change
# does not reinstall them. tests/test_docker_install.py runs these steps in a clean venv.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY browser ./browser
COPY service ./service
COPY simulator ./simulator
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

# Chromium's sandbox stays ON: the browser arguments below are the defaults without --no-sandbox
# (it needs unprivileged user namespaces, which Docker's default seccomp profile allows on current
# kernels). Only if Chromium cannot start, add "--no-sandbox" to chromium_args yourself.
ENV GATEWAY_DATA_DIR=/data \
    GATEWAY_BROWSER='{"chromium_path": "/usr/bin/chromium", "chromium_args": ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]}' \
    PYTHONUNBUFFERED=1

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8000/healthz"]
# It refuses to start without a key: GATEWAY_API_KEYS, or GATEWAY_ADMIN_KEYS to create keys at
# runtime. `gemini-gateway demo --host 0.0.0.0` runs it against the bundled simulator instead.
CMD ["gemini-gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
