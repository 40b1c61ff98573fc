# First draft: the gateway with Debian's Chromium. Build context is the repository root.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY browser ./browser
COPY service ./service
COPY simulator ./simulator
RUN pip install --no-cache-dir .

ENV GATEWAY_DATA_DIR=/data \
    GATEWAY_BROWSER__CHROMIUM_PATH=/usr/bin/chromium
VOLUME ["/data"]
EXPOSE 8000
# The gateway. It refuses to start without an API key: pass GATEWAY_API_KEYS and GATEWAY_ACCOUNTS
# (a JSON list), or mount a config file and pass `--config /data/gateway.toml` (README "Real accounts").
# `python -m service demo --host 0.0.0.0` runs it against the bundled simulator instead.
CMD ["python", "-m", "service", "serve", "--host", "0.0.0.0", "--port", "8000"]
