"""The journal store: settings, owner-only files, WAL, migrations, transactions, forget."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from fixtures.journal.files import insert_bad_rows, journal_at, journal_settings_at
from twitchwise.errors import InputError, JournalError
from twitchwise.journal import settings as journal_settings_module
from twitchwise.journal import store
from twitchwise.journal.records import Batch, DayFactors, EpisodeIn, WorkoutIn
from twitchwise.journal.settings import SETTINGS, journal_settings
from twitchwise.journal.store import HEAD_REVISION, FileInfo, open_journal

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def episode(**changes: object) -> EpisodeIn:
    values: dict[str, object] = {"at": NOW, "day": NOW.date(), "region": "region_calf"}
    values.update(changes)
    return EpisodeIn(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- settings


def test_default_database_is_in_twitchwise_home(home: Path) -> None:
    settings = journal_settings()
    assert settings.path == home / "journal.sqlite"
    assert settings.url == f"sqlite:///{home / 'journal.sqlite'}"


def test_without_home_the_user_data_folder_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWITCHWISE_HOME", raising=False)
    monkeypatch.delenv("TWITCHWISE_DATABASE_URL", raising=False)
    from platformdirs import user_data_path

    assert journal_settings().path == user_data_path("twitchwise", appauthor=False) / (
        "journal.sqlite"
    )


def test_database_url_overrides_home(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "j.db"
    os.environ["TWITCHWISE_DATABASE_URL"] = f"sqlite:///{other}"
    try:
        settings = journal_settings()
        assert settings.path == other
        with open_journal() as journal:
            journal.add_episode(episode())
        assert other.exists()
        assert not home.exists()
    finally:
        del os.environ["TWITCHWISE_DATABASE_URL"]


def test_empty_variables_count_as_unset(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWITCHWISE_DATABASE_URL", "  ")
    assert journal_settings().path == home / "journal.sqlite"


def test_server_urls_have_no_file_and_hide_the_password() -> None:
    settings = journal_settings_module.JournalSettings(
        "postgresql+psycopg://ana:secret@db.example/twitchwise", None
    )
    assert "secret" not in settings.where
    assert journal_settings_module._sqlite_file("sqlite://") is None
    assert journal_settings_module._sqlite_file("sqlite:///:memory:") is None


@pytest.mark.parametrize(
    "url", ["not a url", "postgresql+nosuchdriver://u@localhost/db", "mysql+nosuchdb://x"]
)
def test_an_unusable_database_url_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    from twitchwise.errors import ConfigError

    monkeypatch.setenv("TWITCHWISE_DATABASE_URL", url)
    with pytest.raises(ConfigError, match="TWITCHWISE_DATABASE_URL") as info:
        open_journal()
    assert "\n" not in str(info.value)


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "journal.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.name}`" in doc, f"document {setting.name} in docs/journal.md"


# ---------------------------------------------------------------------- files and pragmas


def test_folder_is_0700_and_file_0600(home: Path) -> None:
    with open_journal() as journal:
        journal.add_episode(episode())
        assert mode(home) == 0o700
        db = home / "journal.sqlite"
        assert mode(db) == 0o600
        for suffix in ("-wal", "-shm"):
            side = db.with_name(db.name + suffix)
            if side.exists():
                assert mode(side) == 0o600, suffix
    assert mode(home / "journal.sqlite") == 0o600


def test_wal_and_shm_files_are_owner_only_even_with_a_loose_umask(home: Path) -> None:
    old = os.umask(0)
    try:
        with open_journal() as journal:
            journal.add_episode(episode())  # the pooled connection keeps the WAL open
            db = home / "journal.sqlite"
            sides = [db.with_name(db.name + s) for s in ("-wal", "-shm")]
            assert any(p.exists() for p in sides)
            for side in sides:
                if side.exists():
                    assert mode(side) == 0o600, side.name
    finally:
        os.umask(old)


def test_readers_do_not_wait_for_a_writer(home: Path) -> None:
    with open_journal() as journal:
        journal.add_episode(episode())
        with journal.transaction() as session:  # holds the write lock
            session.execute(text("DELETE FROM days"))
            with open_journal() as other:
                assert other.counts()["episodes"] == 1
                assert len(other.read().episodes) == 1


def test_an_existing_loose_database_file_is_made_private(home: Path) -> None:
    home.mkdir()
    db = home / "journal.sqlite"
    db.touch()
    db.chmod(0o644)
    with open_journal():
        pass
    assert mode(db) == 0o600


def test_an_existing_home_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with journal_at(folder, fresh=True):
        pass
    assert mode(folder) == 0o755
    assert mode(folder / "journal.sqlite") == 0o600


def test_wal_mode_and_foreign_keys_are_on(home: Path) -> None:
    with open_journal() as journal, journal.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_foreign_keys_are_enforced(home: Path) -> None:
    with (
        open_journal() as journal,
        pytest.raises(JournalError) as info,
        journal.transaction() as session,
    ):
        session.execute(
            text(
                "INSERT INTO workouts (start, duration_s, sport, fingerprint, import_id) "
                "VALUES ('2026-01-01 10:00:00', 60, 'run', 'x', 999)"
            )
        )
    assert "FOREIGN KEY" in str(info.value)
    assert str(home / "journal.sqlite") in str(info.value)


def test_check_constraints_guard_the_tables(home: Path) -> None:
    with (
        open_journal() as journal,
        pytest.raises(JournalError, match="CHECK"),
        journal.transaction() as session,
    ):
        session.execute(
            text(
                "INSERT INTO episodes (uid, at, local_date, intensity, source) "
                "VALUES ('u', '2026-01-01 10:00:00', '2026-01-01', 9, 'log')"
            )
        )


def test_a_journal_that_cannot_be_created_is_a_one_line_journal_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(JournalError) as info:
        journal_at(blocker / "home", fresh=True)
    message = str(info.value)
    assert "\n" not in message
    assert "TWITCHWISE_HOME" in message


def test_a_file_that_is_not_a_database_is_a_journal_error(home: Path) -> None:
    home.mkdir()
    (home / "journal.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="could not open the journal"):
        open_journal()


# ---------------------------------------------------------------------- migrations


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_reach_head_and_match_the_models(home: Path, kind: str) -> None:
    """On SQLite and on PostgreSQL (a schema of its own; skipped when none answers)."""
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from server_db import pg_schema, pg_url
    from twitchwise.journal.models import Base
    from twitchwise.journal.settings import JournalSettings
    from twitchwise.journal.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
    with ExitStack() as stack:
        settings = None
        if kind == "postgresql":
            settings = JournalSettings(pg_url(stack.enter_context(pg_schema())), None)
        journal = stack.enter_context(open_journal(settings))
        conn = stack.enter_context(journal.engine.connect())
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            HEAD_REVISION
        )
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
        assert diff == []


def test_a_migrated_journal_opens_without_alembic(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_journal():
        pass
    import alembic.command

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("alembic ran on an up-to-date journal")

    monkeypatch.setattr(alembic.command, "upgrade", fail)
    with open_journal() as journal:
        assert journal.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}


def test_a_journal_from_a_newer_version_is_refused(home: Path) -> None:
    with open_journal() as journal, journal.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(JournalError, match="newer version"):
        open_journal()


def test_the_schema_is_portable_to_postgresql() -> None:
    """A later issue moves to PostgreSQL by changing the URL: the DDL must compile there."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    from twitchwise.journal.models import Base

    ddl = "\n".join(
        str(CreateTable(table).compile(dialect=postgresql.dialect()))
        for table in Base.metadata.sorted_tables
    )
    assert "TIMESTAMP WITH TIME ZONE" in ddl
    assert "sqlite" not in ddl.lower()


def test_migrations_ship_in_the_wheel() -> None:
    from hatchling.builders.wheel import WheelBuilder

    files = {f.distribution_path for f in WheelBuilder(str(ROOT)).recurse_included_files()}
    assert "twitchwise/journal/migrations/env.py" in files
    assert "twitchwise/journal/migrations/script.py.mako" in files
    versions = ROOT / "src" / "twitchwise" / "journal" / "migrations" / "versions"
    for script in versions.glob("*.py"):
        assert f"twitchwise/journal/migrations/versions/{script.name}" in files


# ---------------------------------------------------------------------- writing


def test_times_are_stored_in_utc_and_read_back_aware(home: Path) -> None:
    local = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=10)))
    with open_journal() as journal:
        journal.add_episode(episode(at=local, day=local.date()))
        (row,) = journal.read().episodes
    assert row.at == datetime(2026, 3, 1, 13, 30, tzinfo=UTC) and row.at.utcoffset() == timedelta(0)
    assert row.date == date(2026, 3, 1)  # the person's own date, not UTC's
    exported = row.to_dict()
    assert (exported["at"], exported["date"]) == ("2026-03-01T13:30:00+00:00", "2026-03-01")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        EpisodeIn(at=datetime(2026, 1, 1), day=date(2026, 1, 1))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"intensity": 6}, "intensity"),
        ({"intensity": 0}, "intensity"),
        ({"side": "up"}, "side"),
        ({"duration_s": -1.0}, "duration"),
    ],
)
def test_episode_values_are_checked(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        episode(**changes)


def test_set_day_upserts_and_keeps_other_factors(home: Path) -> None:
    day = date(2026, 3, 1)
    with open_journal() as journal:
        journal.set_day(day, DayFactors(caffeine_mg=200, sleep_h=6))
        result = journal.set_day(day, DayFactors(sleep_h=7.5, medicines=("sertraline",)))
        assert result == DayFactors(caffeine_mg=200, sleep_h=7.5, medicines=("sertraline",))
        assert journal.counts()["days"] == 1


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        (DayFactors(stress=11), "stress must be between 0 and 10"),
        (DayFactors(stress=2.5), "whole number"),  # type: ignore[arg-type]
        (DayFactors(sleep_h=25), "sleep_h"),
        (DayFactors(caffeine_mg=-1), "caffeine_mg"),
        (DayFactors(water_l=float("nan")), "water_l must be a number"),
    ],
)
def test_day_values_are_checked(home: Path, factors: DayFactors, message: str) -> None:
    with open_journal() as journal:
        with pytest.raises(InputError, match=message):
            journal.set_day(date(2026, 3, 1), factors)
        assert journal.counts()["days"] == 0


def test_log_is_one_transaction(home: Path) -> None:
    """A failure half-way leaves nothing: the first episode is rolled back with the rest."""
    with open_journal() as journal:
        first = episode(uid="same")
        with pytest.raises(JournalError, match="UNIQUE"):
            journal.log([first, episode(uid="same")], date(2026, 3, 1), DayFactors(sleep_h=5))
        assert journal.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}


def test_imports_keep_hand_logged_values_and_replace_imported_ones(home: Path) -> None:
    day = date(2026, 3, 1)

    def batch(mg: float, sleep: float) -> Batch:
        return Batch("csv", days={day: DayFactors(caffeine_mg=mg, sleep_h=sleep)})

    with open_journal() as journal:
        journal.set_day(day, DayFactors(caffeine_mg=100))
        (s1,) = journal.import_files([(FileInfo("a.csv", "a" * 64, 1, "csv"), batch(300, 6))])
        assert (s1.days_updated, s1.values_kept) == (1, 1)
        assert journal.get_day(day) == DayFactors(caffeine_mg=100, sleep_h=6)
        (s2,) = journal.import_files([(FileInfo("b.csv", "b" * 64, 1, "csv"), batch(300, 7))])
        assert journal.get_day(day) == DayFactors(caffeine_mg=100, sleep_h=7)
        assert s2.days_updated == 1


def test_the_same_file_twice_adds_nothing(home: Path) -> None:
    start = datetime(2026, 3, 1, 7, tzinfo=UTC)
    batch = Batch("fit", workouts=[WorkoutIn(start, 1800, "running")])
    info = FileInfo("run.fit", "f" * 64, 10, "fit")
    with open_journal() as journal:
        (first,) = journal.import_files([(info, batch)])
        (second,) = journal.import_files([(info, batch)])
        assert first.workouts_added == 1
        assert second.already_imported is not None
        assert second.rows_added == 0
        assert journal.counts() == {"episodes": 0, "workouts": 1, "days": 0, "imports": 1}


def test_a_workout_is_known_by_its_start_whichever_file_brings_it(home: Path) -> None:
    start = datetime(2026, 3, 1, 7, tzinfo=UTC)
    same_second = start.astimezone(timezone(timedelta(hours=1))) + timedelta(microseconds=400)
    with open_journal() as journal:
        journal.import_files(
            [(FileInfo("a.fit", "1" * 64, 1, "fit"), Batch("fit", [WorkoutIn(start, 60)]))]
        )
        (s,) = journal.import_files(
            [(FileInfo("a.gpx", "2" * 64, 1, "gpx"), Batch("gpx", [WorkoutIn(same_second, 61)]))]
        )
        assert (s.workouts_added, s.workouts_known) == (0, 1)


def test_csv_counts_top_a_day_up(home: Path) -> None:
    day = date(2026, 3, 1)
    with open_journal() as journal:
        journal.add_episode(episode(day=day))
        (s1,) = journal.import_files(
            [(FileInfo("a.csv", "a" * 64, 1, "csv"), Batch("csv", episode_counts={day: 3}))]
        )
        (s2,) = journal.import_files(
            [(FileInfo("b.csv", "b" * 64, 1, "csv"), Batch("csv", episode_counts={day: 3}))]
        )
        (s3,) = journal.import_files(
            [(FileInfo("c.csv", "c" * 64, 1, "csv"), Batch("csv", episode_counts={day: 4}))]
        )
        assert (s1.episodes_added, s2.episodes_added, s3.episodes_added) == (2, 0, 1)
        assert journal.counts()["episodes"] == 4


def test_several_files_are_one_transaction(home: Path) -> None:
    """The database refusing the second file undoes the first one too."""
    good = (FileInfo("a.csv", "a" * 64, 1, "csv"), Batch("csv", episode_counts={NOW.date(): 2}))
    broken = episode()
    object.__setattr__(broken, "intensity", 9)  # past the Python checks: the CHECK refuses it
    bad = (FileInfo("b.json", "b" * 64, 1, "json"), Batch("json", episodes=[broken]))
    with open_journal() as journal:
        journal.add_episode(episode(uid="kept"))
        before = journal.read()
        with pytest.raises(JournalError, match="CHECK"):
            journal.import_files([good, bad])
        assert journal.read() == before
        assert journal.counts()["imports"] == 0


# ---------------------------------------------------------------------- forget


def test_forget_deletes_everything_and_leaves_no_trace(home: Path) -> None:
    secret = "zebra-secret-note-1234"
    with open_journal() as journal:
        for i in range(50):
            journal.add_episode(episode(note=f"{secret} {i}", uid=f"u{i}"))
        journal.set_day(date(2026, 3, 1), DayFactors(medicines=(secret,)))
        journal.import_files(
            [(FileInfo("a.fit", "a" * 64, 1, "fit"), Batch("fit", [WorkoutIn(NOW, 60)]))]
        )
        counts = journal.forget()
        assert counts == {
            "episodes": 50, "workouts": 1, "days": 1, "imports": 1,
            "experiments": 0, "experiment_days": 0,
        }  # fmt: skip
        assert journal.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}
    db = home / "journal.sqlite"
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            assert secret.encode() not in path.read_bytes(), path.name
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_journal_settings_at_helper_matches_the_environment(home: Path) -> None:
    assert journal_settings_at(home) == journal_settings()


# ---------------------------------------------------------------------- the date rule


@pytest.mark.parametrize("bad", [date(9999, 12, 31), date(1, 1, 1), date(1899, 12, 31)])
def test_no_way_in_writes_a_date_outside_the_rule(home: Path, bad: date) -> None:
    at = datetime.combine(bad, datetime.min.time(), tzinfo=UTC)
    with open_journal() as journal:
        attempts = [
            lambda: journal.log([episode(at=at, day=bad)]),
            lambda: journal.set_day(bad, DayFactors(stress=2)),
            lambda: journal.import_files(
                [
                    (
                        FileInfo("a.csv", "1" * 64, 1, "csv"),
                        Batch("csv", days={bad: DayFactors(stress=2)}),
                    )
                ]
            ),
            lambda: journal.import_files(
                [(FileInfo("b.gpx", "2" * 64, 1, "gpx"), Batch("gpx", [WorkoutIn(at, 60)]))]
            ),
            lambda: journal.import_files(
                [(FileInfo("c.csv", "3" * 64, 1, "csv"), Batch("csv", episode_counts={bad: 2}))]
            ),
        ]
        for attempt in attempts:
            with pytest.raises(InputError) as info:
                attempt()
            message = str(info.value)
            assert "\n" not in message
            assert bad.isoformat() in message and "a journal date is from 1900-01-01" in message
        assert journal.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}


def test_an_utc_time_outside_the_rule_is_refused_too(home: Path) -> None:
    """1900-01-01 00:30 at +01:00 is 1899-12-31 in UTC, as the journal would store it."""
    at = datetime(1900, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    with open_journal() as journal, pytest.raises(InputError, match="1899-12-31 is before"):
        journal.log([episode(at=at, day=at.date())])


def test_tomorrow_is_accepted_for_time_zones_ahead(home: Path) -> None:
    tomorrow = date.today() + timedelta(days=1)
    with open_journal() as journal:
        journal.set_day(tomorrow, DayFactors(stress=2))
        with pytest.raises(InputError, match="is in the future"):
            journal.set_day(tomorrow + timedelta(days=1), DayFactors(stress=2))


def test_a_journal_holding_bad_rows_still_reads_and_names_them(home: Path) -> None:
    with open_journal() as journal:
        journal.log([episode()], NOW.date(), DayFactors(caffeine_mg=200))
        journal.import_files(
            [(FileInfo("a.gpx", "2" * 64, 1, "gpx"), Batch("gpx", [WorkoutIn(NOW, 600)]))]
        )
        good = journal.read()
        assert good.problems == []
        assert journal.settings.path is not None
        insert_bad_rows(journal.settings.path)
        data = journal.read()
    assert (data.episodes, data.days, data.workouts) == (good.episodes, good.days, good.workouts)
    assert data.problems == [
        "Left out episode #2 dated 0001-01-01: 0001-01-01 is before 1900-01-01; "
        "a journal date is from 1900-01-01 to today",
        "Left out day #2 dated 9999-12-31: 9999-12-31 is in the future; "
        "a journal date is from 1900-01-01 to today",
        "Left out day #3: its date 'someday' is not a date",
        "Left out workout #2 dated 9999-12-31: 9999-12-31 is in the future; "
        "a journal date is from 1900-01-01 to today",
    ]
    assert data.to_dict() == good.to_dict(), "the export leaves them out"


def test_journal_data_made_by_hand_leaves_bad_dates_out_too() -> None:
    from twitchwise.journal.store import DayRow, EpisodeRow, JournalData

    fine = {"uid": "a", "at": "2025-01-01T10:00:00+00:00", "date": "2025-01-01"}
    data = JournalData.from_dicts(
        episodes=[fine, {"uid": "b", "at": "9999-12-31T23:00:00-05:00", "date": "9999-12-31"}],
        days=[{"date": "0001-01-01"}, {"date": "2025-01-01"}],
        workouts=[{"start": "1850-06-01T10:00:00+00:00"}],
    )
    at = datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert data.episodes == [EpisodeRow("a", at, date(2025, 1, 1))]
    assert data.days == [DayRow(date(2025, 1, 1), DayFactors())]
    assert data.workouts == []
    assert [p.split("; ")[0] for p in data.problems] == [
        "Left out episode b dated 9999-12-31: 9999-12-31 is in the future",
        "Left out day 0001-01-01 dated 0001-01-01: 0001-01-01 is before 1900-01-01",
        "Left out workout 1850-06-01T10:00:00+00:00 dated 1850-06-01: "
        "1850-06-01 is before 1900-01-01",
    ]


# ---------------------------------------------------------------------- waiting for the write lock


def test_writers_wait_for_a_long_import_and_every_entry_lands(home: Path) -> None:
    """Issue 11 (8): a write transaction held past SQLite's 5 s busy timeout (a long import)
    made concurrent `log` calls fail with "database is locked"; now they wait and all land."""
    writers = 6

    told: list[int] = []

    def log_one(i: int) -> list[int]:
        with open_journal() as other:
            other.on_wait = lambda: told.append(i)
            return other.log([episode(note=f"writer {i}")])

    with open_journal() as journal:
        journal.add_episode(episode(note="before"))
        with ThreadPoolExecutor(max_workers=writers) as pool:
            with journal.transaction() as session:  # holds the write lock, as an import does
                session.execute(text("DELETE FROM days"))
                futures = [pool.submit(log_one, i) for i in range(writers)]
                time.sleep(6.0)  # longer than busy_timeout (5 s)
                assert not any(f.done() for f in futures)  # they wait, they do not fail
            results = [f.result(timeout=30) for f in futures]
        assert all(len(ids) == 1 for ids in results)
        assert sorted(told) == list(range(writers))  # each was told once that it waits
        notes = {e.note for e in journal.read().episodes}
        assert notes == {"before"} | {f"writer {i}" for i in range(writers)}


def test_a_writer_gives_up_after_the_documented_bound(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(store, "WRITE_WAIT_S", 0.5)
    with open_journal() as journal, journal.transaction() as session:
        session.execute(text("DELETE FROM days"))
        started = time.monotonic()
        with open_journal() as other, pytest.raises(JournalError) as info:
            other.add_episode(episode())
        waited = time.monotonic() - started
    assert 0.4 <= waited < 3.0
    message = str(info.value)
    assert "\n" not in message
    assert "locked" in message and "another twitchwise may be writing it" in message
