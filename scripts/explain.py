"""Developer aid: show what twitchwise understood in a vignette file or a text, and why."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from twitchwise import ask
from twitchwise.app import default
from twitchwise.knowledge.load import load_knowledge
from twitchwise.reason.triage import triage


def show(text: str) -> None:
    kb = load_knowledge()
    ev = default().parser.parse(text)
    print("TEXT:", text)
    print("  present:", sorted(ev.present))
    print("  negated:", sorted(ev.negated))
    print("  quantities:", dict(ev.quantities))
    print("  not understood:", ev.not_understood)
    t = triage(kb, ev.present)
    print("  triage:", t.level.value, [r.rule for r in t.reasons])
    a = ask(text)
    print("  causes:", [(c.id, round(c.probability, 3)) for c in a.causes[:4]])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("target", help="a YAML vignette file, or text")
    ap.add_argument("ids", nargs="*")
    args = ap.parse_args()
    path = Path(args.target)
    if path.is_file():
        for case in yaml.safe_load(path.read_text()):
            if not args.ids or case["id"] in args.ids:
                print(case["id"], "want", case["expected_triage"], case["acceptable_top_causes"])
                show(case["text"])
    else:
        show(args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
