"""Which daily factors precede twitching: one count regression over all of them, honest errors.

Every daily factor the journal has (caffeine, sleep, water, workout minutes, stress, alcohol,
steps, heart-rate variability) goes into ONE model of the daily twitch count::

    log E[twitches(t)] = a + sum over factors f and lags l of b_fl x_f(t - l)
                           + trend(t) + day of week(t) + missing-value terms

a Poisson generalised linear model whose standard errors are the larger of the quasi-Poisson
and the Newey-West (heteroskedasticity- and autocorrelation-consistent, by calendar day) ones:
valid when the counts are over-dispersed and when bad days come in runs. All factors sit in
one model, so a factor that merely travels with the real trigger (more coffee after short
nights) is not credited with its effect; all three lags sit in it, so a steady habit is
credited to the day that matters; the trend (piecewise linear, a knot every quarter, at most
:data:`MAX_KNOTS`) keeps slow drifts from passing for an effect, and the day of the week keeps
a weekly rhythm (busy weekdays, weekend drinks) from doing so.

A day with a factor missing is kept: the missing value is set to the factor's mean and an
indicator term for "missing" is added (per factor and lag, identical columns once), so the
factor's effect is estimated from the days it was recorded and the other factors still use
that day (``missing="complete"`` keeps only days with every factor at every lag, for the
benchmark's comparison: bench/insights_eval.py). A factor recorded on too few days, or
without variation, is left out and a note says what is missing.

Each lag's effect is a rate ratio per :data:`STEPS` unit of the factor (1.3 = 30% more
twitches for each 100 mg of caffeine) with a 95% confidence interval and a p-value from the t
distribution with the model's residual degrees of freedom. Benjamini-Hochberg q-values are
computed over every factor x lag test, and an effect is significant when its q-value is below
:data:`ALPHA`. How often that still blames the wrong factor is measured, not assumed
(docs/insights.md, "How well it works").

The model is fitted here with numpy alone (iteratively reweighted least squares, one BLAS
thread through threadpoolctl when it is installed); the t distribution is computed here
too. numpy is imported inside the functions that use it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from twitchwise.journal.factors import FACTORS

if TYPE_CHECKING:
    from twitchwise.insights.source import Source
    from twitchwise.journal.records import DayFactors
    from twitchwise.journal.rows import WorkoutRow

__all__ = [
    "ALPHA",
    "LAGS",
    "MAX_SERIES_DAYS",
    "MIN_DAYS",
    "MIN_FACTOR_DAYS",
    "MIN_RESIDUAL_DF",
    "MIN_SIDE_DAYS",
    "STEPS",
    "DailySeries",
    "Effect",
    "EffectsResult",
    "benjamini_hochberg",
    "daily_series",
    "estimate_effects",
    "t_ppf",
    "t_sf",
]

#: Lags tested: the same day, the next day and two days later.
LAGS = (0, 1, 2)
#: The longest stretch analysed (ten years), ending at the latest entry: a journal whose
#: first episode is older (a stray date) is analysed from there, and the note says so.
MAX_SERIES_DAYS = 3653
#: Benjamini-Hochberg level for ``significant``.
ALPHA = 0.05
#: Nothing is estimated from fewer days with a twitch count than this ...
MIN_DAYS = 28
#: ... nor with fewer than this many days with twitching; a factor is in the model when it
#: was recorded on at least MIN_FACTOR_DAYS of the days analysed, at least MIN_SIDE_DAYS of
#: them above and MIN_SIDE_DAYS at or below its median (present and absent when the median
#: is 0) ...
MIN_SIDE_DAYS = 5
MIN_FACTOR_DAYS = 28
#: ... and the model needs this many more days than it has numbers to estimate.
MIN_RESIDUAL_DF = 30
#: A fit whose interval reaches beyond exp(+-MAX_LOG_RATIO) per step is degenerate, not an answer.
MAX_LOG_RATIO = 50.0
#: The trend has a knot every this many days, and at most MAX_KNOTS of them.
KNOT_EVERY_DAYS = 91
MAX_KNOTS = 8
#: Iteratively reweighted least squares stops when the deviance changes by less than this
#: (relative), or after MAX_ITERATIONS.
TOLERANCE = 1e-10
MAX_ITERATIONS = 100

#: The step each effect is given for: a rate ratio per this much of the factor (from the
#: registry, :mod:`twitchwise.journal.factors`).
STEPS: dict[str, tuple[float, str]] = {c: (f.step, f.step_words) for c, f in FACTORS.items()}

#: Short names for notes and the terminal (the labels of FACTORS carry units).
NAMES: dict[str, str] = {c: f.words for c, f in FACTORS.items()}

Missing = Literal["indicator", "complete"]


@dataclass(frozen=True, slots=True)
class Effect:
    """One factor at one lag: its rate ratio per step, with interval, p- and q-value."""

    factor: str
    lag_days: int
    effect: float
    ci: tuple[float, float]
    p_value: float
    q_value: float
    significant: bool
    n_with: int
    n_without: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "lag_days": self.lag_days,
            "effect": _round(self.effect),
            "ci": [_round(self.ci[0]), _round(self.ci[1])],
            "p_value": _round(self.p_value),
            "q_value": _round(self.q_value),
            "significant": self.significant,
            "n_with": self.n_with,
            "n_without": self.n_without,
        }

    @property
    def step(self) -> str:
        return STEPS[self.factor][1]


def _round(value: float) -> float:
    """Four significant digits: enough for people and tests, without float noise."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.4g}")


# ---------------------------------------------------------------------- the daily series


@dataclass
class DailySeries:
    """The journal as one row per day.

    ``counts`` are twitch episodes per day from ``start`` to ``end``: from the first day
    twitches were counted (the first episode, or an earlier day logged with 0 twitches) to
    the last entry of any kind. A day in between without an episode had none, unless its
    count was left blank in a daily CSV: then it is None, "not recorded". ``factors`` hold
    each factor per day from two days before ``start`` (for the lags) to ``end``; None is
    "not recorded".
    """

    start: date
    end: date
    counts: list[int | None]
    factors: dict[str, list[float | None]]
    days_with_entries: int
    earlier_factor_days: int = 0  # days with factors before twitches were counted: left out
    earlier_episodes: int = 0  # episodes before the stretch analysed (MAX_SERIES_DAYS)

    @property
    def n(self) -> int:
        return len(self.counts)

    @property
    def episodes(self) -> int:
        return sum(c for c in self.counts if c is not None)

    def lagged(self, factor: str, lag: int) -> list[float | None]:
        """x(t - lag) for every outcome day t."""
        values = self.factors[factor]
        offset = max(LAGS) - lag
        return values[offset : offset + self.n]


def daily_series(data: Source) -> DailySeries | None:
    """One row per day from the journal's records; None when no twitch has been logged.
    It needs the episodes per day only: a summary of the journal is enough."""
    from twitchwise.insights.source import summarise

    summary = summarise(data)
    counts: dict[date, int] = dict(summary.day_counts())
    by_day: dict[date, DayFactors] = {d.date: d.factors for d in summary.days}
    counted = {d.date: d.twitches_counted for d in summary.days if d.twitches_counted is not None}
    workout_min = _workout_minutes(summary.workouts)
    entry_days = set(counts) | set(by_day) | set(workout_min)
    if not counts:
        return None
    end = max(entry_days)
    oldest = end - timedelta(days=MAX_SERIES_DAYS - 1)
    earlier_episodes = sum(n for day, n in counts.items() if day < oldest)
    if earlier_episodes:
        counts = {day: n for day, n in counts.items() if day >= oldest}
        if not counts:
            return None
    # explicitly logged zero days before the first episode count too
    zero_days = [day for day, given in counted.items() if given and day >= oldest]
    start = min(min(counts), *zero_days) if zero_days else min(counts)
    first = start - timedelta(days=max(LAGS))
    n_all = (end - first).days + 1
    factors: dict[str, list[float | None]] = {}
    for name in FACTORS:
        column: list[float | None] = [None] * n_all
        for day, row in by_day.items():
            value = getattr(row, name)
            if value is not None and first <= day <= end:
                column[(day - first).days] = float(value)
        if name == "workout_min" and workout_min:
            _fill_workouts(column, first, workout_min)
        factors[name] = column
    earlier = sum(
        1
        for day, row in by_day.items()
        if day < first and any(getattr(row, f) is not None for f in FACTORS)
    )
    daily: list[int | None] = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        daily.append(counts.get(day, None if counted.get(day) is False else 0))
    return DailySeries(
        start=start,
        end=end,
        counts=daily,
        factors=factors,
        days_with_entries=len(entry_days),
        earlier_factor_days=earlier,
        earlier_episodes=earlier_episodes,
    )


def _workout_minutes(workouts: list[WorkoutRow]) -> dict[date, float]:
    """Minutes of imported workouts per local date."""
    out: dict[date, float] = defaultdict(float)
    for w in workouts:
        out[w.start.astimezone().date()] += float(w.duration_s or 0) / 60
    return dict(out)


def _fill_workouts(column: list[float | None], first: date, minutes: dict[date, float]) -> None:
    """Days without logged workout minutes take their workouts' minutes; between the first and
    the last imported workout, a day without one is a rest day (0), not an unknown one."""
    low, high = min(minutes), max(minutes)
    for i, value in enumerate(column):
        if value is not None:
            continue
        day = first + timedelta(days=i)
        if day in minutes:
            column[i] = round(minutes[day], 1)
        elif low <= day <= high:
            column[i] = 0.0


# ---------------------------------------------------------------------- the model


@dataclass
class EffectsResult:
    effects: list[Effect] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)  # factors with effects
    days: int = 0  # days in the model
    parameters: int = 0  # numbers it estimated
    residual_df: int = 0


@dataclass
class _Fit:
    factor: str
    lag: int
    coef: float
    low: float
    high: float
    p_value: float
    n_with: int
    n_without: int


@dataclass
class _Design:
    """The model's columns: what each is, and which belong to a factor's lag."""

    columns: list[Any] = field(default_factory=list)
    kinds: list[tuple[str, int]] = field(default_factory=list)  # (factor or "", lag or -1)

    def add(self, column: Any, factor: str = "", lag: int = -1) -> None:
        self.columns.append(column)
        self.kinds.append((factor, lag))


def estimate_effects(
    series: DailySeries | None, *, missing: Missing = "indicator"
) -> EffectsResult:
    """Every factor x lag effect that the data can support, from one joint model, and notes
    on what could not be estimated and what is missing for it."""
    result = EffectsResult()
    if series is None:
        result.notes.append(
            "No twitches logged yet, so there is nothing to compare: log them with "
            "'twitchwise log' (or import a daily CSV with a twitches column)."
        )
        return result
    import numpy as np

    y_all = np.array([np.nan if c is None else c for c in series.counts], dtype=float)
    rows = np.flatnonzero(np.isfinite(y_all))
    n = len(rows)
    if n < MIN_DAYS:
        result.notes.append(
            f"Not enough data yet: twitches have been counted on {n} days ({series.start} to "
            f"{series.end}); insights need at least {MIN_DAYS} days: log them on "
            f"{MIN_DAYS - n} more days."
        )
        return result
    twitch_days = int((y_all[rows] > 0).sum())
    if twitch_days < MIN_SIDE_DAYS:
        result.notes.append(
            f"Not enough data yet: twitching was logged on {twitch_days} of the {n} days "
            f"analysed; the model needs at least {MIN_SIDE_DAYS} days with twitching."
        )
        return result
    values = {
        name: np.array([np.nan if v is None else v for v in series.factors[name]], dtype=float)
        for name in FACTORS
    }
    unrecorded = [NAMES[f] for f, v in values.items() if not np.isfinite(v).any()]
    included: list[str] = []
    for name, column in values.items():
        if NAMES[name] in unrecorded:
            continue
        problem = _too_little(name, column[max(LAGS) + rows], n)
        if problem:
            result.notes.append(problem)
        else:
            included.append(name)
    if unrecorded:
        result.notes.append(f"Not recorded, so not tested: {_join(unrecorded)}.")
    if not included:
        return result
    with _one_blas_thread():
        fits = _fit_joint(series, y_all, rows, values, included, missing, result)
    qvalues = benjamini_hochberg([f.p_value for f in fits])
    for fit, q in zip(fits, qvalues, strict=True):
        result.effects.append(
            Effect(
                factor=fit.factor,
                lag_days=fit.lag,
                effect=math.exp(fit.coef),
                ci=(math.exp(fit.low), math.exp(fit.high)),
                p_value=fit.p_value,
                q_value=q,
                significant=q < ALPHA,
                n_with=fit.n_with,
                n_without=fit.n_without,
            )
        )
    if fits and not any(e.significant for e in result.effects):
        result.notes.append(
            f"No factor is clearly linked to your twitching yet ({len(fits)} tests of "
            f"{len(result.tested)} factors in one model, q < {ALPHA:g} needed); more days will "
            "give a clearer answer."
        )
    return result


def _too_little(name: str, x: Any, n: int) -> str | None:
    """A note when factor ``name`` (its values on the days analysed) cannot be in the model."""
    import numpy as np

    label = NAMES[name]
    recorded = x[np.isfinite(x)]
    if len(recorded) < MIN_FACTOR_DAYS:
        more = MIN_FACTOR_DAYS - len(recorded)
        return (
            f"{label}: not enough data yet (recorded on {len(recorded)} of the {n} days "
            f"analysed, {MIN_FACTOR_DAYS} needed): log {label} on {more} more "
            f"day{'' if more == 1 else 's'}."
        )
    n_with, n_without = _split(recorded)
    if n_with < MIN_SIDE_DAYS or n_without < MIN_SIDE_DAYS:
        return (
            f"{label}: not enough variation yet (it was much the same on nearly every day it "
            f"was recorded; at least {MIN_SIDE_DAYS} days above and {MIN_SIDE_DAYS} at or below "
            "its usual level needed)."
        )
    return None


def _split(x: Any) -> tuple[int, int]:
    """Days "with" and "without" the factor: above / at or below its median, or present /
    absent when the median is 0 (alcohol, workouts)."""
    import numpy as np

    if len(x) == 0:
        return 0, 0
    median = float(np.median(x))
    above = x > median
    if median == 0:
        above = x > 0
    elif not above.any():  # more than half the days at the highest value
        above = x >= median
    n_with = int(above.sum())
    return n_with, int(len(x) - n_with)


def _fit_joint(
    series: DailySeries,
    y_all: Any,
    rows: Any,
    values: dict[str, Any],
    included: list[str],
    missing: Missing,
    result: EffectsResult,
) -> list[_Fit]:
    """The joint model of ``included`` factors; a factor that cannot be separated from the
    rest, or whose estimate is degenerate, is dropped with a note and the model refitted."""
    import numpy as np

    included = list(included)
    while included:
        use = rows
        if missing == "complete":
            present = np.ones(len(rows), dtype=bool)
            for name in included:
                for lag in LAGS:
                    present &= np.isfinite(values[name][max(LAGS) - lag + rows])
            use = rows[present]
        design, dropped = _design(series, use, values, included)
        if dropped:
            for name in dropped:
                result.notes.append(
                    f"{NAMES[name]}: not tested: on the days analysed it moves in step with "
                    "the other terms of the model (another factor, the day of the week or the "
                    "trend), so its own effect cannot be told apart."
                )
                included.remove(name)
            continue
        X = np.column_stack(design.columns)
        n, p = X.shape
        df = n - p
        if df < MIN_RESIDUAL_DF:
            more = MIN_RESIDUAL_DF - df
            what = "days with every factor recorded" if missing == "complete" else "days"
            result.notes.append(
                f"Not enough data yet to weigh {_join([NAMES[f] for f in included])} against "
                f"each other: the model estimates {p} numbers from {n} {what} and needs "
                f"{MIN_RESIDUAL_DF} days more than it estimates: log twitches and factors on "
                f"{more} more day{'' if more == 1 else 's'}."
            )
            return []
        y = y_all[use]
        fitted = _poisson(X, y)
        if fitted is None:
            result.notes.append(
                "The model could not be fitted to your days (it did not settle); more days help."
            )
            return []
        params, se = _errors(X, y, fitted, use)
        crit = t_ppf(1 - ALPHA / 2, df)
        fits: list[_Fit] = []
        degenerate: list[str] = []
        for i, (name, lag) in enumerate(design.kinds):
            if not name:
                continue
            coef, err = float(params[i]), float(se[i])
            if not (
                math.isfinite(coef)
                and math.isfinite(err)
                and 0 < err < MAX_LOG_RATIO
                and abs(coef) + crit * err <= MAX_LOG_RATIO
            ):
                if name not in degenerate:
                    degenerate.append(name)
                continue
            x = values[name][max(LAGS) - lag + use]
            n_with, n_without = _split(x[np.isfinite(x)])
            fits.append(
                _Fit(
                    name,
                    lag,
                    coef,
                    coef - crit * err,
                    coef + crit * err,
                    2 * t_sf(abs(coef / err), df),
                    n_with,
                    n_without,
                )
            )
        if degenerate:
            for name in degenerate:
                result.notes.append(
                    f"{NAMES[name]}: could not be estimated (the model did not settle); more "
                    "days help."
                )
                included.remove(name)
            continue
        result.tested = list(included)
        result.days, result.parameters, result.residual_df = n, p, df
        return fits
    return []


def _design(
    series: DailySeries, rows: Any, values: dict[str, Any], included: list[str]
) -> tuple[_Design, list[str]]:
    """The columns for the days ``rows`` (indices from ``series.start``), and the factors
    whose columns depend linearly on the others (to be left out).

    Factor columns are centred on the factor's mean and divided by its step, so that a
    missing value (set to the mean) is 0; "missing" indicators are added once per distinct
    pattern. The columns are checked in order (intercept, trend, day of week, indicators,
    factors): a nuisance column that adds nothing is dropped, a factor's is reported.
    """
    import numpy as np

    t = rows.astype(float)
    design = _Design()
    design.add(np.ones(len(rows)))
    for column in _trend(t):
        design.add(column)
    weekday = (series.start.weekday() + rows) % 7
    for day in range(1, 7):  # Monday is the reference
        design.add((weekday == day).astype(float))
    indicators: dict[bytes, Any] = {}
    factor_columns: list[tuple[str, int, Any]] = []
    for name in included:
        column = values[name]
        mean = float(np.mean(column[np.isfinite(column)]))
        step = STEPS[name][0]
        for lag in LAGS:
            x = column[max(LAGS) - lag + rows]
            absent = ~np.isfinite(x)
            factor_columns.append((name, lag, np.where(absent, 0.0, (x - mean) / step)))
            if absent.any():
                indicators.setdefault(absent.tobytes(), absent.astype(float))
    for column in indicators.values():
        design.add(column)
    for name, lag, column in factor_columns:
        design.add(column, name, lag)
    return _independent(design)


def _independent(design: _Design) -> tuple[_Design, list[str]]:
    """``design`` without the columns that depend linearly on those before them (Gram-Schmidt
    on the scaled columns), and the factors that had such a column."""
    import numpy as np

    kept = _Design()
    basis: list[Any] = []
    dropped: list[str] = []
    for column, (name, lag) in zip(design.columns, design.kinds, strict=True):
        norm = float(np.linalg.norm(column))
        if norm == 0:
            if name and name not in dropped:
                dropped.append(name)
            continue
        r = column / norm
        for q in basis:  # twice over, for numerical stability
            r = r - q * float(q @ r)
        for q in basis:
            r = r - q * float(q @ r)
        rest = float(np.linalg.norm(r))
        if rest < 1e-7:
            if name and name not in dropped:
                dropped.append(name)
            continue
        basis.append(r / rest)
        kept.add(column, name, lag)
    return kept, dropped


@dataclass
class _Fitted:
    params: Any
    mu: Any


def _poisson(X: Any, y: Any) -> _Fitted | None:
    """Maximum likelihood of the Poisson log-linear model by iteratively reweighted least
    squares (step-halving when the deviance rises); None when it does not settle."""
    import numpy as np

    eta = np.log((y + y.mean()) / 2 + 1e-3)
    mu = np.exp(eta)
    deviance = math.inf  # the first step is taken whole
    params = np.zeros(X.shape[1])
    for _ in range(MAX_ITERATIONS):
        z = eta + (y - mu) / mu
        XtW = X.T * mu
        try:
            new = np.linalg.solve(XtW @ X, XtW @ z)
        except np.linalg.LinAlgError:
            new = np.linalg.lstsq(X * np.sqrt(mu)[:, None], z * np.sqrt(mu), rcond=None)[0]
        for _halving in range(30):
            new_eta = np.clip(X @ new, -40.0, 25.0)
            new_mu = np.exp(new_eta)
            new_deviance = _deviance(y, new_mu)
            if np.isfinite(new_deviance) and new_deviance <= deviance * (1 + 1e-12) + 1e-12:
                break
            new = (new + params) / 2
        else:
            return None
        change = abs(deviance - new_deviance)
        params, eta, mu, deviance = new, new_eta, new_mu, new_deviance
        if change <= TOLERANCE * (abs(deviance) + 0.1):
            return _Fitted(params, mu)
    return None


def _deviance(y: Any, mu: Any) -> float:
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(term - (y - mu)))


def _errors(X: Any, y: Any, fitted: _Fitted, rows: Any) -> tuple[Any, Any]:
    """The coefficients and their standard errors: per coefficient the larger of the
    quasi-Poisson and the Newey-West one (:func:`_variances`)."""
    import numpy as np

    quasi, hac = _variances(X, y, fitted.mu, rows)
    return fitted.params, np.sqrt(np.maximum(np.maximum(quasi, hac), 0.0))


def _variances(X: Any, y: Any, mu: Any, rows: Any) -> tuple[Any, Any]:
    """The coefficients' variances, quasi-Poisson (Pearson dispersion) and Newey-West
    (Bartlett kernel, ``floor(4 (T/100)^(2/9))`` lags over the T calendar days spanned, the
    scores of days not in the model taken as 0 so that lags are counted in calendar days,
    with the n/(n-p) correction). ``rows`` are the days' indices, ascending."""
    import numpy as np

    n, p = X.shape
    information = (X.T * mu) @ X
    try:
        bread = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        bread = np.linalg.pinv(information)
    resid = y - mu
    dispersion = float(np.sum(resid**2 / mu)) / (n - p)
    quasi = dispersion * np.diag(bread)
    span = int(rows[-1] - rows[0]) + 1
    calendar = np.zeros((span, p))
    calendar[rows - rows[0]] = X * resid[:, None]
    meat = calendar.T @ calendar
    maxlags = math.floor(4 * (span / 100) ** (2 / 9))
    for lag in range(1, min(maxlags, span - 1) + 1):
        gamma = calendar[lag:].T @ calendar[:-lag]
        meat += (1 - lag / (maxlags + 1)) * (gamma + gamma.T)
    hac = np.diag(bread @ meat @ bread) * n / (n - p)
    return quasi, hac


def _trend(t: Any) -> list[Any]:
    """Piecewise-linear trend columns over the day index ``t`` (scaled to years)."""
    import numpy as np

    span = float(t.max() - t.min()) if len(t) else 0.0
    if span <= 0:
        return []
    knots = min(MAX_KNOTS, int(span // KNOT_EVERY_DAYS))
    origin = float(t.min())
    columns = [(t - origin) / 365.0]
    for k in range(1, knots + 1):
        at = origin + span * k / (knots + 1)
        columns.append(np.maximum(0.0, t - at) / 365.0)
    return columns


# ---------------------------------------------------------------------- one BLAS thread

_controller: Any = None


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread while the model is fitted: its matrices are small, and
    several threads on a busy machine made the fit several times slower. Without
    threadpoolctl installed, BLAS is left as it is."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
        except ImportError:
            _controller = False
        else:
            _controller = ThreadpoolController()
    limit = _controller.limit(limits=1, user_api="blas") if _controller else nullcontext()
    with limit:
        yield


# ---------------------------------------------------------------------- the t distribution


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1 - tail


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (0 < q < 1)."""
    if not 0 < q < 1:
        raise ValueError(f"quantile {q} outside (0, 1)")
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_ppf(1 - q, df)
    low, high = 0.0, 1.0
    while t_sf(high, df) > 1 - q:
        high *= 2
    for _ in range(200):  # bisection to the float's precision
        mid = (low + high) / 2
        if mid in (low, high):
            break
        if t_sf(mid, df) > 1 - q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1.0 - x)
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 10_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-16:
            break
    return math.exp(log_front) * fraction / a


# ---------------------------------------------------------------------- many tests


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given."""
    m = len(pvalues)
    if m == 0:
        return []
    order = sorted(range(m), key=lambda i: pvalues[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        q[i] = min(1.0, running)
    return q


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
