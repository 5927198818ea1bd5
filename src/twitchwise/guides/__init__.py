"""Guides: a "quick clear answer" article for every body region and situation.

A guide is assembled from the knowledge base (``knowledge/data/topics/``) by
:func:`build_guide`, rendered by :meth:`Guide.render` (terminal, Markdown, HTML, JSON), and
collected into a static website by :func:`twitchwise.guides.site.build_site`.

::

    from twitchwise import load_knowledge
    from twitchwise.guides import build_guide
    guide = build_guide("knee", load_knowledge())
    guide.render("markdown")
"""

from twitchwise.guides.build import build_guide, find_topic, topics
from twitchwise.guides.model import Guide

__all__ = ["Guide", "build_guide", "find_topic", "topics"]
