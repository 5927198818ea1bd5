"""The personal plan: knowledge-base advice templates filled with this person's numbers.

An advice item is chosen by the person's findings, the leading causes or the triage level
(see :class:`~twitchwise.knowledge.schema.Advice`); its template is filled from the person's
caffeine, sleep, medicines and the knowledge base's foods and tests. An item whose numbers are
not known is skipped in favour of the next item of the same kind, so a plan is only as specific
as what the person told us. Which items apply and how a template is filled are the rules the
guides use too (:mod:`twitchwise.reason.advice`); the person's numbers are this module's own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from twitchwise.evidence import Evidence
from twitchwise.knowledge.facts import caffeine_limit
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.reason.advice import applies, by_priority, fill, fluid_values, fmt, no_test
from twitchwise.reason.rank import RankedCause
from twitchwise.reason.triage import Triage

#: Causes whose advice is offered: the leaders, while they explain a fair share.
LEADING = 3
LEADING_MIN_PROBABILITY = 0.08
#: A plan longer than this stops being read; the most specific items come first.
MAX_ITEMS = 8
_SLEEP_TARGET_H = 7.0


@dataclass(frozen=True, slots=True)
class PlanItem:
    id: str
    kind: str
    text: str
    source: str


def leading_causes(ranking: list[RankedCause]) -> list[str]:
    """The causes whose advice is given: the leading ones that something the person said
    points to (a cause ranked on its prior alone gets no advice of its own)."""
    lead = [
        r.id for r in ranking[:LEADING] if r.probability >= LEADING_MIN_PROBABILITY and r.telling
    ]
    return lead or [r.id for r in ranking[:1] if r.telling]


def make_plan(
    kb: KnowledgeBase,
    evidence: Evidence,
    ranking: list[RankedCause],
    triage: Triage,
) -> list[PlanItem]:
    present = evidence.present
    leading = set(leading_causes(ranking))
    values = _numbers(kb, evidence, ranking)
    chosen: dict[str, PlanItem] = {}
    for advice in by_priority(kb.plan.advice):
        if advice.kind in chosen or not applies(advice, present, leading, triage.level):
            continue
        text = fill(kb, advice, values)
        if text is not None:
            chosen[advice.kind] = PlanItem(advice.id, advice.kind, text, advice.sources[0])
    return list(chosen.values())[:MAX_ITEMS]


def _numbers(kb: KnowledgeBase, evidence: Evidence, ranking: list[RankedCause]) -> dict[str, str]:
    q: Mapping[str, float] = evidence.quantities
    out: dict[str, str] = {}
    limit = caffeine_limit(kb, evidence.present)
    out["caffeine_limit_mg"] = fmt(limit)
    if "caffeine_mg" in q:
        mg = q["caffeine_mg"]
        out["caffeine_mg"] = fmt(mg)
        over = mg - limit
        if over > 0:
            coffee = next((d.mg for d in kb.plan.caffeine_drinks if d.id == "coffee"), 96.0)
            out["caffeine_over_mg"] = fmt(over)
            out["coffees_to_cut"] = fmt(max(1, math.ceil(over / coffee)))
    if "sleep_h" in q:
        hours = q["sleep_h"]
        out["sleep_h"] = fmt(hours)
        gap = _SLEEP_TARGET_H - hours
        if gap > 0:
            out["sleep_gap_h"] = fmt(math.ceil(gap * 2) / 2)
    present = evidence.present
    group = "men" if "sex_male" in present else "women" if "sex_female" in present else None
    if "pregnant" in present:
        group = "pregnant"
    out |= fluid_values(kb, group)
    if evidence.medicines:
        out["medicines"] = ", ".join(evidence.medicines)
    tests: list[str] = []
    for r in ranking[:2]:
        if r.probability >= LEADING_MIN_PROBABILITY:
            tests.extend(t for t in kb.causes[r.id].tests[:2] if not no_test(t))
    if tests:
        out["tests"] = "; ".join(dict.fromkeys(t.rstrip(".") for t in tests))
    return out
