"""A red-flag backstop: small trained classifiers that raise doubt where the lexicon is silent.

The lexicon reads the red flags its phrases cover; people word them in endless other ways. After
the parser has read a text, the backstop scores every sentence with one logistic regression per
red flag (and ``weakness``) over cheap, typo-tolerant features, and for each flag the parser did
not read (present or possible) whose probability passes the flag's tuned threshold it adds a
*possible* observation (``doubt="model"``) with the sentence's words. So the answer asks about it
and the fail-safe triage counts it toward the urgent and emergency levels.

It never removes, denies or weakens anything: it only adds possible red flags, and it stays
silent about a flag in a sentence where the lexicon matched a phrase of that flag (or of a
finding implying it) and decided otherwise ("no chest pain", "my dad's face drooped").

Features (:func:`features`), the same at training and run time:

- word unigrams and bigrams of Snowball stems (stop words dropped), as the lexicon sees them;
- character 3- to 5-grams inside each word (``<word>`` padded), for typos and word forms;
- a mark on every token in a cue scope the parser found: ``n`` denied (a negation's scope
  and the words before it in its clause, or a normal-state word's scope), ``o`` someone
  else's, ``h`` hypothetical; so "no chest pain" and "my chest isn't tight" differ from "chest
  pain". The cues are the lexicon's own (``knowledge/data/lexicon``), as the parser found them.

Features are counted (a word's character n-grams add up), so a sentence's score is the sum of
its words' scores and its bigrams': inference is pure Python, a cached vector per word (one
entry per flag) added up and compared with each threshold as log-odds, well under a
millisecond per text. The weights are trained offline
by ``scripts/train_backstop.py`` with scikit-learn and shipped in ``data/backstop.json`` with
their provenance; see docs/understanding.md ("Backstop model").
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import add
from pathlib import Path
from typing import Any

from twitchwise.evidence import MODEL_DOUBT, Evidence, Observation, merge
from twitchwise.understand.context import Coverage, sentence_of
from twitchwise.understand.lexicon import (
    ABSENT,
    EXPERIENCER,
    FINDING,
    FUNCTION,
    GUARD,
    HYPOTHETICAL,
    IDIOM,
    NEGATION,
    NORMAL,
    Match,
)
from twitchwise.understand.text import Token, stem

DATA = Path(__file__).parent / "data" / "backstop.json"
#: Version of the feature definition below; the data file must have been trained on it.
FEATURES_VERSION = 1
CHAR_MIN, CHAR_MAX = 3, 5
#: The longest piece of a sentence quoted back to the person.
_MAX_QUOTE = 120
#: Word vectors kept per model before the cache is emptied (a long text cannot grow it forever).
_CACHE_WORDS = 50_000


@dataclass(frozen=True, slots=True)
class Reading:
    """What the parser read of one text, reused by the backstop (no second pass)."""

    text: str
    tokens: list[Token]
    matches: list[Match]
    breaks: set[int]
    coverage: Coverage
    stopwords: frozenset[str]
    other_is_patient: bool = False
    #: words that say nothing on their own besides stop words ("also", "it", "and")
    filler: frozenset[str] = frozenset()
    #: ids of the lexicon's cue findings: parts of a finding, which explain no word alone
    #: ("it feels tight": "tight" is a part of chest pain only beside the chest)
    cues: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence: its character span, its words (normal form and scope mark, stop words
    dropped), the finding ids the lexicon matched in it (whatever it then decided about them),
    and those it matched as denied."""

    start: int
    end: int
    words: tuple[tuple[str, str], ...]
    spoken: frozenset[str]
    denied: frozenset[str] = frozenset()
    #: whether some content word in it is part of no lexicon phrase at all
    unexplained: bool = True


@lru_cache(maxsize=16384)
def word_features(word: str, mark: str) -> tuple[str, ...]:
    """A word's own features: its stem (``w:``) and the character 3- to 5-grams of ``<word>``
    (``c:``, letters-only words), prefixed with its scope mark ("n:w:pain")."""
    prefix = f"{mark}:" if mark else ""
    out = [f"{prefix}w:{stem(word)}"]
    if word.isalpha():
        padded = f"<{word}>"
        out.extend(
            f"{prefix}c:{padded[i : i + n]}"
            for n in range(CHAR_MIN, CHAR_MAX + 1)
            for i in range(len(padded) - n + 1)
        )
    return tuple(out)


def _bigram(previous: str, word: str, mark: str) -> str:
    prefix = f"{mark}:" if mark else ""
    return f"{prefix}b:{previous}_{stem(word)}"


def features(words: Iterable[tuple[str, str]]) -> list[str]:
    """Features of a run of (word, mark) pairs, with repeats (they are counted): each word's
    :func:`word_features`, and stem bigrams (marked like their second word)."""
    out: list[str] = []
    previous = ""
    for word, mark in words:
        out.extend(word_features(word, mark))
        if previous:
            out.append(_bigram(previous, word, mark))
        previous = stem(word)
    return out


def _marks(reading: Reading) -> list[str]:
    """The scope mark of every token: "h" hypothetical, "o" someone else's, "n" denied, "".

    A denial covers its cue's scope (any negation cue: plain, hedged, past, "has gone") and
    the words before the cue in its clause too, because people say what is fine first: "my
    heart isn't racing", "my throat doesn't feel tight". Normal-state words ("fine", "as
    usual") deny the words in their scope: "I can lift my arm fine".
    """
    coverage, breaks = reading.coverage, reading.breaks
    n = len(reading.tokens)
    out = [""] * n
    cues: set[int] = set()
    for i in range(n):
        if coverage.scope(i, i, HYPOTHETICAL) is not None:
            out[i] = "h"
        elif not reading.other_is_patient and coverage.scope(i, i, EXPERIENCER) is not None:
            out[i] = "o"
        else:
            scope = coverage.scope(i, i, NEGATION)
            if scope is not None:
                out[i] = "n"
                if not scope.backward:
                    cues.add(scope.cue.first)
            elif coverage.scope(i, i, NORMAL) is not None:
                out[i] = "n"
    for cue in cues:
        j = cue - 1
        while j >= 0 and j not in breaks:
            if not out[j]:
                out[j] = "n"
            j -= 1
    return out


def segments(reading: Reading) -> list[Segment]:
    """The sentences of a reading: their words (without stop words and the words of an
    idiom) and what the lexicon said in them."""
    tokens = reading.tokens
    if not tokens:
        return []
    marks = _marks(reading)
    sentences = sentence_of(tokens)
    spoken_at: dict[int, set[str]] = {}
    denied_at: dict[int, set[str]] = {}
    coverage = reading.coverage
    matched: set[int] = set()
    # the words of an idiom ("lost my grip on reality") are evidence for nothing
    guarded = {
        i
        for m in reading.matches
        if m.category == GUARD and m.value == IDIOM
        for i in range(m.first, m.last + 1)
    }
    for m in reading.matches:
        if not (m.category == FINDING and m.value in reading.cues):
            matched.update(range(m.first, m.last + 1))
        if m.category not in (FINDING, ABSENT, FUNCTION):
            continue
        n = sentences[m.first]
        spoken_at.setdefault(n, set()).add(m.value)
        scope = coverage.scope(m.first, m.last, NEGATION)
        if (
            m.category == ABSENT
            or (scope is not None and scope.cue.value != "hedged_denial")
            or (m.category == FUNCTION and coverage.scope(m.first, m.last, NORMAL) is not None)
        ):
            denied_at.setdefault(n, set()).add(m.value)
    out = []
    first = 0
    for i in range(len(tokens) + 1):
        if i < len(tokens) and sentences[i] == sentences[first]:
            continue
        words = tuple(
            (tokens[j].norm, marks[j])
            for j in range(first, i)
            if not tokens[j].is_punct
            and tokens[j].norm not in reading.stopwords
            and j not in guarded
        )
        if words:
            n = sentences[first]
            out.append(
                Segment(
                    tokens[first].start,
                    tokens[i - 1].end,
                    words,
                    frozenset(spoken_at.get(n, ())),
                    frozenset(denied_at.get(n, ())),
                    any(
                        j not in matched
                        and len(tokens[j].norm) > 2
                        and tokens[j].norm.isalpha()
                        and tokens[j].norm not in reading.stopwords
                        and tokens[j].norm not in reading.filler
                        for j in range(first, i)
                    ),
                )
            )
        first = i
    return out


@dataclass
class Backstop:
    """Per-flag weights, intercepts and thresholds (as log-odds); no flags: switched off.

    The weights are stored flat for a fast start (the parser, this included, is pickled in
    the local cache): feature -> row, and per row a run of (flag index, weight) in
    ``flag_of`` / ``value`` from ``offsets[row]`` to ``offsets[row + 1]``.
    """

    flags: tuple[str, ...] = ()
    intercepts: tuple[float, ...] = ()
    #: threshold of each flag, as log-odds (the probability threshold's logit)
    cutoffs: tuple[float, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)
    offsets: array[int] = field(default_factory=lambda: array("I", [0]))
    flag_of: array[int] = field(default_factory=lambda: array("B"))
    value: array[float] = field(default_factory=lambda: array("d"))
    #: per flag: the findings whose mention means the lexicon spoke about it (see `quiet`)
    speakers: tuple[frozenset[str], ...] = ()
    #: per flag: the findings it implies, itself included; denying one denies the flag
    implied: tuple[frozenset[str], ...] = ()
    digest: str = ""
    _vectors: dict[tuple[str, str], tuple[float, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_vectors"] = {}  # a cache: not worth pickling
        return state

    @classmethod
    def load(cls, closure: Mapping[str, frozenset[str]], path: Path = DATA) -> Backstop:
        """The shipped model; ``closure`` (finding -> itself and what it implies) says which
        findings speak for a flag. A missing file switches the backstop off (the tests check
        that the package ships one); a malformed one raises ``ValueError``."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls()
        data = json.loads(raw)
        validate(data)
        model = data["model"]
        flags = tuple(model["flags"])
        rows: dict[str, int] = {}
        offsets, flag_of, value = array("I", [0]), array("B"), array("d")
        for feat, pairs in model["weights"].items():
            rows[feat] = len(offsets) - 1
            for i, w in pairs:
                flag_of.append(int(i))
                value.append(float(w))
            offsets.append(len(value))
        return cls(
            flags,
            tuple(float(model["intercepts"][f]) for f in flags),
            tuple(_logit(float(model["thresholds"][f])) for f in flags),
            rows,
            offsets,
            flag_of,
            value,
            speakers(flags, closure),
            tuple(closure.get(f, frozenset({f})) for f in flags),
            hashlib.sha256(raw).hexdigest()[:12],
        )

    def _add(self, out: list[float], feat: str) -> None:
        row = self.rows.get(feat)
        if row is not None:
            flag_of, value = self.flag_of, self.value
            for k in range(self.offsets[row], self.offsets[row + 1]):
                out[flag_of[k]] += value[k]

    def _vector(self, word: str, mark: str) -> tuple[float, ...]:
        """The sum of a word's own feature weights, per flag (cached)."""
        key = (word, mark)
        vec = self._vectors.get(key)
        if vec is None:
            acc = [0.0] * len(self.flags)
            for feat in word_features(word, mark):
                self._add(acc, feat)
            if len(self._vectors) >= _CACHE_WORDS:
                self._vectors.clear()
            vec = self._vectors[key] = tuple(acc)
        return vec

    def scores(self, words: Sequence[tuple[str, str]]) -> list[float]:
        """Log-odds of every flag for one sentence's (word, mark) pairs: the same as the dot
        product of the weights with :func:`features` counts, summed word by word."""
        out = list(self.intercepts)
        previous = ""
        for word, mark in words:
            out = list(map(add, out, self._vector(word, mark)))
            if previous:
                self._add(out, _bigram(previous, word, mark))
            previous = stem(word)
        return out

    def quiet(self, seg: Segment, evidence: Evidence) -> frozenset[int]:
        """The flags (indices) the backstop must not raise in this sentence, because the
        lexicon spoke about them there: it matched a phrase of the flag or of a finding that
        implies it ("no chest pain", "my dad's face drooped": denied, someone else's), or it
        denied something the flag implies ("my leg isn't weak" rules out foot drop; "no
        tingling in my lips", a composed denial, rules out tingling lips)."""
        denied = set(seg.denied)
        for o in evidence.observations:
            if o.negated and o.start is not None and seg.start <= o.start < seg.end:
                denied.add(o.id)
        return frozenset(
            i
            for i, (spoke, implied) in enumerate(zip(self.speakers, self.implied, strict=True))
            if seg.spoken & spoke or denied & implied
        )

    def apply(self, evidence: Evidence, reading: Reading) -> Evidence:
        """``evidence`` plus a possible observation for every flag the parser did not read
        (present, possible or certainly denied) that the model finds in a sentence where the
        lexicon did not speak about it (see :meth:`quiet`): the sentence with the highest
        score is quoted."""
        if not self.flags:
            return evidence
        # read already, or denied by the writer in so many words ("no weakness": a denial in
        # doubt is read as possible, not as denied): the model's guess does not overrule them
        read = {o.id for o in evidence.observations}
        todo = [i for i, f in enumerate(self.flags) if f not in read]
        if not todo:
            return evidence
        best: dict[int, tuple[float, Segment]] = {}
        for seg in segments(reading):
            if not seg.unexplained:
                continue  # every word of it is in a lexicon phrase: the lexicon read it all
            scores = self.scores(seg.words)
            quiet: frozenset[int] | None = None
            for i in todo:
                margin = scores[i] - self.cutoffs[i]
                if margin < 0:
                    continue
                if quiet is None:
                    quiet = self.quiet(seg, evidence)
                if i in quiet:
                    continue
                if i not in best or margin > best[i][0]:
                    best[i] = (margin, seg)
        if not best:
            return evidence
        added = []
        for i, (_, seg) in sorted(best.items()):
            words = reading.text[seg.start : seg.end].strip()
            if len(words) > _MAX_QUOTE:
                words = words[: _MAX_QUOTE - 3].rstrip() + "..."
            added.append(
                Observation(
                    self.flags[i], False, True, words, seg.start, seg.end, doubt=MODEL_DOUBT
                )
            )
        return Evidence(
            merge([*evidence.observations, *added]),
            evidence.quantities,
            evidence.not_understood,
            evidence.medicines,
        )


def speakers(
    flags: Iterable[str], closure: Mapping[str, frozenset[str]]
) -> tuple[frozenset[str], ...]:
    """Per flag, the findings whose mention means the lexicon spoke about it: the flag and
    every finding that implies it ("one-sided weakness" speaks about weakness)."""
    return tuple(
        frozenset(f for f, implied in closure.items() if flag in implied) | {flag} for flag in flags
    )


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def validate(data: Any) -> None:
    """Raise ``ValueError`` unless ``data`` is a well-formed backstop file: every flag with a
    finite intercept, a threshold in (0, 1) and finite weights, and its provenance."""
    if not isinstance(data, dict):
        raise ValueError("backstop: not a JSON object")
    if data.get("features_version") != FEATURES_VERSION:
        raise ValueError(
            f"backstop: trained on features version {data.get('features_version')}, "
            f"this code computes version {FEATURES_VERSION}: retrain (scripts/train_backstop.py)"
        )
    provenance = data.get("provenance")
    if not isinstance(provenance, dict) or not all(
        provenance.get(k) for k in ("trained", "sklearn", "training_files", "cv")
    ):
        raise ValueError("backstop: provenance missing (trained, sklearn, training_files, cv)")
    model = data.get("model")
    if not isinstance(model, dict):
        raise ValueError("backstop: no model")
    flags = model.get("flags")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ValueError("backstop: flags is not a list of finding ids")
    for flag in flags:
        intercept = model["intercepts"].get(flag)
        threshold = model["thresholds"].get(flag)
        if not isinstance(intercept, int | float) or not math.isfinite(intercept):
            raise ValueError(f"backstop: intercept of {flag} is not a finite number")
        if not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
            raise ValueError(f"backstop: threshold of {flag} is not in (0, 1)")
    weights = model.get("weights")
    if not isinstance(weights, dict):
        raise ValueError("backstop: no weights")
    for feat, row in weights.items():
        if not isinstance(row, list) or not all(
            isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], int)
            and 0 <= pair[0] < len(flags)
            and isinstance(pair[1], int | float)
            and math.isfinite(pair[1])
            for pair in row
        ):
            raise ValueError(f"backstop: weights of feature {feat!r} are malformed or not finite")
