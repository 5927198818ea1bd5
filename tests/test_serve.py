"""``twitchwise serve``: its one-line errors, and a real server answering over HTTP."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import twitchwise
from helpers import free_port, threaded_server
from twitchwise.cli import main


def test_serve_without_the_web_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "fastapi" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert main(["serve"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "pip install 'twitchwise[web]'" in err


@pytest.mark.parametrize("port", ["0", "70000"])
def test_serve_refuses_a_bad_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("uvicorn")
    assert main(["serve", "--port", port]) == 2
    assert "--port must be from 1 to 65535" in capsys.readouterr().err


def test_serve_says_when_the_port_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


class _Recorded:
    """Stands in for ``uvicorn.run``: keeps what serve passed instead of serving."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, app: Any, **options: Any) -> None:
        self.calls.append((app, options))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> _Recorded:
    uvicorn = pytest.importorskip("uvicorn")
    fake = _Recorded()
    monkeypatch.setattr(uvicorn, "run", fake)
    monkeypatch.delenv("TWITCHWISE_ALLOWED_HOSTS", raising=False)
    return fake


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_serve_refuses_a_network_bind_without_allowed_hosts(
    host: str, recorded: _Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11, item 6: ``--host 0.0.0.0`` used to start with the Host check off."""
    assert main(["serve", "--host", host, "--port", str(free_port())]) == 2
    out, err = capsys.readouterr()
    assert recorded.calls == []
    assert out == "" and err.count("\n") == 1
    assert f"listening on {host} needs" in err and "--allowed-host NAME" in err
    assert "TWITCHWISE_ALLOWED_HOSTS" in err


def test_serve_on_the_network_keeps_the_host_check(
    recorded: _Recorded, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setenv("TWITCHWISE_ALLOWED_HOSTS", "nas.local, 10.0.0.5")
    argv = ["serve", "--host", "0.0.0.0", "--allowed-host", "Pi.local"]
    assert main([*argv, "--port", str(free_port())]) == 0
    _, err = capsys.readouterr()
    assert "warning: listening on 0.0.0.0" in err and "pi.local, nas.local, 10.0.0.5" in err
    [(app, _)] = recorded.calls
    client = TestClient(app, base_url="http://pi.local:8000")
    assert client.get("/api/causes").status_code == 200
    for host in ("nas.local", "10.0.0.5:8000", "localhost:8000"):
        assert client.get("/api/causes", headers={"host": host}).status_code == 200
    for host in ("evil.example", "0.0.0.0:8000", "testserver"):
        assert client.get("/api/causes", headers={"host": host}).status_code == 400
    assert main([*argv, "--allowed-host", "*"]) == 2
    assert "'*' is not a host name" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_answers_over_http(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    port = free_port()
    env = {**os.environ, "TWITCHWISE_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "twitchwise", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=1) as r:
                    page = r.read().decode()
                    assert r.headers["content-type"].startswith("text/html")
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert "<h1>Why is my muscle twitching?</h1>" in page
        text = "calf twitching for 3 weeks, no weakness"
        request = urllib.request.Request(
            base + "/api/ask",
            data=json.dumps({"text": text}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert json.loads(r.read()) == twitchwise.ask(text).to_dict()
        with urllib.request.urlopen(base + "/openapi.json", timeout=10) as r:
            assert "/api/ask" in json.loads(r.read())["paths"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"twitchwise is running at {base}/" in out


# --------------------------------------------------------------------------- slow clients


def _closed_within(conn: socket.socket, seconds: float) -> bytes:
    """Everything the server sends until it closes (fails past ``seconds``)."""
    conn.settimeout(seconds)
    got = b""
    while chunk := conn.recv(65536):
        got += chunk
    return got


def test_serve_passes_its_connection_limits(recorded: _Recorded) -> None:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    assert main(["serve", "--port", str(free_port())]) == 0
    [(_, options)] = recorded.calls
    assert options["timeout_keep_alive"] == 5 and options["limit_concurrency"] == 100
    assert issubclass(options["http"], H11Protocol)
    assert options["server_header"] is False and options["proxy_headers"] is False


def test_slow_and_idle_connections_are_closed(tmp_path: Path) -> None:
    """Issue 11, item 9: a silent connection, headers a byte at a time and a trickled body
    used to be kept open as long as the client liked."""
    limits = {"header_timeout_s": 0.5, "body_timeout_s": 0.5, "keep_alive_s": 1}
    with threaded_server(tmp_path, **limits) as port:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port)) as silent:
            assert _closed_within(silent, 5) == b""
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET /api/causes HTTP/1.1\r\nhost: 127.0.0.1\r\n")
            assert _closed_within(slow, 5) == b""
        with socket.create_connection(("127.0.0.1", port)) as trickle:
            trickle.sendall(
                b"POST /api/ask HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{"
            )
            answer = _closed_within(trickle, 5)
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert b"did not arrive within 0.5 seconds" in answer
        assert time.monotonic() - started < 8
        with socket.create_connection(("127.0.0.1", port)) as ok:
            ok.sendall(b"GET /api/causes HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            ok.settimeout(5)
            assert ok.recv(12) == b"HTTP/1.1 200"
            assert _closed_within(ok, 5)  # the rest, then keep-alive ends it


def test_connections_past_the_limit_get_503(tmp_path: Path) -> None:
    with threaded_server(tmp_path, max_connections=3, header_timeout_s=5) as port:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        try:
            time.sleep(0.2)
            with socket.create_connection(("127.0.0.1", port)) as extra:
                extra.sendall(b"GET /api/causes HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
                extra.settimeout(5)
                assert extra.recv(12) == b"HTTP/1.1 503"
        finally:
            for conn in idle:
                conn.close()


# --------------------------------------------------------------------------- accounts


def test_serve_with_accounts(
    recorded: _Recorded,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``--accounts --database-url``: the same app with accounts, once the database is
    upgraded; before that, one line and exit status 2."""
    pytest.importorskip("argon2", reason="the server extra is not installed")
    from fastapi.testclient import TestClient

    monkeypatch.delenv("TWITCHWISE_ACCOUNTS", raising=False)
    url = f"sqlite:///{tmp_path / 'hosted.sqlite'}"
    argv = ["serve", "--accounts", "--database-url", url, "--port", str(free_port())]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and recorded.calls == []
    assert err == (
        f"error: {tmp_path / 'hosted.sqlite'}: the database's accounts schema is at none, "
        "not a0006: run 'twitchwise db upgrade' first\n"
    )
    assert main(["db", "upgrade", "--database-url", url]) == 0
    capsys.readouterr()
    assert main([*argv, "--trust-proxy"]) == 0
    out, _ = capsys.readouterr()
    assert "Accounts are on: sign up at /signup" in out
    assert "Nothing you type leaves this computer" not in out
    [(app, options)] = recorded.calls
    assert app.state.settings.accounts and app.state.settings.trust_proxy
    assert app.state.settings.journal.url == url
    assert options["proxy_headers"] is False  # the app reads the proxy's headers itself
    client = TestClient(app, base_url="http://127.0.0.1")
    assert client.get("/login").status_code == 200
    assert client.get("/api/journal/days").status_code == 401
    monkeypatch.setenv("TWITCHWISE_ACCOUNTS", "1")
    monkeypatch.setenv("TWITCHWISE_DATABASE_URL", url)
    assert main(["serve", "--port", str(free_port())]) == 0
    assert recorded.calls[-1][0].state.settings.accounts
    assert main(["serve", "--no-accounts", "--port", str(free_port())]) == 0
    assert not recorded.calls[-1][0].state.settings.accounts
    # sign-up closed: by the option or the variable, and serve says how accounts are made
    capsys.readouterr()
    assert main(["serve", "--signup", "CLOSED", "--port", str(free_port())]) == 0
    out, _ = capsys.readouterr()
    assert "sign-up is closed: make them with 'twitchwise admin create-user'" in out
    app = recorded.calls[-1][0]
    assert app.state.settings.signup == "closed"
    assert TestClient(app, base_url="http://127.0.0.1").get("/signup").status_code == 403
    monkeypatch.setenv("TWITCHWISE_SIGNUP", "closed")
    assert main(["serve", "--port", str(free_port())]) == 0
    assert recorded.calls[-1][0].state.settings.signup == "closed"
    assert main(["serve", "--signup", "open", "--port", str(free_port())]) == 0
    assert recorded.calls[-1][0].state.settings.signup == "open"
    # sign-up by invitation: serve says how codes are made
    capsys.readouterr()
    assert main(["serve", "--signup", "Invite", "--port", str(free_port())]) == 0
    out, _ = capsys.readouterr()
    assert (
        "Accounts are on and sign-up needs an invitation: make codes with 'twitchwise admin "
        "invite'; each person sees only their own journal." in out
    )
    assert recorded.calls[-1][0].state.settings.signup == "invite"
