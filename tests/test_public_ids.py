"""Ids that are not guessable (issue 15): episodes get a random public id (migration ``0004``),
which the hosted API gives instead of the row's sequential id; the local app keeps its integer.

On SQLite and on PostgreSQL, where the migration also runs as a tables' owner that is no
superuser, so that the row-level security of ``0003`` is forced on it. The isolation walk
(tests/test_web_isolation.py) checks every response of the hosted API for sequential ids.
"""

from __future__ import annotations

import itertools
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from server_db import database, pg_execute, pg_schema, pg_url
from twitchwise.journal import store
from twitchwise.journal.records import Batch, EpisodeIn, FileInfo
from twitchwise.journal.settings import JournalSettings
from twitchwise.journal.store import HEAD_REVISION, MIGRATIONS, open_journal

ANN = uuid.UUID("a0000000-0000-4000-8000-00000000000a")
BOB = uuid.UUID("b0000000-0000-4000-8000-00000000000b")
AT = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
DAY = date(2026, 3, 5)


def alembic(engine: Engine, command_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, command_name)(config, revision)


def public_ids(engine: Engine) -> dict[str, uuid.UUID]:
    """Every episode's public id by its uid, read by a role that sees every row."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT uid, public_id FROM episodes")).all()
    return {uid: value if isinstance(value, uuid.UUID) else uuid.UUID(value) for uid, value in rows}


def assert_random(ids: list[uuid.UUID]) -> None:
    """Version-4 UUIDs, all different, and no two next to each other as numbers."""
    assert all(value.version == 4 for value in ids)
    assert len(set(ids)) == len(ids)
    numbers = sorted(value.int for value in ids)
    assert all(b - a > 2**64 for a, b in itertools.pairwise(numbers))


def _old_episodes(engine: Engine, owners: list[uuid.UUID], name_owner: bool = False) -> None:
    """Five episodes of each owner in a journal at revision 0003."""
    with engine.begin() as conn:
        for owner in owners:
            if name_owner:  # row-level security is forced on the tables' owner too
                conn.execute(text("SELECT set_config('twitchwise.account_id', :o, true)"),
                             {"o": str(owner)})  # fmt: skip
            key = owner.hex if engine.dialect.name == "sqlite" else owner
            for i in range(5):
                conn.execute(
                    text("INSERT INTO episodes (owner_id, uid, at, local_date, source) "
                         "VALUES (:o, :u, '2026-01-01 10:00:00', '2026-01-01', 'log')"),
                    {"o": key, "u": f"{owner.hex[:3]}-{i}"},
                )  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_gives_every_episode_its_own_random_id(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        path = tmp_path / "accounts.sqlite" if kind == "sqlite" else None
        engine = create_engine(url)  # SQLite: foreign keys off, as pysqlite starts
        try:
            alembic(engine, "upgrade", "0003")
            _old_episodes(engine, [store.LOCAL_OWNER, ANN, BOB])
        finally:
            engine.dispose()
        with open_journal(JournalSettings(url, path)) as journal:  # migrates to 0004
            assert store.current_revision(journal.engine) == HEAD_REVISION == "0004"
            found = public_ids(journal.engine)
            assert len(found) == 15
            assert_random(list(found.values()))
            columns = {c["name"]: c for c in inspect(journal.engine).get_columns("episodes")}
            assert columns["public_id"]["nullable"] is False
            indexes = {i["name"]: i for i in inspect(journal.engine).get_indexes("episodes")}
            assert indexes["uq_episodes_public_id"]["unique"]
            assert indexes["uq_episodes_public_id"]["column_names"] == ["public_id"]
            # the rows are otherwise as they were, and new ones get ids of their own
            assert [e.uid for e in journal.read().episodes] == [f"000-{i}" for i in range(5)]
            journal.for_owner(ANN).add_episode(EpisodeIn(at=AT, day=DAY, uid="new"))
            assert_random(list(public_ids(journal.engine).values()))
        # and back: the column goes, the rows stay; up again, fresh ids
        engine = create_engine(url)  # SQLite: foreign keys off, as pysqlite starts
        try:
            alembic(engine, "downgrade", "0003")
            assert "public_id" not in {c["name"] for c in inspect(engine).get_columns("episodes")}
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM episodes")).scalar() == 16
        finally:
            engine.dispose()
        with open_journal(JournalSettings(url, path)) as journal:
            again = public_ids(journal.engine)
            assert len(again) == 16 and not set(again.values()) & set(found.values())


def test_the_migration_fills_rows_the_tables_owner_cannot_see(tmp_path: Path) -> None:
    """A hosted database's tables belong to a role that is no superuser, and row-level
    security is forced on it: an UPDATE of its would see no row. Adding the column with a
    random default reaches every row all the same."""
    with pg_schema() as schema:
        role = "tw_owner_" + secrets.token_hex(6)
        pg_execute(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            f"GRANT ALL ON SCHEMA {schema} TO {role}",
        )
        url = pg_url(schema, user=role)
        owner = create_engine(url)
        try:
            alembic(owner, "upgrade", "0003")
            _old_episodes(owner, [ANN, BOB], name_owner=True)
            with owner.connect() as conn:  # what a query of the owner sees: nothing
                assert conn.execute(text("SELECT count(*) FROM episodes")).scalar() == 0
            with open_journal(JournalSettings(url, None)) as journal:  # 0004, as that role
                assert store.current_revision(journal.engine) == "0004"
                for person in (ANN, BOB):
                    assert len(journal.for_owner(person).read().episodes) == 5
            superuser = create_engine(pg_url(schema))
            try:
                found = public_ids(superuser)
            finally:
                superuser.dispose()
            assert len(found) == 10
            assert_random(list(found.values()))
        finally:
            owner.dispose()
            pg_execute(
                f"DROP OWNED BY {role}", f"DROP SCHEMA {schema} CASCADE", f"DROP ROLE {role}"
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JournalSettings]:
    with database(request.param, tmp_path) as url:
        path = tmp_path / "accounts.sqlite" if request.param == "sqlite" else None
        yield JournalSettings(url, path)


def test_every_way_in_gives_a_random_public_id(journal_url: JournalSettings) -> None:
    with open_journal(journal_url, owner=ANN) as ann:
        ann.log([EpisodeIn(at=AT, day=DAY, uid="logged")])
        given = uuid.uuid4()
        ann.add_episode(EpisodeIn(at=AT, day=DAY, uid="given", public_id=given))
        ann.for_owner(BOB).add_episode(EpisodeIn(at=AT, day=DAY, uid="logged"))
        batch = Batch("json", episodes=[EpisodeIn(at=AT, day=DAY, uid=f"i{i}") for i in range(3)])
        ann.import_files([(FileInfo("x.json", "f" * 64, 10, "json"), batch)])
        found = public_ids(ann.engine)
        assert found["given"] == given
        assert_random(list(found.values()))
        # unique over the whole table, whoever's the row
        with pytest.raises(IntegrityError), ann.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT set_config('twitchwise.account_id', :o, true)"),
                             {"o": str(BOB)})  # fmt: skip
            conn.execute(
                text("INSERT INTO episodes (owner_id, public_id, uid, at, local_date, source) "
                     "VALUES (:o, :p, 'copy', '2026-01-01 10:00:00', '2026-01-01', 'log')"),
                {"o": BOB.hex if conn.dialect.name == "sqlite" else BOB,
                 "p": given.hex if conn.dialect.name == "sqlite" else given},
            )  # fmt: skip


def test_a_row_written_by_hand_gets_one_from_the_database(journal_url: JournalSettings) -> None:
    """As ``owner_id``'s, the column's default serves a row written outside the store."""
    with open_journal(journal_url) as journal:
        journal.add_episode(EpisodeIn(at=AT, day=DAY, uid="by-the-store"))
        for uid in ("by-hand-1", "by-hand-2"):
            with journal.transaction() as session:  # names the local owner on PostgreSQL
                session.execute(
                    text("INSERT INTO episodes (uid, at, local_date, source) "
                         "VALUES (:u, '2026-01-01 10:00:00', '2026-01-01', 'log')"),
                    {"u": uid},
                )  # fmt: skip
        found = public_ids(journal.engine)
        values = sorted(value.int for value in found.values())
        assert len(set(values)) == 3 and all(b - a > 2**64 for a, b in itertools.pairwise(values))
        if journal.engine.dialect.name == "postgresql":
            assert found["by-hand-1"].version == found["by-hand-2"].version == 4
        assert {e.uid for e in journal.read().episodes} == set(found)


def test_the_export_carries_no_public_id(journal_url: JournalSettings) -> None:
    """A public id never leaves in a file: an export imported into two accounts would give
    both the same ids."""
    import twitchwise

    with open_journal(journal_url) as journal:
        journal.add_episode(EpisodeIn(at=AT, day=DAY, uid="one"))
        (value,) = public_ids(journal.engine).values()
        tw = twitchwise.Twitchwise()
        for fmt in ("json", "csv"):
            content = tw.export(journal, fmt).content()
            assert value.hex.encode() not in content and str(value).encode() not in content


def test_the_local_api_keeps_its_integer_id(tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from twitchwise.web.app import create_app
    from twitchwise.web.settings import WebSettings

    path = tmp_path / "journal.sqlite"
    app = create_app(WebSettings(journal=JournalSettings(f"sqlite:///{path}", path)))
    client = TestClient(app, base_url="http://127.0.0.1")
    first = client.post("/api/journal/episodes", json={"region": "calf"}).json()["id"]
    second = client.post("/api/journal/episodes", json={"region": "calf"}).json()["id"]
    assert (type(first), type(second), second - first) == (int, int, 1)
    schema = client.get("/openapi.json").json()["components"]["schemas"]["EpisodePublic"]
    assert schema["properties"]["id"]["type"] == "integer"
