"""Split blind-written evaluation text into a dev part and a sealed part, before anyone reads it.

Usage: python scripts/corpus_split.py INCOMING_DIR

INCOMING_DIR holds the writers' files: ``utt_*.yaml`` (labelled utterances) and ``cases_*.yaml``
(whole cases). Each item goes to ``tests/corpus/{utterances,cases}/{dev,sealed}.yaml`` by a hash
of its id (half and half), so the split does not depend on order or on content. Existing items
with the same id are replaced. Only counts are printed: nobody reads the sealed part while
working on the parser (see docs/understanding.md, "Evaluation corpus").
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent / "tests" / "corpus"
HEADER = {
    "utterances": (
        "# Blind-written utterances with their findings ({part} part). See docs/understanding.md.\n"
    ),
    "cases": (
        "# Blind-written whole cases ({part} part), the format of `twitchwise eval`. "
        "See docs/eval.md.\n"
    ),
}


def part_of(item_id: str) -> str:
    return "dev" if hashlib.sha256(item_id.encode()).digest()[0] % 2 == 0 else "sealed"


def main(incoming: Path) -> int:
    for kind, pattern in (("utterances", "utt_*.yaml"), ("cases", "cases_*.yaml")):
        parts: dict[str, dict[str, dict[str, object]]] = {"dev": {}, "sealed": {}}
        for part in parts:
            path = ROOT / kind / f"{part}.yaml"
            if path.exists():
                for item in yaml.safe_load(path.read_text()) or []:
                    parts[part][item["id"]] = item
        for src in sorted(incoming.glob(pattern)):
            for item in yaml.safe_load(src.read_text()) or []:
                for part in parts.values():
                    part.pop(item["id"], None)
                parts[part_of(item["id"])][item["id"]] = item
        for part, items in parts.items():
            if not items:
                continue
            path = ROOT / kind / f"{part}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            body = yaml.safe_dump(
                sorted(items.values(), key=lambda i: str(i["id"])),
                sort_keys=False,
                allow_unicode=True,
                width=100,
            )
            path.write_text(HEADER[kind].format(part=part) + body)
            print(f"{kind}/{part}: {len(items)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
