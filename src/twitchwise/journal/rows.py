"""The journal as read: typed, frozen rows, and :class:`JournalData` holding all of them.

:meth:`~twitchwise.journal.store.Journal.read` gives a :class:`JournalData` of
:class:`EpisodeRow`, :class:`DayRow` and :class:`WorkoutRow`, with real ``date`` and
``datetime`` values (times timezone-aware, in UTC), so the insights, charts and reports never
parse a date. Dictionaries appear only where the journal leaves the program: ``to_dict()``
gives the JSON shape of the export (:mod:`twitchwise.journal.export`) and of the API, and
:meth:`JournalData.from_dicts` reads that shape back.

Every row of a :class:`JournalData` follows the date rule (:mod:`twitchwise.journal.dates`):
one outside it is left out when the data is made, and named in ``problems``.

Nothing here touches a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from twitchwise.journal.dates import EARLIEST, RULE, date_problem, latest, moment_problem
from twitchwise.journal.records import DAY_COLUMNS, DayFactors

__all__ = ["DayRow", "EpisodeRow", "ExperimentRow", "JournalData", "WorkoutRow"]

_Row = TypeVar("_Row")


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    """One twitch episode as stored. ``at`` is timezone-aware (UTC); ``date`` is the person's
    own date of it, which may differ from ``at``'s date in UTC."""

    uid: str
    at: dt.datetime
    date: dt.date
    region: str | None = None
    side: str | None = None
    intensity: int | None = None
    duration_s: float | None = None
    note: str | None = None
    source: str = "log"

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "at": self.at.isoformat(),
            "date": self.date.isoformat(),
            "region": self.region,
            "side": self.side,
            "intensity": self.intensity,
            "duration_s": self.duration_s,
            "note": self.note,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class DayRow:
    """One day's factors as stored; a factor that is None was not recorded (never zero).

    ``twitches_counted`` is what a daily CSV said of the day's twitches: True, a count was
    given (0 included), so the day's episodes are all there were; False, its ``twitches``
    cell was left blank (not recorded); None, nothing was said (days without episodes
    inside the span twitches were logged over count as twitch-free). The JSON export does
    not carry it; the CSV export writes it back as the count or the blank cell.
    """

    date: dt.date
    factors: DayFactors
    twitches_counted: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every column, None for those not recorded."""
        out: dict[str, Any] = {"date": self.date.isoformat()}
        for column in DAY_COLUMNS:
            value = getattr(self.factors, column)
            out[column] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class ExperimentRow:
    """One self-experiment as stored: its schedule (one letter per block of ``block_days``
    days from ``started_on``: ``A`` usual, ``B`` the change), the seed that drew it, when it
    was stopped early (None: it was not), and the days the person checked in (date to
    whether they kept to the plan). What the letters mean is for the insights to say."""

    id: int
    kind: str
    change: str | None
    started_on: dt.date
    block_days: int
    washout_days: int
    schedule: str
    seed: int
    created_at: dt.datetime
    stopped_on: dt.date | None = None
    stop_reason: str | None = None
    check_ins: Mapping[dt.date, bool] = field(default_factory=dict)

    @property
    def planned_end(self) -> dt.date:
        """The last day of its last block."""
        return self.started_on + dt.timedelta(days=len(self.schedule) * self.block_days - 1)

    def running(self, today: dt.date) -> bool:
        """Not stopped, and its last day is today or later."""
        return self.stopped_on is None and today <= self.planned_end

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the export (its ``id`` is the journal's own and is left out;
        ``days`` are the check-ins, oldest first)."""
        return {
            "kind": self.kind,
            "change": self.change,
            "started_on": self.started_on.isoformat(),
            "block_days": self.block_days,
            "washout_days": self.washout_days,
            "schedule": self.schedule,
            "seed": self.seed,
            "created_at": self.created_at.isoformat(),
            "stopped_on": None if self.stopped_on is None else self.stopped_on.isoformat(),
            "stop_reason": self.stop_reason,
            "days": [
                {"date": day.isoformat(), "followed": followed}
                for day, followed in sorted(self.check_ins.items())
            ],
        }


@dataclass(frozen=True, slots=True)
class WorkoutRow:
    """One imported workout as stored; ``start`` is timezone-aware (UTC)."""

    start: dt.datetime
    duration_s: float
    sport: str = "unknown"
    distance_m: float | None = None
    energy_kj: float | None = None
    avg_hr_bpm: float | None = None
    source_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "duration_s": self.duration_s,
            "sport": self.sport,
            "distance_m": self.distance_m,
            "energy_kj": self.energy_kj,
            "avg_hr_bpm": self.avg_hr_bpm,
            "source_file": self.source_file,
        }


@dataclass
class JournalData:
    """Everything in the journal, oldest first (what ``export`` writes).

    Every date in it follows the date rule (:mod:`twitchwise.journal.dates`): a row dated
    outside it is left out when the data is made, and named in ``problems`` (which the
    export leaves out too). So the charts, insights and reports can count on dates from 1900
    to tomorrow, whatever the journal holds.
    """

    episodes: list[EpisodeRow]
    days: list[DayRow]
    workouts: list[WorkoutRow]
    problems: list[str] = field(default_factory=list)
    #: The self-experiments, oldest first, with their check-ins.
    experiments: list[ExperimentRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        problems = self.problems
        self.episodes = _within_rule(
            self.episodes, "episode", lambda e: (e.uid, e.date, e.at), problems
        )
        self.days = _within_rule(
            self.days, "day", lambda d: (d.date.isoformat(), d.date, None), problems
        )
        self.workouts = _within_rule(
            self.workouts,
            "workout",
            lambda w: (w.start.isoformat(), w.start.date(), w.start),
            problems,
        )

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The JSON shape of the export: ``{"episodes": [...], "days": [...], "workouts":
        [...], "experiments": [...]}``, dates and times as ISO 8601 text."""
        return {
            "episodes": [e.to_dict() for e in self.episodes],
            "days": [d.to_dict() for d in self.days],
            "workouts": [w.to_dict() for w in self.workouts],
            "experiments": [x.to_dict() for x in self.experiments],
        }

    @classmethod
    def from_dicts(
        cls,
        episodes: Iterable[Mapping[str, Any]],
        days: Iterable[Mapping[str, Any]],
        workouts: Iterable[Mapping[str, Any]],
        problems: Iterable[str] = (),
        experiments: Iterable[Mapping[str, Any]] = (),
    ) -> JournalData:
        """The data from the JSON shape of :meth:`to_dict` (keys left out are None, or the
        field's default). A row whose date or time is outside the date rule, or is not a date
        or time at all, is left out and named in ``problems``."""
        found = list(problems)
        rows = cls([], [], [], found)
        for e in episodes:
            day, at = stored(f"episode {e.get('uid')}", e.get("date"), e.get("at"), found)
            if day is not None and at is not None:
                rows.episodes.append(episode_row(e.get("uid") or "", at, day, e))
        for d in days:
            day, _ = stored(f"day {d.get('date')}", d.get("date"), None, found)
            if day is not None:
                rows.days.append(day_row(day, d))
        for w in workouts:
            _, start = stored(f"workout {w.get('start')}", None, w.get("start"), found)
            if start is not None:
                rows.workouts.append(workout_row(start, w))
        for i, x in enumerate(experiments, start=1):
            rows.experiments.append(experiment_row(i, x))
        return rows


def experiment_row(experiment_id: int, values: Mapping[str, Any]) -> ExperimentRow:
    """An experiment from the JSON shape of :meth:`ExperimentRow.to_dict`."""
    stopped = values.get("stopped_on")
    return ExperimentRow(
        id=experiment_id,
        kind=values["kind"],
        change=values.get("change"),
        started_on=dt.date.fromisoformat(values["started_on"]),
        block_days=values["block_days"],
        washout_days=values["washout_days"],
        schedule=values["schedule"],
        seed=values["seed"],
        created_at=dt.datetime.fromisoformat(values["created_at"]),
        stopped_on=None if stopped is None else dt.date.fromisoformat(stopped),
        stop_reason=values.get("stop_reason"),
        check_ins={
            dt.date.fromisoformat(d["date"]): bool(d["followed"]) for d in values.get("days", ())
        },
    )


def episode_row(uid: str, at: dt.datetime, day: dt.date, values: Mapping[str, Any]) -> EpisodeRow:
    """An episode from its stored values (the other columns, by name; missing ones None)."""
    return EpisodeRow(
        uid=uid,
        at=at,
        date=day,
        region=values.get("region"),
        side=values.get("side"),
        intensity=values.get("intensity"),
        duration_s=values.get("duration_s"),
        note=values.get("note"),
        source=values.get("source", "log"),
    )


def day_row(day: dt.date, values: Mapping[str, Any]) -> DayRow:
    """A day from its stored columns (:data:`~twitchwise.journal.records.DAY_COLUMNS`, and
    ``twitches_counted`` when known)."""
    factors = {c: values[c] for c in DAY_COLUMNS if values.get(c) is not None}
    if "medicines" in factors:
        factors["medicines"] = tuple(factors["medicines"])
    return DayRow(day, DayFactors(**factors), values.get("twitches_counted"))


def workout_row(start: dt.datetime, values: Mapping[str, Any]) -> WorkoutRow:
    """A workout from its stored values (the other columns, by name)."""
    return WorkoutRow(
        start=start,
        duration_s=values.get("duration_s") or 0.0,
        sport=values.get("sport", "unknown"),
        distance_m=values.get("distance_m"),
        energy_kj=values.get("energy_kj"),
        avg_hr_bpm=values.get("avg_hr_bpm"),
        source_file=values.get("source_file"),
    )


# ---------------------------------------------------------------------- the date rule


def _within_rule(
    rows: list[_Row],
    kind: str,
    dates: Callable[[_Row], tuple[str, dt.date, dt.datetime | None]],
    problems: list[str],
) -> list[_Row]:
    """``rows`` without those whose date (or the date of whose time) breaks the date rule;
    each one left out is named in ``problems``. ``dates`` gives a row's name, date and time."""
    last = latest()
    kept: list[_Row] = []
    for row in rows:
        name, day, moment = dates(row)
        problem = None
        if not EARLIEST <= day <= last or (moment is not None and not _utc_within(moment, last)):
            problem = date_problem(day) or (moment_problem(moment) if moment is not None else None)
        if problem is None:
            kept.append(row)
        else:
            problems.append(f"Left out {kind} {name} dated {day.isoformat()}: {problem}; {RULE}")
    if len(kept) == len(rows):
        return rows  # the same list: nothing was left out
    return kept


def _utc_within(moment: dt.datetime, last: dt.date) -> bool:
    """Whether a time's own date and its date in UTC follow the rule (quickly, for a
    time already in UTC)."""
    if not EARLIEST <= moment.date() <= last:
        return False
    if moment.tzinfo is None or moment.utcoffset() == dt.timedelta(0):
        return True
    return moment_problem(moment) is None


# ---------------------------------------------------------------------- stored values


def stored(
    what: str, day_value: object, time_value: object, problems: list[str]
) -> tuple[dt.date | None, dt.datetime | None]:
    """A stored row's date and time (either may be absent from the row); (None, None) when
    one of them breaks the date rule or is unreadable, after naming the row in ``problems``:
    "Left out episode #3 dated 9999-12-31: 9999-12-31 is in the future; ..."."""
    moment = None if time_value is None else _moment(time_value)
    if time_value is not None and moment is None:
        problems.append(f"Left out {what}: its time {str(time_value)[:40]!r} is not a time")
        return None, None
    day = moment.date() if moment is not None else None
    if day_value is not None or day is None:
        day = _date(day_value)
        if day is None:
            problems.append(f"Left out {what}: its date {str(day_value)[:40]!r} is not a date")
            return None, None
    problem = date_problem(day) or (moment_problem(moment) if moment is not None else None)
    if problem is not None:
        problems.append(f"Left out {what} dated {day.isoformat()}: {problem}; {RULE}")
        return None, None
    return day, moment


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _moment(value: object) -> dt.datetime | None:
    """A stored time, timezone-aware (UTC when stored without a zone)."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # beyond year 9999 in UTC: the date rule names it
        return moment
