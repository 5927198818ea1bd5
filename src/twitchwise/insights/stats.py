"""Which daily factors precede twitching: count regression with honest uncertainty.

For every daily factor the journal has (caffeine, sleep, water, workout minutes, stress,
alcohol, steps, heart-rate variability), one model of the daily twitch count::

    log E[twitches(t)] = a + b0 x(t) + b1 x(t-1) + b2 x(t-2) + trend(t)

a Poisson generalised linear model (statsmodels) whose standard errors are the larger of the
quasi-Poisson and the Newey-West (heteroskedasticity- and autocorrelation-consistent) ones:
valid when the counts are over-dispersed (a negative-binomial-like spread) and when bad days
come in runs, which a plain Poisson or negative-binomial model of independent days is not.
The three lags sit in one model, so a factor that is much the same from one day to the next
is credited to the day that matters and not to its neighbours; the trend (piecewise linear,
a knot every quarter, at most :data:`MAX_KNOTS`) keeps slow drifts (seasons, a bad month)
from passing for an effect.

Each lag's effect is a rate ratio per :data:`STEPS` unit of the factor (1.3 = 30% more
twitches for each 100 mg of caffeine) with a 95% confidence interval and a p-value from the t
distribution. Benjamini-Hochberg q-values are computed over every factor x lag test run, and
an effect is significant when its q-value is below 0.05: the false discovery rate is 5%.

Nothing is estimated from too little data (:data:`MIN_DAYS` usable days, :data:`MIN_SIDE_DAYS`
days with and without twitching, and with the factor above and at or below its median); a
note says so instead. numpy and statsmodels are imported inside the functions that use them.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

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
    "MIN_SIDE_DAYS",
    "STEPS",
    "DailySeries",
    "Effect",
    "EffectsResult",
    "benjamini_hochberg",
    "daily_series",
    "estimate_effects",
]

#: Lags tested: the same day, the next day and two days later.
LAGS = (0, 1, 2)
#: The longest stretch analysed (ten years), ending at the latest entry: a journal whose
#: first episode is older (a stray date) is analysed from there, and the note says so.
MAX_SERIES_DAYS = 3653
#: False discovery rate for ``significant``.
ALPHA = 0.05
#: A factor is tested only with at least this many usable days (the factor recorded on the
#: day and the two before it, within the time twitches were being logged) ...
MIN_DAYS = 28
#: ... at least this many of them with and without twitching, and at least this many with
#: the factor above and at or below its median (present and absent when the median is 0).
MIN_SIDE_DAYS = 5
#: A fit whose interval reaches beyond exp(+-MAX_LOG_RATIO) per step is degenerate, not an answer.
MAX_LOG_RATIO = 50.0
#: The trend has a knot every this many days, and at most MAX_KNOTS of them.
KNOT_EVERY_DAYS = 91
MAX_KNOTS = 8

#: The step each effect is given for: a rate ratio per this much of the factor (from the
#: registry, :mod:`twitchwise.journal.factors`).
STEPS: dict[str, tuple[float, str]] = {c: (f.step, f.step_words) for c, f in FACTORS.items()}

#: Short names for notes and the terminal (the labels of FACTORS carry units).
NAMES: dict[str, str] = {c: f.words for c, f in FACTORS.items()}


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


@dataclass
class DailySeries:
    """The journal as one row per day.

    ``counts`` are twitch episodes per day from ``start`` to ``end`` (the days twitches were
    being logged: from the first episode to the last entry of any kind; a day in between
    without an episode had none). ``factors`` hold each factor per day from two days before
    ``start`` (for the lags) to ``end``; None is "not recorded".
    """

    start: date
    end: date
    counts: list[int]
    factors: dict[str, list[float | None]]
    days_with_entries: int
    earlier_factor_days: int = 0  # days with factors before the first episode: left out
    earlier_episodes: int = 0  # episodes before the stretch analysed (MAX_SERIES_DAYS)

    @property
    def n(self) -> int:
        return len(self.counts)

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
    counts: dict[date, int] = defaultdict(int, summary.day_counts())
    by_day: dict[date, DayFactors] = {d.date: d.factors for d in summary.days}
    workout_min = _workout_minutes(summary.workouts)
    entry_days = set(counts) | set(by_day) | set(workout_min)
    if not counts:
        return None
    end = max(entry_days)
    oldest = end - timedelta(days=MAX_SERIES_DAYS - 1)
    earlier_episodes = sum(n for day, n in counts.items() if day < oldest)
    if earlier_episodes:
        counts = defaultdict(int, {day: n for day, n in counts.items() if day >= oldest})
        if not counts:
            return None
    start = min(counts)
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
    return DailySeries(
        start=start,
        end=end,
        counts=[counts.get(start + timedelta(days=i), 0) for i in range((end - start).days + 1)],
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


@dataclass
class EffectsResult:
    effects: list[Effect] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)  # factors with effects


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


def estimate_effects(series: DailySeries | None) -> EffectsResult:
    """Every factor x lag effect that the data can support, and notes on the rest."""
    result = EffectsResult()
    if series is None:
        result.notes.append(
            "No twitches logged yet, so there is nothing to compare: log them with "
            "'twitchwise log' (or import a daily CSV with a twitches column)."
        )
        return result
    import numpy as np

    y = np.asarray(series.counts, dtype=float)
    fits: list[_Fit] = []
    unrecorded: list[str] = []
    for name in FACTORS:
        if all(v is None for v in series.factors[name]):
            unrecorded.append(NAMES[name])
            continue
        columns = [
            np.array([np.nan if v is None else v for v in series.lagged(name, lag)]) for lag in LAGS
        ]
        usable = np.all(np.isfinite(np.column_stack(columns)), axis=1)
        problem = _too_little(name, usable, y, columns[0])
        if problem:
            result.notes.append(problem)
            continue
        found = _fit(name, y, columns, usable)
        if isinstance(found, str):
            result.notes.append(found)
            continue
        fits.extend(found)
        result.tested.append(name)
    if unrecorded:
        result.notes.append(f"Not recorded, so not tested: {_join(unrecorded)}.")
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
            f"No factor is clearly linked to your twitching yet ({len(fits)} tests, false "
            f"discovery rate {ALPHA:.0%}); more days will give a clearer answer."
        )
    return result


def _too_little(name: str, usable: Any, y: Any, x: Any) -> str | None:
    """A "not enough data yet" note when this factor cannot be tested, else None."""
    label = NAMES[name]
    n = int(usable.sum())
    if n < MIN_DAYS:
        return (
            f"{label}: not enough data yet ({n} usable days, {MIN_DAYS} needed: days with it "
            "recorded on the day and the two days before, since your first logged twitch)."
        )
    twitch_days = int((y[usable] > 0).sum())
    calm_days = n - twitch_days
    if twitch_days < MIN_SIDE_DAYS or calm_days < MIN_SIDE_DAYS:
        return (
            f"{label}: not enough data yet ({twitch_days} days with twitching and {calm_days} "
            f"without among {n} usable days; at least {MIN_SIDE_DAYS} of each needed)."
        )
    n_with, n_without = _split(x[usable])
    if n_with < MIN_SIDE_DAYS or n_without < MIN_SIDE_DAYS:
        return (
            f"{label}: not enough variation yet (it was much the same on nearly every usable "
            f"day; at least {MIN_SIDE_DAYS} days above and {MIN_SIDE_DAYS} at or below its "
            "usual level needed)."
        )
    return None


def _split(x: Any) -> tuple[int, int]:
    """Days "with" and "without" the factor: above / at or below its median, or present /
    absent when the median is 0 (alcohol, workouts)."""
    import numpy as np

    median = float(np.median(x))
    above = x > median
    if median == 0:
        above = x > 0
    elif not above.any():  # more than half the days at the highest value
        above = x >= median
    n_with = int(above.sum())
    return n_with, int(len(x) - n_with)


def _fit(name: str, y: Any, columns: list[Any], usable: Any) -> list[_Fit] | str:
    """The Poisson model of one factor's three lags; a note if it cannot be fitted.

    Each coefficient's standard error is the larger of the quasi-Poisson one (over-dispersion)
    and the Newey-West one (over-dispersion and runs of days); p-values and intervals use the
    t distribution with the model's residual degrees of freedom. The sandwich alone is too
    optimistic over a few months of days (about 7% false positives at a nominal 5% in the
    simulations of docs/insights.md); taking the larger keeps it near 5%.
    """
    import numpy as np
    from scipy import stats
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    step = STEPS[name][0]
    index = np.flatnonzero(usable)
    n = len(index)
    design = [np.ones(n), *(c[usable] / step for c in columns), *_trend(index.astype(float))]
    X = np.column_stack(design)
    df = n - X.shape[1]
    maxlags = math.floor(4 * (n / 100) ** (2 / 9))  # Newey and West's rule of thumb
    failed = f"{NAMES[name]}: could not be estimated (the model did not settle); more days help."
    try:
        with warnings.catch_warnings():  # judged below by the numbers, not by warnings
            warnings.simplefilter("ignore")
            model = GLM(y[usable], X, family=families.Poisson())
            quasi = model.fit(scale="X2")
            if not quasi.converged or df < MIN_DAYS // 2:
                return failed
            hac = model.fit(
                start_params=quasi.params,
                cov_type="HAC",
                cov_kwds={"maxlags": maxlags, "use_correction": True},
            )
    except (PerfectSeparationError, np.linalg.LinAlgError, ValueError) as exc:
        return f"{NAMES[name]}: could not be estimated ({type(exc).__name__}); more days help."
    params = np.asarray(quasi.params)
    se = np.maximum(np.asarray(quasi.bse), np.asarray(hac.bse))
    crit = float(stats.t.ppf(1 - ALPHA / 2, df))
    out: list[_Fit] = []
    for lag in LAGS:
        i = 1 + lag
        coef, err = float(params[i]), float(se[i])
        if not (math.isfinite(coef) and math.isfinite(err) and 0 < err < MAX_LOG_RATIO):
            return failed
        if abs(coef) + crit * err > MAX_LOG_RATIO:  # a ratio beyond e^50 per step: degenerate
            return failed
        n_with, n_without = _split(columns[lag][usable])
        out.append(
            _Fit(
                name,
                lag,
                coef,
                coef - crit * err,
                coef + crit * err,
                float(2 * stats.t.sf(abs(coef / err), df)),
                n_with,
                n_without,
            )
        )
    return out


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
