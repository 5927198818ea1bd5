"""Understanding lay text: negation, hedging, quantities, regions, medicines, typos, other people.

Most cases are data in ``cases/understanding.yaml``; a case with ``xfail`` documents a known
parser bug and is strictly expected to fail until the parser is fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import twitchwise
from twitchwise.evidence import Evidence

CASES_FILE = Path(__file__).parent / "cases" / "understanding.yaml"
CASE_KEYS = {
    "id",
    "text",
    "present",
    "negated",
    "absent",
    "uncertain",
    "possible",
    "quantities",
    "xfail",
}


def _load_cases() -> list[dict]:
    cases = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases
    return cases


CASES = _load_cases()


def _param(case: dict):
    marks = []
    if case.get("xfail"):
        marks.append(pytest.mark.xfail(strict=True, reason=case["xfail"]))
    return pytest.param(case, id=case["id"], marks=marks)


def test_case_file_is_well_formed(kb):
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    for case in CASES:
        assert set(case) <= CASE_KEYS, f"{case['id']}: unknown keys {set(case) - CASE_KEYS}"
        assert case["text"].strip()
        expectations = ("present", "negated", "absent", "uncertain", "possible", "quantities")
        assert any(k in case for k in expectations), f"{case['id']} checks nothing"
        for key in ("present", "negated", "absent", "uncertain", "possible"):
            unknown = [f for f in case.get(key, []) if f not in kb.findings]
            assert not unknown, f"{case['id']}: unknown finding ids {unknown}"


def _describe(evidence: Evidence) -> str:
    parts = []
    for o in evidence.observations:
        flag = "!" if o.negated else "?" if o.uncertain else ""
        parts.append(f"{flag}{o.id}[{o.text}]")
    return ", ".join(parts) + f"; quantities={dict(evidence.quantities)}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_understanding(case, parse):
    evidence = parse(case["text"])
    seen = _describe(evidence)
    for fid in case.get("present", []):
        assert fid in evidence.present, f"{fid} should be present; got {seen}"
    for fid in case.get("negated", []):
        assert fid in evidence.negated, f"{fid} should be negated; got {seen}"
        assert fid not in evidence.present, f"{fid} is denied but also present; got {seen}"
    for fid in case.get("absent", []):
        assert fid not in evidence.present, f"{fid} should not be present; got {seen}"
    for fid in case.get("uncertain", []):
        assert fid in evidence.present, f"{fid} should be present (hedged); got {seen}"
        assert fid in evidence.uncertain, f"{fid} should be uncertain; got {seen}"
    for fid in case.get("possible", []):
        assert fid in evidence.possible, f"{fid} should be possible (a doubtful denial); got {seen}"
        assert fid not in evidence.negated, f"{fid} must not be denied; got {seen}"
    for name, value in case.get("quantities", {}).items():
        assert name in evidence.quantities, f"no quantity {name}; got {seen}"
        assert evidence.quantities[name] == pytest.approx(value, abs=0.01), seen


# ------------------------------------------------------------------ negation and hedging


def test_negated_finding_is_not_uncertain(parse):
    evidence = parse("no weakness. Maybe some numbness.")
    assert "weakness" in evidence.negated
    assert "weakness" not in evidence.uncertain
    assert "numbness" in evidence.uncertain


def test_firm_statement_is_not_uncertain(parse):
    evidence = parse("my calf is numb")
    assert "numbness" in evidence.present
    assert "numbness" not in evidence.uncertain


def test_affirmed_and_denied_counts_as_present(parse):
    evidence = parse("no weakness at first. Now my arm is weak.")
    assert "weakness" in evidence.present, "safety first: an affirmed finding wins over a denial"


def test_negated_medicine_is_not_listed_as_taken(parse):
    evidence = parse("I don't take omeprazole")
    assert "med_ppi" in evidence.negated
    assert evidence.medicines == ()


def test_medicines_listed_as_written(parse):
    evidence = parse("I take Losec and Lipitor")
    assert {"med_ppi", "med_statin"} <= evidence.present
    assert [m.lower() for m in evidence.medicines] == ["losec", "lipitor"]


# ------------------------------------------------------------------ other people


def test_family_history_does_not_make_motor_neurone_disease_likely():
    answer = twitchwise.ask("my dad had ALS")
    present = {f.id for f in answer.findings if not f.negated}
    assert not present & {"weakness", "muscle_wasting", "speech_change", "swallowing_difficulty"}
    assert answer.causes[0].id != "motor_neuron_disease"
    assert answer.level is twitchwise.TriageLevel.SELF_CARE


# ------------------------------------------------------------------ spans, not understood


def test_observation_text_is_a_span_of_the_input(parse):
    text = "My LEFT calf has been twitching for 3 weeks, no weakness, 4 coffees a day"
    evidence = parse(text)
    spans = [o for o in evidence.observations if o.start is not None]
    assert spans
    for o in spans:
        assert text[o.start : o.end] == o.text, o
    assert evidence.get("weakness") is not None
    assert evidence.get("weakness").text.lower() == "weakness"


def test_not_understood_reports_a_clause_without_medical_content(parse):
    evidence = parse("I bought a new sofa from the shop yesterday. My eyelid twitches.")
    assert {"twitching", "region_eyelid"} <= evidence.present
    assert len(evidence.not_understood) == 1
    assert "bought a new sofa" in evidence.not_understood[0]
    assert "eyelid" not in evidence.not_understood[0]


def test_fully_understood_text_reports_nothing(parse):
    evidence = parse("my left calf keeps twitching, no weakness")
    assert evidence.not_understood == ()


def test_not_understood_reaches_the_answer():
    answer = twitchwise.ask("my calf twitches. the neighbours painted their fence purple")
    assert any("fence" in piece for piece in answer.not_understood)
    assert any("fence" in piece for piece in answer.to_dict()["not_understood"])


def test_text_without_findings_gives_empty_evidence(parse):
    evidence = parse("hello there")
    assert evidence.present == frozenset()
    assert evidence.negated == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "\n\t", ".", "!!!", "----", "no", "not not not", "maybe", "my dad had",
        "for", "since", "since last", "for 3", "3", "4-5", "1e9 coffees", "999999999999 hours",
        "0 coffees", "-5 years old", "I'm 0", "I'm 200", "38.7", "38.7c", "100f", "60s",
        "in my 60s", "half a", "a couple of", "(", ")", "()", "’’’", "can't won't don't",
        "ÉÑ 漢字 🙂", "\x00\x01", "twitch " * 3000, "no " * 500 + "weakness",
    ],
)  # fmt: skip
def test_parse_never_raises_on_odd_text(parse, kb, text):
    evidence = parse(text)
    assert isinstance(evidence, Evidence)
    assert all(o.id in kb.findings for o in evidence.observations)
    assert all(isinstance(v, (int, float)) for v in evidence.quantities.values())


@pytest.mark.parametrize(
    ("text", "not_read"),
    [
        ("Confession: I stopped my vitamins. My hands twitch", "confusion"),
        ("I was attending a wedding and my eye twitches", "ascending_weakness"),
    ],
)
def test_an_english_word_is_not_read_as_a_typo(parse, text: str, not_read: str) -> None:
    """Real words near a known word are left alone (lexicon real_words, made by
    scripts/real_words.py); a red flag read through a typo would otherwise be asked about."""
    evidence = parse(text)
    assert not_read not in evidence.present | evidence.possible


def test_typos_are_still_corrected(parse) -> None:
    evidence = parse("confussion since this morning and my calff is twichin")
    assert {"confusion", "region_calf", "twitching"} <= evidence.present | evidence.possible
