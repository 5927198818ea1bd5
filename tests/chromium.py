"""Real headless Chromium for the browser tests (tests/test_web_browser.py,
tests/test_web_browser_accounts.py, tests/test_site_browser.py): Debian's binary, the flags CI
needs, a launched browser, :class:`Watched` (a page that records console errors and requests
off this machine), and :func:`serving`, a server process for the pages under test.

Importing this module skips the importing test module when Chromium or playwright is missing;
a module's ``browser`` fixture is ``yield from launched()``.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from helpers import free_port as free_port  # re-exported for the page tests

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL = ("127.0.0.1", "localhost")

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="browser tests need the playwright package (pip install playwright)",
)


def serving(
    argv: Sequence[str], env: Mapping[str, str], base: str, ready: str, what: str
) -> Iterator[str]:
    """Start a server process (``argv``), wait until ``base + ready`` answers 200, yield
    ``base``, and stop the process afterwards: for a module's ``server`` fixture."""
    proc = subprocess.Popen(list(argv), env=dict(env), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + ready, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{what} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launched() -> Iterator[Any]:
    """A headless Chromium for a module's ``browser`` fixture (``yield from launched()``)."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page that records console errors and warnings, page errors and requests to any host
    but ``hosts`` (URLs of the schemes in ``schemes`` are local too). ``expected`` says which
    console messages a test expects (the 404 page's own status)."""

    def __init__(
        self,
        browser: Any,
        *,
        expected: Callable[[str], bool] = lambda text: False,
        hosts: tuple[str, ...] = LOCAL,
        schemes: tuple[str, ...] = ("data", "about"),
        **options: Any,
    ) -> None:
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self._expected = expected
        self._hosts = hosts
        self._schemes = schemes
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("request", self._request)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") and not self._expected(message.text):
            self.problems.append(f"console {message.type}: {message.text}")

    def _request(self, request: Any) -> None:
        url = urlsplit(request.url)
        if url.scheme not in self._schemes and url.hostname not in self._hosts:
            self.problems.append(f"request off this machine: {request.url}")

    def close(self) -> None:
        self.context.close()

    def close_clean(self) -> None:
        """Close, and fail the test if anything was recorded."""
        self.close()
        assert not self.problems, self.problems
