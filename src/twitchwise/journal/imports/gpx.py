"""GPX tracks -> workouts, streamed with lxml (times and distances as gpxpy computes them).

One workout per track that has at least two timed points: start and end from the first and
last times, distance along the track (3-D when elevations exist), the track's ``type`` as
the sport, and the average of Garmin's ``TrackPointExtension`` heart rates when present. A
GPX with routes or waypoints only (no times) gives nothing. Times without a zone are UTC, as
GPX defines them.

Track points are read one at a time and dropped (:func:`._xml.stream_elements`): a track of
a million points is held as a few running totals, not as a million objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpxpy.geo import distance

from twitchwise.journal.imports._common import (
    CountingReader,
    FileProblem,
    Progress,
    check_times,
    positive,
    sport_name,
)
from twitchwise.journal.imports._xml import SafeXMLReader, stream_elements
from twitchwise.journal.records import Batch, WorkoutIn


@dataclass
class _Point:
    lat: float
    lon: float
    ele: float | None


@dataclass
class _Track:
    """Running totals of the track being read."""

    length_2d: float = 0.0
    length_3d: float = 0.0
    segment_2d: float = 0.0  # the segment being read (gpxpy adds up segments, then tracks)
    segment_3d: float = 0.0
    previous: _Point | None = None  # the last point of the segment being read
    timed: int = 0
    start: datetime | None = None
    end: datetime | None = None
    any_elevation: bool = False  # among the timed points
    hr_sum: float = 0.0
    hr_count: int = 0


def read_gpx(path: Path, progress: Progress | None = None) -> Batch:
    batch = Batch("gpx")
    track = _Track()
    with path.open("rb") as raw:
        stream = CountingReader(raw, progress, path.stat().st_size)
        source = SafeXMLReader(stream)
        for elem in stream_elements(source, ("trkpt", "trkseg", "trk")):
            kind = str(elem.tag).rpartition("}")[2]
            if kind == "trkpt":
                parent = elem.getparent()
                if parent is not None and str(parent.tag).endswith("trkseg"):
                    _point(elem, track)
            elif kind == "trkseg":
                track.length_2d += track.segment_2d
                track.length_3d += track.segment_3d
                track.segment_2d = track.segment_3d = 0.0
                track.previous = None
            else:
                workout = _workout(elem, track, path.name)
                if workout is not None:
                    batch.workouts.append(workout)
                track = _Track()
        stream.finish()
    if not batch.workouts:
        batch.notes.append("no timed track in this GPX (a route or waypoints only?)")
    return batch


def _point(elem: Any, track: _Track) -> None:
    lat, lon = _float(elem, elem.get("lat"), "lat"), _float(elem, elem.get("lon"), "lon")
    if lat is None or lon is None:
        raise FileProblem(
            f"malformed GPX (line {elem.sourceline}: a track point needs lat and lon)"
        )
    ele = when = hr = None
    for child in elem:
        name = str(child.tag).rpartition("}")[2]
        if name == "ele" and ele is None:
            ele = _float(child, child.text, "ele")
        elif name == "time" and when is None:
            when = _time(child)
        elif name == "extensions" and hr is None:
            hr = _heart_rate(child)
    point = _Point(lat, lon, ele)
    previous = track.previous
    if previous is not None:  # exactly as gpxpy's length_2d and length_3d add them up
        track.segment_2d += distance(lat, lon, None, previous.lat, previous.lon, None) or 0.0
        track.segment_3d += distance(lat, lon, ele, previous.lat, previous.lon, previous.ele) or 0.0
    track.previous = point
    if when is None:
        return
    track.timed += 1
    track.start = when if track.start is None or when < track.start else track.start
    track.end = when if track.end is None or when > track.end else track.end
    track.any_elevation = track.any_elevation or ele is not None
    if hr is not None:
        track.hr_sum += hr
        track.hr_count += 1


def _workout(elem: Any, track: _Track, name: str) -> WorkoutIn | None:
    if track.timed < 2 or track.start is None or track.end is None or track.end <= track.start:
        return None
    check_times(f"the track on line {elem.sourceline}", track.start, track.end)
    kind = next((c.text for c in elem if str(c.tag).rpartition("}")[2] == "type" and c.text), None)
    length = track.length_3d if track.any_elevation else None
    length = length or track.length_2d
    return WorkoutIn(
        start=track.start,
        duration_s=(track.end - track.start).total_seconds(),
        sport=sport_name(kind.strip() if kind else None),
        distance_m=round(length, 1) if length else None,
        avg_hr_bpm=round(track.hr_sum / track.hr_count, 1) if track.hr_count else None,
        source_file=name,
    )


def _float(elem: Any, text: str | None, what: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise FileProblem(
            f"malformed GPX (line {elem.sourceline}: {what} {text.strip()[:40]!r} is not a number)"
        ) from None


def _time(elem: Any) -> datetime | None:
    """As gpxpy reads a time; the standard library's parser first, as it is much faster."""
    from gpxpy.gpx import GPXException
    from gpxpy.gpxfield import parse_time

    text = (elem.text or "").strip()
    try:
        value = datetime.fromisoformat(text) if text else None
    except ValueError:
        value = None
    try:
        value = value or parse_time(text)
    except (GPXException, ValueError):
        raise FileProblem(
            f"malformed GPX (line {elem.sourceline}: time {text[:40]!r} is not an ISO time)"
        ) from None
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _heart_rate(extensions: Any) -> float | None:
    """The first Garmin ``hr`` (or ``heartrate``) value among a point's extensions."""
    for element in extensions.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.rsplit("}", 1)[-1].lower() in ("hr", "heartrate"):
            return positive(element.text)
    return None
