"""The insights benchmark's alternative procedures (bench/insights_eval.py --procedure): they
start from the project's own model, fitted by its own functions, so that what
docs/insights.md reports of them ("What was tried") compares like with like."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import insights_eval as bench  # noqa: E402

from twitchwise.insights import stats  # noqa: E402
from twitchwise.journal.rows import JournalData  # noqa: E402


def _journals(scenario: str, days: int, count: int, seed: int = 5) -> list[bench.Sim]:
    rng = np.random.default_rng(seed)
    return [bench.SCENARIOS[scenario].make(rng, days) for _ in range(count)]


def _series(sim: bench.Sim) -> stats.DailySeries:
    series = stats.daily_series(JournalData.from_dicts(sim.episodes, sim.rows, []))
    assert series is not None
    return series


@pytest.mark.parametrize("scenario", ["real", "sparse_each", "weekly"])
def test_the_bench_refits_the_projects_model_exactly(scenario: str) -> None:
    """From the bench's fit, the project's rule (max of the two errors, t with n - p degrees
    of freedom, Benjamini-Hochberg) gives estimate_effects' effects: every alternative
    starts from the same model."""
    for sim in _journals(scenario, 180, 3):
        series = _series(sim)
        result = stats.estimate_effects(series)
        joint = bench.joint_fit(stats, series, result.tested)
        columns = bench._all_columns(joint)
        redone = bench._decide(joint, columns, joint.params, bench._max_se(joint), joint.df, 0.05)
        assert [(d.factor, d.lag_days) for d in redone] == [
            (e.factor, e.lag_days) for e in result.effects
        ]
        for d, e in zip(redone, result.effects, strict=True):
            assert d.effect == pytest.approx(e.effect, rel=1e-9)
            assert d.ci == pytest.approx(e.ci, rel=1e-9)
            assert d.p_value == pytest.approx(e.p_value, rel=1e-7, abs=1e-300)
            assert d.significant == e.significant
        assert joint.df == result.residual_df


def test_effective_degrees_of_freedom() -> None:
    """Satterthwaite's degrees of freedom of the dispersion: near n - p for counts whose
    Pearson residuals are nearly normal, far fewer for heavy-tailed counts and for runs of bad
    days, never more than n - p."""
    rng = np.random.default_rng(3)
    n, p = 365, 30
    rows = np.arange(n)
    big = rng.poisson(400.0, size=n).astype(float)  # Pearson residuals nearly normal
    normal_like = bench.effective_df(big, np.full(n, 400.0), rows, p)
    assert 0.8 * (n - p) < normal_like <= n - p
    heavy = rng.poisson(rng.gamma(0.3, 1 / 0.3, size=n)).astype(float)
    assert bench.effective_df(heavy, np.full(n, heavy.mean()), rows, p) < 0.4 * (n - p)
    level = np.repeat(rng.gamma(1.0, 3.0, size=n // 7 + 1), 7)[:n]  # good and bad weeks
    weeks = rng.poisson(level).astype(float)
    mean = np.full(n, weeks.mean())
    # the same days in a random order: as heavy-tailed, without the runs
    shuffled = bench.effective_df(rng.permutation(weeks), mean, rows, p)
    assert bench.effective_df(weeks, mean, rows, p) < 0.6 * shuffled < 0.6 * (n - p)


def test_double_selection_keeps_a_factor_that_travels_with_the_one_tested() -> None:
    """Caffeine and sleep move together and only sleep matters: caffeine's own model keeps
    sleep (it predicts the twitches and moves with caffeine); factors drawn independently of
    everything are mostly left out."""
    kept_sleep, others = 0, 0
    for sim in _journals("confounded", 365, 4, seed=11):
        series = _series(sim)
        joint = bench.joint_fit(stats, series, stats.estimate_effects(series).tested)
        controls = bench.selected_controls(joint, "caffeine_mg")
        kept_sleep += "sleep_h" in controls
        others += len(set(controls) - {"sleep_h"})
    assert kept_sleep == 4
    assert others <= 8  # of 4 x 4 independent factors, about a third by chance at p < 0.2


def test_the_oracle_tests_only_the_real_terms() -> None:
    (sim,) = _journals("real", 180, 1)
    effects = bench.procedure_effects(stats, _series(sim), "oracle", sim.truth)
    assert [(e.factor, e.lag_days) for e in effects] == list(sim.truth)


@pytest.mark.parametrize("procedure", bench.PROCEDURES)
def test_every_procedure_runs_through_the_evaluation(procedure: str) -> None:
    out = bench.evaluate(bench.SCENARIOS["sparse"], 120, 2, 1, stats, "indicator", procedure)
    assert out["procedure"] == procedure and out["journals"] == 2
    for key in ("tested", "any_false", "fdp", "power", bench.FOUND):
        assert 0 <= out[key] <= 1
    if procedure == "oracle":
        assert out["any_false"] == 0
