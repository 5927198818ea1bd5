"""Benchmark: how long the adaptive interview takes to choose its next question.

The states are every step of the scripted interviews of the vignette sets (the answers are the
findings ``ask`` extracts from each case, as in ``interview_eval.py``), so they cover the
red-flag screens, the follow-ups and the questions about causes. Each state is timed
``--rounds`` times after a warm-up. The target is a median under 20 ms; the baseline, timed on
the same states in the same run, is one ``rank()`` call (the ranking ``ask`` does once).

    python bench/bench_interview.py            # a table
    python bench/bench_interview.py --json     # JSON

It reports; it never fails because a number is slow.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml

import twitchwise
from twitchwise.app import default
from twitchwise.reason import interview
from twitchwise.reason.rank import rank

ROOT = Path(__file__).resolve().parents[1]
SETS = [
    ROOT / "tests" / "cases" / "own_vignettes.yaml",
    ROOT / "tests" / "cases" / "holdout_vignettes.yaml",
    ROOT.parent / "shared" / "vignettes" / "public.yaml",
]
TODAY = date(2026, 11, 23)


def states() -> list[interview.InterviewState]:
    kb = twitchwise.load_knowledge()
    out = []
    for path in SETS:
        if not path.is_file():
            continue
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            ev = default().parser.parse(case["text"], today=TODAY)
            answers = {f: True for f in ev.present} | {f: False for f in ev.negated}
            state = interview.InterviewState()
            while True:
                out.append(state)
                step = interview.next_question(state, kb)
                if step.question is None:
                    break
                state = interview.answer_from(state, step.question, answers)
    return out


def timed(fn: Callable[[Any], object], items: list[Any], rounds: int) -> list[float]:
    for item in items:
        fn(item)  # warm-up
    out = []
    gc.disable()
    try:
        for _ in range(rounds):
            for item in items:
                start = time.perf_counter_ns()
                fn(item)
                out.append((time.perf_counter_ns() - start) / 1e6)
    finally:
        gc.enable()
    return out


def row(name: str, ms: list[float]) -> dict[str, Any]:
    ordered = sorted(ms)
    return {
        "name": name,
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "max_ms": ordered[-1],
        "n": len(ordered),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    kb = twitchwise.load_knowledge()
    items = states()
    evidence = [interview.evidence(s, kb) for s in items]
    choose = row(
        "next_question()", timed(lambda s: interview.next_question(s, kb), items, args.rounds)
    )
    baseline = row("baseline: rank()", timed(lambda e: rank(kb, e), evidence, args.rounds))
    rebuild = row("evidence(state)", timed(lambda s: interview.evidence(s, kb), items, args.rounds))
    result = {
        "machine": f"{platform.python_implementation()} {platform.python_version()} "
        f"on {platform.machine()}",
        "states": len(items),
        "rounds": args.rounds,
        "rows": [choose, rebuild, baseline],
        "ratio_next_question_to_rank": choose["median_ms"] / baseline["median_ms"],
        "target_median_ms": 20.0,
        "meets_target": choose["median_ms"] < 20.0,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['machine']}; {len(items)} interview states x {args.rounds} rounds")
    print(f"{'':<20} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for r in result["rows"]:
        print(f"{r['name']:<20} {r['median_ms']:>10.3f} {r['p95_ms']:>8.3f} {r['max_ms']:>8.3f}")
    print(
        f"next_question() median = {result['ratio_next_question_to_rank']:.1f} x rank(); "
        f"target < 20 ms: {'met' if result['meets_target'] else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
