"""How ``twitchwise serve`` runs the app in uvicorn: limits on slow and idle connections,
shutdown, worker processes.

- **Header timeout** (``header_timeout_s``): a connection that has not sent a whole request
  line and headers this long after it opened, or after the first byte of a later request,
  is closed.
  uvicorn has no such option, so :func:`http_protocol` adds it to uvicorn's h11 protocol.
- **Body timeout** (``body_timeout_s``): enforced by the security middleware
  (:mod:`twitchwise.web.security`), 408 when the whole body has not arrived in time.
- **Keep-alive** (``keep_alive_s``): uvicorn's ``timeout_keep_alive``: how long a connection
  may stay idle between requests. Behind a reverse proxy that keeps connections to the app
  open, make it longer than the proxy's idle timeout, or the proxy may send a request on a
  connection the app is closing (docs/deploy.md).
- **Connection limit** (``max_connections``): uvicorn's ``limit_concurrency``; past it, a
  request gets 503 at once.
- **Graceful shutdown** (``graceful_timeout_s``): uvicorn's ``timeout_graceful_shutdown``.
  On SIGTERM or SIGINT the server stops accepting connections, closes idle ones, lets the
  requests in flight finish for up to this long (then cancels them), and runs the app's
  shutdown, which disposes of the database's connection pool.
- **Workers** (``workers``): above 1, uvicorn's own multi-process mode: the parent binds the
  socket and starts that many worker processes (``spawn``: nothing of the parent's memory),
  each calling :data:`WORKER_APP`, restarts one that dies, and on SIGTERM or SIGINT passes
  SIGTERM to each and waits for them. The settings reach the workers as ``TWITCHWISE_*``
  variables (:meth:`WebSettings.environment`), so the h11 protocol class is this module's
  own, given by name.
- **Logs** (``log_format``): ``json`` gives uvicorn a logging configuration that writes
  twitchwise's and uvicorn's logs as JSON lines (:func:`twitchwise.web.observe.logging_config`);
  ``text`` keeps uvicorn's default.

uvicorn is imported here, so import this module only once the web extra is known to be there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from twitchwise.errors import ConfigError
from twitchwise.web.observe import logging_config
from twitchwise.web.settings import WebSettings

__all__ = ["WORKER_APP", "HeaderTimeoutProtocol", "http_protocol", "uvicorn_options"]

#: What each worker process of ``twitchwise serve --workers`` imports and calls (uvicorn's
#: ``factory=True``): it builds the app from the environment (:func:`create_worker_app`).
WORKER_APP = "twitchwise.web.app:create_worker_app"
DEFAULT_HEADER_TIMEOUT_S = WebSettings.header_timeout_s


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are late: not
    whole :attr:`header_timeout` seconds after the connection opened, or after the first
    byte of a later request on it. An idle keep-alive connection, between requests, is
    uvicorn's ``timeout_keep_alive``'s alone (so a longer keep-alive behind a proxy works).
    A class of this module, so that uvicorn can hand it to worker processes (they get it by
    name, not from the parent's memory)."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None
    _waiting_after: Any = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        between = self.cycle is not None and self.cycle.response_complete
        if between and self._header_timer is None and data:
            self._arm_header_timer()  # the next request has begun: its headers are timed
        super().data_received(data)
        if self._header_timer is not None and self.cycle is not self._waiting_after:
            self._cancel_header_timer()  # they came in time

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle is not None and self.cycle.response_complete:
            self._cancel_header_timer()  # idle now: the keep-alive timeout's business

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self._waiting_after = self.cycle
            self._header_timer = self.loop.call_later(
                self.header_timeout, self._headers_late, self.cycle
            )

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self, waiting_after: Any) -> None:
        self._header_timer = None
        # a new cycle means the next request's headers came in time
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()


def http_protocol(header_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are late: the
    module's own class for the default timeout, else a subclass with ``header_timeout``
    (one process only: a class made here cannot be handed to a worker process)."""
    if header_timeout == HeaderTimeoutProtocol.header_timeout:
        return HeaderTimeoutProtocol
    return type(
        "HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout}
    )


def uvicorn_options(settings: WebSettings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` for ``settings`` (besides the app: the app
    itself for one process, :data:`WORKER_APP` for several, with ``factory=True``)."""
    if settings.workers > 1 and settings.header_timeout_s != HeaderTimeoutProtocol.header_timeout:
        raise ConfigError(
            "several worker processes take the default header timeout "
            f"({HeaderTimeoutProtocol.header_timeout:g} s) only"
        )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": http_protocol(settings.header_timeout_s),
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": settings.graceful_timeout_s,
        "log_level": "warning",
        "server_header": False,
        "proxy_headers": False,
    }
    if settings.workers > 1:
        options["workers"] = settings.workers
        options["factory"] = True
    config = logging_config(settings.log_format)
    if config is not None:  # else uvicorn's default logging, as before
        options["log_config"] = config
    return options
