# One image per job, all built from this file and sharing the dependency layers:
#   docker build --target training -t handoff-training:dev .
# Targets: feature-engineering, training, batch-inference, deployment, serving.
#
# No "# syntax=" line on purpose: it makes BuildKit pull a frontend image, and builds must also
# work where no registry is reachable. The built-in frontend (Docker >= 20.10) has everything
# used here (RUN --mount for caches and secrets).
#
# Where the network intercepts TLS, pass the CA bundle as a build secret; it is only mounted for
# the RUN steps that download, and never lands in a layer:
#   --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt

# Any image with CPython 3.11 as python3.11 on PATH. Where no registry is reachable,
# scripts/build-base-image.sh makes handoff-base:py3.11 from Debian's python3.11.
# checkov:skip=CKV_DOCKER_7:the base is a build argument whose default is a fixed tag; checkov cannot resolve ARGs
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS deps

SHELL ["/bin/sh", "-eu", "-c"]

# Pinned to the uv that wrote uv.lock, so `--frozen` reads the lock the same way.
ARG UV_VERSION=0.13.9

# Byte-compile at build time: the runtime filesystem is read-only, and without .pyc files every
# job start recompiles zenml & co. (measured: imports take ~3.5 s instead of ~6.5 s).
# Copy mode because the uv cache is a separate mount (hard links cannot cross it).
# Never let uv download its own Python: the venv must use the base image's interpreter, which
# the runtime stage has at the same path.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON=python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv

# The CA variables are set inside the RUN, only when the secret was given, so that a build
# without it still uses the system store, and the image config never names it.
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca SSL_CERT_FILE=/run/secrets/ca; fi; \
    python3.11 -m venv /opt/uv; \
    /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

WORKDIR /src

# Dependencies first, from the lock alone: this stage only rebuilds when the lock changes, not on
# every code edit. The test extra (zenml[server], moto, ...) is left out by not naming it.
COPY pyproject.toml uv.lock ./
RUN --mount=type=secret,id=ca \
    --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca UV_SYSTEM_CERTS=1; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --no-install-project

# What the jobs never import, dropped to keep each image under 800 MB (du of the venv by
# package: pyarrow 165 MB, scipy 112, numpy 59, pandas 45, kubernetes 41, zenml 37, sklearn 34):
# - the libraries' own test suites (about 50 MB with their bytecode), never imported by them;
# - pyarrow's Arrow Flight RPC (about 40 MB; `pyarrow.flight` then raises ImportError) and its
#   C++ test module, headers, Cython sources and the unversioned or fully versioned copies of
#   libarrow_python*.so that no library links to (the loader asks for *.so.<major> only).
# tests/containers/test_images.py imports every job's pipeline and checks the size.
RUN site=/opt/venv/lib/python3.11/site-packages; arrow="$site"/pyarrow; \
    find "$site"/numpy "$site"/pandas "$site"/scipy "$site"/sklearn "$arrow" \
        -type d -name tests -prune -exec rm -rf {} +; \
    rm -rf "$arrow"/include "$arrow"/src "$arrow"/_pyarrow_cpp_tests.* "$arrow"/_flight.* \
        "$arrow"/libarrow_flight.so.* "$arrow"/libarrow_python_flight.so* \
        "$arrow"/libarrow_python.so "$arrow"/libarrow_python.so.*.*.* \
        "$arrow"/libarrow_python_parquet_encryption.so \
        "$arrow"/libarrow_python_parquet_encryption.so.*.*.*; \
    find "$arrow" \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' \) -delete


FROM deps AS project

# Non-editable so the venv holds a real copy of the package and /src can be left behind.
# The secret is needed again: building the wheel fetches the build backend (setuptools).
# --reinstall-package: uv keys its cached wheel of a local project on pyproject.toml alone, and
# the cache mount is shared by every build on the host, so without it an image can ship the
# code of another checkout (or an older commit) that had the same pyproject.toml.
COPY jobs ./jobs
RUN --mount=type=secret,id=ca \
    --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca UV_SYSTEM_CERTS=1; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --no-editable --reinstall-package handoff

# Only what installing the project added, laid out at its final paths, so the runtime stage can
# copy it as its own small layer on top of the unchanged dependency layer: a code change then
# rebuilds and ships kilobytes, not the whole venv. (cp --parents takes paths relative to /.)
WORKDIR /
RUN site=opt/venv/lib/python3.11/site-packages; \
    mkdir /opt/project-files; \
    cp -a --parents "$site"/jobs "$site"/handoff-*.dist-info opt/venv/bin/handoff /opt/project-files/


FROM ${BASE_IMAGE} AS runtime

SHELL ["/bin/sh", "-eu", "-c"]

# A fixed uid lets the pod spec's runAsUser/fsGroup match the image. HOME is /tmp because in the
# cluster /tmp is the writable emptyDir. /zenml-config is owned by the user so the image works
# without a mount there, and mode 1777 like /tmp because Docker gives a `--tmpfs /zenml-config`
# the directory's mode but root as owner (an emptyDir in a pod is 0777 anyway).
RUN groupadd --system --gid 10001 handoff; \
    useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin handoff; \
    install -d -o 10001 -g 10001 -m 1777 /zenml-config

COPY --from=deps /opt/venv /opt/venv
COPY --from=project /opt/project-files/ /

# PYTHONDONTWRITEBYTECODE: the root filesystem is read-only; bytecode was compiled at build time.
# PYTHONUNBUFFERED: log lines reach `kubectl logs` as they are written, not when a buffer fills.
ENV PATH=/opt/venv/bin:$PATH \
    ZENML_ANALYTICS_OPT_IN=false \
    ZENML_CONFIG_PATH=/zenml-config \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001
WORKDIR /tmp


# ENTRYPOINT rather than CMD, so `docker run <image> --config FILE` passes the flags to the job;
# the Kubernetes manifests set command and args explicitly either way.
FROM runtime AS feature-engineering
ENTRYPOINT ["python", "-m", "jobs.feature_engineering"]

FROM runtime AS training
ENTRYPOINT ["python", "-m", "jobs.training"]

FROM runtime AS batch-inference
ENTRYPOINT ["python", "-m", "jobs.batch_inference"]

FROM runtime AS deployment
ENTRYPOINT ["python", "-m", "jobs.deployment"]

FROM runtime AS gc
ENTRYPOINT ["python", "-m", "jobs.gc"]

FROM runtime AS monitoring
ENTRYPOINT ["python", "-m", "jobs.monitoring"]

# Batch jobs have nothing to probe: they run to completion and report by exit code. The
# endpoint does, for `docker run` and the docker deployment target (Kubernetes uses its probes);
# it listens on HANDOFF_PORT when that is set.
FROM runtime AS serving
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HANDOFF_PORT', '8080'), timeout=2)"]
ENTRYPOINT ["python", "-m", "jobs.serving"]
