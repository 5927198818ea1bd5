"""Render a Guide: ``markdown`` and ``html`` through Jinja2 templates, ``terminal`` through Rich's
Markdown renderer, ``json`` from :meth:`Guide.to_dict`.

The HTML is an ``<article>`` fragment (``templates/guide.html.j2``) shared by the static site and
the web app; text fields go through markdown-it-py, so inline Markdown in the knowledge base
(```code```, *emphasis*) becomes HTML while raw HTML in the data is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from jinja2 import Environment, Template
    from markupsafe import Markup

    from twitchwise.guides.model import Guide

FORMATS = ("terminal", "markdown", "html", "json")
T = TypeVar("T")


@dataclass(frozen=True)
class Links:
    """Where the links of a guide point: ``{id}`` is replaced by a topic, cause or anatomy id.

    Without links (``None``), related topics and causes are named with the command that shows
    them (``twitchwise guide calf``) instead of being linked. The pages of depth (``anatomy``,
    ``self_care``, ``medicines``, ``myths``) are linked only where a pattern is given: the static
    site has them; where they are ``None`` the guide names them without a link.
    """

    topic: str = "{id}.html"
    cause: str = "../causes/{id}.html"
    checker: str = "../checker.html"
    sources: str = "../sources.html"
    home: str = "../index.html"
    #: ``{id}``: an anatomy id (an anchor on the page), or empty for the page itself.
    anatomy: str | None = None
    self_care: str | None = None
    medicines: str | None = None
    #: ``{id}``: the seed topic's id.
    myths: str | None = None

    def topic_href(self, topic_id: str) -> str:
        return self.topic.format(id=topic_id)

    def cause_href(self, cause_id: str) -> str:
        return self.cause.format(id=cause_id)

    def page_href(self, kind: str, page_id: str = "", item: str = "") -> str | None:
        """Where a page of depth (``MoreOut.kind``) or an item on it is, or ``None``."""
        if kind == "causes":
            return self.cause_href(item) if item else None
        pattern = {
            "anatomy": self.anatomy,
            "self-care": self.self_care,
            "medicines": self.medicines,
            "myths": self.myths,
        }.get(kind)
        if pattern is None:
            return None
        href = pattern.format(id=item if kind == "anatomy" else page_id)
        return href if item or kind != "anatomy" else href.split("#", 1)[0]


def render(
    guide: Guide,
    fmt: str,
    *,
    width: int | None = None,
    color: bool = False,
    links: Links | None = None,
) -> str:
    if fmt == "json":
        return json.dumps(guide.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "markdown":
        return _template("guide.md.j2").render(g=guide, n=guide.note_numbers()).strip() + "\n"
    if fmt == "html":
        page = _template("guide.html.j2").render(g=guide, links=links, n=guide.note_numbers())
        return page.strip() + "\n"
    if fmt == "terminal":
        return render_terminal(guide, width=width, color=color)
    raise InputError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def render_terminal(guide: Guide, *, width: int | None = None, color: bool = False) -> str:
    """The Markdown rendering laid out for a terminal by Rich (plain text unless ``color``)."""
    from rich.markdown import Markdown

    from twitchwise.answer.render import terminal_text

    markdown = Markdown(render(guide, "markdown"), hyperlinks=False)
    return terminal_text([markdown], width=width, color=color)


# --------------------------------------------------------------------------- templates


def _template(name: str) -> Template:
    return environment().get_template(name)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of guides and the site: HTML autoescaped, Markdown not."""
    from twitchwise.answer.render import environment as answer_environment

    env = answer_environment().overlay()
    env.filters["md"] = inline_markdown
    env.filters["cell"] = table_cell
    env.filters["mg"] = _number
    env.filters["lower_first"] = lower_first
    env.filters["notes"] = note_refs
    env.filters["html_notes"] = html_note_refs
    env.filters["sentence"] = sentence
    env.filters["authority"] = by_authority
    env.filters["numbers"] = note_numbers
    return env


@lru_cache(maxsize=1)
def _markdown() -> object:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "typographer": False})


def inline_markdown(text: str) -> Markup:
    """One paragraph of inline Markdown as safe HTML (raw HTML in ``text`` is escaped)."""
    from markdown_it import MarkdownIt
    from markupsafe import Markup

    md = _markdown()
    assert isinstance(md, MarkdownIt)
    return Markup(md.renderInline(text))  # noqa: S704 - html=False: markdown-it escapes raw HTML


def table_cell(text: object) -> str:
    """Text safe inside one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def lower_first(text: str) -> str:
    """ "Low vitamin B12" -> "low vitamin B12"; "MND" stays "MND"."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def note_refs(ids: Iterable[str], numbers: Mapping[str, int]) -> str:
    """Numbered note markers for Markdown and text: `` [1, 3]`` (each source once, in order)."""
    found = sorted({numbers[i] for i in ids if i in numbers})
    return f" [{', '.join(str(n) for n in found)}]" if found else ""


def html_note_refs(ids: Iterable[str], numbers: Mapping[str, int], prefix: str = "note") -> Markup:
    """Numbered note markers as links to the notes: `` <sup>[1, 3]</sup>``."""
    from markupsafe import Markup, escape

    found = sorted({numbers[i] for i in ids if i in numbers})
    if not found:
        return Markup("")
    refs = ", ".join(
        f'<a href="#{escape(prefix)}-{n}" aria-label="source {n}">{n}</a>' for n in found
    )
    return Markup(f' <sup class="tw-ref">[{refs}]</sup>')  # noqa: S704 - numbers and an escaped prefix


def note_numbers(sources: Iterable[object]) -> dict[str, int]:
    """Source id -> note number for a page's ordered list of sources (1 for the first)."""
    return {str(getattr(s, "id", "")): i for i, s in enumerate(sources, start=1)}


def sentence(text: str) -> str:
    """``text`` ending with a full stop (list items read as sentences)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!", ":")) else text + "."


#: Publishers in order of authority for a reader: the NHS and NICE, MedlinePlus and the NIH,
#: then other public health bodies and regulators, then professional bodies and journals.
AUTHORITY = (
    ("NHS", "nhs"),
    ("NICE", "national institute for health and care excellence"),
    ("MedlinePlus", "medlineplus"),
    ("NIH", "nih"),
    ("NIH", "national institute"),
    ("Public bodies", "food and drug administration"),
    ("Public bodies", "european food safety authority"),
    ("Public bodies", "medicines and healthcare products regulatory agency"),
    ("Public bodies", "hse"),
    ("Public bodies", "national academies"),
    ("Public bodies", "institute of medicine"),
    ("Public bodies", "us code of federal regulations"),
    ("Professional bodies", "cochrane"),
    ("Professional bodies", "american"),
    ("Professional bodies", "royal college"),
    ("Professional bodies", "society for endocrinology"),
    ("Professional bodies", "epilepsy"),
    ("Professional bodies", "stroke association"),
    ("Professional bodies", "mnd association"),
)


def authority_rank(publisher: str) -> int:
    """0 for the NHS, 1 for NICE, 2 for MedlinePlus, 3 for the NIH, then other public bodies,
    professional bodies, and everything else (journals, reference works, other sites)."""
    text = publisher.lower()
    groups = list(dict.fromkeys(name for name, _ in AUTHORITY))
    for name, key in AUTHORITY:
        words = text.replace("(", " ").replace(")", " ").replace(",", " ").split()
        if (key in words) if " " not in key else (key in text):
            return groups.index(name)
    return len(groups)


def by_authority(sources: Iterable[T]) -> list[T]:
    """Sources (anything with ``publisher`` and ``title``) ordered by authority, then title."""
    return sorted(
        sources,
        key=lambda s: (authority_rank(getattr(s, "publisher", "")), getattr(s, "title", "")),
    )


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
