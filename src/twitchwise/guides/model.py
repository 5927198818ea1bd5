"""The Guide data object: one topic's "quick clear answer", assembled from the knowledge base.

A guide is a **core** a person reads in two minutes (the answer, the warning signs, the likely
causes, what to do now, when to see a GP, a short FAQ) and **links** to the pages that hold the
depth (how each cause works, muscles and nerves, self-care with the food and drink tables,
medicines, and for the two seed topics what popular articles get wrong).

Every field is plain data (strings, numbers, tuples of small records), so the same object feeds
the Markdown, HTML and terminal renderers and, through :meth:`Guide.to_dict`, the JSON output.
Every fact carries the source ids it rests on (``sources``); :attr:`Guide.sources` resolves them,
in order of first citation, which is the order of the numbered notes the renderers show.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twitchwise.answer.model import DISCLAIMER, SourceOut

if TYPE_CHECKING:
    from twitchwise.guides.render import Links

#: Bumped when the JSON shape of a guide changes incompatibly (2: the core-and-links shape).
SCHEMA_VERSION = 2

Ids = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cited:
    """A sentence (or a few) and the source ids it rests on."""

    text: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class GuideCause:
    """One of the 3-6 causes the ranker puts first for the topic, in one plain sentence."""

    id: str
    name: str
    #: "Most likely" for the first cause when the ranker clearly puts it first, else "".
    label: str
    probability: float
    text: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class WarningSign:
    """A red flag as the warning-sign box shows it: the sign in a few words."""

    id: str
    level: str
    sign: str
    reason: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class WarningGroup:
    """The signs that share one action ("call 999 now", "see a GP")."""

    action: str
    level: str
    title: str
    signs: tuple[WarningSign, ...]


@dataclass(frozen=True, slots=True)
class AdviceOut:
    id: str
    kind: str
    text: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class FaqOut:
    question: str
    answer: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class LinkOut:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class MoreOut:
    """A page that holds depth the guide leaves out, and what on it concerns this topic.

    ``kind`` is ``causes``, ``anatomy``, ``self-care``, ``medicines`` or ``myths``; ``items``
    are the entries of that page the guide names (causes, muscles and nerves), by id.
    """

    kind: str
    id: str
    title: str
    items: tuple[LinkOut, ...]


@dataclass(frozen=True)
class Guide:
    """A guide. ``to_dict()`` is its JSON shape; ``render()`` gives the other formats."""

    id: str
    title: str
    kind: str
    subject: str
    #: The answer as one paragraph (page descriptions, listings).
    summary: str
    #: The answer in two or three sentences.
    answer: tuple[Cited, ...]
    #: The warning-sign box, most urgent action first.
    warnings: tuple[WarningGroup, ...]
    causes: tuple[GuideCause, ...]
    advice: tuple[AdviceOut, ...]
    #: When to see a GP: the one rule and what to tell them.
    gp: tuple[Cited, ...]
    faq: tuple[FaqOut, ...]
    more: tuple[MoreOut, ...]
    related: tuple[LinkOut, ...]
    ask: str
    sources: tuple[SourceOut, ...]
    disclaimer: str = DISCLAIMER

    def note_numbers(self) -> dict[str, int]:
        """Source id -> the number of its note (1 for the first source cited)."""
        return {s.id: n for n, s in enumerate(self.sources, start=1)}

    def cause_ids(self) -> list[str]:
        """Every cause the guide names: its leading causes, then the others it links to."""
        linked = [i.id for m in self.more if m.kind == "causes" for i in m.items]
        return list(dict.fromkeys([c.id for c in self.causes] + linked))

    def signs(self) -> list[WarningSign]:
        """Every warning sign of the box, most urgent first."""
        return [sign for group in self.warnings for sign in group.signs]

    def core_text(self) -> str:
        """The core as plain text, one sentence or heading a line, as a person reads it: the
        title, the answer, the warning signs, the causes, what to do, when to see a GP and the
        FAQ (what readability and length are measured on)."""
        lines = [self.title, *(a.text for a in self.answer), "Warning signs"]
        for group in self.warnings:
            lines.append(group.title + ":")
            lines += [s.sign for s in group.signs]
        lines.append("Likely causes")
        lines += [f"{c.name}: {c.text}" for c in self.causes]
        lines.append("What to do now")
        lines += [a.text for a in self.advice]
        lines.append("When to see a GP")
        lines += [g.text for g in self.gp]
        if self.faq:
            lines.append("Questions people ask")
            for f in self.faq:
                lines += [f.question, f.answer]
        return "\n".join(
            line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: every field, plus ``schema_version``."""
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        out.update(dataclasses.asdict(self))
        return out

    def render(
        self,
        fmt: str = "terminal",
        *,
        width: int | None = None,
        color: bool = False,
        links: Links | None = None,
    ) -> str:
        """This guide as ``terminal``, ``markdown``, ``html`` (an ``<article>``) or ``json``."""
        from twitchwise.guides.render import render

        return render(self, fmt, width=width, color=color, links=links)
