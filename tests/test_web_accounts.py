"""The web app with accounts (``twitchwise serve --accounts``): sign-up, login, logout, the
session cookie, password change, log out everywhere, API tokens and their scopes, consent,
deletion, export and import, login throttling, bounded imports, and the OpenAPI document's
security. On SQLite, and on PostgreSQL through a restricted role where it matters."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from hosted import (
    BASE,
    PASSWORD,
    Hosted,
    bearer,
    form_token,
    hosted,
    make_token,
    sign_up,
    upload_header,
)
from owned_rows import TABLES as JOURNAL_TABLES
from twitchwise.journal.settings import JournalSettings
from twitchwise.web.accounts import SESSION_COOKIE, AccountsMiddleware
from twitchwise.web.app import create_app
from twitchwise.web.deps import accounts_of
from twitchwise.web.security import CSP, CSRF_COOKIE
from twitchwise.web.settings import WebSettings

ANN = "ann@example.org"
BOB = "bob@example.org"


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hosted]:
    with hosted(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Hosted]:
    """SQLite only: for what does not depend on the database."""
    with hosted("sqlite", tmp_path) as made:
        yield made


def rows(site: Hosted, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """What the tables' owner sees (no row-level security in the way)."""
    engine = create_engine(site.owner_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def cookie_header(response: Any, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", page)


# --------------------------------------------------------------------------- local stays local


def test_the_local_app_has_no_accounts(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    app = create_app(WebSettings(journal=JournalSettings(f"sqlite:///{path}", path)))
    client = TestClient(app, base_url=BASE)
    for page in ("/login", "/signup", "/account", "/api/account", "/api/account/tokens"):
        assert client.get(page).status_code == 404
    schema = client.get("/openapi.json").json()
    assert "securitySchemes" not in schema.get("components", {})
    assert not any("security" in op for ops in schema["paths"].values() for op in ops.values())
    assert client.get("/journal").status_code == 200  # no login
    assert "Log in" not in client.get("/").text
    assert not any(m.cls is AccountsMiddleware for m in app.user_middleware)


# --------------------------------------------------------------------------- sessions


def test_sign_up_log_out_and_log_in(site: Hosted) -> None:
    browser = site.client()
    page = browser.get("/signup").text
    assert 'type="checkbox" id="signup-consent" name="consent" value="yes">' in page  # off
    assert "never shares or sells it" in page and "health data" in page
    r = browser.post(
        "/signup",
        data={"csrf_token": form_token(browser, "/signup"), "email": "Ann@Example.org",
              "password": PASSWORD, "password_again": PASSWORD, "consent": "yes"},
        follow_redirects=False,
    )  # fmt: skip
    assert (r.status_code, r.headers["location"]) == (303, "/account?done=welcome")
    cookie = cookie_header(r, SESSION_COOKIE)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http
    expires = re.search(r"expires=([^;]+)", cookie)
    assert expires is not None
    until = datetime.strptime(expires.group(1), "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    assert timedelta(days=13) < until - datetime.now(UTC) <= timedelta(days=14)
    token = browser.cookies.get(SESSION_COOKIE)
    assert token and token.startswith("tws_")
    # only the SHA-256 of the token is kept
    stored = rows(site, "SELECT id FROM sessions")
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(),)]
    account = browser.get("/account?done=welcome")
    assert "Signed in as <strong>ann@example.org</strong>" in account.text
    assert "Your account is ready." in account.text

    r = browser.post("/logout", data={"csrf_token": form_token(browser)}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?done=out")
    assert "Max-Age=0" in cookie_header(r, SESSION_COOKIE)
    assert rows(site, "SELECT revoked_at IS NOT NULL FROM sessions") == [(True,)]
    # the old token no longer logs in, even if a browser kept it
    kept = site.client(cookies={SESSION_COOKIE: token})
    r = kept.get("/journal", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/journal")
    assert "Max-Age=0" in cookie_header(r, SESSION_COOKIE)  # a dead cookie is deleted

    fresh = site.client()
    login = {"csrf_token": form_token(fresh, "/login"), "next": "/journal"}
    wrong = fresh.post("/login", data={**login, "email": ANN, "password": "not the password"})
    unknown = fresh.post("/login", data={**login, "email": "zed@example.org",
                                         "password": "not the password"})  # fmt: skip
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text
    assert without_tokens(wrong.text).replace(ANN, "E") == without_tokens(unknown.text).replace(
        "zed@example.org", "E"
    )
    r = fresh.post("/login", data={**login, "email": ANN, "password": PASSWORD},
                   follow_redirects=False)  # fmt: skip
    assert (r.status_code, r.headers["location"]) == (303, "/journal")
    assert fresh.get("/journal").status_code == 200


@pytest.mark.parametrize("next_", ["https://evil.example/", "//evil.example/x", "/\\evil", ""])
def test_login_goes_back_only_to_this_app(lite: Hosted, next_: str) -> None:
    sign_up(lite, ANN)
    browser = lite.client()
    data = {"csrf_token": form_token(browser, "/login"), "email": ANN, "password": PASSWORD,
            "next": next_}  # fmt: skip
    r = browser.post("/login", data=data, follow_redirects=False)
    assert r.headers["location"] == "/journal"


def test_sign_up_refuses_what_it_cannot_use(lite: Hosted) -> None:
    sign_up(lite, ANN)
    browser = lite.client()
    token = form_token(browser, "/signup")
    for email, password, again, message in (
        (BOB, PASSWORD, PASSWORD + "x", "the two passwords are not the same"),
        (BOB, "short", "short", "a password has 10 to 1024 characters"),
        ("not an email", PASSWORD, PASSWORD, "is not an email address"),
        ("ANN@example.org", PASSWORD, PASSWORD, "an account for ann@example.org exists already"),
    ):
        data = {"csrf_token": token, "email": email, "password": password,
                "password_again": again}  # fmt: skip
        r = browser.post("/signup", data=data)
        assert r.status_code == 422 and message in r.text
        assert PASSWORD not in r.text  # a password is never shown back
    assert (
        browser.post(
            "/signup", data={"email": BOB, "password": PASSWORD, "password_again": PASSWORD}
        ).status_code
        == 403
    )


def test_https_cookies_are_secure_and_the_proxy_is_trusted_only_when_told(tmp_path: Path) -> None:
    with hosted("sqlite", tmp_path / "a") as plain:
        sign_up(plain, ANN)
        browser = plain.client(base_url="https://127.0.0.1")
        r = browser.post(
            "/login",
            data={"csrf_token": form_token(browser, "/login"), "email": ANN, "password": PASSWORD},
            follow_redirects=False,
        )
        assert "; Secure" in cookie_header(r, SESSION_COOKIE)
        assert "; Secure" in cookie_header(r, CSRF_COOKIE)
        # behind a proxy that is not trusted, its header changes nothing
        other = plain.client()
        r = other.get("/login", headers={"x-forwarded-proto": "https"})
        assert "Secure" not in cookie_header(r, CSRF_COOKIE)
    with hosted("sqlite", tmp_path / "b", trust_proxy=True) as proxied:
        r = proxied.client().get("/login", headers={"x-forwarded-proto": "http, https"})
        assert "; Secure" in cookie_header(r, CSRF_COOKIE)
        r = proxied.client().get("/login", headers={"x-forwarded-proto": "http"})
        assert "Secure" not in cookie_header(r, CSRF_COOKIE)


def test_expiry_and_revocation_are_checked_at_every_request(site: Hosted) -> None:
    ann = sign_up(site, ANN)
    other = site.client()
    other.post("/login", data={"csrf_token": form_token(other, "/login"), "email": ANN,
                               "password": PASSWORD})  # fmt: skip
    assert ann.get("/api/account").status_code == other.get("/api/account").status_code == 200
    # the session of "other" expires in the database: its next request is signed out
    digest = hashlib.sha256(other.cookies[SESSION_COOKIE].encode()).hexdigest()
    engine = create_engine(site.owner_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE sessions SET expires_at = :past WHERE id = :id"),
                     {"past": datetime(2020, 1, 1, tzinfo=UTC).replace(tzinfo=None)
                      if site.kind == "sqlite" else datetime(2020, 1, 1, tzinfo=UTC),
                      "id": digest})  # fmt: skip
    engine.dispose()
    r = other.get("/api/account")
    assert r.status_code == 401 and r.json()["status"] == 401
    assert ann.get("/api/account").status_code == 200
    # log out everywhere: every session ends at once (another worker would see the same rows)
    r = ann.post("/account/logout-everywhere", data={"csrf_token": form_token(ann)},
                 follow_redirects=False)  # fmt: skip
    assert r.headers["location"] == "/login?done=everywhere"
    assert ann.get("/api/account").status_code == 401
    assert rows(site, "SELECT count(*) FROM sessions WHERE revoked_at IS NULL") == [(0,)]
    assert "logged out everywhere" in site.client().get("/login?done=everywhere").text


def test_a_password_change_logs_out_the_other_sessions(site: Hosted) -> None:
    ann = sign_up(site, ANN)
    laptop = site.client()
    laptop.post("/login", data={"csrf_token": form_token(laptop, "/login"), "email": ANN,
                                "password": PASSWORD})  # fmt: skip
    change = {"csrf_token": form_token(ann), "current": "wrong password", "new": "a new password!",
              "new_again": "a new password!"}  # fmt: skip
    r = ann.post("/account/password", data=change)
    assert r.status_code == 401 and "Your current password is not right." in r.text
    r = ann.post("/account/password", data={**change, "new_again": "something else!"})
    assert r.status_code == 422 and "not the same" in r.text
    r = ann.post("/account/password", data={**change, "current": PASSWORD},
                 follow_redirects=False)  # fmt: skip
    assert r.headers["location"] == "/account?done=password#password"
    assert ann.get("/api/account").status_code == 200  # this one stays
    assert laptop.get("/api/account").status_code == 401  # the other is logged out
    again = site.client()
    login = {"csrf_token": form_token(again, "/login"), "email": ANN}
    assert again.post("/login", data={**login, "password": PASSWORD}).status_code == 401
    assert again.post("/login", data={**login, "password": "a new password!"}).status_code == 200


def test_form_tokens_are_bound_to_the_session(lite: Hosted) -> None:
    ann = sign_up(lite, ANN)
    bound = form_token(ann)
    session = ann.cookies[SESSION_COOKIE]
    # a form token planted in the cookie (double submit) is not enough once signed in
    planted = lite.client(cookies={SESSION_COOKIE: session, CSRF_COOKIE: "planted-token"})
    r = planted.post("/journal/day", data={"csrf_token": "planted-token", "stress": "2"})
    assert r.status_code == 403
    r = planted.post("/journal/day", data={"csrf_token": bound, "stress": "2"})
    assert r.status_code == 200
    # another session's token does not fit this one
    other = sign_up(lite, BOB)
    r = planted.post("/journal/day", data={"csrf_token": form_token(other), "stress": "2"})
    assert r.status_code == 403


# --------------------------------------------------------------------------- consent


def test_nothing_is_kept_before_consent(site: Hosted) -> None:
    ann = sign_up(site, ANN, consent=False)
    journal = ann.get("/journal")
    assert journal.status_code == 200
    assert "keeps nothing in your journal until you allow it" in journal.text
    r = ann.post("/journal/episode", data={"csrf_token": form_token(ann), "region": "region_calf"})
    assert r.status_code == 403 and "allow it to keep your health data" in r.text
    r = ann.post("/api/journal/episodes", json={"region": "calf"})
    assert r.status_code == 403 and "health data" in r.json()["error"]
    assert ann.get("/api/journal/episodes").json() == []  # reading is fine
    assert rows(site, "SELECT count(*) FROM episodes") == [(0,)]
    r = ann.post("/account/consent", data={"csrf_token": form_token(ann), "consent": "yes"},
                 follow_redirects=False)  # fmt: skip
    assert r.headers["location"] == "/account?done=consent-on#consent"
    assert ann.get("/api/account").json()["consent"] is True
    assert ann.post("/api/journal/episodes", json={"region": "calf"}).status_code == 201
    ann.post("/account/consent", data={"csrf_token": form_token(ann), "consent": "no"})
    assert ann.post("/api/journal/episodes", json={"region": "calf"}).status_code == 403
    assert len(ann.get("/api/journal/episodes").json()) == 1  # what was kept stays


def _every_answer(client: TestClient, token: str | None = None) -> None:
    """One answer through each way the hosted app gives one: the ask and assess API, the
    ask page, the interview's API result and the interview page's finish."""
    headers = bearer(token) if token else {}
    text_ = "my arm twitches zorblax and I have chest pain"
    assert client.post("/api/ask", json={"text": text_}, headers=headers).status_code == 200
    r = client.post("/api/assess", json={"findings": ["twitching", "region_eyelid"]},
                    headers=headers)  # fmt: skip
    assert r.status_code == 200
    started = client.post("/api/interview/start", json={"text": "my eyelid twitches"},
                          headers=headers).json()  # fmt: skip
    question = started["question"]
    reply = {"finding": False, "choice": []}.get(question["kind"], 0)
    r = client.post("/api/interview/answer", headers=headers, json={
        "state": started["state"], "question": question["id"], "reply": reply,
    })  # fmt: skip
    assert r.status_code == 200, r.text
    state = r.json()["state"]
    r = client.post("/api/interview/result", json={"state": state}, headers=headers)
    assert r.status_code == 200
    if token:
        return
    csrf = form_token(client, "/")
    r = client.post("/ask", data={"csrf_token": csrf, "text": text_})
    assert r.status_code == 200
    form = {"csrf_token": form_token(client, "/check"), "state": json.dumps(state)}
    r = client.post("/check/answer", data={**form, "action": "finish"})
    assert r.status_code == 200


def test_answers_are_recorded_only_with_consent_and_without_text(site: Hosted) -> None:
    ann = sign_up(site, ANN)
    bob = sign_up(site, BOB, consent=False)
    ann_id = ann.get("/api/account").json()["id"]
    for client in (ann, bob, site.client()):
        _every_answer(client)
    program = site.client()
    _every_answer(program, make_token(ann, "reader", ["read"]))
    found = rows(site, "SELECT account_id, day, triage_level, questions, findings, "
                       "not_understood FROM answers")  # fmt: skip
    assert len(found) == 5 + 3 and {uuid.UUID(str(r[0])) for r in found} == {
        uuid.UUID(ann_id)
    }  # Ann's alone
    levels = sorted(r[2] for r in found)
    assert levels.count("emergency") == 3 and set(levels) <= {
        "self_care", "see_doctor_routine", "see_doctor_urgent", "emergency"
    }
    interviews = [r for r in found if r[3]]
    assert len(interviews) == 3 and all(r[3].split()[0] == "emergency_signs" for r in interviews)
    assert all(re.fullmatch(r"[a-z0-9_ ]*", r[3] + r[4]) for r in found)
    said = site.client().post("/api/ask", json={"text": "my arm twitches zorblax and I have "
                                                       "chest pain"}).json()  # fmt: skip
    unread = {r[5] for r in found if "chest_pain" in r[4].split()}
    assert unread == {len(said["not_understood"])}  # a count of words, never the words
    everything = json.dumps([[str(v) for v in r] for r in found])
    assert "zorblax" not in everything and "arm twitches" not in everything
    assert str(found[0][1]) == datetime.now(UTC).date().isoformat()

    ann.post("/account/consent", data={"csrf_token": form_token(ann), "consent": "no"})
    assert rows(site, "SELECT count(*) FROM answers") == [(0,)]  # all of them, at once
    _every_answer(ann)
    assert rows(site, "SELECT count(*) FROM answers") == [(0,)]
    ann.post("/account/consent", data={"csrf_token": form_token(ann), "consent": "yes"})
    _every_answer(ann)
    assert rows(site, "SELECT count(*) FROM answers") == [(5,)]


def test_a_follow_up_question_is_recorded_by_its_kind(site: Hosted) -> None:
    """The interview's follow-up questions are named ``follow_up.<rule>``: recorded as the
    knowledge base's ``follow_up`` (an id), not refused, and the answer is given."""
    ann = sign_up(site, ANN)
    started = ann.post("/api/interview/start", json={"text": "my eyelid twitches"}).json()
    state = {**started["state"], "asked": [
        {"question": "emergency_signs", "findings": [], "answers": {}},
        {"question": "follow_up.some_rule", "findings": [], "answers": {}},
    ]}  # fmt: skip
    r = ann.post("/api/interview/result", json={"state": state})
    assert r.status_code == 200, r.text
    found = rows(site, "SELECT questions FROM answers")
    assert found == [("emergency_signs follow_up",)]


def test_the_record_of_answers_is_in_the_person_s_own_export(site: Hosted) -> None:
    """A person sees what is kept about them: their own JSON export (API and page) holds
    their recorded answers, ids and counts as kept, nobody else's; none once consent is
    withdrawn; the export still imports (the record is not imported into the journal)."""
    ann = sign_up(site, ANN)
    bob = sign_up(site, BOB)
    _every_answer(ann)
    _every_answer(bob, make_token(bob, "reader", ["read"]))
    export = json.loads(ann.get("/api/journal/export?format=json").content)
    ann_id = uuid.UUID(ann.get("/api/account").json()["id"])
    kept = [r[1:] for r in rows(site, "SELECT account_id, day, triage_level, questions, "
                                      "findings, not_understood FROM answers")
            if uuid.UUID(str(r[0])) == ann_id]  # fmt: skip
    assert len(kept) == 5
    expected = [{"day": str(r[0]), "triage_level": r[1], "questions": r[2].split(),
                 "findings": r[3].split(), "not_understood": r[4]} for r in kept]  # fmt: skip
    key = lambda a: json.dumps(a, sort_keys=True)  # noqa: E731
    assert sorted(export["answers"], key=key) == sorted(expected, key=key)
    assert [a["day"] for a in export["answers"]] == sorted(a["day"] for a in export["answers"])
    assert "zorblax" not in json.dumps(export["answers"])
    page_export = json.loads(ann.get("/journal/export?format=json").content)
    assert page_export["answers"] == export["answers"]
    assert len(json.loads(bob.get("/api/journal/export?format=json").content)["answers"]) == 3
    assert "emergency" not in ann.get("/api/journal/export?format=csv").text
    writer = make_token(ann, "writer", ["read", "write"])
    r = site.client().post("/api/journal/import", headers=bearer(writer),
                           files={"file": ("export.json", json.dumps(export).encode(),
                                           "text/json")})  # fmt: skip
    assert r.status_code == 200, r.text
    assert rows(site, "SELECT count(*) FROM answers") == [(8,)]  # nothing recorded by it
    ann.post("/account/consent", data={"csrf_token": form_token(ann), "consent": "no"})
    assert json.loads(ann.get("/api/journal/export?format=json").content)["answers"] == []


def test_the_profile_is_optional_own_and_in_the_export(site: Hosted) -> None:
    ann = sign_up(site, ANN)
    bob = sign_up(site, BOB)
    page = ann.get("/account")
    assert page.status_code == 200 and 'action="/account/profile"' in page.text
    assert "Prefer not to say" in page.text and "date of birth" in page.text
    assert ann.get("/api/account").json()["profile"] == {"age_band": None, "sex": None}
    r = ann.post("/account/profile", data={"csrf_token": form_token(ann), "age_band": "40-49",
                                           "sex": ""}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/account?done=profile#profile"
    assert '<option value="40-49" selected>' in ann.get("/account").text
    r = ann.post("/account/profile", data={"csrf_token": form_token(ann), "age_band": "1980",
                                           "sex": "female"})  # fmt: skip
    assert r.status_code == 422 and "an age band is one of 18-29" in r.text
    r = ann.post("/account/profile", data={"age_band": "30-39"})  # no CSRF token
    assert r.status_code == 403
    assert ann.get("/api/account").json()["profile"] == {"age_band": "40-49", "sex": None}
    r = bob.put("/api/account/profile", json={"sex": "male"})
    assert r.status_code == 200 and r.json() == {"age_band": None, "sex": "male"}
    assert bob.put("/api/account/profile", json={"age_band": "17"}).status_code == 422
    assert bob.put("/api/account/profile", json={"born": "1980-01-01"}).status_code == 422
    reader = make_token(bob, "reader", ["read"])
    program = site.client()
    r = program.put("/api/account/profile", json={"sex": "female"}, headers=bearer(reader))
    assert r.status_code == 403
    assert ann.get("/api/account").json()["profile"] == {"age_band": "40-49", "sex": None}
    assert sorted(rows(site, "SELECT age_band, sex FROM profiles"), key=str) == [
        ("40-49", None), (None, "male")
    ]
    export = json.loads(ann.get("/api/journal/export?format=json").content)
    assert export["profile"] == {"age_band": "40-49", "sex": None}
    page_export = json.loads(ann.get("/journal/export?format=json").content)
    assert page_export["profile"] == export["profile"]
    assert "40-49" not in ann.get("/api/journal/export?format=csv").text
    writer = make_token(ann, "writer", ["read", "write"])
    r = program.post("/api/journal/import", headers=bearer(writer),
                     files={"file": ("export.json", json.dumps(export).encode(), "text/json")})
    assert r.status_code == 200, r.text  # its own export imports again
    ann.put("/api/account/profile", json={"age_band": None, "sex": None})
    assert rows(site, "SELECT count(*) FROM profiles") == [(1,)]  # only Bob's is kept


# --------------------------------------------------------------------------- API tokens


def test_api_tokens_shown_once_scoped_and_revoked(site: Hosted) -> None:
    ann = sign_up(site, ANN)
    reader = make_token(ann, "my reader", ["read"])
    writer = make_token(ann, "my writer", ["read", "write"])
    assert reader.startswith("twt_") and reader != writer
    page = ann.get("/account").text
    assert reader not in page and writer not in page  # shown once, never again
    assert "my reader" in page and "my writer" in page
    stored = {r[0] for r in rows(site, "SELECT token_hash FROM api_tokens")}
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in (reader, writer)}

    program = site.client()  # no cookies: the token alone
    assert program.get("/api/journal/days", headers=bearer(reader)).json() == []
    r = program.put("/api/journal/days/2026-03-01", json={"stress": 2}, headers=bearer(reader))
    assert r.status_code == 403 and "'write' scope" in r.json()["error"]
    r = program.put("/api/journal/days/2026-03-01", json={"stress": 2}, headers=bearer(writer))
    assert r.status_code == 200 and r.json()["stress"] == 2
    assert ann.get("/api/journal/days").json()[0]["stress"] == 2  # the same journal

    listed = program.get("/api/account/tokens", headers=bearer(reader)).json()
    assert [(t["name"], t["scopes"]) for t in listed] == [
        ("my writer", ["read", "write"]), ("my reader", ["read"])]  # fmt: skip
    assert all(uuid.UUID(t["id"]).version == 4 for t in listed)  # ids are not guessable
    assert not any(reader in json.dumps(t) or writer in json.dumps(t) for t in listed)
    assert listed[0]["last_used_at"] is not None
    reader_id = next(t["id"] for t in listed if t["name"] == "my reader")
    r = program.delete(f"/api/account/tokens/{reader_id}", headers=bearer(reader))
    assert r.status_code == 403  # a read token cannot revoke
    r = program.delete(f"/api/account/tokens/{reader_id}", headers=bearer(writer))
    assert r.status_code == 204
    r = program.get("/api/journal/days", headers=bearer(reader))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="twitchwise", error="invalid_token"'
    r = program.delete(f"/api/account/tokens/{reader_id}", headers=bearer(writer))
    assert r.status_code == 404  # not live any more
    # revoking through the page works too, and says so
    writer_id = next(t["id"] for t in listed if t["name"] == "my writer")
    r = ann.post(f"/account/tokens/{writer_id}/revoke", data={"csrf_token": form_token(ann)},
                 follow_redirects=False)  # fmt: skip
    assert r.headers["location"] == "/account?done=revoked#tokens"
    assert program.get("/api/account", headers=bearer(writer)).status_code == 401


@pytest.mark.parametrize(
    "authorization",
    ["Bearer twt_not-a-token", "Bearer", "Basic YW5uOnB3", "bearer tws_a-session-token", "x"],
)
def test_a_bad_authorization_is_401_even_with_a_good_cookie(
    lite: Hosted, authorization: str
) -> None:
    ann = sign_up(lite, ANN)
    r = ann.get("/api/journal/days", headers={"authorization": authorization})
    assert r.status_code == 401
    assert r.json() == {"ok": False, "status": 401, "errors": [], "error": r.json()["error"]}
    assert r.headers["www-authenticate"].startswith('Bearer realm="twitchwise"')
    assert ann.get("/api/journal/days").status_code == 200  # the cookie alone: fine


def test_a_token_decides_whose_journal_whatever_the_cookie(lite: Hosted) -> None:
    ann = sign_up(lite, ANN)
    bob = sign_up(lite, BOB)
    bobs = make_token(bob, "bob's", ["read", "write"])
    ann.put("/api/journal/days/2026-03-01", json={"stress": 5})
    r = ann.get("/api/journal/days", headers=bearer(bobs))  # ann's cookie, bob's token
    assert r.status_code == 200 and r.json() == []
    assert ann.get("/api/account", headers=bearer(bobs)).json()["email"] == BOB


def test_api_writes_need_json_or_csrf_with_a_cookie_but_not_with_a_token(lite: Hosted) -> None:
    ann = sign_up(lite, ANN)
    writer = make_token(ann, "uploads", ["read", "write"])
    daily = ("daily.csv", b"date,caffeine_mg\n2026-03-01,200\n")
    # a browser's cookie: an upload repeats the CSRF cookie in a header, as without accounts
    assert ann.post("/api/journal/import", files={"file": daily}).status_code == 403
    r = ann.post("/api/journal/import", files={"file": daily}, headers=upload_header(ann))
    assert r.status_code == 200
    assert ann.delete("/api/account/tokens/" + str(uuid.uuid4())).status_code == 403
    # a program's token: no cookie, no CSRF token needed
    program = lite.client()
    r = program.post("/api/journal/import", files={"file": daily}, headers=bearer(writer))
    assert r.status_code == 200 and r.json()["imported"][0]["already_imported"] is not None
    r = program.post("/api/journal/episodes", content=b'{"region": "calf"}',
                     headers={**bearer(writer), "content-type": "text/plain"})  # fmt: skip
    assert r.status_code == 422  # past the CSRF check; the body is not JSON for the model


# --------------------------------------------------------------------------- delete, export


def test_deleting_the_account_deletes_everything_at_once(site: Hosted) -> None:
    ann = sign_up(site, ANN)
    bob = sign_up(site, BOB)
    token = make_token(ann, "script", ["read", "write"])
    ann.post("/api/journal/episodes", json={"region": "calf", "note": "ann's"})
    ann.put("/api/journal/days/2026-03-01", json={"stress": 3, "medicines": ["ann's pill"]})
    bob.post("/api/journal/episodes", json={"region": "eyelid"})
    ann.put("/api/account/profile", json={"age_band": "60-69", "sex": "female"})
    ann_id = ann.get("/api/account").json()["id"]

    r = ann.post("/account/delete", data={"csrf_token": form_token(ann), "password": PASSWORD})
    assert r.status_code == 422 and "tick" in r.text
    r = ann.post("/account/delete", data={"csrf_token": form_token(ann), "password": "wrong one!",
                                          "confirm": "yes"})  # fmt: skip
    assert r.status_code == 401 and "nothing was deleted" in r.text
    assert ann.get("/api/journal/episodes").status_code == 200

    r = ann.post("/account/delete", data={"csrf_token": form_token(ann), "password": PASSWORD,
                                          "confirm": "yes"})  # fmt: skip
    assert r.status_code == 200 and "Your account is deleted" in r.text
    assert "Max-Age=0" in cookie_header(r, SESSION_COOKIE)
    id_ = ann_id if site.kind == "postgresql" else uuid.UUID(ann_id).hex
    for table in JOURNAL_TABLES:
        assert rows(site, f"SELECT count(*) FROM {table} WHERE owner_id = :o", o=id_) == [(0,)]
    for table, column in (("accounts", "id"), ("sessions", "account_id"),
                          ("api_tokens", "account_id"), ("profiles", "account_id")):  # fmt: skip
        assert rows(site, f"SELECT count(*) FROM {table} WHERE {column} = :o", o=id_) == [(0,)]
    assert lite_count(site, "episodes") == 1  # bob's
    assert site.client().get("/api/journal/days", headers=bearer(token)).status_code == 401
    assert bob.get("/api/journal/episodes").json()[0]["region"] == "region_eyelid"


def lite_count(site: Hosted, table: str) -> int:
    return int(rows(site, f"SELECT count(*) FROM {table}")[0][0])


def test_a_local_journal_moves_into_an_account(site: Hosted, tmp_path: Path) -> None:
    import twitchwise
    from owned_rows import fill
    from twitchwise.journal.store import open_journal

    local = tmp_path / "local.sqlite"
    with open_journal(JournalSettings(f"sqlite:///{local}", local)) as journal:
        fill(journal, "LOCAL")
        exported = twitchwise.Twitchwise().export(journal, "json").content()
    ann = sign_up(site, ANN)
    assert 'action="/journal/import"' in ann.get("/account").text
    r = ann.post(
        "/journal/import",
        data={"csrf_token": form_token(ann)},
        files={"file": ("twitchwise-journal.json", exported)},
    )
    assert r.status_code == 200, r.text[-500:]
    mine = ann.get("/journal/export?format=json")
    assert mine.headers["content-disposition"] == 'attachment; filename="twitchwise-journal.json"'
    local_data, account_data = json.loads(exported), json.loads(mine.content)
    for key in ("episodes", "days", "workouts", "experiments"):
        assert account_data[key] == local_data[key], key
    csv = ann.get("/api/journal/export?format=csv")
    assert csv.status_code == 200 and csv.text.startswith("date,")
    assert sign_up(site, BOB).get("/api/journal/export").json()["episodes"] == []


# --------------------------------------------------------------------------- throttling, limits


def test_logins_are_throttled_per_email_and_per_address(tmp_path: Path) -> None:
    with hosted("sqlite", tmp_path, trust_proxy=True) as site:
        now = datetime.now(UTC)
        accounts_of(site.app.state).clock = lambda: now  # no real second passes in the test
        sign_up(site, ANN)
        browser = site.client()
        token = form_token(browser, "/login")

        def attempt(email: str, password: str, address: str) -> Any:
            return browser.post(
                "/login",
                data={"csrf_token": token, "email": email, "password": password},
                headers={"x-forwarded-for": f"198.51.100.1, {address}"},
                follow_redirects=False,
            )

        for _ in range(5):
            assert attempt(ANN, "wrong password", "203.0.113.1").status_code == 401
            assert attempt("zed@example.org", "wrong password", "203.0.113.2").status_code == 401
        known = attempt(ANN, PASSWORD, "203.0.113.3")  # even the right password must wait
        unknown = attempt("zed@example.org", PASSWORD, "203.0.113.4")
        assert known.status_code == unknown.status_code == 429
        assert known.headers["retry-after"] == unknown.headers["retry-after"] == "1"
        assert without_tokens(known.text).replace(ANN, "E") == without_tokens(unknown.text).replace(
            "zed@example.org", "E"
        )
        # per address: 20 failures from one address, whatever the emails
        for n in range(20):
            attempt(f"p{n}@example.org", "wrong password", "192.0.2.9")
        assert attempt("fresh@example.org", "wrong password", "192.0.2.9").status_code == 429
        assert attempt("fresh@example.org", "wrong password", "192.0.2.10").status_code == 401
        # 2 emails + 20 + fresh, 4 + 2 addresses; only hashes, never an email or an address
        kinds = dict(rows(site, "SELECT kind, count(*) FROM login_attempts GROUP BY kind"))
        assert kinds == {"account": 23, "address": 4}
        assert all(len(k) == 64 for (k,) in rows(site, "SELECT key FROM login_attempts"))


def _middleware(app: Any) -> AccountsMiddleware:
    layer = app.middleware_stack
    while not isinstance(layer, AccountsMiddleware):
        layer = layer.app
    return layer


def test_imports_need_a_login_first_and_are_bounded(tmp_path: Path) -> None:
    with hosted("sqlite", tmp_path, max_imports=1) as site:
        anonymous = site.client()
        daily = ("daily.csv", b"date,caffeine_mg\n2026-03-01,200\n")
        r = anonymous.post(
            "/api/journal/import", files={"file": daily}, headers=upload_header(anonymous)
        )
        assert r.status_code == 401  # before the body is read
        ann = sign_up(site, ANN)
        writer = make_token(ann, "uploads", ["write"])
        program = site.client()
        slots = _middleware(site.app).imports
        assert slots.acquire(blocking=False)  # another import is running
        try:
            r = program.post("/api/journal/import", files={"file": daily}, headers=bearer(writer))
            assert r.status_code == 503 and r.headers["retry-after"] == "30"
            assert r.json()["status"] == 503 and "too many imports" in r.json()["error"]
        finally:
            slots.release()
        r = program.post("/api/journal/import", files={"file": daily}, headers=bearer(writer))
        assert r.status_code == 200
        assert slots.acquire(blocking=False)  # released after each import
        slots.release()


# --------------------------------------------------------------------------- documents, pages


def test_the_openapi_document_declares_the_token_and_each_scope(lite: Hosted) -> None:
    schema = lite.client().get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["sessionCookie"]["name"] == SESSION_COOKIE
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/api/"):
                assert "security" not in operation
                continue
            needs = path.startswith(("/api/journal", "/api/account"))
            scope = "read" if method == "get" else "write"
            if needs:
                assert operation["security"] == [{"apiToken": [scope]}, {"sessionCookie": []}]
                assert operation["x-twitchwise-scope"] == scope
                assert {"401", "403"} <= set(operation["responses"])
            else:
                assert operation["security"][0] == {}, path  # anonymous is fine
                assert operation["x-twitchwise-scope"] is None
    assert "/api/account/tokens/{token_id}" in schema["paths"]
    param = schema["paths"]["/api/account/tokens/{token_id}"]["delete"]["parameters"][0]
    assert param["schema"]["format"] == "uuid"


def test_answers_and_guides_need_no_account(lite: Hosted) -> None:
    anonymous = lite.client()
    r = anonymous.post("/api/ask", json={"text": "my arm twitches and I have chest pain"})
    assert r.status_code == 200 and r.json()["triage"]["level"] == "emergency"
    for page in ("/", "/check", "/guides", "/guides/knee"):
        assert anonymous.get(page).status_code == 200
    assert anonymous.get("/api/guides/knee").status_code == 200
    r = anonymous.post("/api/ask", json={"text": "eyelid"}, headers=bearer("twt_nope"))
    assert r.status_code == 401  # a token that is sent must be valid


@pytest.mark.parametrize("path", ["/signup", "/login", "/account", "/journal", "/"])
def test_account_pages_are_accessible_and_strict(lite: Hosted, path: str) -> None:
    ann = sign_up(lite, ANN) if path in ("/account", "/journal") else lite.client()
    page = ann.get(path)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text), "inline script"
    assert "<style" not in text and " style=" not in text
    assert '<main id="main"' in text and "<nav" in text and "<footer" in text
    for field in re.findall(r'<input id="([^"]+)"', text):
        assert f'<label for="{field}"' in text, f"a label for {field}"
    assert "nothing you type or log leaves it" not in text  # not the local footer


def test_ready_only_once_the_accounts_schema_is_up_to_date(lite: Hosted, tmp_path: Path) -> None:
    assert lite.client().get("/readyz").json()["ok"] is True
    path = tmp_path / "not-upgraded.sqlite"
    settings = WebSettings(accounts=True, journal=JournalSettings(f"sqlite:///{path}", path))
    client = TestClient(create_app(settings), base_url=BASE)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"] == "not ready: the accounts schema is not up to date"
    r = client.get("/api/account", headers=bearer("twt_" + "x" * 43))
    assert r.status_code == 503 and "run 'twitchwise db upgrade' first" in r.json()["error"]


def test_the_docs_cover_every_route_and_setting_of_accounts(lite: Hosted) -> None:
    docs = Path(__file__).resolve().parents[1] / "docs"
    web = (docs / "web.md").read_text(encoding="utf-8")
    hosted_md = (docs / "hosted.md").read_text(encoding="utf-8")
    for path, methods in lite.client().get("/openapi.json").json()["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in web, f"document {method} {path} in docs/web.md"
    from twitchwise.web.routes.account import router

    for route in router.routes:
        for method in getattr(route, "methods", ()):
            path = getattr(route, "path", "")
            assert f"`{method} {path}`" in hosted_md or f"`{path}`" in hosted_md, path
    for variable in ("TWITCHWISE_ACCOUNTS", "TWITCHWISE_TRUST_PROXY", "TWITCHWISE_MAX_IMPORTS"):
        assert variable in hosted_md and variable in (docs / "cli.md").read_text(encoding="utf-8")
