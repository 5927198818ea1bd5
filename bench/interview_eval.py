"""Acceptance measure of the adaptive interview (``twitchwise check``) on vignettes.

For every case: the findings that ``ask`` extracts from its text become the answers (present
ids true, negated ids false); the interview starts with no opening text and every question
whose finding is not in the answers is answered "not sure". Reported per set: how often the
interview ends at the same triage as ``ask`` (target >= 95%), how often at a lower one
(target: never), and the questions asked (target: <= 12 on average).

    python bench/interview_eval.py                 # the three sets, a table
    python bench/interview_eval.py --json          # the same as JSON
    python bench/interview_eval.py --cli           # through `twitchwise check --answers`
    python bench/interview_eval.py --verbose       # every case that did not match
    python bench/interview_eval.py --simulate 1000 # simulated patients instead (see below)

The case wording is never looked at by the interview: only the extracted answers are.

Simulated patients (``--simulate N``, seeded): a cause is drawn with probability proportional
to its prior, then every finding independently with its probability under that cause (the
likelihood's ``with`` when the cause lists the finding, otherwise the finding's reference rate:
the mean ``without`` of its likelihoods, or its ``base_rate``). Findings that exclude each other
(how long, sleep, caffeine, age band, sex) are drawn as one choice. The interview then answers
from the full truth (``--unsure P``: each finding is "not sure" with probability P). Reported:
the same triage as the truth (all present findings), a lower one, the same as what the patient
could answer (only differs with ``--unsure``), the drawn cause first and in
the top three, the same for the ranker given every finding (a ceiling), and the questions.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import yaml

import twitchwise
from twitchwise.app import default
from twitchwise.reason import interview
from twitchwise.reason.triage import fired, triage

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "own": ROOT / "tests" / "cases" / "own_vignettes.yaml",
    "holdout": ROOT / "tests" / "cases" / "holdout_vignettes.yaml",
    "public": ROOT.parent / "shared" / "vignettes" / "public.yaml",
}
TODAY = date(2026, 11, 23)
LEVELS = [level.value for level in twitchwise.TriageLevel]


def answers_for(text: str) -> tuple[dict[str, bool], str, list[str]]:
    """The answers file of one case, ask's triage level, and ask's causes."""
    ev = default().parser.parse(text, today=TODAY)
    answers = {fid: True for fid in ev.present}
    answers.update({fid: False for fid in ev.negated})
    kb = twitchwise.load_knowledge()
    answer = twitchwise.ask(text, today=TODAY)
    return answers, triage(kb, ev.present).level.value, [c.id for c in answer.causes]


def run_engine(answers: dict[str, bool]) -> tuple[str, int, str, str]:
    from twitchwise.answer.build import answer_for

    kb = twitchwise.load_knowledge()
    state, stop = interview.run(interview.InterviewState(), answers, kb)
    answer = answer_for(kb, interview.evidence(state, kb))
    return answer.level.value, len(state.asked), answer.causes[0].id, stop.reason


def run_cli(answers: dict[str, bool]) -> tuple[str, int, str, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(answers, fh)
    out = subprocess.run(
        [sys.executable, "-m", "twitchwise", "check", "--answers", fh.name, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(fh.name).unlink()
    data: dict[str, Any] = json.loads(out.stdout)
    return (
        data["triage"]["level"],
        len(data["questions"]),
        data["causes"][0]["id"],
        data["stopped"]["reason"],
    )


def evaluate(name: str, path: Path, *, cli: bool, verbose: bool) -> dict[str, Any]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    same = lower = higher = same_cause = 0
    counts: list[int] = []
    stops: Counter[str] = Counter()
    for case in cases:
        answers, expected, ask_causes = answers_for(case["text"])
        level, asked, cause, stop = (run_cli if cli else run_engine)(answers)
        counts.append(asked)
        stops[stop] += 1
        same += level == expected
        lower += LEVELS.index(level) < LEVELS.index(expected)
        higher += LEVELS.index(level) > LEVELS.index(expected)
        same_cause += bool(ask_causes) and cause == ask_causes[0]
        if verbose and level != expected:
            print(f"  {name} {case['id']}: ask {expected}, interview {level} ({asked} questions)")
    n = len(cases)
    return {
        "set": name,
        "cases": n,
        "same_triage": same / n,
        "lower_triage": lower,
        "higher_triage": higher,
        "mean_questions": statistics.mean(counts),
        "median_questions": statistics.median(counts),
        "max_questions": max(counts),
        "same_leading_cause": same_cause / n,
        "stops": dict(stops),
    }


def patient(rng: random.Random) -> tuple[str, dict[str, bool]]:
    """One simulated patient: the drawn cause and the truth for every finding."""
    kb = twitchwise.load_knowledge()
    model = interview.interview_model(kb)
    causes = list(kb.causes.values())
    cause = rng.choices(causes, weights=[c.prior for c in causes])[0]
    withs = {lk.finding: lk.with_ for lk in cause.likelihoods}

    def p(fid: str) -> float:
        return withs.get(fid, model.cause_model.reference[fid])

    truth: dict[str, bool] = {}
    exclusive = [q.findings for q in model.static if q.kind in ("quantity", "one_of")]
    for group in exclusive:
        if "caffeine_high" in group:  # none, some, moderate, high
            weights = [
                1 - p("caffeine_any"),
                p("caffeine_any") * (1 - p("caffeine_moderate")),
                p("caffeine_moderate") * (1 - p("caffeine_high")),
                p("caffeine_high"),
            ]
            k = rng.choices(range(4), weights=[max(w, 1e-3) for w in weights])[0]
            truth |= {"caffeine_any": k > 0, "caffeine_moderate": k > 1, "caffeine_high": k > 2}
        elif "sleep_very_short" in group:
            short = rng.random() < p("sleep_short")
            very = short and rng.random() < p("sleep_very_short") / p("sleep_short")
            truth |= {"sleep_short": short, "sleep_very_short": very}
        elif "duration_over_3_months" in group:
            spans = ["duration_under_1_day", "duration_days", "duration_over_2_weeks"]
            k = rng.choices(range(3), weights=[p(f) for f in spans])[0]
            ratio = p("duration_over_3_months") / p("duration_over_2_weeks")
            truth |= {f: i == k for i, f in enumerate(spans)}
            truth["duration_over_3_months"] = k == 2 and rng.random() < ratio
        else:
            k = rng.choices(range(len(group)), weights=[p(f) for f in group])[0]
            truth |= {f: i == k for i, f in enumerate(group)}
    for fid, finding in kb.findings.items():
        if finding.kind != "cue" and fid not in truth:
            truth[fid] = rng.random() < p(fid)
    for fid, present in list(truth.items()):
        if present:
            truth |= dict.fromkeys(kb.closure[fid], True)
    return cause.id, truth


def simulate(n: int, seed: int, unsure: float, verbose: bool = False) -> dict[str, Any]:
    from twitchwise.evidence import Evidence, Observation
    from twitchwise.reason.rank import rank

    kb = twitchwise.load_knowledge()
    rng = random.Random(seed)
    same = lower = same_known = lower_known = top1 = top3 = oracle1 = oracle3 = 0
    counts: list[int] = []
    stops: Counter[str] = Counter()
    for _ in range(n):
        cause, truth = patient(rng)
        answers = {f: v for f, v in truth.items() if rng.random() >= unsure}
        expected = triage(kb, frozenset(f for f, v in truth.items() if v)).level
        knowable = triage(kb, frozenset(f for f, v in answers.items() if v)).level
        state, stop = interview.run(interview.InterviewState(), answers, kb)
        ev = interview.evidence(state, kb)
        level = triage(kb, ev.present).level
        ranked = [r.id for r in rank(kb, ev)]
        full = [
            r.id for r in rank(kb, Evidence(tuple(Observation(f, not v) for f, v in truth.items())))
        ]
        same += level == expected
        lower += level < expected
        same_known += level == knowable
        lower_known += level < knowable
        if verbose and level < expected:
            present = frozenset(f for f, v in truth.items() if v)
            missed = [r.id for r in kb.red_flags if r.level == expected and fired(r, present)]
            print(f"  {cause}: truth {expected}, interview {level} ({stop.reason}); {missed}")
        top1 += ranked[0] == cause
        top3 += cause in ranked[:3]
        oracle1 += full[0] == cause
        oracle3 += cause in full[:3]
        counts.append(len(state.asked))
        stops[stop.reason] += 1
    return {
        "patients": n,
        "seed": seed,
        "unsure": unsure,
        "same_triage": same / n,
        "lower_triage": lower / n,
        "same_triage_as_answerable": same_known / n,
        "lower_than_answerable": lower_known / n,
        "cause_first": top1 / n,
        "cause_top3": top3 / n,
        "all_findings_cause_first": oracle1 / n,
        "all_findings_cause_top3": oracle3 / n,
        "mean_questions": statistics.mean(counts),
        "median_questions": statistics.median(counts),
        "max_questions": max(counts),
        "stops": dict(stops),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--cli", action="store_true", help="run `twitchwise check` in a subprocess")
    ap.add_argument("--verbose", action="store_true", help="list the cases that differ")
    ap.add_argument("--simulate", type=int, metavar="N", help="N simulated patients instead")
    ap.add_argument("--seed", type=int, default=20261123, help="seed of the simulation")
    ap.add_argument("--unsure", type=float, default=0.0, help="chance of 'not sure' (simulation)")
    args = ap.parse_args(argv)
    if args.simulate:
        result = simulate(args.simulate, args.seed, args.unsure, args.verbose)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            for key, value in result.items():
                print(
                    f"{key:<26} {value:.3f}" if isinstance(value, float) else f"{key:<26} {value}"
                )
        return 0
    rows = [
        evaluate(name, path, cli=args.cli, verbose=args.verbose)
        for name, path in SETS.items()
        if path.is_file()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'set':<8} {'cases':>5} {'same triage':>11} {'lower':>5} {'higher':>6} "
        f"{'mean q':>6} {'median':>6} {'max':>4} {'same top cause':>14}  stops"
    )
    for r in rows:
        print(
            f"{r['set']:<8} {r['cases']:>5} {r['same_triage']:>10.1%} {r['lower_triage']:>5} "
            f"{r['higher_triage']:>6} {r['mean_questions']:>6.1f} {r['median_questions']:>6} "
            f"{r['max_questions']:>4} {r['same_leading_cause']:>13.1%}  {r['stops']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
