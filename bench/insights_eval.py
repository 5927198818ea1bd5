"""How often the insights statistics find a real trigger, and how often they blame a wrong one.

Each simulated journal has daily values of the six CSV factors (caffeine, sleep, water,
workout minutes, stress, alcohol; caffeine about 200 mg a day, give or take 100) and a twitch
count per day (about one a day), made by one of the scenarios below; the journal goes
through the project's own ``daily_series`` and ``estimate_effects`` exactly as ``twitchwise
insights`` runs them. The truth is known, so every significant effect is either a real one
or a false one.

==================== =========================================================================
Scenario             The journal
==================== =========================================================================
null                 Poisson counts (1 a day), factors drawn independently: nothing matters
negbin               gamma-Poisson (negative binomial) counts, many calm days and bursts:
                     nothing matters
autocorrelated       runs of bad weeks (an autocorrelated rate) while caffeine and sleep drift
                     slowly as habits do: nothing matters
weekly               twitches 30% higher on weekdays (work, not logged), more coffee on
                     weekdays and drinks on Friday and Saturday: nothing logged matters
confounded           caffeine and sleep move together (r about -0.5: short nights, more
                     coffee); only sleep matters (x0.7 per hour more, the same day)
real                 caffeine raises the next day's twitches, x1.3 per 100 mg (a realistic
                     size); nothing else matters
real_negbin          the same with over-dispersed (negative binomial) counts
sparse               the real effect, with 40% of days without any factor logged
sparse_each          the real effect, each factor missing on its own 40% of days
confounded_sparse    confounded, each factor missing on its own 40% of days
high_rate            about 6 twitches a day (one or two calm days a year); caffeine the day
                     before x1.2 per 100 mg
==================== =========================================================================

Printed per scenario and length (``--journals`` journals each, 200 for the reference numbers
in docs/insights.md; seeded):

- ``tested``: share of journals for which any effect was estimated (the rest got "not enough
  data yet");
- ``any false``: family-wise false positives, the share of journals with at least one
  significant effect that is not real;
- ``FDP``: the false discovery proportion, false significant effects over all significant
  ones in a journal (0 when none), averaged over journals;
- ``power``: share of the real effects found (significant, in the right direction);
- ``coverage``: share of all 95% intervals that hold the true rate ratio (1 for a factor
  that does not matter);
- the scenario's own question: caffeine blamed (``confounded``), caffeine found at lag 1.

    python bench/insights_eval.py                          # every scenario, 200 journals
    python bench/insights_eval.py --journals 50 -s real -s confounded
    python bench/insights_eval.py --missing complete       # compare the missing-day rules
    python bench/insights_eval.py --module /tmp/old_stats.py   # an older stats.py from git
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

START = date(2025, 1, 6)  # a Monday


@dataclass
class Sim:
    """One simulated journal and its truth: the rate ratio per step of every (factor, lag)
    that matters (everything else is 1)."""

    episodes: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    truth: dict[tuple[str, int], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    days: tuple[int, ...]
    make: Callable[[Any, int], Sim]
    question: str = ""  # the scenario's own measure, named in the output


def _ar(rng: Any, n: int, phi: float) -> Any:
    """A stationary AR(1) series with unit variance."""
    import numpy as np

    z = np.zeros(n)
    shocks = rng.normal(size=n)
    for i in range(n):
        z[i] = (phi * z[i - 1] if i else 0.0) + shocks[i]
    return z * np.sqrt(1 - phi**2)


def _factors(rng: Any, n: int, kind: str = "independent") -> dict[str, Any]:
    """The six CSV factors for ``n`` days. ``kind``: independent day to day; ``habits``
    (caffeine and sleep drift slowly); ``weekly`` (coffee on weekdays, drinks at weekends);
    ``confounded`` (caffeine and sleep correlated about -0.5)."""
    import numpy as np

    weekday = (START.weekday() + np.arange(n)) % 7
    if kind == "habits":
        caffeine = np.clip(np.round((200 + 110 * _ar(rng, n, 0.8)) / 50) * 50, 0, 600)
        sleep = np.clip(np.round((7 + _ar(rng, n, 0.7)) * 2) / 2, 3, 11)
    elif kind == "confounded":
        s = _ar(rng, n, 0.3)
        c = -0.55 * s + np.sqrt(1 - 0.55**2) * rng.normal(size=n)
        sleep = np.clip(np.round((7 + s) * 2) / 2, 3, 11)
        caffeine = np.clip(np.round((200 + 100 * c) / 50) * 50, 0, 600)
    elif kind == "weekly":
        workday = weekday < 5
        caffeine = np.where(
            workday,
            rng.choice([100, 200, 300, 400], size=n),
            rng.choice([0, 100, 100, 200], size=n),
        ).astype(float)
        sleep = np.clip(np.round((rng.normal(6.8, 0.8, size=n) + 0.8 * ~workday) * 2) / 2, 3, 11)
    else:  # about a mug of coffee up or down from day to day
        caffeine = np.clip(np.round((200 + 100 * rng.normal(size=n)) / 50) * 50, 0, 600)
        sleep = np.clip(np.round(rng.normal(7, 1, size=n) * 2) / 2, 3, 11)
    if kind == "weekly":
        alcohol = np.where(
            (weekday == 4) | (weekday == 5),
            rng.choice([2, 4, 6], size=n),
            rng.choice([0, 0, 0, 0, 2], size=n),
        ).astype(float)
    else:
        alcohol = rng.choice([0, 0, 0, 2, 4], size=n).astype(float)
    return {
        "caffeine_mg": caffeine,
        "sleep_h": sleep,
        "water_l": np.clip(np.round(rng.normal(2, 0.5, size=n), 1), 0.2, 5),
        "workout_min": rng.choice([0, 0, 30, 45, 60], size=n).astype(float),
        "stress": rng.integers(0, 11, size=n).astype(float),
        "alcohol_units": alcohol,
    }


def _before(values: Any, fill: float) -> Any:
    """The value of the day before (``fill`` for the first day)."""
    import numpy as np

    return np.r_[fill, values[:-1]]


def _journal(
    rng: Any,
    factors: dict[str, Any],
    rate: Any,
    truth: dict[tuple[str, int], float],
    *,
    missing: float = 0.0,
    each: bool = False,
    shape: float | None = None,
) -> Sim:
    """Counts drawn around ``rate`` (Poisson, or gamma-Poisson of ``shape``), factors left
    out on a ``missing`` share of days (whole days, or each factor on its own)."""
    import numpy as np

    n = len(rate)
    if shape is not None:
        rate = rate * rng.gamma(shape, 1 / shape, size=n)
    counts = rng.poisson(rate)
    whole_day_out = rng.random(n) < missing if not each else np.zeros(n, dtype=bool)
    rows, episodes = [], []
    for i in range(n):
        day = (START + timedelta(days=i)).isoformat()
        row: dict[str, Any] = {"date": day}
        if not whole_day_out[i]:
            for k, v in factors.items():
                if not each or rng.random() >= missing:
                    row[k] = float(v[i])
        rows.append(row)
        at = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).isoformat()
        episodes += [{"date": day, "at": at}] * int(counts[i])
    return Sim(episodes, rows, truth)


def _null(rng: Any, n: int) -> Sim:
    import numpy as np

    return _journal(rng, _factors(rng, n), np.full(n, 1.0), {})


def _negbin(rng: Any, n: int) -> Sim:
    import numpy as np

    return _journal(rng, _factors(rng, n), np.full(n, 1.2), {}, shape=0.7)


def _autocorrelated(rng: Any, n: int) -> Sim:
    import numpy as np

    rate = 0.9 * np.exp(0.9 * _ar(rng, n, 0.85) - 0.4)
    return _journal(rng, _factors(rng, n, "habits"), rate, {})


def _weekly(rng: Any, n: int) -> Sim:
    import numpy as np

    weekday = (START.weekday() + np.arange(n)) % 7
    rate = 0.8 * np.where(weekday < 5, 1.3, 1.0)
    return _journal(rng, _factors(rng, n, "weekly"), rate, {})


def _confounded(rng: Any, n: int, missing: float = 0.0) -> Sim:
    f = _factors(rng, n, "confounded")
    rate = 1.0 * 0.7 ** (f["sleep_h"] - 7)
    return _journal(rng, f, rate, {("sleep_h", 0): 0.7}, missing=missing, each=missing > 0)


def _real(rng: Any, n: int, **kwargs: Any) -> Sim:
    f = _factors(rng, n)
    rate = 1.0 * 1.3 ** ((_before(f["caffeine_mg"], 200.0) - 200) / 100)
    return _journal(rng, f, rate, {("caffeine_mg", 1): 1.3}, **kwargs)


def _high_rate(rng: Any, n: int) -> Sim:
    f = _factors(rng, n)
    rate = 6.0 * 1.2 ** ((_before(f["caffeine_mg"], 200.0) - 200) / 100)
    return _journal(rng, f, rate, {("caffeine_mg", 1): 1.2})


BLAMED = "caffeine blamed"
FOUND = "caffeine found"
SCENARIOS = {
    s.name: s
    for s in (
        Scenario("null", (180,), _null),
        Scenario("negbin", (180,), _negbin),
        Scenario("autocorrelated", (180, 365), _autocorrelated),
        Scenario("weekly", (180, 365), _weekly),
        Scenario("confounded", (180, 365), _confounded, BLAMED),
        Scenario("real", (30, 60, 90, 180, 365), _real, FOUND),
        Scenario("real_negbin", (180, 365), lambda r, n: _real(r, n, shape=2.0), FOUND),
        Scenario("sparse", (180, 365), lambda r, n: _real(r, n, missing=0.4), FOUND),
        Scenario("sparse_each", (180,), lambda r, n: _real(r, n, missing=0.4, each=True), FOUND),
        Scenario("confounded_sparse", (180, 365), lambda r, n: _confounded(r, n, 0.4), BLAMED),
        Scenario("high_rate", (365,), _high_rate, FOUND),
    )
}


def _stats(path: str | None) -> ModuleType:
    """The stats module to evaluate: the project's, or a file (an older version from git)."""
    if path is None:
        from twitchwise.insights import stats

        return stats
    spec = importlib.util.spec_from_file_location("stats_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def evaluate(
    scenario: Scenario, days: int, journals: int, seed: int, stats: ModuleType, missing: str
) -> dict[str, Any]:
    import numpy as np

    from twitchwise.journal.rows import JournalData

    kwargs = {}
    if "missing" in inspect.signature(stats.estimate_effects).parameters:
        kwargs["missing"] = missing
    rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario.name), days])
    tested = any_false = question = 0
    fdp = found = real = covered = intervals = 0.0
    for _ in range(journals):
        sim = scenario.make(rng, days)
        data = JournalData.from_dicts(sim.episodes, sim.rows, [])
        effects = stats.estimate_effects(stats.daily_series(data), **kwargs).effects
        tested += bool(effects)
        hits = [e for e in effects if e.significant]
        false = [e for e in hits if (e.factor, e.lag_days) not in sim.truth]
        any_false += bool(false)
        fdp += len(false) / len(hits) if hits else 0.0
        for key, ratio in sim.truth.items():
            real += 1
            found += any(
                (e.factor, e.lag_days) == key and (e.effect > 1) == (ratio > 1) for e in hits
            )
        for e in effects:
            intervals += 1
            covered += e.ci[0] <= sim.truth.get((e.factor, e.lag_days), 1.0) <= e.ci[1]
        if scenario.question == BLAMED:
            question += any(e.factor == "caffeine_mg" for e in hits)
        elif scenario.question == FOUND:
            question += any((e.factor, e.lag_days) == ("caffeine_mg", 1) for e in hits)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "days": days,
        "journals": journals,
        "tested": tested / journals,
        "any_false": any_false / journals,
        "fdp": fdp / journals,
        "power": found / real if real else None,
        "coverage": covered / intervals if intervals else None,
    }
    if scenario.question:
        out[scenario.question] = question / journals
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journals", type=int, default=200, help="journals per scenario")
    parser.add_argument(
        "--scenario", "-s", action="append", choices=list(SCENARIOS), help="(repeatable)"
    )
    parser.add_argument("--days", type=int, action="append", help="override the lengths")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument(
        "--missing",
        choices=("indicator", "complete"),
        default="indicator",
        help="how days with a factor missing are used (if the stats module has the choice)",
    )
    parser.add_argument("--module", help="evaluate this stats.py file instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stats = _stats(args.module)
    t0 = time.perf_counter()
    results = []
    for name in args.scenario or list(SCENARIOS):
        scenario = SCENARIOS[name]
        for days in args.days or scenario.days:
            r = evaluate(scenario, days, args.journals, args.seed, stats, args.missing)
            results.append(r)
            if not args.json:
                print(_line(r), flush=True)
    if args.json:
        print(json.dumps({"args": vars(args), "results": results}, indent=2))
    else:
        print(f"({args.journals} journals per row, {time.perf_counter() - t0:.0f} s)")


def _line(r: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    extra = next((f"  {k} {pct(r[k])}" for k in (BLAMED, FOUND) if k in r), "")
    return (
        f"{r['scenario']:18} {r['days']:4d} d  tested {pct(r['tested'])}  any false "
        f"{pct(r['any_false'])}  FDP {pct(r['fdp'])}  power {pct(r['power'])}  coverage "
        f"{pct(r['coverage'])}{extra}"
    )


if __name__ == "__main__":
    main()
