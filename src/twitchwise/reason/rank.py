"""Rank causes: naive Bayes with likelihood ratios over the reported findings.

For each cause: odds = prior x modifiers (age, sex, context) x the likelihood ratio of every
reported finding the cause lists (``with / without`` when present, ``(1 - with) / (1 - without)``
when denied, square-rooted when hedged). Findings a person did not mention are unknown and
change nothing. Scores are normalised together with a fixed share for "something else", so the
probabilities sum to less than 1 and say how much is left unexplained.

The numbers come from one table, :class:`~twitchwise.reason.model.CauseModel`, which the
interview reads too: both give the same posterior for the same evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from twitchwise.evidence import Evidence
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.reason.model import OTHER_SHARE, TELLING_RATIO, CauseModel, cause_model

__all__ = ["OTHER_SHARE", "TELLING_RATIO", "RankedCause", "rank"]


@dataclass(frozen=True, slots=True)
class RankedCause:
    id: str
    name: str
    probability: float
    supporting: tuple[str, ...]  # finding ids; "!id" means the person denied it
    against: tuple[str, ...]
    explanation: str
    #: Whether a telling finding for this cause was mentioned (see TELLING_RATIO).
    telling: bool = True


def rank(
    kb: KnowledgeBase, evidence: Evidence, model: CauseModel | None = None
) -> list[RankedCause]:
    """The causes, most likely first (``model``: the cause model of ``kb``, looked up by
    :func:`~twitchwise.reason.model.cause_model` when not given)."""
    if model is None:
        model = cause_model(kb)
    present = evidence.present
    negated = evidence.negated
    hedged = evidence.uncertain
    probabilities = model.posterior(present, negated, hedged)
    ranked = []
    for ci, cid in enumerate(model.causes):
        pros: list[tuple[float, str]] = []
        cons: list[tuple[float, str]] = []
        telling = False
        for t in model.terms[ci]:
            if t.finding in present:
                telling = telling or t.telling
                ratio = t.hedged if t.finding in hedged else t.present
                label = t.finding
            elif t.finding in negated:
                ratio = t.absent
                label = f"!{t.finding}"
            else:
                continue
            if ratio > 1.05:
                pros.append((ratio, label))
            elif ratio < 0.95:
                cons.append((ratio, label))
        cause = kb.causes[cid]
        ranked.append(
            RankedCause(
                id=cid,
                name=cause.name,
                probability=probabilities[ci],
                supporting=tuple(f for _, f in sorted(pros, reverse=True)),
                against=tuple(f for _, f in sorted(cons)),
                explanation=cause.explanation,
                telling=telling,
            )
        )
    ranked.sort(key=lambda r: (-r.probability, r.id))
    return ranked
