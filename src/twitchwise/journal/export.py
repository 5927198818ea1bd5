"""The journal as JSON or as the daily CSV (the format ``twitchwise import`` reads back).

JSON is ``{"episodes": [...], "days": [...], "workouts": [...], "experiments": [...]}`` with
every field (an experiment with its check-ins as ``days``); importing it into an empty
journal restores the same export. The daily CSV has one row per date that
has an episode, a CSV factor or a twitch count from a daily CSV: ``twitches`` counts that
date's episodes (blank when a daily CSV left it blank and none were logged since), and
``workout_min`` is the day's logged value or else the minutes of that date's workouts (in
the local time zone). Numbers are written so that they read back exactly.

Both are written as a stream of text chunks (:func:`json_chunks`, :func:`csv_chunks`), so an
export of a million episodes never holds more than one chunk of them: the JSON is read from
:meth:`~twitchwise.journal.store.Journal.stream` and the CSV needs only the episodes per day
(:class:`~twitchwise.journal.summary.JournalSummary`). :func:`to_json` and :func:`to_csv`
give the same text at once. :func:`dumps` writes exactly what ``json.dumps(value, indent=2,
ensure_ascii=False)`` writes, faster, and :func:`json_object_chunks` an object whose lists
may be streamed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from twitchwise.journal.imports.daily_csv import COLUMNS, FACTOR_COLUMNS

if TYPE_CHECKING:
    from twitchwise.journal.rows import DayRow, EpisodeRow, ExperimentRow, JournalData, WorkoutRow
    from twitchwise.journal.summary import JournalSummary

__all__ = [
    "Encoded",
    "Streamed",
    "csv_chunks",
    "dumps",
    "json_chunks",
    "json_object_chunks",
    "to_csv",
    "to_json",
]

#: Items of a streamed list written per chunk.
ITEMS_PER_CHUNK = 500


def to_json(data: JournalData) -> str:
    return "".join(json_chunks(data.episodes, data.days, data.workouts, data.experiments))


def to_csv(data: JournalData | JournalSummary) -> str:
    from twitchwise.journal.summary import JournalSummary

    summary = data if isinstance(data, JournalSummary) else JournalSummary.of(data, 0)
    return "".join(csv_chunks(summary))


def json_chunks(
    episodes: Iterable[EpisodeRow],
    days: Iterable[DayRow],
    workouts: Iterable[WorkoutRow],
    experiments: Iterable[ExperimentRow] = (),
    profile: Mapping[str, Any] | None = None,
    answers: Iterable[Mapping[str, Any]] | None = None,
) -> Iterator[str]:
    """The JSON export, a chunk at a time (the episodes are read as they are written).
    ``profile``: the hosted account's own profile (its age band and sex), written as
    ``profile`` when given; ``answers``: the hosted app's record of the account's answers,
    written last as ``answers`` when given. An import ignores both (a journal keeps
    neither)."""
    fields: list[tuple[str, Any]] = [
        ("episodes", Streamed(e.to_dict() for e in episodes)),
        ("days", Streamed(d.to_dict() for d in days)),
        ("workouts", Streamed(w.to_dict() for w in workouts)),
        ("experiments", Streamed(x.to_dict() for x in experiments)),
    ]
    if profile is not None:
        fields.append(("profile", dict(profile)))
    if answers is not None:
        fields.append(("answers", [dict(a) for a in answers]))
    return json_object_chunks(fields)


def csv_chunks(summary: JournalSummary) -> Iterator[str]:
    """The daily CSV, a chunk of rows at a time, from the episodes per day."""
    twitches = summary.day_counts()
    days = {d.date: d.factors for d in summary.days}
    counted = {d.date: d.twitches_counted for d in summary.days}
    workout_min: defaultdict[date, float] = defaultdict(float)
    for w in summary.workouts:
        workout_min[w.start.astimezone().date()] += w.duration_s / 60
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, day in enumerate(sorted(set(twitches) | set(days) | set(workout_min))):
        factors = days.get(day)
        values: dict[str, float | None] = {
            c: None if factors is None else getattr(factors, c) for c in FACTOR_COLUMNS
        }
        if values["workout_min"] is None and day in workout_min:
            values["workout_min"] = round(workout_min[day], 1)
        count = twitches.get(day, 0)
        mark = counted.get(day)
        if not count and mark is None and all(v is None for v in values.values()):
            continue
        cell = "" if not count and mark is False else count  # blank: not recorded
        writer.writerow([day.isoformat(), cell, *(_number(values[c]) for c in FACTOR_COLUMNS)])
        if i % ITEMS_PER_CHUNK == ITEMS_PER_CHUNK - 1:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _number(value: float | int | None) -> str:
    """Shortest text that reads back as the same number; empty for 'not recorded'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


# ---------------------------------------------------------------------- JSON, streamed


class Streamed:
    """A list in :func:`json_object_chunks` whose items are written as they come."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def json_object_chunks(
    fields: Iterable[tuple[str, Any]], items_per_chunk: int = ITEMS_PER_CHUNK
) -> Iterator[str]:
    """A JSON object as ``json.dumps(obj, indent=2, ensure_ascii=False) + "\\n"`` writes it,
    in chunks: a value that is :class:`Streamed` is written a few items at a time, so a list
    of a million items is never held whole (its items are taken from it as they are
    written)."""
    yield "{"
    separator = "\n  "
    for key, value in fields:
        yield f"{separator}{_string(key)}: "
        separator = ",\n  "
        if not isinstance(value, Streamed):
            yield _encode(value, "\n  ")
            continue
        parts: list[str] = []
        opening = "[\n    "
        for item in value.items:
            parts.append(opening)
            parts.append(_encode(item, "\n    "))
            opening = ",\n    "
            if len(parts) >= 2 * items_per_chunk:
                yield "".join(parts)
                parts.clear()
        parts.append("[]" if opening == "[\n    " else "\n  ]")
        yield "".join(parts)
    yield "\n}\n" if separator != "\n  " else "}\n"


def dumps(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, several times faster."""
    return _encode(value, "\n")


_string: Callable[[str], str] = json.encoder.encode_basestring


def _float(value: float) -> str:
    if math.isfinite(value):
        return float.__repr__(value)
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


class Encoded:
    """A value that repeats from item to item (a code, a reference): :func:`json_object_chunks`
    writes it once for each indentation it appears at, then copies the text."""

    __slots__ = ("_text", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._text: dict[str, str] = {}

    def text(self, newline: str) -> str:
        found = self._text.get(newline)
        if found is None:
            found = self._text[newline] = _encode(self.value, newline)
        return found


def _encode(value: Any, newline: str) -> str:
    """``value`` as JSON indented by 2, its lines after the first starting with ``newline``
    (a newline and the indentation of the value itself)."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        return (
            "{"
            + inner
            + ("," + inner).join(
                [
                    (_string(k) if type(k) is str else _key(k))
                    + ": "
                    + (_string(v) if type(v) is str else _encode(v, inner))
                    for k, v in value.items()
                ]
            )
            + newline
            + "}"
        )
    if kind is list:
        if not value:
            return "[]"
        inner = newline + "  "
        return (
            "["
            + inner
            + ("," + inner).join(
                [_string(v) if type(v) is str else _encode(v, inner) for v in value]
            )
            + newline
            + "]"
        )
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)
    if kind is Encoded:
        return value.text(newline)  # type: ignore[no-any-return]
    return _encode_other(value, newline)


def _encode_other(value: Any, newline: str) -> str:
    """Subclasses of the JSON types and other mappings and sequences, as json writes them."""
    if isinstance(value, Mapping):
        return _encode(dict(value), newline)
    if isinstance(value, list | tuple):
        return _encode(list(value), newline)
    if isinstance(value, int):  # an int subclass (not bool): as json writes it
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _string(key)
    if key is True or key is False or key is None:
        return _string(json.dumps(key))
    if isinstance(key, int):
        return _string(int.__repr__(key))
    if isinstance(key, float):
        return _string(_float(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
