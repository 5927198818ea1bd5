"""How often the pooled effect's 95% interval holds the planted population effect, over many
simulated cohorts (bench/cohort_synth.py), with the DerSimonian-Laird meta-analysis of
twitchwise.cohort.meta: of the daily factors' personal effects, or (``--experiments``) of
the self-experiments' effects.

    python bench/cohort_coverage.py [--cohorts 100] [--people 300] [--days 365]
    python bench/cohort_coverage.py --experiments [--cohorts 200] [--people 1000]
                                    [--full-adherence]

Prints, per factor or change, the planted rate ratio, the mean pooled one, the coverage of
the 95% interval and the mean tau^2 against the planted one (with ``--experiments`` also the
people pooled per cohort, the median tau^2 and the mean I^2). ``--experiments`` simulates
only the experiments table (each person's baseline rate as the generator draws it), each
cohort with its own seed; ``--full-adherence`` keeps the change on every change day (else
about 94% of them, and the pooled effect is diluted as intention to treat dilutes it).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cohort_synth import (
    AGE_SHARES,
    PLANTED,
    PLANTED_EXPERIMENTS,
    START,
    baseline_rates,
    simulate,
    simulate_experiments,
)

from twitchwise.cohort.meta import dersimonian_laird


def factors(args: argparse.Namespace) -> None:
    hits = {f: 0 for f in PLANTED}
    mus: dict[str, list[float]] = {f: [] for f in PLANTED}
    taus: dict[str, list[float]] = {f: [] for f in PLANTED}
    for c in range(args.cohorts):
        sim = simulate(args.people, args.days, args.seed + c, experimenters=0.0)
        factor = np.array(sim.effects["factor"])
        y = np.array(sim.effects["log_rr"])
        se = np.array(sim.effects["se"])
        for f, (mu, _) in PLANTED.items():
            rows = factor == f
            meta = dersimonian_laird(list(y[rows]), list(se[rows]))
            hits[f] += meta.ci[0] <= mu <= meta.ci[1]
            mus[f].append(meta.mu)
            taus[f].append(meta.tau2)
    head = ("factor", "planted", "pooled", "coverage", "tau2", "planted")
    print(f"{head[0]:14} " + " ".join(f"{h:>8}" for h in head[1:]))
    for f, (mu, tau) in PLANTED.items():
        pooled = math.exp(np.mean(mus[f]))
        share = hits[f] / args.cohorts
        print(f"{f:14} {math.exp(mu):8.3f} {pooled:8.3f} {share:9.0%} "
              f"{np.mean(taus[f]):8.4f} {tau * tau:8.4f}")  # fmt: skip


def experiments(args: argparse.Namespace) -> None:
    """Pool each change's experiments per cohort, as the report does (each simulated
    person tests a change at most once, so a person's effect is their one experiment's)."""
    changes = list(PLANTED_EXPERIMENTS)
    hits = dict.fromkeys(changes, 0)
    mus: dict[str, list[float]] = {c: [] for c in changes}
    taus: dict[str, list[float]] = {c: [] for c in changes}
    i2s: dict[str, list[float]] = {c: [] for c in changes}
    people: dict[str, list[int]] = {c: [] for c in changes}
    for c in range(args.cohorts):
        rng = np.random.default_rng([args.seed, c])
        age = rng.choice(len(AGE_SHARES), size=args.people, p=AGE_SHARES)
        rates = np.exp(baseline_rates(rng, age))
        ids = [f"{i:016x}" for i in range(args.people)]
        columns, _ = simulate_experiments(
            ids, rates, START, args.days, args.seed + c, adherence=not args.full_adherence
        )
        change = np.array(columns["change"])
        y = np.array(columns["log_rr"], dtype=float)  # None (no effect) is NaN
        se = np.array(columns["se"], dtype=float)
        for name, (mu, _) in PLANTED_EXPERIMENTS.items():
            rows = (change == name) & np.isfinite(y)
            meta = dersimonian_laird(list(y[rows]), list(se[rows]))
            hits[name] += meta.ci[0] <= mu <= meta.ci[1]
            mus[name].append(meta.mu)
            taus[name].append(meta.tau2)
            i2s[name].append(meta.i2)
            people[name].append(int(rows.sum()))
    head = ("change", "people", "planted", "pooled", "coverage", "tau2", "median", "planted",
            "I2")  # fmt: skip
    print(f"{head[0]:15} " + " ".join(f"{h:>8}" for h in head[1:]))
    for name, (mu, tau) in PLANTED_EXPERIMENTS.items():
        print(f"{name:15} {np.mean(people[name]):8.0f} {math.exp(mu):8.3f} "
              f"{math.exp(np.mean(mus[name])):8.3f} {hits[name] / args.cohorts:9.1%} "
              f"{np.mean(taus[name]):8.4f} {np.median(taus[name]):8.4f} {tau * tau:8.4f} "
              f"{np.mean(i2s[name]):8.0%}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=None)
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--experiments", action="store_true",
                        help="the self-experiments' pooled effects, not the factors'")  # fmt: skip
    parser.add_argument("--full-adherence", action="store_true",
                        help="with --experiments: the change kept on every change day")  # fmt: skip
    args = parser.parse_args(argv)
    args.cohorts = args.cohorts or (200 if args.experiments else 100)
    args.people = args.people or (1000 if args.experiments else 300)
    started = time.perf_counter()
    (experiments if args.experiments else factors)(args)
    print(f"{args.cohorts} cohorts of {args.people} people x {args.days} days "
          f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
