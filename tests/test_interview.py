"""The adaptive interview (``twitchwise check``): the question policy, its properties, the
knowledge it needs, and the command line."""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import twitchwise
import twitchwise.app
from helpers import run
from twitchwise.answer.build import answer_for
from twitchwise.app import Twitchwise
from twitchwise.commands.check import interview_loop, progress_line, transcript
from twitchwise.errors import KnowledgeError
from twitchwise.evidence import MODEL_DOUBT, Evidence, Observation, merge
from twitchwise.knowledge.load import DATA_DIR, build
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason import interview as iv
from twitchwise.reason.interview.policy import situation
from twitchwise.reason.model import CauseModel
from twitchwise.reason.rank import rank
from twitchwise.reason.triage import triage

KB = twitchwise.load_knowledge()
TW = Twitchwise(KB)
ASKABLE = sorted(f for f, x in KB.findings.items() if x.kind != "cue")
RED_FLAG_FINDINGS = sorted({f for r in KB.red_flags for g in r.groups() for f in g})
#: Findings that raise the triage on their own: (finding, the level of its rule).
ALONE = sorted(
    {(f, r.level) for r in KB.red_flags if len(r.groups()) == 1 for f in r.groups()[0]},
    key=lambda x: (x[0], x[1].rank),
)

finding_ids = st.sampled_from(ASKABLE)
answer_maps = st.dictionaries(finding_ids, st.booleans(), max_size=30)
start_ids = st.lists(
    st.tuples(finding_ids, st.booleans()).map(lambda t: ("!" if t[1] else "") + t[0]),
    max_size=8,
)


def level_of(state: iv.InterviewState) -> TriageLevel:
    return triage(KB, iv.evidence(state, KB).present).level


def levels_along(state: iv.InterviewState, answers: dict[str, bool]) -> list[TriageLevel]:
    levels = [level_of(state)]
    while (step := iv.next_question(state, KB)).question is not None:
        state = iv.answer_from(state, step.question, answers)
        levels.append(level_of(state))
    return levels


# --------------------------------------------------------------------------- knowledge


def test_every_finding_the_interview_may_ask_has_a_question():
    missing = [f for f in ASKABLE if not KB.findings[f].question]
    assert not missing, f"give these findings a `question`: {missing}"


def test_yes_no_questions_are_questions():
    for fid in ASKABLE:
        text = KB.findings[fid].question or ""
        assert text.endswith("?"), (fid, text)
        assert not text.lower().startswith(("how ", "what ", "which ")), (fid, text)


def test_knowledge_questions_load_with_their_kinds():
    kinds = {q.id: q.kind for q in KB.questions.values()}
    assert kinds["where"] == "choice"
    assert kinds["how_long"] == kinds["sleep"] == kinds["caffeine"] == "quantity"
    assert list(kinds.values()).count("follow_up") == 1


def test_every_finding_that_alone_makes_it_urgent_is_in_a_screen():
    screened = {f for q in KB.questions.values() for o in q.options for f in o.findings}
    urgent = {f for f, level in ALONE if level >= TriageLevel.SEE_DOCTOR_URGENT}
    assert urgent - screened == set()


def test_loader_rejects_bad_questions(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "questions" / "bad.yaml").write_text(
        "- id: weakness\n  kind: quantity\n  text: How?\n"
        "  options: [{label: a, findings: [nonsense]}]\n  sources: [nhs-twitch]\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as info:
        build(data)
    text = str(info.value)
    assert "must not be a finding id" in text
    assert "unknown finding 'nonsense'" in text
    assert "give at least two options" in text
    assert "needs a value" in text
    assert "goes with kind quantity" in text


# --------------------------------------------------------------------------- mapping answers


@pytest.mark.parametrize(
    ("quantity", "value", "present", "expected"),
    [
        ("caffeine_mg", 0, set(), {"caffeine_any": False, "caffeine_high": False}),
        ("caffeine_mg", 96, set(), {"caffeine_any": True, "caffeine_moderate": False}),
        ("caffeine_mg", 288, set(), {"caffeine_moderate": True, "caffeine_high": False}),
        ("caffeine_mg", 480, set(), {"caffeine_high": True}),
        ("caffeine_mg", 288, {"pregnant"}, {"caffeine_high": True}),
        ("sleep_h", 5, set(), {"sleep_short": True, "sleep_very_short": True}),
        ("sleep_h", 8, set(), {"sleep_short": False, "sleep_very_short": False}),
        ("duration_days", 30, set(), {"duration_over_2_weeks": True, "duration_days": False}),
        ("duration_days", 120, set(), {"duration_over_3_months": True}),
        ("age_years", 70, set(), {"age_60_plus": True, "age_18_39": False}),
    ],
)
def test_quantities_map_to_findings_through_the_knowledge_base(quantity, value, present, expected):
    got = iv.quantity_findings(KB, quantity, value, frozenset(present))
    assert {k: got[k] for k in expected} == expected


def test_caffeine_question_counts_mugs_and_keeps_the_amount():
    state = iv.InterviewState()
    question = next(q for q in iv.interview_model(KB).static if q.id == "caffeine")
    five = next(i for i, o in enumerate(question.options) if o.value == 5)
    state = iv.answer(state, question, five, KB)
    ev = iv.evidence(state, KB)
    assert "caffeine_high" in ev.present
    assert ev.quantities["caffeine_mg"] == 5 * 96
    # the limit follows what is known at the end: pregnancy answered later lowers it
    pregnant = iv.Question("pregnant", "finding", "Are you pregnant?", None, ("pregnant",))
    two = next(i for i, o in enumerate(question.options) if o.value == 3)
    later = iv.answer(iv.answer(iv.InterviewState(), question, two, KB), pregnant, True, KB)
    assert "caffeine_high" in iv.evidence(later, KB).present


def test_a_choice_sets_the_chosen_present_and_the_others_absent():
    where = next(q for q in iv.interview_model(KB).static if q.id == "where")
    labels = [o.label for o in where.options]
    state = iv.answer(
        iv.InterviewState(),
        where,
        [labels.index("Upper arm (biceps)"), labels.index("Calf")],
        KB,
    )
    ev = iv.evidence(state, KB)
    assert {"region_biceps", "region_arm", "region_calf", "multiple_sites"} <= ev.present
    assert "region_eyelid" in ev.negated
    assert "region_arm" not in ev.negated  # implied by the biceps, so never denied


def test_none_of_these_denies_every_option():
    screen = next(q for q in iv.interview_model(KB).static if q.id == "emergency_signs")
    ev = iv.evidence(iv.answer(iv.InterviewState(), screen, [], KB), KB)
    assert {"chest_pain", "confusion", "facial_droop"} <= ev.negated


# --------------------------------------------------------------------------- the policy


def test_first_question_is_the_emergency_screen():
    step = iv.next_question(iv.InterviewState(), KB)
    assert step.question is not None and step.question.id == "emergency_signs"
    assert step.why == "red_flag"


def test_an_emergency_ends_the_interview():
    state, stop = iv.run(iv.InterviewState(), {"chest_pain": True}, KB)
    assert stop.reason == "emergency"
    assert [a.question for a in state.asked] == ["emergency_signs"]


def test_an_emergency_in_the_opening_text_asks_nothing():
    start = twitchwise.app.default().parser.parse("twitching and I fainted")
    state, stop = iv.run(iv.InterviewState(start=start), {}, KB)
    assert (state.asked, stop.reason) == ((), "emergency")


def test_one_yes_away_from_urgent_is_always_asked():
    # a statin makes muscle aches urgent: the follow-up must be asked
    state, _ = iv.run(iv.InterviewState(), {"med_statin": True, "muscle_ache": True}, KB)
    assert level_of(state) == TriageLevel.SEE_DOCTOR_URGENT
    asked = state.asked_findings
    assert "muscle_ache" in asked


def test_a_denial_rules_out_what_would_imply_it():
    state, _ = iv.run(iv.InterviewState(), {"weakness": False}, KB)
    order = [a.question for a in state.asked]
    asked_after = state.asked[order.index("strength") + 1 :]
    implies_weakness = {f for f, c in KB.closure.items() if "weakness" in c and f != "weakness"}
    assert not implies_weakness & {f for a in asked_after for f in a.findings}


def test_budget_limits_questions_but_not_required_ones():
    policy = iv.Policy(max_questions=1)
    state, stop = iv.run(iv.InterviewState(), {}, KB, policy)
    # the required red-flag screens come first, whatever the budget
    assert len(state.asked) > 1
    assert stop.reason == "budget"


def test_the_ranker_and_the_policy_agree_on_the_posterior():
    ev = twitchwise.app.default().parser.parse(
        "maybe stressed, my eyelid twitches, no weakness, 5 coffees, slept 5 hours"
    )
    now = situation(iv.InterviewState(start=ev), KB)
    by_id = {r.id: r.probability for r in rank(KB, iv.evidence(iv.InterviewState(start=ev), KB))}
    for ci, cid in enumerate(iv.interview_model(KB).causes):
        assert math.isclose(now.probs[ci], by_id[cid], rel_tol=1e-9, abs_tol=1e-12)


observations = st.lists(
    st.builds(
        Observation,
        finding_ids,
        negated=st.booleans(),
        uncertain=st.booleans(),
        doubt=st.sampled_from(["", "", "hedged", "hedged denial"]),
    ),
    max_size=12,
)


@given(observations, answer_maps)
@settings(max_examples=80)
def test_the_policy_posterior_is_the_rankers(obs, answers):
    """For any evidence (hedged, denied and possible findings included) and any answers, the
    interview's posterior over causes is exactly rank()'s."""
    state = iv.InterviewState(start=Evidence(merge(obs)))
    for _ in range(3):
        step = iv.next_question(state, KB)
        if step.question is None:
            break
        state = iv.answer_from(state, step.question, answers)
    now = situation(state, KB)
    ranked = {r.id: r.probability for r in rank(KB, iv.evidence(state, KB))}
    assert [ranked[c] for c in iv.interview_model(KB).causes] == now.probs[:-1]
    assert math.isclose(sum(now.probs), 1.0)


def test_a_hedged_finding_with_a_large_ratio_counts_the_same_in_both(tmp_path: Path):
    """A hedged finding counts by the square root of its ratio, clamped after the root: a
    ratio of 9e7 moves the odds by about 9,487 (the interview once clamped before the root and
    moved them by 100)."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "causes" / "common.yaml"
    text = path.read_text(encoding="utf-8")
    line = "{finding: after_workout, with: 0.9, without: 0.25}"
    assert text.count(line) == 1
    path.write_text(text.replace(line, line.replace("0.25", "0.00000001")), encoding="utf-8")
    kb = build(data)
    model = CauseModel.build(kb)
    term = next(t for t in model.likelihoods("exercise_fatigue") if t.finding == "after_workout")
    assert math.isclose(term.hedged, math.sqrt(9e7))
    assert term.present == 1e4  # clamped
    hedged = Evidence((Observation("after_workout", uncertain=True), Observation("twitching")))
    state = iv.InterviewState(start=hedged)
    ranked = {r.id: r.probability for r in rank(kb, iv.evidence(state, kb), model)}
    now = situation(state, kb, iv.InterviewModel.build(kb, model))
    assert [ranked[c] for c in model.causes] == now.probs[:-1]
    plain = rank(kb, Evidence((Observation("twitching"),)), model)
    before = next(r.probability for r in plain if r.id == "exercise_fatigue")
    assert ranked["exercise_fatigue"] > 0.9 > before


def test_state_survives_back():
    state = iv.InterviewState()
    first = iv.next_question(state, KB).question
    assert first is not None
    after = iv.answer(state, first, [0], KB)
    assert after.back() == state
    assert iv.next_question(after.back(), KB) == iv.next_question(state, KB)


# --------------------------------------------------------------------------- properties


@given(start_ids)
@settings(max_examples=60)
def test_not_sure_throughout_gives_exactly_assess(ids):
    state = iv.InterviewState(start=iv.findings_evidence(ids, KB))
    final, _ = iv.run(state, {}, KB)
    assert all(a.answer is None for a in final.asked)
    assert answer_for(KB, iv.evidence(final, KB)) == twitchwise.assess(ids)


@given(answer_maps)
@settings(max_examples=60)
def test_never_asks_a_finding_twice_or_one_already_known(answers):
    state = iv.InterviewState()
    seen: set[str] = set()
    while (step := iv.next_question(state, KB)).question is not None:
        q = step.question
        known = iv.evidence(state, KB)
        assert not set(q.findings) & seen, q.id
        assert not set(q.findings) & (known.present | known.negated), q.id
        seen |= set(q.findings)
        state = iv.answer_from(state, q, answers)
    assert len(state.asked) == len({a.question for a in state.asked})


@given(answer_maps)
@settings(max_examples=60)
def test_triage_never_goes_down_during_an_interview(answers):
    levels = levels_along(iv.InterviewState(), answers)
    assert levels == sorted(levels)


@given(answer_maps, st.sampled_from(RED_FLAG_FINDINGS))
@settings(max_examples=60)
def test_answering_yes_to_a_red_flag_never_lowers_triage(answers, red_flag):
    """At every step, "yes" to a red flag gives at least the level of "no" or "not sure"."""
    state = iv.InterviewState()
    while (step := iv.next_question(state, KB)).question is not None:
        q = step.question
        if red_flag in q.findings:
            yes = level_of(iv.answer_from(state, q, {**answers, red_flag: True}))
            no = level_of(iv.answer_from(state, q, {**answers, red_flag: False}))
            unsure = level_of(iv.answer_from(state, q, {}))
            assert yes >= max(no, unsure, level_of(state))
        state = iv.answer_from(state, q, answers)


@given(answer_maps, st.sampled_from(ALONE))
@settings(max_examples=60)
def test_a_red_flag_that_is_enough_on_its_own_is_always_found(answers, alone):
    finding, level = alone
    state, _ = iv.run(iv.InterviewState(), {**answers, finding: True}, KB)
    if level >= TriageLevel.SEE_DOCTOR_URGENT or finding in state.asked_findings:
        assert level_of(state) >= level


@given(answer_maps)
@settings(max_examples=40)
def test_the_state_round_trips_through_json(answers):
    start = twitchwise.app.default().parser.parse("my calf twitches, 4 coffees, no weakness")
    state, _ = iv.run(iv.InterviewState(start=start), answers, KB)
    again = iv.InterviewState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert iv.evidence(again, KB) == iv.evidence(state, KB)


# --------------------------------------------------------------------------- the terminal loop


def test_interview_loop_with_back_and_quit():
    replies: list[object] = [[], "back", [], None, "quit"]
    asked: list[tuple[int, str]] = []
    shown: list[str] = []

    def ask(question: iv.Question, number: int) -> object:
        asked.append((number, question.id))
        return replies.pop(0)

    state, stop = interview_loop(iv.InterviewState(), TW, iv.Policy(), ask, shown.append)
    assert asked[:3] == [(1, "emergency_signs"), (2, "warning_signs"), (1, "emergency_signs")]
    assert len(state.asked) == 2 and state.asked[1].answer is None
    assert stop.text == "Stopped at your request."
    assert shown[0].startswith("  So far: Self-care. Most likely: ")


def test_progress_line_shows_triage_and_leading_causes():
    start = iv.findings_evidence(["twitching", "weakness_progressive"], KB)
    line = progress_line(TW.interview_view(iv.InterviewState(start=start)).progress)
    assert line.startswith("  So far: See a doctor soon (today or within days). Most likely: ")
    assert line.count("%") == 3


def test_describe_answers_in_words():
    a = iv.Answered("weakness", "Weak?", ("weakness",), (("weakness", False),))
    assert TW.describe_answer(a) == "no"
    b = iv.Answered("how_long", "How long?", ("duration_days",), (("duration_days", True),),
                    "duration_days", 2)  # fmt: skip
    assert TW.describe_answer(b) == "1 to 3 days"
    c = iv.Answered("x", "Any?", ("chest_pain", "fainting"), (("chest_pain", False),))
    assert TW.describe_answer(c) == "no: Chest pain"
    d = iv.Answered("x", "Any?", ("chest_pain", "fainting"), ())
    assert TW.describe_answer(d) == "not sure"
    assert transcript(TW, (a,), iv.Stop("settled", "Stopped.")).splitlines() == [
        "Questions asked (1):",
        " 1. Weak?",
        "    Answer: no",
        "",
        "Stopped.",
    ]


# --------------------------------------------------------------------------- command line

#: `twitchwise check --answers FILE` with {"chest_pain": true}: one question, then an emergency.
GOLDEN_CHEST_PAIN = """\
Questions asked (1):
 1. Right now, or since the twitching started, have you had any of these? Choose every one that
    applies.
    Answer: yes: Chest pain

Stopped: your answers point to an emergency, so no more questions are needed. Get help now.

Call emergency services now: chest pain needs urgent medical care. Possible cause: stress and
anxiety, 20%.
╭──────────────────────────────────────────────────────────────────────────────────────────────────╮
│ Triage: EMERGENCY: call emergency services now                                                   │
│   ! Chest pain with twitching or palpitations could be a heart problem or a dangerous salt       │
│   imbalance. Call emergency services (999/112/911) now. [nhs-palpitations]                       │
╰──────────────────────────────────────────────────────────────────────────────────────────────────╯

Likely causes
1. Stress and anxiety (20%)
   Stress and worry make nerves more excitable, and worrying about a twitch keeps you noticing it,
   which can keep it going. It fits during a stressful time or when you are anxious about your
   health and your strength is normal.
2. Tired muscles after exercise (18%)
   Muscles that have just worked hard can flicker for hours, sometimes a day or two, while they
   recover. It fits when the twitch is in the muscle you trained, started after the session and your
   strength is normal.
3. Too much caffeine or other stimulants (10%)
   Caffeine and other stimulants rev up the nervous system; too much brings jitters, a racing heart
   and muscle twitches. It fits if you have had a lot of coffee, energy drinks or pre-workout,
   especially more than your daily limit.
4. Not enough sleep (10%)
   Short or broken sleep makes twitches, especially eyelid twitches, more likely. It fits if you
   have been sleeping less than 7 hours, working nights or up with a baby.
5. Benign fasciculation syndrome (harmless persistent twitching) (6%)
   Some people twitch on and off for months or years, often in the calves and at rest, with normal
   strength and normal tests. This is benign fasciculation syndrome: annoying but harmless. It fits
   when twitching has lasted weeks or longer, possibly in several places, and your muscles are not
   getting weaker or thinner.
6. A side effect of a medicine (5%)
   Several common medicines can cause twitching, shaking or cramps - for example asthma relievers
   (salbutamol), steroid tablets, water tablets, stimulants for ADHD, lithium and statins. It fits
   when the twitching started days to weeks after starting or raising a medicine.
These are estimates; 9% is left for causes not listed.

What to do
 - Call emergency services now (999 in the UK, 112 in Europe, 911 in the US) or go to the nearest
 emergency department. Do not drive yourself. Stop reading and get help. [nhs-palpitations]

What I understood
 You have: Chest pain

Sources
 [nhs-palpitations] Heart palpitations: https://www.nhs.uk/conditions/heart-palpitations/
 [nhs-twitch] Twitching eyes and muscles: https://www.nhs.uk/conditions/twitching-eyes-and-muscles/
 [medlineplus-twitch] Muscle twitching: https://medlineplus.gov/ency/article/003296.htm

This is not a diagnosis. twitchwise gives general information from published guidance; if you are
worried, or things change, talk to a doctor.
"""


def write(tmp_path: Path, content: str) -> str:
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_check_json_shape(tmp_path, capsys):
    answers = {"twitching": True, "region_calf": True, "weakness": False, "after_workout": True}
    code, out, err = run(
        ["check", "--answers", write(tmp_path, json.dumps(answers)), "--format", "json"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    contract = {"summary", "triage", "causes", "findings", "not_understood", "plan", "sources"}
    assert set(data) == contract | {"questions", "stopped"}
    assert data["questions"], "expected questions"
    for q in data["questions"]:
        assert set(q) == {"finding", "text", "answer"}
        assert q["answer"] in (True, False, None)
        if q["finding"] in KB.findings:
            assert q["answer"] == answers.get(q["finding"])
    ids = [q["finding"] for q in data["questions"]]
    assert len(ids) == len(set(ids))
    assert data["stopped"]["reason"] in ("emergency", "settled", "budget", "exhausted")
    assert data["triage"]["level"] == "self_care"


def test_check_exact_output_for_a_small_case(tmp_path, capsys):
    code, out, err = run(
        ["check", "--answers", write(tmp_path, '{"chest_pain": true}'), "--format", "json"],
        capsys,
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["questions"] == [
        {
            "finding": "emergency_signs",
            "text": "Right now, or since the twitching started, have you had any of these? "
            "Choose every one that applies.",
            "answer": True,
        }
    ]
    assert data["stopped"] == {
        "reason": "emergency",
        "text": "Stopped: your answers point to an emergency, so no more questions are needed. "
        "Get help now.",
    }
    code, out, err = run(["check", "--answers", write(tmp_path, '{"chest_pain": true}')], capsys)
    assert code == 0, err
    assert out == GOLDEN_CHEST_PAIN


def test_check_opening_text_is_used(tmp_path, capsys):
    code, out, _ = run(
        ["check", "my left eyelid twitches", "--answers", write(tmp_path, "{}"), "-f", "json"],
        capsys,
    )
    assert code == 0
    data = json.loads(out)
    assert {"region_eyelid", "side_left", "twitching"} <= {f["id"] for f in data["findings"]}
    asked = {q["finding"] for q in data["questions"]}
    assert not asked & {"region_eyelid", "side_left", "twitching"}  # known, so never asked
    assert all(q["answer"] is None for q in data["questions"])


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"weaknes": true}', "did you mean 'weakness'?"),
        ('{"weakness": "yes"}', 'must be true or false, not "yes"'),
        ('{"weakness": 1}', "must be true or false, not 1"),
    ],
)
def test_check_bad_answers_file(tmp_path, capsys, content, needle):
    code, out, err = run(["check", "--answers", write(tmp_path, content)], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err


def test_check_unreadable_answers_file(tmp_path, capsys):
    code, _, err = run(["check", "--answers", str(tmp_path / "missing.json")], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "cannot read the answers file" in err


def test_check_without_a_terminal_fails_fast(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run(["check"], capsys)
    assert code == 2 and out == ""
    assert "--answers FILE.json" in err and len(err.strip().splitlines()) == 1


def test_check_bad_options(tmp_path, capsys):
    code, _, err = run(["check", "--answers", write(tmp_path, "{}"), "-f", "yaml"], capsys)
    assert code == 2 and "unknown format" in err
    argv = ["check", "--answers", write(tmp_path, "{}"), "--max-questions", "0"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "--max-questions" in err


def test_check_max_questions(tmp_path, capsys):
    code, out, _ = run(
        ["check", "--answers", write(tmp_path, "{}"), "--max-questions", "3", "-f", "json"],
        capsys,
    )
    assert code == 0
    assert json.loads(out)["stopped"]["reason"] == "budget"


def test_check_markdown(tmp_path, capsys):
    code, out, _ = run(
        ["check", "--answers", write(tmp_path, '{"weakness": true}'), "-f", "markdown"], capsys
    )
    assert code == 0 and out.startswith("# ")


def test_start_evidence_is_kept_as_given():
    start = Evidence((Observation("twitching"),))
    assert iv.evidence(iv.InterviewState(start=start), KB).present >= {"twitching"}


def test_a_possible_red_flag_counts_until_the_person_answers_it():
    from twitchwise.app import default

    start = default().parser.parse("no chest pain... actually it feels tight and my arm twitches")
    assert "chest_pain" in start.possible
    state = iv.InterviewState(start=start)
    assert iv.progress(state, KB).level is TriageLevel.EMERGENCY
    # the state round-trips with its doubt (the web sends it back and forth)
    again = iv.InterviewState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert "chest_pain" in iv.evidence(again, KB).possible
    # a second doubtful flag, as the backstop model may add one ("it feels tight" read as
    # breathing trouble): each counts until it is answered
    model = Observation("breathing_difficulty", False, True, "it feels tight", doubt=MODEL_DOUBT)
    start = Evidence(merge([*start.observations, model]), start.quantities, start.not_understood)
    assert set(start.possible) == {"chest_pain", "breathing_difficulty"}
    chest_only = iv.InterviewState(
        start, (iv.Answered("emergency_signs", "Any?", ("chest_pain",), (("chest_pain", False),)),)
    )
    assert "chest_pain" in iv.evidence(chest_only, KB).negated
    assert iv.progress(chest_only, KB).level is TriageLevel.EMERGENCY
    answered = iv.InterviewState(
        start,
        (
            iv.Answered(
                "emergency_signs",
                "Any?",
                ("chest_pain", "breathing_difficulty"),
                (("chest_pain", False), ("breathing_difficulty", False)),
            ),
        ),
    )
    assert {"chest_pain", "breathing_difficulty"} <= set(iv.evidence(answered, KB).negated)
    assert iv.progress(answered, KB).level < TriageLevel.EMERGENCY
