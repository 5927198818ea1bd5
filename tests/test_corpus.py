"""The blind-written corpus (tests/corpus): its shape, and floors on its dev part.

The floors are ratchets on what the dev part scores today, so a change to the lexicon or the
parser that loses ground fails here. The sealed part is never scored by the tests: it is
scored once at the end of a working session (docs/understanding.md, "Evaluation corpus").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import twitchwise
from twitchwise.app import default
from twitchwise.app.evaluation import evaluate, load_cases
from twitchwise.app.evaluation.utterances import score_utterances

CORPUS = Path(__file__).parent / "corpus"
KB = twitchwise.load_knowledge()


def _items(kind: str, part: str) -> list[dict[str, object]]:
    data = yaml.safe_load((CORPUS / kind / f"{part}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


@pytest.mark.parametrize("kind", ["utterances", "cases"])
def test_dev_and_sealed_parts_do_not_overlap(kind: str) -> None:
    dev, sealed = _items(kind, "dev"), _items(kind, "sealed")
    assert len(dev) > 50 and len(sealed) > 50
    assert not {i["id"] for i in dev} & {i["id"] for i in sealed}
    assert not {i["text"] for i in dev} & {i["text"] for i in sealed}


def test_corpus_size() -> None:
    utterances = len(_items("utterances", "dev")) + len(_items("utterances", "sealed"))
    cases = len(_items("cases", "dev")) + len(_items("cases", "sealed"))
    assert utterances >= 1500
    assert cases >= 150


#: Dev cases written blind in the fourth session (ids D5-, D6-), studied after the floors
#: below were set on the others: they have floors of their own, from their first study.
LATER_DEV = ("D5-", "D6-")


def test_dev_cases_floor() -> None:
    cases = load_cases(CORPUS / "cases" / "dev.yaml")
    result = evaluate([c for c in cases if not c.id.startswith(LATER_DEV)])
    assert not result.under_triaged, [c.id for c in result.under_triaged]
    assert result.triage_acceptable.rate >= 0.95
    assert result.self_care_kept.rate >= 0.80
    assert result.top1.rate >= 0.80
    assert result.top3.rate >= 0.93


def test_later_dev_cases_floor() -> None:
    """The D5 cases: no serious case under-triaged (4 were when they arrived), and the rates
    they reached when studied (acceptable 59/72 -> 66/72, self-care kept 8/18 -> 12/18)."""
    cases = load_cases(CORPUS / "cases" / "dev.yaml")
    result = evaluate([c for c in cases if c.id.startswith("D5-")])
    assert len(result.results) == 72
    assert not result.under_triaged, [c.id for c in result.under_triaged]
    assert result.triage_acceptable.rate >= 0.9
    assert result.self_care_kept.rate >= 0.65
    assert result.top1.rate >= 0.7
    assert result.top3.rate >= 0.9


#: Dev utterances written blind in the ninth session (harder on purpose: red flags in everyday
#: words, hard negatives, long mixed messages), with a floor of their own, set when studied.
NINTH_UTTERANCES = ("U21-", "U22-", "U23-", "U24-", "U25-", "U26-")
#: And in the tenth (weak red flags in lay words, text-speak and typos, everyday words that look
#: like findings, benign messages that brush against warning signs).
TENTH_UTTERANCES = ("U27-", "U28-", "U29-", "U30-", "U31-")
#: And in the eleventh (ten weak red flags in lay words; eighteen other red flags, a third of
#: them about someone else; ordinary findings in slang, typos and many ways of saying a time).
ELEVENTH_UTTERANCES = ("U32-", "U33-", "U34-")
#: And in the twelfth (every red flag present, hedged, denied, someone else's and over, in long
#: messages; ages, times and amounts said every way; ordinary findings, every one at least once;
#: the eight red flags weakest on the sealed sets, 30 ways each; everyday words that sound like
#: findings; ten red flags by writers whose first language is not English, teenagers, parents).
TWELFTH_UTTERANCES = ("U35-", "U36-", "U37-", "U38-", "U39-", "U40-")


def _utterance_floor(
    prefixes: tuple[str, ...] | None, size: int, f1: float, red_flag_recall: float
) -> None:
    """The dev utterances whose ids start with one of ``prefixes`` (None: those of the first
    eight sessions, every id not in a later group) hold their micro F1 and their recall over
    all red flags."""
    later = NINTH_UTTERANCES + TENTH_UTTERANCES + ELEVENTH_UTTERANCES + TWELFTH_UTTERANCES
    items = [
        i
        for i in _items("utterances", "dev")
        if (
            str(i["id"]).startswith(prefixes)
            if prefixes is not None
            else not str(i["id"]).startswith(later)
        )
    ]
    assert len(items) == size
    result = score_utterances(items, KB, default().parser)
    assert result.micro.f1 >= f1, result.micro
    flags = [result.per_finding[f] for f in result.red_flag_recall]
    found = sum(c.tp for c in flags)
    total = sum(c.tp + c.fn for c in flags)
    assert found / total >= red_flag_recall, (found, total)


def test_dev_utterances_floor() -> None:
    """The dev utterances of the first eight sessions hold their floor."""
    _utterance_floor(None, 3415, f1=0.87, red_flag_recall=0.93)


def test_ninth_session_dev_utterances_floor() -> None:
    """U21-U26, dev half: micro F1 0.83 and red-flag recall 0.885 when studied; on arrival
    U21 read at F1 0.850, U22 0.858, U23 0.782, U24 0.795, U25 0.832, U26 0.811."""
    _utterance_floor(NINTH_UTTERANCES, 723, f1=0.82, red_flag_recall=0.87)


def test_tenth_session_dev_utterances_floor() -> None:
    """U27-U31, dev half: micro F1 0.870 and red-flag recall 0.972 when studied (in sample for
    the retrained backstop; before it, U27-U30 read at 0.874 and 0.926). On arrival U27 read at
    F1 0.851, U28 0.893, U29 0.865, U30 0.876, U31 0.835 (code of the moment)."""
    _utterance_floor(TENTH_UTTERANCES, 612, f1=0.86, red_flag_recall=0.95)


def test_eleventh_session_dev_utterances_floor() -> None:
    """U32-U34, dev half: micro F1 0.858 and red-flag recall 0.918 when studied (out of sample
    for the backstop, which was trained in the tenth session). On arrival (code of the session's
    start, U33 after two small changes) U32 read at F1 0.843 with mean per-flag recall 0.80,
    U33 at 0.834 (0.84), U34 at 0.876."""
    _utterance_floor(ELEVENTH_UTTERANCES, 368, f1=0.85, red_flag_recall=0.9)


def test_twelfth_session_dev_utterances_floor() -> None:
    """U35-U40, dev half: micro F1 0.843 and red-flag recall 0.873 when studied; on arrival U35
    read at F1 0.808 (mean per-flag recall 0.835), U36 0.844, U37 0.857, U38 0.806 (0.773), U39
    0.830 and U40, written late in the session, 0.829 (0.738)."""
    _utterance_floor(TWELFTH_UTTERANCES, 682, f1=0.83, red_flag_recall=0.86)


def test_d6_dev_cases_floor() -> None:
    """The D6 cases, written to be hard (warning signs in passing, false alarms in self-care
    cases): none serious under-triaged (4 were when they arrived), acceptable 48/64 -> 52/64,
    self-care kept 9/16 -> 10/16 when studied."""
    cases = load_cases(CORPUS / "cases" / "dev.yaml")
    result = evaluate([c for c in cases if c.id.startswith("D6-")])
    assert len(result.results) == 64
    assert not result.under_triaged, [c.id for c in result.under_triaged]
    assert result.triage_acceptable.rate >= 0.8
    assert result.self_care_kept.rate >= 0.6
    assert result.top1.rate >= 0.8
    assert result.top3.rate >= 0.9


def _floor(
    name: str,
    under: list[str],
    acceptable: float,
    self_care: float,
    top1: float,
    top3: float,
    *,
    size: int = 48,
) -> None:
    """A dev case file of ``size`` cases holds its floor: exactly ``under`` under-triaged
    (named, by choice) and the rates it reached when studied."""
    result = evaluate(load_cases(CORPUS / "cases" / name))
    assert len(result.results) == size
    assert [c.id for c in result.under_triaged] == under
    assert result.triage_acceptable.rate >= acceptable
    assert result.self_care_kept.rate >= self_care
    assert result.top1.rate >= top1
    assert result.top3.rate >= top3


def test_d7_dev_cases_floor() -> None:
    """The D7 cases (medicines and conditions people live with). One serious case is
    under-triaged by choice and named here (repeated hypos after a gliclazide increase: the
    writer says the same day, NHS guidance says tell the diabetes team); no other may be.
    When studied: under-triaged 3 -> 1, acceptable 35/48 -> 37/48."""
    _floor("dev_d7.yaml", ["D7-003"], acceptable=0.75, self_care=0.0, top1=0.78, top3=0.9)


def test_d8_dev_cases_floor() -> None:
    """The D8 cases (questions posted to doctor Q&A sites and forums, fifth session). When
    studied: under-triaged 2 -> 0, acceptable 38/48 -> 42/48, self-care kept 6/12 -> 7/12."""
    _floor("dev_d8.yaml", [], acceptable=0.85, self_care=0.55, top1=0.8, top3=0.95)


def test_d9_dev_cases_floor() -> None:
    """The D9 cases (phone typing, non-native English, older people writing formally; fifth
    session). One emergency case is answered urgent, which its writer also accepts (a TIA in
    a parent that has passed; the NHS says 999 even then): it is named. When studied:
    under-triaged 2 -> 1, acceptable 41/48 -> 42/48."""
    _floor("dev_d9.yaml", ["D9-017"], acceptable=0.85, self_care=0.0, top1=0.85, top3=0.95)


def test_d10_dev_cases_floor() -> None:
    """The D10 cases (sixth session): harmless cases a nervous tool over-triages, and serious
    ones in lay words. When studied: under-triaged 3 -> 0 (dialysis and new weakness, a
    reliever every 2-3 hours, serotonin syndrome described by a friend), acceptable 40/48 ->
    45/48, self-care kept 13/18 -> 14/18."""
    _floor("dev_d10.yaml", [], acceptable=0.9, self_care=0.75, top1=0.88, top3=0.95)


def test_d11_dev_cases_floor() -> None:
    """The D11 cases (sixth session): serious cases whose warning sign is hidden in everyday
    words. When studied: under-triaged 2 -> 0 (a stroke that began by teatime in a man whose
    hand had twitched for weeks; weakness and an irregular heartbeat after a missed
    dialysis), acceptable 37/48 -> 44/48."""
    _floor("dev_d11.yaml", [], acceptable=0.88, self_care=0.0, top1=0.85, top3=0.95)


def test_d12_dev_cases_floor() -> None:
    """The D12 cases (sixth session): forum and chat posts with updates, numbers and medicines.
    When studied: none under-triaged as they arrived; acceptable 37/48 -> 38/48."""
    _floor("dev_d12.yaml", [], acceptable=0.77, self_care=0.0, top1=0.77, top3=0.93)


def test_d13_dev_cases_floor() -> None:
    """The D13 cases (carers and families writing about an older parent, a baby, a child or a
    partner; older people writing for themselves), written blind at the start of the seventh
    session. Two serious cases are under-triaged by choice: D13-020, hypos after a gliclazide
    increase (as D7-003: the writer says the same day, NHS guidance says tell the diabetes
    team), and D13-031, a new mother's overactive thyroid answered routine, which its writer also
    accepts. As they arrived: under-triaged 3, acceptable 34/48, self-care kept 5/12."""
    _floor(
        "dev_d13.yaml", ["D13-020", "D13-031"], acceptable=0.8, self_care=0.65, top1=0.85, top3=0.93
    )


#: The 60-case dev files of the eighth to eleventh sessions: (file, serious cases under-triaged
#: by choice, acceptable, self-care kept, top-1, top-3), the rates they reached when studied.
#: D16-016 (hypos after a sulfonylurea increase, as D7-003) is under by choice. D17-D20 as they
#: arrived: D17 1 of 24 serious under-triaged, acceptable 48/60; D18 2 of 24, 54/60; D19 1 of
#: 26, 52/60 (mid-session code); D20 2 of 26, 49/60. Three serious cases stay at a level their
#: writers also accept: D18-004 and D20-015, acute dystonia after metoclopramide (urgent, as
#: the cited rule says; emergency only with breathing or swallowing trouble); D20-048, hand
#: spasms and lip tingling after a gastric sleeve (urgent; emergency only after neck surgery
#: or with throat tightness, breathing trouble, palpitations or a fit). D21-D23 as they arrived
#: (tenth session, code of that morning): D21 3 of 24 serious under-triaged, acceptable 50/60;
#: D22 0 of 15, 54/60; D23 3 of 30, 49/60. Under by choice: D21-022 (racing heart and weight
#: loss after stopping carbimazole: the cited thyroid rules are routine, no sign of a thyroid
#: storm); D23-018 (cramps and dizziness after a diuretic increase: routine, which its writer
#: also accepts); D23-026 (restlessness after an antipsychotic increase: the guidance is to
#: speak to the prescriber). D24 arrived with 7 of 28 serious under-triaged (49/60); two stay:
#: D24-054 (hands in claws, numb lips and fast breathing, with no surgery or breathing trouble:
#: urgent by the cited rule, its writer says emergency); D24-010 (a slow pulse of 46 and dizzy
#: turns after a donepezil increase) stayed too until the eleventh session read "plus the runs
#: most days" as diarrhoea, which with donepezil is urgent by the cited rule. D25-D26 as they
#: arrived (eleventh session, the code of its start): D25 1 of 28 serious under-triaged,
#: acceptable 57/60, self-care kept 16/18; D26 1 of 15, 52/60, 21/30. When studied: none under,
#: D25 59/60 and 18/18, D26 55/60 and 22/30. D27-D29 as they arrived (twelfth session, the code
#: of its start): D27 0 of 30 serious under-triaged, acceptable 52/60, self-care kept 10/15; D28
#: 0 of 30, 49/60, 9/15; D29 3 of 30, 56/60, 15/15. When studied: D27 54/60 and 11/15, D28 52/60
#: and 12/15, D29 57/60 and 15/15 with two under by choice: D29-019 (a dystonic reaction after an
#: anti-sickness medicine: urgent by the cited rule, which its writer also accepts) and D29-021
#: (repeated jerking of one hand in someone with epilepsy, aware throughout: no cited rule makes
#: known epilepsy with jerking urgent, and one would raise three self-care cases of sleep jerks).
LATER_FLOORS = [
    ("dev_d14.yaml", [], 0.9, 0.7, 0.82, 0.95),
    ("dev_d15.yaml", [], 0.85, 0.65, 0.86, 0.96),
    ("dev_d16.yaml", ["D16-016"], 0.85, 0.6, 0.8, 0.93),
    ("dev_d17.yaml", [], 0.83, 0.7, 0.85, 0.96),
    ("dev_d18.yaml", ["D18-004"], 0.93, 0.8, 0.8, 0.93),
    ("dev_d19.yaml", [], 0.91, 0.7, 0.85, 0.93),
    ("dev_d20.yaml", ["D20-015", "D20-048"], 0.88, 0.65, 0.78, 0.9),
    ("dev_d21.yaml", ["D21-022"], 0.9, 0.7, 0.8, 0.93),
    ("dev_d22.yaml", [], 0.95, 0.85, 0.88, 0.95),
    ("dev_d23.yaml", ["D23-018", "D23-026"], 0.93, 0.75, 0.73, 0.85),
    ("dev_d24.yaml", ["D24-054"], 0.9, 0.7, 0.8, 0.93),
    ("dev_d25.yaml", [], 0.95, 0.9, 0.83, 0.95),
    ("dev_d26.yaml", [], 0.9, 0.73, 0.93, 0.93),
    ("dev_d27.yaml", [], 0.88, 0.7, 0.86, 0.91),
    ("dev_d28.yaml", [], 0.85, 0.73, 0.8, 0.93),
    ("dev_d29.yaml", ["D29-019", "D29-021"], 0.93, 0.93, 0.93, 0.95),
]


@pytest.mark.parametrize(("name", "under", "acceptable", "self_care", "top1", "top3"), LATER_FLOORS)
def test_later_60_case_dev_files_floor(
    name: str, under: list[str], acceptable: float, self_care: float, top1: float, top3: float
) -> None:
    _floor(name, under, acceptable, self_care, top1, top3, size=60)
