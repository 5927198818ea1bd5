"""Score the understanding layer on the blind-written utterance corpus (tests/corpus/utterances).

Usage: python scripts/score_utterances.py [--part dev|sealed] [--finding ID] [--errors N] [--json]

Each utterance carries the findings a blind writer says it expresses, with a status: present,
possible (hedged), denied, resolved or other (someone else's). Scoring, per finding:

- a finding labelled present or possible is *found* when the parser reads it, or a finding that
  implies it, as present or possible (``Evidence.present | Evidence.possible``);
- a finding the parser reads is a *false positive* unless a label (present or possible) is that
  finding or implies it; so "caffeine_high" labelled and "caffeine_any" read is not an error, and
  a denied, resolved or someone else's finding read as present is;
- red-flag recall is the recall of each finding in an urgent or emergency rule.

Labels for findings the knowledge base does not have yet are reported apart and left out of the
overall numbers. Read docs/understanding.md before running this on the sealed part.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

from twitchwise.answer.build import parser
from twitchwise.knowledge.load import load_knowledge

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "utterances"
POSITIVE = frozenset({"present", "possible"})
TODAY_FIXED = None


def score(items: list[dict[str, object]]) -> dict[str, object]:
    kb = load_knowledge()
    p = parser()
    tp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    errors: dict[str, list[str]] = {}
    for item in items:
        labels: dict[str, str] = dict(item.get("findings") or {})  # type: ignore[call-overload]
        ev = p.parse(str(item["text"]))
        read = ev.present | ev.possible
        read_closure = set().union(*(kb.closure[f] for f in read)) if read else set()
        gold = {f for f, s in labels.items() if s in POSITIVE}
        gold_known = {f for f in gold if f in kb.findings}
        unknown.update(gold - gold_known)
        gold_closure = set().union(*(kb.closure[f] for f in gold_known)) if gold_known else set()
        for f in gold_known:
            if f in read_closure:
                tp[f] += 1
            else:
                fn[f] += 1
                errors.setdefault(f, []).append(f"MISS {item['id']}: {item['text']}")
        for f in read - gold_closure:
            if kb.findings[f].kind == "cue":
                continue
            fp[f] += 1
            status = labels.get(f, "unlabelled")
            errors.setdefault(f, []).append(f"FP({status}) {item['id']}: {item['text']}")
    per: dict[str, dict[str, float]] = {}
    for f in sorted(set(tp) | set(fn) | set(fp)):
        t, n, x = tp[f], fn[f], fp[f]
        precision = t / (t + x) if t + x else 1.0
        recall = t / (t + n) if t + n else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[f] = {"tp": t, "fn": n, "fp": x, "precision": precision, "recall": recall, "f1": f1}
    T, N, X = sum(tp.values()), sum(fn.values()), sum(fp.values())
    micro_p = T / (T + X) if T + X else 1.0
    micro_r = T / (T + N) if T + N else 1.0
    flags = {f: per[f] for f in per if f in kb.red_flag_findings and per[f]["tp"] + per[f]["fn"]}
    return {
        "utterances": len(items),
        "micro": {
            "precision": micro_p,
            "recall": micro_r,
            "f1": 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0,
        },
        "red_flag_recall": {f: v["recall"] for f, v in sorted(flags.items())},
        "per_finding": per,
        "not_in_knowledge_base": dict(unknown),
        "errors": errors,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("dev", "sealed"), default="dev")
    ap.add_argument("--finding", help="show the errors for this finding id")
    ap.add_argument("--errors", type=int, default=0, help="show N errors per finding")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    items = yaml.safe_load((CORPUS / f"{args.part}.yaml").read_text())
    result = score(items)
    if args.json:
        result.pop("errors")
        print(json.dumps(result, indent=2))
        return 0
    micro = result["micro"]
    assert isinstance(micro, dict)
    per = result["per_finding"]
    assert isinstance(per, dict)
    flags = result["red_flag_recall"]
    assert isinstance(flags, dict)
    print(
        f"{args.part}: {result['utterances']} utterances; "
        f"micro precision {micro['precision']:.3f}, recall {micro['recall']:.3f}, "
        f"F1 {micro['f1']:.3f}"
    )
    low = {f: r for f, r in flags.items() if r < 0.95}
    print(f"red flags: {len(flags)} scored, {len(flags) - len(low)} with recall >= 0.95")
    for f, r in sorted(low.items(), key=lambda kv: kv[1]):
        v = per[f]
        print(f"  {f:28s} recall {r:.2f} ({v['tp']}/{v['tp'] + v['fn']}), fp {v['fp']}")
    print("lowest F1:")
    for f, v in sorted(per.items(), key=lambda kv: kv[1]["f1"])[:25]:
        print(
            f"  {f:28s} F1 {v['f1']:.2f}  P {v['precision']:.2f} R {v['recall']:.2f} "
            f"(tp {v['tp']}, fn {v['fn']}, fp {v['fp']})"
        )
    if result["not_in_knowledge_base"]:
        print("labels not in the knowledge base:", result["not_in_knowledge_base"])
    errors = result["errors"]
    assert isinstance(errors, dict)
    shown = [args.finding] if args.finding else (list(per) if args.errors else [])
    for f in shown:
        for line in errors.get(f, [])[: args.errors or None]:
            print(f"  [{f}] {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
