"""The Python API: exports, ask/assess, the JSON contract, input errors and rendering."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest

import twitchwise
from twitchwise import Answer, InputError, TriageLevel, TwitchwiseError

LEVELS = ["self_care", "see_doctor_routine", "see_doctor_urgent", "emergency"]

#: One text per triage level (checked below), so the contract is checked at every level.
TEXT_BY_LEVEL = {
    "self_care": "my left eyelid has twitched for 3 days, exam week, 5 hours sleep, no weakness",
    "see_doctor_routine": "my calf has been twitching for 3 weeks, no weakness",
    "see_doctor_urgent": "twitching all over, my hand muscles are wasting, I keep dropping things",
    "emergency": "my arm keeps twitching and I have chest pain",
}


def test_all_is_pinned():
    assert twitchwise.__all__ == [
        "Answer",
        "ConfigError",
        "InputError",
        "JournalError",
        "KnowledgeBase",
        "KnowledgeError",
        "TriageLevel",
        "Twitchwise",
        "TwitchwiseError",
        "__version__",
        "ask",
        "assess",
        "load_knowledge",
    ]
    assert twitchwise.__all__ == sorted(twitchwise.__all__)
    for name in twitchwise.__all__:
        assert hasattr(twitchwise, name), name


def test_version():
    assert twitchwise.__version__ == "0.1.0"


def test_error_tree():
    for name in ("ConfigError", "InputError", "JournalError", "KnowledgeError"):
        assert issubclass(getattr(twitchwise, name), TwitchwiseError)
    assert issubclass(InputError, ValueError)


@pytest.fixture(scope="module")
def answers() -> dict[str, Answer]:
    return {level: twitchwise.ask(text) for level, text in TEXT_BY_LEVEL.items()}


def test_sample_texts_reach_every_level(answers):
    assert {level: a.level.value for level, a in answers.items()} == {lv: lv for lv in LEVELS}


def test_ask_and_assess_return_answers():
    assert isinstance(twitchwise.ask("my eyelid twitches"), Answer)
    answer = twitchwise.assess(["twitching", "region_calf", "!weakness"], age=34, sex="female")
    assert isinstance(answer, Answer)
    assert isinstance(answer.level, TriageLevel)
    assert {"twitching", "region_calf", "sex_female", "age_18_39"} <= {
        f.id for f in answer.findings if not f.negated
    }
    assert ("weakness", True) in {(f.id, f.negated) for f in answer.findings}


def test_age_and_sex_arguments_override_the_text():
    answer = twitchwise.ask("I'm 61 and my calf twitches", age=25, sex="male")
    present = {f.id for f in answer.findings if not f.negated}
    assert "age_18_39" in present and "age_60_plus" not in present
    assert "sex_male" in present


# ------------------------------------------------------------------ the JSON contract

TOP_KEYS = {"summary", "triage", "causes", "findings", "not_understood", "plan", "sources"}


def check_contract(data: dict) -> None:
    assert set(data) == TOP_KEYS
    assert isinstance(data["summary"], str) and data["summary"].strip()
    assert "\n" not in data["summary"], "the summary is one line"

    assert set(data["triage"]) == {"level", "reasons", "possible"}
    assert data["triage"]["level"] in LEVELS
    for possible in data["triage"]["possible"]:
        assert set(possible) == {"finding", "text", "question"}
        assert all(isinstance(v, str) and v for v in possible.values())
    for reason in data["triage"]["reasons"]:
        assert set(reason) == {"finding", "text", "source"}
        assert all(isinstance(v, str) and v for v in reason.values())
    assert bool(data["triage"]["reasons"]) == (data["triage"]["level"] != "self_care")

    assert data["causes"]
    for cause in data["causes"]:
        assert set(cause) == {"id", "name", "probability", "for", "against", "explanation"}
        assert isinstance(cause["probability"], float)
        assert 0.0 <= cause["probability"] <= 1.0
        assert all(isinstance(f, str) for f in cause["for"] + cause["against"])
        assert isinstance(cause["explanation"], str) and cause["explanation"]
    probs = [c["probability"] for c in data["causes"]]
    assert probs == sorted(probs, reverse=True), "causes are best first"
    assert sum(probs) <= 1.0 + 1e-6

    for finding in data["findings"]:
        assert set(finding) == {"id", "negated", "text"}
        assert isinstance(finding["negated"], bool)
        assert isinstance(finding["text"], str)
    negated = {f["id"]: f["negated"] for f in data["findings"]}
    for cause in data["causes"]:
        for entry in cause["for"] + cause["against"]:
            # a finding the person reported; "!id" when they denied it
            assert entry.lstrip("!") in negated, (cause["id"], entry)
            if entry.startswith("!"):
                assert negated[entry[1:]], (cause["id"], entry)
    assert all(isinstance(piece, str) for piece in data["not_understood"])

    for item in data["plan"]:
        assert set(item) == {"kind", "text", "source"}
        assert all(isinstance(v, str) and v for v in item.values())

    assert data["sources"]
    for source in data["sources"]:
        assert set(source) == {"id", "title", "url"}
        assert re.match(r"^https?://", source["url"])
    ids = [s["id"] for s in data["sources"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("level", LEVELS)
def test_to_dict_has_exactly_the_contract_keys(answers, level):
    data = answers[level].to_dict()
    check_contract(data)
    assert data["triage"]["level"] == level


def test_assess_to_dict_has_the_contract_keys():
    check_contract(twitchwise.assess(["twitching", "!weakness", "chest_pain"]).to_dict())


def test_cited_sources_are_listed(answers, kb):
    for answer in answers.values():
        data = answer.to_dict()
        listed = {s["id"] for s in data["sources"]}
        cited = {r["source"] for r in data["triage"]["reasons"]} | {
            p["source"] for p in data["plan"]
        }
        assert cited <= listed
        assert listed <= set(kb.sources)


def test_contract_example_findings():
    data = twitchwise.ask("calf twitching for 3 weeks, no weakness").to_dict()
    assert {"id": "weakness", "negated": True, "text": "weakness"} in data["findings"]
    assert data["triage"]["level"] == "see_doctor_routine"
    assert data["triage"]["reasons"][0]["finding"] == "duration_over_2_weeks"


def test_answer_json_is_stable():
    a = twitchwise.ask("my calf has twitched for 3 weeks, no weakness, 4 coffees a day")
    b = twitchwise.ask("my calf has twitched for 3 weeks, no weakness, 4 coffees a day")
    assert a.to_dict() == b.to_dict()
    assert json.loads(a.render("json")) == a.to_dict()


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_an_input_error(text):
    with pytest.raises(InputError, match="describe"):
        twitchwise.ask(text)


def test_non_string_text_is_an_input_error():
    with pytest.raises(InputError):
        twitchwise.ask(None)  # type: ignore[arg-type]


def test_unknown_finding_is_an_input_error():
    with pytest.raises(InputError, match="unknown finding 'twitchin'") as info:
        twitchwise.assess(["twitchin"])
    assert "twitching" in str(info.value), "suggests the close id"
    assert "twitchwise findings" in str(info.value)
    with pytest.raises(InputError, match="unknown finding"):
        twitchwise.assess(["twitching", "!not_a_finding"])


@pytest.mark.parametrize("age", [-1, 200, True, 121, 30.5, "30"])
def test_bad_age_is_an_input_error(age):
    with pytest.raises(InputError, match="age"):
        twitchwise.ask("my eyelid twitches", age=age)
    with pytest.raises(InputError, match="age"):
        twitchwise.assess(["twitching"], age=age)


@pytest.mark.parametrize("age", [0, 17, 18, 120])
def test_edge_ages_are_accepted(age):
    assert isinstance(twitchwise.assess(["twitching"], age=age), Answer)


@pytest.mark.parametrize("sex", ["x", "F", "Female", "", "other"])
def test_bad_sex_is_an_input_error(sex):
    with pytest.raises(InputError, match="sex"):
        twitchwise.assess(["twitching"], sex=sex)
    with pytest.raises(InputError, match="sex"):
        twitchwise.ask("my eyelid twitches", sex=sex)


def test_bad_format_is_an_input_error():
    with pytest.raises(InputError, match="format"):
        twitchwise.ask("my eyelid twitches").render("pdf")


# ------------------------------------------------------------------ rendering

DISCLAIMER_RE = re.compile(r"not\s+a\s+diagnosis", re.IGNORECASE)


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append(tag)

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        self.parts.append(data)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html"])
def test_disclaimer_appears_exactly_once(answers, level, fmt):
    out = answers[level].render(fmt)
    assert len(DISCLAIMER_RE.findall(out)) == 1, out


@pytest.mark.parametrize("level", LEVELS)
def test_render_all_formats(answers, level):
    answer = answers[level]
    summary_words = " ".join(answer.summary.split())

    terminal = answer.render("terminal")
    assert " ".join(terminal.split()).startswith(summary_words)
    assert "\x1b[" not in terminal, "no colour codes in exported text"

    markdown = answer.render("markdown")
    assert markdown.startswith("# " + answer.summary)
    assert "## Triage" in markdown and "## Likely causes" in markdown and "## Sources" in markdown

    html = answer.render("html")
    parser = _TextOf()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    assert summary_words in text
    assert "article" in parser.tags and "section" in parser.tags
    assert "<script" not in html.lower()

    data = json.loads(answer.render("json"))
    assert data == answer.to_dict()

    for out in (terminal, markdown, text):
        assert answer.causes[0].name in " ".join(out.split())
    for out in (terminal, markdown, html):
        flat = " ".join(out.split())
        for source in answer.sources:
            assert source.url in flat, (source.id, out[-2000:])


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html"])
def test_triage_comes_before_causes(answers, fmt):
    answer = answers["emergency"]
    out = " ".join(unescape(answer.render(fmt)).split())
    triage_at = out.find("Triage")
    causes_at = out.find("Likely causes")
    assert 0 <= triage_at < causes_at
    reason = " ".join(answer.reasons[0].text.split())[:40]
    assert reason in out[triage_at:causes_at]
    assert "Call emergency services" in out[:triage_at], "the summary line leads"


def test_html_escapes_user_text():
    answer = twitchwise.ask("my eyelid twitches <script>alert(1)</script> & more <b>bold</b>")
    html = answer.render("html")
    assert "<script>" not in html
    assert "<b>bold" not in html


def test_terminal_width_is_respected(answers):
    out = answers["self_care"].render("terminal", width=60)
    assert max(len(line) for line in out.splitlines()) <= 60


def test_a_red_flag_read_with_doubt_is_asked_about_and_counts() -> None:
    answer = twitchwise.ask("no chest pain... actually it feels tight and my arm twitches")
    data = answer.to_dict()
    assert data["triage"]["level"] == "emergency"
    assert data["triage"]["possible"] == [
        {
            "finding": "chest_pain",
            "text": "chest pain",
            "question": 'You wrote "chest pain". Do you have any chest pain or pressure? If so, '
            "call emergency services now (999 in the UK, 112 in Europe, 911 in the US).",
        },
        # the backstop retrained in the tenth session also asks whether a chest that "feels
        # tight" is breathlessness (asked about, never denied)
        {
            "finding": "breathing_difficulty",
            "text": "actually it feels tight and my arm twitches",
            "question": 'You wrote "actually it feels tight and my arm twitches". Are you short '
            "of breath or finding it hard to breathe? If so, call emergency services now (999 in "
            "the UK, 112 in Europe, 911 in the US).",
        },
    ]
    assert data["summary"].startswith("Call emergency services now if you have")
    for fmt in ("terminal", "markdown", "html"):
        assert "Do you have any chest pain or pressure?" in answer.render(fmt)
    certain = twitchwise.ask("no chest pain, my arm twitches").to_dict()
    assert certain["triage"]["possible"] == [] and certain["triage"]["level"] == "self_care"
