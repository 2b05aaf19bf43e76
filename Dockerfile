# KubeKuma: one image for every role (`kubekuma web|worker|scheduler|controller|run`).
#
#   docker build -t kubekuma .
#   docker run --rm -p 8080:8080 -v "$PWD/examples:/manifests:ro" kubekuma run --manifests /manifests
#
# Two stages: `build` makes a virtual environment in /opt/kubekuma from wheels only (no
# compiler anywhere: every dependency ships a manylinux wheel, and KubeKuma itself is pure
# Python); the final stage copies that environment onto the same slim base and runs it as
# an unprivileged user (10001) with a read-only root filesystem in mind: only /tmp (an
# emptyDir in the chart) and /data (the SQLite file of `run`) are written.
# tests/test_dockerfile.py lints this file with hadolint and runs the build stage's
# commands in a temporary virtual environment.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app/ app/
RUN python -m venv /opt/kubekuma \
    && /opt/kubekuma/bin/pip install --only-binary=:all: --no-binary=kubekuma . \
    && /opt/kubekuma/bin/python -m compileall -q /opt/kubekuma/lib \
    && /opt/kubekuma/bin/kubekuma --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="KubeKuma" \
      org.opencontainers.image.description="Kubernetes-native uptime monitor" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/kubekuma/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KUBEKUMA_LISTEN=0.0.0.0:8080 \
    KUBEKUMA_DATABASE_URL=sqlite:////data/kubekuma.db
RUN groupadd --system --gid 10001 kubekuma \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin kubekuma \
    && install -d -o 10001 -g 10001 -m 0750 /data
COPY --from=build /opt/kubekuma /opt/kubekuma
WORKDIR /data
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["kubekuma"]
CMD ["run"]
