"""Lay text -> :class:`~twitchwise.evidence.Evidence`.

Pipeline: tokenise -> match every lexicon phrase at once -> ConText scopes (negation, hedging,
other people, hypotheticals) -> quantities (caffeine, sleep, durations anchored to what they
describe, age, temperatures) -> findings composed from co-occurring findings -> findings implied
by others -> one observation per finding. ``parse`` never raises on a string.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

from twitchwise.evidence import DENIAL_DOUBTS, VAGUE_DOUBT, Evidence, Observation, merge
from twitchwise.knowledge.facts import caffeine_level, caffeine_limit, rule_matches
from twitchwise.knowledge.load import KnowledgeBase, cache_get, cache_put
from twitchwise.knowledge.schema import compositions
from twitchwise.understand.backstop import DATA as BACKSTOP_DATA
from twitchwise.understand.backstop import Backstop, Reading
from twitchwise.understand.context import (
    BODY,
    CIRCUMSTANCE,
    PAST,
    Coverage,
    Scope,
    ScopeWords,
    SpanIndex,
    clause_breaks,
    scopes,
    sentence_of,
)
from twitchwise.understand.lexicon import (
    ABSENT,
    DRINK,
    EXPERIENCER,
    FINDING,
    FUNCTION,
    GUARD,
    HYPOTHETICAL,
    INDEFINITE,
    NEGATION,
    NORMAL,
    RETRACTION,
    UNCERTAIN,
    Lexicon,
    Match,
)
from twitchwise.understand.quantities import Amount, Quantities, QuantityReader
from twitchwise.understand.text import Token, stem

_KEEP_WHEN_CONTAINED = frozenset({"region", "side", "medicine"})
_SYMPTOM_SITES = frozenset({"twitching", "jerking"})
#: The complaint itself: a sentence that says it twitches keeps what it says of the twitching.
_TWITCHING = "twitching"
_SITE_WORDS = frozenset(
    {"twitching", "jerking", "cramps", "tremor", "tongue_twitching", "carpopedal_spasm"}
)
_SYMPTOM_KINDS = frozenset({"symptom", "twitch", "pattern", "medicine", "side"})
#: How many words before a context finding a "like" or "as if" makes it a comparison.
_SIMILE_REACH = 5
#: What a one-word side needs in its clause to name a side of the body.
_SIDE_PARTNERS = frozenset({"region", "symptom", "twitch", "pattern"})
_MAX_TEXT = 20_000
#: The anchor of a time said of something denied or over: no finding's duration.
_OVER = "-over-"
#: A backward cue ("..., no problems") describes how something went, so it never denies an
#: exposure: "on atorvastatin for years, no problems" still takes atorvastatin.
_NOT_DENIED_BACKWARD = frozenset({"medicine", "context", "condition", "demographic"})
#: Kinds whose findings can be red flags read with doubt (see :meth:`Parser._doubt`).
_FLAG_KINDS = frozenset({"symptom", "pattern", "condition", "twitch", "context", "medicine"})
#: Content words allowed between a negation and a red flag for the denial to be certain.
CERTAIN_GAP = 2
#: The most words a writer's own question may have to be answered no ("Chest pain? No.").
_OWN_QUESTION_WORDS = 6
#: How far (tokens) a plain negation right before a red flag may be for a certain denial.
_NEAR_DENIAL = 3
#: How many sentences after a denial a retraction ("actually...") still takes it back.
RETRACTION_REACH = 1
#: Tokens apart that a region and a twitch word may be for the twitch to be there.
SITE_REACH = 7
#: Words in the sentence after a long-ago episode that may still say it ended ("Been fine
#: since.").
_ENDED_AFTER_WORDS = 6
#: Tokens after an asking verb in which what was asked starts ("wanted to know if").
_ASK_REACH = 4
#: Tokens after a reported question ("GP asked if ...") in which its answer may come.
_ANSWER_REACH = 30
#: Kinds of finding an answer of "no" denies (not the complaint, where it is, when, or an
#: operation or illness the question was about: "asked about spasms after the op").
_ANSWERABLE = frozenset({"symptom"})
#: Words between a function and what says it is not right ("my breathing is a bit off").
_ODD_REACH = 5
#: Tokens apart that still count as "near" for composed findings ("hands ... cramping").
NEAR_TOKENS = 6
#: ... and how far apart they may be when nothing ends the clause between them ("wee this
#: morning was the colour of flat coke").
NEAR_IN_CLAUSE = 12
#: Rounds of composition: a composed finding may be a part of another, this many deep.
_COMPOSE_ROUNDS = 3


def load_parser(kb: KnowledgeBase) -> Parser:
    """The compiled parser for this knowledge base, from the local cache when it is fresh."""
    key = f"{kb.digest}-{_code_stamp()}"
    cached = cache_get("parser", key)
    if isinstance(cached, Parser):
        cached.kb = kb
        return cached
    parser = Parser(kb)
    cache_put("parser", key, parser)
    return parser


def _code_stamp() -> str:
    """Size and modification time of this package's modules and of the backstop model's
    weights: a cached parser pickled by other code or other weights (an upgrade, a developer's
    edit, a retrain) is rebuilt rather than loaded with stale fields. (Hashing the 1 MB of
    weights on every start cost a few milliseconds of each ``twitchwise ask``.)"""
    h = hashlib.sha256()
    paths = sorted(Path(__file__).parent.glob("*.py"))
    if BACKSTOP_DATA.exists():
        paths.append(BACKSTOP_DATA)
    for path in paths:
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:12]


class Parser:
    """Compiled once per knowledge base; ``parse`` is then cheap."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.lexicon = Lexicon(kb)
        lex = kb.lexicon
        self.subjects = frozenset(lex.subjects)
        self.stopwords = frozenset(lex.stopwords)
        self.anchor_kinds = frozenset(lex.symptom_anchor_kinds)
        self.pronouns = frozenset(lex.pronouns)
        self.first_person = frozenset(lex.first_person)
        self.writer_as_subject = self.first_person - frozenset(lex.first_person_object)
        self.history_verbs = frozenset(lex.history_verbs)
        self.lost_functions = frozenset(lex.lost_function_terms)
        self.not_body = tuple(tuple(w.split()) for w in lex.not_body_subjects)
        #: findings a thing can be said to have ("the pound is getting weaker", "my phone went
        #: dead"): weakness and numbness, and every finding that implies one of them
        self.weakness_family = frozenset(
            f
            for f in kb.findings
            if f in ("weakness", "numbness") or {"weakness", "numbness"} & kb.closure[f]
        )
        self.function_problems = frozenset(lex.function_problems)
        self.recent_times = _phrase_index(lex.recent_times)
        self.long_ago = _phrase_index(lex.long_ago)
        self.past_age_leads = frozenset(tuple(p.split()) for p in lex.past_age_leads)
        #: number words that can be an age ("when I was twelve"): not "a", "an", "one"
        self.number_words = frozenset(w for w, v in lex.number_words.items() if v >= 2)
        self.episode_over = _phrase_index(lex.episode_over)
        self.sex_words = {w: "female" for w in lex.female_words} | {
            w: "male" for w in lex.male_words
        }
        self.third_person = frozenset(lex.third_person)
        #: Words that start a clause about someone already named: "and she", ", he".
        self.subject_pronouns = frozenset(lex.pronouns) & self.third_person
        # "and she", and "and her hands": the same person's story goes on
        self.continuing = self.subject_pronouns | frozenset(lex.third_person_possessives)
        self.non_relatives = frozenset(lex.non_relatives)
        self.relatives = frozenset(lex.relative_words) - self.non_relatives
        #: words that point at a person without naming one ("he", "her", "our")
        self.pronoun_words = frozenset(
            {*lex.pronouns, *self.third_person, *self.first_person, "our", "their", "they"}
        )
        #: words that name a person ("sister", "boy", "friend"), not pronouns
        self.person_nouns = (
            self.relatives | self.sex_words.keys() | self.non_relatives
        ) - self.pronoun_words
        fw = lex.function_words
        self.scope_words = ScopeWords.of(fw)
        self.not_onset_alone = frozenset(fw.onset_not_alone)
        self.perceiving = frozenset(fw.perceiving_verbs) | frozenset(fw.reporting_verbs)
        self.spread_words = frozenset(fw.spread_words)
        self.direction_words = frozenset(fw.direction_words)
        self.direction_particles = frozenset(fw.direction_particles)
        self.direction_determiners = frozenset(fw.direction_determiners)
        self.direction_verbs = frozenset(fw.direction_verbs)
        self.families = {
            f: CIRCUMSTANCE if spec.kind in _CIRCUMSTANCE_KINDS else BODY
            for f, spec in kb.findings.items()
            if spec.kind in _CIRCUMSTANCE_KINDS or spec.kind in _BODY_KINDS
        }
        self.quittable = frozenset(
            f for f, spec in kb.findings.items() if spec.quittable or spec.kind == "medicine"
        )
        self.conditionals = _phrase_index(fw.conditionals)
        self.care_instructions = _phrase_index(fw.care_instructions)
        self.care_questions = frozenset(tuple(p.split()) for p in fw.care_questions)
        self.age_before_old = frozenset(fw.age_units_before_old)
        self.comparing = frozenset(fw.comparing)
        self.simile_stops = frozenset(fw.simile_stops) | _SENTENCE_END | {","}
        # an ending word in a comparison: "uneven, like it stops and then starts again"
        self.simile_stops_in_a_clause = self.simile_stops - {"and"}
        self.comparing_or_comma = self.comparing | {","}
        self.loss_glue = frozenset(fw.lost_function_glue)
        self.loss_after = frozenset(fw.lost_function_after)
        self.side_lead = frozenset(fw.side_lead)
        self.side_nouns = frozenset(fw.side_nouns)
        #: words that say nothing on their own, in a retraction's clause
        self.say_nothing = frozenset(fw.filler)
        self.wh_words = frozenset(fw.wh_words)
        #: words that may sit between a cue and the finding it denies without doubt
        self.gap_glue = frozenset(fw.denial_gap) | {","}
        self.past_markers = frozenset(fw.past_markers)
        self.clause_goes_on = frozenset(fw.clause_goes_on)
        self.person_adjectives = frozenset(fw.person_adjectives)
        self.onset_words = frozenset(lex.onset_words)
        self.circumstance_words = frozenset(fw.circumstance_words)
        self.function_odd = frozenset(fw.function_odd)
        self.function_odd_after_not = frozenset(fw.function_odd_after_not)
        self.function_odd_glue = frozenset(fw.function_odd_glue)
        self.function_odd_before = frozenset(fw.function_odd_before)
        self.asking_verbs = frozenset(fw.asking_verbs) - {""}
        self.asking_links = frozenset(fw.asking_links)
        self.answers_no = frozenset(fw.answers_no)
        self.answer_lead = frozenset(fw.answer_lead)
        self.answer_aux = frozenset(fw.answer_aux)
        self.answer_tail = frozenset(fw.answer_tail) | self.answers_no | self.pronouns
        self.answer_subjects = frozenset(fw.answer_subjects) | self.pronouns
        #: between "problems with" and the function: "with my", "in the"
        self.odd_before_glue = self.side_lead | frozenset(fw.function_odd_glue) | {"with"}
        self.clause_openers = frozenset(fw.clause_openers) | frozenset(fw.conjunctions)
        self.complaints = frozenset(f.id for f in kb.findings.values() if f.kind == "twitch")
        # A red flag that stopped a month or more ago ("breathless with covid last year, all
        # cleared up"; "last winter", "in march", "at christmas") is over; one that stopped
        # lately is still asked about (a stroke sign that passed is a TIA).
        self.long_ago_units = (
            frozenset(fw.long_ago_units)
            | frozenset(lex.months)
            | frozenset(w for day in lex.calendar_days for w in day.split() if w != "year")
        )
        self.reader = QuantityReader(lex, {d.id: d.mg for d in kb.plan.caffeine_drinks})
        self.composed = [(f, c) for f in kb.findings.values() for c in compositions(f)]
        #: each composition's groups as sets, to pass over one whose parts are not all there
        self.composed_needs = [
            tuple(frozenset(group) for group in c.all_of) for _, c in self.composed
        ]
        self.filler = frozenset(w for phrase in lex.clause_end_filler for w in phrase.split())
        self.red_flags = kb.red_flag_findings
        # the warning signs a rule weighs with a sudden start ("slurred speech that started
        # today"): only their start today is read as sudden
        self.sudden_partners = frozenset(
            f
            for rule in kb.red_flags
            if any(NEW_TODAY in g for g in rule.groups())
            for g in rule.groups()
            if NEW_TODAY not in g
            for f in g
        )
        self.backstop = Backstop.load(kb.closure)
        self.glue = self.say_nothing | self.gap_glue | self.subjects | self.filler
        self.cue_ids = frozenset(f.id for f in kb.findings.values() if f.kind == "cue")
        self.medicine_ids = frozenset(f.id for f in kb.findings.values() if f.kind == "medicine")

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["kb"]  # cached apart; reattached by load_parser
        return state

    def kind(self, finding: str) -> str:
        return self.kb.findings[finding].kind

    # ------------------------------------------------------------------ main entry

    def parse(self, text: str, *, today: date | None = None) -> Evidence:
        text = text[:_MAX_TEXT]
        today = today or date.today()
        tokens = self.lexicon.tokenize(text)
        if not tokens:
            return Evidence()
        matches, corrections = self.lexicon.match(tokens)
        matches = _without_medicine_tails(
            _without_drink_heads(_without_guarded(matches)), self.medicine_ids, self.red_flags
        ) + _past_years(tokens, today)
        medicine_at = {
            m.first for m in matches if m.category == FINDING and self.kind(m.value) == "medicine"
        }
        matches = [
            m
            for m in matches
            if not self._person_not_a_subject(m, tokens, medicine_at)
            and not self._an_ending_in_a_simile(m, tokens)
        ]
        breaks = clause_breaks(tokens, matches, self.subjects, self.scope_words)
        coverage = Coverage(
            scopes(
                tokens,
                matches,
                breaks,
                self.filler,
                third_person=self.continuing,
                writer=self.pronouns & self.writer_as_subject,
                onsets=self.onset_words - self.not_onset_alone,
                words=self.scope_words,
                complaints=self.complaints,
                families=self.families,
                quittable=self.quittable,
            )
            + self._safety_nets(tokens, matches),
            len(tokens),
        )
        covered = coverage.covers
        sentences = sentence_of(tokens)

        other_is_patient = self._other_is_patient(tokens, matches, coverage, breaks)
        blocking = (
            (NEGATION, HYPOTHETICAL) if other_is_patient else (NEGATION, EXPERIENCER, HYPOTHETICAL)
        )

        def blocked(index: int) -> bool:
            probe = Match("", "", "", index, index)
            return covered(probe, *blocking)

        mentions = self._mentions(
            text, tokens, matches, coverage, set(corrections), other_is_patient=other_is_patient
        )
        mentions = self._retracted(mentions, matches, tokens, sentences)
        mentions = self._answered_no(mentions, tokens)
        mentions = self._bare_sides(mentions, tokens, breaks)
        mentions = self._episodes_over(mentions, tokens, sentences, today)
        drinks = [m for m in matches if m.category == DRINK]
        drinks = [  # "cups of coffee" contains "coffee": the longest term wins
            m
            for m in drinks
            if not any(
                o.first <= m.first and m.last <= o.last and o.length > m.length for o in drinks
            )
        ]
        quantities = self.reader.read(
            tokens,
            [(m.value, m.first, m.last) for m in drinks],
            blocked,
            today,
        )
        observations = [obs for obs, _ in mentions]
        from_quantities, anchored = self._from_quantities(
            text, tokens, quantities, mentions, sentences, breaks, other_is_patient
        )
        observations += from_quantities
        observations += self._composed(
            mentions + [(o, None) for o in observations if o.derived], tokens, breaks, text
        )
        observations = self._too_slow(observations, anchored, sentences, tokens)
        observations += self._sudden(anchored, observations, tokens, sentences, text)
        observations += self._sites(mentions, self._site_clauses(tokens, matches))
        observations += self._sides(observations)
        observations = self._now_normal(observations, mentions, sentences)
        observations = self._absorbed(observations, mentions, sentences)
        observations = self._spread_of_another(observations, mentions, matches, tokens, breaks)
        merged = merge(self._where_it_twitches(observations, mentions, tokens, matches))
        merged = tuple(o for o in self._imply(merged) if self.kind(o.id) != "cue")
        evidence = Evidence(
            observations=merged,
            quantities=self._quantity_values(quantities, merged, other_is_patient),
            not_understood=self._not_understood(
                text, tokens, matches, quantities, breaks, _composed_spans(observations, self.kind)
            ),
            medicines=tuple(
                dict.fromkeys(
                    o.text for o, _ in mentions if self.kind(o.id) == "medicine" and not o.negated
                )
            ),
        )
        # red flags no phrase read, raised as possible by the trained backstop (never removed)
        reading = Reading(
            text,
            tokens,
            matches,
            breaks,
            coverage,
            self.stopwords,
            other_is_patient,
            self.glue,
            self.cue_ids,
        )
        return self.backstop.apply(evidence, reading)

    # ------------------------------------------------------------------ steps

    def _mentions(
        self,
        text: str,
        tokens: list[Token],
        matches: list[Match],
        coverage: Coverage,
        corrected: set[int],
        *,
        other_is_patient: bool = False,
    ) -> list[tuple[Observation, Match]]:
        covered = coverage.covers
        candidates = [
            m
            for m in matches
            if m.category in (FINDING, ABSENT, FUNCTION)
            # "can't lift his arms": both arms, not one side (the weakness in it still counts)
            and not (
                self.kb.findings[m.value].one_side_only
                and self._of_plural_parts(m, tokens, matches)
            )
        ]
        index = SpanIndex(candidates)
        kept = []
        for m in candidates:
            kind = self.kind(m.value)
            containers = [
                o
                for o in index.containing(m.first, m.last)
                if self.kb.findings[o.value].about == self.kb.findings[m.value].about
                # a function word stays inside a part's phrase ("heart" in "heart is beating")
                and not (m.category == FUNCTION and self.kind(o.value) == "cue")
            ]
            # "calf" stays in "calf cramps"; "back" goes in "back of my thigh" and "back to normal";
            # "eye twitches" is a region phrase that still says it twitches; a side stays in a
            # part of a composed finding ("left" in "down my left leg")
            # some parts count inside another finding's phrase: "can no longer lift my arms" is
            # a weakness and says it is worse than before
            if self.kb.findings[m.value].counts_inside:
                containers = []
            if containers and not (
                (
                    kind in _KEEP_WHEN_CONTAINED
                    and all(
                        self.kind(o.value) in _SYMPTOM_KINDS
                        or (kind == "side" and self.kind(o.value) == "cue")
                        for o in containers
                    )
                )
                or (kind == "twitch" and all(self.kind(o.value) == "region" for o in containers))
            ):
                continue
            kept.append(m)
        content = [
            not t.is_punct and t.norm not in self.stopwords and t.norm not in self.gap_glue
            for t in tokens
        ]
        for m in kept:
            for i in range(m.first, m.last + 1):
                content[i] = False
        out = []
        for m in kept:
            about = self.kb.findings[m.value].about
            about_other = about != "self"
            someone_else = covered(m, EXPERIENCER)
            if covered(m, HYPOTHETICAL) or (
                someone_else != about_other and not (other_is_patient and not about_other)
            ):
                continue
            if other_is_patient and someone_else and self._of_a_third_person(m, coverage, tokens):
                continue  # "my sister's little boy had convulsions": not the one asked about
            if about == "relative" and (
                self._said_of_a_non_relative(m, tokens) or self._said_of_a_stranger(m, coverage)
            ):
                continue
            kind = self.kind(m.value)
            if kind == "region" and self._a_direction(m, tokens):
                continue  # "built back up", "came back on": a direction, not the back
            if m.value in self.weakness_family and self._said_of_a_thing(m, tokens, matches):
                continue  # "the pound is getting weaker": not a body
            figure = self.kb.findings[m.value].said_of_a_body_part
            if figure is not None and self._said_of_a_body_part(m, tokens, matches):
                # "my calf had a full on seizure": a figure of speech for a jerking muscle
                m = Match(m.category, figure, m.direction, m.first, m.last)
                kind = self.kind(figure)
            if kind == "context" and _after_a_simile(m, tokens, self.simile_stops, self.comparing):
                continue  # "my thighs ache like I've been to the gym": a comparison, no gym
            scope = coverage.scope(
                m.first, m.last, NEGATION, backward=kind not in _NOT_DENIED_BACKWARD
            )
            negated = m.category == ABSENT or scope is not None
            if not negated and kind in ("condition", "symptom") and self._called_old(m, tokens):
                negated = True  # "old Bell's palsy relevant?", "an old back injury": long over
            if kind == "side" and not negated:
                # "the right leg is fine", "left side ok": not the side it is on
                negated = self._side_said_normal(m, tokens, matches)
            if m.category == FUNCTION:
                if scope is not None and self._function_lost(m, scope, tokens):
                    negated, scope = False, None  # "no strength in my legs": weakness
                else:
                    normal = coverage.scope(m.first, m.last, NORMAL)
                    negated = negated or normal is not None
                    scope = scope or normal
                    if not negated and not self._function_odd(m, tokens, coverage):
                        continue
            uncertain = covered(m, UNCERTAIN) and not negated
            doubt = "hedged" if uncertain else ""
            if m.category == FUNCTION and not negated:
                # "my swallowing feels a bit off": said to be wrong, in vague words
                uncertain = True
                doubt = VAGUE_DOUBT if m.value in self.red_flags else "hedged"
            if m.value in self.red_flags:
                if negated and scope is not None and m.category != ABSENT:
                    near = self._nearer_denial(m, matches, content)
                    doubt = "" if near else self._doubt(m, scope, content, tokens)
                    if doubt == "long-range denial" and m.category == FUNCTION:
                        # a function said normal far from its word ("wee ... back to normal"):
                        # it names no red flag, so nothing to ask and nothing denied
                        continue
                    if doubt:
                        negated, uncertain = False, True
                if not negated and any(i in corrected for i in range(m.first, m.last + 1)):
                    uncertain, doubt = True, "spelling"
            start, end = tokens[m.first].start, tokens[m.last].end
            out.append(
                (
                    Observation(
                        m.value, negated, uncertain, text[start:end], start, end, doubt=doubt
                    ),
                    m,
                )
            )
        return out

    def _absorbed(
        self,
        observations: list[Observation],
        mentions: list[tuple[Observation, Match]],
        sentences: list[int],
    ) -> list[Observation]:
        """Drop findings said in a sentence with a finding that absorbs them (``absorbs``):
        "my whole body jerks as I drift off" is a sleep start, not twitching all over. Not in a
        sentence that says it twitches ("twitching all over, worse as I drift off")."""
        twitching = {
            sentences[m.first] for o, m in mentions if o.id == _TWITCHING and not o.negated
        }
        absorbed: set[tuple[str, int]] = set()
        for o, m in mentions:
            if not o.negated and sentences[m.first] not in twitching:
                for part in self.kb.findings[o.id].absorbs:
                    absorbed.add((part, sentences[m.first]))
        if not absorbed:
            return observations
        sentence_of_start = {o.start: sentences[m.first] for o, m in mentions}
        return [
            o
            for o in observations
            if (o.id, sentence_of_start.get(o.start, -1)) not in absorbed or o.negated
        ]

    def _spread_of_another(
        self,
        observations: list[Observation],
        mentions: list[tuple[Observation, Match]],
        matches: list[Match],
        tokens: list[Token],
        breaks: set[int],
    ) -> list[Observation]:
        """A bare "everywhere" or "all over" (lexicon ``spread_words``) is twitching all over
        only in a sentence about the body (a twitch, a body part or a symptom in it or the
        sentence before), not when the nearest finding before it in its clause is another
        symptom, which it describes ("itchy all over", "aching all over and my arms twitch"),
        and not right after some other word with no body word near ("deadlines everywhere");
        "twitching in my arms, legs, everywhere" stays."""
        bare = [
            (o, m)
            for o, m in mentions
            if self.kind(o.id) == "pattern"
            and not o.negated
            and o.text.lower() in self.spread_words
        ]
        if not bare:
            return observations
        clauses = _clause_numbers(len(tokens), breaks)
        sentences = sentence_of(tokens)
        body = [
            f
            for f in matches
            if f.category == FINDING and self.kind(f.value) in ("twitch", "region", "symptom")
        ]
        dropped: set[int] = set()
        for o, m in bare:
            others = [f for f in body if not (f.first >= m.first and f.last <= m.last)]
            # about the body: said in its sentence or the one before ("Basically everywhere.")
            here = sentences[m.first]
            if not any(sentences[f.first] in (here, here - 1) for f in others):
                dropped.add(id(o))
                continue
            lead = tokens[m.first - 1] if m.first > 0 else None
            if (
                lead is not None
                and lead.norm.isalpha()
                and lead.norm not in self.stopwords
                and lead.norm not in self.glue
                and not any(0 < m.first - f.last <= 3 or 0 < f.first - m.last <= 3 for f in others)
            ):
                dropped.add(id(o))  # "deadlines everywhere": the word before is what spreads
                continue
            in_clause = [f for f in others if clauses[f.first] == clauses[m.first]]
            nearest = max(
                (f for f in in_clause if f.last < m.first), key=lambda f: f.last, default=None
            )
            twitch_next = any(
                self.kind(f.value) == "twitch" and 0 < f.first - m.last <= 2 for f in in_clause
            )
            if nearest is not None and self.kind(nearest.value) == "symptom" and not twitch_next:
                dropped.add(id(o))  # "itchy all over": the itch's spread
        return [o for o in observations if id(o) not in dropped]

    def _now_normal(
        self,
        observations: list[Observation],
        mentions: list[tuple[Observation, Match]],
        sentences: list[int],
    ) -> list[Observation]:
        """A finding said earlier and later said to be normal now ("a cough with wheezing...
        my breathing is much better now") is over: the later statement about a function wins
        over the earlier mention (elsewhere an affirmed and denied finding counts as present)."""
        normal_at: dict[str, int] = {}
        for o, m in mentions:
            if o.negated and m.category == FUNCTION:
                normal_at[o.id] = max(normal_at.get(o.id, -1), sentences[m.first])
        if not normal_at:
            return observations
        sentence_of_start = {o.start: sentences[m.first] for o, m in mentions}
        out = []
        for o in observations:
            when = sentence_of_start.get(o.start)
            if not o.negated and o.id in normal_at and when is not None and when < normal_at[o.id]:
                continue
            out.append(o)
        return out

    def _other_is_patient(
        self, tokens: list[Token], matches: list[Match], coverage: Coverage, breaks: set[int]
    ) -> bool:
        """Whether the text is about someone else ("my mum has twitching in her arm and is
        drooling"; "Mum had her thyroid op... She's twitchy in the face"): every twitch it
        mentions is in an other-person scope, or someone else is named and every sentence with
        a twitch speaks of "she" or "he" and never of "I" or "my". Then that person is the one
        the answer is for, and their findings count.

        A text that mentions no twitch, or whose twitches are in sentences that name nobody, is
        judged the same way by all its findings, but only
        when it names a relative plainly ("Dad says his legs feel like lead", "Mum is 84 and
        coughs on every cup of tea") and reads nothing as family history: "my dad had ALS with
        weakness in his arms" and "my friend has cramps" are not the person the answer is
        for."""
        findings = [m for m in matches if m.category == FINDING]
        twitches = [m for m in findings if self.kind(m.value) == "twitch"]
        if twitches:
            verdict = self._whose(twitches, tokens, matches, coverage, breaks)
            if verdict is not None:
                return verdict
        # no twitch, or none says whose it is: judged by every finding, but only when a
        # relative is named plainly and nothing is read as their past illness
        cues = [m for m in matches if m.category == EXPERIENCER]
        if not cues or not all(self._names_a_person(m, tokens) for m in cues):
            return False
        if any(self.kb.findings[m.value].about != "self" for m in findings):
            return False  # "my dad had ALS": a relative's illness, read as family history
        return self._whose(findings, tokens, matches, coverage, breaks) is True

    def _whose(
        self,
        spans: list[Match],
        tokens: list[Token],
        matches: list[Match],
        coverage: Coverage,
        breaks: set[int],
    ) -> bool | None:
        """Whether ``spans`` are someone else's: True when each is in an other-person scope or
        in a clause (else a sentence) that speaks of "she" or "he", False when one is in a
        clause (else a sentence) of the writer's ("I", "my"), None when no sentence of theirs
        names anyone ("It started with twitching in that arm", "They twitch constantly"). The
        clause comes first: "the muscles in his arms are twitching, and when I felt his pulse
        ..." is his twitching."""
        if not spans:
            return None
        if all(coverage.covers(m, EXPERIENCER) for m in spans):
            return True
        if not any(m.category == EXPERIENCER for m in matches):
            return False
        sentences = sentence_of(tokens)
        clauses = _clause_numbers(len(tokens), breaks)
        in_sentence: dict[int, set[str]] = {}
        in_clause: dict[int, set[str]] = {}
        for i, t in enumerate(tokens):
            nxt = tokens[i + 1].norm if i + 1 < len(tokens) else ""
            if t.norm in self.first_person and (nxt in self.sex_words or nxt in self.person_nouns):
                continue  # "my mum", "my mate": the writer naming someone else, not the writer
            if t.norm in self.writer_as_subject and self._an_onlooker(i, tokens):
                continue  # "when I felt his pulse": the writer perceiving someone else
            in_sentence.setdefault(sentences[i], set()).add(t.norm)
            in_clause.setdefault(clauses[i], set()).add(t.norm)
        voted = False
        for m in spans:
            if coverage.covers(m, EXPERIENCER):
                voted = True
                continue
            words = in_clause.get(clauses[m.first], set())
            if not words & (self.writer_as_subject | self.third_person):
                words = in_sentence[sentences[m.first]]
            if words & self.writer_as_subject:
                return False
            voted = voted or bool(words & self.third_person)
        return True if voted else None

    def _safety_nets(self, tokens: list[Token], matches: list[Match]) -> list[Scope]:
        """Conditions said before advice to get help ("GP said if he gets confused or starts
        being sick, go to A&E"; "if it spreads, ring 111"): hypothetical from the condition's
        first word to the advice. The advice must follow in the same sentence, within
        ``_SAFETY_NET_REACH`` tokens; a plain condition ("if I walk far my legs go numb") stays
        what happens, and so does "if" after doubt ("not sure if", "wonder if": whether)."""
        out: list[Scope] = []
        whether = {m.last + 1 for m in matches if m.category == UNCERTAIN} | {
            i for m in matches if m.category == UNCERTAIN for i in range(m.first, m.last + 1)
        }
        sentences = sentence_of(tokens)
        words = [t.norm for t in tokens]
        n = len(tokens)
        for i in range(n):
            lead = _phrase_at(words, i, self.conditionals)
            if lead is None or i in whether:
                continue
            start = i + len(lead)
            for j in range(start + 1, min(n, start + _SAFETY_NET_REACH)):
                if sentences[j] != sentences[i]:
                    break
                if _phrase_at(words, j, self.care_instructions) is not None:
                    leads = range(max(0, j - 4), j)
                    if any(tuple(words[k:j]) in self.care_questions for k in leads):
                        break  # "..., should I see a doctor": asking, so the condition is real
                    cue = Match(HYPOTHETICAL, "if", "forward", i, start - 1)
                    out.append(Scope(HYPOTHETICAL, start, j - 1, cue))
                    break
        return out

    def _an_onlooker(self, i: int, tokens: list[Token]) -> bool:
        """The writer at ``i`` perceives someone else: a perceiving verb next ("I felt his
        pulse", "I just noticed her hand shaking"), then "his", "her" or "him"; or asks what
        to do ("her face looks funny what do I do", "should I call 911"; lexicon
        ``care_questions``)."""
        words = [t.norm for t in tokens[max(0, i - 3) : i + 1]]
        if any(tuple(words[k:]) in self.care_questions for k in range(len(words) - 1)):
            return True
        for j in range(i + 1, min(len(tokens), i + 3)):
            if tokens[j].norm in self.perceiving:
                nxt = tokens[j + 1].norm if j + 1 < len(tokens) else ""
                return nxt in self.third_person
        return False

    def _names_a_person(self, cue: Match, tokens: list[Token]) -> bool:
        """An other-person cue made only of a person's name ("Mum", "my dad", "my mate"), not
        telling of their past illness ("my dad had chest pain last year"). A friend is not
        family (their illness is no family history), but a text all about them is about them:
        "my mate has stopped sweating and he's talking nonsense" asks for the mate."""
        words = {t.norm for t in tokens[cue.first : cue.last + 1]}
        after = tokens[cue.last + 1].norm if cue.last + 1 < len(tokens) else ""
        return (
            words <= self.first_person | self.relatives | self.non_relatives
            and not words <= self.first_person
            and (
                after not in self.history_verbs
                or self._said_just_now(cue, tokens)
                or not self._said_long_ago(cue, tokens)
            )
        )

    def _person_not_a_subject(self, m: Match, tokens: list[Token], medicine_at: set[int]) -> bool:
        """ "my son", "my mate" as a cue of someone else only where a clause starts ("My son's
        asthma was bad", "..., and my mate had"), not as an object ("took some of my mate's
        tablets", "laughing at my mate's calf", "doing up my kid's car seat"), and never right
        before a medicine (``medicine_at``: where one starts), whose owner it names ("took my
        nan's tramadol")."""
        if m.category != EXPERIENCER:
            return False
        if m.last + 1 in medicine_at:
            return True  # "took my nan's tramadol", "her tablets": whose medicine, not who
        if tokens[m.first].norm not in self.first_person and m.value != INDEFINITE:
            return False
        if m.first == 0:
            return False
        before = tokens[m.first - 1]
        return not (before.is_punct or before.norm in self.clause_openers)

    def _said_long_ago(self, cue: Match, tokens: list[Token]) -> bool:
        """The cue's sentence puts it in the past ("my dad had chest pain last year", "years
        ago"): a relative's "had" there is their past illness; without a time ("my daughter
        had a fit at school") it is what the text is about."""
        sentences = sentence_of(tokens)
        words = [t.norm for i, t in enumerate(tokens) if sentences[i] == sentences[cue.first]]
        return _has_phrase(words, self.long_ago) or bool(set(words) & self.past_markers)

    def _said_just_now(self, cue: Match, tokens: list[Token]) -> bool:
        """The cue's sentence says when, and it was just now ("my boyfriend had a seizure in
        his sleep last night"): not a past illness."""
        sentences = sentence_of(tokens)
        words = [t.norm for i, t in enumerate(tokens) if sentences[i] == sentences[cue.first]]
        return _has_phrase(words, self.recent_times)

    def _side_said_normal(self, m: Match, tokens: list[Token], matches: list[Match]) -> bool:
        """A normal-state word right after a side and its body part, in the same clause and
        with no comma between ("right leg is fine", "the left one is ok")."""
        normal_at = {x.last: x.first for x in matches if x.category == NORMAL}
        end = min(m.last + 1 + _SIDE_NORMAL_REACH, len(tokens))
        for i in range(m.last + 1, end):
            if tokens[i].is_punct:
                return False
            if i in normal_at:
                # said of it, at the end of the clause: "is fine." (not "a fine twitch")
                nxt = tokens[i + 1].norm if i + 1 < len(tokens) else "."
                return nxt in self.clause_goes_on or not nxt[:1].isalnum()
        return False

    def _of_a_third_person(self, m: Match, coverage: Coverage, tokens: list[Token]) -> bool:
        """``m`` is in the scope of someone named through another person ("my sister's little
        boy", "my friend's dad", "my wife's mother") or without "my" ("a kid at nursery"): a
        third person, not the one the text asks about."""
        if self._said_of_a_stranger(m, coverage):
            return True  # "one of the kids at nursery had a fit": never the one asked about
        scope = coverage.scope(m.first, m.last, EXPERIENCER)
        if scope is None:
            return False
        people = self.person_nouns
        words = [t.norm for t in tokens[scope.cue.first : scope.cue.last + 2]]
        named = [w for w in words if w in people]
        return len(named) >= 2 or (
            len(named) == 1
            and scope.cue.last + 2 < len(tokens)
            and tokens[scope.cue.last + 1].norm in self.person_adjectives
            and tokens[scope.cue.last + 2].norm in people
        )

    def _said_of_a_stranger(self, m: Match, coverage: Coverage) -> bool:
        """``m`` is in the scope of someone named without "my" ("a guy on the MND forum said
        ..."): not the writer's relative."""
        scope = coverage.scope(m.first, m.last, EXPERIENCER)
        return scope is not None and scope.cue.value == INDEFINITE

    def _said_of_a_non_relative(self, m: Match, tokens: list[Token]) -> bool:
        """A word for someone who is not the writer's relative comes before ``m`` in its
        sentence ("my mate's dad died of ALS", "a friend had MND")."""
        sentences = sentence_of(tokens)
        here = sentences[m.first]
        return any(
            tokens[i].norm in self.non_relatives
            for i in range(m.first - 1, -1, -1)
            if sentences[i] == here
        )

    @staticmethod
    def _nearer_denial(m: Match, matches: list[Match], content: list[bool]) -> bool:
        """A plain negation cue right before ``m`` (only list words between): certain, however
        far a longer denial of the same list reaches ("No actual weakness that I can find, no
        wasting": the "no" before "wasting" is its own)."""
        return any(
            c.category == NEGATION
            and c.value == NEGATION
            and c.last < m.first
            and m.first - c.last <= _NEAR_DENIAL
            and not any(content[i] for i in range(c.last + 1, m.first))
            for c in matches
        )

    def _doubt(self, m: Match, scope: Scope, content: list[bool], tokens: list[Token]) -> str:
        """Why a red flag's denial is in doubt, or "" when it is certain: the cue must be in
        the same clause and close to the finding (only list words between)."""
        cue = scope.cue
        lo, hi = (cue.last + 1, m.first) if cue.last < m.first else (m.last + 1, cue.first)
        gap = sum(1 for i in range(lo, hi) if content[i])
        if cue.value == "at_clause_end":
            start = min(scope.first, m.first)
            while start > 0 and tokens[start - 1].norm not in _SENTENCE_END:
                start -= 1  # from the start of its sentence ("Years ago I had ..., all sorted")
            words = {t.norm for t in tokens[start : cue.first]}
            if words & self.long_ago_units and words & self.past_markers:
                # over for a month or more ("last year, all cleared up", "couldn't swallow in
                # march, that's long gone", "sciatica in both legs last winter, physio fixed it")
                return ""
            return "resolved"  # just stopped ("it has gone"): still worth checking
        if cue.value == "past":
            return ""  # long over ("as a child", "used to"): not happening now
        if cue.value == "hedged_denial":
            return "hedged denial"
        return "long-range denial" if gap > CERTAIN_GAP else ""

    def _episodes_over(
        self,
        mentions: list[tuple[Observation, Match]],
        tokens: list[Token],
        sentences: list[int],
        today: date,
    ) -> list[tuple[Observation, Match]]:
        """Symptoms in a sentence that says when, long ago, and that it ended are history:
        "Had a TIA last year where my right side went weak for 20 minutes, no problems since",
        "Had febrile convulsions as a toddler, nothing since". Not when the sentence also has a
        time of today or an onset word ("it started last year and has not gone away")."""
        by_sentence: dict[int, list[str]] = {}
        for i, t in enumerate(tokens):
            by_sentence.setdefault(sentences[i], []).append(t.norm)
        this_year = today.year
        over = set()
        for n, words in by_sentence.items():
            if not (
                _has_phrase(words, self.long_ago)
                or _a_past_year(words, this_year)
                or self._a_past_age(words)
            ):
                continue
            # it ended, said in the sentence or in a short one right after ("..., my throat
            # closed up. Been fine since.")
            after = by_sentence.get(n + 1, [])
            ended = _has_phrase(words, self.episode_over) or (
                len(after) <= _ENDED_AFTER_WORDS and _has_phrase(after, self.episode_over)
            )
            if (
                ended
                and not _has_phrase(words, self.recent_times)
                and not set(words) & (self.onset_words - self.not_onset_alone - {"since"})
            ):
                over.add(n)
        if not over:
            return mentions
        return [
            (replace(obs, negated=True, uncertain=False, doubt=""), m)
            if not obs.negated
            and sentences[m.first] in over
            and self.kind(obs.id) in ("symptom", "cue")
            else (obs, m)
            for obs, m in mentions
        ]

    def _a_past_age(self, words: list[str]) -> bool:
        """An age said as a time of life: "when I was 9", "at the age of twelve"."""
        for i, w in enumerate(words[1:], 1):
            an_age = (w.isdigit() and int(w) < 120) or w in self.number_words
            if an_age and any(
                tuple(words[k:i]) in self.past_age_leads for k in range(max(0, i - 4), i)
            ):
                return True
        return False

    def _of_plural_parts(self, m: Match, tokens: list[Token], matches: list[Match]) -> bool:
        """A body part inside the phrase is in the plural ("arms" in "can't lift his arms")."""
        for x in matches:
            if (
                x.category == FINDING
                and m.first <= x.first
                and x.last <= m.last
                and self.kind(x.value) == "region"
            ):
                word = tokens[x.last].norm
                if word.endswith("s") and stem(word) != word:
                    return True
        return False

    def _too_slow(
        self,
        observations: list[Observation],
        anchored: list[tuple[Amount, str | None, bool, int]],
        sentences: list[int],
        tokens: list[Token],
    ) -> list[Observation]:
        """A finding that comes on within days (``within_days``), composed from parts, whose last
        part is in a sentence that says it has gone on longer: something slower ("the past 6
        months both feet have gone numb and I get tingles up to the ankles": not ascending
        weakness). Only composed ones: the words for the finding itself always count. The
        backstop may still raise it as possible (it is then asked about)."""
        slow = [
            (o, self.kb.findings[o.id].within_days)
            for o in observations
            if o.derived and not o.negated and self.kb.findings[o.id].within_days is not None
        ]
        if not slow:
            return observations
        starts = [t.start for t in tokens]
        dropped = set()
        for o, days in slow:
            if o.end is None:
                continue
            # the sentence of its last part, where the climbing is said ("feet numb for years.
            # This week it's gone higher up my legs" still climbs)
            at = bisect_right(starts, o.end - 1) - 1
            if any(
                not amount.ago
                and amount.value > (days or 0)
                and sentences[amount.first] == sentences[at]
                for amount, _, _, _ in anchored
            ):
                dropped.add(id(o))
        return [o for o in observations if id(o) not in dropped]

    def _a_direction(self, m: Match, tokens: list[Token]) -> bool:
        """A one-word body part that is also a direction (lexicon ``direction_words``: "back"),
        used as one: a particle after it or a verb of going before it, and no determiner
        before it ("built back up", "it came back on", "do I need to go back"; not "my back up
        to my shoulders")."""
        if m.first != m.last or tokens[m.first].norm not in self.direction_words:
            return False
        after = tokens[m.last + 1].norm if m.last + 1 < len(tokens) else ""
        before = tokens[m.first - 1].norm if m.first > 0 else ""
        if before in self.direction_determiners:
            return False
        return after in self.direction_particles or before in self.direction_verbs

    def _an_ending_in_a_simile(self, m: Match, tokens: list[Token]) -> bool:
        """An ending word ("stops", "goes away") inside a comparison describes the symptom, it
        does not end it: "my pulse feels uneven, like it stops and then starts again", "feels
        as if it stops". A comparison after a comma counts too ("uneven, like it stops")."""
        if m.category != NEGATION or m.value != "at_clause_end":
            return False
        return _after_a_simile(m, tokens, self.simile_stops_in_a_clause, self.comparing_or_comma)

    def _said_of_a_body_part(self, m: Match, tokens: list[Token], matches: list[Match]) -> bool:
        """A body part after a possessive ("my calf", "her leg") is the subject the finding's
        words are said of, in the same clause with no person word between ("my calf had a full
        on seizure"; not "my arm jerked and he had a seizure")."""
        if any(
            t.norm in self.pronoun_words or t.norm in self.person_nouns
            for t in tokens[m.first : m.last + 1]
        ):
            return False  # "... and then she had a fit": a person had it
        regions = {
            x.last: x.first
            for x in matches
            if x.category == FINDING and x.last < m.first and self.kind(x.value) == "region"
        }
        j = m.first - 1
        while j >= 0 and not tokens[j].is_boundary and tokens[j].norm != ",":
            if j in regions:
                first = regions[j]
                return first > 0 and tokens[first - 1].norm in self.side_lead
            word = tokens[j].norm
            if word in self.pronoun_words or word in self.person_nouns:
                return False
            j -= 1
        return False

    def _said_of_a_thing(self, m: Match, tokens: list[Token], matches: list[Match]) -> bool:
        """A thing that is no body before the weakness in its clause, with no body part or
        person word after that thing ("my willpower to stop the energy drinks is getting
        weaker")."""
        start = m.first
        while start > 0 and not tokens[start - 1].is_boundary and tokens[start - 1].norm != ",":
            start -= 1
        words = [t.norm for t in tokens[start : m.first]]
        for i in range(len(words)):
            if any(tuple(words[i : i + len(p)]) == p for p in self.not_body):
                later = range(start + i, m.first)
                bodily = any(
                    x.category == FINDING and x.first in later and self.kind(x.value) == "region"
                    for x in matches
                ) or any(tokens[j].norm in self.pronouns for j in later)
                return not bodily
        return False

    def _called_old(self, m: Match, tokens: list[Token]) -> bool:
        """ "old" right before it, not an age's "old" ("an old Bell's palsy", not "61 years old
        weakness")."""
        if m.first < 1 or tokens[m.first - 1].norm != "old":
            return False
        before = tokens[m.first - 2].norm if m.first >= 2 else ""
        return not (before.isdigit() or before in self.age_before_old)

    def _function_odd(self, m: Match, tokens: list[Token], coverage: Coverage) -> bool:
        """A function said to be not right in vague words, in its clause: after it ("my
        swallowing feels a bit off", "my breathing is not right") or before it ("problems with
        my balance", not "no problems with my balance"). A function word that is itself a
        linking word ("feels weird") is none."""
        if any(t.norm in self.function_odd_glue for t in tokens[m.first : m.last + 1]):
            return False
        j = m.last + 1
        while j < len(tokens) and j <= m.last + _ODD_REACH and not tokens[j].is_punct:
            word = tokens[j].norm
            if word in self.function_odd:
                return True
            if word == "not":
                after = tokens[j + 1].norm if j + 1 < len(tokens) else ""
                return after in self.function_odd_after_not
            if word not in self.function_odd_glue:
                break
            j += 1
        j = m.first - 1
        while j >= 0 and j >= m.first - _ODD_REACH and not tokens[j].is_punct:
            word = tokens[j].norm
            if word in self.function_odd_before:
                return not coverage.covers(Match("", "", "", j, j), NEGATION)
            if word not in self.odd_before_glue:
                break
            j -= 1
        return False

    def _function_lost(self, m: Match, scope: Scope, tokens: list[Token]) -> bool:
        """A negation right before a function word whose absence is the finding ("no strength",
        "zero grip", "not much strength left"), followed by where or nothing ("no balance
        problems" and "without feeling short of breath" are not that)."""
        cue = scope.cue
        words = {t.norm for t in tokens[m.first : m.last + 1]}
        if cue.value != "negation" or cue.last >= m.first or not words <= self.lost_functions:
            return False
        if any(t.norm not in self.loss_glue for t in tokens[cue.last + 1 : m.first]):
            return False
        after = tokens[m.last + 1] if m.last + 1 < len(tokens) else None
        # "no strength in my legs", "I have no balance.", not "without feeling short of breath"
        return after is None or after.is_punct or after.norm in self.loss_after

    def _bare_sides(
        self, mentions: list[tuple[Observation, Match]], tokens: list[Token], breaks: set[int]
    ) -> list[tuple[Observation, Match]]:
        """A side said in one word names a side of the body when it is used as a noun or an
        adjective ("the left", "on the right", "my left trainer", "left side", "the right
        one") or has a body part or a symptom in its clause; otherwise it is another word:
        "amlodipine and a statin, both for years", "I left work early", "right?", "a right
        pain", "no to both"."""
        clause_of = _clause_numbers(len(tokens), breaks)
        out = []
        for obs, m in mentions:
            if self.kind(obs.id) == "side" and m.first == m.last:
                before = tokens[m.first - 1].norm if m.first > 0 else ""
                after = tokens[m.first + 1].norm if m.first + 1 < len(tokens) else ""
                clause = clause_of[m.first]
                named = (before in self.side_lead and tokens[m.first].norm != "both") or (
                    after in self.side_nouns
                )
                if not named and not any(
                    clause_of[o.first] == clause and self.kind(x.id) in _SIDE_PARTNERS
                    for x, o in mentions
                ):
                    continue
            out.append((obs, m))
        return out

    def _answered_no(
        self, mentions: list[tuple[Observation, Match]], tokens: list[Token]
    ) -> list[tuple[Observation, Match]]:
        """Symptoms someone asked about and the writer said no to are denied: "Physio asked
        about numbness between my legs, none", "GP asked if I ever zone out and no, I don't",
        "the doctor asked whether I had chest pain, I haven't". The answer must follow the
        question in its sentence or just after it, after a mark or a linking word; a question
        with no answer, or a "yes", leaves what was asked as read. The writer's own short
        question answered no is the same ("Breathless? No. Chest pain? No."). The complaint
        itself (twitching, where it is) is never denied this way."""
        n = len(tokens)
        asks = []
        for i, t in enumerate(tokens):
            if t.norm not in self.asking_verbs:
                continue
            # "asked if", "asked me about", "wanted to know if", "asked me the usual -"
            for j in range(i + 1, min(n, i + 1 + _ASK_REACH)):
                if tokens[j].norm.strip() in self.asking_links:
                    asks.append(j)
                    break
                if tokens[j].norm in _SENTENCE_END:
                    break
        denied: list[tuple[int, int]] = []  # (first token asked about, the answer)
        # the writer's own short question answered no: "Chest pain? No. Weakness? Nope."
        start = 0
        for q, t in enumerate(tokens):
            if t.norm in _SENTENCE_END and t.norm != "?":
                start = q + 1
            elif t.norm == "?":
                after = tokens[q + 2] if q + 2 < n else None
                if (
                    q - start <= _OWN_QUESTION_WORDS
                    and q + 1 < n
                    and tokens[q + 1].norm in self.answers_no
                    and (after is None or after.is_punct or after.norm in self.answer_tail)
                ):
                    denied.append((start, q + 1))
                start = q + 1
        if not asks and not denied:
            return mentions
        for a in asks:
            ends = 0
            for b in range(a + 1, min(n, a + _ANSWER_REACH)):
                if tokens[b].norm in _SENTENCE_END:
                    ends += 1
                    if ends > 1:
                        break
                    continue
                before = tokens[b - 1]
                if not (before.is_punct or before.norm in self.answer_lead):
                    continue
                after = tokens[b + 1] if b + 1 < n else None
                plain = after is None or after.is_punct or after.norm in self.answer_tail
                if (tokens[b].norm in self.answers_no and plain) or (
                    b + 2 < n
                    and tokens[b].norm in self.answer_subjects
                    and tokens[b + 1].norm in self.answer_aux
                    and tokens[b + 2].norm == "not"
                ):
                    denied.append((a + 1, b))
                    break
        if not denied:
            return mentions
        out = []
        for obs, m in mentions:
            asked = any(lo <= m.first and m.last < hi for lo, hi in denied)
            if asked and not obs.negated and self.kind(obs.id) in _ANSWERABLE:
                obs = replace(obs, negated=True, uncertain=False, doubt="")
            out.append((obs, m))
        return out

    def _retracted(
        self,
        mentions: list[tuple[Observation, Match]],
        matches: list[Match],
        tokens: list[Token],
        sentences: list[int],
    ) -> list[tuple[Observation, Match]]:
        """Red flags denied shortly before a retraction ("no chest pain... actually") become
        possible: a denial that was taken back is never certain. A retraction whose words are
        all understood as other findings ("actually my calf twitches too") takes back nothing."""
        understood = {  # a cue is only a part of a finding: alone it says nothing
            i
            for m in matches
            if m.category in (FINDING, ABSENT, FUNCTION, DRINK)
            and not (m.category == FINDING and m.value in self.cue_ids)
            for i in range(m.first, m.last + 1)
        }
        retractions = []
        for r in (m for m in matches if m.category == RETRACTION):
            if r.first > 0 and tokens[r.first - 1].norm in self.wh_words:
                continue  # "what actually helped": an emphasis, not a retraction
            clause = [
                i
                for i in range(r.last + 1, len(tokens))
                if sentences[i] == sentences[r.last] and not tokens[i].is_punct
            ]
            unexplained = [
                i
                for i in clause
                if i not in understood
                and tokens[i].norm not in self.stopwords
                and tokens[i].norm not in self.gap_glue
                and tokens[i].norm not in self.subjects
                and tokens[i].norm not in self.say_nothing
            ]
            if unexplained or not clause:
                retractions.append(r.first)
        if not retractions:
            return mentions
        out = []
        for obs, m in mentions:
            if (
                obs.negated
                and obs.id in self.red_flags
                and any(
                    r > m.last and sentences[r] - sentences[m.first] <= RETRACTION_REACH
                    for r in retractions
                )
            ):
                obs = replace(obs, negated=False, uncertain=True, doubt="retracted")
            out.append((obs, m))
        return out

    def _from_quantities(
        self,
        text: str,
        tokens: list[Token],
        q: Quantities,
        mentions: list[tuple[Observation, Match]],
        sentences: list[int],
        breaks: set[int],
        other_is_patient: bool = False,
    ) -> tuple[list[Observation], list[tuple[Amount, str | None, bool, int]]]:
        """Findings from amounts (durations, ages, caffeine...), and each duration with the
        finding it is anchored to (see :meth:`_anchor`)."""
        out: list[Observation] = []

        def derived(finding: str, amount: Amount) -> Observation:
            start, end = tokens[amount.first].start, tokens[amount.last].end
            return Observation(finding, False, False, text[start:end], start, end, derived=True)

        symptom_days: list[Amount] = []
        clause_of = _clause_numbers(len(tokens), breaks)
        # clauses cut at commas too, for where an onset word belongs ("a TIA last year where my
        # side went weak, no problems since": "since" is not when the weakness began)
        commas = {i for i, t in enumerate(tokens) if t.norm == ","}
        part_of = _clause_numbers(len(tokens), breaks | commas)
        anchored = [(a, *self._anchor(a, mentions, sentences, breaks, tokens)) for a in q.durations]
        # a clause with a time of its own takes that one, not one from another clause
        # ("3 months ago I got married, but the twitch only started last weekend")
        timed = {clause_of[a.first] for a, anchor, crosses, _ in anchored if anchor and not crosses}
        for amount, anchor, crosses, at in anchored:
            if anchor == _OVER:
                continue
            if crosses and clause_of[at] in timed and self.kind(anchor or "") in self.anchor_kinds:
                continue
            if anchor is None and amount.needs_anchor:
                continue
            if anchor is None or self.kind(anchor) in self.anchor_kinds:
                near = {part_of[amount.first]}
                if anchor is not None and abs(part_of[at] - part_of[amount.first]) <= 1:
                    near.add(part_of[at])
                if amount.ago and not self._onset_in(tokens, part_of, near):
                    continue  # "a stomach bug 2 weeks ago": when something happened, not how long
                symptom_days.append(amount)
            elif self.kind(anchor) == "medicine" or anchor.startswith("medicine_"):
                finding = "medicine_long_term" if amount.value >= 90 else "medicine_new_or_changed"
                out.append(derived(finding, amount))
        values: dict[str, Amount | None] = {
            "duration_days": max(symptom_days, key=lambda a: a.value, default=None),
            "sleep_h": min(q.sleep_h, key=lambda a: a.value, default=None),
            "age_years": _subject_age(q, other_is_patient),
            "body_temp_c": max(q.body_temp_c, key=lambda a: a.value, default=None),
            "ambient_temp_c": max(q.ambient_temp_c, key=lambda a: a.value, default=None),
            "water_l": max(q.water_l, key=lambda a: a.value, default=None),
            "alcohol_drinks": max(q.alcohol, key=lambda a: a.value, default=None),
            "alcohol_daily": max(q.alcohol_daily, key=lambda a: a.value, default=None),
        }
        present = {o.id for o, _ in mentions if not o.negated}
        for rule in self.kb.lexicon.quantity_rules:
            value = values[rule.quantity]
            if value is not None and rule_matches(rule, value.value, present):
                out.append(derived(rule.finding, value))
        for sex, index in self._subject_sexes(q, tokens, other_is_patient):
            tok = tokens[index]
            out.append(
                Observation(
                    f"sex_{sex}",
                    False,
                    False,
                    text[tok.start : tok.end],
                    tok.start,
                    tok.end,
                    derived=True,
                )
            )
        for amount in q.weight_lost:
            out.append(derived("weight_loss", amount))
        for amount in q.gestation[:1]:  # "24+3 with my first"
            out.append(derived("pregnant", amount))
        caffeine = q.caffeine_mg
        if caffeine is not None:
            first = min([d[3] for d in q.drinks] + [a.first for a in q.caffeine_mg_stated])
            last = max([d[4] for d in q.drinks] + [a.last for a in q.caffeine_mg_stated])
            level = caffeine_level(self.kb, caffeine, present | {o.id for o in out})
            out.append(derived(level, Amount(caffeine, first, last)))
        return out, anchored

    def _sudden(
        self,
        anchored: list[tuple[Amount, str | None, bool, int]],
        observations: list[Observation],
        tokens: list[Token],
        sentences: list[int],
        text: str,
    ) -> list[Observation]:
        """A time under a day said of a warning sign, or said on its own before one ("today
        was odd. he was fine at lunch. by tea he couldn't hold his cup, his words were a bit
        mushy"): the sign is new today, however long the twitch has gone on (``sudden_onset``).
        Only the signs a rule weighs with a sudden start count (slurred speech is a stroke
        when it is sudden, a slow illness when it creeps).

        One of those signs that has just stopped ("slurred speech for 10 minutes this morning,
        it's gone now") may have been a TIA, which the NHS treats as a stroke: it is a possible
        sudden start, asked about, unless a time of a day or more is said of it."""
        index_at = {t.start: i for i, t in enumerate(tokens)}
        passed = [
            o
            for o in observations
            if o.doubt == "resolved" and o.id in self.sudden_partners and o.start is not None
        ]
        lasting = {anchor for amount, anchor, crosses, _ in anchored if amount.value >= 1}
        for o in passed:
            if o.id not in lasting:
                return [
                    Observation(
                        NEW_TODAY,
                        False,
                        True,
                        o.text,
                        o.start,
                        o.end,
                        derived=True,
                        doubt="resolved",
                    )
                ]
        flags = [
            sentences[index_at[o.start]]
            for o in observations
            if not o.negated and o.id in self.sudden_partners and o.start in index_at
        ]
        if not flags:
            return []
        for amount, anchor, crosses, _ in anchored:
            if amount.value >= 1:
                continue
            if amount.ago and not (anchor in self.sudden_partners and not crosses):
                continue  # "the twitch started 3 hours ago": when the twitch began
            if (anchor in self.sudden_partners and not crosses) or (
                anchor is None and any(n >= sentences[amount.first] for n in flags)
            ):
                start, end = tokens[amount.first].start, tokens[amount.last].end
                return [
                    Observation(NEW_TODAY, False, False, text[start:end], start, end, derived=True)
                ]
        return []

    def _subject_sexes(
        self, q: Quantities, tokens: list[Token], other_is_patient: bool
    ) -> list[tuple[str, int]]:
        """The sex of the person the text is about: the writer's own when given ("28F"); else,
        when the text is about someone else (their age is the one used, or every twitch is
        theirs), the word for them ("my husband (63)") or the only pronouns used for them."""
        if q.sexes:
            return q.sexes
        about_other = other_is_patient or (not q.ages and bool(q.ages_other))
        if not about_other:
            return []
        if q.sexes_other:
            return q.sexes_other[:1]
        found = {
            self.sex_words[t.norm]: i
            for i, t in enumerate(tokens)
            if t.norm in self.third_person and t.norm in self.sex_words
        }
        return list(found.items()) if len(found) == 1 else []

    def _onset_in(self, tokens: list[Token], clause_of: list[int], clauses: set[int]) -> bool:
        """An onset word ("started", "since") in one of ``clauses``: the time of the
        expression's own clause, or of its finding's clause next to it, is when that began
        ("3 months ago, my calf started twitching"; not "a TIA last year, no problems since")."""
        return any(
            clause_of[i] in clauses and tok.norm in self.onset_words for i, tok in enumerate(tokens)
        )

    def _anchor(
        self,
        amount: Amount,
        mentions: list[tuple[Observation, Match]],
        sentences: list[int],
        breaks: set[int],
        tokens: list[Token],
    ) -> tuple[str | None, bool, int]:
        """The finding a time expression describes: the nearest one, in the same clause if
        there is one there; whether it is in another clause of the sentence; and where it is
        (a token index, 0 when there is none)."""
        sentence = sentences[amount.first]
        best: tuple[int, int, int, str, int] | None = None
        for obs, m in mentions:
            if sentences[m.first] != sentence or self.kind(obs.id) == "cue":
                continue
            lo, hi = sorted((m.first, amount.first))
            crosses = any(lo <= b < hi for b in breaks)
            distance = min(abs(m.first - amount.last), abs(amount.first - m.last))
            # "twitching after runs for 3 weeks": the runs are when, the weeks the twitching's;
            # a side says where, not what ("Bell's palsy on the left side, recovered within 3
            # months": the months are the palsy's)
            aside = self._a_circumstance(m, tokens) or self.kind(obs.id) == "side"
            # something denied or over still takes its time ("recovered within 3 months"),
            # which is then no symptom's
            key = (1 if crosses else 0, 1 if aside else 0, distance, obs.id, m.first)
            if best is None or key < best:
                best = key
                over = obs.negated
        if best is None:
            return None, False, 0
        return (_OVER if over else best[3]), bool(best[0]), best[4]

    def _a_circumstance(self, m: Match, tokens: list[Token]) -> bool:
        """A circumstance word opening the mention or just before it, with at most stop words
        between ("after runs", "after my runs", "during a long shift")."""
        if tokens[m.first].norm in self.circumstance_words:
            return True
        i = m.first - 1
        while i >= max(0, m.first - 3) and tokens[i].norm in self.stopwords:
            i -= 1
        return i >= 0 and tokens[i].norm in self.circumstance_words

    def _composed(
        self,
        mentions: list[tuple[Observation, Match | None]],
        tokens: list[Token],
        breaks: set[int],
        text: str = "",
    ) -> list[Observation]:
        """Findings inferred from findings that occur together (near, in a clause, in a
        sentence, anywhere). A composed finding takes the place of its parts and may itself be
        a part of another ("agony going down" is radiating pain; radiating pain down "both
        legs" is sciatica in both legs): rounds run until nothing new is composed."""
        unit_of = {"clause": _clause_numbers(len(tokens), breaks), "sentence": sentence_of(tokens)}
        out: list[Observation] = []
        pool = list(mentions)
        made: set[tuple[str, int, int, bool]] = set()
        for _ in range(_COMPOSE_ROUNDS):
            new = self._compose_round(pool, unit_of, text, made)
            if not new:
                break
            out += [o for o, _ in new]
            pool += new
        return out

    def _compose_round(
        self,
        pool: list[tuple[Observation, Match | None]],
        unit_of: dict[str, list[int]],
        text: str,
        made: set[tuple[str, int, int, bool]],
    ) -> list[tuple[Observation, Match | None]]:
        out: list[tuple[Observation, Match | None]] = []
        present = {obs.id for obs, _ in pool}
        for (f, combination), needs in zip(self.composed, self.composed_needs, strict=True):
            if not all(present & group for group in needs):
                continue  # a part is missing everywhere: nothing to combine
            scope = combination.scope
            groups = combination.all_of
            buckets: dict[int, list[tuple[Observation, Match | None]]] = {}
            for obs, m in pool:
                if m is None:
                    if scope != "text":
                        continue
                    where = 0
                else:
                    where = 0 if scope in ("text", "near") else unit_of[scope][m.first]
                buckets.setdefault(where, []).append((obs, m))
            for items in buckets.values():
                found = self._combination(
                    groups,
                    items,
                    near=scope == "near",
                    clause_of=unit_of["clause"],
                    sentence_of=unit_of["sentence"],
                )
                if found is None:
                    continue
                negated = any(all(o.negated for o in hits) for hits in found)
                # hedged when any part was only hedged ("my pee might be going brown")
                hedged = not negated and any(
                    all(o.uncertain for o in hits if not o.negated) for hits in found
                )
                parts = {id(o) for hits in found for o in hits}
                where_parts = [m for o, m in items if id(o) in parts and m is not None]
                first = min((m.first for m in where_parts), default=-1)
                last = max((m.last for m in where_parts), default=-1)
                key = (f.id, first, last, negated)
                if key in made:
                    continue
                made.add(key)
                anchor = next(h for hits in found for h in hits)
                start, end, words = anchor.start, anchor.end, anchor.text
                spans = [(h.start, h.end) for hits in found for h in hits if h.start is not None]
                if text and spans:  # the words of every part: "pee might be going brown"
                    lo, hi = min(a for a, _ in spans), max(b or a for a, b in spans)
                    if hi - lo <= 80:
                        start, end, words = lo, hi, text[lo:hi]
                obs = Observation(
                    f.id,
                    negated,
                    hedged,
                    words,
                    start,
                    end,
                    derived=True,
                    doubt="hedged" if hedged else "",
                )
                span = Match(FINDING, f.id, "", first, last) if where_parts else None
                out.append((obs, span))
        return out

    @staticmethod
    def _combination(
        groups: list[list[str]],
        items: list[tuple[Observation, Match | None]],
        *,
        near: bool,
        clause_of: list[int],
        sentence_of: list[int],
    ) -> list[list[Observation]] | None:
        hits = [[(o, m) for o, m in items if o.id in group] for group in groups]
        if not all(hits):
            return None
        if not near:
            return [[o for o, _ in group] for group in hits]
        for seed, seed_match in hits[0]:
            if seed_match is None:
                continue
            chosen = [[seed]]
            for group in hits[1:]:
                close = [
                    o
                    for o, m in group
                    if m is not None and _near(seed_match.first, m.first, clause_of, sentence_of)
                ]
                if not close:
                    break
                chosen.append(close)
            else:
                return chosen
        return None

    def _where_it_twitches(
        self,
        observations: list[Observation],
        mentions: list[tuple[Observation, Match]],
        tokens: list[Token],
        matches: list[Match],
    ) -> list[Observation]:
        """Keep body regions only where the twitch (or cramp, tremor) is, when that is said."""
        clauses = self._site_clauses(tokens, matches)
        site_clauses = {
            clauses[m.first] for o, m in mentions if o.id in _SITE_WORDS and not o.negated
        }
        if not site_clauses:
            return observations
        # a clause that names only a place ("Right calf.", "mostly in the evenings, left
        # thigh") says where the twitch is; one about another symptom does not
        elsewhere = {
            clauses[m.first]
            for o, m in mentions
            if self.kind(o.id) not in ("region", "side", "duration", "pattern", "twitch")
        }
        off_site = {
            id(o)
            for o, m in mentions
            if self.kind(o.id) == "region"
            and clauses[m.first] not in site_clauses
            and clauses[m.first] in elsewhere
        }
        return [o for o in observations if id(o) not in off_site]

    def _site_clauses(self, tokens: list[Token], matches: list[Match]) -> list[int]:
        """Clause number of each token, for deciding which regions a twitch word refers to."""
        terminators = {
            i for m in matches if m.category == "terminator" for i in range(m.first, m.last + 1)
        }
        out = []
        number = 0
        for i, tok in enumerate(tokens):
            out.append(number)
            nxt = tokens[i + 1].norm if i + 1 < len(tokens) else ""
            if (
                tok.norm in {".", "!", "?", ";"}
                or i in terminators
                or (tok.norm in ("and", ",") and nxt in self.pronouns)
            ):
                number += 1
        return out

    def _sites(
        self, mentions: list[tuple[Observation, Match]], sentences: list[int]
    ) -> list[Observation]:
        """Twitching in two or more places of the body -> multiple_sites (none without a twitch
        word that is not denied): "my calves and thighs", "my lip and eyelid", but not "my thumb,
        my hand" or "my leg, in the calf".

        ``sentences`` are site clauses (see _site_clauses). A region counts when a twitch word
        is in its clause, at most :data:`SITE_REACH` tokens away with no other symptom between
        them: in "my lips are numb and my fingers twitch" only the fingers twitch.
        """
        twitches = [m for o, m in mentions if o.id in _SYMPTOM_SITES and not o.negated]
        others = [
            m.first
            for o, m in mentions
            if self.kind(o.id) == "symptom" and o.id not in _SITE_WORDS and not o.negated
        ]

        def twitching_there(m: Match) -> bool:
            for t in twitches:
                if sentences[t.first] != sentences[m.first]:
                    continue
                lo, hi = sorted((m.last, t.first)) if m.first < t.first else (t.last, m.first)
                if hi - lo <= SITE_REACH and not any(lo < x < hi for x in others):
                    return True
            return False

        if not twitches:
            return []  # cramps or a spasm in two places are not twitching in two places
        places: dict[str, Observation] = {}
        for o, m in mentions:
            if o.negated or self.kind(o.id) != "region":
                continue
            if not twitching_there(m):
                continue
            places.setdefault(o.id, o)
        # a place inside another that is also named ("my thumb", "my hand") is one place, and so
        # is the whole of an area (the region named after it: region_leg) beside a part of it
        closure = self.kb.closure
        distinct = [
            r
            for r in places
            if not any(r != x and r in closure[x] for x in places)
            and not (
                r == f"region_{self.kb.findings[r].area}"
                and any(
                    x != r and self.kb.findings[x].area == self.kb.findings[r].area for x in places
                )
            )
        ]
        if len(distinct) < 2:
            return []
        first = min((places[r] for r in distinct), key=lambda o: o.start or 0)
        return [
            Observation(
                "multiple_sites", False, False, first.text, first.start, first.end, derived=True
            )
        ]

    def _sides(self, observations: list[Observation]) -> list[Observation]:
        sides = {
            o.id for o in observations if o.id in ("side_left", "side_right") and not o.negated
        }
        if len(sides) == 2:
            return [Observation("side_both", derived=True)]
        return []

    def _imply(self, observations: tuple[Observation, ...]) -> tuple[Observation, ...]:
        closure = self.kb.closure
        extra: list[Observation] = []
        have = {o.id for o in observations if not o.negated}
        for o in observations:
            if o.negated or o.doubt in DENIAL_DOUBTS:
                continue  # a possible red flag implies nothing: that would be as doubtful
            for implied in closure[o.id]:
                if implied not in have:
                    have.add(implied)
                    extra.append(
                        Observation(
                            implied, False, o.uncertain, o.text, o.start, o.end, derived=True
                        )
                    )
        return merge([*observations, *extra]) if extra else observations

    def _quantity_values(
        self, q: Quantities, observations: tuple[Observation, ...], other_is_patient: bool = False
    ) -> dict[str, float]:
        present = {o.id for o in observations if not o.negated}
        out: dict[str, float] = {}
        if q.caffeine_mg is not None:
            out["caffeine_mg"] = round(q.caffeine_mg)
        out["caffeine_limit_mg"] = caffeine_limit(self.kb, present)
        if q.sleep_h:
            out["sleep_h"] = min(a.value for a in q.sleep_h)
        age = _subject_age(q, other_is_patient)
        if age is not None:
            out["age_years"] = round(age.value, 2)
        if q.body_temp_c:
            out["body_temp_c"] = round(max(a.value for a in q.body_temp_c), 1)
        if q.water_l:
            out["water_l"] = max(a.value for a in q.water_l)
        if q.durations:
            out["longest_duration_days"] = max(a.value for a in q.durations)
        return out

    def _not_understood(
        self,
        text: str,
        tokens: list[Token],
        matches: list[Match],
        q: Quantities,
        breaks: set[int],
        composed: tuple[tuple[int, int], ...] = (),
    ) -> tuple[str, ...]:
        """Clauses nothing was read from. A cue word counts as read only inside a finding it
        composed ("keep dropping my mug"), not alone ("a purple fence")."""
        understood: set[int] = set()
        for m in matches:
            if m.category not in (FINDING, ABSENT, FUNCTION, DRINK):
                continue
            if m.category == FINDING and self.kind(m.value) == "cue":
                lo, hi = tokens[m.first].start, tokens[m.last].end
                if not any(a <= lo and hi <= b for a, b in composed):
                    continue
            understood.update(range(m.first, m.last + 1))
        amounts = [
            *q.durations,
            *q.sleep_h,
            *q.ages,
            *q.ages_other,
            *q.body_temp_c,
            *q.ambient_temp_c,
            *q.water_l,
            *q.weight_lost,
            *q.alcohol,
            *q.caffeine_mg_stated,
        ]
        for a in amounts:
            understood.update(range(a.first, a.last + 1))
        out: list[str] = []
        segment: list[int] = []

        def flush() -> None:
            content = [
                i
                for i in segment
                if tokens[i].norm.isalpha()
                and tokens[i].norm not in self.stopwords
                and len(tokens[i].norm) > 2
            ]
            if len(content) >= 2 and not understood.intersection(segment):
                start, end = tokens[segment[0]].start, tokens[segment[-1]].end
                piece = text[start:end].strip(" ,.;:!?-")
                if piece:
                    out.append(piece if len(piece) <= 80 else piece[:77] + "...")
            segment.clear()

        for i, tok in enumerate(tokens):
            if tok.is_boundary or tok.norm == "," or i in breaks:
                if not tok.is_punct:
                    segment.append(i)
                flush()
                continue
            segment.append(i)
        flush()
        return tuple(out)


#: Phrases as word tuples by their first word, so a text is scanned once, not once a phrase.
PhraseIndex = dict[str, tuple[tuple[str, ...], ...]]


def _phrase_index(phrases: Iterable[str]) -> PhraseIndex:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(phrase.split())
        if words:
            by_first.setdefault(words[0], []).append(words)
    return {first: tuple(group) for first, group in by_first.items()}


def _phrase_at(words: list[str], i: int, phrases: PhraseIndex) -> tuple[str, ...] | None:
    """The one of ``phrases`` that starts at ``words[i]``, if any."""
    return next((p for p in phrases.get(words[i], ()) if tuple(words[i : i + len(p)]) == p), None)


def _has_phrase(words: list[str], phrases: PhraseIndex) -> bool:
    """Whether one of ``phrases`` occurs in ``words``."""
    return any(_phrase_at(words, i, phrases) is not None for i in range(len(words)))


def _after_a_simile(
    m: Match, tokens: list[Token], stops: frozenset[str], comparing: frozenset[str]
) -> bool:
    """A comparison a few words before, in the same phrase: "ache like after a long walk", "pee
    looks like black tea", "as if I'd run a marathon" (not "like" as a filler: "drinking like 4
    monsters", "my throat is like closing up")."""
    if tokens[m.first].norm in stops:
        return False  # "like a zombie on nights": "on nights" is no comparison
    for j in range(m.first - 1, max(-1, m.first - 1 - _SIMILE_REACH), -1):
        word = tokens[j].norm
        if word in stops:
            return False
        if word in ("if", "though") and j > 0 and tokens[j - 1].norm == "as":
            return True
        if word == "like":
            return j > 0 and tokens[j - 1].norm in comparing
    return False


def _subject_age(q: Quantities, other_is_patient: bool = False) -> Amount | None:
    """The age of the person the text is about: the writer's own when given, else that of the
    child or relative they write about ("my 6 year old"), or of a baby when the text is about
    the baby ("my son is 18 months and jerks as he falls asleep")."""
    if q.ages:
        return q.ages[0]
    if q.ages_other:
        return q.ages_other[0]
    return q.ages_baby[0] if q.ages_baby and other_is_patient else None


_SENTENCE_END = frozenset({".", "!", "?", ";"})

#: Tokens after a side word within which a normal-state word says that side is well.
_SIDE_NORMAL_REACH = 5


def _without_guarded(matches: list[Match]) -> list[Match]:
    """Drop findings (and people named without "my") matched inside a word-sense guard ("right
    now", "ran out of", "as a kid"), or ending inside one: a phrase whose last word is read in
    the guard's sense ("he is fit" in "he is fit as a fiddle") is not the finding."""
    guards = [m for m in matches if m.category == GUARD]
    if not guards:
        return matches
    index = SpanIndex(guards)
    return [
        m
        for m in matches
        if not (m.category in _GUARDED or (m.category == EXPERIENCER and m.value == INDEFINITE))
        or not index.containing(m.last, m.last, strictly=False)
    ]


def _without_drink_heads(matches: list[Match]) -> list[Match]:
    """Drop a phrase that starts inside a named drink and runs on past it: "drink" in "an
    energy drink every day" is the drink's own word, so "drink every day" is not alcohol."""
    drinks = [m for m in matches if m.category == DRINK and m.length > 1]
    if not drinks:
        return matches
    return [
        m
        for m in matches
        if m.category != FINDING or not any(d.first < m.first <= d.last < m.last for d in drinks)
    ]


def _without_medicine_tails(
    matches: list[Match], medicines: frozenset[str], red_flags: frozenset[str]
) -> list[Match]:
    """Drop a phrase that ends inside a medicine's name that starts within it: "no water" in
    "no water tablets" is not drinking no water (and the "no" denies the tablets). Never a red
    flag's phrase ("choking on water tablets" is still choking)."""
    names = [m for m in matches if m.category == FINDING and m.value in medicines]
    if not names:
        return matches
    return [
        m
        for m in matches
        if m.category != FINDING
        or m.value in medicines
        or m.value in red_flags
        or not any(m.first < d.first <= m.last < d.last for d in names)
    ]


def _year_before(word: str, year: int) -> bool:
    """``word`` is a year after 1900 and before ``year``."""
    return word.isdigit() and len(word) == 4 and 1900 < int(word) < year


def _a_past_year(words: list[str], this_year: int) -> bool:
    """A year before last among the words ("in 2012", "back in 2019")."""
    return any(_year_before(w, this_year - 1) for w in words)


def _past_years(tokens: list[Token], today: date) -> list[Match]:
    """ "In 2019 I had ...", "back in 2019, ...": a clause that opens with an earlier year is over
    (a forward past cue). Only at the start of a clause: "it started in 2019" and "since 2019"
    are still going on."""
    out = []
    for i, tok in enumerate(tokens):
        if not _year_before(tok.norm, today.year):
            continue
        if i == 0 or tokens[i - 1].norm != "in":
            continue
        first = i - 1
        if first > 0 and tokens[first - 1].norm == "back":
            first -= 1
        if first == 0 or tokens[first - 1].is_boundary or tokens[first - 1].norm == ",":
            out.append(Match(NEGATION, PAST, "forward", first, i))
    return out


#: The finding for a red flag that started today (see :meth:`Parser._red_flag_new_today`).
NEW_TODAY = "sudden_onset"


#: What a word-sense guard takes away: readings of words, not cues ("years back" is both a
#: guard against the back and a cue that sciatica then is over).
_GUARDED = frozenset({FINDING, ABSENT, FUNCTION, DRINK})
#: Finding kinds that are circumstances (what someone takes, does or has), not the body: a list
#: of denials does not run from one family into the other.
_CIRCUMSTANCE_KINDS = frozenset({"context", "medicine", "condition"})
_BODY_KINDS = frozenset({"symptom", "twitch", "region", "side", "pattern"})
#: How far after "if" advice to get help may come for the condition to be safety-netting.
_SAFETY_NET_REACH = 16


def _near(a: int, b: int, clause_of: list[int], sentence_of: list[int]) -> bool:
    """Tokens ``a`` and ``b`` are near: a few tokens apart in one sentence, or a few more in
    one clause. A sentence's end parts them however close ("Swallowing fine. I can't stop
    checking" is no trouble swallowing)."""
    if sentence_of[a] != sentence_of[b]:
        return False
    apart = abs(a - b)
    return apart <= NEAR_TOKENS or (apart <= NEAR_IN_CLAUSE and clause_of[a] == clause_of[b])


def _clause_numbers(n: int, breaks: set[int]) -> list[int]:
    """The clause number of each of ``n`` tokens (a break ends its clause)."""
    out, number = [], 0
    for i in range(n):
        out.append(number)
        if i in breaks:
            number += 1
    return out


def _composed_spans(
    observations: list[Observation], kind: Callable[[str], str]
) -> tuple[tuple[int, int], ...]:
    """The text spans (character offsets) of the findings composed from cue words."""
    return tuple(
        (o.start, o.end)
        for o in observations
        if o.derived and o.start is not None and o.end is not None and kind(o.id) != "cue"
    )
