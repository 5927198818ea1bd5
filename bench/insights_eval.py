"""How often the insights statistics find a planted trigger, and how often they invent one.

Each simulated journal has ``--days`` days (default 180: the acceptance size) of the six CSV
factors, drawn independently day by day (or, for ``null_runs``, as habits that drift over
days), and a twitch count per day from one of these generators:

================== ===========================================================================
Kind               Twitches per day
================== ===========================================================================
planted            Poisson, rate x ``--ratio`` (default 1.4) per 100 mg of caffeine the day
                   before; nothing else matters
null_poisson       Poisson with a constant rate: no factor matters
null_overdispersed gamma-Poisson (negative binomial): many zero days and some bursts
null_runs          runs of bad weeks (an autocorrelated rate) while caffeine and sleep drift
                   slowly too: the case where naive tests see effects that are not there
================== ===========================================================================

Reported per kind over ``--runs`` journals (seeded): for ``planted``, how often caffeine at
lag 1 is significant and how often anything else is too; for the null kinds, the share of
journals with at least one false effect, the false effects per journal, and the share of the
individual tests with p < 0.05 (calibration: 5% is right).

    python bench/insights_eval.py                 # 200 journals of each kind
    python bench/insights_eval.py --runs 500 --ratio 1.3 --json
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

KINDS = ("planted", "null_poisson", "null_overdispersed", "null_runs")


def journal(rng: Any, kind: str, days: int, ratio: float) -> Any:
    import numpy as np

    from twitchwise.journal.store import JournalData

    def ar(phi: float) -> Any:
        z = np.zeros(days)
        shocks = rng.normal(size=days)
        for i in range(days):
            z[i] = (phi * z[i - 1] if i else 0.0) + shocks[i]
        return z * np.sqrt(1 - phi**2)

    if kind == "null_runs":
        caffeine = np.clip(np.round((200 + 110 * ar(0.8)) / 50) * 50, 0, 600)
        sleep = np.clip(np.round((7 + ar(0.7)) * 2) / 2, 3, 11)
    else:
        caffeine = rng.choice([0, 100, 200, 300, 400], size=days).astype(float)
        sleep = np.clip(np.round(rng.normal(7, 1, size=days) * 2) / 2, 3, 11)
    factors = {
        "caffeine_mg": caffeine,
        "sleep_h": sleep,
        "water_l": np.clip(np.round(rng.normal(2, 0.5, size=days), 1), 0.2, 5),
        "workout_min": rng.choice([0, 0, 30, 45, 60], size=days).astype(float),
        "stress": rng.integers(0, 11, size=days).astype(float),
        "alcohol_units": rng.choice([0, 0, 0, 2, 4], size=days).astype(float),
    }
    if kind == "planted":
        rate = 0.5 * ratio ** (np.r_[200.0, caffeine[:-1]] / 100)
    elif kind == "null_poisson":
        rate = np.full(days, 1.0)
    elif kind == "null_overdispersed":
        rate = rng.gamma(0.7, 1.2 / 0.7, size=days)
    else:
        rate = 0.9 * np.exp(0.9 * ar(0.85) - 0.4)
    counts = rng.poisson(rate)
    start = date(2025, 1, 1)
    rows, episodes = [], []
    for i in range(days):
        day = (start + timedelta(days=i)).isoformat()
        rows.append({"date": day, **{k: float(v[i]) for k, v in factors.items()}})
        at = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).isoformat()
        episodes += [{"date": day, "at": at}] * int(counts[i])
    return JournalData.from_dicts(episodes, rows, [])


def evaluate(kind: str, runs: int, days: int, ratio: float, seed: int) -> dict[str, Any]:
    import numpy as np

    from twitchwise.insights.stats import daily_series, estimate_effects

    rng = np.random.default_rng([seed, KINDS.index(kind)])
    found = other_journals = false_journals = false_effects = small_p = tests = 0
    for _ in range(runs):
        effects = estimate_effects(daily_series(journal(rng, kind, days, ratio))).effects
        hits = [(e.factor, e.lag_days) for e in effects if e.significant]
        tests += len(effects)
        small_p += sum(e.p_value < 0.05 for e in effects)
        if kind == "planted":
            found += ("caffeine_mg", 1) in hits
            other_journals += any(h != ("caffeine_mg", 1) for h in hits)
        else:
            false_journals += bool(hits)
            false_effects += len(hits)
    out: dict[str, Any] = {"kind": kind, "journals": runs}
    if kind == "planted":
        out["found_caffeine_lag1"] = found / runs
        out["journals_with_another_effect"] = other_journals / runs
    else:
        out["journals_with_a_false_effect"] = false_journals / runs
        out["false_effects_per_journal"] = false_effects / runs
        out["tests_with_p_below_0.05"] = small_p / max(tests, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--ratio", type=float, default=1.4)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    results = [evaluate(k, args.runs, args.days, args.ratio, args.seed) for k in KINDS]
    if args.json:
        print(json.dumps({"args": vars(args), "results": results}, indent=2))
        return
    print(f"{args.runs} journals of {args.days} days per kind (planted ratio {args.ratio})")
    for r in results:
        values = ", ".join(f"{k} {v:.3f}" for k, v in r.items() if isinstance(v, float))
        print(f"  {r['kind']:20} {values}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
