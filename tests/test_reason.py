"""Reasoning: the cause ranking, the triage rules and the personal plan."""

from __future__ import annotations

import math
import re
import shutil

import pytest

import twitchwise
from twitchwise.evidence import Evidence, Observation
from twitchwise.knowledge.load import DATA_DIR, build
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.model import CauseModel
from twitchwise.reason.plan import make_plan
from twitchwise.reason.rank import rank
from twitchwise.reason.triage import fired, triage


def evidence(*items: str, uncertain: tuple[str, ...] = ()) -> Evidence:
    """Evidence from finding ids; ``"!id"`` is denied, ids in ``uncertain`` are hedged."""
    observations = []
    for item in items:
        fid = item.lstrip("!")
        observations.append(
            Observation(fid, negated=item.startswith("!"), uncertain=fid in uncertain)
        )
    return Evidence(observations=tuple(observations))


def probabilities(kb, ev: Evidence) -> dict[str, float]:
    return {r.id: r.probability for r in rank(kb, ev)}


def odds_against_other(kb, ev: Evidence, cause: str) -> float:
    """P(cause) / P(something not in the knowledge base): unaffected by other causes."""
    probs = probabilities(kb, ev)
    other = 1.0 - sum(probs.values())
    assert other > 0
    return probs[cause] / other


SAMPLE_EVIDENCE = [
    (),
    ("twitching",),
    ("twitching", "region_eyelid", "sleep_short", "caffeine_high"),
    ("twitching", "region_calf", "duration_over_2_weeks", "!weakness"),
    ("twitching", "muscle_wasting", "weakness", "speech_change"),
    ("chest_pain", "palpitations", "caffeine_high"),
    ("!weakness", "!numbness", "!chest_pain"),
    ("dark_urine", "muscle_pain_severe", "after_workout", "med_statin"),
]


# ------------------------------------------------------------------ ranking


@pytest.mark.parametrize("items", SAMPLE_EVIDENCE, ids=lambda items: ",".join(items) or "nothing")
def test_probabilities_are_well_formed(kb, items):
    ranking = rank(kb, evidence(*items))
    assert {r.id for r in ranking} == set(kb.causes)
    probs = [r.probability for r in ranking]
    assert all(0.0 <= p <= 1.0 and math.isfinite(p) for p in probs)
    assert sum(probs) <= 1.0 + 1e-9
    assert sum(probs) > 0.5, "most of the mass goes to the knowledge base's causes"
    assert probs == sorted(probs, reverse=True), "best first"


def _finding_of(entry: str, ev: Evidence) -> str:
    """The finding a for/against entry names: "id" (reported) or "!id" (denied)."""
    if entry.startswith("!"):
        assert entry[1:] in ev.negated, f"{entry} but {entry[1:]} is not denied"
        return entry[1:]
    assert entry in ev.present | ev.negated, f"{entry} was not reported"
    return entry


@pytest.mark.parametrize("items", SAMPLE_EVIDENCE, ids=lambda items: ",".join(items) or "nothing")
def test_for_and_against_name_reported_findings(kb, items):
    ev = evidence(*items)
    for r in rank(kb, ev):
        pros = {_finding_of(e, ev) for e in r.supporting}
        cons = {_finding_of(e, ev) for e in r.against}
        assert not pros & cons, r.id
        listed = {lk.finding for lk in kb.causes[r.id].likelihoods}
        assert pros | cons <= listed, r.id


def test_for_and_against_follow_the_likelihoods(kb):
    mnd = kb.causes["motor_neuron_disease"]
    assert {"weakness", "muscle_wasting"} <= {lk.finding for lk in mnd.likelihoods}
    ev = evidence("twitching", "muscle_wasting", "!weakness")
    ranking = {r.id: r for r in rank(kb, ev)}
    pros = [_finding_of(e, ev) for e in ranking["motor_neuron_disease"].supporting]
    cons = [_finding_of(e, ev) for e in ranking["motor_neuron_disease"].against]
    assert "muscle_wasting" in pros
    assert "weakness" in cons
    assert "muscle_wasting" not in cons and "weakness" not in pros


def test_unmentioned_findings_change_nothing(kb):
    base = probabilities(kb, evidence("twitching"))
    # a finding no cause lists is as good as unmentioned
    listed = {lk.finding for c in kb.causes.values() for lk in c.likelihoods}
    listed |= {m.finding for c in kb.causes.values() for m in c.modifiers}
    unlisted = sorted(set(kb.findings) - listed)
    if not unlisted:
        pytest.skip("every finding is used by some cause")
    assert probabilities(kb, evidence("twitching", unlisted[0])) == pytest.approx(base)


def test_without_findings_the_priors_decide(kb):
    ranking = rank(kb, Evidence())
    by_prior = sorted(kb.causes.values(), key=lambda c: (-c.prior, c.id))
    assert [r.id for r in ranking] == [c.id for c in by_prior]
    assert all(r.supporting == () and r.against == () for r in ranking)


def test_the_cause_model_is_the_likelihoods_as_log_odds(kb):
    """One table of log-odds, in knowledge-base order; the ranking reads its ratios there."""
    model = CauseModel.build(kb)
    assert model.causes == tuple(kb.causes)
    for cause in kb.causes.values():
        terms = model.likelihoods(cause.id)
        assert [t.finding for t in terms] == [lk.finding for lk in cause.likelihoods]
        for lk, t in zip(cause.likelihoods, terms, strict=True):
            without = lk.without if lk.without is not None else kb.findings[lk.finding].base_rate
            assert (t.with_, t.without, t.ratio) == (lk.with_, without, lk.with_ / without)
            assert t.log_present == math.log(min(max(t.ratio, 1e-4), 1e4))
            assert t.log_absent == math.log(min(max((1 - lk.with_) / (1 - without), 1e-4), 1e4))
    ev = evidence("twitching", "region_eyelid", "!weakness", uncertain=("region_eyelid",))
    assert rank(kb, ev, model) == rank(kb, ev)


def test_a_missing_without_is_the_findings_base_rate(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "causes" / "common.yaml"
    text = path.read_text(encoding="utf-8")
    line = "{finding: after_workout, with: 0.9, without: 0.25}"
    assert text.count(line) == 1
    path.write_text(text.replace(line, "{finding: after_workout, with: 0.9}"), encoding="utf-8")
    kb = build(data)
    base_rate = kb.findings["after_workout"].base_rate
    term = next(
        t
        for t in CauseModel.build(kb).likelihoods("exercise_fatigue")
        if t.finding == "after_workout"
    )
    assert (term.without, term.ratio) == (base_rate, 0.9 / base_rate)


def test_negated_finding_lowers_the_cause_it_supports(kb):
    checked = 0
    for cause in kb.causes.values():
        for lk in cause.likelihoods:
            without = lk.without if lk.without is not None else kb.findings[lk.finding].base_rate
            if lk.with_ <= without * 1.1:
                continue
            base = odds_against_other(kb, Evidence(), cause.id)
            denied = odds_against_other(kb, evidence("!" + lk.finding), cause.id)
            affirmed = odds_against_other(kb, evidence(lk.finding), cause.id)
            assert denied < base < affirmed, f"{cause.id} / {lk.finding}"
            checked += 1
    assert checked > 100


def test_denied_weakness_lowers_motor_neurone_disease(kb):
    base = probabilities(kb, evidence("twitching", "region_calf"))
    denied = probabilities(kb, evidence("twitching", "region_calf", "!weakness"))
    assert denied["motor_neuron_disease"] < base["motor_neuron_disease"]
    order_base = sorted(base, key=base.__getitem__, reverse=True)
    order_denied = sorted(denied, key=denied.__getitem__, reverse=True)
    assert order_denied.index("motor_neuron_disease") >= order_base.index("motor_neuron_disease")


def test_hedged_finding_counts_less_than_a_firm_one(kb):
    cause = "motor_neuron_disease"
    base = odds_against_other(kb, evidence("twitching"), cause)
    hedged = odds_against_other(
        kb, evidence("twitching", "weakness", uncertain=("weakness",)), cause
    )
    firm = odds_against_other(kb, evidence("twitching", "weakness"), cause)
    assert base < hedged < firm


def test_typical_stories_rank_the_expected_cause_first(kb):
    cases = {
        "exercise_fatigue": ("twitching", "region_thigh", "after_workout", "workout_strength",
                             "muscle_ache", "!weakness"),
        "caffeine_stimulants": ("twitching", "caffeine_high", "energy_drinks", "palpitations"),
        "motor_neuron_disease": ("twitching", "weakness_progressive", "muscle_wasting",
                                 "speech_change", "swallowing_difficulty"),
    }  # fmt: skip
    for expected, items in cases.items():
        assert rank(kb, evidence(*items))[0].id == expected, items


# ------------------------------------------------------------------ triage


@pytest.mark.parametrize(
    ("present", "level"),
    [
        ((), TriageLevel.SELF_CARE),
        (("twitching", "region_eyelid"), TriageLevel.SELF_CARE),
        (("chest_pain",), TriageLevel.EMERGENCY),
        (("twitching", "chest_pain"), TriageLevel.EMERGENCY),
        (("muscle_wasting",), TriageLevel.SEE_DOCTOR_URGENT),
        (("twitching", "duration_over_2_weeks"), TriageLevel.SEE_DOCTOR_ROUTINE),
        (("region_calf", "duration_over_3_months"), TriageLevel.SEE_DOCTOR_ROUTINE),
        # jerks only on dropping off to sleep are normal however long (the rule needs a twitch)
        (("hypnic_jerks", "duration_over_3_months"), TriageLevel.SELF_CARE),
        (("duration_over_2_weeks", "muscle_wasting"), TriageLevel.SEE_DOCTOR_URGENT),
        (("duration_over_2_weeks", "muscle_wasting", "chest_pain"), TriageLevel.EMERGENCY),
        (("saddle_numbness",), TriageLevel.EMERGENCY),
        (("facial_droop",), TriageLevel.EMERGENCY),
    ],
)
def test_triage_of_known_combinations(kb, present, level):
    result = triage(kb, frozenset(present))
    assert result.level is level
    if level is TriageLevel.SELF_CARE:
        assert result.reasons == ()
    else:
        assert result.reasons
        assert result.reasons[0].level is level
        assert all(r.finding in present for r in result.reasons)
        assert all(r.source in kb.sources and r.text.strip() for r in result.reasons)


def test_chest_pain_reason_names_the_finding(kb):
    result = triage(kb, frozenset({"twitching", "chest_pain"}))
    assert result.reasons[0].finding == "chest_pain"


def test_reasons_are_most_urgent_first_and_unique(kb):
    result = triage(
        kb, frozenset({"twitching", "duration_over_2_weeks", "muscle_wasting", "chest_pain"})
    )
    ranks = [r.level.rank for r in result.reasons]
    assert ranks == sorted(ranks, reverse=True)
    findings = [r.finding for r in result.reasons]
    assert len(findings) == len(set(findings))
    assert {"duration_over_2_weeks", "muscle_wasting", "chest_pain"} <= set(findings)


def test_every_red_flag_fires_on_its_own_findings(kb):
    for rule in kb.red_flags:
        for pick in (0, -1):  # the first and the last alternative of every group
            present = frozenset(group[pick] for group in rule.groups())
            assert fired(rule, present) is not None, rule.id
            assert triage(kb, present).level >= rule.level, rule.id


def test_a_red_flag_needs_all_of_its_groups(kb):
    checked = 0
    for rule in kb.red_flags:
        groups = rule.groups()
        for missing in range(len(groups)):
            if len(groups) < 2:
                break
            partial = frozenset(g[0] for i, g in enumerate(groups) if i != missing)
            if set(groups[missing]) & partial:
                continue  # the same finding also satisfies the missing group
            assert fired(rule, partial) is None, (rule.id, sorted(partial))
            checked += 1
    assert checked > 10


def test_denied_red_flag_does_not_raise_triage():
    answer = twitchwise.assess(["twitching", "!chest_pain", "!fainting", "!weakness"])
    assert answer.level is TriageLevel.SELF_CARE
    assert answer.reasons == ()


def test_red_flag_wins_over_a_reassuring_ranking():
    answer = twitchwise.assess(
        ["twitching", "region_eyelid", "sleep_short", "caffeine_high", "stress_high", "chest_pain"]
    )
    # the ranking stays benign, the triage does not soften
    assert answer.causes[0].id in {"caffeine_stimulants", "sleep_deprivation", "stress_anxiety"}
    assert answer.level is TriageLevel.EMERGENCY
    assert answer.to_dict()["triage"]["level"] == "emergency"
    assert answer.summary.lower().startswith("call emergency services")


# ------------------------------------------------------------------ plan

_STOP = re.compile(r"\b(stop|stopping|quit|come off|coming off)\b", re.IGNORECASE)
_DONT = re.compile(r"(do not|don't|never|not)\s+(\w+\s+){0,2}$", re.IGNORECASE)


def _tells_to_stop(text: str) -> bool:
    """True when the text tells the reader to stop something (not 'do not stop ...')."""
    for match in _STOP.finditer(text):
        before = text[: match.start()]
        if _DONT.search(before):
            continue
        after = text[match.end() : match.end() + 40].lower()
        if after.lstrip().startswith(("suddenly is", "some suddenly")):
            continue  # "stopping some suddenly is risky" warns, it does not instruct
        return True
    return False


def test_stop_detector():
    assert _tells_to_stop("stop taking it and speak to a doctor")
    assert not _tells_to_stop("Do not stop or change a prescribed medicine on your own")
    assert not _tells_to_stop("Do not stop lithium on your own")
    assert not _tells_to_stop("stopping some suddenly is risky")


def _plan_texts(answer) -> list[tuple[str, str]]:
    return [(p.kind, p.text) for p in answer.plan]


def test_plan_has_a_caffeine_budget_with_numbers():
    answer = twitchwise.ask("I drink 6 coffees a day and my eyelid keeps twitching")
    caffeine = [text for kind, text in _plan_texts(answer) if kind == "caffeine"]
    assert len(caffeine) == 1
    text = caffeine[0]
    assert "576" in text, text  # 6 x 96 mg
    assert "400" in text, text  # the adult limit
    assert "176" in text, text  # over the limit by this much
    assert re.search(r"\b2 mugs\b", text), text  # ceil(176 / 96) mugs to cut


def test_caffeine_budget_uses_the_known_amount_below_the_limit():
    answer = twitchwise.ask("I had 3 coffees today and my calf twitches")
    caffeine = [text for kind, text in _plan_texts(answer) if kind == "caffeine"]
    assert caffeine and "288" in caffeine[0], caffeine


def test_plan_without_caffeine_amount_has_no_invented_numbers():
    answer = twitchwise.ask("my eyelid twitches")
    for kind, text in _plan_texts(answer):
        assert "{" not in text and "}" not in text, text
        if kind == "caffeine":
            assert not re.search(r"described about \d+ mg", text)


def test_plan_never_tells_to_stop_a_medicine_except_a_statin(kb):
    medicines = sorted(fid for fid, f in kb.findings.items() if f.kind == "medicine")
    assert len(medicines) >= 10
    symptoms = ["twitching", "muscle_ache", "cramps", "weakness", "tremor", "diarrhoea"]
    for med in medicines:
        answer = twitchwise.assess([med, *symptoms])
        for kind, text in _plan_texts(answer):
            if _tells_to_stop(text):
                assert kind == "medicine" and "statin" in text.lower(), (med, text)
                assert med in ("med_statin", "med_statin_interacting"), (med, text)


def test_statin_with_muscle_pain_gets_the_nhs_advice():
    answer = twitchwise.ask("I take atorvastatin and my thigh muscles ache and twitch")
    medicine = [text for kind, text in _plan_texts(answer) if kind == "medicine"]
    assert medicine and "statin" in medicine[0].lower()
    assert "atorvastatin" in medicine[0]
    assert any(p.source == "nhs-atorvastatin" for p in answer.plan)


_LITRES = re.compile(r"\d(\.\d+)?\s*(-\s*\d(\.\d+)?)?\s*(L|litres?|liters?)\b")


@pytest.mark.parametrize(
    "extra",
    [(), ("heat_exposure",), ("vomiting", "diarrhoea"), ("sex_male",), ("pregnant",)],
    ids=lambda extra: ",".join(extra) or "plain",
)
def test_no_fluid_target_with_a_fluid_restriction(extra):
    answer = twitchwise.assess(
        ["fluid_restriction", "twitching", "after_workout", "low_fluid_intake", "dark_yellow_urine",
         "thirst", *extra]
    )  # fmt: skip
    for _kind, text in _plan_texts(answer):
        assert not _LITRES.search(text), text
    fluids = [text for kind, text in _plan_texts(answer) if kind == "fluids"]
    assert fluids
    if not extra:
        assert "fluid limit" in fluids[0]


def test_fluid_target_when_no_restriction():
    answer = twitchwise.assess(["twitching", "after_workout", "low_fluid_intake"])
    fluids = [text for kind, text in _plan_texts(answer) if kind == "fluids"]
    assert fluids and _LITRES.search(fluids[0]), fluids


def test_advice_with_a_fluid_amount_is_vetoed_by_a_fluid_restriction(kb):
    for advice in kb.plan.advice:
        if "{drinks_l}" in advice.text:
            assert "fluid_restriction" in advice.unless_findings, advice.id


def test_plan_has_one_item_per_kind_and_cites_sources(kb):
    answer = twitchwise.ask(
        "my calf twitches after running, 5 hours sleep, 5 coffees, on omeprazole, for 3 weeks"
    )
    kinds = [p.kind for p in answer.plan]
    assert len(kinds) == len(set(kinds))
    assert all(p.source in kb.sources for p in answer.plan)
    assert "doctor" in kinds  # routine GP advice for > 2 weeks


def test_emergency_plan_starts_with_calling_for_help(kb):
    ev = evidence("twitching", "chest_pain")
    ranking = rank(kb, ev)
    result = triage(kb, ev.present)
    plan = make_plan(kb, ev, ranking, result)
    assert plan[0].kind == "doctor"
    assert "emergency" in plan[0].text.lower()
