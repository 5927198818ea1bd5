"""Rank causes: naive Bayes with likelihood ratios over the reported findings.

For each cause: odds = prior x modifiers (age, sex, context) x the likelihood ratio of every
reported finding the cause lists (``with / without`` when present, ``(1 - with) / (1 - without)``
when denied, square-rooted when hedged). Findings a person did not mention are unknown and
change nothing. Scores are normalised together with a fixed share for "something else", so the
probabilities sum to less than 1 and say how much is left unexplained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twitchwise.evidence import Evidence
from twitchwise.knowledge.load import KnowledgeBase

#: Prior weight of "something not in the knowledge base", relative to the causes' priors.
OTHER_SHARE = 0.10
#: A finding "tells" for a cause when it multiplies the cause's odds by at least this much; a
#: cause none of whose telling findings was mentioned ("tired muscles after exercise" for
#: someone who never mentioned exercise) is ranked on its prior alone and gets no advice.
TELLING_RATIO = 3.0
_GENERIC_KINDS = frozenset({"region", "side", "demographic", "twitch", "duration"})
#: One finding can move a cause's odds by at most this factor either way.
_LR_FLOOR, _LR_CEILING = 1e-4, 1e4


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


def rank(kb: KnowledgeBase, evidence: Evidence) -> list[RankedCause]:
    present = evidence.present
    negated = evidence.negated
    hedged = evidence.uncertain
    scores: dict[str, float] = {}
    why: dict[str, tuple[list[tuple[float, str]], list[tuple[float, str]]]] = {}
    told: dict[str, bool] = {}
    for cause in kb.causes.values():
        log_score = math.log(cause.prior)
        for mod in cause.modifiers:
            if mod.finding in present:
                log_score += math.log(mod.factor)
        pros: list[tuple[float, str]] = []
        cons: list[tuple[float, str]] = []
        telling = False
        for lk in cause.likelihoods:
            without = lk.without if lk.without is not None else kb.findings[lk.finding].base_rate
            if (
                lk.finding in present
                and lk.with_ / without >= TELLING_RATIO
                and kb.findings[lk.finding].kind not in _GENERIC_KINDS
            ):
                telling = True
            if lk.finding in present:
                ratio = lk.with_ / without
                if lk.finding in hedged:
                    ratio = math.sqrt(ratio)
            elif lk.finding in negated:
                ratio = (1 - lk.with_) / (1 - without)
            else:
                continue
            ratio = min(max(ratio, _LR_FLOOR), _LR_CEILING)
            log_score += math.log(ratio)
            label = lk.finding if lk.finding in present else f"!{lk.finding}"
            if ratio > 1.05:
                pros.append((ratio, label))
            elif ratio < 0.95:
                cons.append((ratio, label))
        scores[cause.id] = log_score
        why[cause.id] = (pros, cons)
        told[cause.id] = telling
    total_prior = sum(c.prior for c in kb.causes.values())
    other = math.log(OTHER_SHARE * total_prior)
    top = max([*scores.values(), other])
    denominator = math.exp(other - top) + sum(math.exp(s - top) for s in scores.values())
    ranked = []
    for cid, s in scores.items():
        cause = kb.causes[cid]
        pros, cons = why[cid]
        ranked.append(
            RankedCause(
                id=cid,
                name=cause.name,
                probability=math.exp(s - top) / denominator,
                supporting=tuple(f for _, f in sorted(pros, reverse=True)),
                against=tuple(f for _, f in sorted(cons)),
                explanation=cause.explanation,
                telling=told[cid],
            )
        )
    ranked.sort(key=lambda r: (-r.probability, r.id))
    return ranked
