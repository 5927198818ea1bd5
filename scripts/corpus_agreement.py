"""Agreement between the corpus' writers and a second, blind labeller (tests/corpus).

Usage: python scripts/corpus_agreement.py

Findings: micro F1 between the two labellers' positive findings (present or possible), where a
finding counts as agreed when the other labeller has it or a finding that implies it (the same
leniency as scripts/score_utterances.py). Triage: exact agreement and agreement within the
writer's acceptable levels, on the whole cases. Prints numbers only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from twitchwise.knowledge.load import load_knowledge

ROOT = Path(__file__).resolve().parent.parent / "tests" / "corpus"
POSITIVE = frozenset({"present", "possible"})


def main() -> int:
    kb = load_knowledge()
    first: dict[str, dict[str, object]] = {}
    files = sorted((ROOT / "utterances").glob("*.yaml")) + sorted((ROOT / "cases").glob("*.yaml"))
    for path in files:  # every part: the second labeller's ids say which texts they labelled
        for item in yaml.safe_load(path.read_text()):
            first[item["id"]] = item
    second = yaml.safe_load((ROOT / "second_labeller.yaml").read_text())

    def positives(labels: object) -> set[str]:
        assert isinstance(labels, dict)
        return {f for f, s in labels.items() if s in POSITIVE and f in kb.findings}

    def closure(ids: set[str]) -> set[str]:
        return set().union(*(kb.closure[f] for f in ids)) if ids else set()

    agree_a = agree_b = total_a = total_b = 0
    triage_exact = triage_ok = cases = 0
    for item in second:
        original = first.get(item["id"])
        if original is None:
            continue
        if "findings" in item:  # some second labels are of triage and causes only
            a, b = positives(original.get("findings") or {}), positives(item["findings"] or {})
            agree_a += len(a & closure(b))
            agree_b += len(b & closure(a))
            total_a, total_b = total_a + len(a), total_b + len(b)
        if "expected_triage" in item and "expected_triage" in original:
            cases += 1
            triage_exact += item["expected_triage"] == original["expected_triage"]
            acceptable = [original["expected_triage"], *original.get("triage_also_acceptable", [])]
            triage_ok += item["expected_triage"] in acceptable
    recall, precision = agree_a / total_a, agree_b / total_b
    f1 = 2 * precision * recall / (precision + recall)
    print(
        f"{len(second)} texts labelled twice: positive-finding agreement F1 {f1:.3f} "
        f"(second labeller finds {recall:.1%} of the writers' findings; "
        f"{precision:.1%} of theirs are the writers')"
    )
    print(
        f"{cases} whole cases: triage exact {triage_exact}/{cases}, "
        f"within the writers' acceptable levels {triage_ok}/{cases}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
