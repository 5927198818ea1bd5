"""Tokenising and normalising lay text.

A :class:`Token` keeps the character span of the original text, so every finding can point
back at the words it came from. Normalisation lower-cases, expands contractions, maps
British/American spellings to one form and stems; the same function normalises the
knowledge base's synonyms, so both sides always meet in the same form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

#: "24+3" (weeks and days of a pregnancy) and "60+" (at least) are one token each
_WORD = re.compile(
    r"\d{1,2}\+[0-6](?![\d.])|\d+\+(?!\d)"
    r"|\d+(?:[.,]\d+)?(?:[a-z°]+)?|[a-z]+(?:['’][a-z]+)*|[/&]|[.!?;:,()\-]"
)
#: The token of a dash with space on both sides (or at either end of the text): a clause boundary.
SPACED_DASH = " - "
_SENTENCE_PUNCT = frozenset((*".!?;:()", SPACED_DASH))
_stemmer = snowballstemmer.stemmer("english")


@dataclass(frozen=True, slots=True)
class Token:
    """One word (or punctuation mark) of the text with its span and normal forms."""

    raw: str
    norm: str
    start: int
    end: int

    @property
    def is_punct(self) -> bool:
        return not (self.norm[:1].isalnum())

    @property
    def is_boundary(self) -> bool:
        return self.norm in _SENTENCE_PUNCT


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def clean(text: str) -> str:
    """Unicode-normalise, lower-case and unify apostrophes and dashes, character by character.

    Every character maps to exactly one character, so spans found in the cleaned text are
    spans of the original text too.
    """
    return "".join(_clean_char(c) for c in text)


@lru_cache(maxsize=4096)
def _clean_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).lower()
    if len(folded) != 1:
        folded = char.lower() if len(char.lower()) == 1 else " "
    return _PUNCT_MAP.get(folded, folded)


_PUNCT_MAP = {"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-", "‐": "-"}


def tokenize(
    text: str,
    contractions: dict[str, str],
    spellings: dict[str, str],
) -> list[Token]:
    """Split text into tokens, expanding contractions and unifying spellings.

    An expanded contraction ("can't" -> "cannot", "isn't" -> "is not") yields several tokens
    that share the span of the original word.
    """
    cleaned = clean(text)
    tokens: list[Token] = []
    for match in _WORD.finditer(cleaned):
        word = match.group(0)
        start, end = match.start(), match.end()
        raw = text[start:end]
        expanded = contractions.get(word)
        if expanded is None and "'" in word:
            base, _, suffix = word.partition("'")
            if suffix == "s":  # possessive or "is": keep the base word
                expanded = base
            elif suffix == "t" and base.endswith("n"):
                expanded = base[:-1] + " not"
            elif suffix in ("ve", "re", "ll", "d", "m"):
                expanded = base
            else:
                expanded = base + suffix
        if expanded is not None:
            for part in expanded.split():
                tokens.append(Token(raw, spellings.get(part, part), start, end))
            continue
        if word == "-":
            if _spaced(cleaned, text[start:end], start, end) and not (
                tokens and tokens[-1].norm == SPACED_DASH
            ):
                # a dash between spaces sets a clause apart ("a seizure or a spasm - my leg
                # jerked"; "no chest pain - well actually there is"): a clause boundary
                tokens.append(Token(raw, SPACED_DASH, start, end))
            continue  # hyphens join words ("61-year-old"): drop them
        if word == "not" and tokens and tokens[-1].norm == "can":
            # "can not" is "cannot" (one token, as the contraction "can't" gives)
            can = tokens.pop()
            tokens.append(Token(text[can.start : end], "cannot", can.start, end))
            continue
        tokens.append(Token(raw, spellings.get(word, word), start, end))
    return tokens


def _spaced(text: str, raw: str, start: int, end: int) -> bool:
    """A dash that sets a clause apart: white space (or the end of the text) on both sides of
    it or of a run of dashes ("--"), or an em dash between words ("pain—well, actually")."""
    first, last = start, end
    while first > 0 and text[first - 1] == "-":
        first -= 1
    while last < len(text) and text[last] == "-":
        last += 1
    before = text[first - 1] if first > 0 else " "
    after = text[last] if last < len(text) else " "
    if before.isspace() and after.isspace():
        return True
    return raw == "\u2014" and before.isalpha() and after.isalpha()
