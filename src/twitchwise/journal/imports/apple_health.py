"""Apple Health ``export.xml`` -> workouts and daily factors, streamed with lxml.

Exports run to gigabytes, so the file is streamed (:func:`._xml.stream_elements`): each
``Record`` and ``Workout`` is dropped as soon as it has been read, and so is everything else:
memory grows with the number of days and workouts, not with the file, and one element with
millions of children is refused. What is read:

=========================================================  =================================
Record type                                                Daily factor
=========================================================  =================================
``HKQuantityTypeIdentifierDietaryCaffeine``                ``caffeine_mg``: sum per day
``HKQuantityTypeIdentifierDietaryWater``                   ``water_l``: sum per day (mL -> L)
``HKQuantityTypeIdentifierNumberOfAlcoholicBeverages``     ``alcohol_units``: drinks x 1.75
``HKQuantityTypeIdentifierStepCount``                      ``steps``: per day, the source
                                                           (iPhone, Watch...) with most steps
``HKQuantityTypeIdentifierHeartRateVariabilitySDNN``       ``hrv_ms``: mean per day
``HKCategoryTypeIdentifierSleepAnalysis`` (asleep values)  ``sleep_h``: union of the asleep
                                                           intervals of each night
=========================================================  =================================

A day is the local date of a record's start, as the export writes it. A night's sleep
belongs to the day on which it ends, counting anything that ends after 18:00 towards the next
day. Steps are not summed across sources because the iPhone and the Watch count the same
steps; sleep intervals are merged for the same reason. One drink (a US standard drink, 14 g
of alcohol, as Apple counts) is 1.75 UK units (8 g). ``Workout`` elements become workouts
(duration, distance, energy, and the average heart rate from ``WorkoutStatistics``). Records
inside ``Correlation`` elements repeat top-level records and are skipped. Records and
workouts dated outside the date rule (:mod:`twitchwise.journal.dates`), which some apps
write, are left out and their lines named in the summary, as unreadable records are skipped:
one stray record does not refuse a whole export.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from twitchwise.errors import InputError
from twitchwise.journal.dates import RULE, date_problem, moment_problem
from twitchwise.journal.imports._common import (
    FileProblem,
    Readable,
    parse_iso_time,
    positive,
    sport_name,
)
from twitchwise.journal.imports._xml import SafeXMLReader, stream_elements
from twitchwise.journal.records import Batch, DayFactors, WorkoutIn, check_factor

CAFFEINE = "HKQuantityTypeIdentifierDietaryCaffeine"
WATER = "HKQuantityTypeIdentifierDietaryWater"
ALCOHOL = "HKQuantityTypeIdentifierNumberOfAlcoholicBeverages"
STEPS = "HKQuantityTypeIdentifierStepCount"
HRV = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
ASLEEP = frozenset(
    {
        "HKCategoryValueSleepAnalysisAsleep",
        "HKCategoryValueSleepAnalysisAsleepUnspecified",
        "HKCategoryValueSleepAnalysisAsleepCore",
        "HKCategoryValueSleepAnalysisAsleepDeep",
        "HKCategoryValueSleepAnalysisAsleepREM",
    }
)
UNITS_PER_DRINK = 1.75
#: A night's sleep ending this many hours before midnight or later counts for the next day.
NIGHT_SHIFT = timedelta(hours=6)

_CAFFEINE_MG = {"mg": 1.0, "g": 1000.0, "mcg": 0.001, "µg": 0.001, "ug": 0.001}
_WATER_L = {
    "mL": 0.001,
    "ml": 0.001,
    "cL": 0.01,
    "dL": 0.1,
    "L": 1.0,
    "l": 1.0,
    "fl_oz_us": 0.0295735,
    "fl_oz_imp": 0.0284131,
    "cup_us": 0.2365882,
    "cup_imp": 0.2841306,
    "pt_us": 0.4731765,
    "pt_imp": 0.5682613,
}
_COUNT = {"count": 1.0, "": 1.0}
_HRV_MS = {"ms": 1.0, "s": 1000.0}
_DISTANCE_M = {"m": 1.0, "km": 1000.0, "cm": 0.01, "mi": 1609.344, "ft": 0.3048, "yd": 0.9144}
_ENERGY_KJ = {"kJ": 1.0, "kcal": 4.184, "Cal": 4.184, "cal": 0.004184, "J": 0.001}
_DURATION_S = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "ms": 0.001}
_DISTANCE_STATS = frozenset(
    {
        "HKQuantityTypeIdentifierDistanceWalkingRunning",
        "HKQuantityTypeIdentifierDistanceCycling",
        "HKQuantityTypeIdentifierDistanceSwimming",
        "HKQuantityTypeIdentifierDistanceWheelchair",
        "HKQuantityTypeIdentifierDistanceDownhillSnowSports",
        "HKQuantityTypeIdentifierDistanceRowing",
        "HKQuantityTypeIdentifierDistancePaddleSports",
        "HKQuantityTypeIdentifierDistanceSkatingSports",
        "HKQuantityTypeIdentifierDistanceCrossCountrySkiing",
    }
)
_SLEEP_COMPACT_AT = 256


class _Totals:
    """Running totals per day while the file streams past."""

    def __init__(self) -> None:
        self.caffeine_mg: defaultdict[str, float] = defaultdict(float)
        self.water_l: defaultdict[str, float] = defaultdict(float)
        self.drinks: defaultdict[str, float] = defaultdict(float)
        self.steps: defaultdict[tuple[str, str], float] = defaultdict(float)
        self.hrv: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        self.sleep: defaultdict[date, list[tuple[float, float]]] = defaultdict(list)
        self.skipped: Counter[str] = Counter()
        self.good_days: set[str] = set()  # days within the date rule, as written
        self.left_out = 0  # records and workouts dated outside the date rule
        self.left_out_examples: list[str] = []

    def leave_out(self, what: str) -> None:
        self.left_out += 1
        if len(self.left_out_examples) < 3:
            self.left_out_examples.append(what)


def read_apple_health(stream: Readable, name: str) -> Batch:
    """Read an export.xml stream (see :mod:`._xml` for what is refused and removed)."""
    totals = _Totals()
    workouts: list[WorkoutIn] = []
    handlers = {
        CAFFEINE: _caffeine,
        WATER: _water,
        ALCOHOL: _alcohol,
        STEPS: _steps,
        HRV: _hrv,
        SLEEP: _sleep,
    }
    source = SafeXMLReader(stream)
    if source.root != "HealthData":
        raise FileProblem(f"not an Apple Health export (root element <{source.root}>)")
    for elem in stream_elements(source, ("Record", "Workout")):
        parent = elem.getparent()
        if parent is None or parent.getparent() is not None:
            continue  # inside a Correlation: a copy of a top-level record
        if elem.tag == "Record":
            handler = handlers.get(elem.get("type"))
            if handler is not None and _dated(elem, totals):
                try:
                    handler(elem, totals)
                except (TypeError, ValueError, KeyError, OverflowError):
                    totals.skipped["unreadable record"] += 1
        else:
            workout = _workout(elem, name, totals)
            if workout is not None:
                workouts.append(workout)
    return _batch(totals, workouts)


# ---------------------------------------------------------------------- records


def _dated(elem: Any, totals: _Totals) -> bool:
    """False, and the record noted, when the day it starts breaks the date rule (an
    unreadable date is the handler's to skip)."""
    day = (elem.get("startDate") or "")[:10]
    if day in totals.good_days:
        return True
    try:
        problem = date_problem(date.fromisoformat(day))
    except ValueError:
        return True
    if problem is None:
        totals.good_days.add(day)  # at most one per day of the date rule
        return True
    totals.leave_out(f"line {elem.sourceline}: {problem}")
    return False


def _amount(elem: Any, units: dict[str, float], totals: _Totals, what: str) -> float | None:
    factor = units.get(elem.get("unit") or "")
    if factor is None:
        totals.skipped[f"{what} in unit {elem.get('unit')!r}"] += 1
        return None
    value = float(elem.get("value"))
    if not math.isfinite(value) or value < 0:
        totals.skipped[f"{what} value {value!r}"] += 1
        return None
    return value * factor


def _day(elem: Any) -> str:
    start = elem.get("startDate")
    if not start or len(start) < 10:
        raise ValueError("no startDate")
    return str(start[:10])


def _caffeine(elem: Any, totals: _Totals) -> None:
    value = _amount(elem, _CAFFEINE_MG, totals, "caffeine")
    if value is not None:
        totals.caffeine_mg[_day(elem)] += value


def _water(elem: Any, totals: _Totals) -> None:
    value = _amount(elem, _WATER_L, totals, "water")
    if value is not None:
        totals.water_l[_day(elem)] += value


def _alcohol(elem: Any, totals: _Totals) -> None:
    value = _amount(elem, _COUNT, totals, "alcoholic beverages")
    if value is not None:
        totals.drinks[_day(elem)] += value


def _steps(elem: Any, totals: _Totals) -> None:
    value = _amount(elem, _COUNT, totals, "steps")
    if value is not None:
        totals.steps[(_day(elem), elem.get("sourceName") or "")] += value


def _hrv(elem: Any, totals: _Totals) -> None:
    value = _amount(elem, _HRV_MS, totals, "heart-rate variability")
    if value is not None:
        entry = totals.hrv[_day(elem)]
        entry[0] += value
        entry[1] += 1


def _sleep(elem: Any, totals: _Totals) -> None:
    if elem.get("value") not in ASLEEP:
        return
    start = apple_time(elem.get("startDate"))
    end = apple_time(elem.get("endDate"))
    if start is None or end is None:
        raise ValueError("unreadable sleep times")
    seconds = (end - start).total_seconds()
    if not 0 < seconds <= 86_400:
        totals.skipped["sleep interval longer than a day or negative"] += 1
        return
    night = (end + NIGHT_SHIFT).date()
    intervals = totals.sleep[night]
    intervals.append((start.timestamp(), end.timestamp()))
    if len(intervals) >= _SLEEP_COMPACT_AT:
        intervals[:] = _union(intervals)


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


# ---------------------------------------------------------------------- workouts


def _workout(elem: Any, name: str, totals: _Totals) -> WorkoutIn | None:
    start = apple_time(elem.get("startDate"))
    end = apple_time(elem.get("endDate"))
    if start is None:
        totals.skipped["workout without a start"] += 1
        return None
    problem = moment_problem(start)
    if problem is not None:
        totals.leave_out(f"line {elem.sourceline}: {problem}")
        return None
    duration = _scaled(elem.get("duration"), elem.get("durationUnit") or "min", _DURATION_S)
    if duration is None and end is not None and end > start:
        duration = (end - start).total_seconds()
    if duration is None:
        totals.skipped["workout without a duration"] += 1
        return None
    distance = _scaled(elem.get("totalDistance"), elem.get("totalDistanceUnit") or "", _DISTANCE_M)
    energy = _scaled(
        elem.get("totalEnergyBurned"), elem.get("totalEnergyBurnedUnit") or "", _ENERGY_KJ
    )
    avg_hr = None
    for stat in elem.iterfind("WorkoutStatistics"):
        kind = stat.get("type")
        unit = stat.get("unit") or ""
        if kind == "HKQuantityTypeIdentifierHeartRate":
            avg_hr = positive(stat.get("average"))
        elif kind in _DISTANCE_STATS and distance is None:
            distance = _scaled(stat.get("sum"), unit, _DISTANCE_M)
        elif kind == "HKQuantityTypeIdentifierActiveEnergyBurned" and energy is None:
            energy = _scaled(stat.get("sum"), unit, _ENERGY_KJ)
    return WorkoutIn(
        start=start,
        duration_s=round(duration, 3),
        sport=sport_name(elem.get("workoutActivityType"), "HKWorkoutActivityType"),
        distance_m=round(distance, 1) if distance is not None else None,
        energy_kj=round(energy, 1) if energy is not None else None,
        avg_hr_bpm=round(avg_hr, 1) if avg_hr is not None else None,
        source_file=name,
    )


def _scaled(value: str | None, unit: str, units: dict[str, float]) -> float | None:
    number = positive(value)
    factor = units.get(unit)
    if number is None or factor is None:
        return None
    return number * factor


# ---------------------------------------------------------------------- times


@lru_cache(maxsize=64)
def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[3:5])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def apple_time(value: str | None) -> datetime | None:
    """``2024-03-01 07:12:00 +0100`` (Apple's format) or ISO 8601; None when unreadable."""
    if not value:
        return None
    if len(value) == 25 and value[10] == " " and value[19] == " " and value[20] in "+-":
        try:
            return datetime(
                int(value[0:4]),
                int(value[5:7]),
                int(value[8:10]),
                int(value[11:13]),
                int(value[14:16]),
                int(value[17:19]),
                tzinfo=_offset(value[20:]),
            )
        except ValueError:
            return None
    return parse_iso_time(value)


# ---------------------------------------------------------------------- the batch


def _batch(totals: _Totals, workouts: list[WorkoutIn]) -> Batch:
    values: defaultdict[str, dict[str, float]] = defaultdict(dict)
    for day, mg in totals.caffeine_mg.items():
        values[day]["caffeine_mg"] = round(mg, 1)
    for day, litres in totals.water_l.items():
        values[day]["water_l"] = round(litres, 3)
    for day, drinks in totals.drinks.items():
        values[day]["alcohol_units"] = round(drinks * UNITS_PER_DRINK, 2)
    best: dict[str, float] = {}
    for (day, _source), steps in totals.steps.items():
        best[day] = max(best.get(day, 0.0), steps)
    for day, steps in best.items():
        values[day]["steps"] = round(steps)
    for day, (total, count) in totals.hrv.items():
        if count:
            values[day]["hrv_ms"] = round(total / count, 1)
    for night, intervals in totals.sleep.items():
        seconds = sum(end - start for start, end in _union(intervals))
        values[night.isoformat()]["sleep_h"] = round(seconds / 3600, 2)
    batch = Batch("apple_health", workouts=workouts)
    dropped: Counter[str] = Counter()
    for day_text, factors in sorted(values.items()):
        try:
            when = date.fromisoformat(day_text)
        except ValueError:
            totals.skipped["record with an unreadable date"] += 1
            continue
        problem = date_problem(when)
        if problem is not None:  # a night of sleep ending out of the rule
            totals.leave_out(problem)
            continue
        kept: dict[str, Any] = {}
        for factor, value in factors.items():
            try:
                kept[factor] = check_factor(factor, value)
            except InputError:
                dropped[factor] += 1
        if kept:
            batch.days[when] = DayFactors(**kept)
    for factor, count in sorted(dropped.items()):
        batch.notes.append(f"{count} day(s) of {factor} outside the plausible range were left out")
    for reason, count in sorted(totals.skipped.items()):
        batch.notes.append(f"{count} skipped: {reason}")
    if totals.left_out:
        more = "; ..." if totals.left_out > len(totals.left_out_examples) else ""
        batch.notes.append(
            f"{totals.left_out} left out, dated outside the date rule ({RULE}): "
            + "; ".join(totals.left_out_examples)
            + more
        )
    if not batch.workouts and not batch.days:
        batch.notes.append("no workouts or daily factors found in this export")
    return batch
