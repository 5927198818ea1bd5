"""Benchmark: warm ``twitchwise.ask()`` latency, and the one-off costs before the first answer.

Usage::

    python bench/bench_ask.py              # a small table
    python bench/bench_ask.py --json       # the same numbers as JSON
    python bench/bench_ask.py --rounds 50  # more rounds, steadier percentiles

(a) Warm latency: every sentence of a fixed corpus is answered once to warm up, then
``--rounds`` times, timing each call. Per the project rule, the result is also given as a
ratio against baselines timed in the same run, on the same sentences, in the same loop:
``json.dumps`` of the answer's dict (the cheapest thing a caller does with an answer) and a
regular-expression word split of the text (the least a text tool can do).

(b) One-off costs: validating the YAML knowledge base from scratch (what a first run or a
``TWITCHWISE_NO_CACHE`` run pays), reading it back from the pickle cache (what every later
process pays), compiling the parser (the Aho-Corasick automaton over every phrase), first
with a cold stemming cache and then repeated, and reading the compiled parser back from its
pickle cache.

This reports; it never fails on a slow number (exit status 0). The targets live in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

#: Varied lay descriptions: body regions, workouts, medicines, red flags of every level,
#: negation, hedging, other people, typos, quantities, and one text with nothing to find.
CORPUS: tuple[str, ...] = (
    "my left eyelid has been twitching for 4 days, exam week, 5 hours sleep, 4 coffees a day",
    "my quad keeps jumping after leg day, had 4 coffees, slept like 5 hours, no weakness",
    "calf twitching for 3 weeks, no weakness, no numbness, I'm 34",
    "thigh twitching since monday after my first spin class in years",
    "I'm 62 and my hand muscles look thinner and I keep dropping things, arm twitching for months",
    "twiching calf aftr a 20 mile run, drank 4 litres of water, feel sick and confused",
    "started a salbutamol inhaler 2 weeks ago and now my hands shake and my arm twitches",
    "on atorvastatin for 3 years, my legs ache terribly and my urine is dark brown",
    "tingling lips and my hands cramp into a claw, had thyroid surgery last week",
    "my dad had ALS and now my bicep twitches, I am terrified, my strength is fine",
    "eyelid twitching, maybe a bit of stress at work, 3 cans of red bull a day",
    "upper lip twitching on and off for 2 days after 3 double espressos",
    "both calves twitch at night and I get cramps, I'm 28 weeks pregnant",
    "twitching all over my body for 6 months, no weakness, I check my muscles every day",
    "my face twitches on the left side, it started at the eye and now the cheek and mouth pull up",
    "working on a roof in 35 degrees, stopped sweating, twitching and confused",
    "sprayed pesticide on the farm today, now twitching everywhere, drooling, tiny pupils",
    "took tramadol with my sertraline, now shaking, sweating heavily, legs jerking and agitated",
    "back pain with shooting pain down my right leg, calf twitching for a week",
    "vegan for 5 years, no B12 supplement, feet are numb and tingly, calf twitches",
    "new baby, sleeping 4 hours a night, eyelid flickering constantly",
    "had 6 pints last night, muscles twitching this morning, a bit dehydrated",
    "im 15, had two red bulls and a monster, slept 5 hours, calf twitching every few minutes",
    "arm twitching and my speech is slurred since this morning, my face is drooping on one side",
    "my thumb twitches when I type, I'm not sure if my grip is weaker",
    "stomach muscles flutter after sit-ups, otherwise fine",
    "knee twitching after I knocked it on a table, bruised and a bit swollen",
    "twitch in my foot, diabetic for 10 years, feet burn at night",
    "I don't have weakness, my arm works fine, it's just a flicker in my forearm since the weekend",
    "been on furosemide and omeprazole for years, cramps and twitching in both legs, "
    "my heartbeat feels irregular",
    "i have been feeling a strange sense of doom and my cat keeps staring at me",
    "Hi, I'm 41 and a keen runner. For the last ten days my right calf has been twitching, mostly "
    "in the evening when I sit on the sofa. I ran a half marathon two weeks ago and I have upped "
    "my mileage since. I drink about 3 coffees a day and sleep 6 or 7 hours. No cramps, no "
    "numbness, I can walk on my heels and toes and my calf looks the same as the other one. My "
    "uncle had MND so I am worried. Is it serious?",
)

_WORDS = re.compile(r"\w+")


def _ms(ns: float) -> float:
    return ns / 1e6


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter_ns()
    result = fn()
    return time.perf_counter_ns() - start, result


def _summary(samples_ns: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(_ms(statistics.median(samples_ns)), 4),
        "p95_ms": round(_ms(percentile(samples_ns, 95)), 4),
        "n": len(samples_ns),
    }


def measure_one_off(repeats: int) -> dict[str, dict[str, float]]:
    """Validate from YAML, read the cache back, compile the parser."""
    from twitchwise.knowledge.load import build, load_knowledge
    from twitchwise.understand.parse import Parser
    from twitchwise.understand.text import stem

    out: dict[str, dict[str, float]] = {}
    validate = [_timed(build)[0] for _ in range(max(1, repeats // 2))]
    out["validate YAML (build)"] = _summary(validate)

    kb = load_knowledge()
    blob = pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL)
    unpickle = [_timed(lambda: pickle.loads(blob))[0] for _ in range(repeats)]
    out["read knowledge cache (unpickle)"] = _summary(unpickle)

    cold = []
    for _ in range(repeats):
        stem.cache_clear()
        cold.append(_timed(lambda: Parser(kb))[0])
    out["compile parser, cold stem cache"] = _summary(cold)
    warm = [_timed(lambda: Parser(kb))[0] for _ in range(repeats)]
    out["compile parser, warm stem cache"] = _summary(warm)

    compiled = pickle.dumps(Parser(kb), protocol=pickle.HIGHEST_PROTOCOL)
    reread = [_timed(lambda: pickle.loads(compiled))[0] for _ in range(repeats)]
    out["read parser cache (unpickle)"] = _summary(reread)
    return out


def measure_warm(rounds: int) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per-call latency over the corpus, with same-run baselines."""
    import twitchwise
    from twitchwise.answer.build import answer_for
    from twitchwise.app import default
    from twitchwise.knowledge.load import load_knowledge

    kb = load_knowledge()
    p = default().parser
    answers = [twitchwise.ask(text) for text in CORPUS]  # warm-up: caches, branches, imports
    for answer in answers:
        answer.render("terminal")

    samples: dict[str, list[float]] = {
        "ask()": [],
        "  parse (text -> findings)": [],
        "  answer_for (rank, triage, plan)": [],
        "render terminal (Rich)": [],
        "baseline: json.dumps(answer.to_dict())": [],
        "baseline: regex word split": [],
    }
    gc.collect()
    for _ in range(rounds):
        for text in CORPUS:
            elapsed, answer = _timed(lambda t=text: twitchwise.ask(t))
            samples["ask()"].append(elapsed)
            elapsed, evidence = _timed(lambda t=text: p.parse(t))
            samples["  parse (text -> findings)"].append(elapsed)
            samples["  answer_for (rank, triage, plan)"].append(
                _timed(lambda e=evidence: answer_for(kb, e))[0]
            )
            samples["render terminal (Rich)"].append(
                _timed(lambda a=answer: a.render("terminal"))[0]
            )
            samples["baseline: json.dumps(answer.to_dict())"].append(
                _timed(lambda a=answer: json.dumps(a.to_dict()))[0]
            )
            samples["baseline: regex word split"].append(
                _timed(lambda t=text: _WORDS.findall(t.lower()))[0]
            )
    out = {name: _summary(values) for name, values in samples.items()}
    ask_median = statistics.median(samples["ask()"])
    ratios = {
        name.removeprefix("baseline: "): round(ask_median / statistics.median(samples[name]), 1)
        for name in samples
        if name.startswith("baseline: ")
    }
    return out, ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the corpus")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each one-off cost")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    import twitchwise

    one_off = measure_one_off(args.repeats)
    warm, ratios = measure_warm(args.rounds)
    result = {
        "twitchwise": twitchwise.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.system()}",
        "sentences": len(CORPUS),
        "rounds": args.rounds,
        "warm": warm,
        "ask_median_over_baseline": ratios,
        "one_off": one_off,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0

    print(f"twitchwise {result['twitchwise']}, Python {result['python']}, {result['machine']}")
    print(f"warm: {len(CORPUS)} sentences x {args.rounds} rounds")
    print(f"{'':42} {'median ms':>10} {'p95 ms':>10}")
    for name, row in warm.items():
        print(f"{name:42} {row['median_ms']:>10.3f} {row['p95_ms']:>10.3f}")
    for name, ratio in ratios.items():
        print(f"ask() median = {ratio:g} x {name}")
    print(f"one-off costs (median of {args.repeats}; validation of {max(1, args.repeats // 2)})")
    for name, row in one_off.items():
        print(f"{name:42} {row['median_ms']:>10.1f} {row['p95_ms']:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
