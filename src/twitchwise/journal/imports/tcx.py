"""TCX (Garmin Training Center) activities -> workouts, streamed with lxml.

One workout per ``Activity``: start from its ``Id`` (else the first lap), duration, distance
and calories summed over its laps, the average heart rate weighted by lap time, and the
``Sport`` attribute. Laps without totals fall back on their track points. Course files (no
activities) give nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twitchwise.journal.imports._common import (
    CountingReader,
    FileProblem,
    Progress,
    parse_iso_time,
    positive,
    sport_name,
)
from twitchwise.journal.imports._xml import PARSER_OPTIONS, SafeXMLReader
from twitchwise.journal.records import Batch, WorkoutIn

KCAL_KJ = 4.184


def read_tcx(path: Path, progress: Progress | None = None) -> Batch:
    from lxml import etree

    batch = Batch("tcx")
    with path.open("rb") as raw:
        stream = CountingReader(raw, progress, path.stat().st_size)
        source = SafeXMLReader(stream)
        events = etree.iterparse(source, events=("end",), tag="{*}Activity", **PARSER_OPTIONS)
        try:
            for _, activity in events:
                workout = _workout(activity, path.name)
                if workout is not None:
                    batch.workouts.append(workout)
                activity.clear()
        except etree.XMLSyntaxError as exc:
            raise FileProblem(f"malformed or truncated XML ({_xml_message(exc)})") from exc
        stream.finish()
    if not batch.workouts:
        batch.notes.append("no activity in this TCX (a course file?)")
    return batch


def _xml_message(exc: Any) -> str:
    return str(exc).splitlines()[0] if str(exc) else "syntax error"


def _child(element: Any, name: str) -> Any:
    return element.find(f"{{*}}{name}")


def _number(element: Any, path: str) -> float | None:
    node = element
    for name in path.split("/"):
        node = _child(node, name)
        if node is None:
            return None
    return positive(node.text)


def _workout(activity: Any, name: str) -> WorkoutIn | None:
    laps = activity.findall("{*}Lap")
    id_node = _child(activity, "Id")
    start = parse_iso_time(id_node.text if id_node is not None else None)
    lap_starts = [t for lap in laps if (t := parse_iso_time(lap.get("StartTime"))) is not None]
    if start is None and lap_starts:
        start = min(lap_starts)
    times = [
        t
        for node in activity.iterfind(".//{*}Trackpoint/{*}Time")
        if (t := parse_iso_time(node.text)) is not None
    ]
    if start is None and times:
        start = min(times)
    if start is None:
        return None
    duration = 0.0
    distance = 0.0
    calories = 0.0
    hr_weighted = 0.0
    hr_time = 0.0
    for lap in laps:
        seconds = _number(lap, "TotalTimeSeconds") or 0.0
        duration += seconds
        distance += _number(lap, "DistanceMeters") or 0.0
        calories += _number(lap, "Calories") or 0.0
        hr = _number(lap, "AverageHeartRateBpm/Value")
        if hr is not None and seconds:
            hr_weighted += hr * seconds
            hr_time += seconds
    if not duration and times:
        duration = (max(times) - min(times)).total_seconds()
    if not distance:
        distance = max(
            (
                d
                for node in activity.iterfind(".//{*}Trackpoint/{*}DistanceMeters")
                if (d := positive(node.text)) is not None
            ),
            default=0.0,
        )
    if hr_time == 0:
        rates = [
            r
            for node in activity.iterfind(".//{*}Trackpoint/{*}HeartRateBpm/{*}Value")
            if (r := positive(node.text)) is not None
        ]
        avg_hr = round(sum(rates) / len(rates), 1) if rates else None
    else:
        avg_hr = round(hr_weighted / hr_time, 1)
    if duration <= 0:
        return None
    return WorkoutIn(
        start=start,
        duration_s=round(duration, 3),
        sport=sport_name(activity.get("Sport")),
        distance_m=round(distance, 1) if distance else None,
        energy_kj=round(calories * KCAL_KJ, 1) if calories else None,
        avg_hr_bpm=avg_hr,
        source_file=name,
    )
