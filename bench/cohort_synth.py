"""A generator of realistic synthetic cohorts in the cohort format (docs/cohort.md), with
planted population effects and heterogeneity between people.

    python bench/cohort_synth.py OUT [--people 1000] [--days 365] [--seed 1] [--buckets 8]

What is simulated, person by person and day by day (all vectorised with numpy):

- an age band, a sex (2% not given) and a pseudonymous id (64 random bits, hexadecimal);
- habits: caffeine (a personal level, more on workdays and after a short night), sleep (a
  personal mean, longer at weekends), stress (0-10, higher on workdays), alcohol (units,
  mostly at weekends), water, workouts (a personal share of active days, 20-120 minutes);
- logging: each person logs their factors on a personal share of days (most people most
  days), and each factor is left out now and then; twitches are counted every day (a day
  without an episode is 0, as in the journal);
- twitches: a personal baseline (older people a little more), a season (more in winter),
  and each factor's personal effect ``b_if ~ N(mu_f, tau_f^2)`` per its step (PLANTED), with
  day-to-day overdispersion (a gamma frailty, so the counts are over-dispersed Poisson);
- where: a personal main region (eyelid in the young, calf and thigh later in life), a
  second one, and now and then another; triage: on some twitching days the person asked
  twitchwise, and the level is self-care mostly, more often "see a doctor" with age;
- the effects table: each person's own quasi-Poisson model (twitchwise.cohort.effects);
- self-experiments (``--experimenters``: the share of people who run one; a quarter of them
  run a second, of another change): a change drawn from the format's (caffeine most often,
  then sleep, magnesium-rich food, stretching and a change of one's own), 6 weeks (or 8) of
  7-day blocks with 2 washout days, the schedule from the project's own ``draw_schedule``.
  Each person's true effect of a change is ``b_ic ~ N(mu_c, tau_c^2)`` on the log rate ratio
  (change / usual; PLANTED_EXPERIMENTS). Their twitches over the experiment's days are drawn
  from their own baseline rate, with good and bad weeks (each block x exp(N(0, 0.2))),
  over-dispersed days (gamma, shape 4), the rate half-way over a washout, days missed now and
  then (no check-in, nothing logged), the change kept on a personal share of change days
  (about 94% on average; on a day it is not kept it does nothing, and the check-in says so)
  and 8% stopped early. Each experiment then goes through the project's own
  ``experiment_result`` and into the experiments table as ``twitchwise cohort export``
  writes it (twitchwise.cohort.export.experiment_rows). The experiments' days are drawn on
  their own, not from the days table;
- answers (the answers table): each day a person asked twitchwise is one answer at that
  day's triage level (the days table's), and now and then a second, self-care one the same
  day; 60% of answers come from the interview (its two opening questions, then two to six
  of its others and up to three of the findings it asks about one by one), each reports up to five
  findings (twitching and a region most often), and 15% have a word or more not understood.
  Ids are the packaged knowledge base's; the manifest lists them.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from twitchwise.cohort.effects import fit_person
from twitchwise.cohort.format import (
    AGE_BANDS,
    CHANGES,
    COLUMNS,
    FACTORS,
    LEVELS,
    REGIONS,
    write_cohort,
)

#: factor -> (mu: the population's mean log rate ratio per step, tau: its spread across people)
PLANTED: dict[str, tuple[float, float]] = {
    "caffeine_mg": (math.log(1.12), 0.08),
    "sleep_h": (math.log(0.88), 0.06),
    "water_l": (0.0, 0.0),
    "workout_min": (math.log(1.05), 0.05),
    "stress": (math.log(1.06), 0.04),
    "alcohol_units": (math.log(1.04), 0.05),
}

#: change -> (mu: the population's mean log rate ratio of an experiment of it, change / usual;
#: tau: its spread across people). Magnesium-rich food does nothing, for anyone.
PLANTED_EXPERIMENTS: dict[str, tuple[float, float]] = {
    "caffeine": (math.log(0.80), 0.15),
    "sleep": (math.log(0.88), 0.10),
    "magnesium_food": (0.0, 0.0),
    "stretching": (math.log(0.92), 0.08),
    "other": (math.log(0.95), 0.20),
}
#: How often each change (CHANGES' order) is the one tested.
CHANGE_SHARES = (0.38, 0.24, 0.14, 0.12, 0.12)
#: The share of people who run a self-experiment, of them who run a second, and of the
#: experiments that are stopped early.
EXPERIMENTERS, SECOND_EXPERIMENT, STOPPED_EARLY = 0.4, 0.25, 0.08
#: Each experimenter keeps the change on a share of change days drawn from Beta(a, b) (mean
#: about 94%); on a day it is not kept it does nothing.
KEPT_SHARE = (20.0, 1.2)
#: The kind an experiment of each change is (``other``: a change of one's own, in words that
#: must never reach the cohort).
KIND_OF = {"caffeine": "caffeine", "sleep": "sleep", "magnesium_food": "magnesium_food",
           "stretching": "stretching", "other": "custom"}  # fmt: skip
CUSTOM_WORDS = "no screens after 10 pm, at my sister's"

AGE_SHARES = (0.20, 0.22, 0.20, 0.17, 0.13, 0.08)
#: The main region's chances by age band (rows) over REGIONS (columns).
_YOUNG = np.array([30, 4, 3, 3, 4, 6, 4, 2, 2, 10, 22, 6, 4], dtype=float)
_OLD = np.array([14, 4, 4, 4, 5, 8, 5, 2, 2, 14, 28, 7, 3], dtype=float)
START = date(2024, 1, 1)


@dataclass
class Simulated:
    """A simulated cohort in memory: the tables' columns and the planted truth."""

    people: dict[str, Any]
    days: dict[str, Any]
    effects: dict[str, Any]
    true_effects: dict[str, Any]  # factor -> each person's true b_if
    experiments: dict[str, list[Any]] = field(default_factory=dict)
    true_experiments: dict[str, Any] = field(default_factory=dict)  # change -> each b_ic
    answers: dict[str, list[Any]] = field(default_factory=dict)


def baseline_rates(rng: np.random.Generator, age: Any) -> Any:
    """Each person's log baseline rate of twitches a day (older people a little more)."""
    return rng.normal(math.log(0.8), 0.7, len(age)) + 0.05 * age


def simulate(
    people: int,
    days: int,
    seed: int,
    *,
    planted: dict[str, tuple[float, float]] | None = None,
    experimenters: float = EXPERIMENTERS,
    planted_experiments: dict[str, tuple[float, float]] | None = None,
) -> Simulated:
    planted = PLANTED if planted is None else planted
    rng = np.random.default_rng(seed)
    P, D = people, days
    ids = np.array([f"{x:016x}" for x in rng.integers(0, 2**63, size=P, dtype=np.int64)])
    age = rng.choice(len(AGE_BANDS), size=P, p=AGE_SHARES)
    sex = rng.choice(np.array(["female", "male", None], dtype=object), size=P,
                     p=[0.55, 0.43, 0.02])  # fmt: skip
    dates = np.datetime64(START) + np.arange(D)
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    workday = (weekday < 5)[None, :]
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    season = np.select(
        [np.isin(month, (12, 1, 2)), np.isin(month, (6, 7, 8))], [0.12, -0.06], 0.0
    )[None, :]

    def person(values: Any) -> Any:
        return np.asarray(values)[:, None]

    sleep_mean = person(np.clip(rng.normal(7.0, 0.6, P), 5, 9))
    sleep = np.clip(rng.normal(sleep_mean + 0.5 * ~workday, 0.9, (P, D)), 3, 11).round(1)
    caffeine_habit = person(rng.gamma(2.0, 100.0, P))
    caffeine = caffeine_habit * rng.gamma(8.0, 1 / 8, (P, D)) * (1 + 0.1 * workday)
    caffeine *= np.exp(-0.1 * (sleep - sleep_mean))
    caffeine = (caffeine / 10).round() * 10
    stress_mean = person(rng.uniform(2, 6, P))
    stress = np.clip(rng.normal(stress_mean + 0.6 * workday, 1.5, (P, D)).round(), 0, 10)
    alcohol_rate = person(rng.gamma(1.0, 1.0, P))
    alcohol = rng.poisson(alcohol_rate * np.where(workday, 0.6, 2.0)).astype(float)
    water_mean = person(np.clip(rng.normal(1.8, 0.4, P), 0.6, 4))
    water = np.clip(rng.normal(water_mean, 0.4, (P, D)), 0.2, 6).round(1)
    active = person(rng.beta(2, 3, P))
    workout = np.where(
        rng.random((P, D)) < active, np.clip(rng.gamma(4, 12, (P, D)), 20, 120), 0.0
    )
    workout = (workout / 5).round() * 5
    values = {"caffeine_mg": caffeine, "sleep_h": sleep, "water_l": water,
              "workout_min": workout, "stress": stress, "alcohol_units": alcohol}  # fmt: skip

    baseline = baseline_rates(rng, age)
    true = {f: rng.normal(mu, tau, P) if tau > 0 else np.full(P, mu)
            for f, (mu, tau) in planted.items()}  # fmt: skip
    lp = person(baseline) + season
    for f, x in values.items():
        centred = (x - x.mean(axis=1, keepdims=True)) / FACTORS[f][0]
        lp = lp + person(true[f]) * centred
    frailty = rng.gamma(4.0, 0.25, (P, D))
    counts = rng.poisson(np.exp(np.clip(lp, -10, 5)) * frailty).astype(np.int32)

    diligence = person(rng.beta(8, 2, P))
    logged = rng.random((P, D)) < diligence
    for f, x in values.items():
        gaps = rng.random((P, D)) < (0.1 if f in ("water_l", "alcohol_units") else 0.04)
        values[f] = np.where(logged & ~gaps, x, np.nan)

    old = (age >= 3)[:, None]
    region_p = np.where(old, _OLD / _OLD.sum(), _YOUNG / _YOUNG.sum())
    main = (region_p.cumsum(axis=1) > rng.random((P, 1))).argmax(axis=1)
    second = np.where(rng.random(P) < 0.5, rng.integers(0, len(REGIONS), P), main)
    pick = rng.random((P, D))
    region = np.where(pick < 0.8, person(main), person(second))
    region = np.where(pick > 0.99, rng.integers(0, len(REGIONS), (P, D)), region)
    region = np.where(counts > 0, region, -1)
    asks = person(rng.beta(0.8, 12.0, P))
    asked = (counts > 0) & (rng.random((P, D)) < asks)
    level_p = np.array([0.78, 0.17, 0.04, 0.01])
    shift = person(0.03 * age)
    u = rng.random((P, D))
    level = np.select(
        [u < level_p[0] - shift, u < level_p[:2].sum(), u < level_p[:3].sum()], [0, 1, 2], 3
    )
    level = np.where(asked, level, -1)

    region_names = np.array([*REGIONS, None], dtype=object)
    level_names = np.array([*LEVELS, None], dtype=object)
    day_columns: dict[str, Any] = {
        "person_id": np.repeat(ids, D).astype(object),
        "date": np.tile(dates, P),
        "twitch_count": counts.ravel(),
        "region": region_names[region.ravel()],
        "triage_level": level_names[level.ravel()],
        **{f: values[f].ravel() for f in FACTORS},
    }
    effects: dict[str, list[Any]] = {"person_id": [], "factor": [], "lag_days": [],
                                     "log_rr": [], "se": [], "n_days": []}  # fmt: skip
    for i in range(P):
        for e in fit_person(counts[i], {f: values[f][i] for f in FACTORS}):
            effects["person_id"].append(ids[i])
            effects["factor"].append(e.factor)
            effects["lag_days"].append(0)
            effects["log_rr"].append(e.log_rr)
            effects["se"].append(e.se)
            effects["n_days"].append(e.n_days)
    bands = np.array(AGE_BANDS, dtype=object)[age]
    experiments, true_experiments = simulate_experiments(
        list(ids), np.exp(baseline), START, D, seed,
        share=experimenters, planted=planted_experiments,
    )  # fmt: skip
    return Simulated(
        people={"person_id": ids.astype(object), "age_band": bands, "sex": sex},
        days=day_columns,
        effects=effects,
        true_effects=true,
        experiments=experiments,
        true_experiments=true_experiments,
        answers=simulate_answers(ids, dates, level, seed),
    )


@cache
def answer_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ids of the packaged knowledge base the answers' lists hold: the interview's
    questions (and the findings it asks about one by one), and the findings (read from its
    YAML files: the generator needs nothing else of it)."""
    from importlib.resources import files

    import yaml

    data = files("twitchwise.knowledge") / "data"
    questions = [q["id"] for q in yaml.safe_load((data / "questions" / "interview.yaml")
                                                 .read_text(encoding="utf-8"))]  # fmt: skip
    findings: list[str] = []
    asked: list[str] = []
    for path in sorted((data / "findings").iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".yaml"):
            continue
        for f in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            findings.append(f["id"])
            if f.get("question"):
                asked.append(f["id"])
    return (*questions, *asked), tuple(findings)


#: The interview's questions asked first, every time (docs/interview.md).
OPENING = ("emergency_signs", "warning_signs")
#: Findings an answer reports most often (each answer: twitching and a region mostly).
COMMON_FINDINGS = ("twitching", "twitch_at_rest", "twitch_frequent", "twitch_brief",
                   "stress_high", "caffeine_high", "sleep_short", "fatigue")  # fmt: skip


def simulate_answers(ids: Any, dates: Any, level: Any, seed: int) -> dict[str, list[Any]]:
    """The answers table's columns: one answer per day a person asked (``level`` >= 0: the
    index of the day's triage level), at that level, and on 10% of those days a second one,
    at self-care (so the day's most urgent level stays the days table's). Its own random
    numbers (``seed``), so the other tables are the same."""
    rng = np.random.default_rng([seed, 4])
    questions, findings = answer_vocabulary()
    known = set(findings)
    common = [f for f in COMMON_FINDINGS if f in known]
    regions = [f for f in findings if f.startswith("region_")]
    interview = [q for q in questions if q not in known and q not in (*OPENING, "follow_up")]
    singles = [q for q in questions if q in known]
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS["answers"]}
    people, days = np.nonzero(level >= 0)
    for p, d in zip(people.tolist(), days.tolist(), strict=True):
        levels = [int(level[p, d])] + ([0] if rng.random() < 0.1 else [])
        for lvl in levels:
            asked: list[str] = []
            if rng.random() < 0.6:
                more = rng.choice(len(interview), size=int(rng.integers(2, 7)), replace=False)
                extra = rng.choice(len(singles), size=int(rng.integers(0, 4)), replace=False)
                asked = [*OPENING, *(interview[i] for i in sorted(more)),
                         *(singles[i] for i in extra)]  # fmt: skip
            found = ["twitching"] if rng.random() < 0.85 else []
            if regions and rng.random() < 0.7:
                found.append(regions[int(rng.integers(len(regions)))])
            for _ in range(int(rng.integers(0, 4))):
                pool = common if rng.random() < 0.7 and common else findings
                found.append(pool[int(rng.integers(len(pool)))])
            words = int(rng.geometric(0.5)) if rng.random() < 0.15 else 0
            columns["person_id"].append(str(ids[p]))
            columns["date"].append(dates[d].astype(object))
            columns["triage_level"].append(LEVELS[lvl])
            columns["questions"].append(asked)
            columns["findings"].append(list(dict.fromkeys(found)))
            columns["not_understood"].append(words)
    return columns


@cache
def _kinds() -> dict[str, Any]:
    """The experiment kinds of the packaged knowledge base (plan/experiments.yaml, read on
    its own: the generator needs nothing else of the knowledge base)."""
    from importlib.resources import files

    import msgspec
    import yaml

    from twitchwise.knowledge.schema import ExperimentKind

    path = files("twitchwise.knowledge") / "data" / "plan" / "experiments.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    kinds = msgspec.convert(data["experiments"], list[ExperimentKind])
    return {k.id: k for k in kinds}


def simulate_experiments(
    ids: list[str],
    rates: Any,
    start: date,
    days: int,
    seed: int,
    *,
    share: float = EXPERIMENTERS,
    planted: dict[str, tuple[float, float]] | None = None,
    adherence: bool = True,
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """The experiments table's columns for people ``ids`` with baseline rates ``rates``
    (twitches a day), each experiment starting within ``days`` days of ``start``, and each
    person's true effect per change. Its own random numbers (``seed``), so the other tables
    are the same whether experiments are simulated or not. ``adherence`` False: the change
    is kept on every change day."""
    from twitchwise.cohort.export import experiment_rows

    planted = PLANTED_EXPERIMENTS if planted is None else planted
    rng = np.random.default_rng([seed, 16])
    P = len(ids)
    true = {c: rng.normal(mu, tau, P) if tau > 0 else np.full(P, mu)
            for c, (mu, tau) in planted.items()}  # fmt: skip
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS["experiments"]}
    runs = rng.random(P) < share
    second = rng.random(P) < SECOND_EXPERIMENT
    shares = np.array([CHANGE_SHARES[CHANGES.index(c)] for c in planted])
    for i in np.flatnonzero(runs):
        picked = rng.choice(len(planted), size=min(2 if second[i] else 1, len(planted)),
                            replace=False,
                            p=shares / shares.sum())  # fmt: skip
        for c in picked:
            change = list(planted)[c]
            result = _one_experiment(rng, change, float(true[change][i]), float(rates[i]),
                                     start, days, adherence)  # fmt: skip
            batch = experiment_rows([result], person_id=ids[i], shift_days=0)
            for name, values in batch.to_pydict().items():
                columns[name].extend(values)
    return columns, true


def _one_experiment(
    rng: np.random.Generator, change: str, effect: float, rate: float, start: date,
    days: int, adherence: bool,
) -> Any:  # fmt: skip
    """One simulated experiment of ``change`` (true log rate ratio ``effect``) by a person
    who twitches ``rate`` times a day, analysed by the project's ``experiment_result``."""
    from twitchwise.insights.experiment import CHANGE, USUAL, draw_schedule, experiment_result
    from twitchwise.journal.rows import ExperimentRow
    from twitchwise.journal.summary import EpisodeGroup, JournalSummary

    weeks = 8 if rng.random() < 0.2 else 6
    length = weeks * 7
    begin = start + timedelta(days=int(rng.integers(0, max(days - length, 0) + 1)))
    seed = int(rng.integers(0, 2**62))
    schedule = draw_schedule(begin, weeks=weeks, block_days=7, washout_days=2, seed=seed)
    letters = schedule.letters
    missed = rng.beta(1.5, 15.0)
    kept_share = rng.beta(*KEPT_SHARE) if adherence else 1.0
    weekly = np.exp(rng.normal(0.0, 0.2, len(letters)))
    frailty = rng.gamma(4.0, 0.25, length)
    u_kept, u_missed = rng.random(length), rng.random(length)
    stopped_on = None
    if rng.random() < STOPPED_EARLY:
        stopped_on = begin + timedelta(days=int(rng.integers(14, length - 1)))
    ratio = math.exp(effect)
    groups: list[Any] = []
    check_ins: dict[date, bool] = {}
    for offset in range(length):
        day = begin + timedelta(days=offset)
        if stopped_on is not None and day > stopped_on:
            break
        block = offset // schedule.block_days
        usual = rate * weekly[block] * frailty[offset]
        kept = True
        lam = usual
        if letters[block] == CHANGE:
            kept = bool(u_kept[offset] < kept_share)
            lam = usual * ratio if kept else usual
        if schedule.washout(day):  # half-way between the block before and this one
            before = letters[block - 1] if block else USUAL
            lam = math.sqrt(lam * usual * (ratio if before == CHANGE else 1.0))
        if u_missed[offset] < missed:
            continue  # no check-in, nothing logged
        check_ins[day] = kept
        count = int(rng.poisson(lam))
        if count:
            at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
            groups.append(EpisodeGroup(day, None, None, count, len(groups), (at, len(groups))))
    kind = _kinds()[KIND_OF[change]]
    row = ExperimentRow(
        id=1,
        kind=kind.id,
        change=CUSTOM_WORDS if kind.id == "custom" else None,
        started_on=begin,
        block_days=7,
        washout_days=2,
        schedule=letters,
        seed=seed,
        created_at=datetime(begin.year, begin.month, begin.day, tzinfo=UTC),
        stopped_on=stopped_on,
        stop_reason="felt worse at my sister's" if stopped_on is not None else None,
        check_ins=check_ins,
    )
    summary = JournalSummary(episodes=sum(g.count for g in groups), groups=groups)
    return experiment_result(row, kind, summary, schedule.end + timedelta(days=1))


def generate(
    out: Path,
    people: int,
    days: int = 365,
    seed: int = 1,
    buckets: int = 8,
    experimenters: float = EXPERIMENTERS,
) -> Simulated:
    """Simulate a cohort and write it into the folder ``out`` in the cohort format."""
    sim = simulate(people, days, seed, experimenters=experimenters)
    write_cohort(
        out,
        people=sim.people,
        days=sim.days,
        effects=sim.effects,
        experiments=sim.experiments,
        answers=sim.answers,
        questions=answer_vocabulary()[0],
        findings=answer_vocabulary()[1],
        buckets=buckets,
        source=f"synthetic: bench/cohort_synth.py --people {people} --days {days} --seed {seed}",
    )
    return sim


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--buckets", type=int, default=8)
    parser.add_argument("--experimenters", type=float, default=EXPERIMENTERS,
                        help="share of people who run a self-experiment")  # fmt: skip
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generate(args.out, args.people, args.days, args.seed, args.buckets, args.experimenters)
    print(f"wrote {args.people} people x {args.days} days to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    print("planted (rate ratio per step, spread of the log rate ratio across people):")
    for f, (mu, tau) in PLANTED.items():
        print(f"  {f:14} {math.exp(mu):.3f} per {FACTORS[f][1]}, tau {tau}")
    print("planted self-experiments (rate ratio change / usual, spread across people):")
    for c, (mu, tau) in PLANTED_EXPERIMENTS.items():
        print(f"  {c:14} {math.exp(mu):.3f}, tau {tau}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
