"""ConText-style scopes: which words a negation, hedge, other-person or hypothetical cue covers.

A cue's scope runs forward (or backward) from the cue to the end of its clause: a sentence mark,
a terminator ("but", "however"...), a conjunction followed by a new subject ("..., and my calf"),
or a maximum window, whichever comes first (Chapman 2001; Harkema 2009).
"""

from __future__ import annotations

from dataclasses import dataclass

from twitchwise.understand.lexicon import (
    CUE_CATEGORIES,
    FINDING,
    PSEUDO,
    TERMINATOR,
    Match,
)
from twitchwise.understand.text import Token

FORWARD_WINDOW = 12
BACKWARD_WINDOW = 6
NORMAL_WINDOW = 5
_CONJUNCTIONS = frozenset({"and", ",", "or", "plus", "with"})


@dataclass(frozen=True, slots=True)
class Scope:
    category: str
    first: int
    last: int
    cue: Match

    def covers(self, match: Match) -> bool:
        return self.first <= match.first and match.last <= self.last


def clause_breaks(tokens: list[Token], matches: list[Match], subjects: frozenset[str]) -> set[int]:
    """Token indices that end a clause: sentence marks, terminators, conjunction + subject."""
    breaks = {i for i, t in enumerate(tokens) if t.is_boundary}
    for m in matches:
        if m.category == TERMINATOR:
            breaks.update(range(m.first, m.last + 1))
    for i in range(len(tokens) - 1):
        if tokens[i].norm in _CONJUNCTIONS and tokens[i + 1].norm in subjects:
            breaks.add(i)
    return breaks


def _list_commas(tokens: list[Token], breaks: set[int], matches: list[Match]) -> set[int]:
    """Commas inside a list: one ending in "or"/"nor" ("no pain, numbness or tingling"), or
    followed by a bare finding ("denies chest pain, palpitations, dizziness").

    Elsewhere a comma ends a cue's scope: in "no coffee today, eyelid twitching all day" the
    twitching is not denied.
    """
    in_finding = {i for m in matches if m.category == FINDING for i in range(m.first, m.last + 1)}
    out: set[int] = set()
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok.norm != "," or i in breaks:
            continue
        end = i + 1
        while end < n and tokens[end].norm not in (",", ".", "!", "?", ";", ":") and end - i <= 5:
            end += 1
        item = range(i + 1, end)
        if 0 < len(item) <= 4 and all(
            j in in_finding or tokens[j].norm in _LIST_GLUE for j in item
        ):
            out.add(i)
    pending: list[int] = []
    for i, tok in enumerate(tokens):
        if i in breaks:
            pending.clear()
        elif tok.norm == ",":
            pending.append(i)
        elif tok.norm in _LIST_ENDS:
            out.update(pending)
            pending.clear()
    return out


_LIST_ENDS = frozenset({"or", "nor"})
_LIST_GLUE = frozenset({"or", "nor", "and", "any", "no", "my", "the", "a"})


def sentence_of(tokens: list[Token]) -> list[int]:
    """Sentence number of every token (split at . ! ? ;)."""
    out = []
    number = 0
    for tok in tokens:
        out.append(number)
        if tok.norm in {".", "!", "?", ";"}:
            number += 1
    return out


def scopes(tokens: list[Token], matches: list[Match], breaks: set[int]) -> list[Scope]:
    """The scope of every cue that is not part of a longer phrase."""
    covering = [m for m in matches if m.category in (FINDING, PSEUDO)]
    cue_at: dict[int, str] = {}
    for m in matches:
        if m.category in CUE_CATEGORIES:
            for i in range(m.first, m.last + 1):
                cue_at.setdefault(i, m.category)
    out: list[Scope] = []
    n = len(tokens)
    list_commas = _list_commas(tokens, breaks, matches)
    for cue in matches:
        if cue.category not in CUE_CATEGORIES:
            continue
        if any(
            c.first <= cue.first and cue.last <= c.last and c.length > cue.length for c in covering
        ):
            continue  # "not" inside "not sleeping", "no" inside "no reason"
        window_fwd = NORMAL_WINDOW if cue.category == "normal" else FORWARD_WINDOW
        window_bwd = NORMAL_WINDOW if cue.category == "normal" else BACKWARD_WINDOW
        if cue.direction in ("forward", "both"):
            last = cue.last
            while (
                last + 1 < n
                and last + 1 - cue.last <= window_fwd
                and last + 1 not in breaks
                and (tokens[last + 1].norm != "," or last + 1 in list_commas)
                and cue_at.get(last + 1, cue.category) == cue.category
            ):
                last += 1
            if last > cue.last:
                out.append(Scope(cue.category, cue.last + 1, last, cue))
        if cue.direction in ("backward", "both"):
            first = cue.first
            while (
                first - 1 >= 0 and cue.first - (first - 1) <= window_bwd and first - 1 not in breaks
            ):
                first -= 1
            if first < cue.first:
                out.append(Scope(cue.category, first, cue.first - 1, cue))
    return out
