"""The site's "check your twitch" page: the red flags of the knowledge base as a checklist a
reader goes through without any script, most urgent first, and a result page for each level.

Every red flag is shown as its sign (:func:`~twitchwise.guides.build.sign_of`, as in a guide's
warning-sign box) under what to do for it (:data:`~twitchwise.guides.build.ACTIONS`): call 999
now, get help today, see your GP within a few days, see a GP. A reader answers one step at a
time: "yes, one of these" opens the result page of that step; "no" goes on to the next, and
"no" to the last leads to self-care. Because the steps go from the most urgent down, the first
"yes" is the highest level any sign reaches, as in triage.

A sign that another sign of the same or a more urgent step already covers is left out (an
eyelid twitch of more than 3 months is also a twitch of more than 2 weeks), so is a sign worded
like one already listed. A result page says what to do at its level (the advice of the
knowledge base for that level, filled for a typical adult) and lists the signs that lead
there with their full reasons and sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from twitchwise.answer.model import SourceOut
from twitchwise.guides.build import ACTIONS, action_of, guide_values, sign_of, uncovered
from twitchwise.guides.model import Cited
from twitchwise.guides.pages import sources_of
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.advice import by_priority, fill

__all__ = ["SELF_CARE", "CheckResult", "CheckSign", "CheckStep", "Checklist", "checklist"]

#: The action of the result when no step's sign applies.
SELF_CARE = "self-care"
#: The self-care result's heading (what to do is the knowledge base's self-care advice).
SELF_CARE_TITLE = "No warning sign: look after it yourself for now"


@dataclass(frozen=True, slots=True)
class CheckSign:
    """A red flag as the checklist asks it: the sign, and its reason for the result page."""

    id: str
    sign: str
    reason: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckStep:
    """One step of the checklist: the signs that share what to do."""

    action: str
    level: str
    title: str
    signs: tuple[CheckSign, ...]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The page a step's "yes" (or the last "no") leads to."""

    action: str
    level: str
    title: str
    #: What to do at this level: the knowledge base's advice for it.
    advice: tuple[Cited, ...]
    #: The signs that lead here (none for self-care).
    signs: tuple[CheckSign, ...]
    #: Every source the page cites, in order of first citation (its numbered notes).
    sources: tuple[SourceOut, ...]


@dataclass(frozen=True)
class Checklist:
    steps: tuple[CheckStep, ...]
    results: tuple[CheckResult, ...]

    def result(self, action: str) -> CheckResult:
        return next(r for r in self.results if r.action == action)


def checklist(kb: KnowledgeBase) -> Checklist:
    """Every red flag of ``kb`` as a step of the checklist, and the result page of each step
    and of self-care."""
    flags = sorted(kb.red_flags, key=lambda f: -f.level.rank)  # stable: file order within
    kept = uncovered(flags, kb)
    signs: dict[str, list[CheckSign]] = {action: [] for action, _, _ in ACTIONS}
    for flag in kept:
        step = signs[action_of(flag)]
        sign = sign_of(flag)
        if any(s.sign.lower() == sign.lower() for s in step):
            continue
        step.append(CheckSign(flag.id, sign, " ".join(flag.reason.split()), tuple(flag.sources)))
    steps = tuple(
        CheckStep(action, level.value, title, tuple(signs[action]))
        for action, level, title in ACTIONS
        if signs[action]
    )
    results = [
        _result(kb, step.action, TriageLevel(step.level), step.title, step.signs) for step in steps
    ]
    results.append(_result(kb, SELF_CARE, TriageLevel.SELF_CARE, SELF_CARE_TITLE, ()))
    return Checklist(steps, tuple(results))


def _result(
    kb: KnowledgeBase,
    action: str,
    level: TriageLevel,
    title: str,
    signs: tuple[CheckSign, ...],
) -> CheckResult:
    advice = [] if action == "days" else _level_advice(kb, level)
    cited = [s for a in advice for s in a.sources] + [s for x in signs for s in x.sources]
    return CheckResult(action, level.value, title, tuple(advice), signs, sources_of(kb, cited))


def _level_advice(kb: KnowledgeBase, level: TriageLevel) -> list[Cited]:
    """The advice for a triage level, one item per kind (the first by priority that fills for
    a typical adult), as an answer at that level gives it. Urgent advice says "today", so the
    "within a few days" step has none: its signs' reasons say what to do."""
    values = guide_values(kb)
    out: list[Cited] = []
    kinds: set[str] = set()
    for item in by_priority(kb.plan.advice):
        if level not in item.when_levels or item.kind in kinds:
            continue
        text = fill(kb, item, values)
        if text:
            out.append(Cited(text, tuple(item.sources)))
            kinds.add(item.kind)
    return out
