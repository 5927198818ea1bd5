"""What an interview knows: answers recorded, and the evidence they add up to.

:func:`evidence` is everything known now: the opening evidence plus every answer (a direct
answer replaces what was read from the text), with implied findings added. A reply becomes an
:class:`~twitchwise.reason.interview.state.Answered` through :func:`answer` (a person's reply
to a question) or :func:`answer_from` (a mapping of finding ids, for scripts); an amount
("5 mugs a day") settles findings through :func:`quantity_findings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from twitchwise.errors import InputError
from twitchwise.evidence import Evidence, Observation, merge, with_implied
from twitchwise.knowledge.facts import finding_ids, quantity_findings
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.reason.interview.state import Answered, InterviewState, Question

#: Findings a ``caffeine_mg`` quantity settles (the same ids the parser derives from drinks).
CAFFEINE_FINDINGS = ("caffeine_any", "caffeine_moderate", "caffeine_high")
#: Quantities whose answer is also kept as a number for the plan ("about 480 mg a day").
KEPT_QUANTITIES = ("caffeine_mg", "sleep_h")


def findings_evidence(ids: Iterable[str], kb: KnowledgeBase) -> Evidence:
    """Evidence from finding ids (``"!id"`` denied), built exactly as ``twitchwise.assess``."""
    observations = [Observation(fid, denied, text=fid) for fid, denied in finding_ids(kb, ids)]
    return with_implied(Evidence(observations=merge(observations)), kb.closure)


def evidence(state: InterviewState, kb: KnowledgeBase) -> Evidence:
    """Everything known now: the start plus every answer, with implied findings added."""
    start = state.start
    if not any(a.answers for a in state.asked):
        return with_implied(start, kb.closure)
    answered = {fid for a in state.asked for fid, _ in a.answers}
    # a direct answer is the person's latest word on a finding: it replaces what was read
    # from their text (a possible red flag answered "no" is settled)
    observations = [o for o in start.observations if o.id not in answered]
    quantities = dict(start.quantities)
    amounts: list[Answered] = []
    for a in state.asked:
        if a.quantity is not None and a.value is not None:
            amounts.append(a)  # mapped below, once everything else is known (caffeine limit)
            continue
        observations += [Observation(fid, not yes) for fid, yes in a.answers]
    if amounts:
        present = with_implied(Evidence(merge(observations)), kb.closure).present
        for a in amounts:
            assert a.quantity is not None and a.value is not None
            amount = a.value * unit(kb, a.question)
            settled = quantity_findings(kb, a.quantity, amount, present)
            observations += [Observation(fid, not yes) for fid, yes in settled.items()]
            if a.quantity in KEPT_QUANTITIES:
                quantities[a.quantity] = amount
    merged = Evidence(merge(observations), quantities, start.not_understood, start.medicines)
    return with_implied(merged, kb.closure)


def unit(kb: KnowledgeBase, question_id: str) -> float:
    """Size of one unit of a quantity question's options (mg per mug for caffeine)."""
    q = kb.questions.get(question_id)
    if q is None or q.drink is None:
        return 1.0
    return next((d.mg for d in kb.plan.caffeine_drinks if d.id == q.drink), 1.0)


# --------------------------------------------------------------------------- answering


def answer(
    state: InterviewState,
    question: Question,
    reply: bool | int | Sequence[int] | None,
    kb: KnowledgeBase,
) -> InterviewState:
    """Record a person's reply: ``True``/``False`` for a yes/no question; the index of the
    chosen option for ``one_of`` and ``quantity``; the indexes of the chosen options for
    ``choice`` (an empty list means "none of these"). ``None`` is "not sure"."""
    settled: dict[str, bool] = {}
    value: float | None = None
    if reply is None:
        pass
    elif question.kind == "finding":
        if not isinstance(reply, bool):
            raise InputError("answer a yes/no question with True, False or None")
        settled[question.id] = reply
    elif question.kind in ("one_of", "quantity"):
        if isinstance(reply, bool) or not isinstance(reply, int):
            raise InputError("answer with the index of one option, or None")
        chosen = question.options[reply]
        if question.kind == "quantity":
            assert question.quantity is not None and chosen.value is not None
            value = chosen.value
            amount = value * unit(kb, question.id)
            settled = quantity_findings(kb, question.quantity, amount, evidence(state, kb).present)
            settled = {f: yes for f, yes in settled.items() if f in question.findings}
        else:
            settled = _chosen(kb, question, [reply])
    else:
        if isinstance(reply, bool | int):
            raise InputError("answer a choice question with a list of option indexes, or None")
        settled = _chosen(kb, question, list(reply), evidence(state, kb).present)
    done = Answered(
        question.id,
        question.text,
        question.findings,
        tuple(settled.items()),
        question.quantity if value is not None else None,
        value,
    )
    return InterviewState(state.start, (*state.asked, done))


def _chosen(
    kb: KnowledgeBase,
    question: Question,
    indexes: list[int],
    present: frozenset[str] = frozenset(),
) -> dict[str, bool]:
    chosen = {f for i in indexes for f in question.options[i].findings}
    implied = {g for f in chosen for g in kb.closure[f]}
    out = {f: (f in chosen) for o in question.options for f in o.findings if f not in implied}
    out.update({f: True for f in chosen})
    area_finding = question.areas_finding
    if area_finding and area_finding in question.findings and area_finding not in out:
        areas = {kb.findings[f].area for f in chosen | (present & set(kb.findings))}
        out[area_finding] = len(areas - {None}) >= 2 or area_finding in implied
    return out


def answer_from(
    state: InterviewState, question: Question, answers: Mapping[str, bool]
) -> InterviewState:
    """Answer from a mapping of finding ids to true/false (scripts, tests): each finding of the
    question takes its value from the mapping; a finding not in it stays unknown."""
    settled = tuple((f, bool(answers[f])) for f in question.findings if f in answers)
    done = Answered(question.id, question.text, question.findings, settled)
    return InterviewState(state.start, (*state.asked, done))


def describe_answer(a: Answered, kb: KnowledgeBase) -> str:
    """An answer in words: yes, no, not sure, the value, or what was chosen."""
    if not a.answers:
        return "not sure"
    if a.value is not None:
        q = kb.questions.get(a.question)
        label = next((o.label for o in q.options if o.value == a.value), None) if q else None
        return label or f"{a.value:g}"
    if len(a.findings) == 1:
        return "yes" if a.answers[0][1] else "no"
    chosen = [kb.findings[f].label for f, yes in a.answers if yes]
    if chosen:
        return "yes: " + "; ".join(chosen)
    if len(a.answers) == len(a.findings):
        return "none of these"
    return "no: " + "; ".join(kb.findings[f].label for f, _ in a.answers)
