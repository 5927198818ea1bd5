"""The journal's tables as typed SQLAlchemy 2 models.

The schema itself is created and changed only by the Alembic migrations in
``twitchwise/journal/migrations``; these models must match them (a test compares the two).
Units are in the column names. Timestamps are stored in UTC and read back timezone-aware.
Nothing here is specific to SQLite: the same models work on PostgreSQL.

Every table is personal: each row has its ``owner_id`` (a UUID; :data:`LOCAL_OWNER` for the
one person of the local app, an account's id in the hosted service). What was unique is unique
per owner, and the indexes the reads use lead with the owner. On PostgreSQL, migration
``0003`` adds row-level security on top: a transaction sees and writes only the rows of the
owner it names (docs/hosted.md).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "LOCAL_OWNER",
    "OWNED_TABLES",
    "Base",
    "CheckIn",
    "Day",
    "Episode",
    "Experiment",
    "ImportRecord",
    "UTCDateTime",
    "Workout",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC (``timestamp with time zone`` where it exists).

    SQLite has no time zones, so the UTC time is stored without an offset and read back as
    UTC. Naive datetimes are refused: a time without a zone is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: Constraint and index names, the same on every database (the migrations use them too).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The owner of a local journal: the one person of the local app (and of every row written
#: before owners existed, migration ``0003``). No account has this id: accounts get random
#: (version 4) UUIDs, and this one is all zeros.
LOCAL_OWNER = uuid.UUID(int=0)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def owner_column() -> Mapped[uuid.UUID]:
    """The ``owner_id`` of a personal table: whose row it is.

    Its server default is :data:`LOCAL_OWNER` (32 zeros, a UUID's text on SQLite and on
    PostgreSQL alike), so a row written outside the repository into a local journal (an older
    tool, a hand edit) is the local person's. The repository always gives the owner itself,
    and on PostgreSQL the row-level security refuses a row whose owner is not the one the
    transaction names.
    """
    return mapped_column(Uuid, server_default=text(f"'{LOCAL_OWNER.hex}'"))


class ImportRecord(Base):
    """One imported file: its SHA-256 fingerprint makes a second import of it a no-op."""

    __tablename__ = "imports"
    __table_args__ = (
        UniqueConstraint("owner_id", "fingerprint", name="uq_imports_owner_fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[uuid.UUID] = owner_column()
    fingerprint: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rows_added: Mapped[int] = mapped_column(Integer, default=0)


class Episode(Base):
    """One twitch episode. ``local_date`` is the day it happened for the person.

    ``id`` counts up over the whole table (the key the database joins on); ``public_id`` is a
    random UUID (version 4), unique over the table, by which the hosted service's API names
    the episode (migration ``0004``): it says nothing of how many episodes anyone has."""

    __tablename__ = "episodes"
    __table_args__ = (
        CheckConstraint("intensity IS NULL OR intensity BETWEEN 1 AND 5", name="intensity"),
        CheckConstraint("side IS NULL OR side IN ('left', 'right', 'both')", name="side"),
        CheckConstraint("duration_s IS NULL OR duration_s >= 0", name="duration"),
        UniqueConstraint("owner_id", "uid", name="uq_episodes_owner_uid"),
        Index("ix_episodes_owner_at", "owner_id", "at"),
        Index("ix_episodes_owner_local_date", "owner_id", "local_date"),
        Index("uq_episodes_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[uuid.UUID] = owner_column()
    #: The store gives each episode a version-4 UUID; the database's own default (migration
    #: ``0004``: ``gen_random_uuid()``, or 16 random bytes on SQLite) fills a row written
    #: without one, by hand.
    public_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, default=uuid.uuid4, server_default=FetchedValue()
    )
    uid: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(64))
    side: Mapped[str | None] = mapped_column(String(8))
    intensity: Mapped[int | None] = mapped_column(SmallInteger)
    duration_s: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"), index=True
    )


class Day(Base):
    """The daily factors of one date. ``sources`` says where each factor came from."""

    __tablename__ = "days"
    __table_args__ = (
        CheckConstraint("stress IS NULL OR stress BETWEEN 0 AND 10", name="stress"),
        UniqueConstraint("owner_id", "date", name="uq_days_owner_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[uuid.UUID] = owner_column()
    date: Mapped[date] = mapped_column(Date)
    caffeine_mg: Mapped[float | None] = mapped_column(Float)
    sleep_h: Mapped[float | None] = mapped_column(Float)
    water_l: Mapped[float | None] = mapped_column(Float)
    workout_min: Mapped[float | None] = mapped_column(Float)
    workout_type: Mapped[str | None] = mapped_column(String(64))
    stress: Mapped[int | None] = mapped_column(SmallInteger)
    alcohol_units: Mapped[float | None] = mapped_column(Float)
    medicines: Mapped[list[str] | None] = mapped_column(JSON)
    steps: Mapped[int | None] = mapped_column(Integer)
    hrv_ms: Mapped[float | None] = mapped_column(Float)
    sources: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Workout(Base):
    """One workout; ``fingerprint`` (start time to the second) is its natural key."""

    __tablename__ = "workouts"
    __table_args__ = (
        UniqueConstraint("owner_id", "fingerprint", name="uq_workouts_owner_fingerprint"),
        Index("ix_workouts_owner_start", "owner_id", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[uuid.UUID] = owner_column()
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    sport: Mapped[str] = mapped_column(String(64))
    distance_m: Mapped[float | None] = mapped_column(Float)
    energy_kj: Mapped[float | None] = mapped_column(Float)
    avg_hr_bpm: Mapped[float | None] = mapped_column(Float)
    source_file: Mapped[str | None] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"), index=True
    )


class Experiment(Base):
    """One self-experiment: its randomised schedule of blocks (``schedule``: one letter per
    block, ``A`` usual and ``B`` the change), the seed it was drawn with (the same seed gives
    the same schedule) and, when it was stopped early, the day it stopped."""

    __tablename__ = "experiments"
    __table_args__ = (
        CheckConstraint("block_days >= 1", name="block_days"),
        CheckConstraint("washout_days >= 0", name="washout_days"),
        Index("ix_experiments_owner_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[uuid.UUID] = owner_column()
    kind: Mapped[str] = mapped_column(String(64))
    change: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[date] = mapped_column(Date)
    block_days: Mapped[int] = mapped_column(Integer)
    washout_days: Mapped[int] = mapped_column(Integer)
    schedule: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    stop_reason: Mapped[str | None] = mapped_column(Text)


class CheckIn(Base):
    """A day of an experiment the person said they kept to the plan (or did not)."""

    __tablename__ = "experiment_days"
    __table_args__ = (
        UniqueConstraint("owner_id", "experiment_id", "date", name="uq_experiment_days_owner_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[uuid.UUID] = owner_column()
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[date] = mapped_column(Date)
    followed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: Every personal table, children before the tables they refer to (the order to delete in).
OWNED_TABLES: tuple[type[Base], ...] = (CheckIn, Experiment, Episode, Workout, Day, ImportRecord)
