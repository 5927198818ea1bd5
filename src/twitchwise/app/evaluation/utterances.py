"""Score the understanding layer on labelled utterances (the blind-written corpus).

Each utterance carries the findings its writer says it expresses, with a status: present,
possible (hedged), denied, resolved or other (someone else's). Per finding:

- a finding labelled present or possible is *found* when the parser reads it, or a finding
  that implies it, as present or possible (``Evidence.present | Evidence.possible``);
- a finding the parser reads is a *false positive* unless a present or possible label is that
  finding or implies it: "caffeine_high" labelled and "caffeine_any" read is right, a denied,
  resolved or someone else's finding read as present is wrong;
- red-flag recall is the recall of each finding that alone fires an urgent or emergency rule.

Labels for findings the knowledge base does not have are counted apart and left out of the
overall numbers. ``scripts/score_utterances.py`` prints the result; docs/understanding.md says
how the corpus was written and split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twitchwise.knowledge.load import KnowledgeBase

if TYPE_CHECKING:
    from twitchwise.understand.parse import Parser

POSITIVE = frozenset({"present", "possible"})


@dataclass(frozen=True)
class Counts:
    tp: int = 0
    fn: int = 0
    fp: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float]:
        return {"tp": self.tp, "fn": self.fn, "fp": self.fp, "precision": self.precision,
                "recall": self.recall, "f1": self.f1}  # fmt: skip


@dataclass(frozen=True)
class UtteranceScore:
    utterances: int
    micro: Counts
    per_finding: dict[str, Counts]
    red_flags: frozenset[str]
    not_in_knowledge_base: dict[str, int] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def red_flag_recall(self) -> dict[str, float]:
        """Recall of every red flag some utterance was labelled with."""
        return {
            f: c.recall
            for f, c in sorted(self.per_finding.items())
            if f in self.red_flags and c.tp + c.fn
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "utterances": self.utterances,
            "micro": self.micro.to_dict(),
            "red_flag_recall": self.red_flag_recall,
            "per_finding": {f: c.to_dict() for f, c in self.per_finding.items()},
            "not_in_knowledge_base": dict(self.not_in_knowledge_base),
        }


def score_utterances(
    items: Iterable[Mapping[str, Any]], kb: KnowledgeBase, parser: Parser
) -> UtteranceScore:
    """Score ``parser`` on utterances: mappings with ``id``, ``text`` and ``findings``."""
    tp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    errors: dict[str, list[str]] = {}
    n = 0

    def closure(ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for f in ids:
            out |= kb.closure[f]
        return out

    for item in items:
        n += 1
        labels: Mapping[str, str] = item.get("findings") or {}
        ev = parser.parse(str(item["text"]))
        read = ev.present | ev.possible
        read_closure = closure(read)
        gold = {f for f, s in labels.items() if s in POSITIVE}
        known = {f for f in gold if f in kb.findings}
        unknown.update(gold - known)
        gold_closure = closure(known)
        for f in known:
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
    per = {f: Counts(tp[f], fn[f], fp[f]) for f in sorted(set(tp) | set(fn) | set(fp))}
    micro = Counts(sum(tp.values()), sum(fn.values()), sum(fp.values()))
    return UtteranceScore(n, micro, per, kb.red_flag_findings, dict(unknown), errors)
