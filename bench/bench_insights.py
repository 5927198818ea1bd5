"""Benchmark: ``twitchwise insights`` over ten years of daily data, against loading the rows.

Usage::

    python bench/bench_insights.py              # 10 years, 7 timed runs of each row
    python bench/bench_insights.py --years 20   # more data
    python bench/bench_insights.py --json       # the same numbers as JSON
    python bench/bench_insights.py --cold 0     # without the cold command runs

A synthetic journal of ``--years`` years (every day: the eight daily factors, about one twitch
episode with a region and side, a note on some of them; a planted next-day caffeine effect)
is written through ``twitchwise import`` of a JSON export into a fresh journal in a temporary
``TWITCHWISE_HOME``. Then, in this one process, each row runs once to warm up and ``--runs``
times more:

==========================  ================================================================
Row                         What runs
==========================  ================================================================
baseline: load rows         ``Journal.read()``: every episode, day and workout from SQLite
                            as plain values; what any command over the journal pays first
insights (analyse)          ``analyse(data)``: daily series, the one Poisson model of
                            every factor x lag, BH q-values, the alerts (triage), the
                            notes: the target is under 200 ms (150 ms warm in the server)
  effects only              ``estimate_effects(daily_series(data))``
  alerts only               ``alerts_for(data)``
charts (3 SVGs)             ``charts(data, effects)``, for scale
==========================  ================================================================

Each row gives the median and the minimum in milliseconds and the median as a multiple of
the baseline's. The one-off cost of importing what the analysis imports (numpy and
threadpoolctl; paid once per process, before the first analysis) is measured in a fresh
interpreter and reported apart. Last, ``--cold`` times (5 by default) run the whole command,
``twitchwise insights --format json``, in a fresh process on the same journal: start-up,
imports, reading the journal, the analysis and the output, as a person waits for it (the
target is 2 s).

This reports; it never fails on a slow number (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REGIONS = ("region_calf", "region_eyelid", "region_thigh", "region_arm", "region_foot")
NOTES = ("after a long run", "calf jumping again", "eyelid flicker at my desk", None, None, None)


def make_journal(years: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """A JSON export: ``years`` x 365 days, every factor every day, ~0.85 episodes a day."""
    rng = random.Random(seed)
    start = date(2026, 1, 1) - timedelta(days=365 * years)
    days, episodes = [], []
    caffeine_before = 200.0
    for i in range(365 * years):
        day = start + timedelta(days=i)
        caffeine = float(rng.choice((0, 100, 200, 300, 400)))
        days.append(
            {
                "date": day.isoformat(),
                "caffeine_mg": caffeine,
                "sleep_h": round(rng.gauss(7, 1) * 2) / 2,
                "water_l": round(max(0.2, rng.gauss(2, 0.5)), 1),
                "workout_min": float(rng.choice((0, 0, 30, 45, 60))),
                "workout_type": None,
                "stress": rng.randint(0, 10),
                "alcohol_units": float(rng.choice((0, 0, 0, 2, 4))),
                "medicines": None,
                "steps": rng.randint(2000, 15000),
                "hrv_ms": round(rng.gauss(50, 10), 1),
            }
        )
        rate = 0.8 * 1.3 ** (caffeine_before / 100 - 2)
        caffeine_before = caffeine
        for n in range(_poisson(rng, rate)):
            at = datetime(day.year, day.month, day.day, 8 + n % 12, tzinfo=UTC)
            episodes.append(
                {
                    "uid": f"bench-{day.isoformat()}-{n}",
                    "at": at.isoformat(),
                    "date": day.isoformat(),
                    "region": rng.choice(REGIONS),
                    "side": rng.choice(("left", "right", None)),
                    "intensity": rng.randint(1, 5),
                    "duration_s": None,
                    "note": rng.choice(NOTES),
                    "source": "json",
                }
            )
    return {"episodes": episodes, "days": days, "workouts": []}


def _poisson(rng: random.Random, rate: float) -> int:
    k, p, limit = 0, 1.0, math.exp(-rate)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm up: first-call costs (imports, caches) are reported apart
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def import_cost() -> float:
    """Milliseconds to import what the analysis imports (numpy, threadpoolctl) in a fresh
    process."""
    code = (
        "import time; t = time.perf_counter(); import numpy, threadpoolctl; "
        "print((time.perf_counter() - t) * 1000)"
    )
    runs = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)
    ]
    return statistics.median(runs)


def cold_command(home: str) -> float:
    """Milliseconds of ``twitchwise insights --format json`` in a fresh process."""
    env = {**os.environ, "TWITCHWISE_HOME": home}
    command = [sys.executable, "-m", "twitchwise", "insights", "--format", "json"]
    t0 = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cold", type=int, default=5, help="fresh-process command runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="twitchwise-bench-") as tmp:
        os.environ["TWITCHWISE_HOME"] = tmp
        os.environ.pop("TWITCHWISE_DATABASE_URL", None)
        from twitchwise.app import default
        from twitchwise.insights.alerts import alerts_for
        from twitchwise.insights.analysis import analyse
        from twitchwise.insights.charts import charts
        from twitchwise.insights.stats import daily_series, estimate_effects
        from twitchwise.journal import open_journal, read_file

        tw = default()

        export = Path(tmp) / "journal.json"
        export.write_text(json.dumps(make_journal(args.years)), encoding="utf-8")
        with open_journal() as journal:
            journal.import_files([read_file(export)])
            data = journal.read()
            rows: dict[str, list[float]] = {"baseline: load rows": timed(journal.read, args.runs)}
        rows["insights (analyse)"] = timed(
            lambda: analyse(data, kb=tw.kb, parser=tw.parser), args.runs
        )
        rows["  effects only"] = timed(lambda: estimate_effects(daily_series(data)), args.runs)
        rows["  alerts only"] = timed(lambda: alerts_for(data, tw.kb, tw.parser), args.runs)
        effects = analyse(data, kb=tw.kb, parser=tw.parser).effects
        rows["charts (3 SVGs)"] = timed(lambda: charts(data, effects, tw.kb), args.runs)
        found = [(e.factor, e.lag_days) for e in effects if e.significant]
        cold = [cold_command(tmp) for _ in range(args.cold)]

    baseline = statistics.median(rows["baseline: load rows"])
    result = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "years": args.years,
        "days": len(data.days),
        "episodes": len(data.episodes),
        "runs": args.runs,
        "rows": {
            name: {
                "median_ms": round(statistics.median(t), 2),
                "min_ms": round(min(t), 2),
                "x_baseline": round(statistics.median(t) / baseline, 2),
            }
            for name, t in rows.items()
        },
        "import_numpy_threadpoolctl_ms": round(import_cost(), 1),
        "cold_command_ms": [round(t) for t in cold],
        "significant": found,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['machine']}; {args.years} years: {result['days']} days, "
        f"{result['episodes']} episodes; {args.runs} runs after a warm-up"
    )
    print(f"{'':34}{'median ms':>10}{'min ms':>10}{'x baseline':>12}")
    for name, row in result["rows"].items():
        print(f"{name:34}{row['median_ms']:>10.1f}{row['min_ms']:>10.1f}{row['x_baseline']:>12.2f}")
    print(
        f"one-off: importing numpy and threadpoolctl in a fresh process: "
        f"{result['import_numpy_threadpoolctl_ms']:.0f} ms"
    )
    if cold:
        print(
            f"cold 'twitchwise insights --format json', {len(cold)} fresh processes: median "
            f"{statistics.median(cold):.0f} ms (min {min(cold):.0f}, max {max(cold):.0f})"
        )
    print(f"significant effects found: {found} (planted: caffeine_mg at lag 1)")


if __name__ == "__main__":
    main()
