"""The journal per person, on SQLite and on PostgreSQL: every row has its owner, a ``Journal``
reads and writes one owner's rows only, keys are unique per owner, and migration ``0003``
upgrades a journal that holds data (giving it the local owner) and back.

Row-level security on PostgreSQL, the second wall, is in tests/test_journal_rls.py; deleting an
account with its journal in tests/test_server_accounts.py.
"""

from __future__ import annotations

import ast
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from owned_rows import DAY, FINGERPRINT, NEXT, TABLES, fill, owners_of, swapped, view
from server_db import database
from twitchwise.errors import InputError, JournalError
from twitchwise.journal import store
from twitchwise.journal.models import LOCAL_OWNER
from twitchwise.journal.records import Batch, DayFactors, EpisodeIn, FileInfo
from twitchwise.journal.settings import JournalSettings
from twitchwise.journal.store import (
    HEAD_REVISION,
    MIGRATIONS,
    erase_owner,
    open_journal,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "twitchwise"
ANN = uuid.UUID("a0000000-0000-4000-8000-00000000000a")
BOB = uuid.UUID("b0000000-0000-4000-8000-00000000000b")
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


@dataclass
class Where:
    """A fresh database for a journal: its settings (a SQLite file, or a PostgreSQL schema)."""

    settings: JournalSettings

    @property
    def url(self) -> str:
        return self.settings.url


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Where]:
    with database(request.param, tmp_path) as url:
        path = tmp_path / "accounts.sqlite" if request.param == "sqlite" else None
        yield Where(JournalSettings(url, path))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Import and creation times from one clock, so two people's views can be compared."""
    monkeypatch.setattr(store, "_now", lambda: NOW)


def alembic(engine: Engine, command_name: str, revision: str) -> None:
    """Run the journal's migrations up or down to ``revision`` on ``engine``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, command_name)(config, revision)


def key(engine: Engine, owner: uuid.UUID) -> object:
    """An owner as a bound parameter of hand-written SQL (SQLite keeps 32 hex digits)."""
    return owner.hex if engine.dialect.name == "sqlite" else owner


# ---------------------------------------------------------------------- isolation


def test_two_owners_never_see_each_other(where: Where) -> None:
    with open_journal(where.settings, owner=ANN) as root:
        ann, bob = root, root.for_owner(BOB)
        empty = view(bob)
        assert empty["counts"] == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}
        ann_summaries = fill(ann, "ANN")
        ann_view = view(ann)
        assert view(bob) == empty  # ann's rows are not bob's
        # the same day, file, uids, workout and experiment are bob's own: nothing is known
        bob_summaries = fill(bob, "BOB")
        assert bob_summaries == ann_summaries
        assert bob_summaries[0].already_imported is None and bob_summaries[0].rows_added > 0
        assert view(ann) == ann_view  # bob's writes changed nothing of ann's
        bob_view = view(bob)
        assert repr(bob_view) == swapped(ann_view, "ANN", "BOB")
        assert "BOB" not in repr(ann_view) and "ANN" not in repr(bob_view)
        assert ann.get_day(DAY) == DayFactors(caffeine_mg=200, medicines=("ANN pill",))
        for table in TABLES:  # every table holds both, as many rows each, under their owners
            found = owners_of(root.engine, table)
            assert set(found) == {ANN, BOB} and found[ANN] == found[BOB], table


def test_an_experiment_of_another_owner_is_not_there(where: Where) -> None:
    with open_journal(where.settings, owner=ANN) as ann:
        fill(ann, "ANN")
        theirs = ann.experiments()[-1]
        bob = ann.for_owner(BOB)
        with pytest.raises(InputError, match=f"no experiment #{theirs.id}"):
            bob.check_in(theirs.id, date(2026, 2, 3), True)
        with pytest.raises(InputError, match=f"no experiment #{theirs.id}"):
            bob.stop_experiment(theirs.id, date(2026, 2, 3), "not mine")
        assert ann.experiments()[-1] == theirs
        assert bob.experiments() == []
        # a running experiment of ann's does not stop bob from starting one
        ann.start_experiment(kind="sleep", change=None, started_on=date(2026, 3, 1),
                             block_days=7, washout_days=1, schedule="AB", seed=1,
                             today=date(2026, 3, 1))  # fmt: skip
        bob.start_experiment(kind="sleep", change=None, started_on=date(2026, 3, 1),
                             block_days=7, washout_days=1, schedule="AB", seed=1,
                             today=date(2026, 3, 1))  # fmt: skip


def test_the_same_day_and_the_same_file_once_per_owner(where: Where) -> None:
    info = FileInfo("a.json", FINGERPRINT, 1, "json")
    batch = Batch("json", days={DAY: DayFactors(stress=3)})
    with open_journal(where.settings) as local:
        ann, bob = local.for_owner(ANN), local.for_owner(BOB)
        for journal in (local, ann, bob):
            (first,) = journal.import_files([(info, batch)])
            assert first.already_imported is None and first.days_added == 1
            (again,) = journal.import_files([(info, batch)])
            assert again.already_imported == NOW
            journal.log([EpisodeIn(at=NOW, day=DAY, uid="u1")], DAY, DayFactors(sleep_h=7))
        ann.set_day(DAY, DayFactors(sleep_h=5))
        assert [j.get_day(DAY) for j in (local, ann, bob)] == [
            DayFactors(stress=3, sleep_h=7),
            DayFactors(stress=3, sleep_h=5),
            DayFactors(stress=3, sleep_h=7),
        ]
        for journal in (local, ann, bob):
            assert journal.counts() == {"episodes": 1, "workouts": 0, "days": 1, "imports": 1}
        # the database itself keeps the keys unique per owner
        with pytest.raises(JournalError), ann.transaction() as session:
            session.execute(
                text("INSERT INTO days (owner_id, date, sources, updated_at) "
                     "VALUES (:owner, :day, '{}', :now)"),
                {"owner": key(ann.engine, ANN), "day": DAY, "now": NOW},
            )  # fmt: skip


def test_a_daily_csvs_counts_mark_the_importers_own_days(where: Where) -> None:
    with open_journal(where.settings, owner=ANN) as ann:
        bob = ann.for_owner(BOB)
        ann.set_day(DAY, DayFactors(stress=2))
        counts = Batch("csv", episode_counts={DAY: 0}, uncounted={NEXT})
        bob.import_files([(FileInfo("c.csv", "c" * 64, 1, "csv"), counts)])
        assert [(d.date, d.twitches_counted) for d in ann.days()[0]] == [(DAY, None)]
        assert [(d.date, d.twitches_counted) for d in bob.days()[0]] == [
            (DAY, True),
            (NEXT, False),
        ]


def test_forget_leaves_the_other_owners_rows(where: Where) -> None:
    with open_journal(where.settings, owner=ANN) as ann:
        bob = ann.for_owner(BOB)
        fill(ann, "ANN")
        fill(bob, "BOB")
        bob_view = view(bob)
        ann_counts = {table: owners_of(ann.engine, table)[ANN] for table in TABLES}
        forgotten = ann.forget()
        assert forgotten == {
            "episodes": ann_counts["episodes"], "workouts": 1, "days": 3, "imports": 1,
            "experiments": 2, "experiment_days": 2,
        }  # fmt: skip
        assert view(bob) == bob_view
        assert ann.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}
        for table in TABLES:
            assert set(owners_of(ann.engine, table)) == {BOB}, table


def test_erase_owner_deletes_one_owner_in_the_callers_transaction(where: Where) -> None:
    with open_journal(where.settings, owner=ANN) as ann:
        bob = ann.for_owner(BOB)
        fill(ann, "ANN")
        fill(bob, "BOB")
        bob_view = view(bob)
        before = {table: owners_of(ann.engine, table)[ANN] for table in TABLES}
        with ann.engine.connect() as conn, conn.begin() as transaction:  # rolled back
            assert erase_owner(conn, ANN) == before
            transaction.rollback()
        assert {table: owners_of(ann.engine, table)[ANN] for table in TABLES} == before
        with ann.engine.begin() as conn:
            assert erase_owner(conn, ANN) == before
        assert all(owners_of(ann.engine, table)[ANN] == 0 for table in TABLES)
        assert view(bob) == bob_view


def test_erase_owner_without_a_journal_or_before_owners(where: Where) -> None:
    engine = store._engine(where.url)
    try:
        with engine.begin() as conn:  # no journal in this database at all
            assert erase_owner(conn, ANN) == dict.fromkeys(TABLES, 0)
        alembic(engine, "upgrade", "0002")
        with engine.begin() as conn:  # a journal from before owners: only the local person's
            assert erase_owner(conn, ANN) == dict.fromkeys(TABLES, 0)
            with pytest.raises(JournalError, match="revision 0002"):
                erase_owner(conn, LOCAL_OWNER)
        with pytest.raises(TypeError, match="uuid"), engine.begin() as conn:
            erase_owner(conn, str(ANN))  # type: ignore[arg-type]
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- the Journal API


def test_for_owner_shares_the_engine_and_closes_nothing(where: Where) -> None:
    root = open_journal(where.settings)
    assert root.owner == LOCAL_OWNER
    try:
        with root.for_owner(ANN) as ann:
            assert ann.engine is root.engine and ann.owner == ANN and root.owner == LOCAL_OWNER
            ann.add_episode(EpisodeIn(at=NOW, day=DAY))
        # closing ann's journal left the shared engine (and its pool) open for everyone
        assert root.for_owner(ANN).counts()["episodes"] == 1
        assert root.counts()["episodes"] == 0
        with pytest.raises(TypeError, match="uuid"):
            root.for_owner(str(ANN))  # type: ignore[arg-type]
    finally:
        root.close()
    with open_journal(where.settings, owner=ANN) as ann:  # its own engine, the same rows
        assert ann.counts()["episodes"] == 1


def test_the_local_journal_is_the_local_owners(home: Path) -> None:
    """open_journal() with no owner is the local app's journal, as before: its rows are the
    local owner's, also when written by hand without an owner."""
    with open_journal() as journal:
        journal.add_episode(EpisodeIn(at=NOW, day=DAY, uid="by-the-app"))
        with journal.transaction() as session:
            session.execute(
                text("INSERT INTO episodes (uid, at, local_date, source) "
                     "VALUES ('by-hand', '2026-03-01 10:00:00', '2026-03-01', 'log')")
            )  # fmt: skip
        assert [e.uid for e in journal.read().episodes] == ["by-hand", "by-the-app"]
        assert owners_of(journal.engine, "episodes") == {LOCAL_OWNER: 2}


def test_no_code_outside_the_repository_uses_the_journals_tables() -> None:
    """Only the store (and the migrations' environment) import the journal's table models:
    no route, command or use case can build a query of its own."""
    tables = {"Episode", "Day", "Workout", "ImportRecord", "Experiment", "CheckIn", "Base",
              "OWNED_TABLES"}  # fmt: skip
    allowed = {"journal/store.py", "journal/models.py", "journal/migrations/env.py"}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "twitchwise.journal.models":
                used = {alias.name for alias in node.names} & tables
                if used and rel not in allowed:
                    found.append(f"{rel}: {sorted(used)}")
    assert found == []


# ---------------------------------------------------------------------- migration 0003


def _old_journal(engine: Engine) -> None:
    """A journal at revision 0002 holding one of everything, linked as the store links it."""
    alembic(engine, "upgrade", "0002")
    the_import = "(SELECT id FROM imports WHERE fingerprint = 'fp')"
    rows = [
        "INSERT INTO imports (fingerprint, name, format, size_bytes, imported_at, rows_added) "
        "VALUES ('fp', 'old.fit', 'fit', 10, '2026-01-01 10:00:00', 2)",
        "INSERT INTO episodes (uid, at, local_date, note, source, import_id) "
        f"VALUES ('old-1', '2026-01-01 10:00:00', '2026-01-01', 'kept', 'log', {the_import})",
        "INSERT INTO episodes (uid, at, local_date, source) "
        "VALUES ('old-2', '2026-01-02 10:00:00', '2026-01-02', 'log')",
        "INSERT INTO workouts (start, duration_s, sport, fingerprint, import_id) "
        f"VALUES ('2026-01-01 07:00:00', 600, 'run', 'w1', {the_import})",
        "INSERT INTO days (date, caffeine_mg, sources, updated_at) "
        "VALUES ('2026-01-01', 150, '{\"caffeine_mg\": \"log\"}', '2026-01-01 10:00:00')",
        "INSERT INTO experiments (kind, started_on, block_days, washout_days, schedule, seed, "
        "created_at) VALUES ('caffeine', '2025-12-01', 7, 1, 'ABBA', 5, '2025-12-01 09:00:00')",
        "INSERT INTO experiment_days (experiment_id, date, followed, updated_at) "
        "VALUES ((SELECT id FROM experiments), '2025-12-02', true, '2025-12-02 09:00:00')",
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(text(row))


def test_an_upgrade_keeps_every_row_and_gives_it_the_local_owner(where: Where) -> None:
    engine = store._engine(where.url)
    try:
        _old_journal(engine)
    finally:
        engine.dispose()
    with open_journal(where.settings) as journal:
        assert store.current_revision(journal.engine) == HEAD_REVISION
        for table in TABLES:
            assert owners_of(journal.engine, table) == {LOCAL_OWNER: 2 if table == "episodes"
                                                        else 1}, table  # fmt: skip
        with journal.engine.connect() as conn:  # copying the tables kept every link
            the_import = conn.execute(text("SELECT id FROM imports")).scalar()
            links = conn.execute(text("SELECT uid, import_id FROM episodes ORDER BY uid")).all()
            assert [tuple(r) for r in links] == [("old-1", the_import), ("old-2", None)]
            assert conn.execute(text("SELECT import_id FROM workouts")).scalar() == the_import
        data = journal.read()
        assert [e.note for e in data.episodes] == ["kept", None]
        assert data.days[0].factors.caffeine_mg == 150
        assert [(x.kind, x.check_ins) for x in data.experiments] == [
            ("caffeine", {date(2025, 12, 2): True})
        ]
        assert journal.imported("fp") is not None
        # the keys are now per owner: another person may have the same ones
        other = journal.for_owner(ANN)
        (summary,) = other.import_files([(FileInfo("old.fit", "fp", 10, "fit"), Batch("fit"))])
        assert summary.already_imported is None
        other.log([EpisodeIn(at=NOW, day=date(2026, 1, 1), uid="old-1")], date(2026, 1, 1),
                  DayFactors(caffeine_mg=10))  # fmt: skip
        assert journal.counts() == {"episodes": 2, "workouts": 1, "days": 1, "imports": 1}


def test_a_migration_that_would_break_a_reference_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    settings = JournalSettings(f"sqlite:///{path}", path)
    engine = store._engine(settings.url)
    try:
        alembic(engine, "upgrade", "0002")
    finally:
        engine.dispose()
    with sqlite3.connect(path) as conn:  # foreign keys off: a link to no import
        conn.execute("INSERT INTO episodes (uid, at, local_date, source, import_id) "
                     "VALUES ('u', '2026-01-01 10:00:00', '2026-01-01', 'log', 99)")  # fmt: skip
    with pytest.raises(JournalError, match="1 references to rows that are not there"):
        open_journal(settings)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0002",)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(episodes)")}
        assert "owner_id" not in columns


def test_a_downgrade_is_refused_while_other_owners_have_rows(where: Where) -> None:
    with open_journal(where.settings) as journal:
        journal.add_episode(EpisodeIn(at=NOW, day=DAY, uid="local"))
        journal.for_owner(ANN).add_episode(EpisodeIn(at=NOW, day=DAY, uid="ann's"))
        if journal.engine.dialect.name == "sqlite":  # copying tables with foreign keys on
            with pytest.raises(RuntimeError, match="foreign keys off"):
                alembic(journal.engine, "downgrade", "0002")
    engine = create_engine(where.url)  # SQLite: foreign keys off, as pysqlite starts
    try:
        alembic(engine, "downgrade", "0003")  # the public ids (0004) go whoever owns the rows
        with pytest.raises(RuntimeError, match="episodes holds 1 rows of other owners"):
            alembic(engine, "downgrade", "0002")
        assert store.current_revision(engine) == "0003"
        with open_journal(where.settings, owner=ANN) as ann:
            ann.forget()
        alembic(engine, "downgrade", "0002")
        assert "owner_id" not in {c["name"] for c in inspect(engine).get_columns("episodes")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT uid FROM episodes")).scalar() == "local"
    finally:
        engine.dispose()
    with open_journal(where.settings) as journal:  # and up again
        assert [e.uid for e in journal.read().episodes] == ["local"]


def test_row_level_security_is_on_only_on_postgresql(where: Where) -> None:
    with open_journal(where.settings) as journal:
        engine = journal.engine
        if engine.dialect.name != "postgresql":
            return
        with engine.connect() as conn:
            flags = {
                name: (on, forced)
                for name, on, forced in conn.execute(
                    text("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                         "WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace")
                )
            }  # fmt: skip
            policies = {
                tuple(row)
                for row in conn.execute(
                    text("SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies "
                         "WHERE schemaname = current_schema()")
                )
            }  # fmt: skip
    assert flags == {"alembic_version": (False, False)} | dict.fromkeys(TABLES, (True, True))
    assert {(table, name, cmd) for table, name, cmd, _, _ in policies} == {
        (table, f"{table}_own", "ALL") for table in TABLES
    }
    for *_, using, check in policies:
        assert using == check and "current_setting('twitchwise.account_id'::text, true)" in using
