"""How often the pooled effect's 95% interval holds the planted population effect, over many
simulated cohorts (bench/cohort_synth.py), with the meta-analyses of twitchwise.cohort.meta:
of the daily factors' personal effects (DerSimonian-Laird), or (``--experiments``) of the
self-experiments.

    python bench/cohort_coverage.py [--cohorts 100] [--people 300] [--days 365]
    python bench/cohort_coverage.py --experiments [--cohorts 200] [--people 1000]
                                    [--full-adherence]

Prints, per factor or change, the planted rate ratio, the mean pooled one, the coverage of
the 95% interval and the mean tau^2 against the planted one. ``--experiments`` simulates
only the experiments table (each person's baseline rate as the generator draws it), each
cohort with its own seed, and pools every change three ways: from the experiments' counts,
as ``twitchwise cohort report`` does with a cohort of format version 3 (``counts``,
``pooled_counts``); from each person's own effect and error by DerSimonian-Laird, as it
does with one of version 2 (``inverse variance``); and, for comparison, a two-stage
alternative the report does not use (``pooled weights``: each person's log rate ratio with
half a twitch added to each side, its variance ``phi / (T p (1 - p))`` from their total at
the pooled ratio, DerSimonian-Laird on those, three rounds), which weighs people by their
totals as a one-stage mixed model would. For each it prints the people pooled per cohort,
the mean pooled rate ratio, the coverage of the planted effect and of the effect as kept
(below), the mean and median tau^2 against the planted one and the mean I^2.

The effect as kept: days are compared as planned (intention to treat), and a change is not
kept on every change day (``KEPT_SHARE``: about 94% on average; on a day it is not kept it
does nothing), so a person whose effect is ``b`` when kept has the ratio
``k exp(b) + 1 - k`` on their change days; "as kept" is the mean of its log over people
(computed here by simulation), the effect an unbiased pooled estimate is of.
``--full-adherence`` keeps the change on every change day, so the two are the same.
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
    KEPT_SHARE,
    PLANTED,
    PLANTED_EXPERIMENTS,
    START,
    baseline_rates,
    simulate,
    simulate_experiments,
)

from twitchwise.cohort.meta import (
    CountExperiment,
    Meta,
    count_start,
    dersimonian_laird,
    pooled_counts,
)


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


def as_kept(full_adherence: bool, draws: int = 1_000_000) -> dict[str, float]:
    """Each change's mean log rate ratio as kept (see above), by simulation."""
    rng = np.random.default_rng(16)
    out = {}
    for name, (mu, tau) in PLANTED_EXPERIMENTS.items():
        b = rng.normal(mu, tau, draws)
        kept = 1.0 if full_adherence else rng.beta(*KEPT_SHARE, draws)
        out[name] = float(np.mean(np.log(kept * np.exp(b) + 1.0 - kept)))
    return out


#: The ways of pooling, and what the tables are headed with.
METHODS = {
    "counts": "pooled from the counts (format version 3)",
    "inverse variance": "pooled from each person's effect (inverse variance; format version 2)",
    "pooled weights": "pooled from each person's effect with weights from the pooled ratio",
}


def pooled_weights(experiments: list[CountExperiment], rounds: int = 3) -> Meta:
    """The two-stage alternative (above): DerSimonian-Laird on each person's log rate ratio
    (half a twitch added to each side) with the variance its total would have at the pooled
    ratio, ``phi / (T p (1 - p))``, ``phi`` as :func:`pooled_counts` has it; one experiment
    per person (as the simulation has them)."""
    kappa = count_start(experiments).kappa
    y, total, phi = [], [], []
    for e in experiments:
        y.append(math.log((e.change_twitches + 0.5) / e.change_days)
                 - math.log((e.usual_twitches + 0.5) / e.usual_days))  # fmt: skip
        total.append(e.usual_twitches + e.change_twitches)
        phi.append(1.0 + kappa * total[-1] / e.blocks)
    meta = dersimonian_laird(y, [1.0] * len(y))
    for _ in range(rounds):
        ratio = math.exp(meta.mu)
        se = []
        for e, t, f in zip(experiments, total, phi, strict=True):
            p = e.change_days * ratio / (e.usual_days + e.change_days * ratio)
            se.append(math.sqrt(f / (t * p * (1.0 - p))))
        meta = dersimonian_laird(y, se)
    return meta


def experiments(args: argparse.Namespace) -> None:
    """Pool each change's experiments per cohort, as the report does, both ways."""
    changes = list(PLANTED_EXPERIMENTS)
    kept = as_kept(args.full_adherence)
    metas: dict[str, dict[str, list[Meta]]] = {m: {c: [] for c in changes} for m in METHODS}
    for c in range(args.cohorts):
        rng = np.random.default_rng([args.seed, c])
        age = rng.choice(len(AGE_SHARES), size=args.people, p=AGE_SHARES)
        rates = np.exp(baseline_rates(rng, age))
        ids = [f"{i:016x}" for i in range(args.people)]
        columns, _ = simulate_experiments(
            ids, rates, START, args.days, args.seed + c, adherence=not args.full_adherence
        )
        rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(),
                                                                        strict=True)]  # fmt: skip
        for name in changes:
            got = [r for r in rows if r["change"] == name and r["log_rr"] is not None]
            metas["inverse variance"][name].append(
                dersimonian_laird([r["log_rr"] for r in got], [r["se"] for r in got])
            )
            counted = [
                CountExperiment(r["person_id"], r["usual_days"], r["change_days"],
                                r["usual_twitches"], r["change_twitches"],
                                r["blocks_analysed"], r["dispersion"])
                for r in got
            ]  # fmt: skip
            metas["counts"][name].append(pooled_counts(counted))
            metas["pooled weights"][name].append(pooled_weights(counted))
    head = ("change", "people", "planted", "as kept", "pooled", "coverage", "as kept",
            "tau2", "median", "planted", "I2")  # fmt: skip
    for method in METHODS:
        print(METHODS[method])
        print(f"{head[0]:15} " + " ".join(f"{h:>8}" for h in head[1:]))
        for name, (mu, tau) in PLANTED_EXPERIMENTS.items():
            got = metas[method][name]
            covered = np.mean([m.ci[0] <= mu <= m.ci[1] for m in got])
            covered_kept = np.mean([m.ci[0] <= kept[name] <= m.ci[1] for m in got])
            tau2 = [m.tau2 for m in got]
            print(f"{name:15} {np.mean([m.k for m in got]):8.0f} {math.exp(mu):8.3f} "
                  f"{math.exp(kept[name]):8.3f} {math.exp(np.mean([m.mu for m in got])):8.3f} "
                  f"{covered:9.1%} {covered_kept:8.1%} {np.mean(tau2):8.4f} "
                  f"{np.median(tau2):8.4f} {tau * tau:8.4f} "
                  f"{np.mean([m.i2 for m in got]):8.0%}")  # fmt: skip


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
