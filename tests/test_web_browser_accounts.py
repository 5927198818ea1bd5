"""The hosted service in a real browser: ``twitchwise serve --accounts`` (after ``twitchwise db
upgrade``) in a subprocess, driven by Debian's headless Chromium through Playwright. One
person signs up, logs a day and a twitch, and logs out; another signs up and sees an empty
journal. No page logs a console error or asks for anything off this machine.

Skipped, with the reason, when /usr/bin/chromium, playwright or the server extra is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from chromium import Watched, free_port, launched, serving

pytest.importorskip("uvicorn", reason="the web extra is not installed")
pytest.importorskip("argon2", reason="the server extra is not installed")

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``twitchwise serve --accounts`` on a free port, on a database just upgraded."""
    home = tmp_path_factory.mktemp("hosted-home")
    url = f"sqlite:///{home / 'hosted.sqlite'}"
    env = {**os.environ, "TWITCHWISE_HOME": str(home)}
    for name in ("TWITCHWISE_DATABASE_URL", "TWITCHWISE_ACCOUNTS", "TWITCHWISE_TRUST_PROXY"):
        env.pop(name, None)
    command = [sys.executable, "-m", "twitchwise"]
    subprocess.run([*command, "db", "upgrade", "--database-url", url], env=env, check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    argv = [*command, "serve", "--accounts", "--database-url", url, "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    yield from serving(argv, env, base, "/healthz", "the hosted server")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched()


def _sign_up(page: Any, server: str, email: str) -> None:
    page.goto(server + "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=False).first.fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    consent = page.get_by_label("Yes, keep my journal for me")
    assert not consent.is_checked()  # off until the person ticks it
    consent.check()
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(server + "/account?done=welcome")
    assert f"Signed in as {email}" in page.locator("main").inner_text()


def test_sign_up_log_a_day_log_out_and_another_person_sees_nothing(
    server: str, browser: Any
) -> None:
    ann = Watched(browser, viewport={"width": 1100, "height": 900})
    try:
        page = ann.page
        _sign_up(page, server, "ann@example.org")
        page.get_by_role("link", name="Journal").click()
        page.wait_for_url(server + "/journal")
        page.locator("#f-caffeine_mg").fill("300")
        page.locator("#f-sleep_h").fill("5.5")
        page.get_by_role("button", name="Save the day").click()
        status = page.locator("#journal-status")
        status.wait_for()
        assert "Saved for" in status.inner_text() and "300" in status.inner_text()
        page.get_by_role("button", name="Calf").click()
        page.get_by_text("Logged: Calf").wait_for()
        exported = json.loads(page.request.get(server + "/api/journal/export").text())
        assert [d["caffeine_mg"] for d in exported["days"]] == [300]
        assert len(exported["episodes"]) == 1
        page.goto(server + "/account")
        page.get_by_role("button", name="Log out", exact=True).click()
        page.wait_for_url(server + "/login?done=out")
        assert "You are logged out." in page.locator("main").inner_text()
        page.goto(server + "/journal")
        assert page.url == server + "/login?next=/journal"  # signed out: to the login
    finally:
        ann.close()
    assert not ann.problems, ann.problems

    bob = Watched(browser, viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        page = bob.page
        _sign_up(page, server, "bob@example.org")
        page.goto(server + "/journal")
        text = page.locator("#insights").inner_text()
        assert "0 twitches logged, factors for 0 days" in text
        assert "Latest twitches" not in page.locator("main").inner_text()
        exported = json.loads(page.request.get(server + "/api/journal/export").text())
        assert exported["days"] == [] and exported["episodes"] == []
        assert page.request.get(server + "/api/account").json()["email"] == "bob@example.org"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, "no sideways scrolling on a phone"
        page.goto(server + "/account")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        bob.close()
    assert not bob.problems, bob.problems
