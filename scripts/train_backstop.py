"""Train the red-flag backstop (src/twitchwise/understand/data/backstop.json).

Usage::

    python scripts/train_backstop.py                 # 5-fold CV, thresholds, train, write the file
    python scripts/train_backstop.py --dry-run       # the same, without writing
    python scripts/train_backstop.py --holdout U3-   # train without ids starting U3-, test on them

One logistic regression (one-vs-rest) per red flag (``KnowledgeBase.red_flag_levels``) and
``weakness``, over the features of ``twitchwise.understand.backstop`` (stems, stem bigrams,
character n-grams, cue-scope marks), computed by the parser itself so that training and run time
see exactly the same features. Training data:

- tests/corpus/utterances/dev.yaml: positive for a flag labelled present or possible (or a
  finding implying it); every other utterance is a negative, denied, resolved, someone else's
  and question-only mentions included;
- tests/corpus/cases/dev.yaml, dev_d7.yaml ... dev_d26.yaml: each case's text with
  its finding labels;
- the knowledge base's own synonyms of each flag (and of the findings implying it) as extra
  positives; its absent phrases, and every other finding's synonyms, as negatives.

Each corpus sentence of a text is also a negative on its own for the flags its text is not
labelled with, since the model is applied sentence by sentence. Only features seen in two texts
or more are used, and weights under ``--min-weight`` are dropped.

Thresholds are chosen per flag on out-of-fold predictions (5-fold cross-validation over the
utterances and cases; the lexicon examples are always in training) to maximise the classifier's
own F1 (``--beta``; at beta 2 the project's own cases were over-triaged) among thresholds where
it is right at least half the time (``--min-precision``). A flag is left out when no threshold
reaches that precision, or when out of fold its false alarms (the flag raised where no label
means it) exceed 0.5% of the texts (``--max-false-alarms``) and twice the red flags it finds
that the lexicon missed (``--miss-cost``: a missed red flag costs more than a question).
Then the case files in ``CONSTRAINT_CASES`` (the dev cases, the project's own and holdout
vignettes, the public vignettes) constrain the thresholds: a flag
that would make a case's triage unacceptable, where the lexicon alone triaged it acceptably,
has its threshold raised just above that case's score. The written model is checked on those
cases through the parser before the script reports success.

The sealed parts of the corpus are never read. scikit-learn and numpy are needed here only (the
``dev`` extra); run time is pure Python. See docs/understanding.md ("Backstop model").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import sklearn  # type: ignore[import-untyped]
import yaml
from scipy import sparse
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import KFold  # type: ignore[import-untyped]

from twitchwise.answer.build import with_demographics
from twitchwise.evidence import Evidence
from twitchwise.knowledge.load import KnowledgeBase, load_knowledge
from twitchwise.reason.triage import triage
from twitchwise.understand import backstop as bs
from twitchwise.understand.parse import Parser

ROOT = Path(__file__).resolve().parent.parent
UTTERANCES = ROOT / "tests" / "corpus" / "utterances" / "dev.yaml"
#: The dev case files (never the sealed ones): training texts and constraints.
CASES = tuple(
    ROOT / "tests" / "corpus" / "cases" / f
    for f in (
        "dev.yaml",
        "dev_d7.yaml",
        "dev_d8.yaml",
        "dev_d9.yaml",
        "dev_d10.yaml",
        "dev_d11.yaml",
        "dev_d12.yaml",
        "dev_d13.yaml",
        "dev_d14.yaml",
        "dev_d15.yaml",
        "dev_d16.yaml",
        "dev_d17.yaml",
        "dev_d18.yaml",
        "dev_d19.yaml",
        "dev_d20.yaml",
        "dev_d21.yaml",
        "dev_d22.yaml",
        "dev_d23.yaml",
        "dev_d24.yaml",
        "dev_d25.yaml",
        "dev_d26.yaml",
    )
)
#: Case files whose triage the backstop must not make unacceptable (see `constrain`).
CONSTRAINT_CASES = (
    *CASES,
    ROOT / "tests" / "cases" / "own_vignettes.yaml",
    ROOT / "tests" / "cases" / "holdout_vignettes.yaml",
    ROOT.parent / "shared" / "vignettes" / "public.yaml",
)
POSITIVE = frozenset({"present", "possible"})
#: Weights and intercepts are rounded to this many decimals, in training as in the file.
WEIGHT_DECIMALS = 3


# --------------------------------------------------------------------------- data


@dataclass
class Example:
    id: str
    source: str  # "utterances", "cases" or "lexicon"
    labelled: frozenset[str]  # flags labelled present or possible (recall counts these)
    gold: frozenset[str]  # flags the labels mean, implied ones included (training target)
    read: frozenset[str]  # flags the lexicon parser read, present or possible
    read_closure: frozenset[str]  # ... and what they imply
    segments: list[tuple[str, ...]] = field(default_factory=list)  # features per sentence
    eligible: list[frozenset[str]] = field(default_factory=list)  # flags open per sentence
    weight: float = 1.0

    @property
    def features(self) -> tuple[str, ...]:
        """The features of all its sentences, with repeats (they are counted)."""
        return tuple(f for seg in self.segments for f in seg)


class Recorder(bs.Backstop):
    """Stands in for the backstop inside the parser: keeps what it would see, changes nothing."""

    def __init__(self, flags: Sequence[str], closure: dict[str, frozenset[str]]) -> None:
        super().__init__(
            flags=tuple(flags),
            speakers=bs.speakers(flags, closure),
            implied=tuple(closure[f] for f in flags),
        )
        self.last: tuple[Evidence, list[bs.Segment]] | None = None
        self.reading: bs.Reading | None = None

    def apply(self, evidence: Evidence, reading: bs.Reading) -> Evidence:
        self.last = (evidence, bs.segments(reading))
        self.reading = reading
        return evidence


class Reader:
    def __init__(self, kb: KnowledgeBase, flags: Sequence[str]) -> None:
        self.kb = kb
        self.flags = list(flags)
        self.flag_set = frozenset(flags)
        self.recorder = Recorder(flags, kb.closure)
        # built without the shipped model (stale, or from an older feature version): the
        # recorder takes its place
        with patch.object(bs.Backstop, "load", return_value=self.recorder):
            self.parser = Parser(kb)
        self.last_evidence: Evidence | None = None

    def closure(self, ids: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for f in ids:
            out |= self.kb.closure.get(f, {f})
        return frozenset(out)

    def example(
        self, id_: str, source: str, text: str, labels: dict[str, str], weight: float = 1.0
    ) -> Example:
        positive = {f for f, s in labels.items() if s in POSITIVE and f in self.kb.findings}
        evidence = self.parser.parse(text)
        assert self.recorder.last is not None
        ev, segs = self.recorder.last
        self.recorder.last = None
        self.last_evidence = ev
        read = (ev.present | ev.possible) & self.flag_set
        out = Example(
            id_,
            source,
            frozenset(positive & self.flag_set),
            self.closure(positive) & self.flag_set,
            frozenset(read),
            self.closure(ev.present | ev.possible) & self.flag_set,
            weight=weight,
        )
        assert evidence is ev
        for seg in segs:
            quiet = self.recorder.quiet(seg, ev)
            out.segments.append(tuple(bs.features(seg.words)))
            out.eligible.append(
                frozenset(f for i, f in enumerate(self.flags) if i not in quiet)
                if seg.unexplained
                else frozenset()
            )
        return out


@dataclass
class Case:
    """A case of a constraint file: its text as the backstop sees it, what the lexicon read
    (with the stated age and sex), and the triage levels acceptable for it."""

    id: str
    example: Example
    present: frozenset[str]
    possible: frozenset[str]
    acceptable: frozenset[str]
    text: str = ""
    age: int | None = None
    sex: str | None = None


def constraint_cases(reader: Reader) -> list[Case]:
    out = []
    for path in CONSTRAINT_CASES:
        if not path.exists():
            continue
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            ex = reader.example(str(case["id"]), "case", str(case["text"]), {})
            assert reader.last_evidence is not None
            ev = with_demographics(
                reader.kb, reader.last_evidence, case.get("age"), case.get("sex")
            )
            ok = [case["expected_triage"], *(case.get("triage_also_acceptable") or [])]
            out.append(
                Case(
                    f"{path.name}:{case['id']}",
                    ex,
                    ev.present,
                    ev.possible,
                    frozenset(ok),
                    str(case["text"]),
                    case.get("age"),
                    case.get("sex"),
                )
            )
    return out


def corpus_examples(reader: Reader) -> list[Example]:
    out = []
    for item in yaml.safe_load(UTTERANCES.read_text(encoding="utf-8")):
        labels = {str(k): str(v) for k, v in (item.get("findings") or {}).items()}
        out.append(reader.example(str(item["id"]), "utterances", str(item["text"]), labels))
    for path in CASES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            labels = {str(k): str(v) for k, v in (case.get("findings") or {}).items()}
            out.append(reader.example(str(case["id"]), "cases", str(case["text"]), labels))
    return out


def lexicon_examples(reader: Reader, weight: float) -> list[Example]:
    """The knowledge base's phrases: each flag's synonyms (and those of findings implying it)
    as positives; its absent phrases (denials such as "full strength") and the synonyms of
    every other finding ("tired legs", "muscle ache") as negatives."""
    kb = reader.kb
    out = []
    for f in kb.findings.values():
        if f.kind == "cue":
            continue
        phrases = [*f.synonyms, *f.exact_phrases]
        for phrase in phrases:
            out.append(
                reader.example(f"syn:{f.id}:{phrase}", "lexicon", phrase, {f.id: "present"}, weight)
            )
        if reader.closure([f.id]) & reader.flag_set:
            for phrase in f.absent_phrases:
                out.append(reader.example(f"absent:{f.id}:{phrase}", "lexicon", phrase, {}, weight))
    return out


# --------------------------------------------------------------------------- model


class Vocabulary:
    """The features seen in at least ``min_df`` training texts (rarer ones cannot generalise)."""

    def __init__(self, examples: Iterable[Example], min_df: int = 2) -> None:
        df: dict[str, int] = {}
        for ex in examples:
            for feat in set(ex.features):
                df[feat] = df.get(feat, 0) + 1
        self.names = sorted(f for f, n in df.items() if n >= min_df)
        self.index = {f: i for i, f in enumerate(self.names)}

    def matrix(self, rows: Sequence[Iterable[str]]) -> sparse.csr_matrix:
        """Feature counts, one row per feature list."""
        indptr, indices, data = [0], [], []
        for feats in rows:
            counts = Counter(self.index[f] for f in feats if f in self.index)
            for col in sorted(counts):
                indices.append(col)
                data.append(float(counts[col]))
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.array(data), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
            shape=(len(rows), len(self.index)),
        )


@dataclass
class Model:
    flags: list[str]
    vocab: Vocabulary
    coef: np.ndarray  # flags x features
    intercept: np.ndarray  # flags

    def segment_scores(
        self, examples: Sequence[Example], *, eligible_only: bool = True
    ) -> list[np.ndarray]:
        """Per example, the log-odds of every flag in its best eligible sentence (-inf when
        no sentence is open for that flag), or in its best sentence when not ``eligible_only``."""
        rows = [feats for ex in examples for feats in ex.segments]
        if not rows:
            return [np.full(len(self.flags), -np.inf) for _ in examples]
        scores = np.asarray(self.vocab.matrix(rows) @ self.coef.T) + self.intercept
        out = []
        k = 0
        for ex in examples:
            best = np.full(len(self.flags), -np.inf)
            for open_flags in ex.eligible:
                row = scores[k]
                for j, f in enumerate(self.flags):
                    if (f in open_flags or not eligible_only) and row[j] > best[j]:
                        best[j] = row[j]
                k += 1
            out.append(best)
        return out


def train(
    examples: Sequence[Example],
    flags: Sequence[str],
    c: float,
    class_weight: str | None,
    min_weight: float,
    sentence_weight: float = 0.0,
) -> Model:
    """One logistic regression per flag on whole texts (all their sentences' features), plus,
    with ``sentence_weight``, each sentence of a corpus text on its own as a negative for the
    flags the text is not labelled with: the model is applied sentence by sentence, so it
    learns what a sentence without the flag looks like ("my pee is pale", "heart isn't
    racing"). Which sentence of a labelled text carries its flag is not known, so none of them
    counts for that flag."""
    vocab = Vocabulary(examples)
    rows: list[tuple[str, ...]] = []
    weights: list[float] = []
    owners: list[Example] = []
    whole: list[bool] = []
    for ex in examples:
        rows.append(ex.features)
        weights.append(ex.weight)
        owners.append(ex)
        whole.append(True)
        if sentence_weight and ex.source != "lexicon" and len(ex.segments) > 1:
            for seg in ex.segments:
                rows.append(seg)
                weights.append(ex.weight * sentence_weight)
                owners.append(ex)
                whole.append(False)
    x = vocab.matrix(rows)
    base = np.array(weights)
    is_whole = np.array(whole)
    coef = np.zeros((len(flags), len(vocab.index)))
    intercept = np.zeros(len(flags))
    for j, f in enumerate(flags):
        labelled = np.array([f in ex.gold for ex in owners])
        y = (labelled & is_whole).astype(int)
        if y.sum() == 0:
            intercept[j] = -20.0
            continue
        w_rows = np.where(labelled & ~is_whole, 0.0, base)
        lr = LogisticRegression(
            C=c, class_weight=class_weight, solver="liblinear", dual=True, max_iter=5000
        )
        lr.fit(x, y, sample_weight=w_rows)
        w = np.round(lr.coef_[0], WEIGHT_DECIMALS)  # as exported: scores here = at run time
        w[np.abs(w) < min_weight] = 0.0
        coef[j] = w
        intercept[j] = round(float(lr.intercept_[0]), WEIGHT_DECIMALS)
    return Model(list(flags), vocab, coef, intercept)


# --------------------------------------------------------------------------- evaluation


@dataclass
class Counts:
    tp: int = 0
    fn: int = 0
    fp: int = 0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def fbeta(self, beta: float) -> float:
        p, r = self.precision, self.recall
        b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "tp": self.tp,
            "fn": self.fn,
            "fp": self.fp,
            "recall": round(self.recall, 3),
            "precision": round(self.precision, 3),
        }


def counts(
    examples: Sequence[Example],
    scores: Sequence[np.ndarray] | None,
    flags: Sequence[str],
    cutoffs: dict[str, float],
    kb: KnowledgeBase,
) -> dict[str, Counts]:
    """Per flag, counted as scripts/score_utterances.py does: a labelled flag is found when it
    (or a finding implying it) is read; a flag read without a label meaning it is a false
    positive. ``scores`` None: the lexicon alone."""
    out = {f: Counts() for f in flags}
    for n, ex in enumerate(examples):
        added = set()
        if scores is not None:
            for j, f in enumerate(flags):
                if f in cutoffs and f not in ex.read and float(scores[n][j]) >= cutoffs[f]:
                    added.add(f)
        read = ex.read | added
        read_closure = set(ex.read_closure)
        for f in added:
            read_closure |= kb.closure[f]
        for f in flags:
            c = out[f]
            if f in ex.labelled:
                if f in read_closure:
                    c.tp += 1
                else:
                    c.fn += 1
            if f in read and f not in ex.gold:
                c.fp += 1
    return out


def choose_cutoff(
    examples: Sequence[Example],
    raw: Sequence[np.ndarray],
    j: int,
    flag: str,
    beta: float,
    min_precision: float,
) -> tuple[float | None, Counts]:
    """The log-odds cutoff maximising the classifier's own F-beta for one flag on out-of-fold
    scores (its best sentence in every text, whatever the lexicon read), among cutoffs where it
    is right at least ``min_precision`` of the time; None when there is none.

    Judged on its own rather than on what it adds to the lexicon: the lexicon was grown from
    these texts and reads nearly all of them, so what it misses here is too little to tune on;
    how often the classifier finds a flag at all is the best estimate of how often it finds the
    wordings the lexicon will miss."""
    positives = sum(flag in ex.gold for ex in examples)
    if not positives:
        return None, Counts()
    ranked = sorted(
        (
            (float(raw[n][j]), flag in ex.gold)
            for n, ex in enumerate(examples)
            if math.isfinite(raw[n][j])
        ),
        key=lambda t: -t[0],
    )
    best: tuple[float, float, Counts] | None = None
    tp = fp = 0
    for k, (score, gold) in enumerate(ranked):
        tp, fp = tp + gold, fp + (not gold)
        nxt = ranked[k + 1][0] if k + 1 < len(ranked) else -math.inf
        if nxt == score:
            continue  # only cut between distinct scores
        c = Counts(tp, positives - tp, fp)
        if c.precision < min_precision:
            continue
        if best is None or c.fbeta(beta) > best[0] + 1e-9:
            cutoff = score if not math.isfinite(nxt) else (score + nxt) / 2
            best = (c.fbeta(beta), cutoff, c)
    if best is None:
        return None, Counts(0, positives, 0)
    return best[1], best[2]


def out_of_fold(
    examples: Sequence[Example],
    extra: Sequence[Example],
    flags: Sequence[str],
    args: argparse.Namespace,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Out-of-fold scores of every example: in its best sentence open to the backstop (what
    it would add), and in its best sentence at all (the classifier on its own)."""
    folds = KFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    open_scores: list[np.ndarray] = [np.empty(0)] * len(examples)
    raw_scores: list[np.ndarray] = [np.empty(0)] * len(examples)
    for k, (train_idx, test_idx) in enumerate(folds.split(np.arange(len(examples)))):
        train_set = [examples[i] for i in train_idx] + list(extra)
        model = train(
            train_set, flags, args.c, args.class_weight, args.min_weight, args.sentence_weight
        )
        held = [examples[i] for i in test_idx]
        opened = model.segment_scores(held)
        raw = model.segment_scores(held, eligible_only=False)
        for i, a, b in zip(test_idx, opened, raw, strict=True):
            open_scores[i], raw_scores[i] = a, b
        print(f"  fold {k + 1}/{args.folds}", file=sys.stderr)
    return open_scores, raw_scores


def thresholds(
    examples: Sequence[Example],
    raw: Sequence[np.ndarray],
    flags: Sequence[str],
    args: argparse.Namespace,
) -> tuple[dict[str, float], dict[str, dict[str, object]]]:
    cutoffs: dict[str, float] = {}
    report: dict[str, dict[str, object]] = {}
    for j, f in enumerate(flags):
        cutoff, own = choose_cutoff(examples, raw, j, f, args.beta, args.min_precision)
        if cutoff is None:
            report[f] = {"left_out": True, "classifier": own.as_dict()}
            continue
        cutoffs[f] = cutoff
        report[f] = {"threshold": round(_sigmoid(cutoff), 4), "classifier": own.as_dict()}
    return cutoffs, report


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def constrain(
    cases: Sequence[Case], model: Model, cutoffs: dict[str, float], kb: KnowledgeBase
) -> dict[str, list[str]]:
    """Raise thresholds so that no case triaged acceptably by the lexicon alone is triaged
    unacceptably because of what the backstop adds: each flag that would do so gets its
    threshold raised just above that case's score, until no case loses. Returns, per flag
    raised, the cases that raised it. (So these case files stop being an independent check
    of over-triage; the sealed sets remain one.)"""
    scores = model.segment_scores([c.example for c in cases])
    raised: dict[str, list[str]] = {}
    changed = True
    while changed:
        changed = False
        for case, s in zip(cases, scores, strict=True):
            if triage(kb, case.present, case.possible).level.value not in case.acceptable:
                continue  # already wrong without the backstop: no constraint
            fired = [
                (float(s[j]), f)
                for j, f in enumerate(model.flags)
                if f in cutoffs and f not in case.example.read and s[j] >= cutoffs[f]
            ]
            level = triage(kb, case.present, case.possible | {f for _, f in fired}).level
            if not fired or level.value in case.acceptable:
                continue
            # the flag that alone makes it unacceptable (else the most confident one)
            alone = [
                (score, f)
                for score, f in fired
                if triage(kb, case.present, case.possible | {f}).level.value not in case.acceptable
            ]
            score, flag = max(alone or fired)
            cutoffs[flag] = score + 1e-3
            raised.setdefault(flag, []).append(case.id)
            changed = True
    return raised


def table(
    title: str,
    before: dict[str, Counts],
    after: dict[str, Counts],
    flags: Sequence[str],
    cutoffs: dict[str, float],
) -> dict[str, object]:
    print(f"\n{title}")
    print(f"  {'flag':24s} {'n':>4s}  {'lexicon R / P':>15s}  {'+backstop R / P':>17s}")
    totals = [Counts(), Counts()]
    out: dict[str, object] = {}
    for f in flags:
        b, a = before[f], after[f]
        n = b.tp + b.fn
        for t, c in zip(totals, (b, a), strict=True):
            t.tp += c.tp
            t.fn += c.fn
            t.fp += c.fp
        if not n and not a.fp:
            continue
        mark = "" if f in cutoffs else "  (left out)"
        print(
            f"  {f:24s} {n:4d}  {b.recall:6.2f} / {b.precision:4.2f}    "
            f"{a.recall:6.2f} / {a.precision:4.2f}{mark}"
        )
        out[f] = {"n": n, "lexicon": b.as_dict(), "with_backstop": a.as_dict()}
    b, a = totals
    print(
        f"  {'all red flags':24s} {b.tp + b.fn:4d}  {b.recall:6.2f} / {b.precision:4.2f}    "
        f"{a.recall:6.2f} / {a.precision:4.2f}"
    )
    out["all"] = {"n": b.tp + b.fn, "lexicon": b.as_dict(), "with_backstop": a.as_dict()}
    return out


# --------------------------------------------------------------------------- export


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(
    model: Model,
    cutoffs: dict[str, float],
    cv: dict[str, object],
    left_out: dict[str, str],
    args: argparse.Namespace,
    kb: KnowledgeBase,
    constraint: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The data file's content: the model, what was left out and why, and the provenance
    (training files and constraint case files with their sha256, versions, settings, CV)."""
    flags = [f for f in model.flags if f in cutoffs and _sigmoid(cutoffs[f]) < 1.0]
    for f in cutoffs:
        if f not in flags:
            left_out[f] = "threshold raised out of reach by the case constraint"
    weights: dict[str, list[list[float]]] = {}  # feature -> [[flag index, weight], ...]
    for i, f in enumerate(flags):
        row = model.coef[model.flags.index(f)]
        for k in np.flatnonzero(row):
            w = round(float(row[k]), WEIGHT_DECIMALS)
            if w != 0.0:
                weights.setdefault(model.vocab.names[k], []).append([i, w])
    return {
        "features_version": bs.FEATURES_VERSION,
        "about": "twitchwise red-flag backstop: logistic regression per flag over the features "
        "of twitchwise.understand.backstop; see docs/understanding.md (Backstop model). "
        "Generated by scripts/train_backstop.py: do not edit by hand.",
        "model": {
            "unit": "sentence",
            "flags": flags,
            "weights_layout": "feature -> [[index into flags, weight], ...]",
            "intercepts": {f: float(model.intercept[model.flags.index(f)]) for f in flags},
            # full precision: near 1 a rounded probability moves the log-odds cutoff a lot
            "thresholds": {f: _sigmoid(cutoffs[f]) for f in flags},
            "weights": weights,
        },
        "left_out": left_out,
        "provenance": {
            "trained": date.today().isoformat(),
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "knowledge_digest": kb.digest,
            "training_files": {str(p.relative_to(ROOT)): sha256(p) for p in (UTTERANCES, *CASES)},
            "lexicon_examples": "synonyms and exact phrases of each flag and of findings "
            "implying it (positives); its absent phrases and every other finding's synonyms "
            "(negatives); from the knowledge base",
            "settings": {
                "C": args.c,
                "class_weight": args.class_weight,
                "min_weight": args.min_weight,
                "lexicon_weight": args.lexicon_weight,
                "sentence_weight": args.sentence_weight,
                "beta": args.beta,
                "min_precision": args.min_precision,
                "max_false_alarms": args.max_false_alarms,
                "folds": args.folds,
                "seed": args.seed,
            },
            "constraint_cases": constraint or {},
            "cv": cv,
        },
    }


# --------------------------------------------------------------------------- main


def fit(
    corpus: Sequence[Example],
    lexicon: Sequence[Example],
    flags: Sequence[str],
    args: argparse.Namespace,
    kb: KnowledgeBase,
) -> tuple[dict[str, float], dict[str, str], dict[str, dict[str, object]], list[np.ndarray]]:
    """Cross-validate, choose each flag's threshold, and leave out the flags whose backstop
    raises too many false alarms out of fold (more than ``--max-false-alarms`` of the texts:
    the flag read where no label means it, on top of what the lexicon read). Whether it finds
    what the lexicon misses cannot gate a flag: the lexicon was grown from these texts and
    misses too few of them. Returns the cutoffs (log-odds) of the flags kept, the reasons
    for those left out, the per-flag report and the out-of-fold scores."""
    oof, raw = out_of_fold(corpus, lexicon, flags, args)
    cutoffs, report = thresholds(corpus, raw, flags, args)
    before = counts(corpus, None, flags, {}, kb)
    after = counts(corpus, oof, flags, cutoffs, kb)
    left_out: dict[str, str] = {}
    budget = args.max_false_alarms * len(corpus)
    for f in flags:
        if f not in cutoffs:
            left_out[f] = f"no threshold reaches precision {args.min_precision} out of fold"
            continue
        found = after[f].tp - before[f].tp
        false = after[f].fp - before[f].fp
        report[f]["added_out_of_fold"] = {"found": found, "false_alarms": false}
        # a missed red flag costs more than a question about one: past the budget, a flag
        # stays when it finds enough that the lexicon missed (--miss-cost each)
        if false > budget and false > args.miss_cost * found:
            left_out[f] = (
                f"{false} false alarms out of fold in {len(corpus)} texts (at most "
                f"{budget:.1f} allowed, or {args.miss_cost:g} per red flag found), for "
                f"{found} red flags the lexicon missed"
            )
            del cutoffs[f]
    return cutoffs, left_out, report, oof


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=bs.DATA)
    ap.add_argument("--dry-run", action="store_true", help="do not write the data file")
    ap.add_argument(
        "--holdout",
        metavar="PREFIX",
        help="train without corpus ids starting with PREFIX, report on them",
    )
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    ap.add_argument("--class-weight", default="balanced", type=lambda s: None if s == "none" else s)
    ap.add_argument("--min-weight", type=float, default=0.07, help="drop smaller weights")
    ap.add_argument("--lexicon-weight", type=float, default=0.5)
    ap.add_argument(
        "--sentence-weight",
        type=float,
        default=1.0,
        help="weight of each corpus sentence as a negative (0: off)",
    )
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--min-precision", type=float, default=0.5)
    ap.add_argument(
        "--max-false-alarms",
        type=float,
        default=0.005,
        help="leave out a flag raised falsely in more of the texts out of fold",
    )
    ap.add_argument(
        "--miss-cost",
        type=float,
        default=2.0,
        help="false alarms one red flag found (that the lexicon missed) is worth",
    )
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument(
        "--no-constrain",
        action="store_true",
        help="do not raise thresholds for the constraint case files",
    )
    ap.add_argument("--json", type=Path, help="also write the evaluation tables here")
    args = ap.parse_args()

    kb = load_knowledge()
    flags = [*sorted(kb.red_flag_levels), "weakness"]
    reader = Reader(kb, flags)
    print("reading the corpus and the lexicon through the parser...", file=sys.stderr)
    corpus = corpus_examples(reader)
    lexicon = lexicon_examples(reader, args.lexicon_weight)
    print(f"{len(corpus)} corpus texts, {len(lexicon)} lexicon phrases", file=sys.stderr)
    tables: dict[str, object] = {}

    cases = [] if args.no_constrain else constraint_cases(reader)
    if args.holdout:
        held = [ex for ex in corpus if ex.id.startswith(args.holdout)]
        rest = [ex for ex in corpus if not ex.id.startswith(args.holdout)]
        print(f"held out: {len(held)} texts ({args.holdout}*)", file=sys.stderr)
        cutoffs, left_out, _, _ = fit(rest, lexicon, flags, args, kb)
        model = train(
            rest + lexicon, flags, args.c, args.class_weight, args.min_weight, args.sentence_weight
        )
        scores = model.segment_scores(held)
        before = counts(held, None, flags, {}, kb)
        title = f"held out {args.holdout}* ({len(held)} texts), trained without them"
        tables["holdout_unconstrained"] = table(
            f"{title}, thresholds before the case constraint: recall / precision",
            before,
            counts(held, scores, flags, cutoffs, kb),
            flags,
            cutoffs,
        )
        raised = constrain(cases, model, cutoffs, kb)
        tables["holdout"] = table(
            f"{title}: recall / precision",
            before,
            counts(held, scores, flags, cutoffs, kb),
            flags,
            cutoffs,
        )
        tables["holdout_left_out"] = left_out
        tables["holdout_raised"] = raised
        print("\nleft out:", ", ".join(left_out) or "none")
        print("raised by the case constraint:", raised or "none")
        if args.json:
            args.json.write_text(json.dumps(tables, indent=1))
        return 0

    cutoffs, left_out, report, oof = fit(corpus, lexicon, flags, args, kb)
    model = train(
        corpus + lexicon, flags, args.c, args.class_weight, args.min_weight, args.sentence_weight
    )
    before = counts(corpus, None, flags, {}, kb)
    title = f"{args.folds}-fold cross-validation on dev ({len(corpus)} texts)"
    tables["cv_unconstrained"] = table(
        f"{title}, thresholds before the case constraint: recall / precision",
        before,
        counts(corpus, oof, flags, cutoffs, kb),
        flags,
        cutoffs,
    )
    raised = constrain(cases, model, cutoffs, kb)
    for f, ids in raised.items():
        report[f]["raised_by_cases"] = ids
        report[f]["threshold"] = round(_sigmoid(cutoffs[f]), 4)
    tables["cv"] = table(
        f"{title}, shipped thresholds: recall / precision",
        before,
        counts(corpus, oof, flags, cutoffs, kb),
        flags,
        cutoffs,
    )
    u3 = [n for n, ex in enumerate(corpus) if ex.id.startswith("U3-")]
    if u3:
        sub = [corpus[n] for n in u3]
        tables["cv_u3"] = table(
            "the same, U3-* only (their predictions out of fold)",
            counts(sub, None, flags, {}, kb),
            counts(sub, [oof[n] for n in u3], flags, cutoffs, kb),
            flags,
            cutoffs,
        )
    print("\nleft out:")
    for f, why in left_out.items():
        print(f"  {f}: {why}")
    print("raised by the case constraint:", raised or "none")
    constraint = {
        str(p.relative_to(ROOT.parent)): sha256(p) for p in CONSTRAINT_CASES if cases and p.exists()
    }
    data = export(model, cutoffs, {"per_flag": report, **tables}, left_out, args, kb, constraint)
    text = json.dumps(data, indent=None, separators=(",", ":"), sort_keys=False)
    n_weights = sum(len(w) for w in data["model"]["weights"].values())
    print(f"\n{len(cutoffs)} flags, {n_weights} weights, {len(text) / 1e6:.2f} MB")
    if args.json:
        args.json.write_text(json.dumps(tables, indent=1))
    if not args.dry_run:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
        lost = verify(reader, cases, args.out, kb)
        if lost:
            print("the written model makes these cases' triage unacceptable:", lost)
            return 1
    return 0


def verify(reader: Reader, cases: Sequence[Case], path: Path, kb: KnowledgeBase) -> list[str]:
    """The constraint cases, parsed by the parser with the written model: those whose triage
    it makes unacceptable (none, unless scores at run time differ from training)."""
    model = bs.Backstop.load(kb.closure, path)
    lost = []
    for case in cases:
        ev = reader.parser.parse(case.text)
        assert reader.recorder.reading is not None
        ev = model.apply(ev, reader.recorder.reading)
        ev = with_demographics(kb, ev, case.age, case.sex)
        if (
            triage(kb, case.present, case.possible).level.value in case.acceptable
            and triage(kb, ev.present, ev.possible).level.value not in case.acceptable
        ):
            lost.append(case.id)
    return lost


if __name__ == "__main__":
    sys.exit(main())
