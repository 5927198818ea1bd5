"""The personal plan: knowledge-base advice templates filled with this person's numbers.

An advice item is chosen by the person's findings, the leading causes or the triage level
(see :class:`~twitchwise.knowledge.schema.Advice`); its template is filled from the person's
caffeine, sleep, medicines and the knowledge base's foods and tests. An item whose numbers are
not known is skipped in favour of the next item of the same kind, so a plan is only as specific
as what the person told us.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from twitchwise.evidence import Evidence
from twitchwise.knowledge.facts import caffeine_limit
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import Advice
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


class _Missing(KeyError):
    pass


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise _Missing(key)


def leading_causes(ranking: list[RankedCause]) -> list[str]:
    """The causes whose advice is given: the leading ones that something the person said
    points to (a cause ranked on its prior alone gets no advice of its own)."""
    lead = [
        r.id
        for r in ranking[:LEADING]
        if r.probability >= LEADING_MIN_PROBABILITY and r.telling
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
    values = _Values(_numbers(kb, evidence, ranking))
    chosen: dict[str, PlanItem] = {}
    for advice in sorted(kb.plan.advice, key=lambda a: (a.priority, a.id)):
        if advice.kind in chosen or not _applies(advice, present, leading, triage):
            continue
        if advice.nutrients:
            values["foods"] = _foods(kb, advice.nutrients)
        try:
            text = advice.text.format_map(values)
        except _Missing:
            continue
        chosen[advice.kind] = PlanItem(advice.id, advice.kind, text, advice.sources[0])
    return list(chosen.values())[:MAX_ITEMS]


def _applies(advice: Advice, present: frozenset[str], leading: set[str], triage: Triage) -> bool:
    if present.intersection(advice.unless_findings):
        return False
    if advice.up_to_level is not None and triage.level > advice.up_to_level:
        return False  # lifestyle tips give way when something urgent needs doing
    if advice.when_all and not set(advice.when_all) <= present:
        return False
    if advice.when_levels and triage.level not in advice.when_levels:
        return False
    if advice.always or (
        advice.when_levels and not advice.when_findings and not advice.when_causes
    ):
        return True
    if advice.when_all and not advice.when_findings and not advice.when_causes:
        return True
    return bool(
        present.intersection(advice.when_findings) or leading.intersection(advice.when_causes)
    )


def _numbers(kb: KnowledgeBase, evidence: Evidence, ranking: list[RankedCause]) -> dict[str, str]:
    q: Mapping[str, float] = evidence.quantities
    out: dict[str, str] = {}
    limit = caffeine_limit(kb, evidence.present)
    out["caffeine_limit_mg"] = _fmt(limit)
    if "caffeine_mg" in q:
        mg = q["caffeine_mg"]
        out["caffeine_mg"] = _fmt(mg)
        over = mg - limit
        if over > 0:
            coffee = next((d.mg for d in kb.plan.caffeine_drinks if d.id == "coffee"), 96.0)
            out["caffeine_over_mg"] = _fmt(over)
            out["coffees_to_cut"] = _fmt(max(1, math.ceil(over / coffee)))
    if "sleep_h" in q:
        hours = q["sleep_h"]
        out["sleep_h"] = _fmt(hours)
        gap = _SLEEP_TARGET_H - hours
        if gap > 0:
            out["sleep_gap_h"] = _fmt(math.ceil(gap * 2) / 2)
    present = evidence.present
    group = "men" if "sex_male" in present else "women" if "sex_female" in present else None
    if "pregnant" in present:
        group = "pregnant"
    reference = {r.group: r for r in kb.plan.fluid_reference}
    ref = reference.get(f"efsa_{group}") if group else None
    if ref is not None:
        out["drinks_l"] = _fmt(ref.drinks_l)
        out["fluid_group"] = "pregnant women" if group == "pregnant" else group or ""
    elif "efsa_women" in reference and "efsa_men" in reference:
        out["drinks_l"] = (
            f"{_fmt(reference['efsa_women'].drinks_l)}-{_fmt(reference['efsa_men'].drinks_l)}"
        )
        out["fluid_group"] = "adults (women to men)"
    if evidence.medicines:
        out["medicines"] = ", ".join(evidence.medicines)
    tests: list[str] = []
    for r in ranking[:2]:
        if r.probability >= LEADING_MIN_PROBABILITY:
            tests.extend(t for t in kb.causes[r.id].tests[:2] if not _no_test(t))
    if tests:
        out["tests"] = "; ".join(dict.fromkeys(t.rstrip(".") for t in tests))
    return out


def _no_test(text: str) -> bool:
    """A cause's "tests" entry that says no test is needed ("Usually none: ...")."""
    return text.lower().startswith(("usually none", "none", "no test"))


def _foods(kb: KnowledgeBase, nutrient_ids: list[str]) -> str:
    by_id = {n.id: n for n in kb.plan.nutrients}
    parts = []
    for nid in nutrient_ids:
        nutrient = by_id.get(nid)
        if nutrient is None:
            continue
        foods = ", ".join(f"{f.food.lower()} ({f.amount})" for f in nutrient.foods[:4])
        parts.append(f"{nutrient.name.lower()}: {foods}")
    return "; ".join(parts)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
