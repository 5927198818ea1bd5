"""Personal effects for a cohort's ``effects`` table: one quasi-Poisson model per person.

``log E[twitches(t)] = a + sum_f b_f x_f(t) / step_f`` over the days with every factor
recorded (lag 0: the factor on the day of the twitches; sleep is the night before), fitted
by iteratively reweighted least squares; standard errors are scaled by the Pearson
dispersion when it is above 1 (quasi-Poisson). A factor that did not vary over a person's
days gets no row. The generator in bench/ uses it; the hosted export will write the same rows.

numpy is imported inside the function (the ``cohort`` extra brings it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twitchwise.cohort.format import FACTORS

__all__ = ["MIN_DAYS", "PersonalEffect", "fit_person"]

#: The fewest complete days a person's model is fitted on.
MIN_DAYS = 28
_MAX_ITERATIONS = 50


@dataclass(frozen=True, slots=True)
class PersonalEffect:
    factor: str
    log_rr: float
    se: float
    n_days: int


def fit_person(counts: Any, factors: dict[str, Any]) -> list[PersonalEffect]:
    """The personal effect of each factor (per its step) on the daily counts; ``factors``
    maps the factor's column to its daily values (NaN when not recorded)."""
    import numpy as np

    y = np.asarray(counts, dtype=float)
    names = [f for f in FACTORS if f in factors]
    X = np.column_stack([np.asarray(factors[f], dtype=float) / FACTORS[f][0] for f in names])
    rows = np.isfinite(y) & np.isfinite(X).all(axis=1)
    y, X = y[rows], X[rows]
    n = len(y)
    if n < MIN_DAYS or y.sum() == 0:
        return []
    keep = [i for i in range(X.shape[1]) if np.ptp(X[:, i]) > 0]
    names = [names[i] for i in keep]
    centre = X[:, keep].mean(axis=0)
    Z = np.column_stack([np.ones(n), X[:, keep] - centre])
    p = Z.shape[1]
    if n - p < MIN_DAYS // 2:
        return []
    beta = np.zeros(p)
    beta[0] = np.log(y.mean())
    for _ in range(_MAX_ITERATIONS):
        eta = np.clip(Z @ beta, -30, 30)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        zw = Z * mu[:, None]
        try:
            new = np.linalg.solve(Z.T @ zw, zw.T @ z)
        except np.linalg.LinAlgError:
            return []
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
    mu = np.exp(np.clip(Z @ beta, -30, 30))
    dispersion = max(1.0, float(((y - mu) ** 2 / mu).sum() / (n - p)))
    try:
        cov = np.linalg.inv(Z.T @ (Z * mu[:, None])) * dispersion
    except np.linalg.LinAlgError:
        return []
    se = np.sqrt(np.diag(cov))
    out = []
    for i, name in enumerate(names, start=1):
        if np.isfinite(beta[i]) and np.isfinite(se[i]) and se[i] > 0 and abs(beta[i]) < 20:
            out.append(PersonalEffect(name, float(beta[i]), float(se[i]), n))
    return out
