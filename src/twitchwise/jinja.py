"""The package's one Jinja2 environment: templates from ``twitchwise/templates``, HTML
autoescaped, Markdown not. Answers, guides (an overlay with their filters), the eval report,
the doctor report and the web pages (an overlay with their own folder) all render with it.

Built once per process, on first use (Jinja2 is imported then, not at start-up).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["environment"]


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("twitchwise", "templates"),
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
