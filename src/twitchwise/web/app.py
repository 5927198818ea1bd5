"""``create_app(settings)``: assemble the web app. Nothing here builds data or renders pages.

Request ids, JSON logs and metrics (:mod:`twitchwise.web.observe`) are added only when the
settings ask for them: the local app is the same without them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
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

__all__ = ["create_app", "templates"]

HERE = Path(__file__).parent


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


def create_app(settings: WebSettings | None = None, tw: Twitchwise | None = None) -> FastAPI:
    """The web app for ``settings``; every use case goes through ``tw`` (by default a new
    :class:`~twitchwise.app.Twitchwise` with the settings' journal)."""
    settings = settings or WebSettings()
    metrics = Metrics() if settings.metrics else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        close_journal(app.state)
        if metrics is not None:
            metrics.process_exited()

    app = FastAPI(
        title="twitchwise",
        version=__version__,
        summary="Quick, clear, evidence-based answers to 'why is my muscle twitching?'",
        description="Not a diagnosis. Runs on your own computer; nothing leaves it.",
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
    app.include_router(ops.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityMiddleware, settings=settings)
    if metrics is not None or settings.log_format == "json":
        # outermost: it sees every request, those the security checks refuse too
        app.add_middleware(ObserveMiddleware, settings=settings, metrics=metrics)
    return app
