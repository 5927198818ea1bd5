"""Small lookups over plan facts that more than one layer needs."""

from __future__ import annotations

from collections.abc import Set

from twitchwise.knowledge.load import KnowledgeBase

#: Used only if the knowledge base had no adult limit (the loader requires sources, not rows).
_FALLBACK_LIMIT_MG = 400.0
_FALLBACK_SINGLE_DOSE_MG = 200.0


def caffeine_limit(kb: KnowledgeBase, present: Set[str]) -> float:
    """This person's daily caffeine limit in mg: pregnancy, then under-18, then adult."""
    limits = {limit.group: limit for limit in kb.plan.caffeine_limits}
    if "pregnant" in present and "pregnant" in limits:
        return limits["pregnant"].mg_per_day
    if "age_under_18" in present and "under_18" in limits:
        return limits["under_18"].mg_per_day
    adult = limits.get("adult")
    return adult.mg_per_day if adult else _FALLBACK_LIMIT_MG


def caffeine_single_dose(kb: KnowledgeBase) -> float:
    """The largest single serving of caffeine advised for adults, in mg."""
    for limit in kb.plan.caffeine_limits:
        if limit.group == "adult" and limit.single_dose_mg:
            return limit.single_dose_mg
    return _FALLBACK_SINGLE_DOSE_MG
