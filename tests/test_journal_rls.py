"""PostgreSQL's row-level security on the journal's tables: the second wall.

A role that is not the tables' owner and cannot bypass row-level security (``NOSUPERUSER
NOBYPASSRLS``), as the hosted service's application role would be, runs hand-written SQL that
forgets every filter: it sees, changes and deletes only the rows of the owner its transaction
names (``set_config('twitchwise.account_id', ..., true)``), none at all when it names none,
and cannot write a row of anyone else. The journal's repository works through that role all
the same, for the local owner too, and so does deleting an account with its journal.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import ProgrammingError

from owned_rows import AT, DAY, TABLES, fill, owners_of, view
from server_db import assert_restricted_role, pg_execute, pg_schema, pg_url
from twitchwise.journal.models import LOCAL_OWNER
from twitchwise.journal.records import EpisodeIn
from twitchwise.journal.settings import JournalSettings
from twitchwise.journal.store import Journal, open_journal

ANN = uuid.uuid4()
BOB = uuid.uuid4()
CAROL = uuid.uuid4()


@dataclass
class World:
    owner: Engine  # the superuser that ran the migrations and owns the tables
    app: Engine  # a plain role: not the owner, NOBYPASSRLS
    role: str
    schema: str
    journal: Journal  # opened by the owner: ann's and bob's journals were written through it


@pytest.fixture
def world() -> Iterator[World]:
    with pg_schema() as schema:
        journal = open_journal(JournalSettings(pg_url(schema), None), owner=ANN)
        fill(journal, "ANN")
        fill(journal.for_owner(BOB), "BOB")
        role = "tw_app_" + secrets.token_hex(6)
        pg_execute(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        )
        app = create_engine(pg_url(schema, user=role))
        try:
            yield World(journal.engine, app, role, schema, journal)
        finally:
            app.dispose()
            journal.close()
            pg_execute(
                f"DROP OWNED BY {role}", f"DROP SCHEMA {schema} CASCADE", f"DROP ROLE {role}"
            )


def act_for(conn: Connection, owner: uuid.UUID) -> None:
    conn.execute(text("SELECT set_config('twitchwise.account_id', :id, true)"),
                 {"id": str(owner)})  # fmt: skip


def seen(conn: Connection, table: str) -> list[uuid.UUID]:
    """The owner of every row the connection can see in ``table``: no WHERE at all."""
    return sorted(r[0] for r in conn.execute(text(f"SELECT owner_id FROM {table}")))


def test_the_role_is_not_the_owner_and_cannot_bypass(world: World) -> None:
    assert_restricted_role(world.app, world.role)


@pytest.mark.parametrize("table", TABLES)
def test_an_unscoped_select_sees_only_the_named_owner(world: World, table: str) -> None:
    everyone = owners_of(world.owner, table)  # the owner (a superuser) sees everyone's
    assert set(everyone) == {ANN, BOB}
    with world.app.begin() as conn:
        assert seen(conn, table) == []  # no owner named: nothing
    with world.app.begin() as conn:
        act_for(conn, ANN)
        assert seen(conn, table) == [ANN] * everyone[ANN]
        # asking for bob's rows by hand gives nothing, not an error that says they exist
        found = conn.execute(text(f"SELECT * FROM {table} WHERE owner_id = :bob"),
                             {"bob": BOB}).all()  # fmt: skip
        assert found == []
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == everyone[ANN]
    with world.app.begin() as conn:  # SET LOCAL: the next transaction names no one again
        assert seen(conn, table) == []


@pytest.mark.parametrize("table", TABLES)
def test_other_owners_rows_cannot_be_changed_or_deleted(world: World, table: str) -> None:
    everyone = owners_of(world.owner, table)
    with world.app.begin() as conn:  # naming no one, nothing is changed or deleted
        assert conn.execute(text(f"UPDATE {table} SET id = id")).rowcount == 0
        assert conn.execute(text(f"DELETE FROM {table}")).rowcount == 0
    with world.app.begin() as conn:
        act_for(conn, ANN)
        assert conn.execute(text(f"UPDATE {table} SET id = id")).rowcount == everyone[ANN]
        with pytest.raises(ProgrammingError, match="row-level security"), conn.begin_nested():
            conn.execute(text(f"UPDATE {table} SET owner_id = :bob"), {"bob": BOB})
        assert conn.execute(text(f"DELETE FROM {table}")).rowcount == everyone[ANN]
    assert owners_of(world.owner, table) == {BOB: everyone[BOB]}  # bob's are all there


def test_no_row_can_be_written_for_another_owner(world: World) -> None:
    insert = text("INSERT INTO days (owner_id, date, sources, updated_at) "
                  "VALUES (:owner, '2026-04-01', '{}', now())")  # fmt: skip
    for named, written in [(ANN, BOB), (None, ANN), (ANN, LOCAL_OWNER)]:
        with world.app.begin() as conn:
            if named is not None:
                act_for(conn, named)
            with pytest.raises(ProgrammingError, match="row-level security"):
                conn.execute(insert, {"owner": written})
    with world.app.begin() as conn:  # a row without an owner is the local one's: refused too
        act_for(conn, ANN)
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(text("INSERT INTO days (date, sources, updated_at) "
                              "VALUES ('2026-04-01', '{}', now())"))  # fmt: skip
    with world.app.begin() as conn:
        act_for(conn, ANN)
        conn.execute(insert, {"owner": ANN})
    assert owners_of(world.owner, "days")[ANN] == 4


def test_the_repository_works_through_the_restricted_role(world: World) -> None:
    expected = {who: view(world.journal.for_owner(who)) for who in (ANN, BOB)}
    settings = JournalSettings(pg_url(world.schema, user=world.role), None)
    with open_journal(settings, owner=ANN) as ann:  # at head already: no migration to run
        bob = ann.for_owner(BOB)
        assert view(ann) == expected[ANN] and view(bob) == expected[BOB]
        fill(ann.for_owner(CAROL), "CAROL")
        ann.forget()
        assert ann.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}
        assert view(bob) == expected[BOB]
        # a local journal on PostgreSQL names the local owner: it works the same
        local = ann.for_owner(LOCAL_OWNER)
        local.add_episode(EpisodeIn(at=AT, day=DAY, uid="local"))
        assert [e.uid for e in local.read().episodes] == ["local"]
    assert set(owners_of(world.owner, "episodes")) == {BOB, CAROL, LOCAL_OWNER}


def test_deleting_an_account_through_the_restricted_role_deletes_its_journal(
    world: World,
) -> None:
    pytest.importorskip("argon2", reason="the server extra is not installed")
    from argon2 import PasswordHasher

    from twitchwise.server.accounts import Accounts
    from twitchwise.server.credentials import Passwords
    from twitchwise.server.db import make_engine, upgrade

    upgrade(world.owner)
    pg_execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {world.schema} "
        f"TO {world.role}"
    )
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    person = Accounts(world.owner, passwords=passwords).create_account(
        "carol@example.org", "a long enough password"
    )
    fill(world.journal.for_owner(person.id), "CAROL")
    bob_view = view(world.journal.for_owner(BOB))
    app = make_engine(pg_url(world.schema, user=world.role))
    try:
        assert Accounts(app, passwords=passwords).delete_account(person.id)
    finally:
        app.dispose()
    for table in TABLES:
        assert set(owners_of(world.owner, table)) == {ANN, BOB}, table
    assert view(world.journal.for_owner(BOB)) == bob_view
