"""The two faces, the command line and the web app, give the same result for each use case they
share: both call the application object (docs/architecture.md), so only the translation may
differ. Each test runs a use case through both on the same journal and compares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("multipart", reason="the web extra is not installed")

from fastapi.testclient import TestClient

from helpers import run
from twitchwise.web.app import create_app
from twitchwise.web.security import CSRF_COOKIE, CSRF_HEADER

TEXT = "my left calf has twitched for 3 weeks after runs, 4 coffees a day, no weakness"
DAILY_CSV = "date,caffeine_mg,sleep_h\n2026-03-01,300,5.5\n2026-03-02,100,8\n"


@pytest.fixture
def client(home: Path) -> TestClient:
    """The web app on the same journal as the command line (the environment's)."""
    return TestClient(create_app(), base_url="http://127.0.0.1")


def cli_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    code, out, err = run(argv, capsys)
    assert code == 0, err
    return json.loads(out)


def upload_headers(client: TestClient) -> dict[str, str]:
    client.get("/")
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    return {CSRF_HEADER: token}


def test_ask(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    web = client.post("/api/ask", json={"text": TEXT, "age": 34, "sex": "female"}).json()
    cli = cli_json(["ask", "--format", "json", "--age", "34", "--sex", "female", TEXT], capsys)
    assert web == cli


def test_assess(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    ids = ["twitching", "region_calf", "!weakness", "caffeine_high"]
    web = client.post("/api/assess", json={"findings": ids, "age": 70}).json()
    cli = cli_json(["assess", "--findings", ",".join(ids), "--age", "70", "-f", "json"], capsys)
    assert web == cli


@pytest.mark.parametrize(("path", "argv"), [
    ("/api/findings", ["findings", "-f", "json"]),
    ("/api/causes", ["causes", "-f", "json"]),
    ("/api/guides", ["guide", "--list", "-f", "json"]),
    ("/api/guides/knee", ["guide", "knee", "-f", "json"]),
    ("/api/guides/after-workout", ["guide", "after_workout", "-f", "json"]),
])  # fmt: skip
def test_listings_and_guides(
    client: TestClient, capsys: pytest.CaptureFixture[str], path: str, argv: list[str]
) -> None:
    assert client.get(path).json() == cli_json(argv, capsys)


def test_the_same_input_error_in_the_same_words(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The library words the refusal once; each face only frames it."""
    body = client.post("/api/assess", json={"findings": ["twitching", "wobbliness"]}).json()
    code, _, err = run(["assess", "--findings", "twitching,wobbliness"], capsys)
    assert code == 2 and body["status"] == 422
    assert err.strip() == f"error: {body['error']}"
    assert body["errors"] == [{"field": "findings[1]", "message": "unknown finding 'wobbliness'"}]


def test_interview_result(client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path):
    """`check --answers` with nothing known and the API answering "not sure" to every question
    ask the same questions and stop at the same answer."""
    path = tmp_path / "answers.json"
    path.write_text("{}", encoding="utf-8")
    text = "my arm twitches, 5 coffees a day"
    cli = cli_json(["check", "--answers", str(path), "-f", "json", text], capsys)
    step = client.post("/api/interview/start", json={"text": text}).json()
    while step["question"] is not None:
        step = client.post(
            "/api/interview/answer",
            json={"state": step["state"], "question": step["question"]["id"], "reply": None},
        ).json()
        assert "error" not in step, step
    web = client.post("/api/interview/result", json={"state": step["state"]}).json()
    assert web == cli


def test_logging_and_export(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    at = "2026-03-01T07:30:00+00:00"
    assert run(["log", "twitch", "--region", "calf", "--side", "left", "--at", at], capsys)[0] == 0
    web = client.post(
        "/api/journal/episodes", json={"region": "calf", "side": "left", "at": at}
    )
    assert web.status_code == 201, web.text
    episodes = cli_json(["export", "--format", "json"], capsys)["episodes"]
    assert len(episodes) == 2
    first, second = ({k: v for k, v in e.items() if k not in ("id", "uid")} for e in episodes)
    assert first == second  # the same episode, whichever face logged it
    assert client.get("/api/journal/episodes").json()[0]["region"] == "region_calf"
    cli_csv = run(["export", "--format", "csv"], capsys)[1]
    assert client.get("/api/journal/export?format=csv").text == cli_csv


def test_set_day(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["log", "day", "--date", "2026-03-01", "--caffeine-mg", "300"], capsys)[0] == 0
    web = client.put("/api/journal/days/2026-03-01", json={"sleep_h": 6.5})
    assert web.status_code == 200, web.text
    assert web.json() == {"date": "2026-03-01", "caffeine_mg": 300.0, "sleep_h": 6.5}
    days = cli_json(["export", "--format", "json"], capsys)["days"]
    assert [(d["date"], d["caffeine_mg"], d["sleep_h"]) for d in days] == [
        ("2026-03-01", 300.0, 6.5)
    ]


def test_import_twice_adds_nothing_either_way(
    client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "daily.csv"
    path.write_text(DAILY_CSV, encoding="utf-8")
    code, out, _ = run(["import", str(path), str(path)], capsys)  # the same file twice
    assert code == 0
    assert len(out.strip().splitlines()) == 2
    assert "already imported" in out.strip().splitlines()[1]
    r = client.post(
        "/api/journal/import",
        files={"file": ("daily.csv", DAILY_CSV.encode(), "text/csv")},
        headers=upload_headers(client),
    )
    assert r.status_code == 200, r.text
    (summary,) = r.json()["imported"]
    assert summary["already_imported"] is not None
    assert summary["message"] == out.strip().splitlines()[1]


def test_a_download_bigger_than_the_spool_streams_from_a_private_file(
    client: TestClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Web downloads are written out while the journal is read and sent from a temporary file
    past SPOOL_BYTES (memory stays bounded), byte for byte what the command line writes."""
    from twitchwise.web import service

    monkeypatch.setattr(service, "SPOOL_BYTES", 64)
    for minute in range(40):
        at = f"2026-03-01T07:{minute:02d}:00+00:00"
        assert run(["log", "twitch", "--region", "calf", "--at", at], capsys)[0] == 0
    for fmt in ("json", "csv"):
        cli = run(["export", "--format", fmt], capsys)[1]
        assert len(cli) > 64
        web = client.get(f"/api/journal/export?format={fmt}")
        assert web.status_code == 200
        assert web.text == cli
        assert web.headers["content-disposition"] == (
            f'attachment; filename="twitchwise-journal.{fmt}"'
        )
