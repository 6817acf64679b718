# syntax=docker/dockerfile:1
# Gatepass image: docker build -t gatepass:0.1.0 .
# The dependencies come from requirements.lock (exact versions, hashes checked); the image runs
# as an unprivileged user and reads its config from /etc/gatepass/gatepass.yml. The same image
# runs the other roles: `docker run gatepass:0.1.0 worker --config ...`, `... db upgrade ...`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN python -m venv /opt/gatepass
COPY requirements.lock /build/requirements.lock
RUN /opt/gatepass/bin/pip install --no-cache-dir --disable-pip-version-check \
        --require-hashes -r /build/requirements.lock
COPY pyproject.toml README.md /build/src/
COPY core /build/src/core
COPY bot /build/src/bot
RUN /opt/gatepass/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps /build/src \
    && /opt/gatepass/bin/gatepass --version

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 gatepass \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/gatepass --create-home \
        --shell /usr/sbin/nologin gatepass
COPY --from=build /opt/gatepass /opt/gatepass
ENV PATH=/opt/gatepass/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GATEPASS_CONFIG=/etc/gatepass/gatepass.yml
WORKDIR /var/lib/gatepass
USER 10001:10001
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3978/healthz', timeout=4)"]
ENTRYPOINT ["gatepass"]
CMD ["serve", "--config", "/etc/gatepass/gatepass.yml"]
