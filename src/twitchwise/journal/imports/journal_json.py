"""twitchwise's own JSON export (``{"episodes": [...], "days": [...], "workouts": [...],
"experiments": [...]}``).

Importing it restores a journal: episodes keep their ``uid`` (so importing twice adds
nothing), days their factors, workouts their start, which is their natural key, and
self-experiments their schedule and check-ins (their natural key is the kind, the first day,
the schedule and the seed). Every item is validated; unknown keys are refused.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import IO, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from twitchwise.errors import InputError
from twitchwise.journal.dates import RULE, date_problem, moment_problem
from twitchwise.journal.imports._common import FileProblem
from twitchwise.journal.records import (
    MAX_DURATION_S,
    Batch,
    DayFactors,
    EpisodeIn,
    ExperimentIn,
    WorkoutIn,
)

MAX_JSON_BYTES = 512 * 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EpisodeJSON(_Strict):
    uid: str | None = Field(None, min_length=1, max_length=64)
    at: AwareDatetime
    date: dt.date | None = None
    region: str | None = Field(None, max_length=64)
    side: Literal["left", "right", "both"] | None = None
    intensity: int | None = Field(None, ge=1, le=5)
    duration_s: float | None = Field(None, ge=0, le=MAX_DURATION_S)
    note: str | None = Field(None, max_length=10_000)
    source: str = Field("json", min_length=1, max_length=32)


class DayJSON(_Strict):
    date: dt.date
    caffeine_mg: float | None = None
    sleep_h: float | None = None
    water_l: float | None = None
    workout_min: float | None = None
    workout_type: str | None = Field(None, max_length=64)
    stress: int | None = None
    alcohol_units: float | None = None
    medicines: list[str] | None = None
    steps: int | None = None
    hrv_ms: float | None = None


class WorkoutJSON(_Strict):
    start: AwareDatetime
    duration_s: float = Field(ge=0, le=14 * 86_400)
    sport: str = Field("unknown", min_length=1, max_length=64)
    distance_m: float | None = Field(None, ge=0)
    energy_kj: float | None = Field(None, ge=0)
    avg_hr_bpm: float | None = Field(None, ge=0, le=300)
    source_file: str | None = Field(None, max_length=255)


class CheckInJSON(_Strict):
    date: dt.date
    followed: bool


class ExperimentJSON(_Strict):
    kind: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    change: str | None = Field(None, max_length=1000)
    started_on: dt.date
    block_days: int = Field(ge=1, le=366)
    washout_days: int = Field(ge=0, le=366)
    #: one letter per block: A usual, B the change
    schedule: str = Field(min_length=1, max_length=64, pattern=r"^[AB]+$")
    seed: int = Field(ge=0, le=2**63 - 1)
    created_at: AwareDatetime
    stopped_on: dt.date | None = None
    stop_reason: str | None = Field(None, max_length=1000)
    days: list[CheckInJSON] = []

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentJSON:
        if self.washout_days >= self.block_days:
            raise ValueError("washout_days must be fewer than block_days")
        if self.stopped_on is not None and self.stopped_on < self.started_on:
            raise ValueError("stopped_on is before started_on")
        if len({d.date for d in self.days}) != len(self.days):
            raise ValueError("a day is checked in twice")
        return self


class JournalJSON(_Strict):
    episodes: list[EpisodeJSON] = []
    days: list[DayJSON] = []
    workouts: list[WorkoutJSON] = []
    experiments: list[ExperimentJSON] = []
    #: The hosted account's profile (age band, sex) its export carries: not imported, as a
    #: journal keeps no profile (set it on the account page).
    profile: dict[str, str | None] | None = None
    #: The hosted app's record of the account's answers its export carries: not imported
    #: (a journal keeps none; the record is the account's, kept only with consent).
    answers: list[dict[str, Any]] | None = None


def read_journal_json(stream: IO[bytes]) -> Batch:
    raw = stream.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise FileProblem("the JSON export is larger than 512 MB")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise FileProblem(f"malformed JSON (line {exc.lineno}: {exc.msg})") from exc
    except RecursionError:  # arrays or objects nested thousands deep: no export is
        raise FileProblem(
            "the JSON is nested too deeply to be a twitchwise export (arrays or objects "
            "inside each other hundreds of times)"
        ) from None
    if not isinstance(data, dict) or not {"episodes", "days", "workouts", "experiments"} & set(
        data
    ):
        raise FileProblem(
            "not a twitchwise export: expected an object with episodes, days and workouts"
        )
    try:
        parsed = JournalJSON.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FileProblem(f"{where}: {first['msg']}") from None
    batch = Batch("json")
    for i, e in enumerate(parsed.episodes):
        day = e.date or e.at.date()
        _check_problem(f"episodes.{i}.at", moment_problem(e.at))
        _check_date(f"episodes.{i}.date", day)
        try:
            batch.episodes.append(
                EpisodeIn(
                    at=e.at,
                    day=day,
                    region=e.region,
                    side=e.side,
                    intensity=e.intensity,
                    duration_s=e.duration_s,
                    note=e.note,
                    source=e.source,
                    uid=e.uid,
                )
            )
        except InputError as exc:
            raise FileProblem(f"episodes.{i}: {exc}") from None
    for i, d in enumerate(parsed.days):
        _check_date(f"days.{i}.date", d.date)
        if d.date in batch.days:
            raise FileProblem(f"days.{i}: {d.date} appears twice")
        values = d.model_dump(exclude={"date"}, exclude_none=True)
        if "medicines" in values:
            values["medicines"] = tuple(values["medicines"])
        try:
            factors = DayFactors(**values).checked()
        except InputError as exc:
            raise FileProblem(f"days.{i}: {exc}") from None
        if factors.values():
            batch.days[d.date] = factors
    for i, w in enumerate(parsed.workouts):
        _check_problem(f"workouts.{i}.start", moment_problem(w.start))
        batch.workouts.append(WorkoutIn(**w.model_dump()))
    for i, x in enumerate(parsed.experiments):
        _check_date(f"experiments.{i}.started_on", x.started_on)
        if x.stopped_on is not None:
            _check_date(f"experiments.{i}.stopped_on", x.stopped_on)
        for j, check_in in enumerate(x.days):
            _check_date(f"experiments.{i}.days.{j}.date", check_in.date)
        batch.experiments.append(
            ExperimentIn(
                **x.model_dump(exclude={"days"}),
                check_ins={c.date: c.followed for c in x.days},
            )
        )
    return batch


def _check_date(where: str, day: dt.date) -> None:
    _check_problem(where, date_problem(day))


def _check_problem(where: str, problem: str | None) -> None:
    if problem is not None:
        raise FileProblem(f"{where}: {problem}; {RULE}")
