"""The content errors of issue 14 section 2, each held by a test where a test can hold it.

Each test names the error it keeps out: cup sizes for caffeine, one GP rule and the eye's own
warning signs for the eyelid, "very rarely, if ever" for motor neurone disease, potassium and
sports drinks said accurately, one magnesium supplement limit (EFSA, 250 mg), an irregular
heartbeat on a PPI as a same-day matter, medicines that say what they do, and the 48-hour and
warm-up advice cited to sources that say it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import twitchwise
from twitchwise.guides import build_guide, topics
from twitchwise.guides.model import Guide
from twitchwise.guides.pages import medicines_page
from twitchwise.knowledge.load import DATA_DIR, KnowledgeBase


@pytest.fixture(scope="module")
def guides(kb: KnowledgeBase) -> dict[str, Guide]:
    return {t.id: build_guide(t, kb) for t in topics(kb)}


def data_text() -> str:
    """Every YAML file of the knowledge base, as one lower-case text with single spaces."""
    text = " ".join(p.read_text("utf-8") for p in sorted(Path(DATA_DIR).rglob("*.yaml")))
    return " ".join(text.split()).lower()


@pytest.mark.parametrize(
    "phrase",
    [
        "about two mugs of coffee",  # 200 mg is one mug of filter coffee or two of instant
        "four mugs",  # 400 mg is about three UK mugs of filter coffee (about 140 mg each)
        "not how it presents",  # MND: "very rarely, if ever"
        "have not gone on to develop",
        "not twitchy",  # potassium: usually weakness and cramps rather than twitching
        "causes weakness, not twitching",
        "much more dilute than blood",  # sports drinks: far less sodium than blood
        "under 350 mg",  # magnesium supplements: the EFSA 250 mg limit
        "more than 350 mg a day of magnesium",
        "limit 350 mg from",
        "more than 350 mg a day from supplements",
        "5-10 minutes",  # warm-up: cited to a source that says about 10 minutes
        "48 hours of easy activity",
        "older fact-sheet versions",  # internal notes are not content
        "some page versions",
    ],
)
def test_error_is_gone_from_the_knowledge_base(phrase: str) -> None:
    assert phrase not in data_text()


def test_caffeine_cup_sizes_are_said(kb: KnowledgeBase, guides: dict[str, Guide]) -> None:
    pregnancy = guides["pregnancy"].core_text()
    assert "one mug of filter coffee or two mugs of instant coffee" in pregnancy
    assert "200 mg a day" in pregnancy
    knee = guides["knee"].core_text()
    assert "three UK mugs of filter coffee, at about 140 mg a mug" in knee
    caffeine = next(a for a in kb.plan.advice if a.id == "caffeine_general")
    assert "UK mug of filter coffee has about 140 mg" in caffeine.text
    assert "nhs-pregnancy-foods" in caffeine.sources
    coffee = next(d for d in kb.plan.caffeine_drinks if d.id == "coffee")
    assert "8 oz (237 mL) US cup" in coffee.serving and "UK mug" in coffee.serving


def test_eyelid_red_eye_and_drooping_lid_mean_see_a_gp() -> None:
    for text in (
        "my eyelid keeps twitching and the eye is red and sticky",
        "my left eyelid twitches and now my eyelid is drooping",
    ):
        answer = twitchwise.ask(text)
        assert answer.level.value == "see_doctor_routine", text
    assert twitchwise.ask("my eyelid has twitched for 3 days").level.value == "self_care"


def test_mnd_and_benign_twitching_are_not_absolute(kb: KnowledgeBase) -> None:
    mnd = kb.causes["motor_neuron_disease"]
    bfs = kb.causes["benign_fasciculation_syndrome"]
    assert "very rarely, if ever" in mnd.mechanism and "very rarely, if ever" in mnd.explanation
    assert "very rarely, if ever" in bfs.mechanism


def test_potassium_and_sports_drinks_are_said_accurately(kb: KnowledgeBase) -> None:
    potassium = kb.causes["low_potassium"]
    assert "usually causes weakness and cramps rather than twitching" in potassium.mechanism
    nutrient = next(n for n in kb.plan.nutrients if n.id == "potassium")
    assert "usually causes weakness and cramps" in " ".join(nutrient.role.split())
    assert "contain far less sodium than blood" in " ".join(
        kb.causes["low_sodium"].mechanism.split()
    )


def test_one_magnesium_supplement_limit(kb: KnowledgeBase) -> None:
    """Every statement of the limit for magnesium from supplements is EFSA's 250 mg."""
    texts = [a.text for a in kb.plan.advice] + list(kb.causes["low_magnesium"].self_care)
    texts += [n.upper_limit for n in kb.plan.nutrients if n.id == "magnesium"]
    texts += [c.correct for c in kb.seeds.corrections]
    texts += [f.answer for t in kb.topics.values() for f in t.faq]
    limits = []
    for text in texts:
        flat = " ".join(text.split())
        if "magnesium" in flat.lower() and "supplement" in flat.lower():
            limits += re.findall(r"(\d+) mg a day (?:of magnesium )?from supplements", flat)
            limits += re.findall(r"no more than (\d+) mg of magnesium", flat)
    assert limits and set(limits) == {"250"}, limits
    assert (
        "efsa-ul-summary"
        in next(a for a in kb.plan.advice if a.id == "supplements_caution").sources
    )


@pytest.mark.parametrize(
    ("findings", "level"),
    [
        (["twitching", "med_ppi", "irregular_heartbeat"], "see_doctor_urgent"),
        (
            ["twitching", "med_ppi", "medicine_long_term", "irregular_heartbeat"],
            "see_doctor_urgent",
        ),
        (["twitching", "med_ppi", "irregular_heartbeat", "chest_pain"], "emergency"),
        (["twitching", "med_ppi", "irregular_heartbeat", "breathing_difficulty"], "emergency"),
        (["twitching", "med_ppi", "irregular_heartbeat", "fainting"], "emergency"),
        (["twitching", "med_ppi", "carpopedal_spasm"], "emergency"),
        # arrhythmia with muscle spasm (told as cramps) stays an emergency
        (["twitching", "med_ppi", "irregular_heartbeat", "cramps"], "emergency"),
        (["twitching", "med_ppi", "seizure"], "emergency"),
    ],
)
def test_irregular_heartbeat_on_a_ppi_is_a_same_day_matter(findings: list[str], level: str) -> None:
    """Same day, unless there is chest pain, breathlessness or fainting (or spasms or a fit)."""
    assert twitchwise.assess(findings).level.value == level


def test_ppi_heartbeat_reasons_say_same_day(kb: KnowledgeBase) -> None:
    flag = next(r for r in kb.red_flags if r.id == "ppi_irregular_heartbeat")
    assert flag.level.value == "see_doctor_urgent"
    assert "same-day" in flag.reason and "chest pain, feel breathless or faint" in flag.reason
    emergency = next(r for r in kb.red_flags if r.id == "ppi_low_magnesium_emergency")
    assert "irregular_heartbeat" not in {f for g in emergency.groups() for f in g}


def test_urgent_box_headings_agree_with_their_signs(guides: dict[str, Guide]) -> None:
    """A heading that says "today" holds no sign whose advice says "within days"."""
    for guide in guides.values():
        for group in guide.warnings:
            for sign in group.signs:
                if group.action == "today":
                    assert (
                        "within days" not in sign.reason and "within a few days" not in sign.reason
                    )
                if group.action == "days":
                    assert "within" in sign.reason and "days" in sign.reason


def test_medicines_say_what_each_does(kb: KnowledgeBase) -> None:
    page = medicines_page(kb)
    assert len(page.medicines) >= 10
    for medicine in page.medicines:
        assert len(medicine.does.split()) >= 8, medicine.id
        names = {c.title.lower() for c in medicine.leads_to}
        assert medicine.does.lower().rstrip(".") not in names, medicine.id
        assert medicine.sources, medicine.id


def test_rest_and_warm_up_advice_cite_sources_that_say_it(kb: KnowledgeBase) -> None:
    by_id = {a.id: a for a in kb.plan.advice}
    assert "48 hours" in by_id["rest"].text and "garber2011-acsm" in by_id["rest"].sources
    assert "10 minutes" in by_id["warm_up"].text and by_id["warm_up"].sources == [
        "nhsinform-warmup"
    ]
    for advice in kb.plan.advice:
        if "48 hours" in advice.text:
            assert "garber2011-acsm" in advice.sources, advice.id
    for topic in kb.topics.values():
        for faq in topic.faq:
            if "48 hours" in faq.answer:
                assert "garber2011-acsm" in faq.sources, topic.id
