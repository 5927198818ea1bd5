"""Advice items (``plan/advice.yaml``): which apply, and their templates filled in.

One home for the rules an answer's personal plan (:mod:`twitchwise.reason.plan`) and a guide
(:mod:`twitchwise.guides.build`) share: when an item applies (:func:`applies`), how its template
is filled (:func:`fill`; an item with a placeholder that cannot be filled is skipped, so a later
item of the same kind serves as its fallback), the foods of its nutrients, the fluid figures,
and how numbers are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import Advice, TriageLevel

__all__ = ["applies", "by_priority", "fill", "fluid_values", "fmt", "foods", "no_test"]


def by_priority(items: Iterable[Advice]) -> list[Advice]:
    """Advice items in the order they are considered: by priority, then id."""
    return sorted(items, key=lambda a: (a.priority, a.id))


def applies(
    advice: Advice, present: Set[str], leading: Set[str], level: TriageLevel | None
) -> bool:
    """Whether an item applies to these present findings, leading causes and triage level.

    ``unless_findings`` vetoes; ``when_all`` must all be present; ``when_levels`` must hold the
    level and ``up_to_level`` must not be below it. Then the item applies when it is ``always``
    shown, when one of ``when_findings`` is present or one of ``when_causes`` leads, or when it
    names neither (its ``when_all`` or ``when_levels`` alone decide).

    ``level`` is ``None`` for a guide, which has no triage of its own: items tied to a triage
    level are left out there (a guide lists what to do at each level separately).
    """
    if present & set(advice.unless_findings):
        return False
    if advice.when_levels and (level is None or level not in advice.when_levels):
        return False
    if level is not None and advice.up_to_level is not None and level > advice.up_to_level:
        return False  # lifestyle tips give way when something urgent needs doing
    if advice.when_all and not set(advice.when_all) <= present:
        return False
    if advice.always:
        return True
    if not advice.when_findings and not advice.when_causes:
        return bool(advice.when_levels or advice.when_all)
    return bool(present & set(advice.when_findings) or leading & set(advice.when_causes))


class _Missing(KeyError):
    pass


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise _Missing(key)


def fill(kb: KnowledgeBase, advice: Advice, values: Mapping[str, str]) -> str | None:
    """The item's text with its placeholders filled from ``values`` (``{foods}`` from its own
    nutrients), or ``None`` when one of them has no value."""
    local = _Values(values)
    if advice.nutrients:
        local["foods"] = foods(kb, advice.nutrients)
    try:
        return advice.text.format_map(local)
    except _Missing:
        return None


def fluid_values(kb: KnowledgeBase, group: str | None) -> dict[str, str]:
    """``drinks_l`` and ``fluid_group`` for a group of the fluid reference ("men", "women",
    "pregnant"), or the women-to-men range when the group is unknown or has no row."""
    reference = {r.group: r for r in kb.plan.fluid_reference}
    ref = reference.get(f"efsa_{group}") if group else None
    if ref is not None:
        return {
            "drinks_l": fmt(ref.drinks_l),
            "fluid_group": "pregnant women" if group == "pregnant" else group or "",
        }
    if "efsa_women" in reference and "efsa_men" in reference:
        women, men = reference["efsa_women"].drinks_l, reference["efsa_men"].drinks_l
        return {"drinks_l": f"{fmt(women)}-{fmt(men)}", "fluid_group": "adults (women to men)"}
    return {}


def foods(kb: KnowledgeBase, nutrient_ids: Iterable[str]) -> str:
    """Up to four foods for each nutrient, with amounts: "magnesium: ...; calcium: ..."."""
    by_id = {n.id: n for n in kb.plan.nutrients}
    parts = []
    for nid in nutrient_ids:
        nutrient = by_id.get(nid)
        if nutrient is not None:
            listed = ", ".join(f"{f.food.lower()} ({f.amount})" for f in nutrient.foods[:4])
            parts.append(f"{nutrient.name.lower()}: {listed}")
    return "; ".join(parts)


def fmt(value: float) -> str:
    """A number as advice writes it: 400, 2.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def no_test(text: str) -> bool:
    """A cause's "tests" entry that says no test is needed ("Usually none: ...")."""
    return text.lower().startswith(("usually none", "none", "no test"))
