"""``twitchwise site build DIR``: a static website of every guide, every cause and the sources.

Layout of the output folder (every link is relative, so the site works opened from disk and
served from any path)::

    index.html            every guide (regions, situations), every cause, the other pages
    guides/<topic>.html   one page per guide topic
    causes/<cause>.html   one page per cause
    sources.html          every source of the knowledge base
    checker.html          how to check your own case (twitchwise ask / check / serve)
    assets/site.css       the only stylesheet; no scripts, fonts or images from the network
    sitemap.xml           every page (absolute URLs with ``base_url``, relative otherwise)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from twitchwise.answer.model import DISCLAIMER, SourceOut
from twitchwise.errors import InputError
from twitchwise.guides.build import build_guide, finding_pointers, topics
from twitchwise.guides.model import Guide, LinkOut
from twitchwise.guides.render import Links, environment
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.reason.model import CauseModel, cause_model

#: Called after each file is written: (path relative to the site folder, done, total).
Progress = Callable[[str, int, int], None]

GUIDE_LINKS = Links()
STYLESHEET = "assets/site.css"


@dataclass(frozen=True)
class CausePage:
    """What a cause page shows: the cause as the knowledge base describes it."""

    id: str
    name: str
    explanation: str
    mechanism: str
    points_to: tuple[str, ...]
    points_away: tuple[str, ...]
    self_care: tuple[str, ...]
    doctor: str
    tests: tuple[str, ...]
    guides: tuple[LinkOut, ...]
    sources: tuple[SourceOut, ...]


@dataclass(frozen=True)
class SiteReport:
    root: Path
    pages: tuple[str, ...]


def build_site(
    dest: Path | str,
    *,
    base_url: str | None = None,
    progress: Progress | None = None,
    kb: KnowledgeBase,
    model: CauseModel | None = None,
) -> SiteReport:
    """Write the site into ``dest`` (created if needed; files it writes are replaced).

    ``model``: the cause model of ``kb``, looked up by
    :func:`~twitchwise.reason.model.cause_model` when not given.
    """
    if model is None:
        model = cause_model(kb)
    root = Path(dest)
    if root.exists() and not root.is_dir():
        raise InputError(f"{str(root)!r} is a file; give a folder for the site")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise InputError(f"--base-url must start with http:// or https://, not {base_url!r}")
    all_topics = topics(kb)
    total = 1 + len(all_topics) + len(kb.causes) + 4
    written: list[str] = []

    def done(rel: str) -> None:
        written.append(rel)
        if progress is not None:
            progress(rel, len(written), total)

    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "guides").mkdir(exist_ok=True)
    (root / "causes").mkdir(exist_ok=True)
    css = resources.files("twitchwise").joinpath("templates", "site", "site.css")
    with resources.as_file(css) as css_path:
        shutil.copyfile(css_path, root / STYLESHEET)
    done(STYLESHEET)

    env = environment()
    guides: dict[str, Guide] = {}
    for topic in all_topics:
        guide = build_guide(topic, kb, model)
        guides[topic.id] = guide
        rel = f"guides/{topic.id}.html"
        html = env.get_template("site/guide.html.j2").render(
            g=guide, links=GUIDE_LINKS, **_page(rel, guide.title, guide.summary)
        )
        _write(root / rel, html)
        done(rel)

    for cause_id in kb.causes:
        page = _cause_page(kb, model, cause_id, guides)
        rel = f"causes/{cause_id}.html"
        html = env.get_template("site/cause.html.j2").render(
            c=page, **_page(rel, page.name, page.explanation)
        )
        _write(root / rel, html)
        done(rel)

    regions = [LinkOut(t.id, t.title) for t in all_topics if t.kind == "region"]
    situations = [LinkOut(t.id, t.title) for t in all_topics if t.kind == "situation"]
    causes = [LinkOut(c.id, c.name) for c in kb.causes.values()]
    pages: dict[str, tuple[str, str, str, dict[str, object]]] = {
        "index.html": (
            "site/index.html.j2",
            "twitchwise: why is my muscle twitching?",
            "Quick, clear, evidence-based guides to muscle twitching for every body region "
            "and situation.",
            {"regions": regions, "situations": situations, "causes": causes},
        ),
        "sources.html": (
            "site/sources.html.j2",
            "Sources",
            "Every source behind the twitchwise guides.",
            {"sources": sorted(kb.sources.values(), key=lambda s: (s.publisher, s.title))},
        ),
        "checker.html": (
            "site/checker.html.j2",
            "Check your own twitch",
            "How to get an answer about your own twitch with twitchwise.",
            {"example": guides[all_topics[0].id].ask if all_topics else ""},
        ),
    }
    for rel, (template, title, description, extra) in pages.items():
        html = env.get_template(template).render(**_page(rel, title, description), **extra)
        _write(root / rel, html)
        done(rel)

    sitemap = _sitemap([p for p in written if p.endswith(".html")], base_url)
    _write(root / "sitemap.xml", sitemap)
    done("sitemap.xml")
    return SiteReport(root, tuple(written))


def _page(rel: str, title: str, description: str) -> dict[str, object]:
    depth = rel.count("/")
    return {
        "root": "../" * depth,
        "page_title": title,
        "description": description,
        "current": rel,
        "disclaimer": DISCLAIMER,
    }


def _write(path: Path, text: str) -> None:
    path.write_text(text.strip() + "\n", encoding="utf-8")


def cause_page(
    cause_id: str,
    kb: KnowledgeBase,
    guides: dict[str, Guide] | None = None,
    model: CauseModel | None = None,
) -> CausePage:
    """What the page of one cause shows (``guides``: every guide by topic id, to link back;
    ``model``: the cause model of ``kb``, looked up when not given)."""
    if cause_id not in kb.causes:
        raise InputError(f"unknown cause {cause_id!r}; 'twitchwise causes' lists every cause")
    if model is None:
        model = cause_model(kb)
    if guides is None:
        guides = {t.id: build_guide(t, kb, model) for t in topics(kb)}
    return _cause_page(kb, model, cause_id, guides)


def _cause_page(
    kb: KnowledgeBase, model: CauseModel, cause_id: str, guides: dict[str, Guide]
) -> CausePage:
    cause = kb.causes[cause_id]
    to, away = finding_pointers(kb, cause, model)
    mentioned = [
        LinkOut(g.id, g.title) for g in guides.values() if any(c.id == cause_id for c in g.causes)
    ]
    return CausePage(
        id=cause.id,
        name=cause.name,
        explanation=cause.explanation,
        mechanism=cause.mechanism,
        points_to=to,
        points_away=away,
        self_care=tuple(cause.self_care),
        doctor=cause.doctor,
        tests=tuple(cause.tests),
        guides=tuple(mentioned),
        sources=tuple(
            SourceOut(s.id, s.title, s.url, s.publisher) for s in kb.source_list(cause.sources)
        ),
    )


def _sitemap(pages: list[str], base_url: str | None) -> str:
    base = (base_url.rstrip("/") + "/") if base_url else ""
    urls = "\n".join(f"  <url><loc>{escape(base + p)}</loc></url>" for p in pages)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}\n"
        "</urlset>\n"
    )
