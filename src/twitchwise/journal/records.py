"""Plain records that flow into the journal, and what an import of them did.

Readers of files (:mod:`twitchwise.journal.imports`) and the command line build these; the
store (:mod:`twitchwise.journal.store`) writes them. Nothing here touches a database, and
nothing here imports more than the standard library and the journal's own light modules:
the daily factors and their limits come from :mod:`twitchwise.journal.factors`.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime

from twitchwise.errors import InputError
from twitchwise.journal.factors import FACTORS, Factor

__all__ = [
    "FACTORS",
    "SIDES",
    "Batch",
    "DayFactors",
    "EpisodeIn",
    "ExperimentIn",
    "Factor",
    "FileInfo",
    "ImportSummary",
    "WorkoutIn",
    "check_factor",
    "workout_fingerprint",
]

SIDES = ("left", "right", "both")


#: Episode limits.
INTENSITY_RANGE = (1, 5)
MAX_DURATION_S = 86_400.0


def check_factor(name: str, value: float) -> float | int:
    """The value if it is allowed for factor ``name``, else :class:`InputError`."""
    factor = FACTORS[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{name} must be a number, not {value!r}", field=name)
    if factor.integer and value != int(value):
        raise InputError(f"{name} must be a whole number, not {value!r}", field=name)
    if not factor.low <= value <= factor.high:
        raise InputError(
            f"{name} must be between {_num(factor.low)} and {_num(factor.high)}, not {_num(value)}",
            field=name,
        )
    return int(value) if factor.integer else float(value)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True, slots=True)
class DayFactors:
    """What is known about one day; None means not recorded (never zero)."""

    caffeine_mg: float | None = None
    sleep_h: float | None = None
    water_l: float | None = None
    workout_min: float | None = None
    workout_type: str | None = None
    stress: int | None = None
    alcohol_units: float | None = None
    medicines: tuple[str, ...] | None = None
    steps: int | None = None
    hrv_ms: float | None = None

    def values(self) -> dict[str, object]:
        """The recorded factors only, by column name."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def checked(self) -> DayFactors:
        """The same factors after checking each number against :data:`FACTORS`."""
        changes: dict[str, object] = {}
        for name in FACTORS:
            value = getattr(self, name)
            if value is not None:
                changes[name] = check_factor(name, value)
        return replace(self, **changes)  # type: ignore[arg-type]


DAY_COLUMNS = tuple(f.name for f in fields(DayFactors))


@dataclass(frozen=True, slots=True)
class EpisodeIn:
    """One twitch episode. ``at`` is timezone-aware; ``day`` is the person's own date of it."""

    at: datetime
    day: date
    region: str | None = None
    side: str | None = None
    intensity: int | None = None
    duration_s: float | None = None
    note: str | None = None
    source: str = "log"
    uid: str | None = None  # natural key; the store makes a random one when missing
    #: The id the hosted API names the episode by (a random UUID version 4, unique over the
    #: database); the store makes one when missing. Never read from or written to a file.
    public_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("EpisodeIn.at must be timezone-aware")
        if self.side is not None and self.side not in SIDES:
            raise InputError(
                f"side must be one of {', '.join(SIDES)}, not {self.side!r}", field="side"
            )
        low, high = INTENSITY_RANGE
        if self.intensity is not None and (
            isinstance(self.intensity, bool) or not low <= self.intensity <= high
        ):
            raise InputError(
                f"intensity must be a whole number from {low} to {high}, not {self.intensity!r}",
                field="intensity",
            )
        if self.duration_s is not None and not (0 <= self.duration_s <= MAX_DURATION_S):
            raise InputError(
                f"duration must be from 0 to {int(MAX_DURATION_S)} seconds, "
                f"not {self.duration_s!r}",
                field="duration_s",
            )


@dataclass(frozen=True, slots=True)
class WorkoutIn:
    """One workout; ``start`` is timezone-aware."""

    start: datetime
    duration_s: float
    sport: str = "unknown"
    distance_m: float | None = None
    energy_kj: float | None = None
    avg_hr_bpm: float | None = None
    source_file: str | None = None

    @property
    def fingerprint(self) -> str:
        return workout_fingerprint(self.start)


def workout_fingerprint(start: datetime) -> str:
    """A workout's natural key: its start to the second, in UTC.

    The same session exported as FIT, GPX, TCX or through Apple Health starts at the same
    second, so it is stored once whichever file brings it first.
    """
    utc = start.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return hashlib.sha256(f"workout|{utc.isoformat()}".encode()).hexdigest()


@dataclass
class Batch:
    """Everything read from one file, before anything is written.

    ``episode_counts`` (from a daily CSV) means "that day had this many twitch episodes": the
    store adds only the episodes the journal does not already have for the day, and keeps
    that the day was counted (a 0 is a calm day, not an unknown one). ``uncounted`` are the
    dates whose ``twitches`` cell was left blank: not recorded, which the store keeps too.
    """

    format: str
    workouts: list[WorkoutIn] = field(default_factory=list)
    days: dict[date, DayFactors] = field(default_factory=dict)
    episodes: list[EpisodeIn] = field(default_factory=list)
    episode_counts: dict[date, int] = field(default_factory=dict)
    uncounted: set[date] = field(default_factory=set)
    experiments: list[ExperimentIn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.workouts or self.days or self.episodes or self.episode_counts or self.experiments
        )


@dataclass(frozen=True)
class ExperimentIn:
    """A self-experiment from a JSON export, with its check-ins (date to whether the plan was
    kept). Its natural key is its kind, first day, schedule and seed: an import adds it once."""

    kind: str
    change: str | None
    started_on: date
    block_days: int
    washout_days: int
    schedule: str
    seed: int
    created_at: datetime
    stopped_on: date | None = None
    stop_reason: str | None = None
    check_ins: dict[date, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """The file an import batch came from."""

    name: str
    fingerprint: str  # SHA-256 of the file's bytes
    size_bytes: int
    format: str


@dataclass
class ImportSummary:
    """What one file added (or why it added nothing)."""

    name: str
    format: str
    already_imported: datetime | None = None
    workouts_added: int = 0
    workouts_known: int = 0
    days_added: int = 0
    days_updated: int = 0
    values_kept: int = 0
    episodes_added: int = 0
    experiments_added: int = 0
    check_ins_added: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows_added(self) -> int:
        return (
            self.workouts_added
            + self.days_added
            + self.days_updated
            + self.episodes_added
            + self.experiments_added
            + self.check_ins_added
        )
