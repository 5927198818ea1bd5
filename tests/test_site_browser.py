"""The static site in a real browser: Playwright drives Debian's Chromium (headless) against the
built site served by Python's own static file server on a free localhost port, as any static
host would serve it (no application code: the site search runs in the browser).

The site is built with ``--base-url`` set to that address, so its canonical links, ``og:url``
and the 404 page's ``<base>`` point at pages that really exist, and with search (Pagefind).

- axe-core (from the ``axe-playwright-python`` wheel, never a CDN) finds no serious or critical
  violation on any type of page;
- every link of every page, as the browser resolves it, reaches a page that exists, and every
  ``#fragment`` an element of it;
- no page scrolls sideways at 390 px (a phone) or 1280 px (a laptop), each checked on a
  screenshot's layout (``scrollWidth <= innerWidth``); the table of contents is beside the text
  at 1280 px and not shown at 390 px;
- search: type a word, get the guide for it; the checklist without JavaScript; the 404 page.

Skipped, with the reason, when /usr/bin/chromium, playwright, axe-playwright-python or the
Pagefind binary is missing (``.ci/run`` installs Chromium and the dev extra the rest). Set
TWITCHWISE_SCREENSHOTS to a folder to keep the screenshots.
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest

from chromium import Watched, launched
from twitchwise.guides.site import build_site, pagefind_binary
from twitchwise.knowledge.load import KnowledgeBase

WIDTHS = (390, 1280)
#: One page of each type the site has.
PAGE_TYPES = {
    "home": "",
    "guide": "guides/knee.html",
    "guide (situation)": "guides/after-workout.html",
    "cause": "causes/motor_neuron_disease.html",
    "anatomy": "anatomy.html",
    "self-care": "self-care.html",
    "medicines": "medicines.html",
    "myths": "myths/knee.html",
    "sources": "sources.html",
    "checklist": "checker.html",
    "check result": "check/emergency.html",
    "check result (self-care)": "check/self-care.html",
    "search": "search.html?q=eyelid",
    "not found": "no/such/page.html",
}

axe_sync = pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="the accessibility test needs axe-playwright-python (the dev extra)",
)
if pagefind_binary() is None:
    pytest.skip(
        "the site search needs Pagefind (pip install 'twitchwise[search]')",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow


class _Handler(http.server.SimpleHTTPRequestHandler):
    """A static file server that answers a missing page with the site's 404.html, as static
    hosts do, and keeps quiet."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Iterator[str]:
    """The site, built for and served at ``http://127.0.0.1:PORT/``: its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    root = tmp_path_factory.mktemp("site-browser")
    report = build_site(root, base_url=base, kb=kb)
    assert report.search, report.notes
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _watch(browser: Any, **options: Any) -> Watched:
    """A watched page of the site: only 127.0.0.1 and file: URLs, and the 404 page's own
    status is the one expected console error."""
    return Watched(
        browser,
        expected=lambda text: "404" in text,
        hosts=("127.0.0.1",),
        schemes=("data", "about", "file"),
        **options,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    w = _watch(browser, viewport={"width": 1280, "height": 900})
    yield w
    w.close_clean()


def _open(page: Any, url: str) -> None:
    page.goto(url)
    if "search.html?q=" in url:
        page.locator("#search-results li").first.wait_for()


# --------------------------------------------------------------------------- accessibility


def test_axe_finds_no_serious_or_critical_violation(served: str, watched: Watched) -> None:
    axe = axe_sync.Axe()
    found = []
    for kind, rel in PAGE_TYPES.items():
        _open(watched.page, served + rel)
        results = axe.run(watched.page)
        for v in results.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                nodes = [n["target"] for n in v["nodes"][:3]]
                found.append(f"{kind} ({rel}): {v['id']} ({v['impact']}): {v['help']} {nodes}")
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------- links


def test_every_link_of_every_page_resolves(served: str, watched: Watched) -> None:
    """Crawl the site from the home page as the browser resolves each link (relative links,
    the 404 page's <base>); each same-site link must reach a page, each fragment an id."""
    page = watched.page
    ids: dict[str, set[str]] = {}
    links: dict[str, list[str]] = {}
    queue = [served, served + "no/such/page.html"]
    while queue:
        url = queue.pop()
        if url in ids:
            continue
        response = page.goto(url)
        assert response is not None
        if url.endswith("no/such/page.html"):
            assert response.status == 404
        else:
            assert response.status == 200, url
        ids[url] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        found = page.eval_on_selector_all(
            "a[href], link[href]", "els => els.map(e => e.href).filter(h => h)"
        )
        links[url] = found
        for href in found:
            target, _ = urldefrag(href)
            if target.startswith(served) and target not in ids and target.endswith(("/", ".html")):
                queue.append(target)
    broken = []
    for url, hrefs in links.items():
        for href in hrefs:
            target, fragment = urldefrag(href)
            if not target.startswith(served) or not target.endswith(("/", ".html")):
                continue
            if target not in ids:
                broken.append(f"{url}: {href}")
            elif fragment and fragment not in ids[target]:
                broken.append(f"{url}: {href} (no such id)")
    assert not broken, "\n".join(broken)
    assert len(ids) > 60  # every guide, cause and page was reached


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(served: str, browser: Any, width: int, tmp_path: Path) -> None:
    folder = Path(os.environ.get("TWITCHWISE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    w = _watch(browser, viewport={"width": width, "height": 900}, is_mobile=width < 600)
    overflowing = []
    try:
        for kind, rel in PAGE_TYPES.items():
            _open(w.page, served + rel)
            name = kind.replace(" ", "-").replace("(", "").replace(")", "")
            w.page.screenshot(path=str(folder / f"site-{name}-{width}.png"))
            scroll, inner = w.page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll > inner:
                overflowing.append(f"{kind} ({rel}): scrollWidth {scroll} > innerWidth {inner}")
        _open(w.page, served + "guides/knee.html")
        display = w.page.evaluate("getComputedStyle(document.querySelector('.site-toc')).display")
        assert (display != "none") == (width >= 1024), f"table of contents at {width}px: {display}"
        if width >= 1024:
            box = w.page.locator(".site-toc").bounding_box()
            text = w.page.locator(".page-content").bounding_box()
            assert box and text and box["x"] >= text["x"] + text["width"], "the toc is beside"
            w.page.evaluate("window.scrollTo(0, 3000)")
            top = w.page.evaluate("document.querySelector('.site-toc').getBoundingClientRect().top")
            assert 0 <= top < 100, f"the toc stays in view when the page scrolls: top {top}"
    finally:
        w.close_clean()
    assert not overflowing, "\n".join(overflowing)


# --------------------------------------------------------------------------- search


def test_type_a_query_and_find_the_guide(served: str, watched: Watched) -> None:
    page = watched.page
    page.goto(served + "search.html")
    page.get_by_label("Search the guides and causes").fill("eyelid")
    first = page.locator("#search-results li a").first
    first.wait_for()
    assert first.inner_text() == "Why is my eyelid twitching?"
    assert "found" in page.locator("#search-status").inner_text()
    first.click()
    page.wait_for_url(served + "guides/eyelid.html")


def test_search_by_the_address_and_with_no_match(served: str, watched: Watched) -> None:
    page = watched.page
    page.goto(served + "search.html?q=caffeine")
    page.locator("#search-results li").first.wait_for()
    titles = page.locator("#search-results li a").all_inner_texts()
    assert any("caffeine" in t.lower() for t in titles), titles
    page.get_by_label("Search the guides and causes").fill("xyzzyplugh")
    page.get_by_role("button", name="Search").click()
    page.wait_for_function(
        "document.querySelector('#search-status').textContent.startsWith('No pages')"
    )
    assert page.locator("#search-results li").count() == 0
    assert page.url.endswith("?q=xyzzyplugh")


# --------------------------------------------------------------------------- checklist, 404


def test_checklist_works_without_javascript(served: str, browser: Any) -> None:
    w = _watch(browser, java_script_enabled=False, viewport={"width": 390, "height": 800})
    try:
        page = w.page
        page.goto(served + "checker.html")
        steps = page.locator("section.check-step").count()
        assert steps >= 3
        for n in range(1, steps + 1):
            page.locator(f"#step-{n}").get_by_role("link", name="No, none of these").click()
        page.wait_for_url(served + "check/self-care.html")
        page.goto(served + "checker.html")
        page.locator("#step-1").get_by_role("link", name="Yes, I have one or more").click()
        page.wait_for_url(served + "check/emergency.html")
        assert "999" in page.locator("h1").inner_text()
    finally:
        w.close_clean()


def test_a_missing_page_shows_the_404_page_with_working_links(
    served: str, watched: Watched
) -> None:
    page = watched.page
    response = page.goto(served + "guides/deep/missing.html")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    page.get_by_role("link", name="Check your twitch").first.click()
    page.wait_for_url(served + "checker.html")
