"""The one place an exception becomes a response.

Under ``/api`` (and ``/openapi.json``, ``/healthz``, ``/readyz``, ``/metrics``) every error is
the same JSON object::

    {"ok": false, "error": "what happened and what to do", "status": 422,
     "errors": [{"field": "age", "message": "..."}]}

Callers may add keys to it but never remove one. Everywhere else the error is an HTML page
(``error.html.j2``). Which exception gives which status:

================================  ======  ==============================================
Exception                         Status  Notes
================================  ======  ==============================================
``RequestValidationError``        422     ``errors`` names each field and what to send;
                                          400 when the body is not valid JSON at all
``ApiError``                      its own ``errors`` as given
``HTTPException``                 its own 404, 405, 413 (``PayloadTooLarge``), 403, ...
``InputError``                    422     a library check refused the input
``NotSignedIn``, ``InvalidToken`` 401     with accounts: no login, or an API token that is
                                          not valid (``WWW-Authenticate: Bearer``); a page
                                          is redirected to ``/login`` instead
``AuthenticationError``           401     wrong email or password
``MissingScope``,                 403     the API token lacks the scope; the account has
``ConsentRequired``,                      not allowed keeping health data; sign-up is
``SignupClosed``                          closed (``TWITCHWISE_SIGNUP=closed``)
``LoginThrottled``                429     too many failed logins (``Retry-After``)
``DatabaseError``                 503     the accounts' database does not answer
``JournalError``                  503     the journal could not be read or written
``ConfigError``, ``KnowledgeError`` 503   a missing extra, a broken knowledge base
anything else                     500     logged with its traceback; never shown
================================  ======  ==============================================
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from twitchwise.errors import ConfigError, InputError, JournalError, KnowledgeError
from twitchwise.server.access import (
    AccessError,
    AuthenticationError,
    InvalidToken,
    LoginThrottled,
    NotSignedIn,
)
from twitchwise.server.db import DatabaseError
from twitchwise.web.models import FIELD_HINTS

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = [
    "ApiError",
    "PayloadTooLarge",
    "error_body",
    "handle_exception",
    "wants_json",
    "without_paths",
]

log = logging.getLogger("twitchwise.web")

#: An absolute file path (POSIX or Windows); group 1 is its last part.
_ABSOLUTE_PATH = re.compile(
    r"(?<![\w.])(?:[A-Za-z]:\\|/)(?:[^\s/\\:;,'\"()<>]+[/\\])*([^\s/\\:;,'\"()<>]+)"
)
#: A database URL ("postgresql+psycopg://app@db.internal/twitchwise"): it names a user and a host.
_DATABASE_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"]+")

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    401: "Sign in",
    404: "Not found",
    405: "Method not allowed",
    408: "Too slow",
    413: "Too large",
    415: "Unsupported media type",
    422: "Check what you entered",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Not available",
}
_TYPE_MESSAGES = {
    "missing": "is required",
    "string_too_short": "must not be empty",
    "extra_forbidden": "is not a field this endpoint accepts",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "list_type": "must be a JSON array",
}


class ApiError(HTTPException):
    """An error with its status, message and (optionally) the fields at fault."""

    def __init__(self, status: int, message: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(status_code=status, detail=message)
        self.errors = [{"field": f, "message": m} for f, m in errors]


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than the limit of {_size(limit)}; send a smaller file "
            "(an Apple Health export.zip can be imported from the command line: "
            "twitchwise import FILE)",
        )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


def error_body(status: int, message: str, errors: Iterable[dict[str, str]] = ()) -> dict[str, Any]:
    """The one JSON error shape (see the module docstring)."""
    return {"ok": False, "error": message, "status": status, "errors": list(errors)}


#: Paths outside /api whose errors are JSON too: the document and the operational endpoints.
JSON_PATHS = frozenset(("/openapi.json", "/healthz", "/readyz", "/metrics"))


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path in JSON_PATHS


def field_name(loc: Sequence[str | int]) -> str:
    """("body", "state", "asked", 0, "answers") -> "state.asked[0].answers"."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or (str(loc[0]) if loc else "body")


def _validation(exc: RequestValidationError) -> tuple[int, str, list[dict[str, str]]]:
    problems = list(exc.errors())
    for p in problems:
        if p.get("type") == "json_invalid":
            ctx = p.get("ctx") or {}
            detail = _one_line(str(ctx.get("error", "invalid JSON")))
            return (
                400,
                f"the request body is not valid JSON ({detail}); send a JSON object, for example "
                '{"text": "my eyelid has twitched for 3 days"}',
                [{"field": "body", "message": f"not valid JSON: {detail}"}],
            )
    errors = []
    for p in problems:
        loc = tuple(p.get("loc", ()))
        name = field_name(loc)
        kind = str(p.get("type", ""))
        message = _TYPE_MESSAGES.get(kind) or _lower_first(
            _one_line(str(p.get("msg", "is not valid")))
        )
        if name == "body" and kind == "missing":
            message = "the request has no body; send a JSON object"
        leaf = next((str(x) for x in reversed(loc) if isinstance(x, str)), "")
        hint = FIELD_HINTS.get(leaf) or FIELD_HINTS.get(name.split(".")[0].split("[")[0])
        if hint and kind != "extra_forbidden":
            message = f"{message}; {hint}"
        errors.append({"field": name, "message": message})
    first = errors[0] if errors else {"field": "body", "message": "is not valid"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return 422, f"{first['field']}: {first['message']}{more}", errors


def _one_line(text: str) -> str:
    """The text with what it quotes of the request kept on one line: a newline or another
    control character someone sent ("found `\\n` at 0") is written as its escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def classify(request: Request, exc: Exception) -> tuple[int, str, list[dict[str, str]]]:
    """Status, message and field errors for any exception."""
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, ApiError):
        return exc.status_code, str(exc.detail), exc.errors
    if isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        detail = str(exc.detail)
        if status == 404 and detail == "Not Found":
            detail = (
                f"nothing at {request.url.path}; the API is under /api (see /docs), "
                "the pages start at /"
            )
        elif status == 405 and detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return status, detail, []
    if isinstance(exc, InputError):  # the library names the inputs at fault, when it knows
        return 422, str(exc), [{"field": f, "message": m} for f, m in exc.problems]
    if isinstance(exc, AccessError):
        return _access_status(exc), str(exc), []
    if isinstance(exc, DatabaseError):
        log.warning("the accounts' database is not available: %s", exc)
        return 503, "the database is not available; try again in a moment", []
    if isinstance(exc, JournalError):
        log.warning("the journal is not available: %s", exc)
        return 503, without_paths(str(exc), _journal_path(request)), []
    if isinstance(exc, KnowledgeError):
        log.error("the knowledge base is broken: %s", exc)
        return 503, "the knowledge base is broken, so no answer is given; see the server log", []
    if isinstance(exc, ConfigError):
        return 503, without_paths(str(exc), _journal_path(request)), []
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return (
        500,
        "internal error: twitchwise failed unexpectedly; the details are in the server's log",
        [],
    )


def without_paths(message: str, journal: Path | None = None) -> str:
    """``message`` with every absolute path cut to its file name (``journal``, the journal's
    file, first, as it may hold spaces) and every database URL replaced by "the database": a
    response never tells a browser where the journal lives, nor a database's user and host.
    The server's log keeps the whole message."""
    message = _DATABASE_URL.sub("the database", message)
    if journal is not None:
        for known, shown in ((journal, journal.name), (journal.parent, "the journal's folder")):
            if known.is_absolute() and len(known.parts) > 1:
                message = message.replace(str(known), shown)
    return _ABSOLUTE_PATH.sub(r"\1", message)


def _journal_path(request: Request) -> Path | None:
    from twitchwise.journal.settings import journal_settings

    app = request.scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    journal = getattr(settings, "journal", None) or journal_settings()
    path: Path | None = journal.path
    return path


def _access_status(exc: AccessError) -> int:
    if isinstance(exc, NotSignedIn | InvalidToken | AuthenticationError):
        return 401
    if isinstance(exc, LoginThrottled):
        return 429
    return 403


def _access_headers(exc: Exception) -> dict[str, str]:
    """``WWW-Authenticate`` for a 401 of the API, ``Retry-After`` for a throttled login."""
    if isinstance(exc, InvalidToken):
        return {"www-authenticate": 'Bearer realm="twitchwise", error="invalid_token"'}
    if isinstance(exc, NotSignedIn):
        return {"www-authenticate": 'Bearer realm="twitchwise"'}
    if isinstance(exc, LoginThrottled):
        return {"retry-after": str(exc.retry_after)}
    return {}


async def handle_exception(request: Request, exc: Exception) -> Response:
    """The one exception handler: JSON under /api, an HTML page elsewhere (a page that needs
    a login redirects to ``/login``)."""
    status, message, errors = classify(request, exc)
    headers = dict(getattr(exc, "headers", None) or {}) | _access_headers(exc)
    if isinstance(exc, NotSignedIn) and not wants_json(request):
        if request.headers.get("hx-request") != "true":
            return RedirectResponse(_login_address(request), status_code=303)
        headers.pop("www-authenticate", None)
    if wants_json(request):
        return JSONResponse(
            error_body(status, message, errors), status_code=status, headers=headers
        )
    return _html_error(request, status, message, errors, headers)


def _login_address(request: Request) -> str:
    """``/login``, with the page to come back to (a GET's own path) as ``next``."""
    from urllib.parse import quote

    path = request.url.path
    if request.method != "GET" or not path.startswith("/") or path.startswith("//"):
        return "/login"
    return f"/login?next={quote(path, safe='/')}"


def _html_error(
    request: Request,
    status: int,
    message: str,
    errors: list[dict[str, str]],
    headers: dict[str, str],
) -> Response:
    title = TITLES.get(status, "Error")
    try:
        templates = request.app.state.templates
        partial = request.headers.get("hx-request") == "true"
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request,
            "web/partials/error.html.j2" if partial else "web/error.html.j2",
            {"title": title, "status": status, "message": message, "errors": errors},
            status_code=status,
            headers=headers,
        )
    except Exception:  # the error page itself failed: plain text, still no trace
        log.exception("the error page could not be rendered")
        from html import escape

        body = (
            f"<!doctype html><html lang='en'><title>{status} {escape(title)}</title>"
            f"<h1>{status} {escape(title)}</h1><p>{escape(message)}</p></html>"
        )
        return HTMLResponse(body, status_code=status, headers=headers)
