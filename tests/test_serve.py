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
from twitchwise.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.mark.slow
def test_serve_answers_over_http(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    port = _free_port()
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
