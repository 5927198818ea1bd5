"""The web app in a real browser: Playwright drives Debian's Chromium (headless) against
``uvicorn`` on a free localhost port. Every page must log no console error and request
nothing off this machine.

Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing
(``.ci/run`` installs Chromium; never ``playwright install``). Set TWITCHWISE_SCREENSHOTS to a
folder to keep screenshots of the home page with an answer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium import Watched, free_port, launched, serving

pytest.importorskip("uvicorn", reason="the web extra is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn`` serving ``create_app()`` on a free port, with its own empty journal."""
    port = free_port()
    home = tmp_path_factory.mktemp("browser-home")
    env = {**os.environ, "TWITCHWISE_HOME": str(home)}
    env.pop("TWITCHWISE_DATABASE_URL", None)
    code = (
        "import uvicorn; from twitchwise.web.app import create_app; "
        f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')"
    )
    base = f"http://127.0.0.1:{port}"
    yield from serving([sys.executable, "-c", code], env, base, "/api/causes", "the web server")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    w = Watched(browser, viewport={"width": 1100, "height": 900})
    yield w
    w.close()
    assert not w.problems, w.problems


def test_type_a_question_and_see_the_answer(server: str, watched: Watched) -> None:
    page = watched.page
    page.goto(server + "/")
    page.get_by_label("What is happening?").fill(
        "my arm keeps twitching and I have chest pain, no weakness"
    )
    page.get_by_role("button", name="Get my answer").click()
    banner = page.locator(".tw-banner-emergency")
    banner.wait_for()
    assert "EMERGENCY" in banner.inner_text()
    summary = page.locator("#answer .tw-summary").inner_text()
    assert summary.startswith("Call emergency services now")
    assert page.url == server + "/", "htmx swapped the answer in; no page load"
    assert page.evaluate("document.activeElement.id") == "answer-result"
    folder = os.environ.get("TWITCHWISE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / "home-answer.png"), full_page=True)


def test_ask_works_without_javascript(server: str, browser: Any) -> None:
    w = Watched(browser, java_script_enabled=False)
    try:
        page = w.page
        page.goto(server + "/")
        page.get_by_label("What is happening?").fill("my eyelid has twitched for 3 days")
        page.get_by_role("button", name="Get my answer").click()
        page.wait_for_url(server + "/ask#answer")
        assert "Likely causes" in page.locator("#answer").inner_text()
    finally:
        w.close()
    assert not w.problems, w.problems


def test_phone_layout_has_no_sideways_scroll(server: str, browser: Any) -> None:
    w = Watched(browser, viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        for path in ("/", "/check", "/journal", "/guides/knee", "/docs"):
            w.page.goto(server + path)
            overflow = w.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways on a phone by {overflow}px"
    finally:
        w.close()
    assert not w.problems, w.problems


def test_do_an_interview(server: str, watched: Watched) -> None:
    page = watched.page
    page.goto(server + "/check")
    page.get_by_label("What do you notice?").fill("my calf keeps twitching")
    page.get_by_role("button", name="Start the questions").click()
    for number in range(1, 41):
        if page.locator("#interview-result").count():
            break
        legend = page.locator("form.question legend")
        legend.wait_for()
        page.wait_for_function(
            "n => document.querySelector('#q-progress').textContent.includes('Question ' + n)",
            arg=number,
        )
        if page.get_by_role("button", name="No", exact=True).count():
            page.get_by_role("button", name="No", exact=True).click()
        elif page.get_by_role("button", name="Continue").count():
            page.get_by_role("button", name="Continue").click()
        else:
            page.locator("form.question .choices button").first.click()
        page.wait_for_function(
            "n => !document.querySelector('#q-progress')"
            " || !document.querySelector('#q-progress').textContent.includes('Question ' + n)",
            arg=number,
        )
    result = page.locator("#interview-result")
    result.wait_for()
    assert "Likely causes" in result.inner_text()
    assert page.url == server + "/check"


def test_log_an_episode(server: str, watched: Watched) -> None:
    page = watched.page
    page.goto(server + "/journal")
    page.locator("label[for=side-left]").click()
    page.get_by_role("button", name="Calf", exact=True).click()
    status = page.locator("#journal-status")
    status.wait_for()
    assert "Logged: Calf, left side" in status.inner_text()
    assert "Calf (left)" in page.locator(".recent").inner_text()


@pytest.mark.parametrize(
    "path", ["/", "/check", "/guides", "/guides/after-workout", "/causes/dehydration", "/docs"]
)
def test_every_page_is_clean(server: str, watched: Watched, path: str) -> None:
    response = watched.page.goto(server + path)
    assert response is not None and response.status == 200
    watched.page.wait_for_load_state("networkidle")
    assert watched.page.evaluate("typeof htmx") == "object", "htmx loaded from /static"


def test_run_an_experiment_without_javascript(server: str, browser: Any) -> None:
    w = Watched(browser, java_script_enabled=False)
    try:
        page = w.page
        page.goto(server + "/journal")
        section = page.locator("#experiment")
        assert "No experiment yet." in section.inner_text()
        page.get_by_label("What to test").select_option("sleep")
        page.get_by_label("Weeks").fill("2")
        page.get_by_role("button", name="Start the experiment").click()
        page.wait_for_url(server + "/journal?done=started#experiment")
        assert "today is day 1 of 14" in section.inner_text()
        page.get_by_role("button", name="I followed today's plan").click()
        page.wait_for_url(server + "/journal?done=followed#experiment")
        assert (
            "Checked in for today: you kept to the plan."
            in page.locator("#journal-status").inner_text()
        )
        assert "kept to the plan on 1 of 1 day checked" in section.inner_text()
        # stopping early: the box must be ticked (the browser refuses the form without it)
        page.get_by_label("Why you stop").fill("a week of night shifts")
        page.get_by_role("button", name="Stop the experiment").click()
        assert page.url == server + "/journal?done=followed#experiment"
        page.get_by_label("Yes, stop it today").check()
        page.get_by_role("button", name="Stop the experiment").click()
        page.wait_for_url(server + "/journal?done=stopped#experiment")
        assert "Your self-experiment is stopped" in page.locator("#journal-status").inner_text()
        text = section.inner_text()
        assert "(stopped early)" in text and ": a week of night shifts." in text
        assert "Start the experiment" in text and "Stop the experiment" not in text
    finally:
        w.close()
    assert not w.problems, w.problems


def test_stop_an_experiment_with_htmx(server: str, watched: Watched) -> None:
    page = watched.page
    page.goto(server + "/journal")
    section = page.locator("#experiment")
    if page.get_by_role("button", name="Start the experiment").count():
        page.get_by_label("What to test").select_option("stretching")
        page.get_by_role("button", name="Start the experiment").click()
        page.get_by_role("button", name="Stop the experiment").wait_for()
    page.get_by_label("Yes, stop it today").check()
    page.get_by_role("button", name="Stop the experiment").click()
    section.get_by_text("(stopped early)").wait_for()
    assert "Your self-experiment is stopped" in page.locator("#journal-status").inner_text()
    assert page.url == server + "/journal", "htmx swapped the section in; no page load"
