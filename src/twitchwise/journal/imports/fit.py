"""FIT activity files (Garmin, Wahoo, Coros, Suunto, Zwift...) -> workouts, with fitdecode.

One workout per ``session`` message: start, timer time (elapsed time when missing), sport,
distance, energy (kcal -> kJ) and average heart rate. A file without sessions but with
timed ``record`` messages gives one workout spanning them. Checksums are verified: a
truncated or corrupt file is refused. Settings, course and monitoring files give nothing.
"""

from __future__ import annotations

import struct
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from twitchwise.journal.imports._common import (
    CountingReader,
    FileProblem,
    Progress,
    check_times,
    positive,
    sport_name,
)
from twitchwise.journal.records import Batch, WorkoutIn

KCAL_KJ = 4.184


def read_fit(path: Path, progress: Progress | None = None) -> Batch:
    import fitdecode

    batch = Batch("fit")
    sessions: list[dict[str, Any]] = []
    first: datetime | None = None
    last: datetime | None = None
    distance_m: float | None = None
    hr_sum = 0.0
    hr_count = 0
    sport: str | None = None
    try:
        with (
            warnings.catch_warnings(),
            path.open("rb") as raw,
        ):
            warnings.simplefilter("ignore")
            stream = CountingReader(raw, progress, path.stat().st_size)
            reader = fitdecode.FitReader(stream, check_crc=fitdecode.CrcCheck.RAISE)
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "session":
                    sessions.append(_values(frame))
                elif frame.name == "record":
                    values = _values(frame)
                    ts = _time(values.get("timestamp"))
                    if ts is None:
                        continue
                    first = ts if first is None or ts < first else first
                    last = ts if last is None or ts > last else last
                    dist = positive(values.get("distance"))
                    if dist is not None:
                        distance_m = max(distance_m or 0.0, dist)
                    hr = positive(values.get("heart_rate"))
                    if hr is not None:
                        hr_sum += hr
                        hr_count += 1
                elif frame.name == "sport" and sport is None:
                    sport = sport_name(_values(frame).get("sport"))
            stream.finish()
    except fitdecode.FitHeaderError as exc:
        raise FileProblem(f"not a valid FIT file ({exc})") from exc
    except fitdecode.FitCRCError as exc:
        raise FileProblem(f"FIT checksum mismatch, the file is corrupt ({exc})") from exc
    except fitdecode.FitEOFError as exc:
        raise FileProblem(f"the FIT file is truncated ({exc})") from exc
    except fitdecode.FitError as exc:
        raise FileProblem(f"the FIT file is malformed ({exc})") from exc
    except (AssertionError, struct.error) as exc:
        # fitdecode asserts that records fit in the size its header gives, and unpacks a
        # header of an odd size without checking it: such files (found by tests/test_fuzz.py)
        # are malformed, not a program error
        raise FileProblem(
            f"the FIT file is malformed ({str(exc) or 'a record runs past its end'})"
        ) from exc
    for i, values in enumerate(sessions):
        workout = _session_workout(values, path.name)
        if workout is not None:
            check_times(f"session {i + 1}", workout.start)
            batch.workouts.append(workout)
    if not batch.workouts and first is not None and last is not None and last > first:
        check_times("the records", first, last)
        batch.workouts.append(
            WorkoutIn(
                start=first,
                duration_s=(last - first).total_seconds(),
                sport=sport or "unknown",
                distance_m=distance_m,
                avg_hr_bpm=round(hr_sum / hr_count, 1) if hr_count else None,
                source_file=path.name,
            )
        )
    if not batch.workouts:
        batch.notes.append("no workout in this FIT file (not an activity?)")
    return batch


def _values(frame: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in frame.fields:
        if field.name not in out or out[field.name] is None:
            out[field.name] = field.value
    return out


def _time(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _session_workout(values: dict[str, Any], name: str) -> WorkoutIn | None:
    duration = positive(values.get("total_timer_time")) or positive(
        values.get("total_elapsed_time")
    )
    start = _time(values.get("start_time"))
    end = _time(values.get("timestamp"))
    if start is None and end is not None and duration is not None:
        start = end - timedelta(seconds=positive(values.get("total_elapsed_time")) or duration)
    if start is None:
        return None
    if duration is None:
        if end is None or end <= start:
            return None
        duration = (end - start).total_seconds()
    calories = positive(values.get("total_calories"))
    sport = values.get("sport")
    return WorkoutIn(
        start=start,
        duration_s=round(duration, 3),
        sport=sport_name(sport if not isinstance(sport, int) else f"sport_{sport}"),
        distance_m=positive(values.get("total_distance")),
        energy_kj=round(calories * KCAL_KJ, 1) if calories is not None else None,
        avg_hr_bpm=positive(values.get("avg_heart_rate")),
        source_file=name,
    )
