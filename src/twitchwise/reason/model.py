"""The cause model: what every finding does to every cause's odds, worked out once.

A cause's likelihood of a finding is ``with`` (how often people with the cause report it) and
``without`` (how often people without it do); when the knowledge base gives no ``without``, it
is the finding's ``base_rate``. This module is the one place that fallback is made and the
ratios are taken, clamped and logged. :class:`CauseModel` holds the result as plain tuples and
mappings; the ranking (:mod:`twitchwise.reason.rank`), the interview's policy and the guides all
read the same table, so they agree on every number.

A model is built from a knowledge base with :meth:`CauseModel.build` and never changes. Whoever
holds the knowledge base may hold its model too and pass it on (``rank(kb, evidence, model)``).
A function given only the knowledge base asks :func:`cause_model`, which keeps the models of the
last few knowledge bases by their digest: building one takes about 2 ms, more than ten whole
rankings, so building it for every answer would more than double the time of ``ask()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import TypeVar

from twitchwise.knowledge.load import KnowledgeBase

#: Prior weight of "something not in the knowledge base", relative to the causes' priors.
OTHER_SHARE = 0.10
#: A finding "tells" for a cause when it multiplies the cause's odds by at least this much; a
#: cause none of whose telling findings was mentioned ("tired muscles after exercise" for
#: someone who never mentioned exercise) is ranked on its prior alone and gets no advice.
TELLING_RATIO = 3.0
#: Finding kinds too general to tell for a cause on their own (a region, an age band, ...).
GENERIC_KINDS = frozenset({"region", "side", "demographic", "twitch", "duration"})
#: One finding can move a cause's odds by at most this factor either way.
LR_FLOOR, LR_CEILING = 1e-4, 1e4

T = TypeVar("T")

#: Entries by finding: (cause index, value) for each cause that lists the finding.
ByFinding = Mapping[str, tuple[tuple[int, float], ...]]


def clamp(ratio: float) -> float:
    """A likelihood ratio kept within :data:`LR_FLOOR` and :data:`LR_CEILING`."""
    return min(max(ratio, LR_FLOOR), LR_CEILING)


@dataclass(frozen=True, slots=True)
class Term:
    """One likelihood of one cause: what the finding does to the cause's odds.

    ``present``, ``hedged`` and ``absent`` are the likelihood ratios (clamped) when the finding
    is reported, reported with doubt ("maybe", the square root) and denied; the ``log_`` fields
    are their logarithms, what a score adds up.
    """

    finding: str
    with_: float  # P(finding | cause)
    without: float  # P(finding | not the cause): as given, or the finding's base rate
    ratio: float  # with / without, not clamped: how strongly the finding points to the cause
    present: float
    hedged: float
    absent: float
    log_present: float
    log_hedged: float
    log_absent: float
    #: Whether reporting the finding tells for the cause (:data:`TELLING_RATIO`).
    telling: bool


@dataclass(frozen=True)
class CauseModel:
    """Every cause's prior, modifiers and likelihoods as log-odds, in knowledge-base order."""

    causes: tuple[str, ...]
    log_prior: tuple[float, ...]
    #: The log prior of "something else" (:data:`OTHER_SHARE` of the causes' priors).
    log_other: float
    #: Per cause: (finding, log factor) of each modifier (age, sex, context).
    modifiers: tuple[tuple[tuple[str, float], ...], ...]
    #: Per cause: its likelihoods.
    terms: tuple[tuple[Term, ...], ...]
    #: By finding, for what one answer changes: the log factors of the modifiers, the log
    #: ratios when reported and when denied, and P(finding | cause).
    modifiers_by_finding: ByFinding
    present_by_finding: ByFinding
    absent_by_finding: ByFinding
    with_by_finding: Mapping[str, Mapping[int, float]]
    #: P(finding) for a cause that does not list it, and for "something else": the mean
    #: ``without`` of the finding's likelihoods, or its base rate.
    reference: Mapping[str, float]

    @classmethod
    def build(cls, kb: KnowledgeBase) -> CauseModel:
        terms: list[tuple[Term, ...]] = []
        modifiers: list[tuple[tuple[str, float], ...]] = []
        mods: dict[str, list[tuple[int, float]]] = {}
        pos: dict[str, list[tuple[int, float]]] = {}
        neg: dict[str, list[tuple[int, float]]] = {}
        like: dict[str, dict[int, float]] = {}
        withouts: dict[str, list[float]] = {}
        for ci, cause in enumerate(kb.causes.values()):
            own = tuple((m.finding, math.log(m.factor)) for m in cause.modifiers)
            modifiers.append(own)
            for fid, value in own:
                mods.setdefault(fid, []).append((ci, value))
            row = []
            for lk in cause.likelihoods:
                finding = kb.findings[lk.finding]
                without = lk.without if lk.without is not None else finding.base_rate
                term = _term(lk.finding, lk.with_, without, finding.kind)
                row.append(term)
                pos.setdefault(term.finding, []).append((ci, term.log_present))
                neg.setdefault(term.finding, []).append((ci, term.log_absent))
                like.setdefault(term.finding, {})[ci] = term.with_
                withouts.setdefault(term.finding, []).append(without)
            terms.append(tuple(row))
        return cls(
            causes=tuple(kb.causes),
            log_prior=tuple(math.log(c.prior) for c in kb.causes.values()),
            log_other=math.log(OTHER_SHARE * sum(c.prior for c in kb.causes.values())),
            modifiers=tuple(modifiers),
            terms=tuple(terms),
            modifiers_by_finding={k: tuple(v) for k, v in mods.items()},
            present_by_finding={k: tuple(v) for k, v in pos.items()},
            absent_by_finding={k: tuple(v) for k, v in neg.items()},
            with_by_finding=like,
            reference={
                fid: (sum(withouts[fid]) / len(withouts[fid])) if fid in withouts else f.base_rate
                for fid, f in kb.findings.items()
            },
        )

    def likelihoods(self, cause_id: str) -> tuple[Term, ...]:
        """The likelihoods of one cause, in knowledge-base order."""
        return self.terms[self.causes.index(cause_id)]

    def log_scores(
        self, present: Set[str], negated: Set[str], hedged: Set[str] = frozenset()
    ) -> list[float]:
        """Each cause's log score: prior, the modifiers of present findings, and the
        likelihood ratio of every reported finding the cause lists (present wins over denied;
        ``hedged`` present findings count by the square root of their ratio)."""
        out = []
        for ci, score in enumerate(self.log_prior):
            for fid, value in self.modifiers[ci]:
                if fid in present:
                    score += value
            for t in self.terms[ci]:
                if t.finding in present:
                    score += t.log_hedged if t.finding in hedged else t.log_present
                elif t.finding in negated:
                    score += t.log_absent
            out.append(score)
        return out

    def posterior(
        self, present: Set[str], negated: Set[str], hedged: Set[str] = frozenset()
    ) -> list[float]:
        """P(cause | evidence) for each cause in order, then P(something else) last."""
        scores = self.log_scores(present, negated, hedged)
        top = max([*scores, self.log_other])
        other = math.exp(self.log_other - top)
        denominator = other + sum(math.exp(s - top) for s in scores)
        return [*(math.exp(s - top) / denominator for s in scores), other / denominator]


def _term(finding: str, with_: float, without: float, kind: str) -> Term:
    ratio = with_ / without
    present = clamp(ratio)
    hedged = clamp(math.sqrt(ratio))
    absent = clamp((1 - with_) / (1 - without))
    logs = (math.log(present), math.log(hedged), math.log(absent))
    telling = ratio >= TELLING_RATIO and kind not in GENERIC_KINDS
    return Term(finding, with_, without, ratio, present, hedged, absent, *logs, telling)


# --------------------------------------------------------------------------- lazy builds


@dataclass(frozen=True)
class _Digest:
    """A knowledge base as a cache key: equal when their digests are."""

    digest: str
    kb: KnowledgeBase = field(compare=False, hash=False, repr=False)


def by_digest(build: Callable[[KnowledgeBase], T]) -> Callable[[KnowledgeBase], T]:
    """``build`` with the results of the last 4 knowledge bases kept by their ``digest`` (the
    hash of their data files). A knowledge base without a digest is built for every call."""
    cached = lru_cache(maxsize=4)(lambda key: build(key.kb))

    @wraps(build)
    def get(kb: KnowledgeBase) -> T:
        if not kb.digest:
            return build(kb)
        result: T = cached(_Digest(kb.digest, kb))
        return result

    return get


@by_digest
def cause_model(kb: KnowledgeBase) -> CauseModel:
    """The cause model of ``kb``, built on first use (see :func:`by_digest`)."""
    return CauseModel.build(kb)
