"""The adaptive interview behind ``twitchwise check``: which question next, and when to stop.

The engine is pure and stateless. An :class:`InterviewState` (what was known at the start and
every question asked with its answer) goes in; :func:`next_question` returns the next
:class:`Question`, or a :class:`Stop` that says why no more are needed. The state is plain data
(``to_dict``/``from_dict``), so the web app can keep it in a form and the journal can save it.

The policy, in order (the reasoning is in docs/interview.md):

1. **Emergency reached**: stop. Nothing can raise the triage further; the person should act.
2. **Required red-flag questions**: a question is *required* when one "yes" to it would raise
   the triage to urgent or emergency, given what is known: every condition of such a rule but
   one holds, and that one is still unknown (for a one-condition rule, from the start). They are
   asked first, the most valuable first, whatever the budget. The knowledge base groups them
   into short screens ("Have you had any of these?") so the screen costs one question.
3. **Triage value**: the question most likely to raise the triage (each level weighted by how
   far it would raise it; rules still two steps away count at a discount), while that chance is
   worth a question.
4. **Causes**: the question with the largest expected information gain over causes (entropy of
   the naive-Bayes posterior of :mod:`twitchwise.reason.rank`), while an answer could still
   change the leading cause and the budget allows.
5. Stop, and say why.

Unknown stays unknown: "not sure" adds nothing, so an interview answered "not sure" throughout
ends with exactly what it started with. A finding is never asked twice, and never asked when
an answer already settles it (a present finding brings what it implies; a denied finding rules
out everything that implies it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from twitchwise.errors import InputError
from twitchwise.evidence import DOUBTS, Evidence, Observation, merge, with_implied
from twitchwise.knowledge.facts import caffeine_limit, caffeine_single_dose
from twitchwise.knowledge.load import KnowledgeBase, load_knowledge
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.rank import _LR_CEILING, _LR_FLOOR, OTHER_SHARE, rank
from twitchwise.reason.triage import triage

__all__ = [
    "Answered",
    "InterviewState",
    "Option",
    "Policy",
    "Progress",
    "Question",
    "Step",
    "Stop",
    "answer",
    "answer_from",
    "describe_answer",
    "evidence",
    "findings_evidence",
    "next_question",
    "progress",
    "quantity_findings",
    "run",
]

QuestionKind = Literal["finding", "choice", "one_of", "quantity"]
#: Findings a ``caffeine_mg`` quantity settles (the same ids the parser derives from drinks).
CAFFEINE_FINDINGS = ("caffeine_any", "caffeine_moderate", "caffeine_high")
#: Quantities whose answer is also kept as a number for the plan ("about 480 mg a day").
KEPT_QUANTITIES = ("caffeine_mg", "sleep_h")
_LOG_FLOOR, _LOG_CEILING = math.log(_LR_FLOOR), math.log(_LR_CEILING)
_EMPTY: dict[int, float] = {}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Policy:
    """The numbers of the question policy (docs/interview.md explains each)."""

    #: Utility of each triage level; raising the level from L to M is worth ``M - L``.
    utility: tuple[float, float, float, float] = (0.0, 1.0, 3.0, 9.0)
    #: Discount for a rule that needs another answer besides this one.
    lookahead: float = 0.5
    #: Ask for triage while the weighted chance of raising it is at least this.
    min_triage_value: float = 0.01
    #: Ask about causes while an answer could change the leading cause with this chance.
    min_leader_change: float = 0.12
    #: ... and the expected information gain is at least this (bits).
    min_information: float = 0.05
    #: At most this many questions, unless a required red-flag question is still open.
    max_questions: int = 16


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    findings: tuple[str, ...] = ()
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One question: ``finding`` (yes/no), ``choice`` (any of the options), ``one_of`` or
    ``quantity`` (exactly one option; a quantity's options are values in its unit).

    ``id`` is the finding's id for a yes/no question and the question's id otherwise;
    ``findings`` are every finding its answer settles.
    """

    id: str
    kind: QuestionKind
    text: str
    help: str | None
    findings: tuple[str, ...]
    options: tuple[Option, ...] = ()
    quantity: str | None = None
    areas_finding: str | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """Why the interview ended: ``reason`` is a code, ``text`` says it in words."""

    reason: Literal["emergency", "settled", "budget", "exhausted", "quit"]
    text: str


@dataclass(frozen=True, slots=True)
class Step:
    """The next question (with ``why`` it was chosen), or the stop."""

    question: Question | None = None
    why: Literal["red_flag", "triage", "causes"] | None = None
    stop: Stop | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """A question asked and its answer. ``answers`` holds the findings the answer settled
    (``True`` present, ``False`` absent); it is empty when the answer was "not sure"."""

    question: str
    text: str
    findings: tuple[str, ...]
    answers: tuple[tuple[str, bool], ...] = ()
    quantity: str | None = None
    value: float | None = None

    @property
    def answer(self) -> bool | None:
        """Yes/no for the record: the finding's answer, or for a question about several
        findings whether any of them is present (``None``: not sure)."""
        if not self.answers:
            return None
        if len(self.findings) == 1:
            return self.answers[0][1]
        return any(yes for _, yes in self.answers)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "text": self.text,
            "findings": list(self.findings),
            "answers": dict(self.answers),
        }
        if self.quantity is not None:
            out["quantity"] = self.quantity
            out["value"] = self.value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answered:
        value = data.get("value")
        return cls(
            question=str(data["question"]),
            text=str(data.get("text", "")),
            findings=tuple(str(f) for f in data.get("findings", ())),
            answers=tuple((str(k), bool(v)) for k, v in dict(data.get("answers", {})).items()),
            quantity=data.get("quantity"),
            value=None if value is None else float(value),
        )


@dataclass(frozen=True)
class InterviewState:
    """What was known at the start (``start``) and every question asked, in order."""

    start: Evidence = field(default_factory=Evidence)
    asked: tuple[Answered, ...] = ()

    @property
    def asked_findings(self) -> frozenset[str]:
        return frozenset(f for a in self.asked for f in a.findings)

    def back(self) -> InterviewState:
        """The state before the last answer ("go back")."""
        return InterviewState(self.start, self.asked[:-1])

    def to_dict(self) -> dict[str, Any]:
        start = self.start
        return {
            "start": {
                "observations": [
                    {
                        "id": o.id,
                        "negated": o.negated,
                        "uncertain": o.uncertain,
                        "text": o.text,
                        "start": o.start,
                        "end": o.end,
                        "derived": o.derived,
                        "doubt": o.doubt,
                    }
                    for o in start.observations
                ],
                "quantities": dict(start.quantities),
                "not_understood": list(start.not_understood),
                "medicines": list(start.medicines),
            },
            "asked": [a.to_dict() for a in self.asked],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InterviewState:
        raw = data.get("start") or {}
        observations = tuple(
            Observation(
                str(o["id"]),
                bool(o.get("negated", False)),
                bool(o.get("uncertain", False)),
                str(o.get("text", "")),
                o.get("start"),
                o.get("end"),
                bool(o.get("derived", False)),
                _doubt(o.get("doubt", "")),
            )
            for o in raw.get("observations", ())
        )
        start = Evidence(
            observations,
            {str(k): float(v) for k, v in dict(raw.get("quantities", {})).items()},
            tuple(raw.get("not_understood", ())),
            tuple(raw.get("medicines", ())),
        )
        return cls(start, tuple(Answered.from_dict(a) for a in data.get("asked", ())))


# --------------------------------------------------------------------------- evidence


def findings_evidence(ids: Iterable[str], kb: KnowledgeBase | None = None) -> Evidence:
    """Evidence from finding ids (``"!id"`` denied), built exactly as ``twitchwise.assess``."""
    kb = kb or load_knowledge()
    observations = []
    for raw in ids:
        item = raw.strip()
        if not item:
            continue
        fid = item.lstrip("!").strip()
        if fid not in kb.findings:
            raise InputError(f"unknown finding {fid!r}; run 'twitchwise findings' to list the ids")
        observations.append(Observation(fid, item.startswith("!"), text=fid))
    return _implied(kb, Evidence(observations=merge(observations)))


def quantity_findings(
    kb: KnowledgeBase, quantity: str, value: float, present: frozenset[str] = frozenset()
) -> dict[str, bool]:
    """The findings an amount means, from the knowledge base: ``quantity_rules`` of the
    lexicon, or the caffeine limits (``value`` in mg) for ``caffeine_mg``."""
    if quantity == "caffeine_mg":
        high = value > caffeine_limit(kb, present)
        return {
            "caffeine_any": value > 0,
            "caffeine_moderate": high or value >= caffeine_single_dose(kb),
            "caffeine_high": high,
        }
    out: dict[str, bool] = {}
    for rule in kb.lexicon.quantity_rules:
        if rule.quantity != quantity:
            continue
        inside = (rule.min is None or value >= rule.min) and (rule.max is None or value <= rule.max)
        if rule.requires_any and not present.intersection(rule.requires_any):
            inside = False
        out[rule.finding] = out.get(rule.finding, False) or inside
    return out


def _doubt(value: object) -> str:
    """A doubt sent back by a client: one twitchwise gives out, or none."""
    if isinstance(value, str) and value in DOUBTS:
        return value
    return ""


def evidence(state: InterviewState, kb: KnowledgeBase | None = None) -> Evidence:
    """Everything known now: the start plus every answer, with implied findings added."""
    kb = kb or load_knowledge()
    start = state.start
    if not any(a.answers for a in state.asked):
        return _implied(kb, start)
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
        present = _implied(kb, Evidence(merge(observations))).present
        for a in amounts:
            assert a.quantity is not None and a.value is not None
            amount = a.value * _unit(kb, a.question)
            settled = quantity_findings(kb, a.quantity, amount, present)
            observations += [Observation(fid, not yes) for fid, yes in settled.items()]
            if a.quantity in KEPT_QUANTITIES:
                quantities[a.quantity] = amount
    merged = Evidence(merge(observations), quantities, start.not_understood, start.medicines)
    return _implied(kb, merged)


def _implied(kb: KnowledgeBase, ev: Evidence) -> Evidence:
    return with_implied(ev, kb.closure)


def _unit(kb: KnowledgeBase, question_id: str) -> float:
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
    kb: KnowledgeBase | None = None,
) -> InterviewState:
    """Record a person's reply: ``True``/``False`` for a yes/no question; the index of the
    chosen option for ``one_of`` and ``quantity``; the indexes of the chosen options for
    ``choice`` (an empty list means "none of these"). ``None`` is "not sure"."""
    kb = kb or load_knowledge()
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
            amount = value * _unit(kb, question.id)
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


def run(
    state: InterviewState,
    answers: Mapping[str, bool],
    kb: KnowledgeBase | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[InterviewState, Stop]:
    """The whole interview with answers from a mapping (``answer_from``), to its stop."""
    kb = kb or load_knowledge()
    while True:
        step = next_question(state, kb, policy)
        if step.question is None:
            assert step.stop is not None
            return state, step.stop
        state = answer_from(state, step.question, answers)


def describe_answer(a: Answered, kb: KnowledgeBase | None = None) -> str:
    """An answer in words: yes, no, not sure, the value, or what was chosen."""
    kb = kb or load_knowledge()
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


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class _Rule:
    id: str
    level: TriageLevel
    groups: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class _Model:
    """Everything the policy needs from the knowledge base, precomputed once."""

    causes: tuple[str, ...]
    log_prior: tuple[float, ...]
    log_other: float
    pos: dict[str, tuple[tuple[int, float], ...]]
    neg: dict[str, tuple[tuple[int, float], ...]]
    mods: dict[str, tuple[tuple[int, float], ...]]
    like: dict[str, dict[int, float]]
    ref: dict[str, float]
    rules: tuple[_Rule, ...]
    implied_by: dict[str, frozenset[str]]
    singles: dict[str, Question]
    static: tuple[Question, ...]
    follow_up: tuple[str, str | None]
    order: dict[str, int]


def _model(kb: KnowledgeBase) -> _Model:
    cached = kb._memo.get("interview")
    if isinstance(cached, _Model):
        return cached
    causes = tuple(kb.causes)
    pos: dict[str, list[tuple[int, float]]] = {}
    neg: dict[str, list[tuple[int, float]]] = {}
    mods: dict[str, list[tuple[int, float]]] = {}
    like: dict[str, list[tuple[int, float]]] = {}
    withouts: dict[str, list[float]] = {}
    for ci, cause in enumerate(kb.causes.values()):
        for m in cause.modifiers:
            mods.setdefault(m.finding, []).append((ci, math.log(m.factor)))
        for lk in cause.likelihoods:
            without = lk.without if lk.without is not None else kb.findings[lk.finding].base_rate
            pos.setdefault(lk.finding, []).append((ci, _clamped(lk.with_ / without)))
            neg.setdefault(lk.finding, []).append((ci, _clamped((1 - lk.with_) / (1 - without))))
            like.setdefault(lk.finding, []).append((ci, lk.with_))
            withouts.setdefault(lk.finding, []).append(without)
    ref = {
        fid: (sum(withouts[fid]) / len(withouts[fid])) if fid in withouts else f.base_rate
        for fid, f in kb.findings.items()
    }
    implied_by: dict[str, set[str]] = {}
    for fid, closure in kb.closure.items():
        for g in closure - {fid}:
            implied_by.setdefault(g, set()).add(fid)
    singles = {
        fid: Question(fid, "finding", f.question, f.help, (fid,))
        for fid, f in kb.findings.items()
        if f.question and f.kind != "cue"
    }
    static = []
    follow_up: tuple[str, str | None] = ("", None)
    for q in kb.questions.values():
        if q.kind == "follow_up":
            follow_up = (q.text, q.help)
            continue
        options = tuple(
            Option(o.label or _label(kb, o.findings), tuple(o.findings), o.value) for o in q.options
        )
        if q.kind == "quantity":
            assert q.quantity is not None
            if q.quantity == "caffeine_mg":
                targets: tuple[str, ...] = CAFFEINE_FINDINGS
            else:
                targets = tuple(
                    dict.fromkeys(
                        r.finding for r in kb.lexicon.quantity_rules if r.quantity == q.quantity
                    )
                )
        else:
            targets = tuple(dict.fromkeys(f for o in options for f in o.findings))
            if q.areas_finding and q.areas_finding not in targets:
                targets += (q.areas_finding,)
        static.append(
            Question(q.id, q.kind, q.text, q.help, targets, options, q.quantity, q.areas_finding)
        )
    order = {q.id: i for i, q in enumerate(static)}
    order.update({fid: len(static) + i for i, fid in enumerate(kb.findings)})
    model = _Model(
        causes=causes,
        log_prior=tuple(math.log(c.prior) for c in kb.causes.values()),
        log_other=math.log(OTHER_SHARE * sum(c.prior for c in kb.causes.values())),
        pos={k: tuple(v) for k, v in pos.items()},
        neg={k: tuple(v) for k, v in neg.items()},
        mods={k: tuple(v) for k, v in mods.items()},
        like={k: dict(v) for k, v in like.items()},
        ref=ref,
        rules=tuple(
            _Rule(r.id, r.level, tuple(frozenset(g) for g in r.groups())) for r in kb.red_flags
        ),
        implied_by={k: frozenset(v) for k, v in implied_by.items()},
        singles=singles,
        static=tuple(static),
        follow_up=follow_up,
        order=order,
    )
    kb._memo["interview"] = model
    return model


def _clamped(ratio: float) -> float:
    return min(max(math.log(ratio), _LOG_FLOOR), _LOG_CEILING)


def _label(kb: KnowledgeBase, findings: Iterable[str]) -> str:
    return " / ".join(kb.findings[f].label for f in findings)


# --------------------------------------------------------------------------- the policy


@dataclass
class _Now:
    """The situation at one step: posterior, predictive probabilities, what can be asked."""

    kb: KnowledgeBase
    model: _Model
    level: TriageLevel
    present: frozenset[str]
    askable: frozenset[str]
    probs: list[float]  # causes, then "something else" last
    order: list[int]  # cause indexes by probability, best first
    plogp: float
    p_cache: dict[str, float] = field(default_factory=dict)

    def p(self, fid: str) -> float:
        """P(finding reported | what is known): sum over causes of P(c) P(f | c)."""
        hit = self.p_cache.get(fid)
        if hit is not None:
            return hit
        m = self.model
        ref = m.ref[fid]
        value = ref + sum(self.probs[ci] * (w - ref) for ci, w in m.like.get(fid, {}).items())
        # f implies g and g is known: P(f | g) = P(f) / P(g)
        for g in self.kb.closure[fid]:
            if g != fid and g in self.present:
                value = value / max(self._raw(g), 1e-6)
        value = min(max(value, 1e-4), 0.95)
        self.p_cache[fid] = value
        return value

    def _raw(self, fid: str) -> float:
        ref = self.model.ref[fid]
        return ref + sum(
            self.probs[ci] * (w - ref) for ci, w in self.model.like.get(fid, {}).items()
        )

    def p_given(self, fid: str, ci: int) -> float:
        """P(finding | cause); the last index is "something else"."""
        return self.model.like.get(fid, _EMPTY).get(ci, self.model.ref[fid])


def next_question(
    state: InterviewState,
    kb: KnowledgeBase | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Step:
    """The next question to ask, or why to stop (see the module docstring for the policy)."""
    kb = kb or load_knowledge()
    now = _situation(kb, state)
    if now.level is TriageLevel.EMERGENCY:
        return Step(
            stop=Stop(
                "emergency",
                "Stopped: your answers point to an emergency, so no more questions are needed. "
                "Get help now.",
            )
        )
    candidates = _candidates(now)
    if not candidates:
        return Step(stop=Stop("exhausted", "Stopped: there are no more questions to ask."))
    triage_values = _triage_values(now, candidates, policy)
    required = [q for q in candidates if triage_values[q.id][1]]
    if required:
        best = max(required, key=lambda q: (triage_values[q.id][0], -now.model.order.get(q.id, -1)))
        return Step(best, "red_flag")
    over_budget = len(state.asked) >= policy.max_questions
    if over_budget:
        return Step(stop=_budget_stop(policy))
    best = max(candidates, key=lambda q: (triage_values[q.id][0], -now.model.order.get(q.id, -1)))
    if triage_values[best.id][0] >= policy.min_triage_value:
        return Step(best, "triage")
    scored = [(q, *_information(now, q)) for q in candidates]
    scored = [s for s in scored if s[1] > 0]
    if scored:
        leader_change = max(s[2] for s in scored)
        q, gain, _ = max(scored, key=lambda s: (s[1], -now.model.order.get(s[0].id, -1)))
        if leader_change >= policy.min_leader_change and gain >= policy.min_information:
            return Step(q, "causes")
    return Step(
        stop=Stop(
            "settled",
            "Stopped: no remaining question is likely to change the triage, and no answer is "
            "likely to change the most likely cause.",
        )
    )


def _budget_stop(policy: Policy) -> Stop:
    return Stop(
        "budget",
        f"Stopped after {policy.max_questions} questions (the question limit); every question "
        "that one yes could make urgent or an emergency was asked.",
    )


def _situation(kb: KnowledgeBase, state: InterviewState) -> _Now:
    model = _model(kb)
    ev = evidence(state, kb)
    present, negated, hedged = ev.present, ev.negated, ev.uncertain
    scores = list(model.log_prior)
    for fid in present:
        for ci, v in model.mods.get(fid, ()):
            scores[ci] += v
        half = fid in hedged
        for ci, v in model.pos.get(fid, ()):
            scores[ci] += v / 2 if half else v
    for fid in negated - present:
        for ci, v in model.neg.get(fid, ()):
            scores[ci] += v
    scores.append(model.log_other)
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    probs = [w / total for w in weights]
    ruled_out = set(negated)
    for g in negated:
        ruled_out |= model.implied_by.get(g, frozenset())
    asked = state.asked_findings
    askable = frozenset(
        fid
        for fid, f in kb.findings.items()
        if f.kind != "cue" and fid not in present and fid not in ruled_out and fid not in asked
    )
    n = len(model.causes)
    return _Now(
        kb=kb,
        model=model,
        level=triage(kb, present, ev.possible).level,
        present=present,
        askable=askable,
        probs=probs,
        order=sorted(range(n), key=lambda ci: -probs[ci]),
        plogp=sum(p * math.log(p) for p in probs if p > 0),
    )


def _candidates(now: _Now) -> list[Question]:
    """Every question that could be asked now, limited to what is still unknown."""
    m = now.model
    ok = now.askable
    out: list[Question] = []
    for q in m.static:
        if q.kind in ("quantity", "one_of"):
            if all(f in ok for f in q.findings):
                out.append(q)
            continue
        options = tuple(o for o in q.options if any(f in ok for f in o.findings))
        if not options:
            continue
        findings = tuple(f for o in options for f in o.findings if f in ok)
        if q.areas_finding in ok:
            findings += (q.areas_finding,)
        options = tuple(Option(o.label, tuple(f for f in o.findings if f in ok)) for o in options)
        out.append(Question(q.id, q.kind, q.text, q.help, findings, options, None, q.areas_finding))
    text, help_text = m.follow_up
    seen: set[frozenset[str]] = set()
    for rule in m.rules:
        if text == "" or rule.level <= now.level:
            continue
        open_groups = [g for g in rule.groups if not g & now.present]
        if len(open_groups) != 1:
            continue
        members = open_groups[0] & ok
        if len(members) < 2 or members in seen:
            continue
        seen.add(members)
        ordered = tuple(sorted(members, key=lambda f: m.order[f]))
        options = tuple(Option(now.kb.findings[f].label, (f,)) for f in ordered)
        out.append(Question(f"follow_up.{rule.id}", "choice", text, help_text, ordered, options))
    out += [q for fid, q in m.singles.items() if fid in ok]
    return out


def _triage_values(
    now: _Now, candidates: list[Question], policy: Policy
) -> dict[str, tuple[float, bool]]:
    """For each question: the weighted chance its answer raises the triage, and whether it
    is required (one "yes" would make it urgent or an emergency)."""
    m = now.model
    ok = now.askable
    live: list[tuple[_Rule, list[frozenset[str]], list[float]]] = []
    by_finding: dict[str, list[int]] = {}
    for rule in m.rules:
        if rule.level <= now.level:
            continue
        members = [g & ok for g in rule.groups if not g & now.present]
        if not members or not all(members):
            continue  # fires already, or cannot fire any more
        chances = [1 - math.prod(1 - now.p(f) for f in g) for g in members]
        for g in members:
            for f in g:
                by_finding.setdefault(f, []).append(len(live))
        live.append((rule, members, chances))
    base = policy.utility[now.level.rank]
    out: dict[str, tuple[float, bool]] = {}
    for q in candidates:
        asked = set(q.findings)
        indexes = sorted({i for f in q.findings for i in by_finding.get(f, ())})
        reach: dict[TriageLevel, float] = {}
        required = False
        for i in indexes:
            rule, members, chances = live[i]
            p = 1.0
            for g, chance in zip(members, chances, strict=True):
                inside = g & asked
                if inside:
                    p *= 1 - math.prod(1 - now.p(f) for f in inside)
                else:
                    p *= policy.lookahead * chance
            reach[rule.level] = 1 - (1 - reach.get(rule.level, 0.0)) * (1 - p)
            if len(members) == 1 and rule.level >= TriageLevel.SEE_DOCTOR_URGENT:
                required = True
        value = sum((policy.utility[lv.rank] - base) * p for lv, p in reach.items())
        out[q.id] = (value, required)
    return out


def _outcomes(now: _Now, q: Question) -> list[tuple[frozenset[str], frozenset[str]]]:
    """The possible answers of a question as (present, absent) findings."""
    if q.kind == "finding":
        return [(frozenset(q.findings), frozenset()), (frozenset(), frozenset(q.findings))]
    if q.kind == "quantity":
        assert q.quantity is not None
        seen: dict[tuple[frozenset[str], frozenset[str]], None] = {}
        unit = _unit(now.kb, q.id)
        for o in q.options:
            assert o.value is not None
            settled = quantity_findings(now.kb, q.quantity, o.value * unit, now.present)
            yes = frozenset(f for f, v in settled.items() if v and f in q.findings)
            no = frozenset(f for f, v in settled.items() if not v and f in q.findings)
            seen[(yes, no)] = None
        return list(seen)
    everything = frozenset(f for o in q.options for f in o.findings)
    outs = []
    for o in q.options:
        yes = frozenset(o.findings)
        implied = frozenset(g for f in yes for g in now.kb.closure[f])
        outs.append((yes, everything - yes - implied))
    if q.kind == "choice":
        outs.append((frozenset(), everything))
    return outs


def _information(now: _Now, q: Question) -> tuple[float, float]:
    """Expected information gain over causes (bits) and the chance the leader changes."""
    m = now.model
    n = len(m.causes)
    probs = now.probs
    leader = now.order[0]
    results: list[tuple[float, float, bool]] = []  # (P(outcome), entropy, leader changed)
    for yes, no in _outcomes(now, q):
        delta: dict[int, float] = {}
        for f in yes:
            for g in now.kb.closure[f]:
                if g in now.present:
                    continue
                for ci, v in m.mods.get(g, ()):
                    delta[ci] = delta.get(ci, 0.0) + v
                for ci, v in m.pos.get(g, ()):
                    delta[ci] = delta.get(ci, 0.0) + v
        for f in no:
            for ci, v in m.neg.get(f, ()):
                delta[ci] = delta.get(ci, 0.0) + v
        # P(outcome) = sum over causes of P(c) P(outcome | c); "something else" is index n
        chance = 0.0
        for ci in range(n + 1):
            pc = probs[ci]
            if pc < 1e-9:
                continue
            lik = 1.0
            for f in yes:
                lik *= now.p_given(f, ci)
            for f in no:
                lik *= 1 - now.p_given(f, ci)
            chance += pc * lik
        if chance <= 0:
            continue
        # posterior after the outcome, only the changed causes recomputed
        z = 1.0
        wlogw = now.plogp
        best_changed, best_weight = -1, -1.0
        for ci, d in delta.items():
            pc = probs[ci]
            if pc <= 0:
                continue
            w = pc * math.exp(d)
            z += w - pc
            wlogw += w * (math.log(pc) + d) - pc * math.log(pc)
            if w > best_weight:
                best_changed, best_weight = ci, w
        entropy = math.log(z) - wlogw / z
        unchanged = next((ci for ci in now.order if ci not in delta), None)
        new_leader = unchanged
        if best_changed >= 0 and (unchanged is None or best_weight > probs[unchanged]):
            new_leader = best_changed
        results.append((chance, entropy, new_leader != leader))
    total = sum(r[0] for r in results)
    if total <= 0 or len(results) < 2:
        return 0.0, 0.0
    h0 = -now.plogp
    expected = sum(r[0] * r[1] for r in results) / total
    change = sum(r[0] for r in results if r[2]) / total
    return max(0.0, (h0 - expected) / math.log(2)), change


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the interview stands: the triage so far and the leading causes."""

    level: TriageLevel
    leading: tuple[tuple[str, str, float], ...]  # (cause id, name, probability)


def progress(state: InterviewState, kb: KnowledgeBase | None = None, top: int = 3) -> Progress:
    kb = kb or load_knowledge()
    ev = evidence(state, kb)
    ranking = rank(kb, ev)
    return Progress(
        triage(kb, ev.present, ev.possible).level,
        tuple((r.id, r.name, r.probability) for r in ranking[:top]),
    )
