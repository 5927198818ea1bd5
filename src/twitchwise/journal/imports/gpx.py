"""GPX tracks -> workouts, with gpxpy.

One workout per track that has at least two timed points: start and end from the first and
last times, distance along the track (3-D when elevations exist), the track's ``type`` as
the sport, and the average of Garmin's ``TrackPointExtension`` heart rates when present. A
GPX with routes or waypoints only (no times) gives nothing. Times without a zone are UTC, as
GPX defines them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twitchwise.journal.imports._common import FileProblem, Progress, positive, sport_name
from twitchwise.journal.imports._xml import SafeXMLReader
from twitchwise.journal.records import Batch, WorkoutIn


def read_gpx(path: Path, progress: Progress | None = None) -> Batch:
    import gpxpy
    import gpxpy.gpx

    with path.open("rb") as raw:
        source = SafeXMLReader(raw)
        data = source.read()
    try:
        gpx = gpxpy.parse(data.decode("utf-16" if source.utf16 else "utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileProblem(f"the GPX is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except gpxpy.gpx.GPXException as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FileProblem(f"malformed GPX ({message})") from exc
    if progress is not None:
        size = path.stat().st_size
        progress(size, size)
    batch = Batch("gpx")
    for track in gpx.tracks:
        points = [p for segment in track.segments for p in segment.points if p.time is not None]
        if len(points) < 2:
            continue
        times = [_utc(p.time) for p in points if p.time is not None]
        start, end = min(times), max(times)
        if end <= start:
            continue
        length = track.length_3d() if any(p.elevation is not None for p in points) else None
        length = length or track.length_2d()
        rates = [hr for p in points if (hr := _heart_rate(p.extensions)) is not None]
        batch.workouts.append(
            WorkoutIn(
                start=start,
                duration_s=(end - start).total_seconds(),
                sport=sport_name(track.type),
                distance_m=round(length, 1) if length else None,
                avg_hr_bpm=round(sum(rates) / len(rates), 1) if rates else None,
                source_file=path.name,
            )
        )
    if not batch.workouts:
        batch.notes.append("no timed track in this GPX (a route or waypoints only?)")
    return batch


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _heart_rate(extensions: list[Any]) -> float | None:
    for ext in extensions:
        for element in ext.iter():
            tag = element.tag if isinstance(element.tag, str) else ""
            if tag.rsplit("}", 1)[-1].lower() in ("hr", "heartrate"):
                return positive(element.text)
    return None
