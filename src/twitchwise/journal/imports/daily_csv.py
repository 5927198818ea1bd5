"""The daily CSV: ``date,twitches,caffeine_mg,sleep_h,water_l,workout_min,stress,alcohol_units``.

``date`` is required; any subset of the other columns may follow, in any order. An empty
cell means "not recorded". ``twitches`` is the number of twitch episodes that day; left
blank, the day's twitches were not recorded (``Batch.uncounted``), which is not 0. Every
value is checked, and the first problem refuses the whole file with its line number.
``twitchwise export --format csv`` writes this format.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from datetime import date
from typing import IO, Any

from twitchwise.errors import InputError
from twitchwise.journal.dates import RULE, date_problem
from twitchwise.journal.imports._common import FileProblem
from twitchwise.journal.records import FACTORS, Batch, DayFactors, check_factor

#: The factors with a column, in the registry's order (:mod:`twitchwise.journal.factors`).
FACTOR_COLUMNS = tuple(column for column, f in FACTORS.items() if f.csv)
COLUMNS = ("date", "twitches", *FACTOR_COLUMNS)
MAX_TWITCHES = 1000
MAX_EPISODES = 1_000_000


def read_daily_csv(stream: IO[bytes]) -> Batch:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, strict=True)
    batch = Batch("csv")
    total = 0
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        _check_header(header)
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise FileProblem(f"line {line}: {len(row)} values for {len(header)} columns")
            cells = dict(zip(header, (cell.strip() for cell in row), strict=True))
            day = _date(cells["date"], line)
            if day in batch.days or day in batch.episode_counts or day in batch.uncounted:
                raise FileProblem(f"line {line}: {day} appears twice")
            factors: dict[str, Any] = {}
            for column in FACTOR_COLUMNS:
                raw = cells.get(column, "")
                if raw:
                    factors[column] = _factor(column, raw, line)
            if factors:
                batch.days[day] = DayFactors(**factors)
            raw_count = cells.get("twitches", "")
            if not raw_count and "twitches" in cells:
                batch.uncounted.add(day)  # blank: not recorded, not 0
            elif raw_count:
                batch.episode_counts[day] = _count(raw_count, line)
                total += batch.episode_counts[day]
                if total > MAX_EPISODES:
                    raise FileProblem(
                        f"line {line}: more than {MAX_EPISODES:,} twitches in one file; "
                        "split it or check the twitches column"
                    )
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise FileProblem(f"line {reader.line_num}: malformed CSV ({exc})") from exc
    finally:
        text.detach()
    if batch.empty:
        batch.notes.append("the CSV has no rows with values")
    return batch


def _check_header(header: list[str]) -> None:
    if not header or header[0] != "date":
        raise FileProblem(
            "the first column of a daily CSV must be 'date' (header: " + ",".join(COLUMNS) + ")"
        )
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise FileProblem(f"column {column!r} appears twice in the header")
        seen.add(column)
        if column not in COLUMNS:
            close = difflib.get_close_matches(column, COLUMNS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise FileProblem(
                f"unknown column {column!r}; {hint}the columns are: {','.join(COLUMNS)}"
            )


def _date(raw: str, line: int) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise FileProblem(f"line {line}: date {raw!r} is not YYYY-MM-DD") from None
    problem = date_problem(day)
    if problem is not None:
        raise FileProblem(f"line {line}: date {problem}; {RULE}")
    return day


def _number(column: str, raw: str, line: int) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FileProblem(f"line {line}: {column} {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise FileProblem(f"line {line}: {column} {raw!r} is not a number")
    return value


def _factor(column: str, raw: str, line: int) -> float | int:
    try:
        return check_factor(column, _number(column, raw, line))
    except InputError as exc:
        raise FileProblem(f"line {line}: {exc}") from None


def _count(raw: str, line: int) -> int:
    value = _number("twitches", raw, line)
    if value != int(value) or not 0 <= value <= MAX_TWITCHES:
        raise FileProblem(
            f"line {line}: twitches must be a whole number from 0 to {MAX_TWITCHES}, not {raw!r}"
        )
    return int(value)
