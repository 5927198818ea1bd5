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
- the effects table: each person's own quasi-Poisson model (twitchwise.cohort.effects).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from twitchwise.cohort.effects import fit_person
from twitchwise.cohort.format import AGE_BANDS, FACTORS, LEVELS, REGIONS, write_cohort

#: factor -> (mu: the population's mean log rate ratio per step, tau: its spread across people)
PLANTED: dict[str, tuple[float, float]] = {
    "caffeine_mg": (math.log(1.12), 0.08),
    "sleep_h": (math.log(0.88), 0.06),
    "water_l": (0.0, 0.0),
    "workout_min": (math.log(1.05), 0.05),
    "stress": (math.log(1.06), 0.04),
    "alcohol_units": (math.log(1.04), 0.05),
}

AGE_SHARES = (0.20, 0.22, 0.20, 0.17, 0.13, 0.08)
#: The main region's chances by age band (rows) over REGIONS (columns).
_YOUNG = np.array([30, 4, 3, 3, 4, 6, 4, 2, 2, 10, 22, 6, 4], dtype=float)
_OLD = np.array([14, 4, 4, 4, 5, 8, 5, 2, 2, 14, 28, 7, 3], dtype=float)
START = date(2024, 1, 1)


@dataclass
class Simulated:
    """A simulated cohort in memory: the three tables' columns and the planted truth."""

    people: dict[str, Any]
    days: dict[str, Any]
    effects: dict[str, Any]
    true_effects: dict[str, Any]  # factor -> each person's true b_if


def simulate(
    people: int, days: int, seed: int, *, planted: dict[str, tuple[float, float]] | None = None
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

    baseline = rng.normal(math.log(0.8), 0.7, P) + 0.05 * age
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
    asks = person(rng.beta(0.6, 40.0, P))
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
    return Simulated(
        people={"person_id": ids.astype(object), "age_band": bands, "sex": sex},
        days=day_columns,
        effects=effects,
        true_effects=true,
    )


def generate(out: Path, people: int, days: int = 365, seed: int = 1, buckets: int = 8) -> Simulated:
    """Simulate a cohort and write it into the folder ``out`` in the cohort format."""
    sim = simulate(people, days, seed)
    write_cohort(
        out,
        people=sim.people,
        days=sim.days,
        effects=sim.effects,
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
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generate(args.out, args.people, args.days, args.seed, args.buckets)
    print(f"wrote {args.people} people x {args.days} days to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    print("planted (rate ratio per step, spread of the log rate ratio across people):")
    for f, (mu, tau) in PLANTED.items():
        print(f"  {f:14} {math.exp(mu):.3f} per {FACTORS[f][1]}, tau {tau}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
