"""How often a self-experiment finds a real effect, and how often it finds one that is not there.

Each simulated experiment is what ``twitchwise experiment start caffeine`` draws (7-day
blocks, 2 washout days after each switch, 6 weeks unless ``--weeks`` says otherwise, the
schedule from the project's own ``draw_schedule`` with a random seed); the person's twitches
are drawn day by day, logged as episodes, and their check-ins recorded; then the journal goes
through the project's own ``JournalSummary`` and ``experiment_result`` exactly as
``twitchwise experiment result`` runs them. The truth is known, so each result is a hit, a
miss or a false alarm.

How twitches vary from day to day (``--dispersion``, and the grid's rows):

=============== ============================================================================
Dispersion      Daily counts
=============== ============================================================================
poisson         Poisson: days vary by chance alone
overdispersed   gamma-Poisson (negative binomial, shape 2): calm days and busy days, each
                day on its own (at 4 a day the variance is 3 times the mean)
bursty          over-dispersed *and* autocorrelated: a gamma-Poisson day (shape 4) on top of a
                log-rate that wanders as an AR(1) (day-to-day correlation 0.7, standard
                deviation 0.5): bad spells last several days (at 4 a day the variance is
                about 3.4 times the mean, as over-dispersed, but runs of days go together)
=============== ============================================================================

Scenarios (``-s``; by default every one but ``null`` and ``real``, which the grid runs over
every dispersion):

=================== ==========================================================================
Scenario            The experiment
=================== ==========================================================================
null                the change does nothing (counts as ``--dispersion`` says)
null_poisson        the same, Poisson counts
null_negbin         the same, over-dispersed counts
null_bursty         the same, bursty counts
null_drift          over-dispersed counts drifting from x1.5 to x0.67 over the experiment
null_bad_weeks      over-dispersed counts, each block x exp(N(0, 0.3)): good and bad weeks
real                the change multiplies the rate by ``--effect`` (0.6: 40% fewer twitches),
                    counts as ``--dispersion`` says; over the two washout days after a
                    switch the rate moves half-way
real_poisson        the same with Poisson counts
real_negbin         the same with over-dispersed counts
real_bursty         the same with bursty counts
real_missed         real_negbin, with 20% of days not recorded at all (no check-in, no twitch)
real_adherence70    real_negbin, the change kept on only 70% of change days (no effect on the
                    others: the intention-to-treat dilution)
real_stopped        real_negbin, stopped early after two thirds of the weeks
=================== ==========================================================================

Printed per row (``--journals`` experiments each; seeded):

- ``detected``: share of experiments whose 95% interval of the rate ratio lies wholly on one
  side of 1 (for the real scenarios: below 1, fewer twitches with the change). For the null
  scenarios this is the false-positive rate (either side);
- ``rand p<.05``: share whose randomisation test gave p < 0.05 (3 pairs of blocks allow only
  8 schedules, so at 6 weeks it can never go below 0.25; at 12 weeks, 64 schedules);
- ``coverage``: share of 95% intervals that hold the true rate ratio (1 for the nulls);
- ``estimated``: share with any estimate (the rest said "not enough days");
- the median estimated rate ratio.

    python bench/experiments_eval.py                     # every scenario, 1000 experiments
    python bench/experiments_eval.py --journals 200 -s real -s null --weeks 8
    python bench/experiments_eval.py --grid              # effect x rate x dispersion x weeks
    python bench/experiments_eval.py --lengths           # how many weeks reach 80%
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from twitchwise.insights.experiment import (
    CHANGE,
    USUAL,
    ExperimentResult,
    draw_schedule,
    experiment_result,
)
from twitchwise.journal.rows import EpisodeRow, ExperimentRow, JournalData
from twitchwise.journal.summary import JournalSummary
from twitchwise.knowledge.load import load_knowledge

START = date(2026, 1, 5)
DISPERSIONS = ("poisson", "overdispersed", "bursty")
SCENARIOS = (
    "null",
    "null_poisson",
    "null_negbin",
    "null_bursty",
    "null_drift",
    "null_bad_weeks",
    "real",
    "real_poisson",
    "real_negbin",
    "real_bursty",
    "real_missed",
    "real_adherence70",
    "real_stopped",
)
#: The dispersion each named scenario fixes (the others take ``--dispersion``).
FIXED = {
    "null_poisson": "poisson",
    "null_negbin": "overdispersed",
    "null_bursty": "bursty",
    "null_drift": "overdispersed",
    "null_bad_weeks": "overdispersed",
    "real_poisson": "poisson",
    "real_negbin": "overdispersed",
    "real_bursty": "bursty",
    "real_missed": "overdispersed",
    "real_adherence70": "overdispersed",
    "real_stopped": "overdispersed",
}
#: bursty: the AR(1) of the log-rate (day-to-day correlation, standard deviation) and the
#: gamma shape of each day on top of it.
AR_RHO, AR_SD, BURSTY_SHAPE = 0.7, 0.5, 4.0
NEGBIN_SHAPE = 2.0
EFFECTS = (0.75, 0.6, 0.5)
RATES = (2.0, 4.0, 8.0)


@dataclass
class Outcome:
    estimated: bool
    detected: bool
    rand_significant: bool
    covered: bool
    ratio: float | None


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _latent(rng: random.Random, days: int) -> list[float]:
    """exp of a stationary AR(1) with mean 1 on the rate scale (bursty counts)."""
    x = rng.gauss(0, AR_SD)
    step = AR_SD * math.sqrt(1 - AR_RHO * AR_RHO)
    out = []
    for _ in range(days):
        out.append(math.exp(x - AR_SD * AR_SD / 2))
        x = AR_RHO * x + rng.gauss(0, step)
    return out


def simulate(
    scenario: str,
    rng: random.Random,
    rate: float,
    effect: float,
    kind: object,
    weeks: int = 6,
    dispersion: str = "overdispersed",
) -> Outcome:
    real = scenario.startswith("real")
    truth = effect if real else 1.0
    dispersion = FIXED.get(scenario, dispersion)
    seed = rng.getrandbits(62)
    schedule = draw_schedule(START, weeks=weeks, block_days=7, washout_days=2, seed=seed)
    block_factor = [
        math.exp(rng.gauss(0, 0.3)) if scenario == "null_bad_weeks" else 1.0
        for _ in schedule.letters
    ]
    latent = _latent(rng, schedule.days) if dispersion == "bursty" else None
    shape = {"overdispersed": NEGBIN_SHAPE, "bursty": BURSTY_SHAPE}.get(dispersion)
    episodes: list[EpisodeRow] = []
    check_ins: dict[date, bool] = {}
    uid = 0
    for offset in range(schedule.days):
        day = START + timedelta(days=offset)
        block = offset // schedule.block_days
        condition = schedule.letters[block]
        lam = rate * block_factor[block]
        if latent is not None:
            lam *= latent[offset]
        if scenario == "null_drift":
            lam *= math.exp(math.log(1.5) - 2 * math.log(1.5) * offset / (schedule.days - 1))
        usual = lam
        kept = True
        if condition == CHANGE:
            kept = not (scenario == "real_adherence70" and rng.random() >= 0.7)
            if kept:
                lam *= truth
        if schedule.washout(day):  # half-way through the switch
            before = schedule.letters[block - 1] if block else USUAL
            lam = math.sqrt(lam * usual * (truth if before == CHANGE else 1.0))
        if shape is not None:
            lam *= rng.gammavariate(shape, 1 / shape)
        if scenario == "real_missed" and rng.random() < 0.2:
            continue  # nothing recorded that day
        check_ins[day] = kept
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        for _ in range(_poisson(rng, lam)):
            uid += 1
            episodes.append(EpisodeRow(f"e{uid}", at, day, "region_calf"))
    stopped = (
        START + timedelta(days=schedule.days * 2 // 3 - 1) if scenario == "real_stopped" else None
    )
    row = ExperimentRow(
        id=1,
        kind="caffeine",
        change=None,
        started_on=START,
        block_days=7,
        washout_days=2,
        schedule=schedule.letters,
        seed=seed,
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
        stopped_on=stopped,
        check_ins=check_ins,
    )
    summary = JournalSummary.of(JournalData(episodes, [], [], []), 0)
    after = START + timedelta(days=schedule.days + 7)
    result: ExperimentResult = experiment_result(row, kind, summary, after)  # type: ignore[arg-type]
    e = result.estimate
    if e is None:
        return Outcome(False, False, False, False, None)
    detected = e.ci[1] < 1.0 if real else (e.ci[1] < 1.0 or e.ci[0] > 1.0)
    return Outcome(
        True,
        detected,
        e.randomisation_p < 0.05,
        e.ci[0] <= truth <= e.ci[1],
        e.ratio,
    )


def outcomes(
    scenario: str,
    journals: int,
    seed: int,
    rate: float,
    effect: float,
    kind: object,
    weeks: int,
    dispersion: str,
) -> list[Outcome]:
    rng = random.Random(f"{seed}-{scenario}-{rate}-{effect}-{weeks}-{dispersion}")
    return [simulate(scenario, rng, rate, effect, kind, weeks, dispersion) for _ in range(journals)]


def detected(found: list[Outcome]) -> float:
    return sum(o.detected for o in found) / len(found)


def run(
    scenario: str,
    journals: int,
    seed: int,
    rate: float,
    effect: float,
    kind: object,
    weeks: int = 6,
    dispersion: str = "overdispersed",
) -> str:
    found = outcomes(scenario, journals, seed, rate, effect, kind, weeks, dispersion)
    est = [o for o in found if o.estimated]
    n = len(found)
    ratios = [o.ratio for o in est if o.ratio is not None]
    shown = effect if scenario.startswith("real") else 1.0
    return (
        f"{scenario:<18} {FIXED.get(scenario, dispersion):<13} {weeks:>5} {rate:>5.1f} "
        f"{shown:>6.2f} {detected(found):>9.1%} "
        f"{sum(o.rand_significant for o in found) / n:>11.1%} "
        f"{sum(o.covered for o in est) / max(len(est), 1):>9.1%} "
        f"{len(est) / n:>9.1%} "
        f"{statistics.median(ratios) if ratios else float('nan'):>8.2f}"
    )


def grid(journals: int, seed: int, kind: object, weeks_list: tuple[int, ...]) -> None:
    """Detection by effect size, with the false-positive rate of the same cell's null."""
    head = " | ".join(f"{1 - e:.0%} fewer" for e in EFFECTS)
    print(f"| weeks | counts | twitches a day | {head} | null (false positives) |")
    print("|---" * (4 + len(EFFECTS)) + "|")
    for weeks in weeks_list:
        for dispersion in DISPERSIONS:
            for rate in RATES:
                cells = [
                    detected(outcomes("real", journals, seed, rate, e, kind, weeks, dispersion))
                    for e in EFFECTS
                ]
                null = detected(
                    outcomes("null", journals, seed, rate, 1.0, kind, weeks, dispersion)
                )
                shown = " | ".join(f"{c:.1%}" for c in cells)
                print(f"| {weeks} | {dispersion} | {rate:g} | {shown} | {null:.1%} |", flush=True)


def lengths(journals: int, seed: int, kind: object) -> None:
    """How many weeks a 40% and a 50% reduction at 4 twitches a day need."""
    print("| counts | fewer | " + " | ".join(f"{w} weeks" for w in (6, 8, 12, 16, 24)) + " |")
    print("|---" * 7 + "|")
    for dispersion in DISPERSIONS:
        for effect in (0.6, 0.5):
            cells = [
                detected(outcomes("real", journals, seed, 4.0, effect, kind, w, dispersion))
                for w in (6, 8, 12, 16, 24)
            ]
            shown = " | ".join(f"{c:.1%}" for c in cells)
            print(f"| {dispersion} | {1 - effect:.0%} | {shown} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journals", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--rate", type=float, default=4.0, help="twitches a day, usual days")
    parser.add_argument("--effect", type=float, default=0.6, help="true rate ratio (change)")
    parser.add_argument("--weeks", type=int, default=6, help="length of the experiment")
    parser.add_argument("--dispersion", choices=DISPERSIONS, default="overdispersed")
    parser.add_argument("-s", "--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--grid", action="store_true", help="effect x rate x dispersion x weeks")
    parser.add_argument(
        "--grid-weeks", default="6,8", help="the grid's lengths in weeks (default 6,8)"
    )
    parser.add_argument("--lengths", action="store_true", help="how many weeks reach 80%%")
    args = parser.parse_args()
    kb = load_knowledge()
    kind = next(k for k in kb.plan.experiments if k.id == "caffeine")
    started = time.perf_counter()
    print(f"{args.journals} experiments each, 7-day blocks, washout 2 days, seed {args.seed}")
    if args.grid:
        weeks_list = tuple(int(w) for w in args.grid_weeks.split(","))
        grid(args.journals, args.seed, kind, weeks_list)
    elif args.lengths:
        lengths(args.journals, args.seed, kind)
    else:
        print(
            f"{'scenario':<18} {'counts':<13} {'weeks':>5} {'rate':>5} {'effect':>6} "
            f"{'detected':>9} {'rand p<.05':>11} {'coverage':>9} {'estimated':>9} {'median':>8}"
        )
        for scenario in args.scenario or [s for s in SCENARIOS if s in FIXED]:
            line = run(
                scenario,
                args.journals,
                args.seed,
                args.rate,
                args.effect,
                kind,
                args.weeks,
                args.dispersion,
            )
            print(line, flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
