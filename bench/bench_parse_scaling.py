"""Benchmark: parsing time grows linearly with text length, up to the 20,000-character cap.

Usage::

    python bench/bench_parse_scaling.py          # a small table
    python bench/bench_parse_scaling.py --json   # the same numbers as JSON

Texts of 1,000 to 20,000 characters are made of the worst case for cue scopes (a negation,
a hedge and a red flag in every short clause: "no chest pain, maybe weak, not dizzy, ...") and
of ordinary rambling. Each is parsed several times; the table gives the median time, the time
per 1,000 characters, and the ratio of that to the 1,000-character text's, measured in the same
run. Linear growth keeps the ratio near 1 (quadratic growth would make it near 20 at 20,000
characters). Reports only; exit status 0. Target in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from twitchwise.app import default

CLAUSES = {
    "negations": "no chest pain, maybe a bit weak, not dizzy, I don't think my pee is dark. ",
    "rambling": (
        "so my calf has been twitching since monday after a long run and four coffees, "
        "slept about 5 hours, my mum says it is stress but I am worried. "
    ),
}
LENGTHS = (1_000, 2_000, 5_000, 10_000, 20_000)


def run(rounds: int) -> dict[str, list[dict[str, float]]]:
    p = default().parser
    out: dict[str, list[dict[str, float]]] = {}
    for name, clause in CLAUSES.items():
        rows = []
        base = None
        for n in LENGTHS:
            text = (clause * (n // len(clause) + 1))[:n]
            p.parse(text)  # warm
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                p.parse(text)
                times.append(time.perf_counter() - t0)
            ms = statistics.median(times) * 1000
            per_k = ms / (n / 1000)
            base = base or per_k
            rows.append({"chars": n, "ms": round(ms, 2), "ms_per_1000": round(per_k, 2),
                         "ratio_to_1000": round(per_k / base, 2)})  # fmt: skip
        out[name] = rows
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    result = run(args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, rows in result.items():
        print(f"{name}:")
        print(f"  {'chars':>7} {'median ms':>10} {'ms / 1000 chars':>16} {'ratio':>6}")
        for r in rows:
            print(f"  {r['chars']:>7} {r['ms']:>10} {r['ms_per_1000']:>16} {r['ratio_to_1000']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
