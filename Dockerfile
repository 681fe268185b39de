# annserve API image: slim Python, non-root, data dir as a volume, health-checked.
#   docker build -t annserve .
#   docker run -p 8000:8000 -v annserve-data:/data annserve
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ANNSERVE_DATA_DIR=/data

WORKDIR /srv/annserve
COPY pyproject.toml README.md ./
COPY core ./core
COPY app ./app
RUN pip install ".[postgres,celery]" \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin annserve \
 && mkdir -p /data \
 && chown annserve:annserve /data

USER annserve
VOLUME ["/data"]
# HTTP (REST, /v1 and /v2) and the Open Inference Protocol over gRPC (ANNSERVE_GRPC_PORT).
EXPOSE 8000 8081

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# `annserve serve` applies the migrations, then serves; SIGTERM shuts uvicorn down gracefully.
CMD ["annserve", "serve", "--host", "0.0.0.0", "--port", "8000"]
