"""The interview's plain data: questions, answers, the state, and its JSON.

An :class:`InterviewState` is what was known at the start and every question asked with its
answer. It is plain data (``to_dict``/``from_dict``), so the web app can keep it in a form and
the journal can save it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from twitchwise.evidence import DOUBTS, Evidence, Observation

QuestionKind = Literal["finding", "choice", "one_of", "quantity"]


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    findings: tuple[str, ...] = ()
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One question: ``finding`` (yes/no), ``choice`` (any of the options), ``one_of`` or
    ``quantity`` (exactly one option; a quantity's options are values in its unit).

    ``id`` is the finding's id for a yes/no question and the question's id otherwise;
    ``findings`` are every finding its answer settles.
    """

    id: str
    kind: QuestionKind
    text: str
    help: str | None
    findings: tuple[str, ...]
    options: tuple[Option, ...] = ()
    quantity: str | None = None
    areas_finding: str | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """Why the interview ended: ``reason`` is a code, ``text`` says it in words."""

    reason: Literal["emergency", "settled", "budget", "exhausted", "quit"]
    text: str


@dataclass(frozen=True, slots=True)
class Step:
    """The next question (with ``why`` it was chosen), or the stop."""

    question: Question | None = None
    why: Literal["red_flag", "triage", "causes"] | None = None
    stop: Stop | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """A question asked and its answer. ``answers`` holds the findings the answer settled
    (``True`` present, ``False`` absent); it is empty when the answer was "not sure"."""

    question: str
    text: str
    findings: tuple[str, ...]
    answers: tuple[tuple[str, bool], ...] = ()
    quantity: str | None = None
    value: float | None = None

    @property
    def answer(self) -> bool | None:
        """Yes/no for the record: the finding's answer, or for a question about several
        findings whether any of them is present (``None``: not sure)."""
        if not self.answers:
            return None
        if len(self.findings) == 1:
            return self.answers[0][1]
        return any(yes for _, yes in self.answers)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "text": self.text,
            "findings": list(self.findings),
            "answers": dict(self.answers),
        }
        if self.quantity is not None:
            out["quantity"] = self.quantity
            out["value"] = self.value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answered:
        value = data.get("value")
        return cls(
            question=str(data["question"]),
            text=str(data.get("text", "")),
            findings=tuple(str(f) for f in data.get("findings", ())),
            answers=tuple((str(k), bool(v)) for k, v in dict(data.get("answers", {})).items()),
            quantity=data.get("quantity"),
            value=None if value is None else float(value),
        )


@dataclass(frozen=True)
class InterviewState:
    """What was known at the start (``start``) and every question asked, in order."""

    start: Evidence = field(default_factory=Evidence)
    asked: tuple[Answered, ...] = ()

    @property
    def asked_findings(self) -> frozenset[str]:
        return frozenset(f for a in self.asked for f in a.findings)

    def back(self) -> InterviewState:
        """The state before the last answer ("go back")."""
        return InterviewState(self.start, self.asked[:-1])

    def to_dict(self) -> dict[str, Any]:
        start = self.start
        return {
            "start": {
                "observations": [
                    {
                        "id": o.id,
                        "negated": o.negated,
                        "uncertain": o.uncertain,
                        "text": o.text,
                        "start": o.start,
                        "end": o.end,
                        "derived": o.derived,
                        "doubt": o.doubt,
                    }
                    for o in start.observations
                ],
                "quantities": dict(start.quantities),
                "not_understood": list(start.not_understood),
                "medicines": list(start.medicines),
            },
            "asked": [a.to_dict() for a in self.asked],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InterviewState:
        raw = data.get("start") or {}
        observations = tuple(
            Observation(
                str(o["id"]),
                bool(o.get("negated", False)),
                bool(o.get("uncertain", False)),
                str(o.get("text", "")),
                o.get("start"),
                o.get("end"),
                bool(o.get("derived", False)),
                _doubt(o.get("doubt", "")),
            )
            for o in raw.get("observations", ())
        )
        start = Evidence(
            observations,
            {str(k): float(v) for k, v in dict(raw.get("quantities", {})).items()},
            tuple(raw.get("not_understood", ())),
            tuple(raw.get("medicines", ())),
        )
        return cls(start, tuple(Answered.from_dict(a) for a in data.get("asked", ())))


def _doubt(value: object) -> str:
    """A doubt sent back by a client: one twitchwise gives out, or none."""
    if isinstance(value, str) and value in DOUBTS:
        return value
    return ""
