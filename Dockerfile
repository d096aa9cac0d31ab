# icp-sync: production image. Expects an external PostgreSQL (ICP_SYNC_DATABASE_URL) and the
# shared ICP_SYNC_SECRET_KEYS; docker-compose.yml runs one API, one worker and PostgreSQL.

# Build a wheel from the sources; the image installs that wheel, never the source tree.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY connectors ./connectors
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ICP_SYNC_HOST=0.0.0.0 \
    ICP_SYNC_PORT=8000 \
    ICP_SYNC_DATA_DIR=/data \
    ICP_SYNC_LOG_FORMAT=json

RUN groupadd --system icp && useradd --system --gid icp --home-dir /data icp \
    && mkdir -p /data && chown icp:icp /data
# Every dependency at the version constraints.txt pins: the same image from the same commit.
COPY constraints.txt /tmp/constraints.txt
COPY --from=build /wheels /tmp/wheels
RUN pip install --constraint /tmp/constraints.txt /tmp/wheels/*.whl && rm -rf /tmp/wheels

USER icp
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os, sys, urllib.request; port = os.environ.get('ICP_SYNC_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2).status != 200)"

# Replicas: `serve --no-worker`; workers: `worker`; migrate once per release: `migrate`.
CMD ["icp-sync", "serve"]
