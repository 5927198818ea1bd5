"""``twitchwise site build DIR``: a static website of every guide and the pages they link to.

Layout of the output folder (every link is relative, so the site works opened from disk and
served from any path)::

    index.html            every guide (regions, situations), every cause, the other pages
    guides/<topic>.html   one page per guide topic: the core a person reads in two minutes
    causes/<cause>.html   one page per cause: how it works, what helps, what a doctor checks
    anatomy.html          the muscles, nerves and structures the guides name
    self-care.html        what helps, with the fluid, nutrient and caffeine tables
    medicines.html        medicines that can cause twitching: what each does, what to do
    myths/<topic>.html    for the two seed topics: what popular articles get wrong
    sources.html          every source of the knowledge base, most authoritative first
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

from twitchwise.answer.model import DISCLAIMER
from twitchwise.errors import InputError
from twitchwise.guides.build import build_guide, topics
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
from twitchwise.reason.model import CauseModel, cause_model

__all__ = ["CausePage", "SiteReport", "build_site", "cause_page"]

#: Called after each file is written: (path relative to the site folder, done, total).
Progress = Callable[[str, int, int], None]

GUIDE_LINKS = Links(
    anatomy="../anatomy.html#{id}",
    self_care="../self-care.html",
    medicines="../medicines.html",
    myths="../myths/{id}.html",
)
STYLESHEET = "assets/site.css"


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
    seeded = [t for t in all_topics if t.seed is not None]
    total = 1 + len(all_topics) + len(kb.causes) + len(seeded) + 7
    written: list[str] = []

    def done(rel: str) -> None:
        written.append(rel)
        if progress is not None:
            progress(rel, len(written), total)

    for folder in ("assets", "guides", "causes", "myths"):
        (root / folder).mkdir(parents=True, exist_ok=True)
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
        page = cause_page(cause_id, kb, guides, model)
        rel = f"causes/{cause_id}.html"
        html = env.get_template("site/cause.html.j2").render(
            c=page, **_page(rel, page.name, page.explanation)
        )
        _write(root / rel, html)
        done(rel)

    for topic in seeded:
        myths = myths_page(topic, kb)
        rel = f"myths/{topic.id}.html"
        title = f"{topic.title} What popular articles get wrong"
        html = env.get_template("site/myths.html.j2").render(
            p=myths,
            **_page(rel, title, "Claims about twitching that the evidence does not support."),
        )
        _write(root / rel, html)
        done(rel)

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
            "Check your own twitch",
            "How to get an answer about your own twitch with twitchwise.",
            {
                "example": guides[all_topics[0].id].ask if all_topics else "",
                "mention": twitch_words(kb),
            },
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


def _sitemap(pages: list[str], base_url: str | None) -> str:
    base = (base_url.rstrip("/") + "/") if base_url else ""
    urls = "\n".join(f"  <url><loc>{escape(base + p)}</loc></url>" for p in pages)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}\n"
        "</urlset>\n"
    )
