"""``twitchwise site build DIR``: a static website of every guide and the pages they link to.

Layout of the output folder (every link between pages is relative, so the site works opened
from disk and served from any path)::

    index.html            every guide (regions, situations), every cause, the other pages
    guides/<topic>.html   one page per guide topic: the core a person reads in two minutes
    causes/<cause>.html   one page per cause: how it works, what helps, what a doctor checks
    anatomy.html          the muscles, nerves and structures the guides name
    self-care.html        what helps, with the fluid, nutrient and caffeine tables
    medicines.html        medicines that can cause twitching: what each does, what to do
    myths/<topic>.html    for the two seed topics: what popular articles get wrong
    sources.html          every source of the knowledge base, most authoritative first
    checker.html          "check your twitch": the warning signs as a checklist, no script
    check/<level>.html    what to do, for each step of the checklist and for self-care
    search.html           search the site (Pagefind: runs in the browser, no server code)
    404.html              "page not found", for servers that show it
    robots.txt            crawlers welcome; names the sitemap when the site has a base URL
    sitemap.xml           with ``base_url`` only: every page's absolute URL and ``lastmod``
    assets/site.css       the only stylesheet; no fonts, nothing from the network
    assets/search.js      the search page's script (the only script)
    assets/favicon.svg    the site's icon
    pagefind/             the search index, written by Pagefind when it is installed

Every page says when it was last reviewed and how (the knowledge base's ``review/``), has a
canonical link, Open Graph tags and schema.org ``MedicalWebPage`` metadata; the absolute URLs
among them (canonical, ``og:url``, the sitemap) only when ``base_url`` says where the site will
be published. A build without it is a local build and says so (:attr:`SiteReport.notes`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from twitchwise.answer.model import DISCLAIMER
from twitchwise.errors import ConfigError, InputError
from twitchwise.guides.build import build_guide, topics
from twitchwise.guides.checklist import checklist
from twitchwise.guides.model import Guide, LinkOut
from twitchwise.guides.pages import (
    CausePage,
    anatomy_page,
    cause_page,
    medicines_page,
    myths_page,
    self_care_page,
    twitch_words,
)
from twitchwise.guides.render import Links, by_authority, environment
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import ReviewRecord
from twitchwise.reason.model import CauseModel, cause_model

__all__ = ["CausePage", "SiteReport", "build_site", "cause_page", "pagefind_binary"]

#: Called after each file is written: (path relative to the site folder, done, total).
Progress = Callable[[str, int, int], None]

GUIDE_LINKS = Links(
    anatomy="../anatomy.html#{id}",
    self_care="../self-care.html",
    medicines="../medicines.html",
    myths="../myths/{id}.html",
)
SITE_NAME = "twitchwise"
STYLESHEET = "assets/site.css"
SEARCH_SCRIPT = "assets/search.js"
ICON = "assets/favicon.svg"
#: (file in templates/site/, where the site has it)
ASSETS = (("site.css", STYLESHEET), ("search.js", SEARCH_SCRIPT), ("favicon.svg", ICON))
#: Pagefind writes its index and scripts here (``--output-subdir``).
SEARCH_DIR = "pagefind"
#: A page gets a table of contents beside the text when it has at least this many sections.
TOC_MIN = 3
#: The extra that installs Pagefind's binary.
SEARCH_INSTALL = "pip install 'twitchwise[search]'"
#: What a reader is told about a page's review status (``by`` is the record's reviewer).
REVIEW_STATUS = {
    "draft": "Draft: written from its sources, not yet checked against them by an editor.",
    "sources_checked": "Checked against its sources by {by}; not reviewed by a clinician.",
    "clinician_reviewed": "Reviewed by {by}.",
}


@dataclass(frozen=True)
class SiteReport:
    root: Path
    #: Every file written, relative to ``root`` (the search index counts as ``pagefind/``).
    pages: tuple[str, ...]
    #: The public address the build was made for; ``None`` for a local build.
    base_url: str | None = None
    #: Whether the site has search (Pagefind was found and indexed it).
    search: bool = False
    #: What a person building the site should know: a local build, search left out.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Meta:
    """What the layout needs to know about a page besides its content."""

    rel: str
    title: str
    description: str
    review: ReviewRecord
    #: schema.org ``about`` of the page, if it is about one thing.
    about: dict[str, str] | None = None
    #: ``website`` for the home page, ``article`` for the others (Open Graph).
    og_type: str = "article"
    #: A page of content: indexed by search engines and the site search, with metadata.
    content: bool = True


def pagefind_binary() -> Path | None:
    """The Pagefind binary of the ``pagefind`` package (``pagefind[bin]``), of
    ``PAGEFIND_BINARY_PATH``, or on the ``PATH``; ``None`` when there is none. Nothing is
    downloaded."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        found = shutil.which("pagefind_extended") or shutil.which("pagefind")
        return Path(found) if found else None
    path = get_executable()
    return path if path is not None and path.is_file() else None


def build_site(
    dest: Path | str,
    *,
    base_url: str | None = None,
    search: bool = True,
    progress: Progress | None = None,
    kb: KnowledgeBase,
    model: CauseModel | None = None,
) -> SiteReport:
    """Write the site into ``dest`` (created if needed; files it writes are replaced).

    ``base_url``: the public address the site will be published at (``https://...``), for its
    canonical links, ``og:url`` and the sitemap; without it the build is local.
    ``search``: index the site with Pagefind when its binary is installed (else the build
    notes how to install it and the search page says the copy has no search).
    ``model``: the cause model of ``kb``, looked up by
    :func:`~twitchwise.reason.model.cause_model` when not given.
    """
    if model is None:
        model = cause_model(kb)
    root = Path(dest)
    if root.exists() and not root.is_dir():
        raise InputError(f"{str(root)!r} is a file; give a folder for the site")
    base = _base_url(base_url)
    review = kb.review
    if review.site is None:
        raise InputError("the knowledge base has no review record (review/ site)")
    site_review = review.site
    notes: list[str] = []
    if base is None:
        notes.append(
            "local build: without --base-url the pages have no canonical links or og:url and "
            "there is no sitemap.xml; give --base-url https://... for a build to publish"
        )
    binary = pagefind_binary() if search else None
    if search and binary is None:
        notes.append(
            f"no search: Pagefind is not installed ({SEARCH_INSTALL}, then build again); "
            "the site is built without it"
        )
    all_topics = topics(kb)
    seeded = [t for t in all_topics if t.seed is not None]
    steps = checklist(kb)
    total = (
        len(all_topics) + len(kb.causes) + len(seeded) + len(steps.results)
        + 12 + (1 if base else 0) + (1 if binary else 0)
    )  # fmt: skip
    written: list[str] = []

    def done(rel: str) -> None:
        written.append(rel)
        if progress is not None:
            progress(rel, len(written), total)

    for folder in ("assets", "guides", "causes", "myths", "check"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root / SEARCH_DIR, ignore_errors=True)  # never a stale index
    for name, rel in ASSETS:
        asset = resources.files("twitchwise").joinpath("templates", "site", name)
        with resources.as_file(asset) as path:
            shutil.copyfile(path, root / rel)
        done(rel)

    env = environment()
    lastmod: dict[str, date] = {}

    def page(template: str, meta: _Meta, **values: Any) -> None:
        context = _context(meta, base, **values)
        html = env.get_template(template).render(**context)
        toc = _headings(html)
        if len(toc) >= TOC_MIN:
            context["toc"] = toc
            html = env.get_template(template).render(**context)
        _write(root / meta.rel, html)
        if meta.content:
            lastmod[meta.rel] = meta.review.reviewed
        done(meta.rel)

    guides: dict[str, Guide] = {}
    for topic in all_topics:
        guide = build_guide(topic, kb, model)
        guides[topic.id] = guide
        record = review.of_topic(topic.id) or site_review
        about = {"@type": "MedicalSignOrSymptom", "name": f"Twitching {guide.subject}"}
        meta = _Meta(f"guides/{topic.id}.html", guide.title, guide.summary, record, about)
        page("site/guide.html.j2", meta, g=guide, links=GUIDE_LINKS)

    for cause_id in kb.causes:
        cause = cause_page(cause_id, kb, guides, model)
        record = review.of_cause(cause_id) or site_review
        about = {"@type": "MedicalCondition", "name": cause.name}
        meta = _Meta(f"causes/{cause_id}.html", cause.name, cause.explanation, record, about)
        page("site/cause.html.j2", meta, c=cause)

    for topic in seeded:
        record = review.of_topic(topic.id) or site_review
        meta = _Meta(
            f"myths/{topic.id}.html",
            f"{topic.title} What popular articles get wrong",
            "Claims about twitching that the evidence does not support.",
            record,
        )
        page("site/myths.html.j2", meta, p=myths_page(topic, kb))

    for result in steps.results:
        meta = _Meta(
            f"check/{result.action}.html",
            result.title,
            "What to do: the result of the twitchwise warning-sign checklist.",
            site_review,
        )
        page("site/check-result.html.j2", meta, r=result)

    regions = [LinkOut(t.id, t.title) for t in all_topics if t.kind == "region"]
    situations = [LinkOut(t.id, t.title) for t in all_topics if t.kind == "situation"]
    causes = [LinkOut(c.id, c.name) for c in kb.causes.values()]
    myth_links = [LinkOut(t.id, t.title) for t in seeded]
    pages: dict[str, tuple[str, str, str, dict[str, object]]] = {
        "index.html": (
            "site/index.html.j2",
            "twitchwise: why is my muscle twitching?",
            "Quick, clear, evidence-based guides to muscle twitching for every body region "
            "and situation.",
            {"regions": regions, "situations": situations, "causes": causes, "myths": myth_links},
        ),
        "anatomy.html": (
            "site/anatomy.html.j2",
            "Muscles and nerves",
            "The muscles, nerves and structures behind a twitch, and where you feel it.",
            {"p": anatomy_page(kb)},
        ),
        "self-care.html": (
            "site/self-care.html.j2",
            "Self-care, food and drink",
            "What helps twitching settle, how much to drink, nutrients and caffeine.",
            {"p": self_care_page(kb)},
        ),
        "medicines.html": (
            "site/medicines.html.j2",
            "Medicines that can cause twitching",
            "Which medicines can cause twitching or cramps, what each does, and what to do.",
            {"p": medicines_page(kb, model)},
        ),
        "sources.html": (
            "site/sources.html.j2",
            "Sources",
            "Every source behind the twitchwise guides, most authoritative first.",
            {"sources": by_authority(kb.sources.values())},
        ),
        "checker.html": (
            "site/checker.html.j2",
            "Check your twitch",
            "Go through the warning signs, most urgent first, and see what to do about your "
            "twitch.",
            {"steps": steps.steps, "mention": twitch_words(kb)},
        ),
    }
    for rel, (template, title, description, extra) in pages.items():
        og_type = "website" if rel == "index.html" else "article"
        page(template, _Meta(rel, title, description, site_review, og_type=og_type), **extra)

    page(
        "site/search.html.j2",
        _Meta("search.html", "Search", "Search the twitchwise guides.", site_review,
              content=False),
        search=binary is not None,
    )  # fmt: skip
    page(
        "site/404.html.j2",
        _Meta("404.html", "Page not found", "This page does not exist.", site_review,
              content=False),
        base_href=base,
    )  # fmt: skip

    _write(root / "robots.txt", _robots(base))
    done("robots.txt")
    if base is not None:
        _write(root / "sitemap.xml", _sitemap(lastmod, base))
        done("sitemap.xml")
    else:
        (root / "sitemap.xml").unlink(missing_ok=True)  # never a sitemap of another build
    if binary is not None:
        _index_search(root, binary)
        done(f"{SEARCH_DIR}/")
    return SiteReport(root, tuple(written), base, binary is not None, tuple(notes))


# --------------------------------------------------------------------------- page metadata


def _base_url(base_url: str | None) -> str | None:
    """``base_url`` ending with one ``/``, checked: http(s), a host, no query or fragment."""
    if base_url is None:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"--base-url must start with http:// or https:// and name a host, not {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise InputError(f"--base-url must have no query or fragment: {base_url!r}")
    return base_url.rstrip("/") + "/"


def _url(base: str, rel: str) -> str:
    """The absolute URL of a page (the home page as the site's own address)."""
    return base + ("" if rel == "index.html" else rel)


def review_text(record: ReviewRecord) -> str:
    """The review status as a reader reads it."""
    return REVIEW_STATUS[record.status].format(by=record.by)


def _context(meta: _Meta, base: str | None, **values: Any) -> dict[str, Any]:
    from markupsafe import Markup

    rel = meta.rel
    canonical = _url(base, rel) if base is not None and meta.content else None
    og = [
        ("og:type", meta.og_type),
        ("og:title", meta.title),
        ("og:description", meta.description),
        ("og:site_name", SITE_NAME),
        ("og:locale", "en_GB"),
    ]
    if canonical:
        og.append(("og:url", canonical))
    record = meta.review
    ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": meta.title,
        "description": meta.description,
        "inLanguage": "en",
        "lastReviewed": record.reviewed.isoformat(),
        "isPartOf": {"@type": "WebSite", "name": SITE_NAME, **({"url": base} if base else {})},
    }
    if canonical:
        ld["url"] = canonical
    if meta.about:
        ld["about"] = meta.about
    if record.status == "clinician_reviewed":
        ld["reviewedBy"] = {"@type": "Person", "name": record.by}
    # JSON inside <script>: "<", ">" and "&" as \\u escapes, so no "</script>" can end it
    text = json.dumps(ld, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    context: dict[str, Any] = {
        "root": "../" * rel.count("/"),
        "page_title": meta.title,
        "description": meta.description,
        "current": rel,
        "disclaimer": DISCLAIMER,
        "canonical": canonical,
        "og": og if meta.content else [],
        "jsonld": Markup(text) if meta.content else None,  # noqa: S704 - escaped JSON above
        "searchable": meta.content and not rel.startswith("check/"),
        "noindex": not meta.content,
        "review": {
            "date": record.reviewed.isoformat(),
            "text": f"{record.reviewed.day} {record.reviewed:%B %Y}",
            "status": review_text(record),
        }
        if meta.content
        else None,
        "toc": (),
    }
    context.update(values)
    return context


class _Headings(HTMLParser):
    """The ``<h2 id>`` of a page's ``<main>`` and their text, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._in_main = False
        self._current: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self._in_main = True
        elif tag == "h2" and self._in_main:
            self._current = dict(attrs).get("id")
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_main = False
        elif tag == "h2" and self._current:
            text = " ".join("".join(self._text).split())
            if text:
                self.found.append((self._current, text))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current:
            self._text.append(data)


def _headings(html: str) -> tuple[tuple[str, str], ...]:
    parser = _Headings()
    parser.feed(html)
    return tuple(parser.found)


# --------------------------------------------------------------------------- files


def _write(path: Path, text: str) -> None:
    path.write_text(text.strip() + "\n", encoding="utf-8")


def _robots(base: str | None) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if base is not None:
        lines += ["", f"Sitemap: {base}sitemap.xml"]
    else:
        lines += ["", "# A local build (no --base-url): no sitemap."]
    return "\n".join(lines) + "\n"


def _sitemap(lastmod: dict[str, date], base: str) -> str:
    urls = "\n".join(
        f"  <url><loc>{escape(_url(base, rel))}</loc><lastmod>{day.isoformat()}</lastmod></url>"
        for rel, day in lastmod.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}\n"
        "</urlset>\n"
    )


def _index_search(root: Path, binary: Path) -> None:
    """Index the site's pages (the parts marked ``data-pagefind-body``) with Pagefind."""
    command = [str(binary), "--site", str(root), "--output-subdir", SEARCH_DIR, "--silent",
               "--exclude-selectors", ".tw-ref"]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except OSError as exc:
        raise ConfigError(
            f"Pagefind ({binary}) could not run: {exc}; reinstall it ({SEARCH_INSTALL}) or "
            "build with --no-search"
        ) from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ConfigError(
            f"Pagefind failed to index the site (exit {result.returncode}): "
            + " ".join(detail)
            + "; build with --no-search to leave search out"
        )
