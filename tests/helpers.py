"""Small helpers shared by several test modules."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from twitchwise.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the command line in-process: (exit status, stdout, stderr)."""
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def threaded_server(tmp_path: Path, **limits: Any) -> Iterator[int]:
    """A real uvicorn with serve's options (``limits`` are WebSettings fields), in a thread,
    on a free port, with a SQLite journal in ``tmp_path``; yields the port."""
    uvicorn = pytest.importorskip("uvicorn")
    from twitchwise.journal.settings import JournalSettings
    from twitchwise.web.app import create_app
    from twitchwise.web.server import uvicorn_options
    from twitchwise.web.settings import WebSettings

    path = tmp_path / "journal.sqlite"
    journal = JournalSettings(f"sqlite:///{path}", path)
    settings = WebSettings(port=free_port(), journal=journal, **limits)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **uvicorn_options(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield settings.port
    finally:
        server.should_exit = True
        thread.join(10)
