"""How ``twitchwise serve`` runs the app in uvicorn: limits on slow and idle connections.

- **Header timeout** (``header_timeout_s``): a connection that has not sent a whole request
  line and headers this long after it opened, or after the previous response, is closed.
  uvicorn has no such option, so :func:`http_protocol` adds it to uvicorn's h11 protocol.
- **Body timeout** (``body_timeout_s``): enforced by the security middleware
  (:mod:`twitchwise.web.security`), 408 when the whole body has not arrived in time.
- **Keep-alive** (``keep_alive_s``): uvicorn's ``timeout_keep_alive``.
- **Connection limit** (``max_connections``): uvicorn's ``limit_concurrency``; past it, a
  request gets 503 at once.
- **Logs** (``log_format``): ``json`` gives uvicorn a logging configuration that writes
  twitchwise's and uvicorn's logs as JSON lines (:func:`twitchwise.web.observe.logging_config`);
  ``text`` keeps uvicorn's default.

uvicorn is imported here, so import this module only once the web extra is known to be there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from twitchwise.web.observe import logging_config
from twitchwise.web.settings import WebSettings

__all__ = ["http_protocol", "uvicorn_options"]


def http_protocol(header_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are late."""

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            super().connection_lost(exc)

        def _arm_header_timer(self) -> None:
            self._cancel_header_timer()
            if not self.transport.is_closing():
                waiting_after = self.cycle
                self._header_timer = self.loop.call_later(
                    header_timeout, self._headers_late, waiting_after
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

    return HeaderTimeoutProtocol


def uvicorn_options(settings: WebSettings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` for ``settings`` (besides the app)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": http_protocol(settings.header_timeout_s),
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections,
        "log_level": "warning",
        "server_header": False,
        "proxy_headers": False,
    }
    config = logging_config(settings.log_format)
    if config is not None:  # else uvicorn's default logging, as before
        options["log_config"] = config
    return options
