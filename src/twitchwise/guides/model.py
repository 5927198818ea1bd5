"""The Guide data object: one topic's "quick clear answer", assembled from the knowledge base.

Every field is plain data (strings, numbers, tuples of small records), so the same object feeds
the Markdown, HTML and terminal renderers and, through :meth:`Guide.to_dict`, the JSON output.
Every fact carries the source ids it rests on (``sources``); :attr:`Guide.sources` resolves them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twitchwise.answer.model import DISCLAIMER, SourceOut

if TYPE_CHECKING:
    from twitchwise.guides.render import Links

#: Bumped when the JSON shape of a guide changes incompatibly.
SCHEMA_VERSION = 1

Ids = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cited:
    """A sentence and the source ids it rests on."""

    text: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class AnatomyOut:
    id: str
    kind: str
    name: str
    text: str
    region: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class GuideCause:
    """A cause as ranked for the topic, with why it matters here and how it works."""

    id: str
    name: str
    tier: str
    probability: float
    why: str
    sources: Ids
    points_to: tuple[str, ...]
    points_away: tuple[str, ...]
    mechanism: str
    tests: tuple[str, ...]
    emphasised: bool


@dataclass(frozen=True, slots=True)
class WarningSign:
    id: str
    level: str
    level_title: str
    reason: str
    when: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class AdviceOut:
    id: str
    kind: str
    text: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class FluidRowOut:
    activity: str
    seed: str
    authority: str
    verdict: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class FluidReferenceOut:
    group: str
    total_l: float
    drinks_l: float
    note: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class NutrientOut:
    id: str
    name: str
    role: str
    intake: str
    upper_limit: str
    foods: tuple[str, ...]
    cautions: tuple[str, ...]
    sources: Ids


@dataclass(frozen=True, slots=True)
class DrinkOut:
    id: str
    name: str
    mg: float
    serving: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class CaffeineLimitOut:
    group: str
    mg_per_day: float
    single_dose_mg: float | None
    note: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class MedicineOut:
    id: str
    name: str
    leads_to: tuple[str, ...]
    sources: Ids


@dataclass(frozen=True, slots=True)
class DoctorStep:
    level: str
    title: str
    text: str
    sources: Ids


@dataclass(frozen=True, slots=True)
class TestsOut:
    cause: str
    cause_name: str
    tests: tuple[str, ...]
    sources: Ids


@dataclass(frozen=True, slots=True)
class CorrectionOut:
    id: str
    claim: str
    correct: str
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


@dataclass(frozen=True)
class Guide:
    """A full guide. ``to_dict()`` is its JSON shape; ``render()`` gives the other formats."""

    id: str
    title: str
    kind: str
    subject: str
    summary: str
    overview: Cited | None
    general: tuple[AnatomyOut, ...]
    anatomy: tuple[AnatomyOut, ...]
    causes: tuple[GuideCause, ...]
    warnings: tuple[WarningSign, ...]
    advice: tuple[AdviceOut, ...]
    fluids: tuple[FluidRowOut, ...]
    fluid_reference: tuple[FluidReferenceOut, ...]
    nutrients: tuple[NutrientOut, ...]
    drinks: tuple[DrinkOut, ...]
    caffeine_limits: tuple[CaffeineLimitOut, ...]
    medicines: tuple[MedicineOut, ...]
    medicine_advice: Cited | None
    doctor: tuple[DoctorStep, ...]
    tests: tuple[TestsOut, ...]
    corrections: tuple[CorrectionOut, ...]
    takeaways: tuple[Cited, ...]
    faq: tuple[FaqOut, ...]
    related: tuple[LinkOut, ...]
    ask: str
    mention: tuple[str, ...]
    sources: tuple[SourceOut, ...]
    disclaimer: str = DISCLAIMER

    def warnings_by_level(self) -> list[tuple[str, str, list[WarningSign]]]:
        """``(level, level_title, signs)`` groups, most urgent first (as ``warnings``)."""
        groups: dict[str, tuple[str, str, list[WarningSign]]] = {}
        for w in self.warnings:
            groups.setdefault(w.level, (w.level, w.level_title, []))[2].append(w)
        return list(groups.values())

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
