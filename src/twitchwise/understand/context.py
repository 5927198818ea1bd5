"""ConText-style scopes: which words a negation, hedge, other-person or hypothetical cue covers.

A cue's scope runs forward (or backward) from the cue to the end of its clause: a sentence mark,
a terminator ("but", "however"...), a conjunction followed by a new subject ("..., and my calf"),
or a maximum window, whichever comes first (Chapman 2001; Harkema 2009).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twitchwise.knowledge.schema import FunctionWords
from twitchwise.understand.lexicon import (
    CUE_CATEGORIES,
    EXPERIENCER,
    FINDING,
    HYPOTHETICAL,
    NEGATION,
    PSEUDO,
    TERMINATOR,
    Match,
)
from twitchwise.understand.text import SPACED_DASH, Token

FORWARD_WINDOW = 12
BACKWARD_WINDOW = 6
NORMAL_WINDOW = 5
#: How far a clause after a comma is read for whose it is.
_CLAUSE_REACH = 10


#: Families of findings for ``scopes``: what someone takes, does or has, and the body (other
#: findings, such as ages and durations, belong to neither).
CIRCUMSTANCE = "circumstance"
BODY = "body"


@dataclass(frozen=True, slots=True)
class Scope:
    category: str
    first: int
    last: int
    cue: Match

    @property
    def backward(self) -> bool:
        return self.last < self.cue.first


@dataclass(frozen=True, slots=True)
class ScopeWords:
    """The closed-class words the scopes look for, from the lexicon's ``function_words``
    (punctuation is added here: a comma joins a list and ends a clause)."""

    #: Words that join list items or clauses, and a comma.
    conjunctions: frozenset[str]
    #: The writer and their group, in a clause that would otherwise go on about someone else.
    writer: frozenset[str]
    #: Verbs by which someone tells what they saw ("my wife says", "my husband noticed").
    reporting: frozenset[str]
    list_ends: frozenset[str]
    list_glue: frozenset[str]
    #: Where a past cue's scope stops going back (and a comma).
    past_stops: frozenset[str]
    #: Before "without", words that make it a double negative.
    not_without: frozenset[str]
    #: Words that turn a denial into "not yet then" ("no twitching until I started the tablets").
    until: frozenset[str]
    #: A clause made of these before a resolution cue ("but that has gone", "which has
    #: stopped") refers back to the clause before it (a comma too) ...
    anaphora: frozenset[str]
    #: ... when one of them is a pointer.
    pointers: frozenset[str]
    #: Verbs of quitting: a stop cue made of one is about the circumstance said last.
    quitting: frozenset[str] = frozenset()
    #: After "or", words of an approximation ("a year or so"), not the end of a list.
    approximations: frozenset[str] = frozenset()

    @classmethod
    def of(cls, words: FunctionWords) -> ScopeWords:
        return cls(
            conjunctions=frozenset(words.conjunctions) | {","},
            writer=frozenset(words.writer_words),
            reporting=frozenset(words.reporting_verbs),
            list_ends=frozenset(words.list_ends),
            list_glue=frozenset(words.list_glue),
            past_stops=frozenset(words.past_stops) | {","},
            not_without=frozenset(words.without_negations),
            until=frozenset(words.until_words),
            anaphora=frozenset(words.anaphora) | {","},
            pointers=frozenset(words.pointers),
            quitting=frozenset(words.quitting_verbs),
            approximations=frozenset(words.approximations),
        )


def clause_breaks(
    tokens: list[Token], matches: list[Match], subjects: frozenset[str], words: ScopeWords
) -> set[int]:
    """Token indices that end a clause: sentence marks, terminators, conjunction + subject."""
    breaks = {i for i, t in enumerate(tokens) if t.is_boundary}
    for m in matches:
        if m.category == TERMINATOR:
            breaks.update(range(m.first, m.last + 1))
    for i in range(len(tokens) - 1):
        if tokens[i].norm in words.conjunctions and tokens[i + 1].norm in subjects:
            breaks.add(i)
    return breaks


def _list_commas(
    tokens: list[Token],
    breaks: set[int],
    matches: list[Match],
    words: ScopeWords,
    complaints: frozenset[str] = frozenset(),
    families: Mapping[str, str] | None = None,
) -> set[int]:
    """Commas inside a list: one ending in "or"/"nor" ("no pain, numbness or tingling"), or
    followed by a bare finding ("denies chest pain, palpitations, dizziness") that is not the
    complaint itself ("no weakness, calf twitching": the twitching is what the text is about)
    and is of the same family as the finding before the comma: a list does not run from a
    circumstance (``families`` says which findings are: what someone takes, does or has, like
    a drink or a medicine) to the body or back ("day 2 no booze, shaking and sweating": the
    shaking is there).

    Elsewhere a comma ends a cue's scope: in "no coffee today, eyelid twitching all day" the
    twitching is not denied.
    """
    in_finding = {
        i
        for m in matches
        if m.category == FINDING and m.value not in complaints
        for i in range(m.first, m.last + 1)
    }
    family: dict[int, bool] = {}  # token -> whether its finding is a circumstance
    for m in matches:
        if m.category == FINDING and families is not None and m.value in families:
            for i in range(m.first, m.last + 1):
                family[i] = family.get(i, False) or families[m.value] == CIRCUMSTANCE
    out: set[int] = set()
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok.norm != "," or i in breaks:
            continue
        end = i + 1
        while end < n and tokens[end].norm not in (",", ".", "!", "?", ";", ":") and end - i <= 5:
            end += 1
        item = range(i + 1, end)
        before = next((j for j in range(i - 1, max(-1, i - 4), -1) if j in family), None)
        if (
            0 < len(item) <= 4
            and all(j in in_finding or tokens[j].norm in words.list_glue for j in item)
            and not (
                before is not None and {family[j] for j in item if j in family} - {family[before]}
            )
        ):
            out.add(i)
    pending: list[int] = []
    for i, tok in enumerate(tokens):
        if i in breaks:
            pending.clear()
        elif tok.norm == ",":
            pending.append(i)
        elif tok.norm in words.list_ends:
            # "no pain, numbness or tingling"; not "for a year or so, ..." (an approximation)
            if not (i + 1 < n and tokens[i + 1].norm in words.approximations):
                out.update(pending)
            pending.clear()
    return out


def _after_the_body(
    first: int,
    cue: int,
    findings: SpanIndex,
    families: Mapping[str, str],
    quittable: frozenset[str],
) -> int:
    """Where the backward scope of a cue of quitting ("stopped") starts when the finding said
    last before it is something a person can stop (``quittable``: a drink, a medicine): after
    the last body finding before that, so the stopping is of it ("..., been drinking vodka,
    stopped on saturday"), not of the body ("abs twitched after CrossFit, stopped now")."""
    said = sorted(
        (m for m in findings.starting_in(first, cue - 1) if m.value in families and m.last < cue),
        key=lambda m: m.last,
    )
    if not said or said[-1].value not in quittable:
        return first
    body = [m.last for m in said if families[m.value] == BODY]
    return max(first, max(body) + 1) if body else first


def sentence_of(tokens: list[Token]) -> list[int]:
    """Sentence number of every token (split at . ! ? ;; a run of marks such as "..." or "?!"
    ends one sentence, not several)."""
    out = []
    number = 0
    for i, tok in enumerate(tokens):
        out.append(number)
        if tok.norm in _SENTENCE_ENDS and not (
            i + 1 < len(tokens) and tokens[i + 1].norm in _SENTENCE_ENDS
        ):
            number += 1
    return out


_SENTENCE_ENDS = frozenset({".", "!", "?", ";"})

#: Cue value of a change-of-state cue that counts only at the end of its clause.
AT_CLAUSE_END = "at_clause_end"
#: Cue value of a cue saying something is over ("years ago", "used to").
PAST = "past"
#: How far back before "without" a negation makes it a double negative.
_WITHOUT_REACH = 6


class SpanIndex:
    """Matches by first token, to find the ones containing a span in time bounded by the
    longest phrase, not by the number of matches (long texts stay linear)."""

    def __init__(self, matches: list[Match]) -> None:
        self._by_first: dict[int, list[Match]] = {}
        self._longest = 0
        for m in matches:
            self._by_first.setdefault(m.first, []).append(m)
            self._longest = max(self._longest, m.length)

    def containing(self, first: int, last: int, *, strictly: bool = True) -> list[Match]:
        """Matches that cover tokens [first, last] (and are longer, when ``strictly``)."""
        out = []
        for start in range(max(0, first - self._longest), first + 1):
            for m in self._by_first.get(start, ()):
                if m.last >= last and (not strictly or m.length > last - first + 1):
                    out.append(m)
        return out

    def starting_in(self, first: int, last: int) -> list[Match]:
        """Matches whose first token is in [first, last]."""
        return [m for i in range(first, last + 1) for m in self._by_first.get(i, ())]


class Coverage:
    """Which cue scopes cover a span, at the same cost per lookup however many scopes there are.

    Per category and direction, each token keeps the scope that contains it and reaches
    furthest; a span is covered when that scope reaches its last token (scopes are intervals,
    so this is exact).
    """

    def __init__(self, all_scopes: list[Scope], n: int) -> None:
        self._best: dict[tuple[str, bool], list[Scope | None]] = {}
        for sc in all_scopes:
            key = (sc.category, sc.backward)
            best = self._best.get(key)
            if best is None:
                best = self._best[key] = [None] * n
            for i in range(sc.first, sc.last + 1):
                current = best[i]
                if current is None or sc.last > current.last:
                    best[i] = sc

    def scope(self, first: int, last: int, category: str, *, backward: bool = True) -> Scope | None:
        """The scope of this category covering tokens [first, last], or None; backward scopes
        are considered only when ``backward``."""
        for key in ((category, False), (category, True)) if backward else ((category, False),):
            best = self._best.get(key)
            if best is None:
                continue
            found = best[first]
            if found is not None and found.last >= last:
                return found
        return None

    def covers(self, match: Match, *categories: str) -> bool:
        return any(self.scope(match.first, match.last, c) is not None for c in categories)


def _passes(category: str, other: str) -> bool:
    """Whether a scope of ``category`` runs on over a cue of category ``other`` (``PAST`` for
    a cue that puts something in the past): only over its own kind, a negation over an
    other-person cue ("no family history of ALS") or a past one, and someone else's story
    over a time in the past ("my nan had a stroke two years ago, her leg gave way")."""
    return (
        other == category
        or (category == NEGATION and other in (EXPERIENCER, PAST))
        or (category == EXPERIENCER and other == PAST)
    )


def _ends_clause(tokens: list[Token], cue: Match, breaks: set[int], filler: frozenset[str]) -> bool:
    """Nothing but filler follows the cue before its clause ends ("the twitch has gone away")."""
    i = cue.last + 1
    while i < len(tokens) and i not in breaks and tokens[i].norm != ",":
        if tokens[i].norm not in filler:
            return False
        i += 1
    return True


def scopes(
    tokens: list[Token],
    matches: list[Match],
    breaks: set[int],
    filler: frozenset[str] = frozenset(),
    third_person: frozenset[str] = frozenset(),
    writer: frozenset[str] = frozenset(),
    onsets: frozenset[str] = frozenset(),
    *,
    words: ScopeWords,
    complaints: frozenset[str] = frozenset(),
    families: Mapping[str, str] | None = None,
    quittable: frozenset[str] = frozenset(),
) -> list[Scope]:
    """The scope of every cue that is not part of a longer phrase (``complaints``: the
    findings a text is about, twitching, never an item of a list of denials).

    An other-person scope runs on over a clause break whose new subject is a third-person
    pronoun: in "my sister had her thyroid out and she got tingly lips" the lips are still
    the sister's. A break into "I", "my" or a noun ends it as before, and so does the writer
    as a subject without a break ("when I told my colleague I kept saying the wrong words").
    A past cue whose clause has one of ``onsets`` ("started", "began") says when something
    began, not that it is over ("my calf started twitching 2 years ago"): it covers nothing."""
    covering = SpanIndex([m for m in matches if m.category in (FINDING, PSEUDO)])
    findings = SpanIndex([m for m in matches if m.category == FINDING])

    def inside_longer(cue: Match) -> bool:
        return bool(covering.containing(cue.first, cue.last))

    cues = [m for m in matches if m.category in CUE_CATEGORIES and not inside_longer(m)]
    # Two cues that share words: the one that starts first governs the clause, so in "not
    # sure if it was a seizure" the doubt ("not sure if") holds, not the conditional ("if it
    # was") that starts inside it.
    cue_index = SpanIndex(cues)
    governed = {
        id(later)
        for earlier in cues
        for later in cue_index.starting_in(earlier.first + 1, earlier.last)
        if later.category != earlier.category and later.last > earlier.last
    }
    cue_at: dict[int, str] = {}
    for m in cues:
        if id(m) not in governed:
            for i in range(m.first, m.last + 1):
                cue_at.setdefault(i, PAST if m.value == PAST else m.category)

    out: list[Scope] = []
    n = len(tokens)
    in_phrase = frozenset(
        i for m in matches if m.category == FINDING for i in range(m.first, m.last + 1)
    )
    list_commas = _list_commas(tokens, breaks, matches, words, complaints, families)
    for cue in matches:
        if cue.category not in CUE_CATEGORIES:
            continue
        if inside_longer(cue):
            continue  # "not" inside "not sleeping", "no" inside "no reason"
        if id(cue) in governed:
            continue
        if cue.value == AT_CLAUSE_END and not _ends_clause(tokens, cue, breaks, filler):
            continue  # "my pee has gone dark": a change of state, not "gone away"
        if cue.category == NEGATION and (
            _cannot_without(tokens, cue, breaks, words)
            or _negates_a_without(tokens, cue, breaks, words)
        ):
            continue  # "I can't lie flat without feeling short of breath": it happens every time
        if (
            cue.category == NEGATION
            and cue.value == NEGATION
            and _until_later(tokens, cue, breaks, in_phrase, words)
        ):
            continue  # "I didn't notice the twitch till my wife pointed it out": it is there
        window_fwd = NORMAL_WINDOW if cue.category == "normal" else FORWARD_WINDOW
        window_bwd = NORMAL_WINDOW if cue.category == "normal" else BACKWARD_WINDOW
        if cue.category == EXPERIENCER and _reports_on_the_writer(tokens, cue, third_person, words):
            continue  # "my wife says the webbing by my thumb looks hollow": mine, she saw it
        # "come back if it spreads or your hand gets weak", "call 111 if he has a fit, goes
        # floppy or you can't wake him": the conditions of an "if" go on over "or", and over
        # "and" and commas that start no new clause ("..., my calf still twitches" does)
        conditional = cue.category == HYPOTHETICAL and tokens[cue.last].norm == "if"
        if cue.direction in ("forward", "both"):
            last = cue.last
            start = cue.last
            while last + 1 < n and last + 1 - start <= window_fwd:
                nxt = last + 1
                if conditional and (
                    tokens[nxt].norm in words.list_ends  # "... or I can't wake him"
                    or (tokens[nxt].norm in words.conjunctions and nxt not in breaks)
                ):
                    last = nxt
                    continue
                if cue.category == EXPERIENCER and _same_person_goes_on(
                    tokens, nxt, third_person, writer, words
                ):
                    last = start = nxt + 1  # over "and she": a new clause, the same person
                    continue
                if (
                    nxt in breaks
                    or (cue.category == EXPERIENCER and tokens[nxt].norm in writer)
                    or (tokens[nxt].norm == "," and nxt not in list_commas)
                    or not _passes(cue.category, cue_at.get(nxt, cue.category))
                ):
                    break
                last = nxt
            # a phrase that starts in the scope is covered whole ("no clumsy with my hands")
            last = max([last] + [m.last for m in findings.starting_in(cue.last + 1, last)])
            if last > cue.last:
                out.append(Scope(cue.category, cue.last + 1, last, cue))
        if cue.direction in ("backward", "both"):
            first = cue.first
            if cue.value == PAST:
                # "I had sciatica down my left leg a couple of years back": the whole clause is
                # over, back to a comma or a word that ties it to something still going on
                # ("twitching ever since I had my baby 2 years ago")
                window_bwd = FORWARD_WINDOW
            while (
                first - 1 >= 0
                and cue.first - (first - 1) <= window_bwd
                and first - 1 not in breaks
                and not (cue.value == PAST and tokens[first - 1].norm in words.past_stops)
            ):
                first -= 1
            if cue.value == PAST and any(tokens[j].norm in onsets for j in range(first, cue.first)):
                # "my calf started twitching 2 years ago", "the weakness began years ago":
                # when it began, not that it is over
                continue
            anaphoric = first > 0 and _only_anaphora(tokens, first, cue.first, words, filler)
            if cue.value == AT_CLAUSE_END and not anaphoric:
                # ", gone now", ", all sorted now": a clause with no subject of its own after a
                # comma is about the clause before ("chest pain last week, gone now"); so is
                # one whose cue ends in a pointer after a short subject that reads as nothing
                # ("..., physio fixed it", "..., the epipen sorted it")
                k = cue.first
                while k - 1 >= first and tokens[k - 1].norm != ",":
                    k -= 1
                between = range(k, cue.first)
                anaphoric = (
                    k - 1 >= first
                    and k - 1 > 0
                    and (
                        all(tokens[j].norm in words.anaphora | filler for j in between)
                        or (
                            tokens[cue.last].norm in words.pointers
                            and len(between) <= _SUBJECT_WORDS
                            and not findings.starting_in(k, cue.first - 1)
                        )
                    )
                )
                if anaphoric:
                    first = k
            if cue.value == AT_CLAUSE_END and anaphoric:
                # "a headache this morning but that's gone now": "that" is the clause before
                first -= 1
                while (
                    first - 1 >= 0
                    and cue.first - (first - 1) <= 2 * window_bwd
                    and first - 1 not in breaks
                ):
                    first -= 1
            if cue.value == AT_CLAUSE_END and any(
                c.value == PAST and first <= c.first < cue.first for c in cues
            ):
                continue  # "a reaction as a kid, long gone": the past cue already says so
            if (
                cue.value == AT_CLAUSE_END
                and families is not None
                and tokens[cue.first].norm in words.quitting
            ):
                # "twitching everywhere, been drinking vodka for a year, stopped on saturday":
                # what stopped is the circumstance said last, not the body before it
                first = _after_the_body(first, cue.first, findings, families, quittable)
            if first < cue.first:
                out.append(Scope(cue.category, first, cue.first - 1, cue))
    return out


def _reports_on_the_writer(
    tokens: list[Token], cue: Match, third_person: frozenset[str], words: ScopeWords
) -> bool:
    """Someone named, then a reporting verb, then a clause that speaks of the writer before it
    speaks of anyone else ("my husband noticed my eyelid twitching", "my wife says the webbing
    between my thumb and finger looks hollow"): what they report is the writer's."""
    k = cue.last + 1
    if k >= len(tokens) or tokens[k].norm not in words.reporting:
        return False
    for j in range(k + 1, min(len(tokens), k + 1 + _CLAUSE_REACH)):
        word = tokens[j].norm
        if word in _SENTENCE_ENDS:
            return False
        if word in words.writer:
            return True
        if word in third_person:
            return False
    return False


def _cannot_without(tokens: list[Token], cue: Match, breaks: set[int], words: ScopeWords) -> bool:
    """ "without" after "can't", "never" or "not" in its clause: a double negative that says
    the thing happens ("can't walk to the shops without stopping for breath")."""
    if tokens[cue.first].norm != "without" or cue.first != cue.last:
        return False
    for j in range(cue.first - 1, max(-1, cue.first - 1 - _WITHOUT_REACH), -1):
        if j in breaks or tokens[j].norm in _SENTENCE_ENDS:
            return False
        if tokens[j].norm in words.not_without:
            return True
    return False


def _negates_a_without(
    tokens: list[Token], cue: Match, breaks: set[int], words: ScopeWords
) -> bool:
    """ "never", "not" or "can't" whose clause goes on to "without": the same double negative
    from the other side ("I never go a day without twitching")."""
    if tokens[cue.last].norm not in words.not_without:
        return False
    for j in range(cue.last + 1, min(len(tokens), cue.last + 1 + _WITHOUT_REACH)):
        if j in breaks or tokens[j].norm in _SENTENCE_ENDS or tokens[j].norm == ",":
            return False
        if tokens[j].norm == "without":
            return True
    return False


def _until_later(
    tokens: list[Token],
    cue: Match,
    breaks: set[int],
    in_phrase: frozenset[int],
    words: ScopeWords,
) -> bool:
    """A denial whose clause goes on with "until" or "till" (not inside a phrase: "numb until
    the knee"): "not X until Y" says X came later, not that there is no X ("no twitching until
    I started the tablets")."""
    for j in range(cue.last + 1, min(len(tokens), cue.last + 1 + FORWARD_WINDOW)):
        if tokens[j].norm in words.until and j not in in_phrase:
            return True
        if tokens[j].norm in _SENTENCE_ENDS or tokens[j].norm == "," or j in breaks:
            return False
    return False


def _same_person_goes_on(
    tokens: list[Token],
    i: int,
    third_person: frozenset[str],
    writer: frozenset[str],
    words: ScopeWords,
) -> bool:
    """A conjunction, comma or spaced dash before a third-person subject ("..., and she",
    ", he", "my mum had a stroke - her arm went weak"), or before a clause told of "her" or
    "his" that never names the writer ("a colleague got GBS after a chest infection, weakness
    climbed up from her feet")."""
    if tokens[i].norm not in words.conjunctions and tokens[i].norm != SPACED_DASH:
        return False
    if i + 1 >= len(tokens):
        return False
    if tokens[i + 1].norm in third_person:
        return True
    told_of_them = False
    for j in range(i + 1, min(len(tokens), i + 1 + _CLAUSE_REACH)):
        word = tokens[j].norm
        if word == "," or tokens[j].is_boundary:
            break
        if word in writer or word in words.writer:
            return False
        told_of_them = told_of_them or word in third_person
    return told_of_them


#: Words a subject may take before a cue that ends in a pointer ("the epipen sorted it").
_SUBJECT_WORDS = 3


def _only_anaphora(
    tokens: list[Token], first: int, end: int, words: ScopeWords, filler: frozenset[str]
) -> bool:
    """Only words that point back (and glue, and filler such as "long") lie between ``first``
    and ``end``, one of them a pointer ("but that", "that's long gone")."""
    said = {t.norm for t in tokens[first:end]}
    return bool(said & words.pointers) and said <= words.anaphora | filler
