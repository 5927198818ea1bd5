"""Random-effects meta-analysis of personal effects (DerSimonian and Laird, 1986), and of
self-experiments from their counts (:func:`pool_counts`, below).

Each person ``i`` has an estimated log rate ratio ``y_i`` with standard error ``s_i`` for a
factor (from their own quasi-Poisson model). The true personal effects are taken to vary
across people as ``theta_i ~ N(mu, tau^2)``; ``y_i ~ N(theta_i, s_i^2)``.

- fixed-effect weights ``w_i = 1/s_i^2``; ``Q = sum w_i y_i^2 - (sum w_i y_i)^2 / sum w_i``;
- ``tau^2 = max(0, (Q - (k - 1)) / (sum w_i - sum w_i^2 / sum w_i))`` (the method of moments);
- ``I^2 = max(0, (Q - (k - 1)) / Q)``: the share of the spread of the estimates that is
  people differing rather than chance;
- random-effects weights ``w*_i = 1/(s_i^2 + tau^2)``; ``mu = sum w*_i y_i / sum w*_i`` with
  standard error ``1/sqrt(sum w*_i)`` and a 95% interval ``mu +- 1.96 se``;
- the 95% prediction interval of one new person's effect, ``mu +- t_{k-2} sqrt(tau^2 + se^2)``
  (Higgins, Thompson and Spiegelhalter, 2009);
- the share of people for whom the factor matters: under ``N(mu, tau^2)``, the share whose
  effect is a rate ratio above 1.1 or below 1/1.1 per step.

Only sums enter, so the engines compute them (:func:`.queries.meta_sums`,
:func:`.queries.meta_pooled`) and nothing per person comes back.

**Self-experiments** are pooled from each experiment's counts instead (format version 3):
``n0``, ``n1`` analysed usual and change days, ``y0``, ``y1`` the twitches on them, the
total ``T = y0 + y1``, the blocks' Pearson dispersion. A person's own log rate ratio and its
error rest on their own low counts, and inverse-variance weights built from them correlate
with the estimate (calm change days give a larger error, so less weight) and pull the
pooled ratio towards 1. Here nobody's weight depends on how their twitches split between
the conditions:

- each experiment, given its total, is a split of ``T`` between the conditions; at a pooled
  rate ratio ``R`` the change's expected share is ``p = n1 R / (n0 + n1 R)``, and the
  experiment's score and information are ``A = (y1 - T p) / phi`` and
  ``I = T p (1 - p) / phi`` (Peto's ``(O - E) / V``, here at ``R`` rather than at 1,
  iterated to the conditional maximum-likelihood estimate: Mantel and Haenszel's rate ratio
  is its start; Greenland and Robins, 1985). A person's experiments of a change add up.
- ``phi = 1 + kappa m`` is the extra-Poisson variation of a block's total ``m`` (the mean
  block total ``T / blocks``; a negative-binomial variance ``m + kappa m^2``), with one
  ``kappa`` per change from every experiment's Pearson statistic:
  ``kappa = max(0, sum(X^2 - df) / sum(df m))``, ``X^2 = dispersion df``,
  ``df = blocks - 2``;
- fixed effect: ``sum A = 0``; Cochran's ``Q = sum A^2 / I`` (the Pearson statistic of that
  fit); ``tau^2 = max(0, (Q - (k - 1)) / (sum I - sum I^2 / sum I))``, DerSimonian and
  Laird's moments on the scale of the counts; ``I^2`` from ``Q``;
- random effects: ``sum h A = 0`` with ``h = 1 / (1 + tau^2 I)`` per person (the weights of
  ``1 / (1/I + tau^2)``, as the usual random-effects mean), which solves for the weighted
  mean of the people's rate ratios; under the model ``log`` of it is ``mu + tau^2 / 2``, so
  ``mu = log R - tau_raw^2 / 2`` with the moment estimate before it is cut at 0 (unbiased;
  the cut one would move a change that does nothing away from 1);
- its variance: the robust (sandwich) variance of ``log R`` over people,
  ``k / (k - 1) sum (h A)^2 / (sum h I)^2``, plus a quarter of the variance of ``tau^2``
  (``sum g^2 / C^2``, ``C = sum I - sum I^2 / sum I``, with ``g`` each person's term of
  the moment equation); the 95%
  interval is ``mu +- t(0.975, k - 1) se`` (Hartung and Knapp, 2001), the prediction
  interval as above.

Every step is a sum over people given the pooled values (the engines compute them:
:func:`.queries.experiment_counts`, :func:`.queries.experiment_scores`), so nothing per
person comes back; ``bench/cohort_coverage.py --experiments`` measures the recovery of the
planted effect (docs/cohort.md#pooled-self-experiments).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "MATTERS",
    "CountExperiment",
    "CountParams",
    "CountStart",
    "Meta",
    "ScoreSums",
    "Sums",
    "count_scores",
    "count_start",
    "dersimonian_laird",
    "pool",
    "pool_counts",
    "pooled_counts",
    "tau_squared",
]

#: A personal rate ratio beyond 1.1 (or below 1/1.1) per step "matters".
MATTERS = 1.1
_Z = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True, slots=True)
class Sums:
    """The fixed-effect sums over ``k`` people: sum w, sum w y, sum w y^2, sum w^2."""

    k: int
    sw: float
    swy: float
    swy2: float
    sw2: float


@dataclass(frozen=True, slots=True)
class Meta:
    """The random-effects result for one factor (log scale)."""

    k: int
    mu: float
    se: float
    tau2: float
    q: float
    i2: float
    ci: tuple[float, float]
    prediction: tuple[float, float] | None
    share_more: float
    share_fewer: float

    @property
    def share_matters(self) -> float:
        return self.share_more + self.share_fewer


def tau_squared(s: Sums) -> tuple[float, float, float]:
    """``(tau^2, Q, I^2)`` of DerSimonian and Laird from the fixed-effect sums."""
    q = max(0.0, s.swy2 - s.swy * s.swy / s.sw)
    df = s.k - 1
    c = s.sw - s.sw2 / s.sw
    tau2 = max(0.0, (q - df) / c) if c > 0 else 0.0
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return tau2, q, i2


def pool(s: Sums, sw_star: float, swy_star: float) -> Meta:
    """The random-effects result from the fixed-effect sums and the random-effects sums
    ``sum w*_i`` and ``sum w*_i y_i`` (weights ``1/(s_i^2 + tau^2)``)."""
    tau2, q, i2 = tau_squared(s)
    return _meta(s.k, swy_star / sw_star, 1.0 / math.sqrt(sw_star), tau2, q, i2, _Z)


def _meta(k: int, mu: float, se: float, tau2: float, q: float, i2: float, crit: float) -> Meta:
    """The result from its parts; the 95% interval is ``mu +- crit se``."""
    from twitchwise.insights.stats import t_ppf

    prediction = None
    if k >= 3:
        half = t_ppf(0.975, k - 2) * math.sqrt(tau2 + se * se)
        prediction = (mu - half, mu + half)
    cut = math.log(MATTERS)
    if tau2 > 0:
        spread = NormalDist(mu, math.sqrt(tau2))
        more, fewer = 1.0 - spread.cdf(cut), spread.cdf(-cut)
    else:
        more, fewer = float(mu > cut), float(mu < -cut)
    return Meta(
        k=k,
        mu=mu,
        se=se,
        tau2=tau2,
        q=q,
        i2=i2,
        ci=(mu - crit * se, mu + crit * se),
        prediction=prediction,
        share_more=more,
        share_fewer=fewer,
    )


def sums(y: Sequence[float], se: Sequence[float]) -> Sums:
    w = [1.0 / (s * s) for s in se]
    return Sums(
        k=len(y),
        sw=sum(w),
        swy=sum(wi * yi for wi, yi in zip(w, y, strict=True)),
        swy2=sum(wi * yi * yi for wi, yi in zip(w, y, strict=True)),
        sw2=sum(wi * wi for wi in w),
    )


def dersimonian_laird(y: Sequence[float], se: Sequence[float]) -> Meta:
    """The whole meta-analysis from per-person estimates held in memory (for tests and the
    simulations of bench/cohort_coverage.py; reports use the engines' sums)."""
    s = sums(y, se)
    tau2, _, _ = tau_squared(s)
    ws = [1.0 / (e * e + tau2) for e in se]
    return pool(s, sum(ws), sum(wi * yi for wi, yi in zip(ws, y, strict=True)))


# ---------------------------------------------------------------------- from the counts

#: Newton's iterations stop when a step of the log rate ratio is below this ...
_TOLERANCE = 1e-10
#: ... or after this many.
_MAX_STEPS = 50


@dataclass(frozen=True, slots=True)
class CountStart:
    """Sums over one change's experiments with an effect: the Pearson statistics for
    ``kappa`` (``sum (X^2 - df)``, ``sum df m``) and Mantel and Haenszel's rate ratio
    (``sum y1 n0 / N`` over ``sum y0 n1 / N``, ``N = n0 + n1``), the start of the fit."""

    excess: float
    df_mean: float
    mh_change: float
    mh_usual: float

    @property
    def kappa(self) -> float:
        return max(0.0, self.excess / self.df_mean) if self.df_mean > 0 else 0.0


@dataclass(frozen=True, slots=True)
class CountParams:
    """Where one pass takes a change's sums: at the pooled log rate ratio ``log_rr``, with
    ``kappa``; the weights ``h = 1/(1 + tau2 I)`` (0: the fixed effect); ``tau2_raw`` and
    ``total`` (the fixed effect's ``sum I``) for each person's term of the moment equation."""

    log_rr: float
    kappa: float
    tau2: float = 0.0
    tau2_raw: float = 0.0
    total: float = 1.0


@dataclass(frozen=True, slots=True)
class ScoreSums:
    """One change's sums over people at :class:`CountParams`: ``k`` people, ``sum h A``,
    ``sum h I``, ``sum (h A)^2``; ``sum A^2 / I`` (Q), ``sum I``, ``sum I^2`` (unweighted);
    ``sum g^2``, the squares of each person's term of the moment equation of tau^2."""

    k: int
    sa: float
    si: float
    sa2: float
    q: float
    s1: float
    s2: float
    sg2: float


@dataclass(frozen=True, slots=True)
class CountExperiment:
    """One experiment with an effect, as the table holds it (for the in-memory version)."""

    person: str
    usual_days: int
    change_days: int
    usual_twitches: int
    change_twitches: int
    blocks: int
    dispersion: float


def count_start(experiments: Iterable[CountExperiment]) -> CountStart:
    """:class:`CountStart` of experiments held in memory (the engines:
    :func:`.queries.experiment_counts`)."""
    excess = df_mean = mh_change = mh_usual = 0.0
    for e in experiments:
        df = e.blocks - 2
        total = e.usual_twitches + e.change_twitches
        days = e.usual_days + e.change_days
        excess += e.dispersion * df - df
        df_mean += df * total / e.blocks
        mh_change += e.change_twitches * e.usual_days / days
        mh_usual += e.usual_twitches * e.change_days / days
    return CountStart(excess, df_mean, mh_change, mh_usual)


def count_scores(experiments: Iterable[CountExperiment], params: CountParams) -> ScoreSums:
    """:class:`ScoreSums` of experiments held in memory (the engines:
    :func:`.queries.experiment_scores`); the same arithmetic, step by step."""
    ratio = math.exp(params.log_rr)
    people: dict[str, list[float]] = {}
    for e in experiments:
        n0, n1 = float(e.usual_days), float(e.change_days)
        total = float(e.usual_twitches + e.change_twitches)
        p = n1 * ratio / (n0 + n1 * ratio)
        phi = 1.0 + params.kappa * total / e.blocks
        a, i = people.setdefault(e.person, [0.0, 0.0])
        people[e.person] = [a + (e.change_twitches - total * p) / phi,
                            i + total * p * (1.0 - p) / phi]  # fmt: skip
    sa = si = sa2 = q = s1 = s2 = sg2 = 0.0
    for a, i in people.values():
        h = 1.0 / (1.0 + params.tau2 * i)
        g = (a * a / i - (1.0 - i / params.total)
             - params.tau2_raw * (i - i * i / params.total))  # fmt: skip
        sa += h * a
        si += h * i
        sa2 += (h * a) ** 2
        q += a * a / i
        s1 += i
        s2 += i * i
        sg2 += g * g
    return ScoreSums(len(people), sa, si, sa2, q, s1, s2, sg2)


def _newton(
    log_rr: dict[str, float],
    params: Callable[[str, float], CountParams],
    scores: Callable[[Mapping[str, CountParams]], Mapping[str, ScoreSums]],
) -> tuple[dict[str, float], dict[str, ScoreSums], dict[str, ScoreSums]]:
    """Solve ``sum h A = 0`` for each change's log rate ratio from ``log_rr`` (Newton:
    ``d A / d log R`` is ``-I``; a step at most 1), one pass over the engine per step for
    all changes. The solution, the sums of the last pass (whose step was below the
    tolerance) and those of the first (at ``log_rr``)."""
    current = dict(log_rr)
    first: dict[str, ScoreSums] | None = None
    for _ in range(_MAX_STEPS):
        got = dict(scores({c: params(c, lr) for c, lr in current.items()}))
        first = got if first is None else first
        steps = {c: max(-1.0, min(1.0, s.sa / s.si)) for c, s in got.items()}
        if all(abs(step) < _TOLERANCE for step in steps.values()):
            break
        current = {c: lr + steps[c] for c, lr in current.items()}
    assert first is not None
    return current, got, first


def pool_counts(
    starts: Mapping[str, CountStart],
    scores: Callable[[Mapping[str, CountParams]], Mapping[str, ScoreSums]],
) -> dict[str, Meta]:
    """Each change's pooled effect from its experiments' counts (above): ``starts`` from
    :func:`count_start` or :func:`.queries.experiment_counts`; ``scores`` gives the sums at
    the given parameters of each change (:func:`count_scores`, or a query on an engine).
    Every change needs a Mantel-Haenszel start with twitches on both sides and 2 people."""
    from twitchwise.insights.stats import t_ppf

    kappa = {c: s.kappa for c, s in starts.items()}
    start = {c: math.log(s.mh_change / s.mh_usual) for c, s in starts.items()}
    fixed, at_fixed, _ = _newton(start, lambda c, lr: CountParams(lr, kappa[c]), scores)
    tau2_raw: dict[str, float] = {}
    for c, s in at_fixed.items():
        spread = s.s1 - s.s2 / s.s1
        tau2_raw[c] = (s.q - (s.k - 1)) / spread if spread > 0 else 0.0

    def random(c: str, lr: float) -> CountParams:
        return CountParams(lr, kappa[c], max(0.0, tau2_raw[c]), tau2_raw[c], at_fixed[c].s1)

    # the first pass is at the fixed effect, so its sum g^2 is the moment equation's there
    pooled, at_random, first = _newton(fixed, random, scores)
    out = {}
    for c, s in at_random.items():
        f = at_fixed[c]
        k = s.k
        tau2 = max(0.0, tau2_raw[c])
        spread = f.s1 - f.s2 / f.s1
        variance = s.sa2 * k / (k - 1) / (s.si * s.si)
        if spread > 0:
            variance += first[c].sg2 / (spread * spread) / 4.0
        q = f.q
        i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
        mu = pooled[c] - tau2_raw[c] / 2.0
        out[c] = _meta(k, mu, math.sqrt(variance), tau2, q, i2, t_ppf(0.975, k - 1))
    return out


def pooled_counts(experiments: Sequence[CountExperiment]) -> Meta:
    """The whole pooling of one change's experiments held in memory (for tests and the
    simulations of bench/cohort_coverage.py; reports run the same steps on the engines)."""
    [meta] = pool_counts(
        {"change": count_start(experiments)},
        lambda params: {c: count_scores(experiments, p) for c, p in params.items()},
    ).values()
    return meta
