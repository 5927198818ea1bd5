"""What an operator sees (issue 15, workers): /healthz, /readyz, request ids with one JSON log
line per request, and Prometheus metrics at /metrics, all off in the local app by default."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("multipart", reason="the web extra is not installed")

from fastapi.testclient import TestClient

from twitchwise.journal.settings import JournalSettings
from twitchwise.web.app import create_app
from twitchwise.web.observe import ACCESS_LOG, JsonFormatter, logging_config, request_id
from twitchwise.web.server import uvicorn_options
from twitchwise.web.settings import WebSettings

BASE = "http://127.0.0.1"
DOCS = Path(__file__).resolve().parents[1] / "docs"
ERROR_KEYS = {"ok", "status", "error", "errors"}


def settings_for(tmp_path: Path, **kwargs: Any) -> WebSettings:
    path = tmp_path / "journal.sqlite"
    return WebSettings(journal=JournalSettings(f"sqlite:///{path}", path), **kwargs)


def client_for(settings: WebSettings) -> TestClient:
    return TestClient(create_app(settings), base_url=BASE)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return client_for(settings_for(tmp_path))


def assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS and body["ok"] is False and body["status"] == status
    assert body["error"] and "\n" not in body["error"]
    return body


# --------------------------------------------------------------------------- health


def test_healthz_answers_without_the_database(tmp_path: Path) -> None:
    c = client_for(settings_for(tmp_path))
    r = c.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert not (tmp_path / "journal.sqlite").exists(), "liveness must not open the journal"
    assert r.headers["cache-control"] == "no-store"


def test_readyz_is_ready_with_a_journal(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "knowledge_base": "loaded", "database": "answers"}


def test_readyz_is_503_when_the_sqlite_folder_cannot_exist(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    path = blocker / "missing" / "journal.sqlite"  # a folder inside a file: never made
    c = client_for(WebSettings(journal=JournalSettings(f"sqlite:///{path}", path)))
    body = assert_error(c.get("/readyz"), 503)
    assert body["error"] == "not ready: the database does not answer"
    assert str(tmp_path) not in json.dumps(body)
    assert c.get("/healthz").status_code == 200, "alive while not ready"


def test_readyz_is_503_when_the_database_url_does_not_connect() -> None:
    pytest.importorskip("psycopg", reason="the server extra is not installed")
    # port 1 on this computer: nothing listens there, so the connection is refused at once
    url = "postgresql+psycopg://twitchwise@127.0.0.1:1/twitchwise?connect_timeout=2"
    c = client_for(WebSettings(journal=JournalSettings(url, None)))
    body = assert_error(c.get("/readyz"), 503)
    assert body["error"] == "not ready: the database does not answer"
    assert "127.0.0.1" not in body["error"]


def test_readyz_is_503_when_the_knowledge_base_cannot_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twitchwise.app.core import Twitchwise
    from twitchwise.errors import KnowledgeError

    def broken(self: Twitchwise) -> None:
        raise KnowledgeError("a broken knowledge base")

    monkeypatch.setattr(Twitchwise, "check_knowledge", broken)
    body = assert_error(client_for(settings_for(tmp_path)).get("/readyz"), 503)
    assert body["error"] == "not ready: the knowledge base could not be loaded"


def test_the_probes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/readyz", "/metrics"} <= set(paths)
    assert "503" in paths["/readyz"]["get"]["responses"]


# --------------------------------------------------------------------------- request ids, logs


def test_the_local_app_adds_no_request_id_and_logs_no_requests(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=ACCESS_LOG):
        r = client.get("/api/causes", headers={"x-request-id": "abcdef123456"})
    assert r.status_code == 200
    assert "x-request-id" not in r.headers
    assert not [rec for rec in caplog.records if rec.name == ACCESS_LOG]


def test_a_sane_request_id_is_echoed(tmp_path: Path) -> None:
    c = client_for(settings_for(tmp_path, log_format="json"))
    rid = "3f2a9c1e-7b4d-4e8a-9f00-1234567890ab"
    assert c.get("/healthz", headers={"X-Request-ID": rid}).headers["x-request-id"] == rid


@pytest.mark.parametrize(
    "offered",
    [None, "", "short", "ann@example.org", "has space in it", "x" * 129, "id/with/slashes"],
)
def test_otherwise_a_request_id_is_made(tmp_path: Path, offered: str | None) -> None:
    c = client_for(settings_for(tmp_path, log_format="json"))
    headers = {} if offered is None else {"x-request-id": offered}
    first = c.get("/healthz", headers=headers).headers["x-request-id"]
    second = c.get("/healthz", headers=headers).headers["x-request-id"]
    assert first != offered and len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_one_json_line_per_request_without_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    c = client_for(settings_for(tmp_path, log_format="json"))
    c.get("/")  # the CSRF cookie
    caplog.clear()
    secret = "ann-secret-text"
    with caplog.at_level(logging.INFO, logger=ACCESS_LOG):
        r = c.post(
            f"/api/ask?email=ann@example.org&q={secret}",
            json={"text": f"my calf twitches {secret}", "age": 34},
            headers={"x-request-id": "req-000000001", "cookie": "session=tws_private"},
        )
        g = c.get(f"/api/guides/knee?token={secret}")
    assert r.status_code == 200 and g.status_code == 200
    records = [rec for rec in caplog.records if rec.name == ACCESS_LOG]
    assert len(records) == 2
    lines = [json.loads(rec.getMessage()) for rec in records]
    assert lines[0] == {
        "event": "request",
        "method": "POST",
        "route": "/api/ask",
        "status": 200,
        "duration_ms": lines[0]["duration_ms"],
        "request_id": "req-000000001",
    }
    assert isinstance(lines[0]["duration_ms"], float) and lines[0]["duration_ms"] >= 0
    assert lines[1]["route"] == "/api/guides/{topic}", "the template, not the path"
    assert lines[1]["request_id"] == g.headers["x-request-id"]
    logged = "\n".join(rec.getMessage() for rec in records)
    for private in (secret, "ann@example.org", "tws_private", "calf", "knee", "?"):
        assert private not in logged, private
    # the formatter writes the same fields as one JSON object per line
    formatted = JsonFormatter().format(records[0])
    assert "\n" not in formatted
    assert json.loads(formatted)["request_id"] == "req-000000001"


def test_errors_and_refusals_are_logged_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    c = client_for(settings_for(tmp_path, log_format="json"))
    with caplog.at_level(logging.INFO, logger=ACCESS_LOG):
        c.get("/no/such/page/ann@example.org")
        c.get("/healthz", headers={"host": "evil.example"})
        c.post("/api/ask", json={})
    lines = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == ACCESS_LOG]
    assert [(x["route"], x["status"]) for x in lines] == [
        ("unmatched", 404),
        ("unmatched", 400),
        ("/api/ask", 422),
    ]
    assert "ann@example.org" not in caplog.text and "evil" not in caplog.text


def test_probes_are_logged_at_debug_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    c = client_for(settings_for(tmp_path, log_format="json"))
    with caplog.at_level(logging.INFO, logger=ACCESS_LOG):
        c.get("/healthz")
        c.get("/readyz")
    assert not [rec for rec in caplog.records if rec.name == ACCESS_LOG]


def test_other_log_lines_carry_the_request_id() -> None:
    token = request_id.set("req-123456789")
    try:
        record = logging.LogRecord(
            "twitchwise.web", logging.WARNING, "", 0, "hello %s", ("x",), None
        )
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "hello x" and line["request_id"] == "req-123456789"
    assert line["level"] == "warning" and line["logger"] == "twitchwise.web"


def test_serve_gives_uvicorn_json_logging_only_when_asked(tmp_path: Path) -> None:
    assert "log_config" not in uvicorn_options(settings_for(tmp_path))
    options = uvicorn_options(settings_for(tmp_path, log_format="json"))
    assert options["log_config"] == logging_config("json")
    assert options["log_config"]["loggers"]["uvicorn.access"]["handlers"] == []


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from twitchwise.errors import ConfigError

    assert (WebSettings.from_env().log_format, WebSettings.from_env().metrics) == ("text", False)
    monkeypatch.setenv("TWITCHWISE_LOG_FORMAT", "JSON")
    monkeypatch.setenv("TWITCHWISE_METRICS", "1")
    settings = WebSettings.from_env()
    assert (settings.log_format, settings.metrics) == ("json", True)
    assert WebSettings.from_env(log_format="text", metrics=False).metrics is False
    monkeypatch.setenv("TWITCHWISE_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="TWITCHWISE_LOG_FORMAT must be text or json"):
        WebSettings.from_env()
    with pytest.raises(ConfigError, match="log_format must be text or json"):
        WebSettings(log_format="xml")


# --------------------------------------------------------------------------- metrics


def test_metrics_are_off_by_default(client: TestClient) -> None:
    body = assert_error(client.get("/metrics"), 404)
    assert "TWITCHWISE_METRICS=1" in body["error"]


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_template(tmp_path: Path) -> None:
    c = client_for(settings_for(tmp_path, metrics=True))
    assert "x-request-id" not in c.get("/healthz").headers, "ids come with json logs"
    for topic in ("knee", "eyelid", "no-such-topic"):
        c.get(f"/api/guides/{topic}?q=private")
    r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    total = "twitchwise_http_requests_total"
    route = "/api/guides/{topic}"
    assert _sample(text, total, method="GET", route=route, status="2xx") == 2
    assert _sample(text, total, method="GET", route=route, status="4xx") == 1
    assert _sample(text, total, method="GET", route="/healthz", status="2xx") == 1
    count = "twitchwise_http_request_duration_seconds_count"
    assert _sample(text, count, method="GET", route=route, status="2xx") == 2
    # the scrape itself is in progress while it is written
    assert _sample(text, "twitchwise_http_requests_in_progress", method="GET") == 1
    assert "knee" not in text and "private" not in text
    again = c.get("/metrics").text
    assert _sample(again, total, method="GET", route="/metrics", status="2xx") == 1


def test_metrics_and_json_logs_together(tmp_path: Path) -> None:
    c = client_for(settings_for(tmp_path, metrics=True, log_format="json"))
    r = c.get("/static/web.css")
    assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32
    text = c.get("/metrics").text
    total = "twitchwise_http_requests_total"
    assert _sample(text, total, method="GET", route="/static/{path}", status="2xx") == 1


def test_multiprocess_metrics_are_summed_from_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, /metrics reads the folder the workers write to."""
    from prometheus_client import values

    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue())
    c = client_for(settings_for(tmp_path, metrics=True))
    c.get("/healthz")
    assert list(folder.glob("*.db")), "the worker writes its values to the folder"
    text = c.get("/metrics").text
    total = "twitchwise_http_requests_total"
    assert _sample(text, total, method="GET", route="/healthz", status="2xx") == 1


def _gauge(text: str, name: str) -> float:
    """The value of a gauge without labels."""
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not in the metrics")


def _pool(text: str) -> dict[str, float]:
    return {
        name: _gauge(text, f"twitchwise_db_pool_{name}")
        for name in ("checked_out", "idle", "overflow", "limit")
    }


def test_metrics_show_the_database_pool(tmp_path: Path) -> None:
    """The pool's connections in use, idle and in overflow, and its limit, as the pool has
    them at the scrape and when each request ends."""
    from twitchwise.journal.settings import PoolSettings

    path = tmp_path / "journal.sqlite"
    pool = PoolSettings(size=1, max_overflow=2)
    settings = WebSettings(journal=JournalSettings(f"sqlite:///{path}", path, pool), metrics=True)
    c = client_for(settings)
    before = _pool(c.get("/metrics").text)
    assert before == {"checked_out": 0, "idle": 0, "overflow": 0, "limit": 0}, "not opened yet"
    assert c.get("/api/journal/days").status_code == 200  # opens the journal, gives it back
    assert _pool(c.get("/metrics").text) == {
        "checked_out": 0, "idle": 1, "overflow": 0, "limit": 3
    }  # fmt: skip
    engine = c.app.state.journal.engine  # type: ignore[attr-defined]
    with engine.connect(), engine.connect():  # two requests' worth: one beyond the size
        held = _pool(c.get("/metrics").text)
        assert held == {"checked_out": 2, "idle": 0, "overflow": 1, "limit": 3}
    # given back: the overflow one is closed, the other waits in the pool; the next request
    # that ends says so before any scrape
    c.get("/healthz")
    registry = c.app.state.metrics.registry  # type: ignore[attr-defined]
    assert registry.get_sample_value("twitchwise_db_pool_idle") == 1
    assert registry.get_sample_value("twitchwise_db_pool_overflow") == 0
    assert registry.get_sample_value("twitchwise_db_pool_checked_out") == 0


def test_the_pool_gauges_sum_the_live_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Multi-process mode: each worker writes its own pool gauges (``livesum``) and the
    scrape of any worker is their sum over the workers alive. The second worker here is this
    process under another live process's id (its parent's)."""
    import os

    from prometheus_client import values

    from twitchwise.journal.settings import PoolSettings

    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    clients = []
    for name, pid, pool in (
        ("one", os.getpid(), PoolSettings(size=4, max_overflow=6)),
        ("two", os.getppid(), PoolSettings(size=2, max_overflow=0)),
    ):
        monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(lambda p=pid: p))
        path = tmp_path / f"{name}.sqlite"
        journal = JournalSettings(f"sqlite:///{path}", path, pool)
        c = client_for(WebSettings(journal=journal, metrics=True))
        assert c.get("/api/journal/days").status_code == 200
        clients.append(c)
    files = {p.name for p in folder.glob("gauge_livesum_*.db")}
    assert files == {f"gauge_livesum_{os.getpid()}.db", f"gauge_livesum_{os.getppid()}.db"}
    summed = _pool(clients[0].get("/metrics").text)
    assert summed == {"checked_out": 0, "idle": 2, "overflow": 0, "limit": 12}
    # a worker that is gone no longer counts: its pool went with it
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getppid(), str(folder))  # type: ignore[no-untyped-call]
    alone = _pool(clients[0].get("/metrics").text)
    assert alone == {"checked_out": 0, "idle": 1, "overflow": 0, "limit": 10}


# --------------------------------------------------------------------------- docs


def test_the_docs_say_so() -> None:
    hosted = (DOCS / "hosted.md").read_text(encoding="utf-8")
    web = (DOCS / "web.md").read_text(encoding="utf-8")
    for word in ("/healthz", "/readyz", "/metrics", "PROMETHEUS_MULTIPROC_DIR", "X-Request-ID"):
        assert word in hosted, word
    for word in ("/healthz", "/readyz", "/metrics", "TWITCHWISE_LOG_FORMAT", "TWITCHWISE_METRICS"):
        assert word in web, word


def test_serve_refuses_an_unknown_log_format(capsys: pytest.CaptureFixture[str]) -> None:
    from twitchwise.cli import main

    assert main(["serve", "--log-format", "xml"]) == 2
    assert "--log-format must be text or json, not 'xml'" in capsys.readouterr().err
