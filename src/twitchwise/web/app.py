"""``create_app(settings)``: assemble the web app. Nothing here builds data or renders pages.

Request ids, JSON logs and metrics (:mod:`twitchwise.web.observe`) are added only when the
settings ask for them: the local app is the same without them. So are accounts
(``settings.accounts``, :mod:`twitchwise.web.accounts`): the sign-up, login and account
pages, ``/api/account``, the middleware that finds who each request acts for, and the
OpenAPI document's security schemes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from twitchwise.__about__ import __version__
from twitchwise.app.core import Twitchwise
from twitchwise.errors import TwitchwiseError
from twitchwise.web.deps import close_journal
from twitchwise.web.errors import handle_exception
from twitchwise.web.observe import Metrics, ObserveMiddleware
from twitchwise.web.routes import api, ops, pages
from twitchwise.web.security import SecurityMiddleware
from twitchwise.web.settings import WebSettings

if TYPE_CHECKING:
    from twitchwise.server.credentials import Passwords

__all__ = ["create_app", "create_worker_app", "templates"]

LOCAL = "Not a diagnosis. Runs on your own computer; nothing leaves it."
HOSTED = (
    "Not a diagnosis. A hosted twitchwise: each person's journal is theirs alone. The journal "
    "routes need an account: an API token (`Authorization: Bearer twt_...`, scope `read` for "
    "GET and `write` for the rest) or a browser's session; answers, interviews and guides need "
    "none."
)

HERE = Path(__file__).parent

log = logging.getLogger("twitchwise.web")


def templates() -> Jinja2Templates:
    """The pages' templates (``web/...``) and the package's own (answer, guide)."""
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    from twitchwise.guides.render import environment

    env = environment().overlay(
        loader=ChoiceLoader(
            [
                PrefixLoader({"web": FileSystemLoader(HERE / "templates")}),
                environment().loader,  # type: ignore[list-item]
            ]
        )
    )
    return Jinja2Templates(env=env)


def create_worker_app() -> FastAPI:
    """The app of one worker process of ``twitchwise serve --workers`` (uvicorn's
    ``factory=True``): its settings come from the environment alone
    (:meth:`WebSettings.from_env`, the variables serve set from its options), never from the
    parent's memory, so each worker is the same app and holds nothing another needs."""
    return create_app(WebSettings.from_env(), warm=True)


def warm_up(state: Any) -> None:
    """Do before the first request what it would do: load the knowledge base and the parser
    (one answer), open the database's connection pool (and with accounts check its schema).
    A worker that starts, or is started again after one died, then takes requests at full
    speed. A failure is logged, never fatal: the worker serves, and ``/readyz`` says what is
    wrong."""
    from twitchwise.web.deps import accounts_of, root_journal

    tw: Twitchwise = state.twitchwise
    try:
        tw.ask("my calf has been twitching for a week")
    except TwitchwiseError as exc:
        log.warning("warm-up: the knowledge base: %s", exc)
    try:
        if state.settings.accounts:
            accounts_of(state)
        else:
            root_journal(state)
    except TwitchwiseError as exc:
        log.warning("warm-up: the database: %s", exc)


def create_app(
    settings: WebSettings | None = None,
    tw: Twitchwise | None = None,
    *,
    passwords: Passwords | None = None,
    warm: bool = False,
) -> FastAPI:
    """The web app for ``settings``; every use case goes through ``tw`` (by default a new
    :class:`~twitchwise.app.Twitchwise` with the settings' journal). With accounts,
    ``passwords`` sets the argon2id parameters (tests use cheap ones). With ``warm``, the
    app's start-up runs :func:`warm_up` before the server takes connections."""
    settings = settings or WebSettings()
    metrics = Metrics() if settings.metrics else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(warm_up, app.state)
        yield
        # after the requests in flight finished (or the graceful timeout cancelled them)
        opened = getattr(app.state, "journal", None) is not None
        close_journal(app.state)
        if opened:
            log.info("shutdown: the database's connection pool is disposed")
        if metrics is not None:
            metrics.process_exited()

    app = FastAPI(
        title="twitchwise",
        version=__version__,
        summary="Quick, clear, evidence-based answers to 'why is my muscle twitching?'",
        description=HOSTED if settings.accounts else LOCAL,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        exception_handlers={
            RequestValidationError: handle_exception,
            HTTPException: handle_exception,
            TwitchwiseError: handle_exception,
            Exception: handle_exception,
        },
    )
    app.state.settings = settings
    app.state.twitchwise = tw or Twitchwise(journal_settings=settings.journal)
    app.state.templates = templates()
    app.state.metrics = metrics
    app.state.passwords = passwords
    app.include_router(ops.router)
    app.include_router(api.router)
    if settings.accounts:
        from twitchwise.web.accounts import AccountsMiddleware, secure_openapi
        from twitchwise.web.routes import account

        app.include_router(account.api_router)
        app.include_router(account.router)
        secure_openapi(app, (api.router, account.api_router))
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if settings.accounts:
        app.add_middleware(AccountsMiddleware, settings=settings)  # inside the security checks
    app.add_middleware(SecurityMiddleware, settings=settings)
    if metrics is not None or settings.log_format == "json":
        # outermost: it sees every request, those the security checks refuse too
        app.add_middleware(ObserveMiddleware, settings=settings, metrics=metrics)
    return app
