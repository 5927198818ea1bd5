"""Triage: deterministic red-flag rules; the most urgent level reached wins.

A rule fires when every item of its ``all_of`` has a present finding (an item that is a list
needs any one of them). Rules never look at denied or missing findings, so adding a finding can
only fire more rules: the level is monotone by construction. No rule firing means self-care.

*Possible* findings (red flags whose denial was in doubt) count as present for the urgent and
emergency rules: a red flag in doubt raises the level to the one at which it must be checked,
and is asked about; it never silently lowers it. They do not fire routine rules on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import RedFlag, TriageLevel

#: What each level tells a person to do, as answers, guides and the interview title it.
LEVEL_TITLES = {
    TriageLevel.SELF_CARE: "Self-care",
    TriageLevel.SEE_DOCTOR_ROUTINE: "See a GP (routine)",
    TriageLevel.SEE_DOCTOR_URGENT: "See a doctor soon (today or within days)",
    TriageLevel.EMERGENCY: "EMERGENCY: call emergency services now",
}


@dataclass(frozen=True, slots=True)
class Reason:
    finding: str
    text: str
    source: str
    rule: str
    level: TriageLevel


@dataclass(frozen=True, slots=True)
class Triage:
    level: TriageLevel
    reasons: tuple[Reason, ...]


def fired(rule: RedFlag, present: frozenset[str]) -> str | None:
    """The finding to report if the rule fires on these present findings, else None."""
    hits = []
    for group in rule.groups():
        found = next((f for f in group if f in present), None)
        if found is None:
            return None
        hits.append(found)
    return rule.report if rule.report in present else hits[0]


def triage(
    kb: KnowledgeBase, present: frozenset[str], possible: frozenset[str] = frozenset()
) -> Triage:
    reasons = []
    widened = present | possible
    for rule, groups in zip(kb.red_flags, kb.rule_groups, strict=True):
        if not all(widened & g for g in groups):
            continue  # cheap pre-check: most rules do not fire
        finding = fired(rule, present)
        if finding is None and possible and rule.level >= TriageLevel.SEE_DOCTOR_URGENT:
            finding = fired(rule, widened)
        if finding is not None:
            reasons.append(Reason(finding, rule.reason, rule.sources[0], rule.id, rule.level))
    if not reasons:
        return Triage(TriageLevel.SELF_CARE, ())
    level = max(r.level for r in reasons)
    reasons.sort(key=lambda r: (-r.level.rank, r.rule))
    # the most urgent reasons first; one reason per reported finding
    seen: set[str] = set()
    unique = []
    for r in reasons:
        if r.finding in seen:
            continue
        seen.add(r.finding)
        unique.append(r)
    return Triage(level, tuple(unique))
