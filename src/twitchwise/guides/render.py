"""Render a Guide: ``markdown`` and ``html`` through Jinja2 templates, ``terminal`` through Rich's
Markdown renderer, ``json`` from :meth:`Guide.to_dict`.

The HTML is an ``<article>`` fragment (``templates/guide.html.j2``) shared by the static site and
the web app; text fields go through markdown-it-py, so inline Markdown in the knowledge base
(```code```, *emphasis*) becomes HTML while raw HTML in the data is escaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from jinja2 import Environment, Template
    from markupsafe import Markup

    from twitchwise.guides.model import Guide

FORMATS = ("terminal", "markdown", "html", "json")


@dataclass(frozen=True)
class Links:
    """Where the links of a guide point: ``{id}`` is replaced by a topic or cause id.

    Without links (``None``), related topics and causes are named with the command that shows
    them (``twitchwise guide calf``) instead of being linked.
    """

    topic: str = "{id}.html"
    cause: str = "../causes/{id}.html"
    checker: str = "../checker.html"
    sources: str = "../sources.html"
    home: str = "../index.html"

    def topic_href(self, topic_id: str) -> str:
        return self.topic.format(id=topic_id)

    def cause_href(self, cause_id: str) -> str:
        return self.cause.format(id=cause_id)


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
        return _template("guide.md.j2").render(g=guide).strip() + "\n"
    if fmt == "html":
        return _template("guide.html.j2").render(g=guide, links=links).strip() + "\n"
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


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
