"""The web app's contract, through FastAPI's TestClient: the API's JSON is the library's JSON,
every error has one shape, the security headers and checks hold, and the pages work without
JavaScript."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("multipart", reason="the web extra is not installed")

from fastapi.testclient import TestClient

import twitchwise
from twitchwise.cli import main
from twitchwise.guides import build_guide
from twitchwise.journal.settings import JournalSettings
from twitchwise.web.app import create_app
from twitchwise.web.security import CSP, CSRF_COOKIE, CSRF_HEADER
from twitchwise.web.settings import SETTINGS, WebSettings

BASE = "http://127.0.0.1"
DOCS = Path(__file__).resolve().parents[1] / "docs"

#: One text per triage level, so the contract is checked at every level.
TEXTS = [
    "my left eyelid has twitched for 3 days, exam week, 5 hours sleep, no weakness",
    "my calf has been twitching for 3 weeks, no weakness",
    "twitching all over, my hand muscles are wasting, I keep dropping things",
    "my arm keeps twitching and I have chest pain",
]
PAGES = ["/", "/check", "/guides", "/guides/knee", "/causes/stress_anxiety", "/journal", "/docs"]


def settings_for(tmp_path: Path, **kwargs: Any) -> WebSettings:
    path = tmp_path / "journal.sqlite"
    return WebSettings(journal=JournalSettings(f"sqlite:///{path}", path), **kwargs)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(settings_for(tmp_path)), base_url=BASE)


def assert_error_shape(body: dict[str, Any], status: int) -> None:
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    for e in body["errors"]:
        assert set(e) == {"field", "message"}


def csrf(client: TestClient) -> str:
    client.get("/")
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    return token


def token(client: TestClient) -> dict[str, str]:
    """The header an API client sends with an upload: the CSRF cookie repeated."""
    return {CSRF_HEADER: csrf(client)}


# --------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("text", TEXTS)
def test_ask_is_exactly_the_library_answer(client: TestClient, text: str) -> None:
    r = client.post("/api/ask", json={"text": text})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == twitchwise.ask(text).to_dict()


def test_ask_is_the_cli_json(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    text = TEXTS[1]
    assert main(["ask", "--format", "json", "--age", "34", "--sex", "female", text]) == 0
    cli = json.loads(capsys.readouterr().out)
    r = client.post("/api/ask", json={"text": text, "age": 34, "sex": "female"})
    assert r.json() == cli


def test_assess_is_the_library_answer(client: TestClient) -> None:
    ids = ["twitching", "region_calf", "duration_over_2_weeks", "!weakness"]
    r = client.post("/api/assess", json={"findings": ids, "age": 34})
    assert r.status_code == 200
    assert r.json() == twitchwise.assess(ids, age=34).to_dict()


def test_assess_unknown_finding_names_the_closest(client: TestClient) -> None:
    r = client.post("/api/assess", json={"findings": ["twitchin"]})
    assert r.status_code == 422
    body = r.json()
    assert_error_shape(body, 422)
    assert body["errors"][0]["field"] == "findings[0]"
    assert "'twitching'" in body["errors"][0]["message"]


@pytest.mark.parametrize(("path", "command"), [("/findings", "findings"), ("/causes", "causes")])
def test_listings_are_the_cli_json(
    client: TestClient, capsys: pytest.CaptureFixture[str], path: str, command: str
) -> None:
    assert main([command, "--format", "json"]) == 0
    assert client.get(f"/api{path}").json() == json.loads(capsys.readouterr().out)


def test_guides(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guide", "--list", "--format", "json"]) == 0
    assert client.get("/api/guides").json() == json.loads(capsys.readouterr().out)
    r = client.get("/api/guides/knee")
    assert r.status_code == 200
    assert r.json() == json.loads(build_guide("knee", twitchwise.load_knowledge()).render("json"))


def test_unknown_guide_is_404_with_a_hint(client: TestClient) -> None:
    r = client.get("/api/guides/kne")
    assert r.status_code == 404
    assert_error_shape(r.json(), 404)
    assert "did you mean 'knee'?" in r.json()["error"]


def test_openapi_lists_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert "/api/ask" in paths
    assert {"/api/assess", "/api/guides/{topic}", "/api/interview/answer"} <= set(paths)
    assert not any(p.startswith("/journal") or p == "/" for p in paths), "pages stay out"
    errors = paths["/api/ask"]["post"]["responses"]["422"]["content"]["application/json"]
    assert errors["schema"]["$ref"].endswith("/ErrorPublic")
    assert "AnswerPublic" in json.dumps(paths["/api/ask"]["post"]["responses"]["200"])


def test_docs_page_is_local(client: TestClient) -> None:
    page = client.get("/docs").text
    assert 'href="/openapi.json"' in page
    assert "/api/ask" in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?:", page)


# --------------------------------------------------------------------------- errors


def test_malformed_json_is_400(client: TestClient) -> None:
    r = client.post("/api/ask", content=b'{"text": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert_error_shape(r.json(), 400)
    assert "not valid JSON" in r.json()["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 12}, "text"),
        ({"text": "eyelid twitch", "age": 200}, "age"),
        ({"text": "eyelid twitch", "age": "34"}, "age"),
        ({"text": "eyelid twitch", "sex": "other"}, "sex"),
        ({"text": "eyelid twitch", "agee": 30}, "agee"),
        ([1, 2], "body"),
    ],
)
def test_invalid_body_is_422_naming_the_field(client: TestClient, body: Any, field: str) -> None:
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422
    got = r.json()
    assert_error_shape(got, 422)
    assert got["errors"][0]["field"] == field
    assert got["errors"][0]["message"]


def test_missing_body_is_422(client: TestClient) -> None:
    r = client.post("/api/ask", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert_error_shape(r.json(), 422)


def test_not_found_and_wrong_method(client: TestClient) -> None:
    r = client.get("/api/nope")
    assert r.status_code == 404
    assert_error_shape(r.json(), 404)
    r = client.get("/api/ask")
    assert r.status_code == 405
    assert_error_shape(r.json(), 405)
    page = client.get("/nope")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text


def test_500_never_leaks_a_trace(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals at /home/someone")

    @app.get("/boom")
    def boom_page() -> None:
        raise RuntimeError("secret internals at /home/someone")

    client = TestClient(app, base_url=BASE, raise_server_exceptions=False)
    r = client.get("/api/boom")
    assert r.status_code == 500
    assert_error_shape(r.json(), 500)
    page = client.get("/boom")
    assert page.status_code == 500
    for text in (r.text, page.text):
        assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert page.headers["content-security-policy"] == CSP


# --------------------------------------------------------------------------- security


@pytest.mark.parametrize("path", ["/", "/api/causes", "/static/htmx.min.js", "/api/nope", "/x"])
def test_security_headers(client: TestClient, path: str) -> None:
    h = client.get(path).headers
    assert h["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert "frame-ancestors 'none'" in CSP
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in h
    assert "server" not in h


def test_no_cors(client: TestClient) -> None:
    r = client.options(
        "/api/ask",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_or_style(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text), "inline script"
    assert "<style" not in text and " style=" not in text, "inline style"
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", text)
    assert '<main id="main"' in text and "<nav" in text and "<footer" in text


def test_csrf_is_required_for_forms(client: TestClient) -> None:
    data = {"text": "my eyelid twitches"}
    r = client.post("/ask", data=data)
    assert r.status_code == 403
    token = csrf(client)
    assert client.post("/ask", data={**data, "csrf_token": "forged"}).status_code == 403
    assert client.post("/ask", data={**data, "csrf_token": token}).status_code == 200
    r = client.post("/journal/episode", data={"region": "region_calf"})
    assert r.status_code == 403


def test_csrf_cookie_is_strict_and_http_only(tmp_path: Path) -> None:
    client = TestClient(create_app(settings_for(tmp_path)), base_url=BASE)
    cookie = client.get("/").headers["set-cookie"].lower()
    assert CSRF_COOKIE in cookie and "httponly" in cookie and "samesite=strict" in cookie


@pytest.mark.parametrize(
    "headers",
    [{"sec-fetch-site": "cross-site"}, {"origin": "https://evil.example"}],
)
def test_cross_site_writes_are_refused(client: TestClient, headers: dict[str, str]) -> None:
    r = client.post("/api/ask", json={"text": "eyelid twitch"}, headers=headers)
    assert r.status_code == 403
    assert_error_shape(r.json(), 403)
    ok = client.post("/api/ask", json={"text": "eyelid twitch"}, headers={"origin": BASE})
    assert ok.status_code == 200


def test_other_hosts_are_refused(client: TestClient) -> None:
    r = client.get("/api/causes", headers={"host": "evil.example"})
    assert r.status_code == 400
    assert_error_shape(r.json(), 400)
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_upload_too_large_is_413(tmp_path: Path) -> None:
    client = TestClient(create_app(settings_for(tmp_path, max_upload_bytes=1000)), base_url=BASE)
    big = b"date,twitches\n" + b"2026-01-01,1\n" * 200
    r = client.post("/api/journal/import", headers=token(client), files={"file": ("big.csv", big)})
    assert r.status_code == 413
    assert_error_shape(r.json(), 413)

    def chunks() -> Any:  # no content-length: the limit holds while streaming too
        yield b'--b\r\ncontent-disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        for _ in range(10):
            yield b"2026-01-01,1\n" * 40
        yield b"\r\n--b--\r\n"

    r = client.post(
        "/api/journal/import",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=b", **token(client)},
    )
    assert r.status_code == 413
    assert_error_shape(r.json(), 413)


def test_json_body_too_large_is_413(tmp_path: Path) -> None:
    client = TestClient(create_app(settings_for(tmp_path, max_body_bytes=2000)), base_url=BASE)
    r = client.post("/api/ask", json={"text": "twitch " * 1000})
    assert r.status_code == 413
    assert_error_shape(r.json(), 413)


def test_settings_refuse_nonsense() -> None:
    from twitchwise.errors import ConfigError

    with pytest.raises(ConfigError):
        WebSettings(port=0)
    for name in ("*", "0.0.0.0", "pi.local:8000", "", "evil.example/x"):
        with pytest.raises(ConfigError, match="is not a host name or address"):
            WebSettings(host="0.0.0.0", allowed_hosts=(name,))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_a_network_bind_needs_allowed_hosts(host: str) -> None:
    """Issue 11, item 6: a non-loopback bind used to switch the Host check off."""
    from twitchwise.errors import ConfigError

    with pytest.raises(ConfigError, match="--allowed-host NAME") as refused:
        WebSettings(host=host)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("bind", ["0.0.0.0", "::"])
def test_the_host_check_stays_on_for_every_bind(tmp_path: Path, bind: str) -> None:
    settings = settings_for(tmp_path, host=bind, allowed_hosts=("Pi.Local", "192.168.1.20"))
    client = TestClient(create_app(settings), base_url=BASE)
    for evil in ("evil.example", "rebind.attacker.test:8000", "0.0.0.0", "testserver"):
        r = client.get("/api/causes", headers={"host": evil})
        assert r.status_code == 400, evil
        assert_error_shape(r.json(), 400)
    for good in ("pi.local", "pi.local:8000", "192.168.1.20:8000", "localhost", "127.0.0.1"):
        assert client.get("/api/causes", headers={"host": good}).status_code == 200, good


def test_testserver_is_a_host_only_when_a_test_allows_it(tmp_path: Path) -> None:
    """Issue 11, item 10: Starlette's TestClient name used to be accepted by every app."""
    r = TestClient(create_app(settings_for(tmp_path))).get("/api/causes")
    assert r.status_code == 400
    allowed = settings_for(tmp_path, allowed_hosts=("testserver",))
    assert TestClient(create_app(allowed)).get("/api/causes").status_code == 200


def test_a_503_does_not_show_where_the_journal_is(tmp_path: Path) -> None:
    """Issue 11, item 10: the journal's absolute path used to be in the 503 message."""
    (tmp_path / "my folder").write_text("a file, not a folder")
    path = tmp_path / "my folder" / "journal.sqlite"
    settings = WebSettings(journal=JournalSettings(f"sqlite:///{path}", path))
    client = TestClient(create_app(settings), base_url=BASE, raise_server_exceptions=False)
    r = client.get("/api/journal/days")
    assert r.status_code == 503
    assert_error_shape(r.json(), 503)
    assert "could not create the journal at journal.sqlite" in r.json()["error"]
    page = client.get("/journal")
    assert page.status_code == 503
    for text in (r.text, html.unescape(page.text)):
        assert str(tmp_path) not in text and "my folder" not in text


def test_a_503_does_not_show_a_database_url() -> None:
    """The hosted mode's journal is a database URL: its user and host stay in the log."""
    from twitchwise.web.errors import without_paths

    message = (
        "could not read the journal at 'postgresql+psycopg://app@db.internal:5432/twitchwise': "
        "connection refused"
    )
    shown = without_paths(message)
    assert shown == "could not read the journal at 'the database': connection refused"


EPISODE = json.dumps({"region": "calf"}).encode()


@pytest.mark.parametrize("origin", [{"origin": "null"}, {}])
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/plain; x=1"]
)
def test_api_writes_need_json_or_a_token(
    client: TestClient, origin: dict[str, str], content_type: str | None
) -> None:
    """Issue 11, item 7: a write with ``Origin: null`` and no ``Sec-Fetch-Site`` (a sandboxed
    frame, an old browser) used to be accepted in a body a browser sends without asking."""
    headers = {**origin, **({"content-type": content_type} if content_type else {})}
    r = client.post("/api/journal/episodes", content=EPISODE, headers=headers)
    assert r.status_code == 403
    assert_error_shape(r.json(), 403)
    assert "application/json" in r.json()["error"]
    r = client.put("/api/journal/days/2026-01-05", content=b'{"stress": 2}', headers=headers)
    assert r.status_code == 403
    assert client.get("/api/journal/episodes").json() == []
    json_type = {**origin, "content-type": "application/json"}
    r = client.post("/api/journal/episodes", content=EPISODE, headers=json_type)
    assert r.status_code == 201


def test_api_uploads_need_the_csrf_header(client: TestClient) -> None:
    body = {"file": ("daily.csv", b"date,twitches\n2026-01-20,2\n")}
    for headers in ({"origin": "null"}, {}, {CSRF_HEADER: "forged"}):
        csrf(client)
        r = client.post("/api/journal/import", files=body, headers=headers)
        assert r.status_code == 403, headers
        assert CSRF_HEADER.lower() in r.json()["error"].lower()
    r = client.post("/api/journal/import", files=body, headers={"origin": "null", **token(client)})
    assert r.status_code == 200
    assert len(client.get("/api/journal/episodes").json()) == 2


# --------------------------------------------------------------------------- interview


def _reply(question: dict[str, Any]) -> Any:
    return {"finding": False, "choice": []}.get(question["kind"], 0)


def test_interview_round_trip(client: TestClient) -> None:
    step = client.post("/api/interview/start", json={"text": "my eyelid keeps twitching"}).json()
    assert step["question"] is not None and step["why"] == "red_flag"
    asked = 0
    while step["question"] is not None:
        q = step["question"]
        r = client.post(
            "/api/interview/answer",
            json={"state": step["state"], "question": q["id"], "reply": _reply(q)},
        )
        assert r.status_code == 200, r.text
        step = r.json()
        asked += 1
        assert step["asked"] == asked
        assert asked < 40
    assert step["stop"]["reason"] in ("settled", "budget", "exhausted")
    result = client.post("/api/interview/result", json={"state": step["state"]}).json()
    assert len(result["questions"]) == asked
    assert result["stopped"] == step["stop"]
    assert set(twitchwise.ask("eyelid twitch").to_dict()) <= set(result)


def test_interview_refuses_a_wrong_question_or_reply(client: TestClient) -> None:
    step = client.post("/api/interview/start", json={}).json()
    state, q = step["state"], step["question"]
    r = client.post(
        "/api/interview/answer", json={"state": state, "question": "nope", "reply": None}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "question"
    bad = {"finding": 3, "choice": [99], "one_of": 99, "quantity": 99}[q["kind"]]
    r = client.post(
        "/api/interview/answer", json={"state": state, "question": q["id"], "reply": bad}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "reply"


def test_interview_refuses_a_forged_state(client: TestClient) -> None:
    state = {"start": {"observations": [{"id": "not_a_finding"}]}, "asked": []}
    r = client.post("/api/interview/result", json={"state": state})
    assert r.status_code == 422
    assert_error_shape(r.json(), 422)
    r = client.post("/api/interview/result", json={"state": {"asked": "x"}})
    assert r.status_code == 422


# --------------------------------------------------------------------------- journal


def test_journal_api(client: TestClient) -> None:
    r = client.post("/api/journal/episodes", json={"region": "calf", "side": "left"})
    assert r.status_code == 201
    assert r.json()["region"] == "region_calf" and r.json()["side"] == "left"
    r = client.post("/api/journal/episodes", json={"region": "elbowz"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "region"
    r = client.put("/api/journal/days/2026-01-05", json={"caffeine_mg": 300, "sleep_h": 5.5})
    assert r.json() == {"date": "2026-01-05", "caffeine_mg": 300.0, "sleep_h": 5.5}
    r = client.put("/api/journal/days/2026-01-05", json={"stress": 11})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stress"
    assert len(client.get("/api/journal/episodes").json()) == 1
    assert client.get("/api/journal/days").json()[0]["caffeine_mg"] == 300.0
    csv = client.get("/api/journal/export?format=csv")
    assert csv.headers["content-disposition"] == 'attachment; filename="twitchwise-journal.csv"'
    assert csv.text.startswith("date,twitches,")
    r = client.get("/api/journal/export?format=xml")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "format"


def test_journal_episodes_come_a_page_at_a_time(client: TestClient) -> None:
    """Issue 11 (4): GET /api/journal/episodes gave every episode at once (194 MB and 1.4 GB
    of memory for a million); now a page of them, oldest first, with the total and a link
    to the next page. Without limit and offset a small journal still comes whole."""
    days = "".join(f"2026-01-{d:02d},{d}\n" for d in range(1, 11))  # 55 episodes
    r = client.post(
        "/api/journal/import",
        headers=token(client),
        files={"file": ("daily.csv", f"date,twitches\n{days}".encode())},
    )
    assert r.json()["imported"][0]["episodes_added"] == 55
    everything = client.get("/api/journal/episodes")
    assert len(everything.json()) == 55 and everything.headers["x-total-count"] == "55"
    assert "link" not in everything.headers
    dates = [e["date"] for e in everything.json()]
    assert dates == sorted(dates)
    pages, url = [], "/api/journal/episodes?limit=20"
    while url:
        page = client.get(url)
        assert page.status_code == 200 and page.headers["x-total-count"] == "55"
        pages.append(page.json())
        link = page.headers.get("link")
        url = link.split(">", 1)[0].lstrip("<") if link else ""
        if link:
            assert link.endswith('; rel="next"')
    assert [len(p) for p in pages] == [20, 20, 15]
    assert [e for p in pages for e in p] == everything.json()
    assert client.get("/api/journal/episodes?offset=55").json() == []
    for bad in ("limit=0", "limit=10001", "offset=-1", "limit=x", "offset=1000000001"):
        r = client.get(f"/api/journal/episodes?{bad}")
        assert r.status_code == 422, bad
        assert_error_shape(r.json(), 422)
        assert r.json()["errors"][0]["field"] == bad.split("=")[0]


def test_journal_days_do_not_read_the_episodes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twitchwise.journal.store import Journal

    client.put("/api/journal/days/2026-01-05", json={"caffeine_mg": 300})

    def refuse(self: Journal) -> None:
        raise AssertionError("read() holds every episode")

    monkeypatch.setattr(Journal, "read", refuse)
    assert client.get("/api/journal/days").json()[0]["caffeine_mg"] == 300.0
    assert client.get("/api/journal/episodes").json() == []
    assert client.get("/journal").status_code == 200


def test_journal_import_and_again(client: TestClient) -> None:
    body = b"date,twitches,caffeine_mg,sleep_h\n2026-01-20,2,300,6\n"
    first = client.post(
        "/api/journal/import", headers=token(client), files={"file": ("daily.csv", body)}
    ).json()
    assert first["imported"][0]["episodes_added"] == 2
    again = client.post(
        "/api/journal/import", headers=token(client), files={"file": ("daily.csv", body)}
    ).json()
    assert "already imported" in again["imported"][0]["message"]
    r = client.post(
        "/api/journal/import", headers=token(client), files={"file": ("x.bin", b"nonsense")}
    )
    assert r.status_code == 422 and "x.bin" in r.json()["error"]
    assert "/tmp" not in r.json()["error"]


def test_journal_import_of_an_element_with_millions_of_children(
    client: TestClient, tmp_path: Path
) -> None:
    from fixtures.journal.files import write_wide_xml

    hostile = write_wide_xml(tmp_path / "export.zip", "apple_health", 1_000_000)
    files = {"file": ("export.zip", hostile.read_bytes())}
    r = client.post("/api/journal/import", headers=token(client), files=files)
    assert r.status_code == 422
    assert_error_shape(r.json(), 422)
    error = r.json()["error"]
    assert "export.zip: the XML element <Workout> on line 3 holds more than 10,000" in error
    assert client.get("/api/journal/days").json() == []


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31"])
def test_journal_dates_outside_the_rule_are_refused(client: TestClient, day: str) -> None:
    rule = "a journal date is from 1900-01-01 to today"
    r = client.put(f"/api/journal/days/{day}", json={"stress": 2})
    assert r.status_code == 422
    assert_error_shape(r.json(), 422)
    assert r.json()["errors"][0]["field"] == "day"
    assert r.json()["error"].startswith(f"day: {day} is ") and rule in r.json()["error"]
    r = client.post("/api/journal/episodes", json={"region": "calf", "at": f"{day}T12:00:00Z"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    assert rule in r.json()["error"]
    backup = json.dumps({"days": [{"date": day, "stress": 2}]}).encode()
    r = client.post(
        "/api/journal/import", headers=token(client), files={"file": ("backup.json", backup)}
    )
    assert r.status_code == 422 and f"days.0.date: {day} is" in r.json()["error"]
    assert client.get("/api/journal/days").json() == []


def test_a_journal_holding_bad_rows_still_opens_and_names_them(
    client: TestClient, tmp_path: Path
) -> None:
    from fixtures.journal.files import insert_bad_rows

    pytest.importorskip("numpy")
    client.post("/api/journal/episodes", json={"region": "calf"})
    insert_bad_rows(tmp_path / "journal.sqlite")
    page = client.get("/journal")
    assert page.status_code == 200
    assert "Left out episode #2 dated 0001-01-01" in html.unescape(page.text)
    insights = client.get("/api/journal/insights")
    assert insights.status_code == 200
    assert any("9999-12-31 is in the future" in n for n in insights.json()["notes"])
    for path in ("/api/journal/export", "/api/journal/export?format=csv", "/api/journal/days"):
        r = client.get(path)
        assert r.status_code == 200 and "9999" not in r.text
    report = client.get("/api/journal/report?format=html")
    assert report.status_code == 200 and "Left out day #" in html.unescape(report.text)
    body = b"date,twitches\n2026-01-20,2\n"
    r = client.post(
        "/api/journal/import", headers=token(client), files={"file": ("daily.csv", body)}
    )
    assert r.status_code == 200, r.text


def test_journal_import_of_a_deeply_nested_json(client: TestClient) -> None:
    deep = b'{"episodes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = client.post(
        "/api/journal/import", headers=token(client), files={"file": ("deep.json", deep)}
    )
    assert r.status_code == 422
    assert_error_shape(r.json(), 422)
    assert "deep.json: the JSON is nested too deeply" in r.json()["error"]


def test_journal_insights_and_report(client: TestClient) -> None:
    pytest.importorskip("numpy")
    pytest.importorskip("fpdf")
    client.post("/api/journal/episodes", json={"region": "calf"})
    insights = client.get("/api/journal/insights").json()
    assert {"days", "effects", "alerts", "notes"} <= set(insights)
    for fmt, media in (("html", "text/html"), ("pdf", "application/pdf")):
        r = client.get(f"/api/journal/report?format={fmt}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith(media)
        assert "attachment" in r.headers["content-disposition"]


# --------------------------------------------------------------------------- pages


def test_ask_form_works_without_javascript(client: TestClient) -> None:
    home = client.get("/").text
    form = re.search(r"<form[^>]*class=\"ask-form\"[^>]*>", home)
    assert form and 'method="post"' in form.group(0) and 'action="/ask#answer"' in form.group(0)
    assert '<label for="ask-text">' in home
    text = TEXTS[3]
    r = client.post("/ask", data={"text": text, "csrf_token": csrf(client)})
    assert r.status_code == 200
    page = r.text
    assert page.startswith("<!doctype html>")
    summary = html.escape(twitchwise.ask(text).summary, quote=False)
    assert summary in page.replace("&#39;", "'")
    assert page.index("tw-banner-emergency") < page.index("tw-summary"), "banner first"


def test_ask_partial_for_htmx(client: TestClient) -> None:
    r = client.post(
        "/ask",
        data={"text": TEXTS[0], "csrf_token": csrf(client)},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert "<html" not in r.text and 'id="answer-result"' in r.text
    assert "tw-banner" not in r.text, "no banner for self-care"


def test_ask_form_errors_are_shown_at_the_field(client: TestClient) -> None:
    r = client.post("/ask", data={"text": " ", "age": "300", "csrf_token": csrf(client)})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text


def test_ask_form_has_the_api_length_limit_and_does_not_echo_a_huge_body(
    client: TestClient,
) -> None:
    huge = "my calf twitches and no chest pain. " * 25_000  # 900 KB
    r = client.post("/ask", data={"text": huge, "csrf_token": csrf(client)})
    assert r.status_code == 422
    assert "at most 5000" in r.text
    assert len(r.text) < 100_000, "the form echoed the whole body back"
    api = client.post("/api/ask", json={"text": huge[:5001]})
    assert api.status_code == 422


def test_interview_pages(client: TestClient) -> None:
    token = csrf(client)
    r = client.post("/check/start", data={"text": "calf twitching", "csrf_token": token})
    for _ in range(40):
        if "Your answer" in r.text:
            break
        state = html.unescape(re.search(r'name="state" value="([^"]*)"', r.text).group(1))
        question = re.search(r'name="question" value="([^"]*)"', r.text).group(1)
        reply = "no" if 'value="yes"' in r.text else ("chosen" if "checkbox" in r.text else "0")
        r = client.post(
            "/check/answer",
            data={"csrf_token": token, "state": state, "question": question, "reply": reply},
        )
        assert r.status_code == 200, r.text[-800:]
    assert "Your answer" in r.text and "The questions and your answers" in r.text


def test_journal_page_logs_in_two_taps(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        "/journal/episode", data={"csrf_token": token, "side": "left", "region": "region_calf"}
    )
    assert r.status_code == 200
    assert "Logged: Calf, left side" in r.text
    assert "<svg" in r.text
    r = client.post("/journal/day", data={"csrf_token": token, "caffeine_mg": "abc"})
    assert r.status_code == 422


# --------------------------------------------------------------------------- docs


def test_web_docs_cover_settings_and_routes(client: TestClient) -> None:
    text = (DOCS / "web.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.name}`" in text, f"document setting {setting.name} in docs/web.md"
    for path, methods in client.get("/openapi.json").json()["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in text, f"document {method} {path} in docs/web.md"


# --------------------------------------------------------------------------- fuzzing

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = (
    "text", "age", "sex", "findings", "state", "question", "reply", "region", "side",
    "intensity", "duration_s", "at", "note", "caffeine_mg", "stress", "medicines",
)  # fmt: skip
BODIES = st.one_of(
    JSON_VALUES,
    st.dictionaries(st.sampled_from(KEYS), JSON_VALUES | st.text(max_size=60), max_size=6),
)
ENDPOINTS = [
    ("post", "/api/ask"),
    ("post", "/api/assess"),
    ("post", "/api/interview/start"),
    ("post", "/api/interview/answer"),
    ("post", "/api/interview/result"),
    ("post", "/api/journal/episodes"),
    ("put", "/api/journal/days/2026-01-05"),
]
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    app = create_app(settings_for(tmp_path_factory.mktemp("fuzz")))
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


def assert_no_5xx(r: Any) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_error_shape(r.json(), r.status_code)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@FUZZ
@given(body=BODIES)
def test_no_body_gives_a_5xx(fuzz_client: TestClient, method: str, path: str, body: Any) -> None:
    assert_no_5xx(getattr(fuzz_client, method)(path, json=body))


@FUZZ
@given(topic=st.text(max_size=40), day=st.text(max_size=20))
def test_no_path_gives_a_5xx(fuzz_client: TestClient, topic: str, day: str) -> None:
    from urllib.parse import quote

    assert_no_5xx(fuzz_client.get(f"/api/guides/{quote(topic, safe='')}"))
    assert_no_5xx(fuzz_client.put(f"/api/journal/days/{quote(day, safe='')}", json={"stress": 1}))


@FUZZ
@given(reply=JSON_VALUES, steps=st.integers(min_value=0, max_value=6))
def test_no_reply_gives_a_5xx(fuzz_client: TestClient, reply: Any, steps: int) -> None:
    step = fuzz_client.post("/api/interview/start", json={"text": "calf twitching"}).json()
    for _ in range(steps):
        if step["question"] is None:
            break
        step = fuzz_client.post(
            "/api/interview/answer",
            json={"state": step["state"], "question": step["question"]["id"], "reply": None},
        ).json()
    if step["question"] is None:
        return
    r = fuzz_client.post(
        "/api/interview/answer",
        json={"state": step["state"], "question": step["question"]["id"], "reply": reply},
    )
    assert_no_5xx(r)


@FUZZ
@given(at=st.datetimes() | st.text(max_size=30), region=st.text(max_size=30))
def test_no_episode_gives_a_5xx(fuzz_client: TestClient, at: Any, region: str) -> None:
    value = at.isoformat() if hasattr(at, "isoformat") else at
    r = fuzz_client.post("/api/journal/episodes", json={"region": region, "at": value})
    assert_no_5xx(r)


def test_the_banner_asks_about_a_red_flag_read_with_doubt(client: TestClient) -> None:
    # the answer's own triage section is hidden under the banner, so the banner asks too
    text = "no chest pain... actually it feels tight and my arm twitches"
    r = client.post("/ask", data={"text": text, "csrf_token": csrf(client)})
    assert r.status_code == 200
    banner = r.text[r.text.index("tw-banner-emergency") : r.text.index("tw-summary")]
    assert "Please check" in banner
    assert "Do you have any chest pain or pressure?" in banner


@pytest.mark.parametrize("value", ["lots", "0", "-3"])
def test_a_bad_upload_limit_in_the_environment_is_one_line_naming_it(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twitchwise.errors import ConfigError

    monkeypatch.setenv("TWITCHWISE_MAX_UPLOAD_MB", value)
    with pytest.raises(ConfigError) as info:
        WebSettings.from_env()
    assert str(info.value) == (
        f"TWITCHWISE_MAX_UPLOAD_MB must be a number of megabytes above 0, not {value!r}"
    )


def test_the_upload_limit_and_allowed_hosts_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWITCHWISE_MAX_UPLOAD_MB", "2")
    monkeypatch.setenv("TWITCHWISE_ALLOWED_HOSTS", "mypc.local, 192.168.1.20,")
    settings = WebSettings.from_env()
    assert settings.max_upload_bytes == 2 * 1024 * 1024
    assert settings.allowed_hosts == ("mypc.local", "192.168.1.20")


# --------------------------------------------------------------------------- self-experiments


def test_journal_page_runs_an_experiment_without_javascript(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date, timedelta

    import twitchwise.app.experiment as app_experiment
    from twitchwise.insights.experiment import CHANGE, draw_schedule

    start = date(2026, 3, 2)
    now = [start]
    monkeypatch.setattr(app_experiment, "_today", lambda: now[0])
    monkeypatch.setattr(app_experiment.secrets, "randbits", lambda bits: 12345)
    token = csrf(client)
    page = client.get("/journal").text
    assert '<h2 id="experiment-h">Self-experiment</h2>' in page and "No experiment yet." in page
    for label in ("x-kind", "x-change", "x-weeks", "x-block-days", "x-washout-days"):
        assert f'<label for="{label}">' in page and f'id="{label}"' in page
    plan = {"kind": "caffeine", "weeks": "6", "block_days": "7", "washout_days": "2"}
    assert client.post("/journal/experiment/start", data=plan).status_code == 403
    r = client.post(
        "/journal/experiment/start", data={**plan, "csrf_token": token, "kind": "custom"}
    )
    assert r.status_code == 422 and "say what you will change" in html.unescape(r.text)
    r = client.post("/journal/experiment/start", data={**plan, "csrf_token": token, "weeks": "x"})
    assert r.status_code == 422 and "weeks: give a whole number from 1 to 52" in r.text
    r = client.post(
        "/journal/experiment/start", data={**plan, "csrf_token": token}, follow_redirects=False
    )
    assert (r.status_code, r.headers["location"]) == (303, "/journal?done=started#experiment")
    page = html.unescape(client.get(r.headers["location"]).text)
    assert "Your self-experiment has started" in page
    assert "2026-03-02 to 2026-04-12: today is day 1 of 42, 42 days left including today." in page
    letters = draw_schedule(start, weeks=6, block_days=7, washout_days=2, seed=12345).letters
    kind = next(k for k in twitchwise.app.default().kb.plan.experiments if k.id == "caffeine")
    instruction = kind.change if letters[0] == CHANGE else kind.usual
    assert f'<p class="lead">{instruction[0].upper()}{instruction[1:]}.</p>' in page
    assert ("This is a washout day" in page) == (letters[0] == CHANGE)
    assert "Adherence so far: not known yet (no check-ins)." in page
    r = client.post(
        "/journal/experiment/check-in",
        data={"csrf_token": token, "followed": "yes"},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/journal?done=followed#experiment")
    page = client.get(r.headers["location"]).text
    assert "Checked in for today: you kept to the plan." in page
    assert "Adherence so far: kept to the plan on 1 of 1 day checked." in page
    assert "(done; a new answer replaces it)" in page
    r = client.post("/journal/experiment/check-in", data={"csrf_token": token, "followed": "?"})
    assert r.status_code == 422 and "say whether you kept to today" in html.unescape(r.text)
    r = client.post(
        "/journal/experiment/check-in",
        data={"csrf_token": token, "followed": "no"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "<html" not in r.text
    assert "Adherence so far: kept to the plan on 0 of 1 day checked." in r.text
    # the address never puts text on the page
    assert "status-ok" not in client.get("/journal?done=%3Cb%3Ehi%3C%2Fb%3E").text
    # once it has ended: its result and chart, and a form to start another
    now[0] = start + timedelta(days=50)
    page = html.unescape(client.get("/journal").text)
    assert "Cutting back on caffeine, 2026-03-02 to 2026-04-12 (finished)" in page
    assert "No effect could be estimated" in page and "Not enough days to compare" in page
    assert "<title>Self-experiment: Cutting back on caffeine</title>" in page
    assert "Start the experiment" in page and "I followed today" not in page


def test_journal_page_stops_an_experiment_early(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date, timedelta

    import twitchwise.app.experiment as app_experiment

    start = date(2026, 3, 2)
    now = [start]
    monkeypatch.setattr(app_experiment, "_today", lambda: now[0])
    monkeypatch.setattr(app_experiment.secrets, "randbits", lambda bits: 12345)
    token = csrf(client)
    stop = {"reason": "  a week of   night shifts ", "confirm": "yes"}
    # nothing runs yet: refused with the reason, and no form to stop
    r = client.post("/journal/experiment/stop", data={**stop, "csrf_token": token})
    assert r.status_code == 422 and "there is no experiment yet" in html.unescape(r.text)
    assert 'action="/journal/experiment/stop"' not in r.text
    plan = {"kind": "caffeine", "weeks": "6", "block_days": "7", "washout_days": "2"}
    assert client.post("/journal/experiment/start", data={**plan, "csrf_token": token}).is_success
    now[0] = start + timedelta(days=9)
    page = client.get("/journal").text
    assert (
        '<form class="experiment-stop" method="post" action="/journal/experiment/stop" '
        'hx-post="/journal/experiment/stop" hx-target="#journal-body" hx-swap="innerHTML">'
    ) in page
    assert '<label for="x-stop-reason">' in page and 'id="x-stop-reason"' in page
    assert (
        '<input type="checkbox" id="x-stop-confirm" name="confirm" value="yes" required>'
        '<label for="x-stop-confirm">Yes, stop it today</label>'
    ) in page
    # the CSRF token is checked, and stopping needs the box ticked
    assert client.post("/journal/experiment/stop", data=stop).status_code == 403
    r = client.post("/journal/experiment/stop", data={"csrf_token": token, "reason": "tired of it"})
    assert r.status_code == 422
    assert 'tick "Yes, stop it today" to stop the experiment early' in html.unescape(r.text)
    assert "I followed today" in r.text  # still running
    r = client.post(
        "/journal/experiment/stop",
        data={**stop, "csrf_token": token},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/journal?done=stopped#experiment")
    page = html.unescape(client.get(r.headers["location"]).text)
    assert (
        "Your self-experiment is stopped; today was its last day. What it showed is below." in page
    )
    assert "Cutting back on caffeine, 2026-03-02 to 2026-03-11 (stopped early)" in page
    assert "Stopped early on 2026-03-11 (day 10 of 42): a week of night shifts." in page
    assert "I followed today" not in page and 'action="/journal/experiment/stop"' not in page
    assert "Start the experiment" in page
    # the same through the API: nothing runs any more
    r = client.post("/api/journal/experiment/stop", json={})
    assert r.status_code == 422 and "no experiment is running" in r.json()["error"]
    # with htmx the section comes back alone
    assert client.post("/journal/experiment/start", data={**plan, "csrf_token": token}).is_success
    r = client.post(
        "/journal/experiment/stop",
        data={"csrf_token": token, "confirm": "yes"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "<html" not in r.text
    assert "Your self-experiment is stopped" in r.text and "(stopped early)" in r.text


def test_a_control_character_in_a_path_is_quoted_on_one_line(client: TestClient) -> None:
    # what the validator quotes of the request ("found `\n` at 0") stays one line
    r = client.put("/api/journal/days/%0A2026-01-01", json={"twitches": 1})
    assert r.status_code == 422
    body = r.json()
    assert "\n" not in body["error"] and all("\n" not in e["message"] for e in body["errors"])


def test_a_quoted_newline_in_a_validation_message_is_escaped() -> None:
    # found by the hosted API's property test: a token id of "\n" was quoted raw
    from fastapi.exceptions import RequestValidationError

    from twitchwise.web.errors import classify

    exc = RequestValidationError(
        [
            {
                "type": "uuid_parsing",
                "loc": ("path", "token_id"),
                "msg": "Input should be a valid UUID, invalid character: found `\n` at 0",
                "input": "\n",
            }
        ]
    )
    status, message, errors = classify(None, exc)  # type: ignore[arg-type]
    assert status == 422
    assert message == "token_id: input should be a valid UUID, invalid character: found `\\n` at 0"
    assert errors == [{"field": "token_id", "message": message.split(": ", 1)[1]}]
