"""How often the insights statistics find a real trigger, and how often they blame a wrong one.

Each simulated journal has daily values of the six CSV factors (caffeine, sleep, water,
workout minutes, stress, alcohol; caffeine about 200 mg a day, give or take 100) and a twitch
count per day (about one a day), made by one of the scenarios below; the journal goes
through the project's own ``daily_series`` and ``estimate_effects`` exactly as ``twitchwise
insights`` runs them. The truth is known, so every significant effect is either a real one
or a false one.

==================== =========================================================================
Scenario             The journal
==================== =========================================================================
null                 Poisson counts (1 a day), factors drawn independently: nothing matters
negbin               gamma-Poisson (negative binomial) counts, many calm days and bursts:
                     nothing matters
autocorrelated       runs of bad weeks (an autocorrelated rate) while caffeine and sleep drift
                     slowly as habits do: nothing matters
weekly               twitches 30% higher on weekdays (work, not logged), more coffee on
                     weekdays and drinks on Friday and Saturday: nothing logged matters
confounded           caffeine and sleep move together (r about -0.5: short nights, more
                     coffee); only sleep matters (x0.7 per hour more, the same day)
real                 caffeine raises the next day's twitches, x1.3 per 100 mg (a realistic
                     size); nothing else matters
real_negbin          the same with over-dispersed (negative binomial) counts
sparse               the real effect, with 40% of days without any factor logged
sparse_each          the real effect, each factor missing on its own 40% of days
confounded_sparse    confounded, each factor missing on its own 40% of days
high_rate            about 6 twitches a day (one or two calm days a year); caffeine the day
                     before x1.2 per 100 mg
==================== =========================================================================

Printed per scenario and length (``--journals`` journals each, 200 for the reference numbers
in docs/insights.md; seeded):

- ``tested``: share of journals for which any effect was estimated (the rest got "not enough
  data yet");
- ``any false``: family-wise false positives, the share of journals with at least one
  significant effect that is not real;
- ``FDP``: the false discovery proportion, false significant effects over all significant
  ones in a journal (0 when none), averaged over journals;
- ``power``: share of the real effects found (significant, in the right direction);
- ``coverage``: share of all 95% intervals that hold the true rate ratio (1 for a factor
  that does not matter);
- the scenario's own question: caffeine blamed (``confounded``), caffeine found at lag 1.

``--procedure`` runs the same journals (same seed, same fits) through another way of deciding
what is significant, to measure it against the project's before adopting it (docs/insights.md,
"What was tried"); ``model``, the default, is ``estimate_effects`` itself:

==================== =========================================================================
Procedure            What decides "significant"
==================== =========================================================================
model                the project's: max(quasi-Poisson, Newey-West) errors, t with n - p degrees
                     of freedom, Benjamini-Hochberg over every factor x lag
quasi                the same with the quasi-Poisson errors alone
satterthwaite        the project's errors, t with the effective degrees of freedom of the
                     dispersion (Satterthwaite: its kurtosis and runs from the squared Pearson
                     residuals, Bartlett kernel by calendar day), at most n - p
gatekeeping          one joint Wald test (F) per factor over its lags, Benjamini-Hochberg over the
                     factors, then the lags of the R of m factors that passed, Benjamini-Hochberg
                     at level q R / m (Benjamini and Bogomolov 2014)
double-selection     each factor in its own model: its lags, the trend, the day of the week, the
                     missing-value terms and every other factor that predicts the twitches (joint
                     Wald p < 0.2 in the full model) or moves with it (F-test p < 0.2, Bonferroni
                     over its lags); Satterthwaite degrees of freedom (Belloni, Chernozhukov and
                     Hansen 2014, by factor)
directional          the project's errors and degrees of freedom, but each test spends 4/5 of its
                     level on the direction suspected (more twitches with caffeine, workouts,
                     stress and alcohol; fewer with sleep and water) and 1/5 on the other
oracle               a ceiling, not a method: only the real terms (and their missing-value
                     terms) in the model, Poisson errors, and the threshold Benjamini-Hochberg
                     gives one effect among the model's factor x lag tests (q / m): what no
                     honest method that tests every factor x lag can beat when the counts are
                     Poisson (real, sparse, sparse_each, confounded...; with over-dispersed
                     counts its errors are too small, so it is no ceiling there)
==================== =========================================================================

    python bench/insights_eval.py                          # every scenario, 200 journals
    python bench/insights_eval.py --journals 50 -s real -s confounded
    python bench/insights_eval.py --missing complete       # compare the missing-day rules
    python bench/insights_eval.py --module /tmp/old_stats.py   # an older stats.py from git
    python bench/insights_eval.py --journals 1000 -s real -s sparse --days 180 \
        --procedure double-selection                       # an alternative, same journals
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

START = date(2025, 1, 6)  # a Monday


@dataclass
class Sim:
    """One simulated journal and its truth: the rate ratio per step of every (factor, lag)
    that matters (everything else is 1)."""

    episodes: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    truth: dict[tuple[str, int], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    days: tuple[int, ...]
    make: Callable[[Any, int], Sim]
    question: str = ""  # the scenario's own measure, named in the output


def _ar(rng: Any, n: int, phi: float) -> Any:
    """A stationary AR(1) series with unit variance."""
    import numpy as np

    z = np.zeros(n)
    shocks = rng.normal(size=n)
    for i in range(n):
        z[i] = (phi * z[i - 1] if i else 0.0) + shocks[i]
    return z * np.sqrt(1 - phi**2)


def _factors(rng: Any, n: int, kind: str = "independent") -> dict[str, Any]:
    """The six CSV factors for ``n`` days. ``kind``: independent day to day; ``habits``
    (caffeine and sleep drift slowly); ``weekly`` (coffee on weekdays, drinks at weekends);
    ``confounded`` (caffeine and sleep correlated about -0.5)."""
    import numpy as np

    weekday = (START.weekday() + np.arange(n)) % 7
    if kind == "habits":
        caffeine = np.clip(np.round((200 + 110 * _ar(rng, n, 0.8)) / 50) * 50, 0, 600)
        sleep = np.clip(np.round((7 + _ar(rng, n, 0.7)) * 2) / 2, 3, 11)
    elif kind == "confounded":
        s = _ar(rng, n, 0.3)
        c = -0.55 * s + np.sqrt(1 - 0.55**2) * rng.normal(size=n)
        sleep = np.clip(np.round((7 + s) * 2) / 2, 3, 11)
        caffeine = np.clip(np.round((200 + 100 * c) / 50) * 50, 0, 600)
    elif kind == "weekly":
        workday = weekday < 5
        caffeine = np.where(
            workday,
            rng.choice([100, 200, 300, 400], size=n),
            rng.choice([0, 100, 100, 200], size=n),
        ).astype(float)
        sleep = np.clip(np.round((rng.normal(6.8, 0.8, size=n) + 0.8 * ~workday) * 2) / 2, 3, 11)
    else:  # about a mug of coffee up or down from day to day
        caffeine = np.clip(np.round((200 + 100 * rng.normal(size=n)) / 50) * 50, 0, 600)
        sleep = np.clip(np.round(rng.normal(7, 1, size=n) * 2) / 2, 3, 11)
    if kind == "weekly":
        alcohol = np.where(
            (weekday == 4) | (weekday == 5),
            rng.choice([2, 4, 6], size=n),
            rng.choice([0, 0, 0, 0, 2], size=n),
        ).astype(float)
    else:
        alcohol = rng.choice([0, 0, 0, 2, 4], size=n).astype(float)
    return {
        "caffeine_mg": caffeine,
        "sleep_h": sleep,
        "water_l": np.clip(np.round(rng.normal(2, 0.5, size=n), 1), 0.2, 5),
        "workout_min": rng.choice([0, 0, 30, 45, 60], size=n).astype(float),
        "stress": rng.integers(0, 11, size=n).astype(float),
        "alcohol_units": alcohol,
    }


def _before(values: Any, fill: float) -> Any:
    """The value of the day before (``fill`` for the first day)."""
    import numpy as np

    return np.r_[fill, values[:-1]]


def _journal(
    rng: Any,
    factors: dict[str, Any],
    rate: Any,
    truth: dict[tuple[str, int], float],
    *,
    missing: float = 0.0,
    each: bool = False,
    shape: float | None = None,
) -> Sim:
    """Counts drawn around ``rate`` (Poisson, or gamma-Poisson of ``shape``), factors left
    out on a ``missing`` share of days (whole days, or each factor on its own)."""
    import numpy as np

    n = len(rate)
    if shape is not None:
        rate = rate * rng.gamma(shape, 1 / shape, size=n)
    counts = rng.poisson(rate)
    whole_day_out = rng.random(n) < missing if not each else np.zeros(n, dtype=bool)
    rows, episodes = [], []
    for i in range(n):
        day = (START + timedelta(days=i)).isoformat()
        row: dict[str, Any] = {"date": day}
        if not whole_day_out[i]:
            for k, v in factors.items():
                if not each or rng.random() >= missing:
                    row[k] = float(v[i])
        rows.append(row)
        at = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).isoformat()
        episodes += [{"date": day, "at": at}] * int(counts[i])
    return Sim(episodes, rows, truth)


def _null(rng: Any, n: int) -> Sim:
    import numpy as np

    return _journal(rng, _factors(rng, n), np.full(n, 1.0), {})


def _negbin(rng: Any, n: int) -> Sim:
    import numpy as np

    return _journal(rng, _factors(rng, n), np.full(n, 1.2), {}, shape=0.7)


def _autocorrelated(rng: Any, n: int) -> Sim:
    import numpy as np

    rate = 0.9 * np.exp(0.9 * _ar(rng, n, 0.85) - 0.4)
    return _journal(rng, _factors(rng, n, "habits"), rate, {})


def _weekly(rng: Any, n: int) -> Sim:
    import numpy as np

    weekday = (START.weekday() + np.arange(n)) % 7
    rate = 0.8 * np.where(weekday < 5, 1.3, 1.0)
    return _journal(rng, _factors(rng, n, "weekly"), rate, {})


def _confounded(rng: Any, n: int, missing: float = 0.0) -> Sim:
    f = _factors(rng, n, "confounded")
    rate = 1.0 * 0.7 ** (f["sleep_h"] - 7)
    return _journal(rng, f, rate, {("sleep_h", 0): 0.7}, missing=missing, each=missing > 0)


def _real(rng: Any, n: int, **kwargs: Any) -> Sim:
    f = _factors(rng, n)
    rate = 1.0 * 1.3 ** ((_before(f["caffeine_mg"], 200.0) - 200) / 100)
    return _journal(rng, f, rate, {("caffeine_mg", 1): 1.3}, **kwargs)


def _high_rate(rng: Any, n: int) -> Sim:
    f = _factors(rng, n)
    rate = 6.0 * 1.2 ** ((_before(f["caffeine_mg"], 200.0) - 200) / 100)
    return _journal(rng, f, rate, {("caffeine_mg", 1): 1.2})


BLAMED = "caffeine blamed"
FOUND = "caffeine found"
SCENARIOS = {
    s.name: s
    for s in (
        Scenario("null", (180,), _null),
        Scenario("negbin", (180,), _negbin),
        Scenario("autocorrelated", (180, 365), _autocorrelated),
        Scenario("weekly", (180, 365), _weekly),
        Scenario("confounded", (180, 365), _confounded, BLAMED),
        Scenario("real", (30, 60, 90, 180, 365), _real, FOUND),
        Scenario("real_negbin", (180, 365), lambda r, n: _real(r, n, shape=2.0), FOUND),
        Scenario("sparse", (180, 365), lambda r, n: _real(r, n, missing=0.4), FOUND),
        Scenario("sparse_each", (180,), lambda r, n: _real(r, n, missing=0.4, each=True), FOUND),
        Scenario("confounded_sparse", (180, 365), lambda r, n: _confounded(r, n, 0.4), BLAMED),
        Scenario("high_rate", (365,), _high_rate, FOUND),
    )
}


def _stats(path: str | None) -> ModuleType:
    """The stats module to evaluate: the project's, or a file (an older version from git)."""
    if path is None:
        from twitchwise.insights import stats

        return stats
    spec = importlib.util.spec_from_file_location("stats_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------- other procedures

PROCEDURES = (
    "model",
    "quasi",
    "satterthwaite",
    "gatekeeping",
    "double-selection",
    "directional",
    "oracle",
)
#: double-selection keeps another factor when either of its tests gives a p-value below this:
#: generous, so that a factor is left out only when it neither predicts the twitches nor
#: moves with the factor tested
SELECT_P = 0.2
#: directional: the direction each factor is suspected to push twitching, and the share of a
#: test's level spent on it
SUSPECTED = {
    "caffeine_mg": 1,
    "sleep_h": -1,
    "water_l": -1,
    "workout_min": 1,
    "stress": 1,
    "alcohol_units": 1,
    "steps": 1,
    "hrv_ms": -1,
}
SUSPECTED_SHARE = 0.8


@dataclass(frozen=True)
class Decided:
    """One factor x lag as a procedure reports it (what the evaluation reads of an Effect)."""

    factor: str
    lag_days: int
    effect: float
    ci: tuple[float, float]
    significant: bool
    p_value: float


@dataclass
class Joint:
    """The project's joint model of one journal, built and fitted by its own functions."""

    stats: ModuleType
    X: Any
    y: Any
    rows: Any
    kinds: list[tuple[str, int]]
    params: Any
    mu: Any
    quasi: Any  # the coefficients' variances, quasi-Poisson ...
    hac: Any  # ... and Newey-West
    values: dict[str, Any]

    @property
    def df(self) -> int:
        return int(self.X.shape[0] - self.X.shape[1])

    def terms(self) -> dict[str, list[tuple[int, int]]]:
        """Each factor's (lag, column) pairs, in the model's order."""
        out: dict[str, list[tuple[int, int]]] = {}
        for column, (factor, lag) in enumerate(self.kinds):
            if factor:
                out.setdefault(factor, []).append((lag, column))
        return out

    def nuisance(self) -> list[int]:
        """Intercept, trend, day of week and missing-value columns."""
        return [column for column, (factor, _) in enumerate(self.kinds) if not factor]


def joint_fit(stats: ModuleType, series: Any, tested: list[str]) -> Joint:
    """The model ``estimate_effects`` fitted for the factors it ``tested``."""
    import numpy as np

    y_all = np.array([np.nan if c is None else c for c in series.counts], dtype=float)
    rows = np.flatnonzero(np.isfinite(y_all))
    values = {
        name: np.array([np.nan if v is None else v for v in column], dtype=float)
        for name, column in series.factors.items()
    }
    design, dropped = stats._design(series, rows, values, tested)
    assert not dropped, dropped
    X = np.column_stack(design.columns)
    y = y_all[rows]
    fitted = stats._poisson(X, y)
    assert fitted is not None
    quasi, hac = stats._variances(X, y, fitted.mu, rows)
    kinds = list(design.kinds)
    return Joint(stats, X, y, rows, kinds, fitted.params, fitted.mu, quasi, hac, values)


def effective_df(y: Any, mu: Any, rows: Any, parameters: int) -> float:
    """Satterthwaite's degrees of freedom of the Pearson dispersion, at most n - p:
    ``2 (n - p) m^2 / v`` with m the mean squared Pearson residual and v the long-run variance
    of the squared residuals (Bartlett kernel over calendar days, the Newey-West bandwidth).
    For normal errors it is n - p; heavy tails (kurtosis) and runs of bad days lower it."""
    import math

    import numpy as np

    n = len(y)
    squared = (y - mu) ** 2 / mu
    m = float(squared.mean())
    span = int(rows[-1] - rows[0]) + 1
    calendar = np.zeros(span)
    calendar[rows - rows[0]] = squared - m
    lags = math.floor(4 * (span / 100) ** (2 / 9))
    v = float(calendar @ calendar)
    for lag in range(1, min(lags, span - 1) + 1):
        v += 2 * (1 - lag / (lags + 1)) * float(calendar[lag:] @ calendar[:-lag])
    v /= n
    limit = float(n - parameters)
    return limit if v <= 0 else min(limit, 2 * limit * m * m / v)


def _f_sf(stats: ModuleType, f: float, d1: float, d2: float) -> float:
    """P(F > f) for the F distribution with (d1, d2) degrees of freedom."""
    if f <= 0:
        return 1.0
    return float(stats._betainc(d2 / 2, d1 / 2, d2 / (d2 + d1 * f)))


def _decide(
    joint: Joint,
    columns: list[tuple[str, int, int]],
    params: Any,
    se: Any,
    df: float,
    alpha: float,
    significant: list[bool] | None = None,
) -> list[Decided]:
    """t-tests of ``columns`` (factor, lag, column), Benjamini-Hochberg over them unless
    ``significant`` is given; rate ratios per step with 95% intervals."""
    import math

    stats = joint.stats
    pvalues = [2 * stats.t_sf(abs(params[c] / se[c]), df) for _, _, c in columns]
    if significant is None:
        significant = [q < alpha for q in stats.benjamini_hochberg(pvalues)]
    crit = stats.t_ppf(0.975, df)
    return [
        Decided(
            factor,
            lag,
            math.exp(params[c]),
            (math.exp(params[c] - crit * se[c]), math.exp(params[c] + crit * se[c])),
            sig,
            p,
        )
        for (factor, lag, c), p, sig in zip(columns, pvalues, significant, strict=True)
    ]


def _all_columns(joint: Joint) -> list[tuple[str, int, int]]:
    return [(f, lag, c) for f, terms in joint.terms().items() for lag, c in terms]


def _max_se(joint: Joint) -> Any:
    import numpy as np

    return np.sqrt(np.maximum(joint.quasi, joint.hac))


def _covariance(joint: Joint, se: Any) -> Any:
    """The coefficients' covariance for joint tests: the correlations of the model's
    information, the variances of the errors used."""
    import numpy as np

    bread = np.linalg.inv((joint.X.T * joint.mu) @ joint.X)
    scale = np.sqrt(np.diag(bread))
    return bread / np.outer(scale, scale) * np.outer(se, se)


def _wald_p(joint: Joint, covariance: Any, columns: list[int], df: float) -> float:
    import numpy as np

    b = joint.params[columns]
    w = float(b @ np.linalg.solve(covariance[np.ix_(columns, columns)], b)) / len(columns)
    return _f_sf(joint.stats, w, len(columns), df)


def _gatekeeping(joint: Joint, alpha: float) -> list[Decided]:
    se = _max_se(joint)
    covariance = _covariance(joint, se)
    terms = joint.terms()
    family_p = [_wald_p(joint, covariance, [c for _, c in t], joint.df) for t in terms.values()]
    passed = [q < alpha for q in joint.stats.benjamini_hochberg(family_p)]
    level = alpha * sum(passed) / len(terms)
    columns, significant = [], []
    for (factor, factor_terms), ok in zip(terms.items(), passed, strict=True):
        inner = [
            2 * joint.stats.t_sf(abs(joint.params[c] / se[c]), joint.df) for _, c in factor_terms
        ]
        inner_q = joint.stats.benjamini_hochberg(inner)
        for (lag, c), q in zip(factor_terms, inner_q, strict=True):
            columns.append((factor, lag, c))
            significant.append(ok and q < level)
    return _decide(joint, columns, joint.params, se, joint.df, alpha, significant)


def _ols_f_p(joint: Joint, y: Any, base: Any, added: Any) -> float:
    """p-value of the F-test of ``added`` columns in the least-squares fit of ``y`` on
    ``base`` and ``added``."""
    import numpy as np

    both = np.column_stack([base, added])
    r0 = y - base @ np.linalg.lstsq(base, y, rcond=None)[0]
    r1 = y - both @ np.linalg.lstsq(both, y, rcond=None)[0]
    df = len(y) - both.shape[1]
    rss0, rss1 = float(r0 @ r0), float(r1 @ r1)
    if rss1 <= 0:
        return 0.0
    return _f_sf(joint.stats, ((rss0 - rss1) / added.shape[1]) / (rss1 / df), added.shape[1], df)


def selected_controls(joint: Joint, factor: str) -> list[str]:
    """The other factors double selection keeps in ``factor``'s model: those that predict the
    twitches (joint Wald test in the full model) or move with ``factor`` (the F-test of their
    lags in a least-squares fit of each of ``factor``'s lags, weighted as the Poisson fit
    weighs the days, on the nuisance columns; Bonferroni over its lags), at p < SELECT_P."""
    import numpy as np

    terms = joint.terms()
    covariance = _covariance(joint, _max_se(joint))
    weight = np.sqrt(joint.mu)
    base = joint.X[:, joint.nuisance()] * weight[:, None]
    own = [c for _, c in terms[factor]]
    kept = []
    for other, other_terms in terms.items():
        if other == factor:
            continue
        columns = [c for _, c in other_terms]
        if _wald_p(joint, covariance, columns, joint.df) < SELECT_P:
            kept.append(other)
            continue
        added = joint.X[:, columns] * weight[:, None]
        moves = min(_ols_f_p(joint, joint.X[:, c] * weight, base, added) for c in own)
        if moves * len(own) < SELECT_P:
            kept.append(other)
    return kept


def _double_selection(joint: Joint, alpha: float) -> list[Decided]:
    import numpy as np

    stats, terms = joint.stats, joint.terms()
    decided: list[Decided] = []
    for factor, factor_terms in terms.items():
        own = [c for _, c in factor_terms]
        columns = joint.nuisance() + own
        for other in selected_controls(joint, factor):
            columns += [c for _, c in terms[other]]
        X = joint.X[:, columns]
        fitted = stats._poisson(X, joint.y)
        assert fitted is not None
        quasi, hac = stats._variances(X, joint.y, fitted.mu, joint.rows)
        se = np.sqrt(np.maximum(quasi, hac))
        df = effective_df(joint.y, fitted.mu, joint.rows, X.shape[1])
        inner = [(factor, lag, columns.index(c)) for lag, c in factor_terms]
        sub = Joint(stats, X, joint.y, joint.rows, [], fitted.params, fitted.mu, quasi, hac, {})
        decided += _decide(sub, inner, fitted.params, se, df, alpha, [False] * len(inner))
    q = stats.benjamini_hochberg([d.p_value for d in decided])
    return [
        Decided(d.factor, d.lag_days, d.effect, d.ci, qq < alpha, d.p_value)
        for d, qq in zip(decided, q, strict=True)
    ]


def _directional(joint: Joint, alpha: float) -> list[Decided]:
    """p-values of tests that reject at level alpha with SUSPECTED_SHARE of it on the side
    suspected: p = P(T beyond t) / share on that side, / (1 - share) on the other."""
    stats, se = joint.stats, _max_se(joint)
    columns = _all_columns(joint)
    pvalues = []
    for factor, _, c in columns:
        t = float(joint.params[c] / se[c]) * SUSPECTED[factor]
        share = SUSPECTED_SHARE if t > 0 else 1 - SUSPECTED_SHARE
        pvalues.append(min(1.0, stats.t_sf(abs(t), joint.df) / share))
    significant = [q < alpha for q in stats.benjamini_hochberg(pvalues)]
    decided = _decide(joint, columns, joint.params, se, joint.df, alpha, significant)
    return [
        Decided(d.factor, d.lag_days, d.effect, d.ci, d.significant, p)
        for d, p in zip(decided, pvalues, strict=True)
    ]


def _oracle(joint: Joint, truth: dict[tuple[str, int], float], alpha: float) -> list[Decided]:
    import math

    import numpy as np

    from twitchwise.insights.stats import LAGS

    tests = len(_all_columns(joint))
    columns = [np.ones(len(joint.y))]
    keys = []
    for factor, lag in truth:
        index = joint.kinds.index((factor, lag)) if (factor, lag) in joint.kinds else -1
        if index < 0:
            continue
        keys.append((factor, lag, len(columns)))
        columns.append(joint.X[:, index])
        absent = ~np.isfinite(joint.values[factor][max(LAGS) - lag + joint.rows])
        if absent.any():
            columns.append(absent.astype(float))
    X = np.column_stack(columns)
    fitted = joint.stats._poisson(X, joint.y)
    assert fitted is not None
    se = np.sqrt(np.diag(np.linalg.inv((X.T * fitted.mu) @ X)))
    out = []
    for factor, lag, c in keys:
        b, s = float(fitted.params[c]), float(se[c])
        p = math.erfc(abs(b / s) / math.sqrt(2))
        ci = (math.exp(b - 1.959964 * s), math.exp(b + 1.959964 * s))
        out.append(Decided(factor, lag, math.exp(b), ci, p < alpha / tests, p))
    return out


def procedure_effects(
    stats: ModuleType,
    series: Any,
    procedure: str,
    truth: dict[tuple[str, int], float],
    alpha: float = 0.05,
) -> list[Any]:
    """The effects ``procedure`` reports for ``series`` (none when the project's model
    cannot be fitted to it)."""
    result = stats.estimate_effects(series)
    if procedure == "model" or not result.effects:
        return list(result.effects)
    joint = joint_fit(stats, series, result.tested)
    if procedure in ("quasi", "satterthwaite"):
        import numpy as np

        se = np.sqrt(joint.quasi) if procedure == "quasi" else _max_se(joint)
        df = (
            joint.df
            if procedure == "quasi"
            else effective_df(joint.y, joint.mu, joint.rows, joint.X.shape[1])
        )
        return _decide(joint, _all_columns(joint), joint.params, se, df, alpha)
    if procedure == "gatekeeping":
        return _gatekeeping(joint, alpha)
    if procedure == "double-selection":
        return _double_selection(joint, alpha)
    if procedure == "directional":
        return _directional(joint, alpha)
    if procedure == "oracle":
        return _oracle(joint, truth, alpha)
    raise ValueError(f"unknown procedure {procedure!r}")


def evaluate(
    scenario: Scenario,
    days: int,
    journals: int,
    seed: int,
    stats: ModuleType,
    missing: str,
    procedure: str = "model",
) -> dict[str, Any]:
    import numpy as np

    from twitchwise.journal.rows import JournalData

    kwargs = {}
    if "missing" in inspect.signature(stats.estimate_effects).parameters:
        kwargs["missing"] = missing
    rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario.name), days])
    tested = any_false = question = 0
    fdp = found = real = covered = intervals = 0.0
    for _ in range(journals):
        sim = scenario.make(rng, days)
        data = JournalData.from_dicts(sim.episodes, sim.rows, [])
        series = stats.daily_series(data)
        if procedure == "model":
            effects = stats.estimate_effects(series, **kwargs).effects
        else:
            effects = procedure_effects(stats, series, procedure, sim.truth)
        tested += bool(effects)
        hits = [e for e in effects if e.significant]
        false = [e for e in hits if (e.factor, e.lag_days) not in sim.truth]
        any_false += bool(false)
        fdp += len(false) / len(hits) if hits else 0.0
        for key, ratio in sim.truth.items():
            real += 1
            found += any(
                (e.factor, e.lag_days) == key and (e.effect > 1) == (ratio > 1) for e in hits
            )
        for e in effects:
            intervals += 1
            covered += e.ci[0] <= sim.truth.get((e.factor, e.lag_days), 1.0) <= e.ci[1]
        if scenario.question == BLAMED:
            question += any(e.factor == "caffeine_mg" for e in hits)
        elif scenario.question == FOUND:
            question += any((e.factor, e.lag_days) == ("caffeine_mg", 1) for e in hits)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "procedure": procedure,
        "days": days,
        "journals": journals,
        "tested": tested / journals,
        "any_false": any_false / journals,
        "fdp": fdp / journals,
        "power": found / real if real else None,
        "coverage": covered / intervals if intervals else None,
    }
    if scenario.question:
        out[scenario.question] = question / journals
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journals", type=int, default=200, help="journals per scenario")
    parser.add_argument(
        "--scenario", "-s", action="append", choices=list(SCENARIOS), help="(repeatable)"
    )
    parser.add_argument("--days", type=int, action="append", help="override the lengths")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument(
        "--missing",
        choices=("indicator", "complete"),
        default="indicator",
        help="how days with a factor missing are used (if the stats module has the choice)",
    )
    parser.add_argument("--module", help="evaluate this stats.py file instead")
    parser.add_argument(
        "--procedure",
        choices=PROCEDURES,
        default="model",
        help="how significance is decided (the docstring's table); model is the project's",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.procedure != "model" and (args.module or args.missing != "indicator"):
        parser.error("--procedure needs the project's stats.py and --missing indicator")
    stats = _stats(args.module)
    t0 = time.perf_counter()
    results = []
    for name in args.scenario or list(SCENARIOS):
        scenario = SCENARIOS[name]
        for days in args.days or scenario.days:
            r = evaluate(
                scenario, days, args.journals, args.seed, stats, args.missing, args.procedure
            )
            results.append(r)
            if not args.json:
                print(_line(r), flush=True)
    if args.json:
        print(json.dumps({"args": vars(args), "results": results}, indent=2))
    else:
        print(f"({args.journals} journals per row, {time.perf_counter() - t0:.0f} s)")


def _line(r: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    extra = next((f"  {k} {pct(r[k])}" for k in (BLAMED, FOUND) if k in r), "")
    procedure = "" if r["procedure"] == "model" else f"[{r['procedure']}] "
    return (
        f"{procedure}{r['scenario']:18} {r['days']:4d} d  tested {pct(r['tested'])}  any false "
        f"{pct(r['any_false'])}  FDP {pct(r['fdp'])}  power {pct(r['power'])}  coverage "
        f"{pct(r['coverage'])}{extra}"
    )


if __name__ == "__main__":
    main()
