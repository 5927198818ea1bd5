"""How often the pooled effect's 95% interval holds the planted population effect, over many
simulated cohorts (bench/cohort_synth.py), with the DerSimonian-Laird meta-analysis of
twitchwise.cohort.meta.

    python bench/cohort_coverage.py [--cohorts 100] [--people 300] [--days 365]

Prints, per factor, the planted rate ratio, the mean pooled one, the coverage of the 95%
interval and the mean tau^2 against the planted one.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cohort_synth import PLANTED, simulate

from twitchwise.cohort.meta import dersimonian_laird


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=100)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    hits = {f: 0 for f in PLANTED}
    mus: dict[str, list[float]] = {f: [] for f in PLANTED}
    taus: dict[str, list[float]] = {f: [] for f in PLANTED}
    for c in range(args.cohorts):
        sim = simulate(args.people, args.days, args.seed + c)
        factor = np.array(sim.effects["factor"])
        y = np.array(sim.effects["log_rr"])
        se = np.array(sim.effects["se"])
        for f, (mu, _) in PLANTED.items():
            rows = factor == f
            meta = dersimonian_laird(list(y[rows]), list(se[rows]))
            hits[f] += meta.ci[0] <= mu <= meta.ci[1]
            mus[f].append(meta.mu)
            taus[f].append(meta.tau2)
    print(f"{args.cohorts} cohorts of {args.people} people x {args.days} days "
          f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
    head = ("factor", "planted", "pooled", "coverage", "tau2", "planted")
    print(f"{head[0]:14} " + " ".join(f"{h:>8}" for h in head[1:]))
    for f, (mu, tau) in PLANTED.items():
        pooled = math.exp(np.mean(mus[f]))
        share = hits[f] / args.cohorts
        print(f"{f:14} {math.exp(mu):8.3f} {pooled:8.3f} {share:9.0%} "
              f"{np.mean(taus[f]):8.4f} {tau * tau:8.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
