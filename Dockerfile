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
    CHROMIUM_PATH=/usr/bin/chromium
VOLUME ["/data"]
EXPOSE 8000
# Until the chat routes land, the image runs the simulator (the demo upstream).
CMD ["python", "-m", "simulator", "--host", "0.0.0.0", "--port", "8000"]
