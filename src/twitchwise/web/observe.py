"""What an operator sees of the web app: request ids, JSON logs and Prometheus metrics.

Both are off in the local app unless asked (``WebSettings.log_format``, ``.metrics``); then
:func:`twitchwise.web.app.create_app` adds :class:`ObserveMiddleware`, outermost, which per
request:

- **Request id.** Takes the ``X-Request-ID`` header when it is a sane token (8 to 128
  letters, digits, ``.``, ``_``, ``-`` or ``:``), else makes a random one; returns it in the
  response's ``X-Request-ID`` and keeps it in :data:`request_id` for every log line of the
  request (``json`` logs only).
- **One JSON log line** (``log_format="json"``), logger ``twitchwise.web.access``, level
  INFO (DEBUG for ``/healthz``, ``/readyz`` and ``/metrics`` when they succeed: probes are
  noise): ``method``, ``route`` (the route's template, ``/api/guides/{topic}``, never the
  path asked for; ``unmatched`` when no route matched), ``status``, ``duration_ms`` and
  ``request_id``. Never a body, a query string, a cookie or any other header.
- **Metrics** (``metrics=True``): ``twitchwise_http_requests_total`` and the histogram
  ``twitchwise_http_request_duration_seconds`` by ``method``, ``route`` and ``status`` (its
  class: ``2xx``, ``4xx``, ...), the gauge ``twitchwise_http_requests_in_progress`` by
  ``method``, and the database's connection pool: ``twitchwise_db_pool_checked_out``,
  ``_idle``, ``_overflow`` and ``_limit`` (:data:`POOL_GAUGES`), read from the pool of the
  app's engine when each request ends and at each scrape. prometheus-client (the ``server``
  extra) is imported only then. With
  ``PROMETHEUS_MULTIPROC_DIR`` set (prometheus-client's own variable; ``twitchwise serve
  --workers N --metrics`` makes a private one), every worker process writes its values to
  that folder and ``/metrics`` sums them (docs/hosted.md); a worker that died without marking
  itself dead (SIGKILL) is found by its process id and its requests in progress no longer
  count (:func:`forget_dead_workers`). The gauges are prometheus-client's ``livesum``: the
  sum over the worker processes alive now, each as of its own last request (the one that
  answers the scrape: as of the scrape), so the pool gauges are the connections the whole
  service holds on the database, which is what its ``max_connections`` must allow.

:class:`JsonFormatter` writes any log record as one JSON object (``twitchwise serve
--log-format json`` gives it to uvicorn's and twitchwise's loggers: :func:`logging_config`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.routing import Mount

from twitchwise.errors import ConfigError

if TYPE_CHECKING:
    from twitchwise.journal.store import Journal
    from twitchwise.web.settings import WebSettings

__all__ = [
    "ACCESS_LOG",
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "Metrics",
    "ObserveMiddleware",
    "forget_dead_workers",
    "logging_config",
    "request_id",
    "route_template",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCESS_LOG = "twitchwise.web.access"
REQUEST_ID_HEADER = "x-request-id"
#: A request id taken from a client: a token, never free text (it is logged).
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
#: Methods named in logs and metrics; any other is "OTHER" (a client chooses the method).
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
#: Operational endpoints: their successes are logged at DEBUG.
PROBES = frozenset(("/healthz", "/readyz", "/metrics"))
#: Latency buckets in seconds (an answer takes about 1 ms, an import up to minutes).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: The gauges of the database's connection pool (``twitchwise_db_pool_<name>``), from
#: :class:`twitchwise.journal.store.PoolUse`.
POOL_GAUGES = {
    "checked_out": "Database connections in use by a request now (summed over the live "
    "worker processes).",
    "idle": "Database connections open in the pool and ready (summed over the live worker "
    "processes).",
    "overflow": "Database connections open beyond the pool's size (summed over the live "
    "worker processes).",
    "limit": "The most database connections the pools may open: size plus max overflow "
    "(summed over the live worker processes).",
}

#: The id of the request being served (empty outside a request, or with text logs).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

log = logging.getLogger(ACCESS_LOG)


def new_request_id(offered: str | None) -> str:
    """``offered`` when it is a sane token, else a new random one (32 hex digits)."""
    if offered and _SANE_ID.fullmatch(offered):
        return offered
    return secrets.token_hex(16)


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (``/api/guides/{topic}``), a mount's
    (``/static/{path}``), or ``unmatched``: never the path itself."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and not isinstance(route, Mount):
        return path
    # a mount (the static files): FastAPI's router does not always name it in the scope
    asked = str(scope.get("path", ""))
    for mount in getattr(scope.get("app"), "routes", ()):
        if isinstance(mount, Mount) and asked.startswith(f"{mount.path}/"):
            return f"{mount.path}/{{path}}"
    return "unmatched"


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (so that several apps in one
    process, as in tests, count apart); prometheus-client is imported here only."""

    def __init__(self) -> None:
        try:
            from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        except ImportError:
            raise ConfigError(
                "metrics need prometheus-client, from the server extra: "
                "pip install 'twitchwise[server]'"
            ) from None
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "twitchwise_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            labels,
            registry=self.registry,
        )
        self.duration = Histogram(
            "twitchwise_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class.",
            labels,
            registry=self.registry,
            buckets=BUCKETS,
        )
        self.in_progress = Gauge(
            "twitchwise_http_requests_in_progress",
            "HTTP requests being answered now, by method.",
            ("method",),
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        # the database's connection pool: each process's own, summed over the live ones
        self.pool = {
            name: Gauge(
                f"twitchwise_db_pool_{name}",
                text,
                registry=self.registry,
                multiprocess_mode="livesum",
            )
            for name, text in POOL_GAUGES.items()
        }

    def sample_pool(self, journal: Journal | None) -> None:
        """Set the pool gauges from the connections of ``journal``'s engine now (nothing
        when it is not open yet, or keeps no pool)."""
        use = journal.pool_use() if journal is not None else None
        if use is None:
            return
        for name in POOL_GAUGES:
            self.pool[name].set(getattr(use, name))

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus' text format, and its media type. With
        ``PROMETHEUS_MULTIPROC_DIR`` set, those of every process that writes there."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        folder = os.environ.get(MULTIPROC_DIR)
        if folder:
            from prometheus_client import multiprocess

            forget_dead_workers(folder)
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    @staticmethod
    def process_exited() -> None:
        """At a worker's shutdown: its live gauges stop counting (multi-process mode)."""
        if os.environ.get(MULTIPROC_DIR):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


#: A live gauge's file in the multi-process folder: ``gauge_livesum_<pid>.db``.
_LIVE_GAUGE_FILE = re.compile(r"gauge_live(?:sum|all|max|min|mostrecent)_(\d+)\.db")


def forget_dead_workers(folder: str) -> list[int]:
    """Mark dead the worker processes whose live gauges are still in ``folder`` but which no
    longer run (killed, say, so they never marked themselves): their requests in progress
    stop counting. Their counters and histograms stay, as prometheus-client means them to.
    Returns the process ids forgotten."""
    from prometheus_client import multiprocess

    gone: list[int] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return gone
    for name in names:
        found = _LIVE_GAUGE_FILE.fullmatch(name)
        if found is None:
            continue
        pid = int(found.group(1))
        if pid not in gone and not _running(pid):
            multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
            gone.append(pid)
    return gone


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class ObserveMiddleware:
    """Request ids, one JSON log line per request, metrics (see the module docstring)."""

    def __init__(self, app: ASGIApp, settings: WebSettings, metrics: Metrics | None) -> None:
        self.app = app
        self.logs = settings.log_format == "json"
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        status = 500
        rid = ""
        token = None
        if self.logs:
            rid = new_request_id(_header(scope, REQUEST_ID_HEADER.encode()))
            token = request_id.set(rid)
        if self.metrics is not None:
            self.metrics.in_progress.labels(method).inc()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if rid:
                    headers = [
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != REQUEST_ID_HEADER.encode()
                    ]
                    headers.append((REQUEST_ID_HEADER.encode(), rid.encode("ascii")))
                    message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            if self.metrics is not None:
                status_class = f"{status // 100}xx"
                self.metrics.in_progress.labels(method).dec()
                self.metrics.requests.labels(method, route, status_class).inc()
                self.metrics.duration.labels(method, route, status_class).observe(seconds)
                self.metrics.sample_pool(opened_journal(scope))
            if self.logs:
                fields = {
                    "event": "request",
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "request_id": rid,
                }
                level = logging.DEBUG if route in PROBES and status < 400 else logging.INFO
                log.log(
                    level,
                    "%s",
                    json.dumps(fields, separators=(",", ":")),
                    extra={"twitchwise_fields": fields},
                )
            if token is not None:
                request_id.reset(token)


def opened_journal(scope: Scope) -> Journal | None:
    """The journal the app has opened (its engine is every request's), or None before the
    first use: looking never opens it."""
    journal: Journal | None = getattr(getattr(scope.get("app"), "state", None), "journal", None)
    return journal


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class JsonFormatter(logging.Formatter):
    """Each record as one JSON object: ``time`` (UTC, ISO 8601), ``level``, ``logger``, and
    either the request's fields (the access log) or ``message``, with the ``request_id`` of
    the request it was logged in and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "twitchwise_fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["message"] = record.getMessage()
            rid = request_id.get()
            if rid:
                out["request_id"] = rid
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, separators=(",", ":"), default=str)


def logging_config(log_format: str) -> dict[str, Any] | None:
    """A ``logging.config.dictConfig`` (uvicorn's ``log_config``) for ``log_format``: for
    ``json``, twitchwise's and uvicorn's loggers write JSON lines to stderr, and uvicorn's own
    access log is off (the access log is :data:`ACCESS_LOG`); None for ``text``, which keeps
    uvicorn's default."""
    if log_format != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "loggers": {
            "twitchwise": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
