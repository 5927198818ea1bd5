"""``twitchwise serve --workers N``: the option's checks, the settings handed to the worker
processes through the environment, and a real server of two worker processes on PostgreSQL
(two pids answering, metrics summed over both, a killed worker replaced, graceful shutdown).
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the web extra is not installed")
pytest.importorskip("argon2", reason="the server extra is not installed")
pytest.importorskip("prometheus_client", reason="the server extra is not installed")

from helpers import free_port, threaded_server
from server_db import pg_problem, pg_schema, pg_url
from twitchwise.cli import main
from twitchwise.journal.settings import JournalSettings, PoolSettings, journal_settings
from twitchwise.web.settings import WebSettings

WORKER_VARIABLES = (
    "TWITCHWISE_HOST",
    "TWITCHWISE_PORT",
    "TWITCHWISE_ALLOWED_HOSTS",
    "TWITCHWISE_LOG_FORMAT",
    "TWITCHWISE_METRICS",
    "TWITCHWISE_ACCOUNTS",
    "TWITCHWISE_SIGNUP",
    "TWITCHWISE_TRUST_PROXY",
    "TWITCHWISE_MAX_UPLOAD_MB",
    "TWITCHWISE_MAX_IMPORTS",
    "TWITCHWISE_MAX_CONNECTIONS",
    "TWITCHWISE_KEEP_ALIVE",
    "TWITCHWISE_WORKERS",
    "TWITCHWISE_GRACEFUL_TIMEOUT",
    "TWITCHWISE_DATABASE_URL",
    "TWITCHWISE_DB_POOL_SIZE",
    "TWITCHWISE_DB_POOL_MAX_OVERFLOW",
    "TWITCHWISE_DB_POOL_TIMEOUT",
    "TWITCHWISE_DB_POOL_RECYCLE",
    "PROMETHEUS_MULTIPROC_DIR",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in WORKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- the option


@pytest.mark.parametrize("workers", ["0", "65", "-1"])
def test_workers_out_of_range(workers: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", workers]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert f"--workers must be from 1 to 64, not {workers}" in err


class _Recorded:
    """Stands in for ``uvicorn.run``: keeps what serve passed, and what a worker process
    would see of the environment while it ran."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []
        self.environment: dict[str, str] = {}
        self.worker_settings: WebSettings | None = None

    def __call__(self, app: Any, **options: Any) -> None:
        self.calls.append((app, options))
        self.environment = dict(os.environ)
        if options.get("factory"):
            from twitchwise.web.app import create_worker_app

            self.worker_settings = create_worker_app().state.settings


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> _Recorded:
    import uvicorn

    fake = _Recorded()
    monkeypatch.setattr(uvicorn, "run", fake)
    return fake


def test_several_workers_need_accounts(
    recorded: _Recorded, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local app is one person's, in one process: ``--workers 2`` without
    ``--accounts`` is one line and exit status 2, from the option or the environment."""
    port = str(free_port())
    assert main(["serve", "--workers", "2", "--port", port]) == 2
    out, err = capsys.readouterr()
    assert out == "" and recorded.calls == []
    assert err == (
        "error: --workers 2 needs --accounts: the local app is one person's and runs in one "
        "process (use --workers 1)\n"
    )
    monkeypatch.setenv("TWITCHWISE_WORKERS", "3")
    assert main(["serve", "--port", port]) == 2
    assert "--workers 3 needs --accounts" in capsys.readouterr().err
    assert main(["serve", "--workers", "1", "--port", port]) == 0  # the option wins
    [(app, options)] = recorded.calls
    assert not isinstance(app, str) and "workers" not in options
    monkeypatch.setenv("TWITCHWISE_WORKERS", "many")
    assert main(["serve", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TWITCHWISE_WORKERS must be a whole number from 1 to 64" in err


def test_several_workers_need_postgresql(
    recorded: _Recorded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'hosted.sqlite'}"
    argv = ["serve", "--accounts", "--database-url", url, "--workers", "2"]
    assert main([*argv, "--port", str(free_port())]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and recorded.calls == []
    assert "--workers 2 needs a PostgreSQL database (--database-url postgresql+psycopg://" in err


def test_graceful_timeout_is_a_setting(
    recorded: _Recorded, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert WebSettings().graceful_timeout_s == 20
    assert main(["serve", "--port", str(free_port())]) == 0
    assert recorded.calls[-1][1]["timeout_graceful_shutdown"] == 20
    monkeypatch.setenv("TWITCHWISE_GRACEFUL_TIMEOUT", "2.5")
    assert main(["serve", "--port", str(free_port())]) == 0
    assert recorded.calls[-1][1]["timeout_graceful_shutdown"] == 2.5
    monkeypatch.setenv("TWITCHWISE_GRACEFUL_TIMEOUT", "0")
    assert main(["serve", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "TWITCHWISE_GRACEFUL_TIMEOUT must be a number of seconds above 0" in err


def test_settings_travel_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a worker process builds from the variables is what the parent had."""
    settings = WebSettings(
        host="0.0.0.0",
        port=8123,
        allowed_hosts=("twitchwise.example.org", "10.0.0.5", "::1"),
        max_upload_bytes=3 * 1024 * 1024 + 17,
        max_connections=450,
        keep_alive_s=75,
        workers=3,
        graceful_timeout_s=7.5,
        log_format="json",
        metrics=True,
        accounts=True,
        signup="closed",
        trust_proxy=True,
        max_imports=5,
        journal=JournalSettings.from_url(
            "postgresql+psycopg://app@db/twitchwise",
            PoolSettings(size=12, max_overflow=3, timeout_s=4.5, recycle_s=1800),
        ),
    )
    variables = settings.environment()
    assert set(variables) <= set(WORKER_VARIABLES)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    again = WebSettings.from_env()
    assert again == replace(settings, journal=None)  # the journal: from the variables
    assert variables["TWITCHWISE_DATABASE_URL"] == "postgresql+psycopg://app@db/twitchwise"
    assert journal_settings() == settings.journal  # its pool too
    assert again.accepted_hosts == settings.accepted_hosts
    # and the defaults
    for name in variables:
        monkeypatch.delenv(name)
    plain = WebSettings()
    for name, value in plain.environment().items():
        monkeypatch.setenv(name, value)
    assert WebSettings.from_env() == plain


def test_the_protocol_reaches_worker_processes() -> None:
    """uvicorn pickles its configuration for each worker: the h11 protocol with the header
    timeout is a class of the module, handed over by name."""
    from twitchwise.web.server import HeaderTimeoutProtocol, http_protocol, uvicorn_options

    options = uvicorn_options(WebSettings(workers=2))
    assert options["http"] is HeaderTimeoutProtocol
    assert pickle.loads(pickle.dumps(options)) == options
    assert options["workers"] == 2 and options["factory"] is True
    assert http_protocol(0.5).header_timeout == 0.5  # one process: any timeout
    assert "workers" not in uvicorn_options(WebSettings())


def test_serve_hands_the_workers_their_settings(
    recorded: _Recorded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--workers 3`` on PostgreSQL: uvicorn's multi-process mode with the app factory; the
    workers' settings are the options, through the environment; with metrics, a private
    folder for prometheus-client, removed afterwards; the environment is restored."""
    from twitchwise.web.server import WORKER_APP, HeaderTimeoutProtocol

    with pg_schema() as schema:
        url = pg_url(schema)
        assert main(["db", "upgrade", "--database-url", url]) == 0
        port = free_port()
        argv = ["serve", "--accounts", "--database-url", url, "--workers", "3", "--metrics",
                "--trust-proxy", "--port", str(port),
                "--allowed-host", "tw.example.org"]  # fmt: skip
        before = dict(os.environ)
        assert main(argv) == 0
        assert dict(os.environ) == before
    out = capsys.readouterr().out
    assert "3 worker processes" in out
    [(app, options)] = recorded.calls
    assert app == WORKER_APP == "twitchwise.web.app:create_worker_app"
    assert options["workers"] == 3 and options["factory"] is True
    assert options["http"] is HeaderTimeoutProtocol
    assert options["port"] == port and options["timeout_graceful_shutdown"] == 20
    env = recorded.environment
    assert env["TWITCHWISE_DATABASE_URL"] == url and env["TWITCHWISE_ACCOUNTS"] == "1"
    folder = Path(env["PROMETHEUS_MULTIPROC_DIR"])
    assert not folder.exists(), "serve removes the folder it made"
    assert folder.name.startswith("twitchwise-metrics-")
    worker = recorded.worker_settings
    assert worker is not None
    assert worker.accounts and worker.metrics and worker.trust_proxy and worker.workers == 3
    assert worker.port == port and "tw.example.org" in worker.allowed_hosts


def test_a_multiproc_folder_given_is_kept(
    recorded: _Recorded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    with pg_schema() as schema:
        url = pg_url(schema)
        assert main(["db", "upgrade", "--database-url", url]) == 0
        argv = ["serve", "--accounts", "--database-url", url, "--workers", "2", "--metrics"]
        assert main([*argv, "--port", str(free_port())]) == 0
    assert recorded.environment["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
    assert folder.is_dir()


def test_dead_workers_stop_counting_in_progress(tmp_path: Path) -> None:
    from twitchwise.web.observe import forget_dead_workers

    dead = _dead_pid()
    for pid in (dead, os.getpid()):
        for kind in ("gauge_livesum", "counter", "histogram"):
            (tmp_path / f"{kind}_{pid}.db").write_bytes(b"")
    assert forget_dead_workers(str(tmp_path)) == [dead]
    names = {p.name for p in tmp_path.iterdir()}
    assert f"gauge_livesum_{dead}.db" not in names
    kept = {f"counter_{dead}.db", f"histogram_{dead}.db", f"gauge_livesum_{os.getpid()}.db"}
    assert kept <= names


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _response(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    got = b""
    while b"\r\n\r\n" not in got:
        got += conn.recv(65536)
    head, _, body = got.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += conn.recv(65536)
    return head


def test_keep_alive_longer_than_the_header_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy the keep-alive is made longer than the proxy's idle timeout
    (``TWITCHWISE_KEEP_ALIVE``): an idle connection between requests is the keep-alive's
    alone, and the header timeout counts from a request's first byte."""
    monkeypatch.setenv("TWITCHWISE_KEEP_ALIVE", "4")
    assert WebSettings.from_env().keep_alive_s == 4
    request = b"GET /api/causes HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
    with threaded_server(tmp_path, header_timeout_s=0.5, keep_alive_s=4) as port:
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(request)
            assert _response(conn).startswith(b"HTTP/1.1 200")
            time.sleep(1.5)  # three header timeouts, idle: still open
            conn.sendall(request)
            assert _response(conn).startswith(b"HTTP/1.1 200")
            conn.sendall(b"GET /api/causes HTTP/1.1\r\n")  # a request begun, never ended
            started = time.monotonic()
            conn.settimeout(5)
            assert conn.recv(100) == b""  # closed
            assert time.monotonic() - started < 2
        with socket.create_connection(("127.0.0.1", port)) as idle:
            idle.sendall(request)
            assert _response(idle).startswith(b"HTTP/1.1 200")
            started = time.monotonic()
            idle.settimeout(10)
            assert idle.recv(100) == b""  # the keep-alive ends it, not the header timeout
            assert 3 < time.monotonic() - started < 7


# --------------------------------------------------------------------------- a real server


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    port: int
    stderr: list[str]

    def workers(self) -> list[int]:
        """The worker processes: children of serve running uvicorn's spawned workers."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
            if ppid and int(ppid.group(1)) == self.proc.pid and b"spawn_main" in cmdline:
                found.append(int(entry.name))
        return sorted(found)


def _get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def _serving(tmp_path: Path, *extra: str, graceful: float = 4) -> Iterator[Served]:
    """``twitchwise serve --accounts --workers 2 --metrics`` on a fresh PostgreSQL schema."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to find the worker processes")
    with pg_schema() as schema:
        url = pg_url(schema)
        assert main(["db", "upgrade", "--database-url", url]) == 0
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in WORKER_VARIABLES}
        env["TWITCHWISE_HOME"] = str(tmp_path / "home")
        env["TWITCHWISE_GRACEFUL_TIMEOUT"] = str(graceful)
        argv = ["serve", "--accounts", "--database-url", url, "--workers", "2", "--metrics",
                "--log-format", "json", "--port", str(port), *extra]  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "twitchwise", *argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
        reader.start()
        served = Served(proc, f"http://127.0.0.1:{port}", port, lines)
        try:
            _wait_ready(served)
            yield served
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)
            reader.join(5)


def _wait_ready(served: Served) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert served.proc.poll() is None, "".join(served.stderr)
        try:
            if _get(served.base + "/readyz", timeout=2)[0] == 200 and len(served.workers()) == 2:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start: " + "".join(served.stderr))


def _metrics_folder(served: Served) -> Path:
    """The PROMETHEUS_MULTIPROC_DIR the workers were given (from their environment)."""
    [first, *_] = served.workers()
    environ = Path(f"/proc/{first}/environ").read_bytes().split(b"\0")
    [value] = [v for v in environ if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    return Path(value.split(b"=", 1)[1].decode())


def _pids_that_served(folder: Path) -> set[int]:
    return {int(p.stem.split("_")[-1]) for p in folder.glob("counter_*.db")}


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _hit(served: Served, n: int, path: str = "/healthz") -> list[int]:
    """``n`` requests, each on a new connection, eight at a time: statuses."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: _get(served.base + path)[0], range(n)))


@pytest.mark.slow
def test_two_workers_serve_sum_their_metrics_and_stop_gracefully(tmp_path: Path) -> None:
    if pg_problem() is not None:
        pytest.skip(pg_problem() or "")
    with _serving(tmp_path) as served:
        workers = served.workers()
        assert len(workers) == 2 and served.proc.pid not in workers
        folder = _metrics_folder(served)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        # both processes answer: each writes its own counters, under its own pid
        sent = 0
        while _pids_that_served(folder) != set(workers):
            assert sent < 2000, f"one worker answered everything: {_pids_that_served(folder)}"
            assert set(_hit(served, 40)) == {200}
            sent += 40
        # /metrics on either worker is the sum over both
        total = "twitchwise_http_requests_total"
        for _ in range(4):
            status, body = _get(served.base + "/metrics")
            assert status == 200
            text = body.decode()
            assert _sample(text, total, method="GET", route="/healthz", status="2xx") == sent
        # a worker killed: the other serves on, uvicorn starts another, and its live gauge
        # no longer counts
        os.kill(workers[0], signal.SIGKILL)
        assert set(_hit(served, 40)) == {200}
        deadline = time.monotonic() + 30
        while len(served.workers()) != 2 or workers[0] in served.workers():
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.2)
        text = _get(served.base + "/metrics")[1].decode()
        assert _sample(text, total, method="GET", route="/healthz", status="2xx") == sent + 40
        assert not (folder / f"gauge_livesum_{workers[0]}.db").exists()
        assert _sample(text, "twitchwise_http_requests_in_progress", method="GET") == 1

        # graceful shutdown: a request in flight when SIGTERM comes is answered; one that
        # never finishes is cut after the graceful timeout (4 s here); the process exits 0
        body = b'{"text": "my left calf has twitched for a week"}'
        head = (b"POST /api/ask HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json"
                b"\r\ncontent-length: %d\r\n\r\n" % len(body))  # fmt: skip
        finishing = socket.create_connection(("127.0.0.1", served.port))
        stuck = socket.create_connection(("127.0.0.1", served.port))
        finishing.sendall(head + body[:10])
        stuck.sendall(head + body[:10])
        time.sleep(0.5)
        stopped = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        time.sleep(1.5)  # the parent passes SIGTERM on (it looks twice a second)
        with pytest.raises(OSError):  # no new connection is taken
            _get(served.base + "/healthz", timeout=2)
        finishing.sendall(body[10:])
        finishing.settimeout(10)
        answer = b""
        while chunk := finishing.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]  # then closed (recv: b"")
        assert b'"triage"' in answer
        assert served.proc.wait(30) == 0
        took = time.monotonic() - stopped
        assert 3 < took < 4 + 8, took  # the stuck request held it up to the timeout, no more
        finishing.close()
        stuck.close()
        assert not folder.exists(), "serve removes its metrics folder"
        assert not served.workers()
    log = "".join(served.stderr)
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in log, log[-3000:]


@pytest.mark.slow
def test_sigint_stops_the_workers(tmp_path: Path) -> None:
    if pg_problem() is not None:
        pytest.skip(pg_problem() or "")
    with _serving(tmp_path, graceful=10) as served:
        workers = served.workers()
        folder = _metrics_folder(served)
        sent = 0
        while _pids_that_served(folder) != set(workers):  # each opens the database
            assert sent < 2000, f"one worker answered everything: {_pids_that_served(folder)}"
            assert set(_hit(served, 20, "/readyz")) == {200}
            sent += 20
        stopped = time.monotonic()
        served.proc.send_signal(signal.SIGINT)
        assert served.proc.wait(30) == 0
        assert time.monotonic() - stopped < 10  # nothing in flight: no wait for the timeout
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    log = "".join(served.stderr)
    assert log.count("the database's connection pool is disposed") == 2, log[-3000:]
    assert "Traceback" not in log
