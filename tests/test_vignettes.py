"""Accuracy and safety on vignettes: our own set and, when ../shared exists, the public set.

Scoring follows ../shared/tools/score_vignettes.py: triage is acceptable when it is the
expected level or one of ``triage_also_acceptable``; a serious case (expected urgent or
emergency) is under-triaged when the level given is lower; top-1 / top-3 count the first /
any of the first three causes in ``acceptable_top_causes``. Answers come from the Python API
(``twitchwise.ask``, the same path as ``twitchwise ask --format json``) with a fixed "today".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
import yaml

import twitchwise

TODAY = date(2026, 11, 23)
LEVELS = ["self_care", "see_doctor_routine", "see_doctor_urgent", "emergency"]
SERIOUS = ("see_doctor_urgent", "emergency")
THRESHOLDS = {"triage": 0.85, "top1": 0.80, "top3": 0.90}
VIGNETTE_KEYS = {
    "id", "category", "text", "expected_triage", "triage_also_acceptable",
    "acceptable_top_causes", "red_flags_present", "negated_findings", "rationale", "source",
}  # fmt: skip

SETS = {
    "own": Path(__file__).resolve().parent / "cases" / "own_vignettes.yaml",
    "public": Path(__file__).resolve().parents[2] / "shared" / "vignettes" / "public.yaml",
}


def _load(name: str) -> list[dict]:
    path = SETS[name]
    if not path.is_file():
        return []
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    return cases if isinstance(cases, list) else []


CASES = {name: _load(name) for name in SETS}


def _require(name: str) -> list[dict]:
    if not SETS[name].is_file():
        pytest.skip(f"{SETS[name]} is not there")
    assert CASES[name], f"{SETS[name]} has no cases"
    return CASES[name]


@dataclass
class Result:
    case: dict
    level: str
    causes: list[str]

    @property
    def acceptable_levels(self) -> list[str]:
        return [self.case["expected_triage"], *self.case.get("triage_also_acceptable", [])]

    @property
    def triage_ok(self) -> bool:
        return self.level in self.acceptable_levels

    @property
    def under_triaged(self) -> bool:
        expected = self.case["expected_triage"]
        return expected in SERIOUS and (
            self.level not in LEVELS or LEVELS.index(self.level) < LEVELS.index(expected)
        )

    @property
    def top1(self) -> bool:
        return bool(self.causes) and self.causes[0] in self.case["acceptable_top_causes"]

    @property
    def top3(self) -> bool:
        return bool(set(self.causes[:3]) & set(self.case["acceptable_top_causes"]))

    def describe(self) -> str:
        return (
            f"{self.case['id']}: triage {self.level} (want {self.acceptable_levels}); "
            f"causes {self.causes[:3]} (want {self.case['acceptable_top_causes']})"
        )


@dataclass
class Score:
    results: list[Result] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.results)

    def rate(self, attribute: str) -> float:
        return sum(getattr(r, attribute) for r in self.results) / self.n

    def line(self, name: str) -> str:
        under = [r.case["id"] for r in self.results if r.under_triaged]
        count = {a: sum(getattr(r, a) for r in self.results) for a in ("triage_ok", "top1", "top3")}
        return (
            f"{name} vignettes ({self.n}): triage {count['triage_ok']}/{self.n} "
            f"({self.rate('triage_ok'):.0%}), under-triaged serious {len(under)} {under}, "
            f"top-1 {count['top1']}/{self.n} ({self.rate('top1'):.0%}), "
            f"top-3 {count['top3']}/{self.n} ({self.rate('top3'):.0%})"
        )


def answer(case: dict) -> Result:
    data = twitchwise.ask(case["text"], today=TODAY).to_dict()
    return Result(case, data["triage"]["level"], [c["id"] for c in data["causes"]])


_scores: dict[str, Score] = {}


def score(name: str) -> Score:
    if name not in _scores:
        _scores[name] = Score([answer(c) for c in _require(name)])
    return _scores[name]


# ------------------------------------------------------------------ the files


@pytest.mark.parametrize("name", SETS)
def test_vignette_file_is_well_formed(name, contract_cause_ids):
    cases = _require(name)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for c in cases:
        assert set(c) == VIGNETTE_KEYS, f"{c['id']}: keys {sorted(set(c) ^ VIGNETTE_KEYS)}"
        assert c["expected_triage"] in LEVELS, c["id"]
        assert set(c["triage_also_acceptable"]) <= set(LEVELS), c["id"]
        if c["expected_triage"] == "emergency":
            assert c["triage_also_acceptable"] == [], c["id"]
        assert 1 <= len(c["acceptable_top_causes"]) <= 3, c["id"]
        assert set(c["acceptable_top_causes"]) <= set(contract_cause_ids), c["id"]


# ------------------------------------------------------------------ scores


@pytest.mark.parametrize("name", SETS)
def test_score_line(name, capsys, record_property):
    result = score(name)
    line = result.line(name)
    record_property(f"{name}_vignettes", line)
    with capsys.disabled():
        print(f"\n{line}")
    assert result.n == len(CASES[name])


@pytest.mark.parametrize("name", SETS)
def test_no_serious_case_is_under_triaged(name):
    under = [r for r in score(name).results if r.under_triaged]
    assert not under, "under-triaged serious cases:\n" + "\n".join(
        f"  {r.case['id']}: expected {r.case['expected_triage']}, got {r.level}" for r in under
    )


@pytest.mark.parametrize("name", SETS)
def test_triage_acceptable_rate(name):
    result = score(name)
    misses = [r.describe() for r in result.results if not r.triage_ok]
    assert result.rate("triage_ok") >= THRESHOLDS["triage"], (
        f"triage acceptable {result.rate('triage_ok'):.1%} < {THRESHOLDS['triage']:.0%}:\n  "
        + "\n  ".join(misses)
    )


@pytest.mark.parametrize("name", SETS)
def test_top1_cause_rate(name):
    result = score(name)
    misses = [r.describe() for r in result.results if not r.top1]
    assert result.rate("top1") >= THRESHOLDS["top1"], (
        f"top-1 {result.rate('top1'):.1%} < {THRESHOLDS['top1']:.0%}:\n  " + "\n  ".join(misses)
    )


@pytest.mark.parametrize("name", SETS)
def test_top3_cause_rate(name):
    result = score(name)
    misses = [r.describe() for r in result.results if not r.top3]
    assert result.rate("top3") >= THRESHOLDS["top3"], (
        f"top-3 {result.rate('top3'):.1%} < {THRESHOLDS['top3']:.0%}:\n  " + "\n  ".join(misses)
    )


# ------------------------------------------------------------------ one safety test per case


def _case_params():
    params = []
    for name in SETS:
        if not CASES[name]:
            params.append(pytest.param(name, None, id=f"{name}-absent"))
            continue
        params += [pytest.param(name, c["id"], id=f"{name}-{c['id']}") for c in CASES[name]]
    return params


@pytest.mark.parametrize(("name", "case_id"), _case_params())
def test_case_is_not_under_triaged(name, case_id):
    cases = _require(name)
    if case_id is None:
        pytest.skip(f"no {name} vignettes")
    case = next(c for c in cases if c["id"] == case_id)
    result = answer(case)
    assert not result.under_triaged, (
        f"{case_id}: expected {case['expected_triage']}, got {result.level}; text: {case['text']!r}"
    )
