"""``twitchwise eval``: case validation, every metric by hand, the three outputs, exit codes.

Most tests answer the cases with a stand-in for ``twitchwise.ask`` (fixed levels, causes and
findings) and a stand-in clock, so every number is known in advance; a few run the real engine
where only the exit status matters (a self-care case can never be under-triaged, an eyelid
twitch expected as an emergency always is).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import SHARED
from helpers import run
from twitchwise.answer.model import Answer, CauseOut, FindingOut
from twitchwise.app import Twitchwise
from twitchwise.app.evaluation import Case, evaluate, load_cases, parse_cases
from twitchwise.app.evaluation import cases as cases_module
from twitchwise.app.evaluation import score as score_module
from twitchwise.errors import InputError
from twitchwise.knowledge.schema import TriageLevel

PUBLIC = SHARED / "vignettes" / "public.yaml"
LEVELS = ["self_care", "see_doctor_routine", "see_doctor_urgent", "emergency"]


def write(folder: Path, text: str, name: str = "cases.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# --------------------------------------------------------------------------- stand-ins


def fake_answer(
    level: str, causes: list[tuple[str, float]], findings: Sequence[tuple[str, bool]] = ()
) -> Answer:
    """An Answer with the given triage level, causes (id, probability) and findings."""
    return Answer(
        summary="stand-in",
        level=TriageLevel(level),
        reasons=(),
        causes=tuple(CauseOut(cid, cid, p, (), (), "") for cid, p in causes),
        findings=tuple(FindingOut(fid, negated, fid) for fid, negated in findings),
        not_understood=(),
        plan=(),
        sources=(),
    )


#: What the stand-in engine answers, by the case's text.
ANSWERS = {
    "calf after a run": fake_answer(
        "self_care",
        [("exercise_fatigue", 0.7), ("dehydration", 0.2)],
        [("region_calf", False), ("weakness", True)],
    ),
    "dark urine after a marathon": fake_answer(
        "see_doctor_routine",
        [("exercise_fatigue", 0.5), ("rhabdomyolysis", 0.3), ("dehydration", 0.1)],
        [("weakness", False)],
    ),
    "back pain, twitching biceps": fake_answer(
        "see_doctor_urgent",
        [("stress_anxiety", 0.9), ("nerve_compression", 0.05)],
        [("saddle_numbness", False), ("region_biceps", False)],
    ),
    "eyelid, 4 coffees": fake_answer(
        "see_doctor_routine",
        [("caffeine_stimulants", 0.45), ("stress_anxiety", 0.45), ("sleep_deprivation", 0.1)],
    ),
}

#: Four cases whose every metric is worked out by hand in test_metrics_by_hand.
FOUR_CASES = """\
- id: c1
  text: "calf after a run"
  expected_triage: self_care
  triage_also_acceptable: []
  acceptable_top_causes: [exercise_fatigue]
  findings: {region_calf: present, weakness: denied}
- id: c2
  text: "dark urine after a marathon"
  expected_triage: emergency
  triage_also_acceptable: []
  acceptable_top_causes: [rhabdomyolysis]
  findings: {dark_urine: present, weakness: possible}
- id: c3
  text: "back pain, twitching biceps"
  age: 45
  sex: female
  expected_triage: see_doctor_routine
  triage_also_acceptable: [see_doctor_urgent]
  acceptable_top_causes: [nerve_compression]
  findings: {saddle_numbness: denied, region_arm: present}
- id: c4
  text: "eyelid, 4 coffees"
  expected_triage: self_care
  triage_also_acceptable: []
  acceptable_top_causes: [caffeine_stimulants, stress_anxiety]
  category: ignored
  rationale: ignored too
"""


def stand_in(text: str, *, age: int | None = None, sex: str | None = None) -> Answer:
    return ANSWERS[text]


def ticking_clock(*durations_ms: float) -> Callable[[], float]:
    """perf_counter for the cases in order: each case takes the next duration."""
    ticks: list[float] = []
    for i, ms in enumerate(durations_ms):
        ticks += [float(i), i + ms / 1000.0]
    it: Iterator[float] = iter(ticks)
    return lambda: next(it)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer with the stand-in and time with a clock that makes the cases take 1, 3, 2, 10 ms."""
    monkeypatch.setattr("twitchwise.ask", stand_in)
    monkeypatch.setattr(Twitchwise, "ask", lambda self, text, **kw: stand_in(text, **kw))
    monkeypatch.setattr(score_module, "perf_counter", ticking_clock(1, 3, 2, 10))


# --------------------------------------------------------------------------- metrics


def test_metrics_by_hand(tmp_path: Path, engine: None) -> None:
    result = evaluate(load_cases(write(tmp_path, FOUR_CASES)))
    assert result.cases == 4
    # rows expected, columns given: c1 self->self, c2 emergency->routine, c3 routine->urgent,
    # c4 self->routine
    assert result.confusion == ((1, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 0), (0, 1, 0, 0))
    assert [(m.id, m.given, m.wanted) for m in result.under_triaged] == [
        ("c2", "see_doctor_routine", ("emergency",))
    ]
    assert result.failed
    # c3 is higher than expected but also acceptable: not over-triaged; c4 is
    assert [m.id for m in result.over_triaged] == ["c4"]
    assert (result.triage_acceptable.count, result.triage_acceptable.total) == (2, 4)
    assert (result.self_care_kept.count, result.self_care_kept.total) == (1, 2)
    assert (result.top1.count, result.top3.count) == (2, 4)
    # Brier, acceptable causes merged: c1 0.3² + 0.2² = 0.13; c2 0.7² + 0.5² + 0.1² = 0.75;
    # c3 0.95² + 0.9² = 1.7125; c4 (1 - 0.9)² + 0.1² = 0.02
    assert result.brier == pytest.approx((0.13 + 0.75 + 1.7125 + 0.02) / 4)
    bins = [
        (b.low, b.high, b.cases, b.mean_probability, b.acceptable_rate) for b in result.reliability
    ]
    assert bins == [
        (0.0, 0.2, 0, None, None),
        (0.2, 0.4, 0, None, None),
        (0.4, 0.6, 2, pytest.approx(0.475), 0.5),  # c2 0.5 (wrong), c4 0.45 (right)
        (0.6, 0.8, 1, pytest.approx(0.7), 1.0),  # c1
        (0.8, 1.0, 1, pytest.approx(0.9), 0.0),  # c3
    ]
    assert result.calibration_error == pytest.approx(0.5 * 0.025 + 0.25 * 0.3 + 0.25 * 0.9)
    # findings: region_biceps implies region_arm; a denied finding read negated is right;
    # saddle_numbness read although denied is a false positive
    assert result.labelled_cases == 3
    per = {f.id: (f.tp, f.fp, f.fn, f.tn) for f in result.findings}
    assert per == {
        "dark_urine": (0, 0, 1, 0),
        "region_arm": (1, 0, 0, 0),
        "region_calf": (1, 0, 0, 0),
        "saddle_numbness": (0, 1, 0, 0),
        "weakness": (1, 0, 0, 1),
    }
    scores = {f.id: (f.precision, f.recall, f.f1) for f in result.findings}
    assert scores["dark_urine"] == (None, 0.0, 0.0)
    assert scores["saddle_numbness"] == (0.0, None, 0.0)
    assert scores["weakness"] == (1.0, 1.0, 1.0)
    micro = result.findings_micro
    assert (micro.tp, micro.fp, micro.fn, micro.tn) == (3, 1, 1, 1)
    assert (micro.precision, micro.recall, micro.f1) == (0.75, 0.75, 0.75)
    assert (result.time_median_ms, result.time_max_ms) == (pytest.approx(2.5), pytest.approx(10))
    assert [(m.id, m.given, m.wanted) for m in result.triage_misses] == [
        ("c2", "see_doctor_routine", ("emergency",)),
        ("c4", "see_doctor_routine", ("self_care",)),
    ]
    assert [(m.id, m.given, m.wanted) for m in result.cause_misses] == [
        ("c2", "exercise_fatigue", ("rhabdomyolysis",)),
        ("c3", "stress_anxiety", ("nerve_compression",)),
    ]
    assert result.summary() == (
        "4 cases: under-triaged serious 1, triage acceptable 2/4 (50%), "
        "top-1 2/4 (50%), top-3 4/4 (100%)"
    )


def test_age_and_sex_reach_the_engine(tmp_path: Path) -> None:
    seen: list[tuple[str, int | None, str | None]] = []

    def answer(text: str, *, age: int | None = None, sex: str | None = None) -> Answer:
        seen.append((text, age, sex))
        return ANSWERS[text]

    evaluate(load_cases(write(tmp_path, FOUR_CASES)), answer=answer)
    # the first call warms up (untimed), then one call per case in file order
    assert seen[0] == seen[1] == ("calf after a run", None, None)
    assert seen[3] == ("back pain, twitching biceps", 45, "female")
    assert len(seen) == 5


def test_under_triage_lists_the_most_urgent_first() -> None:
    def answer(text: str, *, age: int | None = None, sex: str | None = None) -> Answer:
        return fake_answer("self_care", [("stroke", 1.0)])

    cases = [
        Case("u1", "a", TriageLevel.SEE_DOCTOR_URGENT, acceptable_top_causes=("stroke",)),
        Case("e1", "b", TriageLevel.EMERGENCY, acceptable_top_causes=("stroke",)),
        Case("r1", "c", TriageLevel.SEE_DOCTOR_ROUTINE, acceptable_top_causes=("stroke",)),
        Case("u2", "d", TriageLevel.SEE_DOCTOR_URGENT, acceptable_top_causes=("stroke",)),
    ]
    result = evaluate(cases, answer=answer)
    # routine given self-care is a triage miss, not a serious under-triage
    assert [m.id for m in result.under_triaged] == ["e1", "u1", "u2"]
    assert [m.id for m in result.triage_misses] == ["u1", "e1", "r1", "u2"]


def test_no_self_care_cases_and_no_findings_give_none_not_zero() -> None:
    cases = [Case("x", "a", TriageLevel.SEE_DOCTOR_ROUTINE, acceptable_top_causes=("stroke",))]
    result = evaluate(cases, answer=lambda text, **_: fake_answer("see_doctor_routine", []))
    assert result.self_care_kept.rate is None
    assert str(result.self_care_kept) == "0/0 (n/a)"
    assert result.labelled_cases == 0
    assert result.findings == ()
    assert result.findings_micro.f1 is None
    # no causes at all: the first cause is missing, so not acceptable, and Brier is 1
    assert result.top1.count == 0
    assert result.brier == 1.0
    assert result.cause_misses[0].given is None


# --------------------------------------------------------------------------- JSON, exactly

TWO_CASES = """\
- id: c1
  text: "calf after a run"
  expected_triage: self_care
  triage_also_acceptable: []
  acceptable_top_causes: [exercise_fatigue]
  findings: {region_calf: present, weakness: denied}
- id: c4
  text: "eyelid, 4 coffees"
  expected_triage: self_care
  triage_also_acceptable: [see_doctor_routine]
  acceptable_top_causes: [sleep_deprivation]
"""

ZERO_ROW = dict.fromkeys(LEVELS, 0)
EXPECTED_JSON: dict[str, Any] = {
    "schema_version": 1,
    "source": "CASES",
    "cases": 2,
    "summary": (
        "2 cases: under-triaged serious 0, triage acceptable 2/2 (100%), "
        "top-1 1/2 (50%), top-3 2/2 (100%)"
    ),
    "under_triaged": [],
    "triage": {
        "levels": LEVELS,
        "confusion": {
            "self_care": {**ZERO_ROW, "self_care": 1, "see_doctor_routine": 1},
            "see_doctor_routine": ZERO_ROW,
            "see_doctor_urgent": ZERO_ROW,
            "emergency": ZERO_ROW,
        },
        "acceptable": {"count": 2, "total": 2, "rate": 1.0},
        "under_triaged": 0,
        "over_triaged": 0,
        "self_care_kept": {"count": 1, "total": 2, "rate": 0.5},
    },
    "causes": {
        "top1": {"count": 1, "total": 2, "rate": 0.5},
        "top3": {"count": 2, "total": 2, "rate": 1.0},
        # c1 0.13; c4 (1 - 0.1)² + 0.45² + 0.45² = 1.215
        "brier": 0.6725,
        # bins: c4 at 0.45 (wrong) and c1 at 0.7 (right)
        "calibration_error": 0.375,
        "reliability": [
            {"from": 0.0, "to": 0.2, "cases": 0, "mean_probability": None, "acceptable_rate": None},
            {"from": 0.2, "to": 0.4, "cases": 0, "mean_probability": None, "acceptable_rate": None},
            {"from": 0.4, "to": 0.6, "cases": 1, "mean_probability": 0.45, "acceptable_rate": 0.0},
            {"from": 0.6, "to": 0.8, "cases": 1, "mean_probability": 0.7, "acceptable_rate": 1.0},
            {"from": 0.8, "to": 1.0, "cases": 0, "mean_probability": None, "acceptable_rate": None},
        ],
    },
    "findings": {
        "labelled_cases": 1,
        "micro": {"tp": 1, "fp": 0, "fn": 0, "tn": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0},
        "per_finding": [
            {
                "id": "region_calf",
                "tp": 1,
                "fp": 0,
                "fn": 0,
                "tn": 0,
                "precision": 1.0,
                "recall": 1.0,
                "f1": 1.0,
            },
            {
                "id": "weakness",
                "tp": 0,
                "fp": 0,
                "fn": 0,
                "tn": 1,
                "precision": None,
                "recall": None,
                "f1": None,
            },
        ],
    },
    "time_ms": {"median": 2.0, "max": 3.0},
    "triage_misses": [],
    "cause_misses": [{"id": "c4", "given": "caffeine_stimulants", "wanted": ["sleep_deprivation"]}],
    "results": [
        {
            "id": "c1",
            "expected_triage": "self_care",
            "given_triage": "self_care",
            "triage_acceptable": True,
            "under_triaged": False,
            "over_triaged": False,
            "causes": [
                {"id": "exercise_fatigue", "probability": 0.7},
                {"id": "dehydration", "probability": 0.2},
            ],
            "top1": True,
            "top3": True,
            "brier": 0.13,
            "time_ms": 1.0,
        },
        {
            "id": "c4",
            "expected_triage": "self_care",
            "given_triage": "see_doctor_routine",
            "triage_acceptable": True,
            "under_triaged": False,
            "over_triaged": False,
            "causes": [
                {"id": "caffeine_stimulants", "probability": 0.45},
                {"id": "stress_anxiety", "probability": 0.45},
                {"id": "sleep_deprivation", "probability": 0.1},
            ],
            "top1": False,
            "top3": True,
            "brier": 1.215,
            "time_ms": 3.0,
        },
    ],
}


def test_json_output_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: None
) -> None:
    path = write(tmp_path, TWO_CASES)
    code, out, err = run(["eval", str(path), "--format", "json"], capsys)
    assert (code, err) == (0, "")
    expected = json.loads(json.dumps(EXPECTED_JSON).replace('"CASES"', json.dumps(str(path))))
    assert out == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


def test_json_keys_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "eval.md").read_text(encoding="utf-8")
    for key in EXPECTED_JSON:
        assert f"`{key}`" in doc or f"`{key}." in doc, f"document the JSON key {key}"
    for parent in ("triage", "causes", "findings"):
        for key in EXPECTED_JSON[parent]:
            assert f"{parent}.{key}" in doc, f"document {parent}.{key} in docs/eval.md"


# --------------------------------------------------------------------------- terminal and HTML


def test_terminal_lists_under_triage_first_and_in_red(tmp_path: Path, engine: None) -> None:
    result = evaluate(load_cases(write(tmp_path, FOUR_CASES)))
    plain = result.render("terminal")
    assert "\x1b[" not in plain
    lines = plain.splitlines()
    under = lines.index("UNDER-TRIAGED urgent or emergency cases (1)")
    assert under < lines.index("Triage")
    assert lines[under + 1] == "  c2: expected emergency, given see_doctor_routine"
    assert lines[-1] == result.summary()
    assert "  c4: given see_doctor_routine, wanted self_care" in lines
    assert "  c3: given stress_anxiety, wanted nerve_compression" in lines
    coloured = result.render("terminal", color=True)
    red_line = next(line for line in coloured.splitlines() if "c2: expected emergency" in line)
    assert "\x1b[31m" in red_line


def test_terminal_via_cli_is_plain_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: None
) -> None:
    code, out, err = run(["eval", str(write(tmp_path, FOUR_CASES))], capsys)
    assert code == 1
    assert err == ""  # the report itself says it, first and in red on a terminal
    assert out.startswith(f"Evaluation of {tmp_path / 'cases.yaml'}\n")
    assert "\x1b[" not in out
    assert out.splitlines()[-1].startswith("4 cases: under-triaged serious 1,")


def test_html_is_self_contained_and_escapes_text(tmp_path: Path) -> None:
    cases = [
        Case(
            "<script>alert(1)</script>",
            'calf & "thigh" <b>twitch</b>',
            TriageLevel.EMERGENCY,
            acceptable_top_causes=("rhabdomyolysis",),
        )
    ]
    result = evaluate(
        cases,
        source="<evil>.yaml",
        answer=lambda text, **_: fake_answer("self_care", [("exercise_fatigue", 0.9)]),
    )
    page = result.render("html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "calf &amp; &#34;thigh&#34; &lt;b&gt;twitch&lt;/b&gt;" in page
    assert "&lt;evil&gt;.yaml" in page
    assert "<style>" in page
    for remote in ("http://", "https://", "src=", "<link", "@import"):
        assert remote not in page
    # the under-triaged case comes first, in the red box, and red in the matrix
    assert page.index('class="danger"') < page.index('id="triage-h"')
    assert '<td class="n bad">1</td>' in page


def test_html_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: None) -> None:
    code, out, err = run(["eval", str(write(tmp_path, FOUR_CASES)), "-f", "html"], capsys)
    assert code == 1
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    assert err.strip() == (
        "twitchwise eval: 1 urgent or emergency case(s) under-triaged (c2); exit status 1"
    )


# --------------------------------------------------------------------------- the real engine


SELF_CARE_CASE = """\
- id: calf
  text: "my calf twitches after running, no weakness"
  age: 30
  expected_triage: self_care
  triage_also_acceptable: []
  acceptable_top_causes: [exercise_fatigue]
"""
UNDER_TRIAGED_CASE = """\
- id: eyelid-as-emergency
  text: "my left eyelid has been twitching a little for two days"
  expected_triage: emergency
  triage_also_acceptable: []
  acceptable_top_causes: [stroke]
"""


def test_exit_0_with_the_real_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["eval", str(write(tmp_path, SELF_CARE_CASE))], capsys)
    assert (code, err) == (0, "")
    assert "No urgent or emergency case was under-triaged." in out
    assert out.splitlines()[-1].startswith("1 case: under-triaged serious 0,")


def test_exit_1_when_a_serious_case_is_under_triaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, SELF_CARE_CASE + UNDER_TRIAGED_CASE)
    code, out, err = run(["eval", str(path), "--format", "json"], capsys)
    assert code == 1
    data = json.loads(out)
    given = data["results"][1]["given_triage"]
    assert given != "emergency"
    assert data["under_triaged"] == [
        {"id": "eyelid-as-emergency", "expected": "emergency", "given": given}
    ]
    assert err.strip() == (
        "twitchwise eval: 1 urgent or emergency case(s) under-triaged (eyelid-as-emergency); "
        "exit status 1"
    )


def test_exit_status_of_the_console_script(tmp_path: Path) -> None:
    path = write(tmp_path, UNDER_TRIAGED_CASE)
    script = "from twitchwise.cli import run; run()"
    proc = subprocess.run(
        [sys.executable, "-c", script, "eval", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 1, proc.stderr
    assert "UNDER-TRIAGED" in proc.stdout


@pytest.mark.skipif(not PUBLIC.is_file(), reason=f"{PUBLIC} is not there")
def test_public_vignettes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["eval", str(PUBLIC), "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0, f"under-triaged: {data['under_triaged']}"
    assert err == ""
    assert data["cases"] == len(yaml.safe_load(PUBLIC.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- bad input: exit 2

GOOD = {
    "id": "p1",
    "text": "my calf twitches",
    "expected_triage": "self_care",
    "triage_also_acceptable": [],
    "acceptable_top_causes": ["exercise_fatigue"],
}


def one_case(**changes: Any) -> str:
    """GOOD with changes (``...`` drops a key), one key a line: id on line 1, text on 2, ..."""
    case = {k: v for k, v in {**GOOD, **changes}.items() if v is not ...}
    # JSON is YAML's flow style: every value stays on its key's line
    return "".join(
        f"{'- ' if i == 0 else '  '}{key}: {json.dumps(value)}\n"
        for i, (key, value) in enumerate(case.items())
    )


BAD_FILES = {
    "unknown triage level": (
        one_case(expected_triage="urgent"),
        ["cases.yaml:3: case 1 (p1): unknown triage level 'urgent' in expected_triage",
         "did you mean 'see_doctor_urgent'?", "use one of: self_care, see_doctor_routine"],
    ),
    "unknown also-acceptable level": (
        one_case(triage_also_acceptable=["see_doctor_routine", "gp"]),
        ["cases.yaml:4: case 1 (p1): unknown triage level 'gp' in triage_also_acceptable"],
    ),
    "also-acceptable not a list": (
        one_case(triage_also_acceptable="see_doctor_routine"),
        ["cases.yaml:4: case 1 (p1): triage_also_acceptable must be a list",
         "write [] for none"],
    ),
    "unknown cause id": (
        one_case(acceptable_top_causes=["stres_anxiety"]),
        ["cases.yaml:5: case 1 (p1): unknown cause id 'stres_anxiety' in acceptable_top_causes",
         "did you mean 'stress_anxiety'?", "twitchwise causes"],
    ),
    "no acceptable causes": (
        one_case(acceptable_top_causes=[]),
        ["case 1 (p1): acceptable_top_causes must be a list of one or more cause ids"],
    ),
    "unknown finding id": (
        one_case(findings={"weaknes": "denied"}),
        ["cases.yaml:6: case 1 (p1): unknown finding id 'weaknes'",
         "did you mean 'weakness'?", "twitchwise findings"],
    ),
    "bad finding status": (
        one_case(findings={"weakness": "absent"}),
        ["cases.yaml:6: case 1 (p1): finding weakness has status 'absent' "
         "(did you mean 'denied'?); use one of: present, denied, possible, resolved, other"],
    ),
    "finding status written as yes": (
        one_case() + "  findings: {twitching: yes}\n",
        ["finding twitching has status the boolean true (did you mean 'present'?)"],
    ),
    "misspelt finding status": (
        one_case(findings={"weakness": "denid"}),
        ["finding weakness has status 'denid' (did you mean 'denied'?)"],
    ),
    "findings not a mapping": (
        one_case(findings=["weakness"]),
        ["case 1 (p1): findings must be a mapping of finding id to status"],
    ),
    "missing key": (
        one_case(expected_triage=...),
        ["cases.yaml:1: case 1 (p1): missing key expected_triage", "docs/eval.md"],
    ),
    "missing id": (
        one_case(id=...),
        ["cases.yaml:1: case 1: missing key id"],
    ),
    "unknown key": (
        one_case(expected_triage_=1),
        ["case 1 (p1): unknown key 'expected_triage_' (did you mean 'expected_triage'?)"],
    ),
    "empty text": (
        one_case(text="  "),
        ["case 1 (p1): text must be the person's words, not an empty text"],
    ),
    "bad age": (
        one_case(age=130),
        ["case 1 (p1): age must be a whole number of years from 0 to 120, not 130"],
    ),
    "bad sex": (
        one_case(sex="m"),
        ["case 1 (p1): sex must be female or male (or left out), not 'm'"],
    ),
    "duplicate id": (
        one_case() + one_case(),
        ["cases.yaml:6: case 2 (p1): the id 'p1' is also case 1's; use unique ids"],
    ),
    "duplicate key": (
        "- id: a\n  id: b\n",
        ["cases.yaml:2: the key 'id' appears twice in one mapping; keep one of them"],
    ),
    "case not a mapping": (
        "- [p1, my calf twitches]\n",
        ["cases.yaml:1: case 1: expected a mapping of keys", "not a list"],
    ),
    "not a list": (
        yaml.safe_dump(GOOD),
        ["cases.yaml: expected a YAML list of cases at the top level", "not a mapping"],
    ),
    "YAML syntax error": (
        '- id: p1\n  text: "my calf\n',
        ["cases.yaml:3: YAML syntax error:", "fix the YAML there"],
    ),
    "YAML syntax error mid-file": (
        "- id: p1\n  text: a: b\n",
        ["cases.yaml:2: YAML syntax error: mapping values are not allowed"],
    ),
    "empty file": ("", ["cases.yaml has no cases"]),
    "empty list": ("[]\n", ["cases.yaml has no cases"]),
    "several problems": (
        one_case(expected_triage="urgent", acceptable_top_causes=["nope"]),
        ["unknown triage level 'urgent'", "(and 1 more problem in the file)"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_case_file(
    kind: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content, needles = BAD_FILES[kind]
    write(tmp_path, content)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["eval", "cases.yaml"], capsys)
    assert (code, out) == (2, "")
    assert_one_line_error(err, *needles)
    assert err.startswith("error: cases.yaml")


def test_file_over_10_mb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:
        fh.truncate(cases_module.MAX_FILE_BYTES + 1)
    code, out, err = run(["eval", str(path)], capsys)
    assert (code, out) == (2, "")
    assert_one_line_error(err, f"{path} is larger than 10 MB", "split the cases")


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p / "missing.yaml", "cannot read"),
        (lambda p: p, "is a folder"),
        (lambda p: (p / "latin1.yaml").write_bytes(b"- id: caf\xe9\n") and p / "latin1.yaml",
         "is not UTF-8 text"),
    ],
    ids=["missing", "folder", "not utf-8"],
)  # fmt: skip
def test_unreadable_file(
    make: Callable[[Path], Path], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["eval", str(make(tmp_path))], capsys)
    assert (code, out) == (2, "")
    assert_one_line_error(err, needle)


def test_unknown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["eval", str(write(tmp_path, one_case())), "-f", "markdown"], capsys)
    assert (code, out) == (2, "")
    assert_one_line_error(err, "unknown format 'markdown'", "terminal, json, html")


def test_missing_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["eval"], capsys)
    assert (code, out) == (2, "")
    assert_one_line_error(err, "Missing argument 'CASES.yaml'", "twitchwise --help")


# --------------------------------------------------------------------------- Python API


def test_parse_cases_from_python_data() -> None:
    cases = parse_cases([{**GOOD, "age": 30, "findings": {"weakness": "denied"}, "persona": "x"}])
    assert cases == [
        Case(
            id="p1",
            text="my calf twitches",
            expected_triage=TriageLevel.SELF_CARE,
            acceptable_top_causes=("exercise_fatigue",),
            age=30,
            findings=(("weakness", "denied"),),
        )
    ]
    with pytest.raises(InputError, match=r"^<cases>: case 1 \(p1\): unknown cause id 'x'"):
        parse_cases([{**GOOD, "acceptable_top_causes": ["x"]}])


def test_integer_ids_are_text(tmp_path: Path) -> None:
    cases = load_cases(write(tmp_path, one_case(id=7)))
    assert cases[0].id == "7"
    assert cases[0].line == 1


def test_command_line_start_up_does_not_load_the_evaluation() -> None:
    script = (
        "import sys, twitchwise.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('twitchwise.app.evaluation')))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
