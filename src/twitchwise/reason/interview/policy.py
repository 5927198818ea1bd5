"""The question policy: which question next, and when to stop (docs/interview.md).

:func:`next_question` takes an :class:`~twitchwise.reason.interview.state.InterviewState` and
returns the next question with why it was chosen, or a stop that says why no more are needed.
It reads the knowledge base through an
:class:`~twitchwise.reason.interview.model.InterviewModel`, whose posterior over causes is the
ranking's own (:class:`~twitchwise.reason.model.CauseModel`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from twitchwise.knowledge.facts import quantity_findings
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.interview.evidence import answer_from, evidence, unit
from twitchwise.reason.interview.model import InterviewModel, Rule, interview_model
from twitchwise.reason.interview.state import InterviewState, Option, Question, Step, Stop
from twitchwise.reason.rank import rank
from twitchwise.reason.triage import triage

_EMPTY: dict[int, float] = {}


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


@dataclass
class Situation:
    """The situation at one step: posterior, predictive probabilities, what can be asked."""

    kb: KnowledgeBase
    model: InterviewModel
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
        value = self._raw(fid)
        # f implies g and g is known: P(f | g) = P(f) / P(g)
        for g in self.kb.closure[fid]:
            if g != fid and g in self.present:
                value = value / max(self._raw(g), 1e-6)
        value = min(max(value, 1e-4), 0.95)
        self.p_cache[fid] = value
        return value

    def _raw(self, fid: str) -> float:
        m = self.model.cause_model
        ref = m.reference[fid]
        withs = m.with_by_finding.get(fid, _EMPTY)
        return ref + sum(self.probs[ci] * (w - ref) for ci, w in withs.items())

    def p_given(self, fid: str, ci: int) -> float:
        """P(finding | cause); the last index is "something else"."""
        m = self.model.cause_model
        return m.with_by_finding.get(fid, _EMPTY).get(ci, m.reference[fid])


def situation(
    state: InterviewState, kb: KnowledgeBase, model: InterviewModel | None = None
) -> Situation:
    """Where the interview stands: the triage level, the posterior over causes (the same as
    :func:`~twitchwise.reason.rank.rank`'s), and the findings still worth asking about."""
    if model is None:
        model = interview_model(kb)
    ev = evidence(state, kb)
    present, negated = ev.present, ev.negated
    probs = model.cause_model.posterior(present, negated, ev.uncertain)
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
    return Situation(
        kb=kb,
        model=model,
        level=triage(kb, present, ev.possible).level,
        present=present,
        askable=askable,
        probs=probs,
        order=sorted(range(n), key=lambda ci: -probs[ci]),
        plogp=sum(p * math.log(p) for p in probs if p > 0),
    )


def next_question(
    state: InterviewState,
    kb: KnowledgeBase,
    policy: Policy = DEFAULT_POLICY,
    *,
    model: InterviewModel | None = None,
) -> Step:
    """The next question to ask, or why to stop (see the package docstring for the policy).

    ``model``: the knowledge base's interview model, when the caller holds one.
    """
    now = situation(state, kb, model)
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


def run(
    state: InterviewState,
    answers: Mapping[str, bool],
    kb: KnowledgeBase,
    policy: Policy = DEFAULT_POLICY,
    *,
    model: InterviewModel | None = None,
) -> tuple[InterviewState, Stop]:
    """The whole interview with answers from a mapping (``answer_from``), to its stop."""
    if model is None:
        model = interview_model(kb)
    while True:
        step = next_question(state, kb, policy, model=model)
        if step.question is None:
            assert step.stop is not None
            return state, step.stop
        state = answer_from(state, step.question, answers)


def _budget_stop(policy: Policy) -> Stop:
    return Stop(
        "budget",
        f"Stopped after {policy.max_questions} questions (the question limit); every question "
        "that one yes could make urgent or an emergency was asked.",
    )


def _candidates(now: Situation) -> list[Question]:
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
    now: Situation, candidates: list[Question], policy: Policy
) -> dict[str, tuple[float, bool]]:
    """For each question: the weighted chance its answer raises the triage, and whether it
    is required (one "yes" would make it urgent or an emergency)."""
    m = now.model
    ok = now.askable
    live: list[tuple[Rule, list[frozenset[str]], list[float]]] = []
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


def _outcomes(now: Situation, q: Question) -> list[tuple[frozenset[str], frozenset[str]]]:
    """The possible answers of a question as (present, absent) findings."""
    if q.kind == "finding":
        return [(frozenset(q.findings), frozenset()), (frozenset(), frozenset(q.findings))]
    if q.kind == "quantity":
        assert q.quantity is not None
        seen: dict[tuple[frozenset[str], frozenset[str]], None] = {}
        size = unit(now.kb, q.id)
        for o in q.options:
            assert o.value is not None
            settled = quantity_findings(now.kb, q.quantity, o.value * size, now.present)
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


def _information(now: Situation, q: Question) -> tuple[float, float]:
    """Expected information gain over causes (bits) and the chance the leader changes."""
    m = now.model.cause_model
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
                for ci, v in m.modifiers_by_finding.get(g, ()):
                    delta[ci] = delta.get(ci, 0.0) + v
                for ci, v in m.present_by_finding.get(g, ()):
                    delta[ci] = delta.get(ci, 0.0) + v
        for f in no:
            for ci, v in m.absent_by_finding.get(f, ()):
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


def progress(
    state: InterviewState,
    kb: KnowledgeBase,
    top: int = 3,
    *,
    model: InterviewModel | None = None,
) -> Progress:
    ev = evidence(state, kb)
    causes = model.cause_model if model is not None else None
    ranking = rank(kb, ev, causes)
    return Progress(
        triage(kb, ev.present, ev.possible).level,
        tuple((r.id, r.name, r.probability) for r in ranking[:top]),
    )
