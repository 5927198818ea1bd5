# twitchwise, the hosted service (docs/deploy.md): `twitchwise serve --accounts` with worker
# processes, on PostgreSQL. compose.yaml runs it with its database; docs/deploy.md puts it
# behind a reverse proxy with HTTPS.
#
#   docker build -t twitchwise .
#   docker run --env TWITCHWISE_DATABASE_URL=postgresql+psycopg://... \
#              --env TWITCHWISE_ALLOWED_HOSTS=twitchwise.example.org -p 127.0.0.1:8000:8000 twitchwise

# ---- build: the wheel, from the source (nothing of this stage is in the image)
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /wheels .

# ---- the image: the package with the web, server and insights extras, run as a user
FROM python:3.12-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 twitchwise \
 && useradd --system --uid 10001 --gid twitchwise --home-dir /home/twitchwise \
    --create-home --shell /usr/sbin/nologin twitchwise
COPY --from=build /wheels /wheels
RUN pip install "$(ls /wheels/twitchwise-*.whl)[web,server,insights]" && rm -rf /wheels

USER twitchwise
WORKDIR /home/twitchwise
# The hosted service's settings (docs/deploy.md#settings); the database and the public host
# name come from the environment the container is given (compose.yaml).
ENV TWITCHWISE_HOME=/home/twitchwise/data \
    TWITCHWISE_ACCOUNTS=1 \
    TWITCHWISE_LOG_FORMAT=json \
    TWITCHWISE_WORKERS=2 \
    TWITCHWISE_GRACEFUL_TIMEOUT=20
# Build the knowledge base's cache now, as this user: workers start without validating YAML.
RUN twitchwise ask "my eyelid has been twitching for two days" > /dev/null

EXPOSE 8000
# Liveness: the process answers (no database); /readyz is the readiness probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# SIGTERM: requests in flight finish (up to TWITCHWISE_GRACEFUL_TIMEOUT), then it exits.
STOPSIGNAL SIGTERM
# Migrate, then serve: `exec` makes twitchwise the process that gets the stop signal.
CMD ["sh", "-c", "twitchwise db upgrade && exec twitchwise serve --accounts --host 0.0.0.0 --port 8000 --workers \"${TWITCHWISE_WORKERS:-2}\""]
