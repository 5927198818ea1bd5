"""Small lookups over plan facts that more than one layer needs."""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import TYPE_CHECKING

from twitchwise.errors import InputError
from twitchwise.knowledge.load import KnowledgeBase

if TYPE_CHECKING:
    from twitchwise.knowledge.schema import QuantityRule

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


def caffeine_level(kb: KnowledgeBase, mg: float, present: Set[str]) -> str:
    """The caffeine finding an amount a day means for this person: ``caffeine_high`` above
    their daily limit, ``caffeine_moderate`` from one large serving up, else ``caffeine_any``."""
    if mg > caffeine_limit(kb, present):
        return "caffeine_high"
    if mg >= caffeine_single_dose(kb):
        return "caffeine_moderate"
    return "caffeine_any"


def rule_matches(rule: QuantityRule, value: float, present: Set[str]) -> bool:
    """Whether a lexicon quantity rule gives its finding for ``value``: within its bounds,
    and with one of the findings it ``requires_any`` present (when it names any)."""
    if rule.min is not None and value < rule.min:
        return False
    if rule.max is not None and value > rule.max:
        return False
    return not rule.requires_any or bool(set(rule.requires_any) & set(present))


def quantity_findings(
    kb: KnowledgeBase, quantity: str, value: float, present: Set[str] = frozenset()
) -> dict[str, bool]:
    """Every finding an amount speaks to, true when the amount means it: the lexicon's
    ``quantity_rules``, or the caffeine limits (``value`` in mg a day) for ``caffeine_mg``."""
    if quantity == "caffeine_mg":
        level = caffeine_level(kb, value, present)
        return {
            "caffeine_any": value > 0,
            "caffeine_moderate": level in ("caffeine_high", "caffeine_moderate"),
            "caffeine_high": level == "caffeine_high",
        }
    out: dict[str, bool] = {}
    for rule in kb.lexicon.quantity_rules:
        if rule.quantity == quantity:
            out[rule.finding] = out.get(rule.finding, False) or rule_matches(rule, value, present)
    return out


def finding_ids(kb: KnowledgeBase, ids: Iterable[str]) -> list[tuple[str, bool]]:
    """Finding ids as a person or program gives them, as (id, denied): ``"!id"`` is a finding
    the person does not have; blanks are skipped. Unknown ids (and the internal cue words)
    are refused together, each with the closest id, in one :class:`InputError`."""
    out: list[tuple[str, bool]] = []
    problems: list[tuple[str, str]] = []
    suggestions: list[str] = []
    for i, raw in enumerate(ids):
        item = raw.strip()
        if not item:
            continue
        fid = item.lstrip("!").strip()
        if fid not in kb.findings or kb.findings[fid].kind == "cue":
            import difflib

            known = [k for k, f in kb.findings.items() if k != fid and f.kind != "cue"]
            close = difflib.get_close_matches(fid, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append((f"findings[{i}]", f"unknown finding {fid!r}{hint}"))
            suggestions.extend(close)
            continue
        out.append((fid, item.startswith("!")))
    if problems:
        raise InputError(
            f"{problems[0][1]} (run 'twitchwise findings' to list the ids)",
            problems=problems,
            suggestions=suggestions,
        )
    return out
