"""What a route needs, as ``Annotated`` dependencies: a signature reads as a list of them.

- ``SettingsDep``: the :class:`WebSettings` the app was created with;
- ``AppDep``: the application object (:class:`~twitchwise.app.Twitchwise`) the web app was
  created with: every use case goes through it (a broken knowledge base is a 503);
- ``JournalDep``: the journal, opened on first use and shared by the app's requests
  (SQLAlchemy's pool gives each request its own connection);
- ``TemplatesDep``: the Jinja2 templates of the pages;
- ``CsrfToken`` and ``CsrfChecked``: the form token of the page being rendered, and the
  check that a posted form repeats it.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.templating import Jinja2Templates

from twitchwise.app.core import Twitchwise
from twitchwise.journal.store import Journal
from twitchwise.web.security import CSRF_COOKIE, CSRF_FIELD, check_csrf, new_csrf_token
from twitchwise.web.settings import WebSettings

__all__ = [
    "AppDep",
    "CsrfChecked",
    "CsrfToken",
    "JournalDep",
    "SettingsDep",
    "TemplatesDep",
    "close_journal",
]

_lock = threading.Lock()


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def get_app(request: Request) -> Twitchwise:
    tw: Twitchwise = request.app.state.twitchwise
    return tw


def get_journal(request: Request) -> Journal:
    state = request.app.state
    journal: Journal | None = getattr(state, "journal", None)
    if journal is None:
        with _lock:
            journal = getattr(state, "journal", None)
            if journal is None:
                journal = get_app(request).open_journal()
                state.journal = journal
    return journal


def close_journal(state: object) -> None:
    """Close the journal an app opened (at shutdown)."""
    journal = getattr(state, "journal", None)
    if journal is not None:
        journal.close()
        state.journal = None  # type: ignore[attr-defined]


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def csrf_token(request: Request) -> str:
    """The token forms on this page carry: the cookie's, or a new one (set by the page)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_token", None)
    if not token:
        token = new_csrf_token()
    request.state.csrf_token = token
    return token


def csrf_checked(
    request: Request, csrf_token: Annotated[str | None, Form(alias=CSRF_FIELD)] = None
) -> None:
    check_csrf(request, csrf_token)


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
AppDep = Annotated[Twitchwise, Depends(get_app)]
JournalDep = Annotated[Journal, Depends(get_journal)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
CsrfToken = Annotated[str, Depends(csrf_token)]
CsrfChecked = Annotated[None, Depends(csrf_checked)]
