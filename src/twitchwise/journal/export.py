"""The journal as JSON or as the daily CSV (the format ``twitchwise import`` reads back).

JSON is ``{"episodes": [...], "days": [...], "workouts": [...]}`` with every field; importing
it into an empty journal restores the same export. The daily CSV has one row per date that
has an episode or a CSV factor: ``twitches`` counts that date's episodes, and
``workout_min`` is the day's logged value or else the minutes of that date's workouts (in
the local time zone). Numbers are written so that they read back exactly.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from datetime import date
from typing import TYPE_CHECKING

from twitchwise.journal.imports.daily_csv import COLUMNS, FACTOR_COLUMNS

if TYPE_CHECKING:
    from twitchwise.journal.rows import JournalData

__all__ = ["to_csv", "to_json"]


def to_json(data: JournalData) -> str:
    return json.dumps(data.to_dict(), indent=2, ensure_ascii=False) + "\n"


def to_csv(data: JournalData) -> str:
    twitches = Counter(e.date for e in data.episodes)
    days = {d.date: d.factors for d in data.days}
    workout_min: defaultdict[date, float] = defaultdict(float)
    for w in data.workouts:
        workout_min[w.start.astimezone().date()] += w.duration_s / 60
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for day in sorted(set(twitches) | set(days) | set(workout_min)):
        factors = days.get(day)
        values: dict[str, float | None] = {
            c: None if factors is None else getattr(factors, c) for c in FACTOR_COLUMNS
        }
        if values["workout_min"] is None and day in workout_min:
            values["workout_min"] = round(workout_min[day], 1)
        count = twitches.get(day, 0)
        if not count and all(v is None for v in values.values()):
            continue
        writer.writerow([day.isoformat(), count, *(_number(values[c]) for c in FACTOR_COLUMNS)])
    return out.getvalue()


def _number(value: float | int | None) -> str:
    """Shortest text that reads back as the same number; empty for 'not recorded'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)
