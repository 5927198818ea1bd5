"""The compiled lexicon: every phrase of the knowledge base in one multi-pattern matcher.

Phrases (finding synonyms, absent phrases, function terms, ConText cues, terminators and
normal-state words) are normalised exactly like the text (lower case, contractions, spellings,
stop words dropped, stemmed) and loaded into one Aho–Corasick automaton over the stem stream,
so matching costs one pass over the text however many phrases there are. Unknown words close to
a known word (typos) are corrected with rapidfuzz before matching.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import ahocorasick

from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.understand.text import Token, stem, tokenize

# Match categories
FINDING = "finding"
ABSENT = "absent"
FUNCTION = "function"
NEGATION = "negation"
PSEUDO = "pseudo"
UNCERTAIN = "uncertain"
EXPERIENCER = "experiencer"
#: The value of an other-person cue that names someone without "my" ("a guy at work").
INDEFINITE = "indefinite"
HYPOTHETICAL = "hypothetical"
TERMINATOR = "terminator"
NORMAL = "normal"
DRINK = "drink"
GUARD = "guard"
#: The value of a guard that is a whole idiom: none of its words means anything medical.
IDIOM = "idiom"
RETRACTION = "retraction"

#: Shorter unknown words are left alone: too many real words sit one letter from a known one.
MIN_TYPO_LENGTH = 7

CUE_CATEGORIES = frozenset({NEGATION, UNCERTAIN, EXPERIENCER, HYPOTHETICAL, NORMAL})


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in the stream: token indices [first, last] into the full token list."""

    category: str
    value: str
    direction: str
    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1


class Lexicon:
    """Knowledge-base phrases compiled once into a matcher; see the module docstring."""

    def __init__(self, kb: KnowledgeBase) -> None:
        lex = kb.lexicon
        self.contractions = dict(lex.contractions)
        self.spellings = dict(lex.spellings)
        self.stopwords = frozenset(lex.stopwords)
        fw = lex.function_words
        self.stop_verbs = frozenset(fw.stop_verbs)
        self.been = BeenWords(
            frozenset(fw.intensifiers), frozenset(fw.been_negations), frozenset(fw.been_keeps)
        )
        # one-word side synonyms ("left", "right") are matched on their own and skipped in
        # phrases, so "cannot lift my right arm" meets the synonym "cannot lift my arm"
        self.side_words = {
            syn: f.id
            for f in kb.findings.values()
            if f.kind == "side"
            for syn in f.synonyms
            if " " not in syn and syn.isalpha() and syn not in lex.number_words
        }
        self._real_words = frozenset(lex.real_words)
        # "me legs", "me breath", "me mum": "me" for "my" before a body word or a relative
        pronouns = set(lex.pronouns) | set(lex.third_person) | set(lex.subjects)
        self.me_as_my = (
            frozenset(lex.me_as_my_before)
            | {w for w in lex.relative_words if w not in pronouns}
            | {
                syn
                for f in kb.findings.values()
                if f.kind == "region"
                for syn in f.synonyms
                if " " not in syn and syn.isalpha()
            }
        )
        self._automaton: Any = ahocorasick.Automaton()
        self._entries: dict[str, list[tuple[str, str, str]]] = {}
        vocabulary: set[str] = set()

        self._exact: dict[str, list[tuple[tuple[str, ...], str, str, str]]] = {}
        for phrase in lex.not_findings:
            self._add_exact(phrase, GUARD, GUARD)
        for phrase in lex.idioms:
            self._add_exact(phrase, GUARD, IDIOM)
        for phrase in lex.retraction:
            self._add_exact(phrase, RETRACTION, RETRACTION)
        for f in kb.findings.values():
            self._add_all(f.synonyms, FINDING, f.id, vocabulary=vocabulary)
            for phrase in f.exact_phrases:
                self._add_exact(phrase, FINDING, f.id)
            self._add_all(f.absent_phrases, ABSENT, f.id, vocabulary=vocabulary)
            self._add_all(f.function_terms, FUNCTION, f.id, vocabulary=vocabulary)
        for drink in kb.plan.caffeine_drinks:
            self._add_all(drink.terms, DRINK, drink.id, vocabulary=vocabulary)
        for cue in lex.negation:
            value = "at_clause_end" if cue.at_clause_end else "negation"
            self._add(cue.phrase, NEGATION, value, cue.direction)
        for cue in lex.past:  # wording-specific: matched word for word
            self._add_exact(cue.phrase, NEGATION, "past", cue.direction)
        for cue in lex.hedged_negation:  # wording-specific: matched word for word
            self._add_exact(cue.phrase, NEGATION, "hedged_denial", cue.direction)
        for phrase in lex.pseudo_negation:
            self._add(phrase, PSEUDO, "pseudo")
        for cue in lex.uncertainty:
            self._add(cue.phrase, UNCERTAIN, "uncertain", cue.direction)
        for cue in lex.other_experiencer:
            self._add(cue.phrase, EXPERIENCER, "experiencer", cue.direction)
        # "my mum ...", "my mate's ...", "my bf ...": someone else as the subject of a clause;
        # word for word ("my" kept), so "mate" alone is no cue. Not a child: a parent writing
        # about their child is usually asking for them ("my son is 8 and his hands shake")
        pronoun_like = (
            set(lex.pronouns)
            | set(lex.third_person)
            | set(lex.first_person)
            | set(lex.function_words.child_words)
        )
        for person in sorted(set(lex.relative_words) | set(lex.non_relatives)):
            if person.isalpha() and person not in pronoun_like and person not in self.stopwords:
                self._add_exact(f"my {person}", EXPERIENCER, "experiencer")
        # "a guy at work", "one of the kids": someone else, only where a clause starts (parse)
        for phrase in lex.function_words.indefinite_people:
            self._add_exact(phrase, EXPERIENCER, INDEFINITE)
        for cue in lex.hypothetical:  # question forms are about exact wording: "what does"
            self._add_exact(cue.phrase, HYPOTHETICAL, "hypothetical", cue.direction)
        for phrase in lex.terminators:
            self._add(phrase, TERMINATOR, "terminator")
        for phrase in lex.normal_states:
            self._add(phrase, NORMAL, "normal", "both")
        for key, values in self._entries.items():
            self._automaton.add_word(key, (key.count(" ") - 2, tuple(values)))
        self._automaton.make_automaton()
        self.vocabulary = sorted(
            w for w in vocabulary if len(w) >= MIN_TYPO_LENGTH - 1 and w.isalpha()
        )
        self._vocab_set = frozenset(vocabulary)
        self._stem_set = frozenset(stem(w) for w in vocabulary)

    def __getstate__(self) -> dict[str, Any]:
        """The compiled form for the parser cache: without the phrase table the automaton was
        built from (only building uses it; leaving it out saves a tenth of the cache and
        about 3 ms of each start-up)."""
        state = dict(self.__dict__)
        state.pop("_entries", None)
        return state

    # -- building

    def key(self, words: Iterable[str]) -> str:
        skip = self.stopwords | getattr(self, "side_words", {}).keys()
        norms = list(words)
        stems = [
            stem(w)
            for i, w in enumerate(norms)
            if w not in skip and not linking_been(norms, i, self.been)
        ]
        return " " + " ".join(stems) + " " if stems else ""

    def _add(self, phrase: str, category: str, value: str, direction: str = "forward") -> str:
        tokens = tokenize(phrase, self.contractions, self.spellings)
        key = self.key(t.norm for t in tokens if not t.is_punct)
        if key:
            entry = (category, value, direction)
            bucket = self._entries.setdefault(key, [])
            if entry not in bucket:
                bucket.append(entry)
        return key

    def _add_exact(
        self, phrase: str, category: str, value: str, direction: str = "forward"
    ) -> None:
        """A phrase matched word for word on the normal forms (stop words and side words kept):
        guards, retractions and question forms are about exact wording, not stems."""
        words = tuple(
            t.norm for t in tokenize(phrase, self.contractions, self.spellings) if not t.is_punct
        )
        if words:
            self._exact.setdefault(words[0], []).append((words, category, value, direction))

    def _add_all(
        self, phrases: Iterable[str], category: str, value: str, *, vocabulary: set[str]
    ) -> None:
        """Each phrase stemmed and without its stop words; but a phrase of several words left
        with one word, its list not having that word on its own, after losing a stop word that
        is a verb ("bit my lip" -> "lip", "had a fall" -> "fall", "do up" -> "up"), is matched
        word for word: the one word left means something else."""
        phrases = list(phrases)
        norms = {
            phrase: [
                t.norm
                for t in tokenize(phrase, self.contractions, self.spellings)
                if not t.is_punct
            ]
            for phrase in phrases
        }
        keys = {phrase: self.key(norms[phrase]) for phrase in phrases}
        alone = {keys[p] for p in phrases if len(norms[p]) == 1}
        for phrase in phrases:
            key = keys[phrase]
            if (
                key.count(" ") == 2
                and key not in alone
                and any(w in self.stop_verbs for w in norms[phrase])
            ):
                self._add_exact(phrase, category, value)
            else:
                self._add(phrase, category, value)
            for tok in tokenize(phrase, self.contractions, self.spellings):
                if not tok.is_punct and tok.norm not in self.stopwords:
                    vocabulary.add(tok.norm)

    # -- using

    def tokenize(self, text: str) -> list[Token]:
        tokens = tokenize(text, self.contractions, self.spellings)
        for i in range(len(tokens) - 1):
            if tokens[i].norm == "me" and tokens[i + 1].norm in self.me_as_my:
                tokens[i] = replace(tokens[i], norm="my")
        return tokens

    def _known(self, word: str) -> bool:
        return word in self._vocab_set or stem(word) in self._stem_set

    def correct(self, word: str, *, real_words: bool = True) -> str | None:
        """A known word this unknown word is probably a typo of, or None.

        Regular lay spellings first: a dropped final g ("twitchin", "shakin") and a doubled
        last letter ("calff"); then one or two edits for longer words (rapidfuzz).
        """
        if not word.isalpha() or len(word) < 4 or self._known(word):
            return None
        if real_words and word in self._real_words:
            return None  # an English word, not a typo ("confession" is not "confusion")
        if word.endswith("in") and self._known(word + "g"):
            return word + "g"
        if word[-1] == word[-2] and self._known(word[:-1]):
            return word[:-1]
        if word.endswith("in") and len(word) + 1 >= MIN_TYPO_LENGTH:
            word = word + "g"  # "twichin" -> "twiching" -> "twitching"
        if len(word) < MIN_TYPO_LENGTH:
            return None
        limit = 1 if len(word) < 9 else 2
        # imported on the first long unknown word: many texts never need it (start-up time)
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        found = process.extractOne(
            word,
            self.vocabulary,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=limit,
        )
        if found is None:
            return None
        candidate = str(found[0])
        return candidate if candidate[0] == word[0] else None

    def match(self, tokens: list[Token]) -> tuple[list[Match], dict[int, str]]:
        """Every phrase in the tokens; also the typo corrections made (index -> word)."""
        keep: list[int] = []
        stems: list[str] = []
        corrections: dict[int, str] = {}
        sides: list[Match] = []
        norms = [t.norm for t in tokens]
        for i, tok in enumerate(tokens):
            if tok.norm in self.stopwords or linking_been(norms, i, self.been):
                continue
            side = self.side_words.get(tok.norm)
            if side is not None:
                sides.append(Match(FINDING, side, "forward", i, i))
                continue
            word = tok.norm
            if not tok.is_punct:
                fixed = self.correct(word)
                if fixed is not None:
                    corrections[i] = fixed
                    word = fixed
            keep.append(i)
            stems.append(stem(word) if not tok.is_punct else tok.norm)
        matches: list[Match] = sides
        words = [t.norm for t in tokens]
        for i, word in enumerate(words):
            for phrase, category, value, direction in self._exact.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    matches.append(Match(category, value, direction, i, i + len(phrase) - 1))
        haystack = " " + " ".join(stems) + " "
        # position of each stream token's trailing space -> stream index
        ends: dict[int, int] = {}
        pos = 0
        for index, s in enumerate(stems):
            pos += len(s) + 1
            ends[pos] = index
        for end_char, (extra_words, entries) in self._automaton.iter(haystack):
            last_stream = ends.get(end_char)
            if last_stream is None:
                continue
            first_stream = last_stream - extra_words
            first, last = keep[first_stream], keep[last_stream]
            for category, value, direction in entries:
                matches.append(Match(category, value, direction, first, last))
        return matches, corrections


@dataclass(frozen=True, slots=True)
class BeenWords:
    """The words that decide whether "been" links to a state (lexicon ``function_words``):
    ``intensifiers`` may stand between "been" and what it links to ("has been really tight");
    ``negations`` before it make "been X-ing" a denied "X-ing"; ``keeps`` after it make it part
    of a verb or a phrase of its own ("been on it for ages", "been told", "been a headache")."""

    intensifiers: frozenset[str]
    negations: frozenset[str]
    keeps: frozenset[str]


_A_BIT = (["bit"], ["little"])


def linking_been(norms: list[str], i: int, words: BeenWords) -> bool:
    """Whether ``norms[i]`` is "been" as a linking verb before a state ("my chest has been
    tight", "has been really sore") or as the helper of a denied -ing form ("I've not been
    weeing much"): it is left out of phrase matching, as "is" and "am" are, so the phrases
    "chest tight" and "not weeing much" are found. "been" before any other verb form, a
    preposition or a noun phrase ("been running", "been on it", "been a nightmare") is kept:
    phrases such as "been running" say more than "running"."""
    if norms[i] != "been":
        return False
    j = i + 1
    while j < len(norms) and (
        norms[j] in words.intensifiers or (norms[j] == "a" and norms[j + 1 : j + 2] in _A_BIT)
    ):
        j += 1
    if j >= len(norms):
        return False
    nxt = norms[j]
    if nxt.endswith(("ing", "in")) and i > 0 and norms[i - 1] in words.negations:
        return nxt.isalpha()  # "not been weeing much" is "not weeing much"
    return nxt.isalpha() and nxt not in words.keeps and not nxt.endswith(("ing", "ed", "in"))
