"""How often a self-experiment finds a real effect, and how often it finds one that is not there.

Each simulated experiment is what ``twitchwise experiment start caffeine`` draws (6 weeks of
7-day blocks, 2 washout days after each switch, the schedule from the project's own
``draw_schedule`` with a random seed); the person's twitches are drawn day by day, logged
as episodes, and their check-ins recorded; then the journal goes through the project's own
``JournalSummary`` and ``experiment_result`` exactly as ``twitchwise experiment result``
runs them. The truth is known, so each result is a hit, a miss or a false alarm.

=================== ==========================================================================
Scenario            The experiment
=================== ==========================================================================
null                Poisson counts, ``--rate`` a day on every day: the change does nothing
null_negbin         gamma-Poisson (negative binomial, shape 2) counts: bursts and calm days
null_drift          the negbin counts drifting from x1.5 to x0.67 over the six weeks
null_bad_weeks      the negbin counts, each block x exp(N(0, 0.3)): good and bad weeks
real                negbin counts, the change multiplies the rate by ``--effect`` (0.6: 40%
                    fewer twitches); over the first two days after a switch the rate moves
                    half-way (the washout)
real_poisson        the same with Poisson counts
real_missed         real, with 20% of days not recorded at all (no check-in, no twitch)
real_adherence70    real, with the change kept on only 70% of change days (no effect on the
                    others: the intention-to-treat dilution)
real_stopped        real, stopped early after 4 of the 6 weeks
=================== ==========================================================================

Printed per scenario (``--journals`` experiments each; seeded):

- ``detected``: share of experiments whose 95% interval of the rate ratio lies wholly on one
  side of 1 (for the real scenarios: below 1, fewer twitches with the change). For the null
  scenarios this is the false-positive rate;
- ``rand p<.05``: share whose randomisation test gave p < 0.05 (six blocks in three pairs
  allow only 8 schedules, so it can never go below 0.25: it is reported, not used to decide);
- ``coverage``: share of 95% intervals that hold the true rate ratio (1 for the nulls);
- ``estimated``: share with any estimate (the rest said "not enough days");
- the median estimated rate ratio.

    python bench/experiments_eval.py                     # every scenario, 1000 experiments
    python bench/experiments_eval.py --journals 200 -s real -s null
    python bench/experiments_eval.py --grid              # detection by rate and effect size
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
SCENARIOS = (
    "null",
    "null_negbin",
    "null_drift",
    "null_bad_weeks",
    "real",
    "real_poisson",
    "real_missed",
    "real_adherence70",
    "real_stopped",
)


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


def simulate(
    scenario: str, rng: random.Random, rate: float, effect: float, kind: object
) -> Outcome:
    real = scenario.startswith("real")
    truth = effect if real else 1.0
    seed = rng.getrandbits(62)
    schedule = draw_schedule(START, weeks=6, block_days=7, washout_days=2, seed=seed)
    negbin = scenario not in ("null", "real_poisson")
    block_factor = [
        math.exp(rng.gauss(0, 0.3)) if scenario == "null_bad_weeks" else 1.0
        for _ in schedule.letters
    ]
    episodes: list[EpisodeRow] = []
    check_ins: dict[date, bool] = {}
    uid = 0
    for offset in range(schedule.days):
        day = START + timedelta(days=offset)
        block = offset // schedule.block_days
        condition = schedule.letters[block]
        lam = rate * block_factor[block]
        if scenario == "null_drift":
            lam *= math.exp(math.log(1.5) - 2 * math.log(1.5) * offset / (schedule.days - 1))
        kept = True
        if condition == CHANGE:
            kept = not (scenario == "real_adherence70" and rng.random() >= 0.7)
            if kept:
                lam *= truth
        if schedule.washout(day):  # half-way through the switch
            before = schedule.letters[block - 1] if block else USUAL
            lam = math.sqrt(lam * rate * (truth if before == CHANGE else 1.0))
        if negbin:
            lam *= rng.gammavariate(2.0, 0.5)
        if scenario == "real_missed" and rng.random() < 0.2:
            continue  # nothing recorded that day
        check_ins[day] = kept
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        for _ in range(_poisson(rng, lam)):
            uid += 1
            episodes.append(EpisodeRow(f"e{uid}", at, day, "region_calf"))
    stopped = START + timedelta(days=27) if scenario == "real_stopped" else None
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
    result: ExperimentResult = experiment_result(row, kind, summary, START + timedelta(days=60))  # type: ignore[arg-type]
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


def run(scenario: str, journals: int, seed: int, rate: float, effect: float, kind: object) -> str:
    rng = random.Random(f"{seed}-{scenario}-{rate}-{effect}")
    outcomes = [simulate(scenario, rng, rate, effect, kind) for _ in range(journals)]
    est = [o for o in outcomes if o.estimated]
    n = len(outcomes)
    ratios = [o.ratio for o in est if o.ratio is not None]
    return (
        f"{scenario:<18} {rate:>5.1f} {effect:>6.2f} "
        f"{sum(o.detected for o in outcomes) / n:>9.1%} "
        f"{sum(o.rand_significant for o in outcomes) / n:>11.1%} "
        f"{sum(o.covered for o in est) / max(len(est), 1):>9.1%} "
        f"{len(est) / n:>9.1%} "
        f"{statistics.median(ratios) if ratios else float('nan'):>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journals", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--rate", type=float, default=4.0, help="twitches a day, usual days")
    parser.add_argument("--effect", type=float, default=0.6, help="true rate ratio (change)")
    parser.add_argument("-s", "--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--grid", action="store_true", help="detection by rate and effect")
    args = parser.parse_args()
    kb = load_knowledge()
    kind = next(k for k in kb.plan.experiments if k.id == "caffeine")
    header = (
        f"{'scenario':<18} {'rate':>5} {'effect':>6} {'detected':>9} {'rand p<.05':>11} "
        f"{'coverage':>9} {'estimated':>9} {'median':>8}"
    )
    started = time.perf_counter()
    print(f"{args.journals} experiments each, 6 weeks of 7-day blocks, washout 2 days")
    print(header)
    if args.grid:
        for rate in (1.0, 2.0, 4.0, 8.0):
            for effect in (0.5, 0.6, 0.7, 0.8):
                print(run("real", args.journals, args.seed, rate, effect, kind), flush=True)
            print(run("null_negbin", args.journals, args.seed, rate, 1.0, kind), flush=True)
    else:
        for scenario in args.scenario or SCENARIOS:
            print(run(scenario, args.journals, args.seed, args.rate, args.effect, kind), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
