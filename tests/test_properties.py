"""Properties that must hold for any input (hypothesis; settings in conftest.py)."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import twitchwise
from twitchwise.evidence import Evidence, Observation
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.rank import rank
from twitchwise.reason.triage import triage

TODAY = date(2026, 11, 23)  # a Monday, as in conftest.py
KB = twitchwise.load_knowledge()
FINDINGS = sorted(f.id for f in KB.findings.values() if f.kind != "cue")  # cues are internal
#: Findings that appear in some red-flag rule: random sets drawn from these fire rules often.
FLAG_FINDINGS = sorted({f for rule in KB.red_flags for group in rule.groups() for f in group})

finding_ids = st.sampled_from(FINDINGS)
flag_or_any = st.one_of(st.sampled_from(FLAG_FINDINGS), finding_ids)
finding_sets = st.frozensets(flag_or_any, max_size=10)


def level(present: frozenset[str]) -> TriageLevel:
    return triage(KB, present).level


# ------------------------------------------------------------------ triage


@given(finding_sets, flag_or_any)
def test_triage_is_monotone(present, extra):
    assert level(present | {extra}) >= level(present)


@given(finding_sets, finding_sets)
def test_triage_of_a_union_is_at_least_the_max(a, b):
    assert level(a | b) >= max(level(a), level(b))


def test_triage_monotone_on_every_single_red_flag():
    # the strongest deterministic form: each rule's own findings, plus any one more finding
    for rule in KB.red_flags:
        present = frozenset(group[0] for group in rule.groups())
        base = level(present)
        assert base >= rule.level
        for extra in FLAG_FINDINGS:
            assert level(present | {extra}) >= base, (rule.id, extra)


@given(st.lists(flag_or_any, min_size=1, max_size=8, unique=True), flag_or_any)
def test_adding_a_negated_finding_never_changes_triage(ids, denied):
    assume(denied not in ids)
    before = twitchwise.assess(ids)
    after = twitchwise.assess([*ids, "!" + denied])
    assert after.level is before.level
    assert [r.finding for r in after.reasons] == [r.finding for r in before.reasons]


@given(st.lists(flag_or_any, min_size=1, max_size=8, unique=True), flag_or_any)
def test_adding_a_finding_through_assess_never_lowers_triage(ids, extra):
    assert twitchwise.assess([*ids, extra]).level >= twitchwise.assess(ids).level


# ------------------------------------------------------------------ understanding


@given(st.text(max_size=300))
def test_parse_never_raises(parse, text):
    evidence = parse(text)
    assert isinstance(evidence, Evidence)
    for o in evidence.observations:
        assert o.id in KB.findings
        if o.start is not None:
            assert 0 <= o.start <= o.end <= len(text)
    assert evidence.present.isdisjoint(evidence.negated)


_WORDS = st.sampled_from(
    ["no", "not", "my", "calf", "eyelid", "twitching", "weak", "numb", "for", "3", "weeks",
     "coffees", "since", "monday", "maybe", "but", "and", ",", ".", "dad", "had", "ALS", "I'm",
     "61", "28F", "hours", "slept", "on", "omeprazole", "years", "left", "chest", "pain",
     "denies", "fine", "strength", "is", "a", "couple", "of", "days", "ago", "two", "Red Bulls"]
)  # fmt: skip


@given(st.lists(_WORDS, max_size=25))
def test_parse_never_raises_on_word_salad(parse, words):
    text = " ".join(words)
    evidence = parse(text)
    assert all(o.id in KB.findings for o in evidence.observations)
    assert all(math.isfinite(v) for v in evidence.quantities.values())


_negatable: list[tuple[str, str]] = []


def _negatable_symptom_synonyms(parse) -> list[tuple[str, str]]:
    if not _negatable:
        _negatable.extend(_find_negatable_symptom_synonyms(parse))
    return _negatable


def _find_negatable_symptom_synonyms(parse) -> list[tuple[str, str]]:
    """(finding, synonym) pairs of symptoms that 'no ...' can sensibly deny.

    Left out: synonyms that already contain a negation ("cannot sit still": denying them is a
    double negative), and synonyms whose first word forms a different phrase with "no" ("feel
    sick": "no feeling" is itself a phrase for numbness; see the xfail case in
    cases/understanding.yaml), since those test the lexicon, not the scope of negation.
    """
    negation_words = {
        "no",
        "not",
        "cannot",
        "never",
        "without",
        "nothing",
        "none",
        "nor",
        "neither",
    }
    out = []
    for f in KB.findings.values():
        if f.kind != "symptom":
            continue
        for synonym in f.synonyms:
            words = synonym.lower().replace("'", " ").split()
            if negation_words & set(words) or any(w.endswith("n't") for w in words):
                continue
            if parse("no " + words[0]).present:
                continue
            out.append((f.id, synonym))
    return out


_TEMPLATES = ["no {}", "I have no {}", "there is no {}", "I don't have any {}", "denies {}",
              "without {}", "no {} at all"]  # fmt: skip


@given(st.data())
def test_negation_never_adds_a_finding(parse, data):
    pairs = _negatable_symptom_synonyms(parse)
    assert len(pairs) > 200
    fid, synonym = data.draw(st.sampled_from(pairs), label="synonym")
    template = data.draw(st.sampled_from(_TEMPLATES), label="template")
    # a denial word that is part of a longer phrase ("no sweating at all" is itself a phrase
    # for not sweating; "without drink..." one for stopping alcohol) is not a denial: the
    # property is about the scope of real denials (as in _find_negatable_symptom_synonyms)
    assume(not _denial_word_in_a_phrase(template.format(synonym)))
    denied = parse(template.format(synonym))
    assert fid not in denied.present, (template.format(synonym), sorted(denied.present))
    assert denied.present <= parse(synonym).present, (
        f"denying {synonym!r} added {sorted(denied.present - parse(synonym).present)}"
    )


def _denial_word_in_a_phrase(text: str) -> bool:
    """Whether the text's denial word is inside a longer finding phrase of the lexicon."""
    from twitchwise.app import default
    from twitchwise.understand.lexicon import FINDING

    lexicon = default().parser.lexicon
    tokens = lexicon.tokenize(text)
    matches, _ = lexicon.match(tokens)
    denial = next((i for i, t in enumerate(tokens) if t.norm in _DENIAL_WORDS), None)
    return denial is not None and any(
        m.category == FINDING and m.first <= denial <= m.last and m.length > 1 for m in matches
    )


_DENIAL_WORDS = frozenset({"no", "not", "without", "denies"})


def test_no_synonym_is_ever_read_as_present(parse):
    # every pair, not a sample: "no <synonym>" never yields the finding
    bad = []
    for fid, synonym in _negatable_symptom_synonyms(parse):
        evidence = parse(f"no {synonym}")
        if fid in evidence.present:
            bad.append(f"no {synonym} -> {fid}")
    assert not bad, bad


# ------------------------------------------------------------------ ranking


observations = st.builds(
    Observation,
    id=finding_ids,
    negated=st.booleans(),
    uncertain=st.booleans(),
)


@given(st.lists(observations, max_size=15))
def test_probabilities_well_formed_for_random_evidence(obs):
    from twitchwise.evidence import merge

    ranking = rank(KB, Evidence(observations=merge(obs)))
    probs = [r.probability for r in ranking]
    assert len(probs) == len(KB.causes)
    assert all(0.0 <= p <= 1.0 and math.isfinite(p) for p in probs)
    assert sum(probs) <= 1.0 + 1e-9
    assert probs == sorted(probs, reverse=True)
    for r in ranking:
        assert not set(r.supporting) & set(r.against)


@given(
    st.lists(
        st.tuples(st.booleans(), flag_or_any).map(lambda t: ("!" if t[0] else "") + t[1]),
        min_size=1,
        max_size=10,
    ),
    st.randoms(use_true_random=False),
)
def test_reordering_findings_does_not_change_the_answer(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    a, b = twitchwise.assess(items), twitchwise.assess(shuffled)
    assert [c.id for c in a.causes] == [c.id for c in b.causes]
    for x, y in zip(a.causes, b.causes, strict=True):
        assert math.isclose(x.probability, y.probability, rel_tol=1e-12, abs_tol=1e-15)
        assert x.supporting == y.supporting and x.against == y.against
    assert a.level is b.level
    assert a.summary == b.summary
    assert sorted((f.id, f.negated) for f in a.findings) == sorted(
        (f.id, f.negated) for f in b.findings
    )


# ------------------------------------------------------------------ the answer


@given(st.lists(flag_or_any, min_size=1, max_size=8), st.sampled_from([None, 5, 30, 70]),
       st.sampled_from([None, "female", "male"]))  # fmt: skip
def test_answer_to_dict_round_trips_through_json(ids, age, sex):
    answer = twitchwise.assess(ids, age=age, sex=sex)
    data = answer.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert json.loads(answer.render("json")) == data


@given(st.text(min_size=1, max_size=200))
def test_ask_on_any_text_gives_a_json_answer(text):
    assume(text.strip())
    answer = twitchwise.ask(text, today=TODAY)
    data = answer.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["triage"]["level"] in {level.value for level in TriageLevel}
    assert data["causes"] and all(0.0 <= c["probability"] <= 1.0 for c in data["causes"])


# ------------------------------------------------------------------ fail-safe red flags

POSSIBLE_SOURCES = sorted(KB.red_flag_findings)


@given(finding_sets, st.frozensets(st.sampled_from(POSSIBLE_SOURCES), max_size=4), flag_or_any)
def test_triage_is_monotone_in_possible_findings(present, possible, extra):
    base = triage(KB, present, possible).level
    assert triage(KB, present, possible | {extra}).level >= base
    # a possible red flag never counts less than nothing, and a present one at least as much
    assert base >= triage(KB, present).level
    assert triage(KB, present | possible, frozenset()).level >= base


_SENTENCES = st.sampled_from(
    ["my calf keeps twitching", "no chest pain", "I don't think my legs are weak",
     "my pee is a normal colour", "no numbness between my legs", "I can swallow fine",
     "not dizzy", "my eyelid flickers", "I slept 5 hours", "no fever, not confused",
     "my arm has been twitching for 3 weeks", "I have no weakness", "the ache has gone",
     "no trouble breathing", "I had 4 coffees", "no problems with my bladder"]
)  # fmt: skip
_ADDED = st.sampled_from(
    ["maybe", "I think", "actually", "well actually, come to think of it", "not sure",
     "lol", "anyway", "idk", "so yeah", "thanks in advance", "the weather is nice"]
)  # fmt: skip


@given(st.lists(_SENTENCES, min_size=1, max_size=5), _ADDED)
def test_a_hedge_retraction_or_filler_never_lowers_triage(parse, sentences, added):
    text = ". ".join(sentences)
    before = twitchwise.ask(text, today=TODAY).level
    for variant in (f"{text}. {added}", f"{added} {text}", f"{text} {added}"):
        assert twitchwise.ask(variant, today=TODAY).level >= before, variant


# ---------------------------------------------------------------- the plain terminal renderer


def _corpus_texts() -> list[str]:
    import yaml

    root = Path(__file__).parent / "corpus"
    items = yaml.safe_load((root / "utterances" / "dev.yaml").read_text(encoding="utf-8"))
    items += yaml.safe_load((root / "cases" / "dev.yaml").read_text(encoding="utf-8"))
    return [item["text"] for item in items]


def test_plain_terminal_text_is_what_rich_draws() -> None:
    """Piped ``twitchwise ask`` draws its text without Rich (start-up); every dev text's answer,
    at three widths, must come out byte for byte as Rich draws it."""
    from twitchwise.answer.render import _plain_terminal, _rich_terminal

    compared = 0
    for text in _corpus_texts()[::3]:
        answer = twitchwise.ask(text)
        for width in (100, 60, 41):
            plain = _plain_terminal(answer, width)
            if plain is None:
                continue
            compared += 1
            assert plain == _rich_terminal(answer, width=width), (text, width)
    assert compared > 500


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=400))
@settings(max_examples=60, deadline=None)
def test_plain_terminal_text_is_what_rich_draws_for_any_words(text: str) -> None:
    from twitchwise.answer.render import _plain_terminal, _rich_terminal

    if not text.strip():
        return
    answer = twitchwise.ask(text)
    for width in (100, 23):
        plain = _plain_terminal(answer, width)
        if plain is not None:
            assert plain == _rich_terminal(answer, width=width)
