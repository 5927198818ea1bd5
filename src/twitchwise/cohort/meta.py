"""Random-effects meta-analysis of personal effects (DerSimonian and Laird, 1986).

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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["MATTERS", "Meta", "Sums", "dersimonian_laird", "pool", "tau_squared"]

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
    from twitchwise.insights.stats import t_ppf

    tau2, q, i2 = tau_squared(s)
    mu = swy_star / sw_star
    se = 1.0 / math.sqrt(sw_star)
    prediction = None
    if s.k >= 3:
        half = t_ppf(0.975, s.k - 2) * math.sqrt(tau2 + se * se)
        prediction = (mu - half, mu + half)
    cut = math.log(MATTERS)
    if tau2 > 0:
        spread = NormalDist(mu, math.sqrt(tau2))
        more, fewer = 1.0 - spread.cdf(cut), spread.cdf(-cut)
    else:
        more, fewer = float(mu > cut), float(mu < -cut)
    return Meta(
        k=s.k,
        mu=mu,
        se=se,
        tau2=tau2,
        q=q,
        i2=i2,
        ci=(mu - _Z * se, mu + _Z * se),
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
