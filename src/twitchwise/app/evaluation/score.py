"""Answer every case and score the answers: triage, causes, findings, calibration, time.

Every metric is defined in docs/eval.md; the definitions here are the reference.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

from twitchwise.app.evaluation.cases import Case, load_cases
from twitchwise.errors import InputError
from twitchwise.knowledge.schema import TriageLevel

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer
    from twitchwise.app.core import Twitchwise
    from twitchwise.knowledge.load import KnowledgeBase

SCHEMA_VERSION = 1
LEVELS = tuple(TriageLevel)
SERIOUS = (TriageLevel.SEE_DOCTOR_URGENT, TriageLevel.EMERGENCY)
#: Labels that say a finding is there: the answer should list it, not negated.
EXPECTED_PRESENT = ("present", "possible")
#: Upper edges of the reliability bins of the top cause's probability (the last one includes 1).
BIN_EDGES = (0.2, 0.4, 0.6, 0.8, 1.0)
TOP_K = 3


class AnswerFunction(Protocol):
    """What answers a case: :func:`twitchwise.ask` or a stand-in with its signature."""

    def __call__(self, text: str, *, age: int | None = None, sex: str | None = None) -> Answer: ...


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` of ``total`` cases; ``rate`` is None when there are none."""

    count: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.count / self.total if self.total else None

    def __str__(self) -> str:
        rate = self.rate
        return f"{self.count}/{self.total} ({'n/a' if rate is None else f'{rate:.0%}'})"

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "total": self.total, "rate": _round(self.rate)}


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case and what twitchwise answered."""

    case: Case
    level: TriageLevel
    #: ``(cause id, probability)``, best first, as the answer lists them.
    causes: tuple[tuple[str, float], ...]
    #: Findings the answer holds present (not negated), with every finding they imply.
    detected: frozenset[str]
    time_ms: float

    @property
    def triage_acceptable(self) -> bool:
        return self.level in self.case.acceptable_levels

    @property
    def under_triaged(self) -> bool:
        """A serious case (expected urgent or emergency) given a lower level."""
        expected = self.case.expected_triage
        return expected in SERIOUS and self.level < expected

    @property
    def over_triaged(self) -> bool:
        """Given a higher level than expected, and not one the clinician also accepts."""
        return self.level > self.case.expected_triage and not self.triage_acceptable

    @property
    def top_cause(self) -> str | None:
        return self.causes[0][0] if self.causes else None

    @property
    def top_probability(self) -> float:
        return self.causes[0][1] if self.causes else 0.0

    @property
    def top1(self) -> bool:
        return self.top_cause in self.case.acceptable_top_causes

    @property
    def top3(self) -> bool:
        return any(cid in self.case.acceptable_top_causes for cid, _ in self.causes[:TOP_K])

    @property
    def brier(self) -> float:
        """Brier score with the acceptable causes merged into one outcome (docs/eval.md).

        ``(1 - P(acceptable))² + Σ p²`` over the causes not acceptable; causes the answer
        does not list count as probability 0. From 0 (all mass on acceptable causes) to 2.
        """
        acceptable = self.case.acceptable_top_causes
        p_ok = sum(p for cid, p in self.causes if cid in acceptable)
        return (1.0 - p_ok) ** 2 + sum(p * p for cid, p in self.causes if cid not in acceptable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "expected_triage": self.case.expected_triage.value,
            "given_triage": self.level.value,
            "triage_acceptable": self.triage_acceptable,
            "under_triaged": self.under_triaged,
            "over_triaged": self.over_triaged,
            "causes": [{"id": cid, "probability": round(p, 4)} for cid, p in self.causes],
            "top1": self.top1,
            "top3": self.top3,
            "brier": round(self.brier, 4),
            "time_ms": round(self.time_ms, 2),
        }


@dataclass(frozen=True, slots=True)
class Miss:
    """A case to review: what was given and what the clinician wanted."""

    id: str
    given: str | None
    wanted: tuple[str, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "given": self.given, "wanted": list(self.wanted)}


@dataclass(frozen=True, slots=True)
class FindingScore:
    """Detection of one finding over the cases that label it (or of all, for micro)."""

    id: str
    #: labelled present/possible and detected; labelled present/possible and missed
    tp: int
    fn: int
    #: labelled denied/resolved/other but detected present; and correctly not detected present
    fp: int
    tn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
        }


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """Cases whose top cause had a probability in [low, high) (the last bin includes 1)."""

    low: float
    high: float
    cases: int
    mean_probability: float | None
    acceptable_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.low,
            "to": self.high,
            "cases": self.cases,
            "mean_probability": _round(self.mean_probability),
            "acceptable_rate": _round(self.acceptable_rate),
        }


@dataclass(frozen=True)
class Evaluation:
    """Every metric of one run over a case file; ``to_dict()`` is the JSON output."""

    source: str
    results: tuple[CaseResult, ...]
    #: counts[expected][given], both in the order of LEVELS
    confusion: tuple[tuple[int, ...], ...]
    #: serious cases given a lower level: the most urgent expected first, then file order
    under_triaged: tuple[Miss, ...]
    over_triaged: tuple[Miss, ...]
    triage_acceptable: Rate
    self_care_kept: Rate
    top1: Rate
    top3: Rate
    brier: float
    reliability: tuple[CalibrationBin, ...]
    #: expected calibration error of the top cause's probability over the reliability bins
    calibration_error: float
    labelled_cases: int
    findings: tuple[FindingScore, ...]
    findings_micro: FindingScore
    time_median_ms: float
    time_max_ms: float
    triage_misses: tuple[Miss, ...]
    cause_misses: tuple[Miss, ...]

    @property
    def cases(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> bool:
        """True when an urgent or emergency case was under-triaged (exit status 1)."""
        return bool(self.under_triaged)

    def summary(self) -> str:
        """One line: the headline numbers."""
        under = len(self.under_triaged)
        return (
            f"{self.cases} case{'s' if self.cases != 1 else ''}: "
            f"under-triaged serious {under}, "
            f"triage acceptable {self.triage_acceptable}, "
            f"top-1 {self.top1}, top-3 {self.top3}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "cases": self.cases,
            "summary": self.summary(),
            "under_triaged": [
                {"id": m.id, "expected": m.wanted[0], "given": m.given} for m in self.under_triaged
            ],
            "triage": {
                "levels": [level.value for level in LEVELS],
                "confusion": {
                    expected.value: {
                        given.value: self.confusion[i][j] for j, given in enumerate(LEVELS)
                    }
                    for i, expected in enumerate(LEVELS)
                },
                "acceptable": self.triage_acceptable.to_dict(),
                "under_triaged": len(self.under_triaged),
                "over_triaged": len(self.over_triaged),
                "self_care_kept": self.self_care_kept.to_dict(),
            },
            "causes": {
                "top1": self.top1.to_dict(),
                "top3": self.top3.to_dict(),
                "brier": round(self.brier, 4),
                "calibration_error": round(self.calibration_error, 4),
                "reliability": [b.to_dict() for b in self.reliability],
            },
            "findings": {
                "labelled_cases": self.labelled_cases,
                "micro": {k: v for k, v in self.findings_micro.to_dict().items() if k != "id"},
                "per_finding": [f.to_dict() for f in self.findings],
            },
            "time_ms": {
                "median": round(self.time_median_ms, 2),
                "max": round(self.time_max_ms, 2),
            },
            "triage_misses": [m.to_dict() for m in self.triage_misses],
            "cause_misses": [m.to_dict() for m in self.cause_misses],
            "results": [r.to_dict() for r in self.results],
        }

    def render(
        self, fmt: str = "terminal", *, width: int | None = None, color: bool = False
    ) -> str:
        """This evaluation as ``terminal`` (Rich), ``json`` or ``html`` (one whole page)."""
        from twitchwise.app.evaluation.render import render

        return render(self, fmt, width=width, color=color)


# --------------------------------------------------------------------------- running


def evaluate_file(
    path: str | os.PathLike[str],
    *,
    progress: Callable[[int, int], None] | None = None,
    tw: Twitchwise | None = None,
) -> Evaluation:
    """Load and validate a case file, then :func:`evaluate` it with ``tw`` (by default the
    default :class:`~twitchwise.app.Twitchwise`)."""
    if tw is None:
        from twitchwise.app.core import default

        tw = default()
    cases = load_cases(path, kb=tw.kb)
    return evaluate(cases, source=os.fspath(path), answer=tw.ask, kb=tw.kb, progress=progress)


def evaluate(
    cases: Sequence[Case],
    *,
    source: str = "<cases>",
    answer: AnswerFunction | None = None,
    kb: KnowledgeBase | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Answer every case (with :func:`twitchwise.ask` unless ``answer`` is given) and score.

    One untimed answer comes first, so loading the knowledge base and the parser is not
    counted in the time per case. ``progress(done, total)`` is called after each case.
    """
    if not cases:
        raise InputError("there are no cases to evaluate; give at least one")
    if answer is None or kb is None:
        import twitchwise
        from twitchwise.app.core import default

        answer = answer or twitchwise.ask
        kb = kb or default().kb
    _answer_case(answer, cases[0], 1, source)  # warm-up, untimed
    results = []
    for index, case in enumerate(cases, 1):
        start = perf_counter()
        reply = _answer_case(answer, case, index, source)
        elapsed_ms = (perf_counter() - start) * 1000.0
        results.append(_result(kb, case, reply, elapsed_ms))
        if progress is not None:
            progress(index, len(cases))
    return score(results, source=source)


def _answer_case(answer: AnswerFunction, case: Case, index: int, source: str) -> Answer:
    where = f"{source}:{case.line}" if case.line is not None else source
    try:
        return answer(case.text, age=case.age, sex=case.sex)
    except InputError as exc:
        raise InputError(f"{where}: case {index} ({case.id}): {exc}") from None
    except Exception as exc:
        exc.add_note(f"while answering {where}: case {index} ({case.id})")
        raise


def _result(kb: KnowledgeBase, case: Case, reply: Answer, elapsed_ms: float) -> CaseResult:
    detected: set[str] = set()
    for finding in reply.findings:
        if not finding.negated:
            detected |= kb.closure.get(finding.id, frozenset({finding.id}))
    return CaseResult(
        case=case,
        level=reply.level,
        causes=tuple((c.id, c.probability) for c in reply.causes),
        detected=frozenset(detected),
        time_ms=elapsed_ms,
    )


# --------------------------------------------------------------------------- scoring


def score(results: Sequence[CaseResult], *, source: str = "<cases>") -> Evaluation:
    """Every metric over answered cases (no answering, no timing: pure arithmetic)."""
    if not results:
        raise InputError("there are no cases to evaluate; give at least one")
    n = len(results)
    confusion = [[0] * len(LEVELS) for _ in LEVELS]
    for r in results:
        confusion[r.case.expected_triage.rank][r.level.rank] += 1
    under = sorted(
        (r for r in results if r.under_triaged), key=lambda r: -r.case.expected_triage.rank
    )
    self_care = [r for r in results if r.case.expected_triage is TriageLevel.SELF_CARE]
    findings, micro, labelled = _finding_scores(results)
    reliability = _reliability(results)
    calibration_error = sum(
        b.cases / n * abs((b.mean_probability or 0.0) - (b.acceptable_rate or 0.0))
        for b in reliability
    )
    times = [r.time_ms for r in results]
    return Evaluation(
        source=source,
        results=tuple(results),
        confusion=tuple(tuple(row) for row in confusion),
        under_triaged=tuple(
            Miss(r.case.id, r.level.value, (r.case.expected_triage.value,), r.case.text)
            for r in under
        ),
        over_triaged=tuple(_triage_miss(r) for r in results if r.over_triaged),
        triage_acceptable=Rate(sum(r.triage_acceptable for r in results), n),
        self_care_kept=Rate(
            sum(r.level is TriageLevel.SELF_CARE for r in self_care), len(self_care)
        ),
        top1=Rate(sum(r.top1 for r in results), n),
        top3=Rate(sum(r.top3 for r in results), n),
        brier=sum(r.brier for r in results) / n,
        reliability=reliability,
        calibration_error=calibration_error,
        labelled_cases=labelled,
        findings=findings,
        findings_micro=micro,
        time_median_ms=statistics.median(times),
        time_max_ms=max(times),
        triage_misses=tuple(_triage_miss(r) for r in results if not r.triage_acceptable),
        cause_misses=tuple(
            Miss(r.case.id, r.top_cause, r.case.acceptable_top_causes, r.case.text)
            for r in results
            if not r.top1
        ),
    )


def _triage_miss(r: CaseResult) -> Miss:
    wanted = tuple(level.value for level in r.case.acceptable_levels)
    return Miss(r.case.id, r.level.value, wanted, r.case.text)


def _finding_scores(
    results: Sequence[CaseResult],
) -> tuple[tuple[FindingScore, ...], FindingScore, int]:
    counts: dict[str, list[int]] = {}  # id -> [tp, fn, fp, tn]
    labelled = 0
    for r in results:
        if r.case.findings:
            labelled += 1
        for fid, status in r.case.findings:
            row = counts.setdefault(fid, [0, 0, 0, 0])
            found = fid in r.detected
            if status in EXPECTED_PRESENT:
                row[0 if found else 1] += 1
            else:
                row[2 if found else 3] += 1
    scores = tuple(FindingScore(fid, *counts[fid]) for fid in sorted(counts))
    micro = FindingScore("micro", *(sum(row[i] for row in counts.values()) for i in range(4)))
    return scores, micro, labelled


def _reliability(results: Sequence[CaseResult]) -> tuple[CalibrationBin, ...]:
    bins: list[list[CaseResult]] = [[] for _ in BIN_EDGES]
    for r in results:
        p = min(max(r.top_probability, 0.0), 1.0)
        index = next(i for i, edge in enumerate(BIN_EDGES) if p < edge or edge == BIN_EDGES[-1])
        bins[index].append(r)
    out = []
    low = 0.0
    for edge, members in zip(BIN_EDGES, bins, strict=True):
        count = len(members)
        out.append(
            CalibrationBin(
                low=low,
                high=edge,
                cases=count,
                mean_probability=sum(m.top_probability for m in members) / count if count else None,
                acceptable_rate=sum(m.top1 for m in members) / count if count else None,
            )
        )
        low = edge
    return tuple(out)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
