"""Closing sign-up (issue 15): ``TWITCHWISE_SIGNUP=closed`` (``serve --signup closed``). Then
``/signup`` answers 403 with the error page before anything else, no account can be made
through the web, the pages stop offering it, and ``twitchwise admin create-user`` still makes
accounts that log in. Open stays the default. On SQLite and on PostgreSQL (the app as a
restricted role)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hosted import PASSWORD, Hosted, form_token, hosted, sign_up
from twitchwise.cli import main
from twitchwise.errors import ConfigError
from twitchwise.web.settings import WebSettings

ANN = "ann@example.org"
CLOSED = "sign-up is closed on this twitchwise: ask the people who run it to make you an account"


@pytest.fixture(params=["sqlite", "postgresql"])
def closed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hosted]:
    with hosted(request.param, tmp_path, signup="closed") as site:
        yield site


def accounts_in(site: Hosted) -> int:
    """The accounts in the database, counted as the tables' owner (every row)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(site.owner_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM accounts")).scalar_one())
    finally:
        engine.dispose()


def assert_closed(response: object) -> None:
    from html import unescape

    assert response.status_code == 403  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in headers["content-security-policy"]
    text = unescape(response.text)  # type: ignore[attr-defined]
    assert "403" in text and CLOSED in text.replace("\n", " ")


def test_closed_signup_is_403_and_makes_no_account(closed: Hosted) -> None:
    client = closed.client()
    assert_closed(client.get("/signup"))
    token = form_token(client, "/login")  # the sign-up form cannot be had: the login's
    form = {"csrf_token": token, "email": ANN, "password": PASSWORD,
            "password_again": PASSWORD, "consent": "yes"}  # fmt: skip
    assert_closed(client.post("/signup", data=form, follow_redirects=False))
    assert_closed(client.post("/signup", data={"email": ANN}))  # closed before the CSRF check
    assert accounts_in(closed) == 0
    assert "twitchwise_session" not in client.cookies
    # the pages no longer offer it
    login = client.get("/login").text
    assert 'href="/signup"' not in login and "Ask the people who run this twitchwise" in login
    assert 'href="/signup"' not in client.get("/").text


def test_an_administrator_still_makes_accounts(
    closed: Hosted, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWITCHWISE_SIGNUP", "closed")  # as the service's environment has it
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    argv = ["admin", "create-user", ANN, "--password-stdin", "--database-url", closed.owner_url]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"created account {ANN} (")
    assert accounts_in(closed) == 1
    ann = closed.client()
    login = {"csrf_token": form_token(ann, "/login"), "email": ANN, "password": PASSWORD}
    r = ann.post("/login", data=login, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/journal")
    assert ann.get("/api/account").json()["email"] == ANN
    assert ann.get("/signup", follow_redirects=False).status_code == 403  # even signed in


def test_signup_is_open_by_default(tmp_path: Path) -> None:
    assert WebSettings().signup == "open"
    with hosted("sqlite", tmp_path) as site:
        ann = sign_up(site, ANN)
        assert ann.get("/api/account").json()["email"] == ANN
        assert 'href="/signup"' in site.client().get("/login").text


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWITCHWISE_SIGNUP", raising=False)
    assert WebSettings.from_env().signup == "open"
    monkeypatch.setenv("TWITCHWISE_SIGNUP", " Closed ")
    assert WebSettings.from_env().signup == "closed"
    assert WebSettings.from_env(signup="open").signup == "open"  # the option wins
    assert WebSettings(signup="closed").environment()["TWITCHWISE_SIGNUP"] == "closed"
    monkeypatch.setenv("TWITCHWISE_SIGNUP", "sometimes")
    with pytest.raises(
        ConfigError,
        match=re.escape("TWITCHWISE_SIGNUP must be open, closed or invite, not 'sometimes'"),
    ):
        WebSettings.from_env()
    with pytest.raises(ConfigError, match="signup must be open, closed or invite, not 'sometimes'"):
        WebSettings(signup="sometimes")


def test_serve_refuses_an_unknown_signup(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--accounts", "--signup", "sometimes"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err == "error: --signup must be open, closed or invite, not 'sometimes'\n"
