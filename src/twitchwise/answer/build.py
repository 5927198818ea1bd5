"""Build an :class:`Answer` from text (:func:`answer_text`) or from finding ids
(:func:`answer_ids`). The knowledge base and the parser are parameters: the application
object (:class:`twitchwise.app.Twitchwise`) holds them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from twitchwise.answer.model import (
    Answer,
    CauseOut,
    FindingOut,
    PlanOut,
    PossibleOut,
    ReasonOut,
    SourceOut,
)
from twitchwise.errors import InputError
from twitchwise.evidence import Evidence, Observation, merge, with_implied
from twitchwise.knowledge.facts import finding_ids, quantity_findings
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.plan import make_plan
from twitchwise.reason.rank import RankedCause, rank
from twitchwise.reason.triage import Triage, triage

if TYPE_CHECKING:
    from twitchwise.knowledge.load import KnowledgeBase
    from twitchwise.understand.parse import Parser

#: How many causes an answer lists at most, and the smallest probability worth listing.
MAX_CAUSES = 6
MIN_LISTED_PROBABILITY = 0.01
MIN_CAUSES = 3
SEXES = ("female", "male")
EXAMPLE = 'twitchwise ask "my left eyelid has twitched for 3 days, I sleep 5 hours"'


def answer_text(
    kb: KnowledgeBase,
    parser: Parser,
    text: str,
    *,
    age: int | None = None,
    sex: str | None = None,
    today: date | None = None,
) -> Answer:
    """Answer a lay description of a twitch."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"describe the twitch in words, for example: {EXAMPLE}", field="text")
    evidence = parser.parse(text, today=today)
    return answer_for(kb, with_demographics(kb, evidence, age, sex))


def answer_ids(
    kb: KnowledgeBase,
    findings: Iterable[str],
    *,
    age: int | None = None,
    sex: str | None = None,
) -> Answer:
    """Answer from finding ids; ``"!id"`` marks a finding the person does not have."""
    observations = [Observation(fid, denied, text=fid) for fid, denied in finding_ids(kb, findings)]
    evidence = Evidence(observations=merge(observations))
    evidence = with_demographics(kb, evidence, age, sex)
    evidence = with_implied(evidence, kb.closure)
    return answer_for(kb, evidence)


def with_demographics(
    kb: KnowledgeBase, evidence: Evidence, age: int | None, sex: str | None
) -> Evidence:
    """The evidence with a stated age (its age band) and sex, replacing any read from text."""
    extra: list[Observation] = []
    quantities = dict(evidence.quantities)
    if age is not None:
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120:
            raise InputError(
                f"age must be a whole number of years from 0 to 120, not {age!r}", field="age"
            )
        quantities["age_years"] = age
        for fid, means in quantity_findings(kb, "age_years", age, evidence.present).items():
            if means:
                extra.append(Observation(fid, text=f"age {age}", derived=True))
        # the stated age replaces any age read from the text
        kept = [o for o in evidence.observations if not o.id.startswith("age_")]
        evidence = Evidence(tuple(kept), quantities, evidence.not_understood, evidence.medicines)
    if sex is not None:
        if sex not in SEXES:
            raise InputError(f"sex must be 'female' or 'male', not {sex!r}", field="sex")
        kept = [o for o in evidence.observations if not o.id.startswith("sex_")]
        extra.append(Observation(f"sex_{sex}", text=sex, derived=True))
        evidence = Evidence(tuple(kept), quantities, evidence.not_understood, evidence.medicines)
    if not extra:
        return evidence
    return Evidence(
        merge([*evidence.observations, *extra]),
        quantities,
        evidence.not_understood,
        evidence.medicines,
    )


def finding_labels(kb: KnowledgeBase, ids: Iterable[str]) -> str:
    """Finding ids as their labels for people: "!weakness" -> "no muscle weakness"."""
    out = []
    for raw in ids:
        fid = raw.lstrip("!")
        finding = kb.findings.get(fid)
        label = finding.label if finding is not None else fid
        if raw.startswith("!"):
            label = "no " + (label if label[1:2].isupper() else label[:1].lower() + label[1:])
        out.append(label)
    return ", ".join(out)


def answer_for(kb: KnowledgeBase, evidence: Evidence) -> Answer:
    """The one place an Answer is assembled: rank, triage, plan, summary, sources."""
    ranking = rank(kb, evidence)
    result = triage(kb, evidence.present, evidence.possible)
    if result.level >= TriageLevel.SEE_DOCTOR_URGENT:
        # a reassuring routine reason ("it is rarely serious") is not shown beside urgent ones
        result = replace(
            result,
            reasons=tuple(r for r in result.reasons if r.level >= TriageLevel.SEE_DOCTOR_URGENT),
        )
    plan = make_plan(kb, evidence, ranking, result)
    listed = [r for r in ranking[:MAX_CAUSES] if r.probability >= MIN_LISTED_PROBABILITY]
    if len(listed) < MIN_CAUSES:
        listed = ranking[:MIN_CAUSES]
    source_ids: list[str] = [r.source for r in result.reasons]
    in_plan = {i.id for i in plan}
    source_ids += [p.sources[0] for p in kb.plan.advice if p.id in in_plan]
    for r in listed[:3]:
        source_ids += kb.causes[r.id].sources[:2]
    source_ids.append("nhs-twitch")
    return Answer(
        summary=summary(kb, evidence, ranking, result),
        level=result.level,
        reasons=tuple(ReasonOut(r.finding, r.text, r.source) for r in result.reasons),
        causes=tuple(
            CauseOut(
                r.id,
                r.name,
                r.probability,
                r.supporting,
                r.against,
                r.explanation,
                kb.causes[r.id].grave,
                finding_labels(kb, r.supporting),
                finding_labels(kb, r.against),
            )
            for r in listed
        ),
        findings=tuple(
            FindingOut(
                o.id,
                o.negated,
                o.text or kb.findings[o.id].label,
                o.uncertain,
                kb.findings[o.id].label,
            )
            for o in evidence.observations
        ),
        not_understood=evidence.not_understood,
        plan=tuple(PlanOut(p.kind, p.text, p.source) for p in plan),
        sources=tuple(
            SourceOut(s.id, s.title, s.url, s.publisher)
            for s in kb.source_list(i for i in source_ids if i in kb.sources)
        ),
        unexplained=max(0.0, 1.0 - sum(r.probability for r in ranking)),
        possible=possible_flags(kb, evidence),
    )


#: What to do if a red flag read with doubt turns out to be there, by the most urgent level it
#: can reach.
_IF_SO = {
    TriageLevel.EMERGENCY: (
        "If so, call emergency services now (999 in the UK, 112 in Europe, 911 in the US)."
    ),
    TriageLevel.SEE_DOCTOR_URGENT: (
        "If so, get medical advice today (your GP, NHS 111 or an urgent care service)."
    ),
    TriageLevel.SEE_DOCTOR_ROUTINE: "If so, book a GP appointment.",
}


def possible_flags(kb: KnowledgeBase, evidence: Evidence) -> tuple[PossibleOut, ...]:
    """Red flags read with doubt (hedged, denied far away or with doubt, taken back, stopped,
    or a misspelt word), each with a plain question: they count toward the level already."""
    out = []
    for o in evidence.observations:
        if o.negated or not o.uncertain or o.id not in kb.red_flag_findings:
            continue
        finding = kb.findings[o.id]
        # the level this finding would bring with everything else said ("dark urine" after a
        # marathon is an emergency, on its own urgent)
        top = max(
            kb.red_flag_levels[o.id],
            triage(kb, evidence.present | {o.id}, evidence.possible).level,
        )
        ask_it = finding.question or f"Do you have this: {finding.label.lower()}?"
        words = o.text or finding.label
        out.append(
            PossibleOut(
                o.id, words, f'You wrote "{words}". {ask_it} {_IF_SO.get(top, "")}'.strip(), o.doubt
            )
        )
    return tuple(out)


def summary(
    kb: KnowledgeBase, evidence: Evidence, ranking: list[RankedCause], result: Triage
) -> str:
    """The one-line answer: urgency first when it is not self-care. A grave, rare cause is
    named as something a doctor needs to check, with what it more often turns out to be."""
    about_twitch = bool(evidence.present & {"twitching", "jerking", "cramps", "tremor"})
    if not evidence.present and not evidence.negated and not evidence.possible:
        return (
            "I could not find any symptoms in what you wrote; describe where it twitches, "
            "for how long, and anything else you notice."
        )
    top = ranking[0]
    grave = kb.causes[top.id].grave
    usual = next((r for r in ranking if not kb.causes[r.id].grave), None)

    def likely(r: RankedCause) -> str:
        return f"{r.name[0].lower()}{r.name[1:]}, {round(r.probability * 100)}%"

    def check(r: RankedCause) -> str:
        name = f"{r.name[0].lower()}{r.name[1:]}"
        if usual is None:
            return f"A doctor needs to check for {name}."
        other = f"{usual.name[0].lower()}{usual.name[1:]}"
        return f"A doctor needs to check for {name}; other causes, such as {other}, are possible."

    flag = kb.findings[result.reasons[0].finding].label.lower() if result.reasons else ""
    if result.reasons and result.reasons[0].finding in evidence.possible | evidence.uncertain:
        # the level rests on a red flag read with doubt: say so, and point at the question
        if result.level is TriageLevel.EMERGENCY:
            return (
                f"Call emergency services now if you have {flag}: it needs urgent medical "
                "care. Please answer the question below."
            )
        return (
            f"See a doctor soon (today or within days) if you have {flag}. Please answer the "
            "question below."
        )
    if result.level is TriageLevel.EMERGENCY:
        cause = (
            f"It could be {top.name[0].lower()}{top.name[1:]}."
            if grave
            else (f"Possible cause: {likely(top)}.")
        )
        return f"Call emergency services now: {flag} needs urgent medical care. {cause}"
    if result.level is TriageLevel.SEE_DOCTOR_URGENT:
        cause = check(top) if grave else f"Most likely: {likely(top)}."
        return f"See a doctor soon (today or within days) because of {flag}. {cause}"
    if result.level is TriageLevel.SEE_DOCTOR_ROUTINE:
        if grave:
            return f"Book a routine GP appointment because of {flag}. {check(top)}"
        return f"Most likely {likely(top)}. Book a routine GP appointment because of {flag}."
    what = "twitching like this" if about_twitch else "this"
    shown = usual if grave and usual is not None else top
    return (
        f"Most likely {likely(shown)}. {what.capitalize()} is usually harmless and settles with "
        "self-care."
    )
