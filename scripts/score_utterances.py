"""Score the understanding layer on the blind-written utterance corpus (tests/corpus/utterances).

Usage: python scripts/score_utterances.py [--part dev|sealed] [--finding ID] [--errors N] [--json]

How findings are counted is in twitchwise/app/evaluation/utterances.py. Read docs/understanding.md
("Evaluation corpus") before running this on the sealed part.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from twitchwise.app import default
from twitchwise.app.evaluation.utterances import score_utterances
from twitchwise.knowledge.load import load_knowledge

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "utterances"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("dev", "sealed"), default="dev")
    ap.add_argument("--finding", help="show the errors for this finding id")
    ap.add_argument("--errors", type=int, default=0, help="show N errors per finding")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    items = yaml.safe_load((CORPUS / f"{args.part}.yaml").read_text())
    result = score_utterances(items, load_knowledge(), default().parser)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    micro = result.micro
    print(
        f"{args.part}: {result.utterances} utterances; "
        f"micro precision {micro.precision:.3f}, recall {micro.recall:.3f}, F1 {micro.f1:.3f}"
    )
    flags = result.red_flag_recall
    low = {f: r for f, r in flags.items() if r < 0.95}
    print(f"red flags: {len(flags)} scored, {len(flags) - len(low)} with recall >= 0.95")
    for f, r in sorted(low.items(), key=lambda kv: kv[1]):
        c = result.per_finding[f]
        print(f"  {f:28s} recall {r:.2f} ({c.tp}/{c.tp + c.fn}), fp {c.fp}")
    print("lowest F1:")
    for f, c in sorted(result.per_finding.items(), key=lambda kv: kv[1].f1)[:25]:
        print(
            f"  {f:28s} F1 {c.f1:.2f}  P {c.precision:.2f} R {c.recall:.2f} "
            f"(tp {c.tp}, fn {c.fn}, fp {c.fp})"
        )
    if result.not_in_knowledge_base:
        print("labels not in the knowledge base:", result.not_in_knowledge_base)
    shown = [args.finding] if args.finding else (list(result.per_finding) if args.errors else [])
    for f in shown:
        for line in result.errors.get(f, [])[: args.errors or None]:
            print(f"  [{f}] {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
