"""The web app with accounts (``WebSettings.accounts``): who each request acts for, the
session cookie, and the OpenAPI document's security.

:class:`AccountsMiddleware` (pure ASGI, inside the security middleware) runs for every
request except static files and the probes:

- **Who.** Under ``/api`` a request with an ``Authorization`` header is the API token's
  (``Bearer twt_...``; anything else is 401 at once), and its cookies are ignored; any other
  request is its session cookie's. The answer is asked of the database at every request
  (:func:`twitchwise.server.access.resolve`), so an expired or revoked session, a revoked
  token or a disabled account stops at once, in every worker process. It is kept for the
  request as ``request.state.principal``; a signed-in browser's form token is bound to its
  session (:func:`twitchwise.web.security.csrf_for`).
- **Cookies.** ``twitchwise_session`` holds the session's random token (the database keeps
  only its SHA-256): ``HttpOnly``, ``SameSite=Lax``, ``Path=/``, until the session expires.
  Every cookie the app sets gets ``Secure`` when the request came over HTTPS: its own scheme,
  or, with ``trust_proxy``, the ``X-Forwarded-Proto`` the proxy in front set. A session
  cookie that no longer logs in is deleted in the response.
- **Imports.** An upload to the journal needs a login with the ``write`` scope before its
  body is read, and at most ``max_imports`` run at once in a process (more get 503 with
  ``Retry-After``); the import itself runs in the thread pool, off the event loop.

:func:`client_address` is the address login throttling counts: the connection's peer, or,
with ``trust_proxy``, the last address of ``X-Forwarded-For`` (the one the proxy added).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from twitchwise.server.access import check, required_scope, resolve
from twitchwise.web.deps import accounts_of, journal_for_request, signed_in
from twitchwise.web.errors import ApiError
from twitchwise.web.security import CSRF_COOKIE, UPLOAD_PATHS, csrf_for
from twitchwise.web.settings import WebSettings

if TYPE_CHECKING:
    from fastapi.dependencies.models import Dependant

    from twitchwise.server.accounts import NewSession

__all__ = [
    "SESSION_COOKIE",
    "AccountsMiddleware",
    "clear_session",
    "client_address",
    "is_https",
    "secure_openapi",
    "set_session",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "twitchwise_session"
#: Paths that never need to know who asks (no database work for them).
_SKIPPED_PREFIXES = ("/static/", "/assets/")
_SKIPPED_PATHS = frozenset(("/healthz", "/readyz", "/metrics", "/favicon.ico"))
#: The OpenAPI document's names of the two ways to sign in.
BEARER_SCHEME = "apiToken"
COOKIE_SCHEME = "sessionCookie"
#: Seconds a client is told to wait when every import slot is taken.
IMPORT_RETRY_S = 30


def is_https(request: Request, settings: WebSettings) -> bool:
    """Whether the browser reached the app over HTTPS: the request's own scheme, or with
    ``trust_proxy`` the last ``X-Forwarded-Proto`` (set by the proxy in front)."""
    if request.url.scheme == "https":
        return True
    if settings.trust_proxy:
        forwarded = request.headers.get("x-forwarded-proto", "")
        return forwarded.split(",")[-1].strip().lower() == "https"
    return False


def client_address(request: Request, settings: WebSettings) -> str | None:
    """The address a login comes from: with ``trust_proxy``, the last ``X-Forwarded-For``
    entry (the address the proxy in front saw); else the connection's peer."""
    if settings.trust_proxy:
        forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return request.client.host if request.client else None


def set_session(
    response: Response, request: Request, settings: WebSettings, login: NewSession
) -> None:
    """Give the browser its session cookie, and the form token bound to that session."""
    secure = is_https(request, settings)
    response.set_cookie(
        SESSION_COOKIE,
        login.token,
        expires=login.session.expires_at,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_for(login.token),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session(response: Response) -> None:
    """Delete the session cookie and the form token (logged out)."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", httponly=True, samesite="strict")


def _expired_cookie() -> bytes:
    gone = Response()
    gone.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return next(v for k, v in gone.raw_headers if k == b"set-cookie")


class AccountsMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings
        self.imports = threading.BoundedSemaphore(settings.max_imports)
        self.expired = _expired_cookie()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_SKIPPED_PREFIXES) or path in _SKIPPED_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        api = path == "/api" or path.startswith("/api/")
        authorization = request.headers.get("authorization") if api else None
        cookie = None if authorization is not None else request.cookies.get(SESSION_COOKIE)
        principal = None
        if authorization is not None or cookie:
            accounts = await run_in_threadpool(accounts_of, scope["app"].state)
            principal = await run_in_threadpool(
                resolve, accounts, cookie=cookie, authorization=authorization
            )
        state = scope.setdefault("state", {})
        state["principal"] = principal
        if principal is not None and principal.session_token is not None:
            state["csrf_bound"] = state["csrf_token"] = csrf_for(principal.session_token)
        stale = bool(cookie) and principal is None
        https = is_https(request, self.settings)

        async def send_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                named = SESSION_COOKIE.encode() + b"="
                sets = [v for k, v in headers if k.lower() == b"set-cookie"]
                if stale and not any(v.startswith(named) for v in sets):
                    headers.append((b"set-cookie", self.expired))
                if https:
                    headers = [
                        (k, v + b"; Secure")
                        if k.lower() == b"set-cookie" and b"secure" not in v.lower()
                        else (k, v)
                        for k, v in headers
                    ]
                message["headers"] = headers
            await send(message)

        slot = False
        if path in UPLOAD_PATHS and request.method == "POST":
            check(principal, request.method, journal=True)  # before the body is read
            if not self.imports.acquire(blocking=False):
                busy = ApiError(
                    503,
                    "too many imports are running; try again in a minute (large Apple Health "
                    "exports: import them into a local twitchwise first, then its JSON export)",
                )
                busy.headers = {"retry-after": str(IMPORT_RETRY_S)}
                raise busy
            slot = True
        try:
            await self.app(scope, receive, send_cookies)
        finally:
            if slot:
                self.imports.release()


# --------------------------------------------------------------------------- OpenAPI


def needs_account(dependant: Dependant) -> bool:
    """Whether a route needs someone signed in: it depends on the request's journal or on
    a login, directly or through another dependency."""
    for dependency in dependant.dependencies:
        if dependency.call in (journal_for_request, signed_in) or needs_account(dependency):
            return True
    return False


def secure_openapi(app: FastAPI, routers: tuple[APIRouter, ...]) -> None:
    """Make ``app``'s OpenAPI document say how to sign in: the bearer token and the session
    cookie as security schemes, and on each operation of ``routers`` (those under ``/api``)
    whether it needs an account and which scope (``x-twitchwise-scope``), derived from the
    routes' own dependencies. The ids of :data:`PUBLIC_IDS` are declared as the UUIDs the
    hosted service gives."""
    original = app.openapi
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]

    def openapi() -> dict[str, Any]:
        schema = original()
        if BEARER_SCHEME not in schema.get("components", {}).get("securitySchemes", {}):
            _declare(routes, schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


#: The schemas whose ``id`` is an integer row id in the local app and a public id (a random
#: UUID, version 4) with accounts: no sequential id leaves the hosted service.
PUBLIC_IDS = {
    "EpisodePublic": "The episode's public id: a random UUID (version 4), never sequential.",
}


def _declare(routes: list[APIRoute], schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    for name, text in PUBLIC_IDS.items():
        properties = components.get("schemas", {}).get(name, {}).get("properties", {})
        if "id" in properties:
            properties["id"] = {
                "type": "string",
                "format": "uuid",
                "title": "Id",
                "description": text,
            }
    components["securitySchemes"] = {
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "twt_...",
            "description": "An API token made on the account page (/account), scoped read "
            "and/or write: `Authorization: Bearer twt_...`. It is shown once; only its "
            "SHA-256 is kept.",
        },
        COOKIE_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "The browser's login session (/login). A write with this cookie "
            "needs a JSON body, or the X-CSRF-Token header for an upload, as without accounts.",
        },
    }
    error = {"$ref": "#/components/schemas/ErrorPublic"}

    def response(text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": error}}}

    for route in routes:
        if not route.include_in_schema:
            continue
        operations = schema.get("paths", {}).get(route.path_format, {})
        account = needs_account(route.dependant)
        for method in sorted(route.methods or ()):
            operation = operations.get(method.lower())
            if operation is None or not route.path_format.startswith("/api/"):
                continue
            responses = operation.setdefault("responses", {})
            if account:
                scope = required_scope(method)
                operation["security"] = [{BEARER_SCHEME: [scope]}, {COOKIE_SCHEME: []}]
                operation["x-twitchwise-scope"] = scope
                responses["401"] = response(
                    "Not signed in, or the API token is not valid (WWW-Authenticate: Bearer)"
                )
                denied = f"The API token lacks the `{scope}` scope"
                if scope == "write":
                    denied += (
                        ", the account has not allowed keeping health data, or a cross-site "
                        "request would change data"
                    )
                responses["403"] = response(denied)
            else:
                operation["security"] = [{}, {BEARER_SCHEME: []}, {COOKIE_SCHEME: []}]
                operation["x-twitchwise-scope"] = None
                responses["401"] = response("An API token was sent and is not valid")
