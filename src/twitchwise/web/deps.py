"""What a route needs, as ``Annotated`` dependencies: a signature reads as a list of them.

- ``SettingsDep``: the :class:`WebSettings` the app was created with;
- ``AppDep``: the application object (:class:`~twitchwise.app.Twitchwise`) the web app was
  created with: every use case goes through it (a broken knowledge base is a 503);
- ``JournalDep``: the journal the request works on. The local app has one, opened on first
  use and shared by the app's requests (SQLAlchemy's pool gives each request its own
  connection). With accounts it is the signed-in person's, taken from that same database and
  engine (:meth:`~twitchwise.journal.store.Journal.for_owner`), after the access rules of
  :mod:`twitchwise.server.access` (signed in, the token's scope, consent to write);
- ``PrincipalDep`` and ``SignedInDep``: who the request acts for (None when no one), and the
  same when someone must be signed in (with accounts);
- :func:`get_accounts`: the accounts repository
  (:class:`~twitchwise.server.accounts.Accounts`) on the journal's engine, with accounts
  (``AccountsDep`` in :mod:`twitchwise.web.routes.account`);
- ``TemplatesDep``: the Jinja2 templates of the pages;
- ``CsrfToken`` and ``CsrfChecked``: the form token of the page being rendered, and the
  check that a posted form repeats it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.templating import Jinja2Templates

from twitchwise.app.core import Twitchwise
from twitchwise.errors import ConfigError
from twitchwise.journal.store import Journal
from twitchwise.server.access import Principal, check
from twitchwise.web.security import CSRF_COOKIE, CSRF_FIELD, check_csrf, new_csrf_token
from twitchwise.web.settings import WebSettings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from twitchwise.answer.model import Answer
    from twitchwise.server.accounts import Accounts

__all__ = [
    "AppDep",
    "CsrfChecked",
    "CsrfToken",
    "ExportProfileDep",
    "JournalDep",
    "PrincipalDep",
    "SettingsDep",
    "SignedInDep",
    "TemplatesDep",
    "accounts_of",
    "close_journal",
    "get_accounts",
    "keep_answer",
    "root_journal",
]

_lock = threading.Lock()


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def get_app(request: Request) -> Twitchwise:
    tw: Twitchwise = request.app.state.twitchwise
    return tw


def root_journal(state: Any) -> Journal:
    """The journal the app opened (on first use): the local person's, and with accounts the
    one whose engine every person's journal shares."""
    journal: Journal | None = getattr(state, "journal", None)
    if journal is None:
        with _lock:
            journal = getattr(state, "journal", None)
            if journal is None:
                tw: Twitchwise = state.twitchwise
                journal = tw.open_journal()
                state.journal = journal
    return journal


def get_journal(request: Request) -> Journal:
    """The app's own journal (see :func:`root_journal`); routes take ``JournalDep``."""
    return root_journal(request.app.state)


def close_journal(state: object) -> None:
    """Close the journal an app opened (at shutdown)."""
    journal = getattr(state, "journal", None)
    if journal is not None:
        journal.close()
        state.journal = None  # type: ignore[attr-defined]
        state.accounts = None  # type: ignore[attr-defined]


def accounts_of(state: Any) -> Accounts:
    """The accounts repository on the journal's engine (made on first use); a
    :class:`ConfigError` when the database's accounts schema is not up to date."""
    accounts: Accounts | None = getattr(state, "accounts", None)
    if accounts is None:
        from twitchwise.server.accounts import Accounts
        from twitchwise.server.db import HEAD_REVISION, current_revision

        root = root_journal(state)
        with _lock:
            accounts = getattr(state, "accounts", None)
            if accounts is None:
                found = current_revision(root.engine)
                if found != HEAD_REVISION:  # no URL here: the message may reach a browser
                    raise ConfigError(
                        f"the database's accounts schema is at {found or 'none'}, not "
                        f"{HEAD_REVISION}: run 'twitchwise db upgrade' first"
                    )
                accounts = Accounts(root.engine, passwords=getattr(state, "passwords", None))
                state.accounts = accounts
    return accounts


def get_accounts(request: Request) -> Accounts:
    return accounts_of(request.app.state)


def principal_of(request: Request) -> Principal | None:
    """Who the request acts for (set by the accounts middleware); None when no one."""
    found: Principal | None = getattr(request.state, "principal", None)
    return found


def signed_in(request: Request) -> Principal:
    """The person the request acts for, with the scope its method needs; else NotSignedIn
    or MissingScope (401, 403)."""
    return check(principal_of(request), request.method)


def journal_for_request(request: Request) -> Journal:
    """The journal of the request: the local journal, or with accounts the signed-in
    person's (after :func:`twitchwise.server.access.check`), on the same engine."""
    root = get_journal(request)
    if not get_settings(request).accounts:
        return root
    principal = check(principal_of(request), request.method, journal=True)
    return root.for_owner(principal.account.id)


def profile_for_export(request: Request) -> dict[str, Any] | None:
    """What the account keeps of the signed-in person beyond their journal, for their own
    JSON export (with accounts; the local app has none: None): their profile (``age_band``,
    ``sex``) and the hosted app's record of their answers (``answers``: each one's day,
    triage level, question and finding ids and count of words not understood; none without
    consent: docs/hosted.md#the-record-of-answers), so they see all that is kept about them.
    Runs after :func:`journal_for_request` has checked the request."""
    if not get_settings(request).accounts:
        return None
    principal = check(principal_of(request), request.method, journal=True)
    accounts = get_accounts(request)
    profile = accounts.profile(principal.account.id)
    answers = [
        {"day": a.day.isoformat(), "triage_level": a.triage_level,
         "questions": list(a.questions), "findings": list(a.findings),
         "not_understood": a.not_understood}
        for a in accounts.answers(principal.account.id)
    ]  # fmt: skip
    return {"age_band": profile.age_band, "sex": profile.sex, "answers": answers}


def keep_answer(request: Request, answer: Answer, questions: Sequence[str] = ()) -> None:
    """Record an answer the hosted app gave (docs/hosted.md#the-record-of-answers): only with
    accounts, only for a signed-in person whose account consents (checked again in the
    repository's own transaction), and never a word of free text: the day (UTC), the level,
    the interview's question ids, the ids of the findings read as present and how many
    words were not understood. The local app records nothing. A follow-up question
    (``follow_up.<rule>``) is recorded as the knowledge base's ``follow_up``; a question id
    that is no id of the knowledge base's form (from a state the client made up) is left
    out, so that keeping the record never stands in the way of the answer."""
    if not get_settings(request).accounts:
        return
    principal = principal_of(request)
    if principal is None or not principal.account.consent:
        return
    from twitchwise.server.accounts import AnswerInfo, is_kb_id

    asked = (q.split(".", 1)[0] if q.startswith("follow_up.") else q for q in questions)
    accounts = get_accounts(request)
    accounts.record_answer(
        principal.account.id,
        AnswerInfo(
            day=accounts.clock().date(),
            triage_level=answer.level.value,
            questions=tuple(dict.fromkeys(q for q in asked if is_kb_id(q))),
            findings=tuple(dict.fromkeys(f.id for f in answer.findings if not f.negated)),
            not_understood=len(answer.not_understood),
        ),
    )


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def csrf_token(request: Request) -> str:
    """The token forms on this page carry: bound to the session when someone is signed in
    (with accounts), else the cookie's, or a new one (set by the page)."""
    bound = getattr(request.state, "csrf_bound", None)
    token = bound or request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_token", None)
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
JournalDep = Annotated[Journal, Depends(journal_for_request)]
ExportProfileDep = Annotated[dict[str, Any] | None, Depends(profile_for_export)]
PrincipalDep = Annotated[Principal | None, Depends(principal_of)]
SignedInDep = Annotated[Principal, Depends(signed_in)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
CsrfToken = Annotated[str, Depends(csrf_token)]
CsrfChecked = Annotated[None, Depends(csrf_checked)]
