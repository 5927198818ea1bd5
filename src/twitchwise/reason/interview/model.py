"""Everything the question policy needs from a knowledge base, worked out once.

An :class:`InterviewModel` holds the cause model (:class:`~twitchwise.reason.model.CauseModel`,
the same log-odds the ranking uses), the red-flag rules as sets, which findings imply which, and
every question the knowledge base can ask. Build one with :meth:`InterviewModel.build` and pass
it to :func:`~twitchwise.reason.interview.next_question` (``model=``); a caller that passes only
the knowledge base gets :func:`interview_model`'s, kept for the last few knowledge bases by
their digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.interview.evidence import CAFFEINE_FINDINGS
from twitchwise.reason.interview.state import Option, Question
from twitchwise.reason.model import CauseModel, by_digest, cause_model


@dataclass(frozen=True)
class Rule:
    """A red-flag rule: its level and its ``all_of`` groups as sets."""

    id: str
    level: TriageLevel
    groups: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class InterviewModel:
    """Everything the policy needs from the knowledge base, precomputed once."""

    #: The posterior's table, shared with :func:`~twitchwise.reason.rank.rank`.
    cause_model: CauseModel
    rules: tuple[Rule, ...]
    #: For each finding, the findings that imply it (a denial rules them out).
    implied_by: Mapping[str, frozenset[str]]
    #: The yes/no question of every finding that has one.
    singles: Mapping[str, Question]
    #: The knowledge base's own questions (screens, choices, quantities), in file order.
    static: tuple[Question, ...]
    #: Text and help of the follow-up screen of a rule one group away from firing.
    follow_up: tuple[str, str | None]
    #: Tie-break order of questions and findings (earlier first).
    order: Mapping[str, int]

    @property
    def causes(self) -> tuple[str, ...]:
        """The cause ids, in the order of the posterior's entries."""
        return self.cause_model.causes

    @classmethod
    def build(cls, kb: KnowledgeBase, causes: CauseModel | None = None) -> InterviewModel:
        """The model of ``kb`` (``causes``: its cause model, when the caller holds one)."""
        implied_by: dict[str, set[str]] = {}
        for fid, closure in kb.closure.items():
            for g in closure - {fid}:
                implied_by.setdefault(g, set()).add(fid)
        singles = {
            fid: Question(fid, "finding", f.question, f.help, (fid,))
            for fid, f in kb.findings.items()
            if f.question and f.kind != "cue"
        }
        static = []
        follow_up: tuple[str, str | None] = ("", None)
        for q in kb.questions.values():
            if q.kind == "follow_up":
                follow_up = (q.text, q.help)
                continue
            options = tuple(
                Option(o.label or _label(kb, o.findings), tuple(o.findings), o.value)
                for o in q.options
            )
            if q.kind == "quantity":
                assert q.quantity is not None
                if q.quantity == "caffeine_mg":
                    targets: tuple[str, ...] = CAFFEINE_FINDINGS
                else:
                    targets = tuple(
                        dict.fromkeys(
                            r.finding for r in kb.lexicon.quantity_rules if r.quantity == q.quantity
                        )
                    )
            else:
                targets = tuple(dict.fromkeys(f for o in options for f in o.findings))
                if q.areas_finding and q.areas_finding not in targets:
                    targets += (q.areas_finding,)
            static.append(
                Question(
                    q.id, q.kind, q.text, q.help, targets, options, q.quantity, q.areas_finding
                )
            )
        order = {q.id: i for i, q in enumerate(static)}
        order.update({fid: len(static) + i for i, fid in enumerate(kb.findings)})
        return cls(
            cause_model=causes if causes is not None else cause_model(kb),
            rules=tuple(
                Rule(r.id, r.level, tuple(frozenset(g) for g in r.groups())) for r in kb.red_flags
            ),
            implied_by={k: frozenset(v) for k, v in implied_by.items()},
            singles=singles,
            static=tuple(static),
            follow_up=follow_up,
            order=order,
        )


@by_digest
def interview_model(kb: KnowledgeBase) -> InterviewModel:
    """The interview model of ``kb``, built on first use (kept by the knowledge base's digest;
    see :func:`~twitchwise.reason.model.by_digest`)."""
    return InterviewModel.build(kb)


def _label(kb: KnowledgeBase, findings: Iterable[str]) -> str:
    return " / ".join(kb.findings[f].label for f in findings)
