"""The web app with accounts, for the hosted service's tests: a database brought up to date by
``twitchwise db upgrade`` (SQLite, or a fresh PostgreSQL schema served through a restricted
role), the app on it, and people who sign up through its pages.

On PostgreSQL the app runs as a role that does not own the tables and cannot bypass row-level
security (``NOSUPERUSER NOBYPASSRLS``), as a hosted service's application role would: the
tables were made by ``twitchwise db upgrade`` run as their owner.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("argon2", reason="the server extra is not installed")

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server_db import pg_execute, pg_schema, pg_url
from twitchwise.cli import main
from twitchwise.journal.settings import JournalSettings, PoolSettings
from twitchwise.server.credentials import Passwords
from twitchwise.web.app import create_app
from twitchwise.web.security import CSRF_HEADER
from twitchwise.web.settings import WebSettings

BASE = "http://127.0.0.1"
PASSWORD = "a long enough password"
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def cheap() -> Passwords:
    """argon2id with small parameters: the same code, quicker tests."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Hosted:
    kind: str
    owner_url: str  # the tables' owner (ran twitchwise db upgrade)
    app_url: str  # what the app connects as (a restricted role on PostgreSQL)
    settings: WebSettings
    app: FastAPI

    def client(self, **options: Any) -> TestClient:
        return TestClient(self.app, base_url=options.pop("base_url", BASE), **options)


def upgraded(url: str) -> None:
    """``twitchwise db upgrade --database-url URL``: the journal's tables and the accounts'."""
    assert main(["db", "upgrade", "--database-url", url]) == 0


@contextmanager
def hosted(
    kind: str, tmp_path: Path, pool: PoolSettings | None = None, **settings: Any
) -> Iterator[Hosted]:
    """The app with accounts on an upgraded database of ``kind`` (``sqlite`` or
    ``postgresql``), its engine's connection pool ``pool`` (SQLAlchemy's by default); closed
    (its engine disposed) afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'hosted.sqlite'}"
        upgraded(url)
        with _made(kind, url, url, settings, pool) as site:
            yield site
        return
    with pg_schema() as schema:
        owner = pg_url(schema)
        upgraded(owner)
        role = "tw_app_" + secrets.token_hex(6)
        pg_execute(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        )
        try:
            with _made(kind, owner, pg_url(schema, user=role), settings, pool) as site:
                yield site
        finally:
            pg_execute(
                f"DROP OWNED BY {role}", f"DROP SCHEMA {schema} CASCADE", f"DROP ROLE {role}"
            )


@contextmanager
def _made(
    kind: str, owner: str, url: str, options: dict[str, Any], pool: PoolSettings | None = None
) -> Iterator[Hosted]:
    from twitchwise.web.deps import close_journal

    journal = JournalSettings.from_url(url, pool)
    settings = WebSettings(accounts=True, journal=journal, **options)
    app = create_app(settings, passwords=cheap())
    try:
        yield Hosted(kind, owner, url, settings, app)
    finally:
        close_journal(app.state)  # disposes of the engine before the database goes


def form_token(client: TestClient, page: str = "/account") -> str:
    """The CSRF token of the forms on ``page``."""
    found = _FORM_TOKEN.search(client.get(page).text)
    assert found, f"no form on {page}"
    return found.group(1)


def sign_up(
    site: Hosted, email: str, *, consent: bool = True, password: str = PASSWORD
) -> TestClient:
    """A browser that signed up (and so is logged in) as ``email``."""
    client = site.client()
    token = form_token(client, "/signup")
    data = {"csrf_token": token, "email": email, "password": password,
            "password_again": password, **({"consent": "yes"} if consent else {})}  # fmt: skip
    r = client.post("/signup", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return client


def make_token(client: TestClient, name: str, scopes: list[str]) -> str:
    """A new API token of the signed-in person, as the account page shows it (once)."""
    r = client.post(
        "/account/tokens",
        data={"csrf_token": form_token(client), "name": name, "scopes": scopes},
    )
    assert r.status_code == 200, r.text[:500]
    found = re.search(r'<code id="new-token">(twt_[^<]+)</code>', r.text)
    assert found
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def upload_header(client: TestClient) -> dict[str, str]:
    """What a browser's script sends with an API upload: the CSRF cookie repeated."""
    client.get("/account")
    from twitchwise.web.security import CSRF_COOKIE

    return {CSRF_HEADER: client.cookies.get(CSRF_COOKIE) or ""}
