"""Sign-up by invitation (issue 15): ``TWITCHWISE_SIGNUP=invite`` (``serve --signup invite``).
The sign-up page asks for a one-time code made by ``twitchwise admin invite``; a wrong,
expired, used-up or revoked code gets the same 403 page and makes no account; a refused form
takes no use; guesses are throttled as logins are. On SQLite and on PostgreSQL (the app as a
restricted role, the codes made as the tables' owner)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hosted import PASSWORD, Hosted, cheap, form_token, hosted
from twitchwise.cli import main
from twitchwise.server.accounts import Accounts
from twitchwise.server.db import make_engine
from twitchwise.web.settings import WebSettings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

BAD_CODE = (
    "This invitation code does not work: it is mistyped, expired, used up or withdrawn; ask "
    "the people who run this twitchwise for a new one."
)
_PROBLEM = re.compile(r'<div class="form-problem"[^>]*>\s*<p>(.*?)</p>', re.S)


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hosted]:
    with hosted(request.param, tmp_path, signup="invite") as made:
        yield made


@pytest.fixture
def owner(site: Hosted) -> Iterator[Accounts]:
    """The accounts as the administrator's commands reach them: as the tables' owner."""
    engine = make_engine(site.owner_url)
    try:
        yield Accounts(engine, passwords=cheap())
    finally:
        engine.dispose()


def invite(site: Hosted, capsys: pytest.CaptureFixture[str], *options: str) -> str:
    """A code from ``twitchwise admin invite``: the last line it prints."""
    capsys.readouterr()
    assert main(["admin", "invite", *options, "--database-url", site.owner_url]) == 0
    out = capsys.readouterr().out
    return out.splitlines()[-1]


def sign_up(site: Hosted, code: str, email: str, **form: str) -> tuple[Any, TestClient]:
    """(the response, the browser) of a sign-up with ``code``."""
    client = site.client()
    data = {"csrf_token": form_token(client, "/signup"), "email": email, "password": PASSWORD,
            "password_again": PASSWORD, "consent": "yes", "code": code, **form}  # fmt: skip
    return client.post("/signup", data=data, follow_redirects=False), client


def problem(response: Any) -> str:
    found = _PROBLEM.search(response.text)
    assert found, "no form problem on the page"
    return " ".join(unescape(found.group(1)).split())


def emails(site: Hosted) -> list[str]:
    engine = make_engine(site.owner_url)
    try:
        from sqlalchemy import text

        with engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(text("SELECT email FROM accounts")))
    finally:
        engine.dispose()


def test_the_page_asks_for_a_code_and_a_code_signs_up(
    site: Hosted, capsys: pytest.CaptureFixture[str]
) -> None:
    client = site.client()
    page = client.get("/signup")
    assert page.status_code == 200
    assert 'name="code"' in page.text and "Invitation code" in page.text
    assert "Sign-up here is by invitation" in page.text
    assert page.headers["cache-control"] == "no-store"  # a code typed back is not kept
    for field in re.findall(r'<input id="([^"]+)"', page.text):
        assert f'<label for="{field}"' in page.text, f"a label for {field}"
    assert 'href="/signup"' in client.get("/").text  # offered, for people with a code
    login = client.get("/login").text
    assert "with the invitation code the people who run this twitchwise gave you" in login
    code = invite(site, capsys)
    assert code.startswith("twi_")
    r, ann = sign_up(site, code, "Ann@Example.org")
    assert (r.status_code, r.headers["location"]) == (303, "/account?done=welcome")
    assert ann.get("/api/account").json()["email"] == "ann@example.org"
    assert emails(site) == ["ann@example.org"]


def test_every_code_that_does_not_work_gets_the_same_page(
    site: Hosted, owner: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    used = invite(site, capsys)
    assert sign_up(site, used, "ann@example.org")[0].status_code == 303
    revoked = owner.create_invitation()
    owner.revoke_invitation(revoked.info.id)
    past = Accounts(owner.engine, passwords=cheap(),
                    clock=lambda: datetime.now(UTC) - timedelta(days=2))  # fmt: skip
    expired = past.create_invitation(days=1)
    for code in (used, revoked.code, expired.code, "twi_" + "x" * 43, "not a code at all"):
        r, browser = sign_up(site, code, "bob@example.org")
        assert r.status_code == 403, code
        assert r.headers["content-type"].startswith("text/html")
        assert problem(r) == BAD_CODE
        assert 'aria-invalid="true"' in r.text
        assert "twitchwise_session" not in browser.cookies
        assert code not in r.text
    assert emails(site) == ["ann@example.org"]


def test_a_refused_form_keeps_the_code_and_its_use(
    site: Hosted, owner: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    code = invite(site, capsys)
    r, _ = sign_up(site, code, "ann@example.org", password_again="another password!")
    assert r.status_code == 422
    assert problem(r) == "the two passwords are not the same"
    assert f'value="{code}"' in r.text  # no need to paste it again
    r, _ = sign_up(site, code, "ann", password="short", password_again="short")
    assert r.status_code == 422
    r, _ = sign_up(site, "", "ann@example.org")
    assert r.status_code == 422
    assert problem(r) == "give the invitation code you were sent"
    # a form without its CSRF token is refused before anything
    client = site.client()
    r = client.post("/signup", data={"email": "ann@example.org", "password": PASSWORD,
                                     "password_again": PASSWORD, "code": code})  # fmt: skip
    assert r.status_code == 403 and "invitation" not in r.text
    [listed] = owner.list_invitations()
    assert listed.uses_left == 1 and emails(site) == []
    assert sign_up(site, code, "ann@example.org")[0].status_code == 303


def test_code_guesses_are_throttled_like_logins(
    site: Hosted, capsys: pytest.CaptureFixture[str]
) -> None:
    code = invite(site, capsys)
    for n in range(20):
        assert sign_up(site, f"twi_guess{n}", f"e{n}@example.org")[0].status_code == 403
    r, _ = sign_up(site, code, "ann@example.org")  # the right code, from the same address
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert problem(r) == (
        "Too many wrong invitation codes or failed logins from this address; wait 1 second "
        "and try again."
    )
    assert emails(site) == []


def test_open_sign_up_has_no_code(tmp_path: Path) -> None:
    with hosted("sqlite", tmp_path) as open_site:
        page = open_site.client().get("/signup").text
        assert 'name="code"' not in page and "by invitation" not in page
        r, _ = sign_up(open_site, "", "ann@example.org")  # a code field sent is ignored
        assert r.status_code == 303


def test_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWITCHWISE_SIGNUP", " Invite ")
    assert WebSettings.from_env().signup == "invite"
    assert WebSettings(signup="invite").environment()["TWITCHWISE_SIGNUP"] == "invite"
