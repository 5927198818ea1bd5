"""TCX (Garmin Training Center) activities -> workouts, streamed with lxml.

One workout per ``Activity``: start from its ``Id`` (else the first lap), duration, distance
and calories summed over its laps, the average heart rate weighted by lap time, and the
``Sport`` attribute. Laps without totals fall back on their track points. Course files (no
activities) give nothing.

Track points and laps are read one at a time and dropped (:func:`._xml.stream_elements`), so
an activity of any length is held as a few running totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from twitchwise.journal.imports._common import (
    CountingReader,
    Progress,
    check_times,
    parse_iso_time,
    positive,
    sport_name,
)
from twitchwise.journal.imports._xml import SafeXMLReader, stream_elements
from twitchwise.journal.records import Batch, WorkoutIn

KCAL_KJ = 4.184


@dataclass
class _Activity:
    """Running totals of the activity being read."""

    lap_starts: list[datetime] = field(default_factory=list)
    duration: float = 0.0
    distance: float = 0.0
    calories: float = 0.0
    hr_weighted: float = 0.0
    hr_time: float = 0.0
    first_time: datetime | None = None
    last_time: datetime | None = None
    max_distance: float = 0.0
    hr_sum: float = 0.0
    hr_count: int = 0


def read_tcx(path: Path, progress: Progress | None = None) -> Batch:
    batch = Batch("tcx")
    current = _Activity()
    with path.open("rb") as raw:
        stream = CountingReader(raw, progress, path.stat().st_size)
        source = SafeXMLReader(stream)
        for elem in stream_elements(source, ("Trackpoint", "Lap", "Activity")):
            kind = _local(elem)
            if kind == "Trackpoint":
                if _in_activity(elem):
                    _trackpoint(elem, current)
            elif kind == "Lap":
                parent = elem.getparent()
                if parent is not None and _local(parent) == "Activity":
                    _lap(elem, current)
            else:
                workout = _workout(elem, current, path.name)
                if workout is not None:
                    batch.workouts.append(workout)
                current = _Activity()
        stream.finish()
    if not batch.workouts:
        batch.notes.append("no activity in this TCX (a course file?)")
    return batch


def _local(element: Any) -> str:
    return str(element.tag).rpartition("}")[2]


def _in_activity(element: Any) -> bool:
    return any(_local(a) == "Activity" for a in element.iterancestors())


def _child(element: Any, name: str) -> Any:
    return element.find(f"{{*}}{name}")


def _number(element: Any, path: str) -> float | None:
    node = element
    for name in path.split("/"):
        node = _child(node, name)
        if node is None:
            return None
    return positive(node.text)


def _trackpoint(point: Any, a: _Activity) -> None:
    for node in point:
        kind = _local(node)
        if kind == "Time":
            t = parse_iso_time(node.text)
            if t is not None:
                a.first_time = t if a.first_time is None or t < a.first_time else a.first_time
                a.last_time = t if a.last_time is None or t > a.last_time else a.last_time
        elif kind == "DistanceMeters":
            d = positive(node.text)
            if d is not None and d > a.max_distance:
                a.max_distance = d
        elif kind == "HeartRateBpm":
            for value in node.iterfind("{*}Value"):
                r = positive(value.text)
                if r is not None:
                    a.hr_sum += r
                    a.hr_count += 1


def _lap(lap: Any, a: _Activity) -> None:
    started = parse_iso_time(lap.get("StartTime"))
    if started is not None:
        a.lap_starts.append(started)
    seconds = _number(lap, "TotalTimeSeconds") or 0.0
    a.duration += seconds
    a.distance += _number(lap, "DistanceMeters") or 0.0
    a.calories += _number(lap, "Calories") or 0.0
    hr = _number(lap, "AverageHeartRateBpm/Value")
    if hr is not None and seconds:
        a.hr_weighted += hr * seconds
        a.hr_time += seconds


def _workout(activity: Any, a: _Activity, name: str) -> WorkoutIn | None:
    id_node = _child(activity, "Id")
    start = parse_iso_time(id_node.text if id_node is not None else None)
    if start is None and a.lap_starts:
        start = min(a.lap_starts)
    if start is None:
        start = a.first_time
    if start is None:
        return None
    duration = a.duration
    if not duration and a.first_time is not None and a.last_time is not None:
        duration = (a.last_time - a.first_time).total_seconds()
    distance = a.distance or a.max_distance
    if a.hr_time == 0:
        avg_hr = round(a.hr_sum / a.hr_count, 1) if a.hr_count else None
    else:
        avg_hr = round(a.hr_weighted / a.hr_time, 1)
    if duration <= 0:
        return None
    check_times(f"the activity on line {activity.sourceline}", start)
    return WorkoutIn(
        start=start,
        duration_s=round(duration, 3),
        sport=sport_name(activity.get("Sport")),
        distance_m=round(distance, 1) if distance else None,
        energy_kj=round(a.calories * KCAL_KJ, 1) if a.calories else None,
        avg_hr_bpm=avg_hr,
        source_file=name,
    )
