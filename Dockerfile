# icp-sync: production image. Expects an external PostgreSQL (ICP_SYNC_DATABASE_URL);
# without one it falls back to the embedded server inside the container's data volume.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ICP_SYNC_HOST=0.0.0.0 \
    ICP_SYNC_PORT=8000 \
    ICP_SYNC_DATA_DIR=/data

RUN groupadd --system icp && useradd --system --gid icp --home-dir /app icp \
    && mkdir -p /app /data && chown icp:icp /data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY connectors ./connectors
COPY migrations ./migrations
COPY examples ./examples
RUN pip install -e . && chown -R icp:icp /app

USER icp
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"

# Replicas: `serve --no-worker`; workers: `worker`; migrate once per release: `migrate`.
CMD ["icp-sync", "serve"]
