"""The Answer object and its JSON shape (the contract in PRODUCT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twitchwise.knowledge.schema import TriageLevel

DISCLAIMER = (
    "This is not a diagnosis. twitchwise gives general information from published guidance; "
    "if you are worried, or things change, talk to a doctor."
)


@dataclass(frozen=True, slots=True)
class ReasonOut:
    finding: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class PossibleOut:
    """A red flag read with doubt: the words it came from and the question to ask."""

    finding: str
    text: str
    question: str
    why: str = ""


@dataclass(frozen=True, slots=True)
class CauseOut:
    id: str
    name: str
    probability: float
    supporting: tuple[str, ...]
    against: tuple[str, ...]
    explanation: str
    #: A grave, rare cause: shown as something to check, not as a percentage.
    grave: bool = False
    #: ``supporting`` and ``against`` in words for people ("no muscle weakness"), as the
    #: renderers show them (not in the JSON, which has the ids).
    for_text: str = ""
    against_text: str = ""


@dataclass(frozen=True, slots=True)
class FindingOut:
    id: str
    negated: bool
    text: str
    uncertain: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class PlanOut:
    kind: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class SourceOut:
    id: str
    title: str
    url: str
    publisher: str = ""


@dataclass(frozen=True)
class Answer:
    """A Quick Clear Answer. ``to_dict()`` gives the contract's JSON shape exactly."""

    summary: str
    level: TriageLevel
    reasons: tuple[ReasonOut, ...]
    causes: tuple[CauseOut, ...]
    findings: tuple[FindingOut, ...]
    not_understood: tuple[str, ...]
    plan: tuple[PlanOut, ...]
    sources: tuple[SourceOut, ...]
    unexplained: float = 0.0
    possible: tuple[PossibleOut, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "triage": {
                "level": self.level.value,
                "reasons": [
                    {"finding": r.finding, "text": r.text, "source": r.source} for r in self.reasons
                ],
                "possible": [
                    {"finding": p.finding, "text": p.text, "question": p.question}
                    for p in self.possible
                ],
            },
            "causes": [
                {
                    "id": c.id,
                    "name": c.name,
                    "probability": round(c.probability, 4),
                    "for": list(c.supporting),
                    "against": list(c.against),
                    "explanation": c.explanation,
                }
                for c in self.causes
            ],
            "findings": [{"id": f.id, "negated": f.negated, "text": f.text} for f in self.findings],
            "not_understood": list(self.not_understood),
            "plan": [{"kind": p.kind, "text": p.text, "source": p.source} for p in self.plan],
            "sources": [{"id": s.id, "title": s.title, "url": s.url} for s in self.sources],
        }

    def render(
        self, fmt: str = "terminal", *, width: int | None = None, color: bool = False
    ) -> str:
        """This answer as ``terminal``, ``markdown``, ``html`` or ``json`` text."""
        from twitchwise.answer.render import render

        return render(self, fmt, width=width, color=color)
