"""The journal database: open (and migrate) it, write entries and imports, read, forget.

::

    journal = open_journal()              # TWITCHWISE_DATABASE_URL or $TWITCHWISE_HOME
    journal.add_episode(EpisodeIn(...))   # each call is one transaction
    journal.set_day(date, DayFactors(caffeine_mg=200))
    journal.import_files([(FileInfo, Batch), ...])   # all files in one transaction
    journal.read(); journal.forget()     # read: typed rows (twitchwise.journal.rows)
    journal.summary()                    # counts for the insights, in bounded memory
    with journal.stream() as s: s.episodes()   # every row, one chunk at a time

Nothing is written with a date outside the date rule (:mod:`twitchwise.journal.dates`), and
:meth:`Journal.read` leaves out, and names, any row that has one all the same.

:class:`FileInfo` and :class:`ImportSummary` live in :mod:`twitchwise.journal.records`,
:class:`JournalData` and its rows in :mod:`twitchwise.journal.rows` (modules without
SQLAlchemy, so the file readers and the insights need not load it); they are named here too.

Opening runs the Alembic migrations up to head (skipped when the database is already there).
A SQLite journal is created owner-only (folder 0700, file 0600, and its ``-wal``/``-shm``
files checked), with write-ahead logging, foreign keys and ``secure_delete`` on. Nothing else
here is SQLite-specific: a PostgreSQL URL works the same way.

Every error of the database becomes a :class:`~twitchwise.errors.JournalError` that names
the journal.

**Owners.** Every row has its owner (``owner_id``), and a :class:`Journal` is one owner's: each
of its reads, writes, counts, streams, imports, experiments and :meth:`Journal.forget` is
scoped by :attr:`Journal.owner`. ``open_journal()`` gives the local person's journal
(:data:`LOCAL_OWNER`), as it always has. A hosted service, where many people share one
database, opens it once and takes each person's journal from it, on the same engine and pool::

    root = open_journal(settings)                 # migrates once, owns the engine
    with root.for_owner(account_id) as journal:   # nothing opened: a view on the same pool
        journal.read()                            # that person's rows, and no one else's
    erase_owner(connection, account_id)           # every row of one owner (account deletion)

On PostgreSQL every transaction first names its owner
(``set_config('twitchwise.account_id', owner, true)``), and the row-level security of
migration ``0003`` refuses any other owner's rows even to a query that forgets its filter.
No code outside this module queries the journal's tables.
"""

from __future__ import annotations

import copy
import os
import stat
import time as _time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import QueuePool

from twitchwise.errors import ConfigError, InputError, JournalError
from twitchwise.journal.dates import EARLIEST, RULE, date_problem, latest, moment_problem
from twitchwise.journal.models import (
    LOCAL_OWNER,
    OWNED_TABLES,
    Base,
    CheckIn,
    Day,
    Episode,
    Experiment,
    ImportRecord,
    Workout,
)
from twitchwise.journal.records import (
    DAY_COLUMNS,
    Batch,
    DayFactors,
    EpisodeIn,
    ExperimentIn,
    FileInfo,
    ImportSummary,
    WorkoutIn,
)
from twitchwise.journal.rows import (
    DayRow,
    EpisodeRow,
    ExperimentRow,
    JournalData,
    WorkoutRow,
    day_row,
    stored,
)
from twitchwise.journal.settings import JournalSettings, PoolSettings, journal_settings
from twitchwise.journal.summary import EpisodeTally, JournalSummary

__all__ = [
    "HEAD_REVISION",
    "LOCAL_OWNER",
    "OWNER_SETTING",
    "DayRow",
    "EpisodeRow",
    "FileInfo",
    "ImportSummary",
    "Journal",
    "JournalData",
    "JournalStream",
    "JournalSummary",
    "PoolUse",
    "WorkoutRow",
    "erase_owner",
    "open_journal",
]

#: The newest migration; opening a journal at this revision skips Alembic entirely.
HEAD_REVISION = "0004"
#: The revisions before rows had owners: a journal at one of them holds the local person's
#: rows only.
UNOWNED_REVISIONS = frozenset({"0001", "0002"})
#: The PostgreSQL setting that names a transaction's owner; the policies of migration
#: ``0003`` (and the accounts' of ``a0002``) read it.
OWNER_SETTING = "twitchwise.account_id"
MIGRATIONS = "twitchwise.journal:migrations"
#: The source a hand-logged value has; imports never overwrite such a value.
LOGGED = "log"
#: ``days.sources[TWITCHES]`` is what a daily CSV said of the day's twitches: the file's
#: format when it gave a count (0 included), NOT_RECORDED when it left the cell blank.
TWITCHES = "twitches"
NOT_RECORDED = "not recorded"
_CHUNK = 500
_T = TypeVar("_T")

#: How long SQLite itself waits for the write lock at each attempt (``PRAGMA busy_timeout``).
BUSY_TIMEOUT_MS = 5000
#: How long, in all, a writer waits for the write lock before it gives up (seconds). An import
#: holds the lock for its whole (all-or-nothing) write; this bound is far longer than the
#: longest import takes, so an entry made during an import waits and lands instead of being
#: lost. Documented in docs/journal.md ("Waiting for the write lock").
WRITE_WAIT_S = 600.0
#: The pause between attempts doubles from the first to the last (seconds).
_RETRY_FIRST_S = 0.05
_RETRY_MAX_S = 2.0
_SQLITE_BUSY = 5


@dataclass(frozen=True, slots=True)
class PoolUse:
    """The connections of a journal's engine at one moment: ``checked_out`` (in use by a
    request), ``idle`` (open in the pool, ready), ``overflow`` (open beyond the pool's size)
    and ``limit``, the most it may open (size plus max overflow)."""

    checked_out: int
    idle: int
    overflow: int
    limit: int


def open_journal(
    settings: JournalSettings | None = None, *, owner: uuid.UUID = LOCAL_OWNER
) -> Journal:
    """Open the journal of ``owner`` (the local person's by default), creating and migrating
    the database as needed. For more owners on the same database, use
    :meth:`Journal.for_owner` on the journal this returns: it shares the engine."""
    return Journal(settings or journal_settings(), owner=owner)


class Journal:
    """One owner's journal in one database. Use as a context manager, or call :meth:`close`.

    ``Journal(settings)`` opens (and migrates) the database with an engine of its own;
    :meth:`for_owner` gives another owner's journal on that same engine.
    """

    def __init__(self, settings: JournalSettings, *, owner: uuid.UUID = LOCAL_OWNER) -> None:
        self.settings = settings
        self.where = settings.where
        #: Whose rows this journal reads and writes (the only ones it ever touches).
        self.owner = _checked_owner(owner)
        #: Called once per write that has to wait for another writer (say, to tell the user).
        self.on_wait: Callable[[], None] | None = None
        #: Whether :meth:`close` disposes of the engine: not for one from :meth:`for_owner`.
        self._owns_engine = True
        if settings.path is not None:
            _create_private_file(settings.path)
        try:
            self.engine = _engine(settings.url, settings.pool)
        except (SQLAlchemyError, ImportError) as exc:
            raise ConfigError(
                f"TWITCHWISE_DATABASE_URL {self.where!r} cannot be used: "
                f"{str(exc).splitlines()[0]}; give a SQLAlchemy URL whose driver is installed"
            ) from exc
        try:
            migrate(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise self._error("open", exc) from exc
        except JournalError:
            self.engine.dispose()
            raise
        self._postgres = self.engine.dialect.name == "postgresql"
        self._secure_side_files()

    # ------------------------------------------------------------------ lifecycle

    def for_owner(self, owner: uuid.UUID) -> Journal:
        """The journal of ``owner`` in the same database, on this journal's engine and its
        connection pool: nothing is opened, checked or migrated, so it is cheap enough to take
        per request. It is usable while this journal is open; closing it closes nothing."""
        other = copy.copy(self)
        other.owner = _checked_owner(owner)
        other._owns_engine = False
        return other

    def close(self) -> None:
        """Dispose of the engine (when this journal opened it) and check the side files."""
        if self._owns_engine:
            self.engine.dispose()
        self._secure_side_files()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pool_use(self) -> PoolUse | None:
        """How the engine's connections are used now (for metrics), or None when it keeps no
        pool of connections (an in-memory SQLite database). Shared with :meth:`for_owner`'s
        journals, which use the same engine."""
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return None
        return PoolUse(
            checked_out=pool.checkedout(),
            idle=pool.checkedin(),
            # SQLAlchemy counts the overflow from -size: below 0 while the pool is not full
            overflow=max(0, pool.overflow()),
            limit=self.settings.pool.limit,  # the pool was made with it (or its defaults)
        )

    def ping(self) -> None:
        """Ask the database a trivial query (``SELECT 1``); ``JournalError`` when it does not
        answer (a server's readiness check)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1")).scalar()
        except SQLAlchemyError as exc:
            raise self._error("read", exc) from exc

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        A write transaction takes SQLite's write lock at its start (``BEGIN IMMEDIATE``), so
        it never fails half-way for want of it; readers do not wait for writers (WAL). While
        another writer (a long import) holds the lock, it waits: SQLite's ``busy_timeout`` at
        each attempt, then again after a pause that doubles, for up to :data:`WRITE_WAIT_S` in
        all, so an entry is not lost to an import.

        On PostgreSQL the transaction first names the journal's owner
        (:data:`OWNER_SETTING`, local to the transaction): row-level security shows it that
        owner's rows only.
        """
        bind = self.engine.execution_options(twitchwise_write=write)
        try:
            session, begun = _begin(bind, write, self.on_wait)
            with session, begun:
                if self._postgres:
                    _name_owner(session.connection(), self.owner)
                yield session
        except SQLAlchemyError as exc:
            raise self._error("write" if write else "read", exc) from exc
        finally:
            self._secure_side_files()

    def _error(self, verb: str, exc: Exception) -> JournalError:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        hint = ""
        if "locked" in detail or "busy" in detail:
            hint = "; another twitchwise may be writing it, try again in a moment"
        elif "readonly" in detail or "permission" in detail.lower():
            hint = "; check that you own the file (or set TWITCHWISE_HOME)"
        elif "not a database" in detail:
            hint = "; move that file away, or set TWITCHWISE_HOME to another folder"
        return JournalError(f"could not {verb} the journal at {self.where}: {detail}{hint}")

    def _secure_side_files(self) -> None:
        path = self.settings.path
        if path is None or os.name == "nt":
            return
        for suffix in ("-wal", "-shm", "-journal"):
            side = path.with_name(path.name + suffix)
            try:
                mode = stat.S_IMODE(side.stat().st_mode)
                if mode & 0o077:
                    side.chmod(0o600)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise JournalError(f"could not make {side} private: {exc}") from exc

    # ------------------------------------------------------------------ entries

    def add_episode(self, episode: EpisodeIn) -> int:
        """Record one episode; returns its id."""
        return self.log([episode])[0]

    def set_day(self, day: date, factors: DayFactors, source: str = LOGGED) -> DayFactors:
        """Set the given factors of ``day`` (others are kept); returns the whole day."""
        self.log([], day, factors, source)
        found = self.get_day(day)
        assert found is not None
        return found

    def log(
        self,
        episodes: Sequence[EpisodeIn],
        day: date | None = None,
        factors: DayFactors | None = None,
        source: str = LOGGED,
    ) -> list[int]:
        """Episodes and one day's factors in ONE transaction; returns the episodes' ids."""
        values = factors.checked().values() if factors is not None else {}
        for i, e in enumerate(episodes):
            _check_dates(f"episode {i + 1}", e.day, e.at)
        if day is not None:
            _check_dates("date", day)
        owner = self.owner
        with self.transaction() as session:
            rows = [Episode(**_episode_row(e, owner, import_id=None)) for e in episodes]
            session.add_all(rows)
            if day is not None and values:
                row = session.scalars(
                    select(Day).where(Day.owner_id == owner, Day.date == day)
                ).one_or_none()
                if row is None:
                    row = Day(owner_id=owner, date=day, sources={}, updated_at=_now())
                    session.add(row)
                sources = dict(row.sources or {})
                for name, value in values.items():
                    setattr(row, name, value)
                    sources[name] = source
                row.sources = sources
                row.updated_at = _now()
            session.flush()
            return [r.id for r in rows]

    def get_day(self, day: date) -> DayFactors | None:
        with self.transaction(write=False) as session:
            row = session.scalars(
                select(Day).where(Day.owner_id == self.owner, Day.date == day)
            ).one_or_none()
            return None if row is None else _day_factors(row)

    # ------------------------------------------------------------------ imports

    def imported(self, fingerprint: str) -> datetime | None:
        """When a file with this fingerprint was imported, or None."""
        with self.transaction(write=False) as session:
            return session.scalars(
                select(ImportRecord.imported_at).where(
                    ImportRecord.owner_id == self.owner, ImportRecord.fingerprint == fingerprint
                )
            ).one_or_none()

    def import_files(self, items: Sequence[tuple[FileInfo, Batch]]) -> list[ImportSummary]:
        """Write every batch in ONE transaction: all of them are added, or none.

        A file imported before (same fingerprint) adds nothing; within a file, workouts
        already known (same start), episodes already present (same ``uid``, or the day
        already has as many as a CSV says) and hand-logged factors are kept as they are.
        """
        for info, batch in items:
            _check_batch(info, batch)
        summaries: list[ImportSummary] = []
        with self.transaction() as session:
            for info, batch in items:
                summaries.append(_import_one(session, self.owner, info, batch))
        return summaries

    # ------------------------------------------------------------------ read, forget

    def counts(self) -> dict[str, int]:
        """How many episodes, workouts, days and imports the owner has."""
        with self.transaction(write=False) as session:
            return {name: _count(session, model, self.owner) for name, model in _TABLES}

    def read(self) -> JournalData:
        """Every episode, day and workout, oldest first, as typed rows (:mod:`.rows`).

        A row whose date breaks the date rule, or is not a date at all (a journal written
        before the rule, or edited by hand), is left out and named in ``problems``: the rest
        of the journal still reads, charts, reports and exports.

        This holds the whole journal in memory (about 0.4 kB an episode); what needs less
        streams instead: :meth:`summary`, :meth:`stream`, :meth:`episode_page`.
        """
        problems: list[str] = []
        owner = self.owner
        with self.transaction(write=False) as session:
            episodes = list(_episodes(session, owner, problems))
            days = _days(session, owner, problems)
            workouts = _workouts(session, owner, problems)
            experiments = _experiments(session, owner)
        return JournalData(episodes, days, workouts, problems, experiments)

    def summary(self, notes_days: int | None = None) -> JournalSummary:
        """What the insights, charts and reports need (:class:`JournalSummary`): the
        episodes counted per date, region and side as they stream past in chunks, the notes
        of the last ``notes_days`` days, the days and workouts; bad rows named as by
        :meth:`read`. The same as ``JournalSummary.of(journal.read(), notes_days)``, in
        memory that does not grow with the number of episodes."""
        problems: list[str] = []
        tally = EpisodeTally(notes_days)
        owner = self.owner
        with self.transaction(write=False) as session:
            _episode_counts(session, owner, problems, tally)
            days = _days(session, owner, problems)
            workouts = _workouts(session, owner, problems)
        return tally.summary(days, workouts, problems)

    @contextmanager
    def stream(self) -> Iterator[JournalStream]:
        """The journal to read once, in order, without holding it: inside the block,
        ``episodes()`` gives every episode one chunk at a time (as :meth:`read` orders and
        checks them), and ``days`` and ``workouts`` are lists. Everything is read in one
        transaction, so it is one consistent state of the journal however long it takes;
        ``problems`` names the rows left out (those of the episodes once they have been
        read)."""
        with self.transaction(write=False) as session:
            yield JournalStream(session, self.owner)

    def episode_page(self, offset: int = 0, limit: int = 100) -> tuple[list[EpisodeRow], int]:
        """The episodes from the ``offset``-th to ``limit`` more, oldest first (the order of
        :meth:`read`), and how many episodes the journal holds. A stored row outside the date
        rule counts for the offsets but is left out of its page."""
        with self.transaction(write=False) as session:
            total = _count(session, Episode, self.owner)
            rows = list(_episodes(session, self.owner, [], offset=offset, limit=limit))
        return rows, total

    def latest_episodes(self, n: int) -> list[EpisodeRow]:
        """The ``n`` latest episodes, latest first (the end of :meth:`read`'s, reversed)."""
        with self.transaction(write=False) as session:
            rows = _episodes(session, self.owner, [], latest_first=True)
            try:
                return list(islice(rows, max(n, 0)))
            finally:
                rows.close()

    def days(self) -> tuple[list[DayRow], list[str]]:
        """Every day's factors, oldest first, and the days left out for their date."""
        problems: list[str] = []
        with self.transaction(write=False) as session:
            return _days(session, self.owner, problems), problems

    # ------------------------------------------------------------------ experiments

    def start_experiment(
        self,
        *,
        kind: str,
        change: str | None,
        started_on: date,
        block_days: int,
        washout_days: int,
        schedule: str,
        seed: int,
        today: date,
    ) -> ExperimentRow:
        """Record a new experiment; an :class:`InputError` when another one is still running
        (checked in the same transaction, so two at once cannot both start)."""
        _check_dates("start", started_on)
        with self.transaction() as session:
            running_rows = select(Experiment).where(
                Experiment.owner_id == self.owner, Experiment.stopped_on.is_(None)
            )
            for row in session.scalars(running_rows):
                running = _experiment_row(row, {})
                if running.running(today):
                    raise InputError(
                        f"an experiment ({running.kind}, started {running.started_on}) is "
                        f"still running until {running.planned_end}; stop it first with "
                        "'twitchwise experiment stop'",
                        field="kind",
                    )
            new = Experiment(
                owner_id=self.owner,
                kind=kind,
                change=change,
                started_on=started_on,
                block_days=block_days,
                washout_days=washout_days,
                schedule=schedule,
                seed=seed,
                created_at=_now(),
            )
            session.add(new)
            session.flush()
            return _experiment_row(new, {})

    def experiments(self) -> list[ExperimentRow]:
        """Every experiment, oldest first, with its check-ins."""
        with self.transaction(write=False) as session:
            return _experiments(session, self.owner)

    def stop_experiment(self, experiment_id: int, day: date, reason: str | None) -> None:
        """Mark an experiment of the owner stopped on ``day`` (its last day); an
        :class:`InputError` when the owner has no such experiment."""
        with self.transaction() as session:
            row = _experiment(session, self.owner, experiment_id)
            row.stopped_on = day
            row.stop_reason = reason

    def check_in(self, experiment_id: int, day: date, followed: bool) -> None:
        """Whether the plan was kept on ``day`` (a second check-in for the day replaces it);
        an :class:`InputError` when the owner has no such experiment."""
        _check_dates("date", day)
        owner = self.owner
        with self.transaction() as session:
            _experiment(session, owner, experiment_id)
            row = session.scalars(
                select(CheckIn).where(
                    CheckIn.owner_id == owner,
                    CheckIn.experiment_id == experiment_id,
                    CheckIn.date == day,
                )
            ).one_or_none()
            if row is None:
                session.add(
                    CheckIn(
                        owner_id=owner,
                        experiment_id=experiment_id,
                        date=day,
                        followed=followed,
                        updated_at=_now(),
                    )
                )
            else:
                row.followed = followed
                row.updated_at = _now()

    def forget(self) -> dict[str, int]:
        """Delete every record of the owner and their import log; returns how many rows each
        table had. Other owners' rows are untouched.

        On SQLite the file is then vacuumed and the write-ahead log truncated, so the deleted
        entries do not linger in free pages.
        """
        with self.transaction() as session:
            deleted = _erase(session.connection(), self.owner)
        counts = {name: deleted[name] for name, _ in (*_TABLES, *_EXPERIMENT_TABLES)}
        if self.engine.dialect.name == "sqlite":
            import sqlite3

            raw = self.engine.raw_connection()
            try:  # outside any transaction: the driver does not start one (_sqlite_connect)
                raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            except sqlite3.Error as exc:
                raise self._error("compact", exc) from exc
            finally:
                raw.close()
                self._secure_side_files()
        return counts


def erase_owner(connection: Connection, owner: uuid.UUID) -> dict[str, int]:
    """Delete every journal row of ``owner`` in the transaction of ``connection`` (which the
    caller commits): how an account is deleted with everything of it. Returns how many rows
    each table lost.

    On PostgreSQL it names the owner in the transaction first (:data:`OWNER_SETTING`), as
    every transaction of a :class:`Journal` does. A database without the journal's tables, or
    with a journal from before owners (migration ``0003``), holds no row of any owner but the
    local one: nothing is deleted then, unless ``owner`` is :data:`LOCAL_OWNER`, which is
    refused (open the journal once to migrate it). A journal schema from a newer twitchwise is
    refused too.
    """
    owner = _checked_owner(owner)
    revision = _revision(connection)
    if revision is None or (revision in UNOWNED_REVISIONS and owner != LOCAL_OWNER):
        return {table.__tablename__: 0 for table in OWNED_TABLES}
    if revision != HEAD_REVISION:
        raise JournalError(
            f"the journal's schema is at revision {revision}, not {HEAD_REVISION}: open the "
            "journal with this twitchwise to migrate it (or upgrade twitchwise) first"
        )
    if connection.dialect.name == "postgresql":
        _name_owner(connection, owner)
    return _erase(connection, owner)


def _erase(connection: Connection, owner: uuid.UUID) -> dict[str, int]:
    """Delete the owner's rows of every table, children first; how many each had."""
    return {
        table.__tablename__: connection.execute(
            delete(table).where(table.__table__.c.owner_id == owner)
        ).rowcount
        for table in OWNED_TABLES
    }


def _checked_owner(owner: object) -> uuid.UUID:
    if not isinstance(owner, uuid.UUID):
        raise TypeError(f"a journal's owner is a uuid.UUID, not {owner!r}")
    return owner


def _name_owner(connection: Connection, owner: uuid.UUID) -> None:
    """Name the transaction's owner for PostgreSQL's row-level security (``SET LOCAL``)."""
    connection.execute(
        text("SELECT set_config(:name, :owner, true)"),
        {"name": OWNER_SETTING, "owner": str(owner)},
    )


def _count(session: Session, model: Any, owner: uuid.UUID) -> int:
    query = select(func.count()).select_from(model).where(model.owner_id == owner)
    return session.scalar(query) or 0


def _experiment(session: Session, owner: uuid.UUID, experiment_id: int) -> Experiment:
    """The owner's experiment with this id, else an :class:`InputError` (the same for one of
    another owner: it does not exist for this one)."""
    row = session.scalars(
        select(Experiment).where(Experiment.owner_id == owner, Experiment.id == experiment_id)
    ).one_or_none()
    if row is None:
        raise InputError(f"no experiment #{experiment_id}", field="experiment")
    return row


_TABLES: tuple[tuple[str, Any], ...] = (
    ("episodes", Episode),
    ("workouts", Workout),
    ("days", Day),
    ("imports", ImportRecord),
)
#: What :meth:`Journal.forget` also counts and deletes: the self-experiments and their
#: check-ins (not import records: an experiment is kept whatever file brought it).
_EXPERIMENT_TABLES: tuple[tuple[str, Any], ...] = (
    ("experiments", Experiment),
    ("experiment_days", CheckIn),
)


#: The columns read into a row after its id, date and time, in the order of the row's fields.
_EPISODE_COLUMNS = (Episode.uid, *(getattr(Episode, f.name) for f in fields(EpisodeRow)[3:]))
_WORKOUT_COLUMNS = tuple(getattr(Workout, f.name) for f in fields(WorkoutRow)[1:])
#: Rows fetched from the database at a time when a read streams.
STREAM_CHUNK = 2000


class JournalStream:
    """One read of the journal in one transaction (see :meth:`Journal.stream`)."""

    def __init__(self, session: Session, owner: uuid.UUID) -> None:
        self._session = session
        self._owner = owner
        self._episode_problems: list[str] = []
        self._other_problems: list[str] = []
        self.days = _days(session, owner, self._other_problems)
        self.workouts = _workouts(session, owner, self._other_problems)
        self.experiments = _experiments(session, owner)

    @property
    def problems(self) -> list[str]:
        """The rows left out for their date, named as :meth:`Journal.read` names them (the
        episodes' once :meth:`episodes` has been read to the end)."""
        return [*self._episode_problems, *self._other_problems]

    def episodes(self) -> Iterator[EpisodeRow]:
        """Every episode in order, one chunk of rows at a time; each call reads them again."""
        problems: list[str] = []
        yield from _episodes(self._session, self._owner, problems)
        self._episode_problems = problems


def _episodes(
    session: Session,
    owner: uuid.UUID,
    problems: list[str],
    *,
    offset: int = 0,
    limit: int | None = None,
    latest_first: bool = False,
) -> Generator[EpisodeRow, None, None]:
    """The episodes in :meth:`Journal.read`'s order (by time as stored, then id; reversed
    with ``latest_first``), fetched :data:`STREAM_CHUNK` rows at a time; each one outside the
    date rule is left out and named in ``problems``."""
    order = (Episode.at.desc(), Episode.id.desc()) if latest_first else (Episode.at, Episode.id)
    query = (
        select(Episode.id, _raw(Episode.local_date), _raw(Episode.at), *_EPISODE_COLUMNS)
        .where(Episode.owner_id == owner)
        .order_by(*order)
    )
    if offset or limit is not None:
        query = query.offset(offset).limit(limit)
    check = _date_checker(problems)
    for row_id, day_value, at_value, uid, *rest in _chunked(session, query):
        day, at = check(row_id, day_value, at_value)
        if day is not None and at is not None:
            yield EpisodeRow(uid, at, day, *rest)


def _chunked(session: Session, query: Any) -> Iterator[Any]:
    """The rows of ``query``, fetched :data:`STREAM_CHUNK` at a time (Core, not the ORM:
    plain tuples, a list of them per fetch)."""
    result = session.connection().execute(query.execution_options(yield_per=STREAM_CHUNK))
    for rows in result.partitions():
        yield from rows


def _episode_counts(
    session: Session, owner: uuid.UUID, problems: list[str], tally: EpisodeTally
) -> None:
    """Every episode into ``tally`` (what a summary keeps of it), in :func:`_episodes`'s
    order and with its checks, without making a row of each."""
    query = (
        select(
            Episode.id,
            _raw(Episode.local_date),
            _raw(Episode.at),
            Episode.region,
            Episode.side,
            Episode.intensity,
            Episode.note,
        )
        .where(Episode.owner_id == owner)
        .order_by(Episode.at, Episode.id)
    )
    check = _date_checker(problems)
    add = tally.add
    position = 0
    for row_id, day_value, at_value, region, side, intensity, note in _chunked(session, query):
        day, at = check(row_id, day_value, at_value)
        if day is not None and at is not None:
            add(position, day, at, region, side, intensity, note)
            position += 1


def _date_checker(
    problems: list[str],
) -> Callable[[int, object, object], tuple[date | None, datetime | None]]:
    """:func:`~twitchwise.journal.rows.stored` for an episode's stored date and time, quicker
    for the usual row (SQLite's text of a date and of a UTC time, within the date rule): the
    same values, and any other row goes to ``stored`` itself."""
    last = latest()
    days: dict[str, date | None] = {}

    def check(
        row_id: int, day_value: object, at_value: object
    ) -> tuple[date | None, datetime | None]:
        if type(day_value) is str and type(at_value) is str:
            if day_value in days:
                day = days[day_value]
            else:
                try:
                    day = date.fromisoformat(day_value)
                except ValueError:
                    day = None
                if day is not None and not EARLIEST <= day <= last:
                    day = None
                days[day_value] = day
            if day is not None:
                try:
                    # naive text is UTC; text with an offset fails here and goes to stored()
                    at = datetime.fromisoformat(at_value + "+00:00")
                except ValueError:
                    at = None
                if at is not None and EARLIEST <= at.date() <= last:
                    return day, at
        return stored(f"episode #{row_id}", day_value, at_value, problems)

    return check


def _days(session: Session, owner: uuid.UUID, problems: list[str]) -> list[DayRow]:
    days: list[DayRow] = []
    query = select(
        Day.id, _raw(Day.date), Day.sources, *(getattr(Day, c) for c in DAY_COLUMNS)
    ).where(Day.owner_id == owner)
    for row_id, day_value, sources, *values in session.execute(query.order_by(Day.date)):
        day, _ = stored(f"day #{row_id}", day_value, None, problems)
        if day is not None:
            columns: dict[str, Any] = dict(zip(DAY_COLUMNS, values, strict=True))
            columns["twitches_counted"] = _twitches_counted(sources)
            days.append(day_row(day, columns))
    return days


def _twitches_counted(sources: object) -> bool | None:
    """What a daily CSV said of the day's twitches (:attr:`DayRow.twitches_counted`), from
    the day's ``sources``."""
    mark = sources.get(TWITCHES) if isinstance(sources, dict) else None
    if mark is None:
        return None
    return bool(mark != NOT_RECORDED)


def _workouts(session: Session, owner: uuid.UUID, problems: list[str]) -> list[WorkoutRow]:
    workouts: list[WorkoutRow] = []
    query = select(Workout.id, _raw(Workout.start), *_WORKOUT_COLUMNS).where(
        Workout.owner_id == owner
    )
    for row_id, start_value, *values in session.execute(query.order_by(Workout.start)):
        _, start = stored(f"workout #{row_id}", None, start_value, problems)
        if start is not None:
            workouts.append(WorkoutRow(start, *values))
    return workouts


# ---------------------------------------------------------------------- dates


def _check_dates(what: str, day: date, moment: datetime | None = None) -> None:
    """:class:`InputError` when a date (or the date of a time) breaks the date rule."""
    problem = date_problem(day) or (moment_problem(moment) if moment is not None else None)
    if problem is not None:
        raise InputError(f"{what}: {problem}; {RULE}")


def _check_batch(info: FileInfo, batch: Batch) -> None:
    """The last check before an import writes: every date of the batch within the rule (the
    readers refuse such files already, naming the line)."""
    try:
        for i, e in enumerate(batch.episodes):
            _check_dates(f"episode {i + 1}", e.day, e.at)
        for day in [*batch.days, *batch.episode_counts]:
            _check_dates("date", day)
        for w in batch.workouts:
            _check_dates(f"workout starting {w.start.isoformat()}", w.start.date(), w.start)
        for x in batch.experiments:
            for day in [x.started_on, *([x.stopped_on] if x.stopped_on else []), *x.check_ins]:
                _check_dates(f"experiment starting {x.started_on}", day)
    except InputError as exc:
        raise InputError(f"cannot import {info.name}: {exc}; nothing was imported") from None


def _raw(column: Any) -> Any:
    """A date or time column as the database holds it: SQLite's text is parsed here, so
    that a row that is not a date at all can be named instead of failing the whole read."""
    return type_coerce(column, String)


# ---------------------------------------------------------------------- import writing


def _import_one(session: Session, owner: uuid.UUID, info: FileInfo, batch: Batch) -> ImportSummary:
    summary = ImportSummary(info.name, info.format, notes=list(batch.notes))
    before = session.scalars(
        select(ImportRecord.imported_at).where(
            ImportRecord.owner_id == owner, ImportRecord.fingerprint == info.fingerprint
        )
    ).one_or_none()
    if before is not None:
        summary.already_imported = before
        summary.notes = []
        return summary
    record = ImportRecord(
        owner_id=owner,
        fingerprint=info.fingerprint,
        name=info.name[:255],
        format=info.format,
        size_bytes=info.size_bytes,
        imported_at=_now(),
        rows_added=0,
    )
    session.add(record)
    session.flush()
    _add_workouts(session, owner, batch.workouts, record.id, summary)
    _merge_days(session, owner, batch.days, batch.format, summary)
    _add_episodes(session, owner, batch.episodes, record.id, summary)
    _add_counted_episodes(session, owner, batch.episode_counts, batch.format, record.id, summary)
    _mark_counted_days(session, owner, batch.episode_counts, batch.uncounted, batch.format)
    _add_experiments(session, owner, batch.experiments, summary)
    record.rows_added = summary.rows_added
    return summary


def _add_workouts(
    session: Session,
    owner: uuid.UUID,
    workouts: list[WorkoutIn],
    import_id: int,
    summary: ImportSummary,
) -> None:
    unique: dict[str, WorkoutIn] = {}
    for w in workouts:
        unique.setdefault(w.fingerprint, w)
    known: set[str] = set()
    for chunk in _chunks(list(unique)):
        known.update(
            session.scalars(
                select(Workout.fingerprint).where(
                    Workout.owner_id == owner, Workout.fingerprint.in_(chunk)
                )
            )
        )
    rows = [
        {
            "owner_id": owner,
            "start": w.start,
            "duration_s": w.duration_s,
            "sport": w.sport[:64],
            "distance_m": w.distance_m,
            "energy_kj": w.energy_kj,
            "avg_hr_bpm": w.avg_hr_bpm,
            "source_file": (w.source_file or "")[:255] or None,
            "fingerprint": fp,
            "import_id": import_id,
        }
        for fp, w in unique.items()
        if fp not in known
    ]
    if rows:
        session.execute(insert(_table("workouts")), rows)
    summary.workouts_added = len(rows)
    summary.workouts_known = len(workouts) - len(rows)


def _merge_days(
    session: Session,
    owner: uuid.UUID,
    days: dict[date, DayFactors],
    source: str,
    summary: ImportSummary,
) -> None:
    """New days are added; on known days a factor recorded by hand is kept, others replaced."""
    existing: dict[date, Day] = {}
    for chunk in _chunks(sorted(days)):
        for row in session.scalars(select(Day).where(Day.owner_id == owner, Day.date.in_(chunk))):
            existing[row.date] = row
    now = _now()
    new_rows: list[dict[str, Any]] = []
    for day, factors in sorted(days.items()):
        values = factors.values()
        if not values:
            continue
        known = existing.get(day)
        if known is None:
            new_rows.append(
                {
                    "owner_id": owner,
                    "date": day,
                    **{c: values.get(c) for c in DAY_COLUMNS},
                    "sources": dict.fromkeys(values, source),
                    "updated_at": now,
                }
            )
            continue
        sources = dict(known.sources or {})
        changed = False
        for name, value in values.items():
            if sources.get(name) == LOGGED and getattr(known, name) is not None:
                if getattr(known, name) != value:
                    summary.values_kept += 1
                continue
            if getattr(known, name) != value:
                setattr(known, name, value)
                sources[name] = source
                changed = True
        if changed:
            known.sources = sources
            known.updated_at = now
            summary.days_updated += 1
    if new_rows:
        session.execute(insert(_table("days")), new_rows)
    summary.days_added = len(new_rows)


def _mark_counted_days(
    session: Session, owner: uuid.UUID, counts: dict[date, int], blank: set[date], source: str
) -> None:
    """Keep what a daily CSV said of each day's twitches in the day's ``sources``
    (:data:`TWITCHES`): a count, 0 included, marks the day counted; a blank cell marks it
    not recorded, unless a count was given for it before. A day without a row gets one only
    when the mark says something its episodes cannot (a count of 0, or a blank)."""
    marks = {day: source for day in counts} | {day: NOT_RECORDED for day in blank}
    if not marks:
        return
    existing: dict[date, Day] = {}
    for chunk in _chunks(sorted(marks)):
        in_chunk = select(Day).where(Day.owner_id == owner, Day.date.in_(chunk))
        for known in session.scalars(in_chunk):
            existing[known.date] = known
    now = _now()
    new_rows: list[dict[str, Any]] = []
    for day, mark in sorted(marks.items()):
        row = existing.get(day)
        if row is None:
            if mark != NOT_RECORDED and counts[day] > 0:
                continue
            new_rows.append(
                {
                    "owner_id": owner,
                    "date": day,
                    **dict.fromkeys(DAY_COLUMNS),
                    "sources": {TWITCHES: mark},
                    "updated_at": now,
                }
            )
            continue
        sources = dict(row.sources or {})
        before = sources.get(TWITCHES)
        if before == mark or (mark == NOT_RECORDED and before is not None):
            continue
        sources[TWITCHES] = mark
        row.sources = sources
        row.updated_at = now
    if new_rows:
        session.execute(insert(_table("days")), new_rows)


def _add_episodes(
    session: Session,
    owner: uuid.UUID,
    episodes: list[EpisodeIn],
    import_id: int,
    summary: ImportSummary,
) -> None:
    with_uid = {e.uid or uuid.uuid4().hex: e for e in episodes}
    known: set[str] = set()
    for chunk in _chunks(list(with_uid)):
        known.update(
            session.scalars(
                select(Episode.uid).where(Episode.owner_id == owner, Episode.uid.in_(chunk))
            )
        )
    rows = [
        _episode_row(e, owner, import_id, uid) for uid, e in with_uid.items() if uid not in known
    ]
    if rows:
        session.execute(insert(_table("episodes")), rows)
    summary.episodes_added += len(rows)


def _add_counted_episodes(
    session: Session,
    owner: uuid.UUID,
    counts: dict[date, int],
    source: str,
    import_id: int,
    summary: ImportSummary,
) -> None:
    """Top each day up to the number of episodes the file gives for it."""
    have: dict[date, int] = {}
    days = sorted(d for d, n in counts.items() if n > 0)
    for chunk in _chunks(days):
        query = (
            select(Episode.local_date, func.count())
            .where(Episode.owner_id == owner, Episode.local_date.in_(chunk))
            .group_by(Episode.local_date)
        )
        have.update({day: n for day, n in session.execute(query).all()})
    uids: set[str] = set()
    for chunk in _chunks(days):
        prefixes = [Episode.uid.like(f"{source}-{d.isoformat()}-%") for d in chunk]
        uids.update(
            session.scalars(select(Episode.uid).where(Episode.owner_id == owner, or_(*prefixes)))
        )
    rows: list[dict[str, Any]] = []
    blank = {
        "owner_id": owner,
        "region": None,
        "side": None,
        "intensity": None,
        "duration_s": None,
        "note": None,
        "source": source,
        "import_id": import_id,
    }
    for day in days:
        missing = counts[day] - have.get(day, 0)
        noon = datetime.combine(day, time(12, 0), tzinfo=UTC)  # the time of day is unknown
        number = 0
        while missing > 0:
            number += 1
            uid = f"{source}-{day.isoformat()}-{number}"
            if uid in uids:
                continue
            rows.append({**blank, "uid": uid, "at": noon, "local_date": day})
            missing -= 1
    for chunk_rows in _chunks(rows, 5000):
        session.execute(insert(_table("episodes")), chunk_rows)
    summary.episodes_added += len(rows)


# ---------------------------------------------------------------------- helpers


def _episode_row(
    episode: EpisodeIn, owner: uuid.UUID, import_id: int | None, uid: str | None = None
) -> dict[str, Any]:
    return {
        "owner_id": owner,
        "public_id": episode.public_id or uuid.uuid4(),
        "uid": uid or episode.uid or uuid.uuid4().hex,
        "at": episode.at,
        "local_date": episode.day,
        "region": episode.region,
        "side": episode.side,
        "intensity": episode.intensity,
        "duration_s": episode.duration_s,
        "note": episode.note,
        "source": episode.source,
        "import_id": import_id,
    }


def _experiments(session: Session, owner: uuid.UUID) -> list[ExperimentRow]:
    """Every experiment of the owner, oldest first, with its check-ins."""
    check_ins: dict[int, dict[date, bool]] = {}
    query = select(CheckIn).where(CheckIn.owner_id == owner).order_by(CheckIn.date)
    for row in session.scalars(query):
        check_ins.setdefault(row.experiment_id, {})[row.date] = row.followed
    return [
        _experiment_row(row, check_ins.get(row.id, {}))
        for row in session.scalars(
            select(Experiment).where(Experiment.owner_id == owner).order_by(Experiment.id)
        )
    ]


def _add_experiments(
    session: Session, owner: uuid.UUID, experiments: list[ExperimentIn], summary: ImportSummary
) -> None:
    """Add each experiment the journal does not have (same kind, first day, schedule and
    seed); for one it has, add only the check-ins of days it has none for (a check-in
    logged here is kept)."""
    for x in experiments:
        row = session.scalars(
            select(Experiment).where(
                Experiment.owner_id == owner,
                Experiment.kind == x.kind,
                Experiment.started_on == x.started_on,
                Experiment.schedule == x.schedule,
                Experiment.seed == x.seed,
            )
        ).first()
        known: set[date] = set()
        if row is None:
            stored = {f.name: getattr(x, f.name) for f in fields(x) if f.name != "check_ins"}
            row = Experiment(owner_id=owner, **stored)
            session.add(row)
            session.flush()
            summary.experiments_added += 1
        else:
            known = set(
                session.scalars(
                    select(CheckIn.date).where(
                        CheckIn.owner_id == owner, CheckIn.experiment_id == row.id
                    )
                )
            )
        now = _now()
        for day, followed in sorted(x.check_ins.items()):
            if day not in known:
                session.add(
                    CheckIn(
                        owner_id=owner,
                        experiment_id=row.id,
                        date=day,
                        followed=followed,
                        updated_at=now,
                    )
                )
                summary.check_ins_added += 1


def _experiment_row(row: Experiment, check_ins: dict[date, bool]) -> ExperimentRow:
    return ExperimentRow(
        id=row.id,
        kind=row.kind,
        change=row.change,
        started_on=row.started_on,
        block_days=row.block_days,
        washout_days=row.washout_days,
        schedule=row.schedule,
        seed=row.seed,
        created_at=row.created_at,
        stopped_on=row.stopped_on,
        stop_reason=row.stop_reason,
        check_ins=check_ins,
    )


def _day_factors(row: Day) -> DayFactors:
    return day_row(row.date, {c: getattr(row, c) for c in DAY_COLUMNS}).factors


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _table(name: str) -> Table:
    """A Core table: bulk inserts skip the ORM's per-row bookkeeping."""
    return Base.metadata.tables[name]


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------- engine, migrations


def _create_private_file(path: Path) -> None:
    """The folder (0700 when created here) and the database file (0600) before SQLite."""
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            if os.name != "nt":
                folder.chmod(0o700)
        elif os.name != "nt" and folder.stat().st_mode & stat.S_IWOTH:
            raise JournalError(
                f"the journal's folder {folder} can be written by anyone; use a folder only "
                "you can write (chmod o-w it if it is yours, or set TWITCHWISE_HOME to another)"
            )
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        if os.name != "nt" and stat.S_IMODE(path.stat().st_mode) != 0o600:
            path.chmod(0o600)
    except OSError as exc:
        raise JournalError(
            f"could not create the journal at {path}: {exc.strerror or exc}; "
            "set TWITCHWISE_HOME to a folder you can write"
        ) from exc


def _engine(url: str, pool: PoolSettings | None = None) -> Engine:
    """An engine for ``url``; its connection pool as ``pool`` says (SQLAlchemy's by default).
    Only a pool of connections (``QueuePool``: a database server, a SQLite file) is sized: an
    in-memory SQLite database keeps SQLAlchemy's own."""
    engine = create_engine(url)
    if pool is not None and pool != PoolSettings() and isinstance(engine.pool, QueuePool):
        engine.dispose()  # nothing was connected yet: made again, with the pool's options
        engine = create_engine(url, **pool.engine_options())
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _begin(
    bind: Engine, write: bool, on_wait: Callable[[], None] | None = None
) -> tuple[Session, SessionTransaction]:
    """A session whose transaction has begun; a writer retries while the lock is taken.

    The transaction is begun here, before the caller's block runs, so that nothing of the
    block has to be run again: only ``BEGIN IMMEDIATE`` is retried. Each attempt waits up to
    :data:`BUSY_TIMEOUT_MS` inside SQLite; between attempts the pause doubles from
    ``_RETRY_FIRST_S`` to ``_RETRY_MAX_S``; after :data:`WRITE_WAIT_S` the error is raised.
    """
    deadline = _time.monotonic() + WRITE_WAIT_S
    pause = _RETRY_FIRST_S
    while True:
        session = Session(bind, expire_on_commit=False)
        try:
            begun = session.begin()
            session.connection()  # runs BEGIN (IMMEDIATE) now, not at the first statement
            return session, begun
        except OperationalError as exc:
            session.close()
            if not (write and _busy(exc)) or _time.monotonic() + pause > deadline:
                raise
            if on_wait is not None and pause == _RETRY_FIRST_S:
                on_wait()
        except BaseException:
            session.close()
            raise
        _time.sleep(pause)
        pause = min(pause * 2, _RETRY_MAX_S)


def _busy(exc: OperationalError) -> bool:
    """Whether the error is SQLite's "database is locked" (SQLITE_BUSY)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_BUSY
    detail = str(exc.orig).lower()
    return "database is locked" in detail or "database is busy" in detail


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are started explicitly (_sqlite_begin), not by the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA secure_delete = ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A writer takes the lock at the start: no lock upgrade can fail half-way through it.
    write = connection.get_execution_options().get("twitchwise_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def current_revision(engine: Engine) -> str | None:
    """The journal's migration the database is at, or None before the first."""
    with engine.connect() as conn:
        return _revision(conn)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``), in one transaction.

    On SQLite the migrations run with foreign keys off, as SQLite's own procedure for changing
    a table asks: a table is changed by copying it and dropping the old one, and with them on,
    dropping ``imports`` would clear every episode's and workout's link to its import (and
    dropping ``experiments`` would delete the check-ins). Every reference is checked
    (``PRAGMA foreign_key_check``) before the transaction commits, and foreign keys are on
    again afterwards.
    """
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            _sqlite_foreign_keys(conn, on=False)
        try:
            with conn.execution_options(twitchwise_write=True).begin():
                config.attributes["connection"] = conn
                try:
                    command.upgrade(config, "head")
                except CommandError as exc:
                    raise JournalError(
                        f"the journal's schema is unknown to this twitchwise ({exc}); "
                        "it was probably written by a newer version: upgrade twitchwise"
                    ) from exc
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise JournalError(
                            f"migrating the journal would leave {len(broken)} references to "
                            f"rows that are not there (the first in {broken[0][0]}); "
                            "nothing was changed"
                        )
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    """Turn SQLite's foreign keys on or off for this connection: outside any transaction (the
    driver starts none, see :func:`_sqlite_connect`), where the pragma has its effect."""
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
