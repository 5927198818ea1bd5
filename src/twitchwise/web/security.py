"""Security for a web app that holds health data and runs on the person's own computer.

:class:`SecurityMiddleware` (pure ASGI, outermost of the app's own layers) does, per request:

- **Host check**, for every bind. A request whose ``Host`` is not a loopback name, the
  address listened on or one of ``allowed_hosts`` is refused (400): a page on another site
  cannot reach the app through DNS rebinding.
- **Cross-site writes refused.** POST, PUT, PATCH and DELETE from another origin
  (``Sec-Fetch-Site: cross-site`` or ``same-site``, or an ``Origin`` that is not this host)
  get 403. There is no CORS: no ``Access-Control-*`` header is ever sent.
- **API writes need a non-simple body or a token.** A write under ``/api/`` whose content
  type a browser may send to another site without a preflight (none, form, multipart,
  ``text/plain``) is refused (403) unless the ``X-CSRF-Token`` header repeats the CSRF
  cookie. So a page with ``Origin: null`` (a sandboxed frame) or an old browser without
  ``Sec-Fetch-Site`` cannot write: JSON needs ``application/json``, which takes a preflight
  that is never granted.
- **Body limits.** ``max_body_bytes`` for every request, ``max_upload_bytes`` for journal
  imports; a larger body is 413, whether it declares its length or streams. A body that
  has not all arrived ``body_timeout_s`` after the app first asked for it is 408.
- **Headers on every response**, errors included: a Content Security Policy without
  ``unsafe-inline`` (scripts and styles come from ``/static`` only), ``nosniff``,
  ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``,
  and ``Cache-Control: no-store`` for everything except static files.
- **Last resort.** An exception that escapes the app becomes the one error response
  (:func:`twitchwise.web.errors.handle_exception`, which logs it) with the same headers.

Forms are also protected by a double-submit token (:func:`check_csrf`): a random value in
an ``HttpOnly``, ``SameSite=Strict`` cookie that every form repeats in the ``csrf_token``
field. With accounts, the token of a signed-in browser is bound to its session
(:func:`csrf_for`, an HMAC of the session's secret token): a cookie planted by someone else
does not help them, and nothing is kept on the server.

With accounts, a request under ``/api/`` that carries an ``Authorization`` header (an API
token) needs no CSRF token: a browser cannot send that header to another site without a
preflight, and such a request is authenticated by the header alone, never by a cookie.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from twitchwise.web.errors import ApiError, PayloadTooLarge, handle_exception
from twitchwise.web.settings import WebSettings

__all__ = [
    "CSP",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SECURITY_HEADERS",
    "UPLOAD_PATHS",
    "SecurityMiddleware",
    "check_csrf",
    "csrf_for",
    "new_csrf_token",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
#: Paths that take a journal file upload (``max_upload_bytes``).
UPLOAD_PATHS = ("/api/journal/import", "/journal/import")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CSRF_COOKIE = "twitchwise_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: Content types a browser sends cross-site without a preflight ("" is no content type).
SIMPLE_CONTENT_TYPES = (
    "",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
)


class SecurityMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings
        self.allowed = settings.accepted_hosts
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
        self.headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        started = False
        cache = b"no-cache" if path.startswith(("/static/", "/assets/")) else b"no-store"

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"server", b"cache-control")
                ]
                headers += self.headers
                headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        request = Request(scope)
        try:
            refused = self._refuse(request)
            if refused is not None:
                raise refused
            limit = (
                self.settings.max_upload_bytes
                if path in UPLOAD_PATHS
                else self.settings.max_body_bytes
            )
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise PayloadTooLarge(limit)
            limited = _limited(receive, limit, self.settings.body_timeout_s)
            await self.app(scope, limited, send_with_headers)
        except Exception as exc:
            if started:
                raise
            # handle_exception logs anything unexpected with its traceback
            response = await handle_exception(request, exc)
            await response(scope, receive, send_with_headers)

    def _refuse(self, request: Request) -> ApiError | None:
        host = _host_name(request.headers.get("host", ""))
        if host not in self.allowed:
            return ApiError(
                400,
                f"this twitchwise does not answer requests for host {host!r}; open it at "
                f"http://localhost:{self.settings.port}/ or at a name given with --allowed-host",
            )
        if request.method in UNSAFE_METHODS:
            site = request.headers.get("sec-fetch-site", "")
            origin = request.headers.get("origin", "")
            if site in ("cross-site", "same-site") or (
                origin not in ("", "null") and not _same_origin(origin, request)
            ):
                return ApiError(
                    403,
                    "requests that change data must come from twitchwise's own pages; "
                    "cross-site requests are refused",
                )
            if (
                request.url.path.startswith("/api/")
                and _simple_content_type(request)
                and not _header_token_matches(request)
                and not (self.settings.accounts and "authorization" in request.headers)
            ):
                return ApiError(
                    403,
                    "a request that changes data must send its body as application/json "
                    f"(imports: repeat the {CSRF_COOKIE} cookie in the {CSRF_HEADER} header)",
                )
        return None


def _simple_content_type(request: Request) -> bool:
    """Whether a browser may send this content type to another site without asking first
    (a CORS "simple" request: none, a form, multipart or plain text)."""
    value = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return value in SIMPLE_CONTENT_TYPES


def _header_token_matches(request: Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(cookie) and bool(sent) and hmac.compare_digest(cookie, sent)


def _host_name(header: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1'; '[::1]:8000' -> '[::1]'."""
    value = header.strip().lower()
    if value.startswith("["):
        return value.split("]", 1)[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _same_origin(origin: str, request: Request) -> bool:
    host = request.headers.get("host", "")
    return origin.lower() in (f"http://{host}".lower(), f"https://{host}".lower())


def _limited(receive: Receive, limit: int, timeout: float) -> Receive:
    """``receive`` that raises :class:`PayloadTooLarge` once the body passes ``limit``, and a
    408 when the whole body has not arrived ``timeout`` seconds after the first read."""
    seen = 0
    deadline: float | None = None
    done = False

    async def counted() -> Message:
        nonlocal seen, deadline, done
        if done:  # after the body: a wait for the client to go away, no deadline
            return await receive()
        loop = asyncio.get_running_loop()
        if deadline is None:
            deadline = loop.time() + timeout
        try:
            message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
        except TimeoutError:
            late = ApiError(
                408,
                f"the request body did not arrive within {timeout:g} seconds; send it again",
            )
            late.headers = {"connection": "close"}
            raise late from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(limit)
            done = not message.get("more_body", False)
        else:
            done = True
        return message

    return counted


# --------------------------------------------------------------------------- CSRF


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_for(session_token: str) -> str:
    """The form token of a signed-in browser: an HMAC of its session's secret token, so
    only a page served to that session can know it (nothing is stored)."""
    digest = hmac.new(session_token.encode(), b"twitchwise csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form post whose ``csrf_token`` does not repeat the cookie, or, for a
    signed-in browser, its session's token (403)."""
    expected = getattr(request.state, "csrf_bound", None) or request.cookies.get(CSRF_COOKIE, "")
    if (
        not expected
        or not submitted
        or not hmac.compare_digest(expected.encode(), submitted.encode())
    ):
        raise ApiError(
            403,
            "this form has expired or did not come from twitchwise's own page; "
            "reload the page and send it again",
        )
