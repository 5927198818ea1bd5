"""PostgreSQL's row-level security on ``sessions`` and ``api_tokens`` (and ``accounts``,
``login_attempts`` and ``invitations``): the second wall.

A role that is not the tables' owner and cannot bypass row-level security (``NOSUPERUSER
NOBYPASSRLS``), as the hosted service's application role would be, runs hand-written SQL that
forgets every filter: it sees, changes and deletes only the rows of the account its
transaction names (``set_config('twitchwise.account_id', ..., true)``), and none at all when
it names none. The accounts repository works through that role all the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from server_db import assert_restricted_role, pg_execute, pg_schema, pg_url

pytest.importorskip("argon2", reason="the server extra is not installed")

from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ProgrammingError

from twitchwise.server.access import InvalidInvitation
from twitchwise.server.accounts import (
    AccountInfo,
    Accounts,
    AnswerInfo,
    NewSession,
    NewToken,
    ProfileInfo,
)
from twitchwise.server.credentials import Passwords, hash_token
from twitchwise.server.db import make_engine, upgrade

PASSWORD = "a long enough password"


@dataclass
class World:
    owner: Engine  # the superuser that ran the migrations and owns the tables
    app: Engine  # a plain role: not the owner, NOBYPASSRLS
    role: str
    ann: AccountInfo
    bob: AccountInfo
    ann_login: NewSession
    bob_login: NewSession
    ann_token: NewToken
    bob_token: NewToken


def _passwords() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def world() -> Iterator[World]:
    with pg_schema() as schema:
        owner = make_engine(pg_url(schema))
        upgrade(owner)
        role = "tw_app_" + secrets.token_hex(6)
        pg_execute(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        )
        app = make_engine(pg_url(schema, user=role))
        try:
            accounts = Accounts(owner, passwords=_passwords())
            ann = accounts.create_account("ann@example.org", PASSWORD)
            bob = accounts.create_account("bob@example.org", PASSWORD)
            yield World(
                owner, app, role, ann, bob,
                accounts.create_session(ann.id), accounts.create_session(bob.id),
                accounts.create_api_token(ann.id, "ann's", ["read"]),
                accounts.create_api_token(bob.id, "bob's", ["read", "write"]),
            )  # fmt: skip
        finally:
            app.dispose()
            owner.dispose()
            pg_execute(
                f"DROP OWNED BY {role}", f"DROP SCHEMA {schema} CASCADE", f"DROP ROLE {role}"
            )


def act_for(conn: Connection, account: AccountInfo) -> None:
    conn.execute(text("SELECT set_config('twitchwise.account_id', :id, true)"),
                 {"id": str(account.id)})  # fmt: skip


def owners(conn: Connection, table: str) -> list[str]:
    """The account of every row the connection can see in ``table``: no WHERE at all."""
    return sorted(str(r[0]) for r in conn.execute(text(f"SELECT account_id FROM {table}")))


def test_the_role_is_not_the_owner_and_cannot_bypass(world: World) -> None:
    assert_restricted_role(world.app, world.role)


@pytest.mark.parametrize("table", ["sessions", "api_tokens"])
def test_an_unscoped_select_sees_only_the_current_account(world: World, table: str) -> None:
    with world.owner.connect() as conn:  # the owner (a superuser) sees everyone's
        assert owners(conn, table) == sorted([str(world.ann.id), str(world.bob.id)])
    with world.app.begin() as conn:
        assert owners(conn, table) == []  # no account named: nothing
    with world.app.begin() as conn:
        act_for(conn, world.ann)
        assert owners(conn, table) == [str(world.ann.id)]
        # asking for bob's rows by hand gives nothing, not an error that says they exist
        found = conn.execute(text(f"SELECT * FROM {table} WHERE account_id = :bob"),
                             {"bob": world.bob.id}).all()  # fmt: skip
        assert found == []
        count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        assert count == 1
    with world.app.begin() as conn:  # SET LOCAL: the next transaction names no one again
        assert owners(conn, table) == []


def test_other_accounts_rows_cannot_be_changed_or_deleted(world: World) -> None:
    with world.app.begin() as conn:
        act_for(conn, world.ann)
        assert conn.execute(text("UPDATE sessions SET revoked_at = now()")).rowcount == 1
        assert conn.execute(text("DELETE FROM api_tokens")).rowcount == 1
    with world.app.begin() as conn:
        act_for(conn, world.ann)
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(
                text("INSERT INTO sessions (id, account_id, created_at, expires_at) "
                     "VALUES ('x', :bob, now(), now() + interval '1 day')"),
                {"bob": world.bob.id},
            )  # fmt: skip
    with world.app.begin() as conn:
        act_for(conn, world.ann)
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(text("UPDATE sessions SET account_id = :bob"), {"bob": world.bob.id})
    with world.owner.connect() as conn:  # bob's rows are untouched
        bob_sessions = conn.execute(
            text("SELECT revoked_at FROM sessions WHERE account_id = :bob"), {"bob": world.bob.id}
        ).all()
        assert [tuple(r) for r in bob_sessions] == [(None,)]
        assert owners(conn, "api_tokens") == [str(world.bob.id)]


def test_a_lookup_by_hash_shows_that_row_only(world: World) -> None:
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.session_id', :h, true)"),
                     {"h": hash_token(world.ann_login.token)})  # fmt: skip
        assert owners(conn, "sessions") == [str(world.ann.id)]
        assert owners(conn, "api_tokens") == []
        # seeing is not changing: the lookup policy is for SELECT only
        assert conn.execute(text("DELETE FROM sessions")).rowcount == 0
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.token_hash', :h, true)"),
                     {"h": hash_token("twt_a guess")})  # fmt: skip
        assert owners(conn, "api_tokens") == []


def test_the_repository_works_through_the_restricted_role(world: World) -> None:
    accounts = Accounts(world.app, passwords=_passwords())
    assert accounts.authenticate("ann@example.org", PASSWORD).id == world.ann.id
    found = accounts.session(world.ann_login.token)
    assert found is not None and found.account.id == world.ann.id
    token = accounts.api_token(world.bob_token.token)
    assert token is not None and token.account_id == world.bob.id
    assert [t.name for t in accounts.list_api_tokens(world.ann.id)] == ["ann's"]
    login = accounts.create_session(world.ann.id)
    assert accounts.revoke_session(login.token)
    assert accounts.revoke_all_sessions(world.ann.id) == 1
    assert accounts.delete_account(world.ann.id)
    with world.owner.connect() as conn:
        assert owners(conn, "sessions") == [str(world.bob.id)]
        assert owners(conn, "api_tokens") == [str(world.bob.id)]
        remaining = [r[0] for r in conn.execute(text("SELECT email FROM accounts"))]
    assert remaining == ["bob@example.org"]


def test_accounts_are_seen_only_by_their_own_transaction(world: World) -> None:
    """Migration a0003: the accounts table has row-level security too."""
    with world.app.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM accounts")).scalar() == 0  # no one named
    with world.app.begin() as conn:
        act_for(conn, world.ann)
        emails = [r[0] for r in conn.execute(text("SELECT email FROM accounts"))]
        assert emails == ["ann@example.org"]
        assert conn.execute(text("UPDATE accounts SET consent = true")).rowcount == 1
        assert conn.execute(text("DELETE FROM accounts WHERE email = 'bob@example.org'")
                            ).rowcount == 0  # fmt: skip
    with world.app.begin() as conn:
        act_for(conn, world.ann)
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(
                text("INSERT INTO accounts (id, email, password_hash, created_at) "
                     "VALUES (gen_random_uuid(), 'eve@example.org', 'x', now())")
            )  # fmt: skip
    with world.app.begin() as conn:  # a login names the email it looks up: that row only
        conn.execute(text("SELECT set_config('twitchwise.email', 'bob@example.org', true)"))
        assert [r[0] for r in conn.execute(text("SELECT email FROM accounts"))] == [
            "bob@example.org"
        ]
        assert conn.execute(text("UPDATE accounts SET disabled = true")).rowcount == 0
    with world.owner.connect() as conn:
        states = dict(conn.execute(text("SELECT email, consent OR disabled FROM accounts")).all())
    assert states == {"ann@example.org": True, "bob@example.org": False}


def test_login_attempts_are_seen_only_by_the_keys_a_transaction_names(world: World) -> None:
    from twitchwise.server.throttle import keys_for

    accounts = Accounts(world.app, passwords=_passwords())
    for email in ("ann@example.org", "nobody@example.org"):
        with pytest.raises(Exception, match="wrong email or password"):
            accounts.login(email, "not the password", client="192.0.2.1")
    with world.owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM login_attempts")).scalar() == 3
    with world.app.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM login_attempts")).scalar() == 0
        assert conn.execute(text("DELETE FROM login_attempts")).rowcount == 0
    named = ",".join(k.digest for k in keys_for("ann@example.org", None))
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.throttle_keys', :k, true)"), {"k": named})
        assert conn.execute(text("SELECT kind, failures FROM login_attempts")).all() == [
            ("account", 1)
        ]
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(text("INSERT INTO login_attempts (key, kind, failures, last_failure_at)"
                              " VALUES ('other', 'account', 1, now())"))  # fmt: skip


def test_invitations_are_seen_only_by_the_code_a_transaction_names(world: World) -> None:
    """Migration a0004: no invitation without naming its code's hash (or managing them, as
    the administrator's commands say they do); the repository works through the role."""
    accounts = Accounts(world.app, passwords=_passwords())
    ann_code = accounts.create_invitation().code  # through the restricted role
    bob_code = accounts.create_invitation(uses=2).code
    with world.owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM invitations")).scalar() == 2
    with world.app.begin() as conn:  # naming nothing: nothing, and nothing to change
        assert conn.execute(text("SELECT count(*) FROM invitations")).scalar() == 0
        assert conn.execute(text("UPDATE invitations SET uses_left = 100")).rowcount == 0
        assert conn.execute(text("DELETE FROM invitations")).rowcount == 0
    with world.app.begin() as conn:  # naming one code's hash: that row only
        conn.execute(text("SELECT set_config('twitchwise.invitation_hash', :h, true)"),
                     {"h": hash_token(ann_code)})  # fmt: skip
        assert conn.execute(text("SELECT uses_left FROM invitations")).all() == [(1,)]
        assert conn.execute(text("UPDATE invitations SET uses_left = uses_left")).rowcount == 1
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.invitation_hash', :h, true)"),
                     {"h": hash_token(ann_code)})  # fmt: skip
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(
                text("INSERT INTO invitations (id, code_hash, created_at, expires_at, uses_left)"
                     " VALUES (gen_random_uuid(), 'another', now(), now(), 1)")
            )  # fmt: skip
    with world.app.begin() as conn:  # a guessed code's hash: nothing
        conn.execute(text("SELECT set_config('twitchwise.invitation_hash', :h, true)"),
                     {"h": hash_token("twi_a guess")})  # fmt: skip
        assert conn.execute(text("SELECT count(*) FROM invitations")).scalar() == 0
    with world.app.begin() as conn:  # the administrator's commands say what they do
        conn.execute(text("SELECT set_config('twitchwise.invitations', 'manage', true)"))
        assert conn.execute(text("SELECT count(*) FROM invitations")).scalar() == 2
    made = accounts.create_invited_account(bob_code, "carol@example.org", PASSWORD)
    assert made.email == "carol@example.org"
    assert sorted(i.uses_left for i in accounts.list_invitations()) == [1, 1]
    for invitation in accounts.list_invitations():
        assert accounts.revoke_invitation(invitation.id) is not None
    with pytest.raises(InvalidInvitation):
        accounts.create_invited_account(ann_code, "dan@example.org", PASSWORD)
    with world.owner.connect() as conn:
        states = conn.execute(text("SELECT count(*) FROM invitations "
                                   "WHERE revoked_at IS NOT NULL")).scalar()  # fmt: skip
    assert states == 2


def test_profiles_are_seen_only_by_the_account_a_transaction_names(world: World) -> None:
    """Migration a0005: a profile is its account's alone; the repository works through the
    role."""
    accounts = Accounts(world.app, passwords=_passwords())
    accounts.set_profile(world.ann.id, age_band="30-39", sex="female")
    accounts.set_profile(world.bob.id, age_band="70+", sex=None)
    with world.owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM profiles")).scalar() == 2
    with world.app.begin() as conn:  # naming no one: nothing, and nothing to change
        assert conn.execute(text("SELECT count(*) FROM profiles")).scalar() == 0
        assert conn.execute(text("UPDATE profiles SET sex = NULL")).rowcount == 0
        assert conn.execute(text("DELETE FROM profiles")).rowcount == 0
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.account_id', :a, true)"),
                     {"a": str(world.ann.id)})  # fmt: skip
        assert conn.execute(text("SELECT age_band, sex FROM profiles")).all() == [
            ("30-39", "female")
        ]
        assert conn.execute(text("UPDATE profiles SET sex = 'male'")).rowcount == 1
    with world.app.begin() as conn:  # cannot give one's profile to another
        conn.execute(text("SELECT set_config('twitchwise.account_id', :a, true)"),
                     {"a": str(world.ann.id)})  # fmt: skip
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(
                text("UPDATE profiles SET account_id = :b"), {"b": str(world.bob.id)}
            )
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.account_id', :a, true)"),
                     {"a": str(world.ann.id)})  # fmt: skip
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(text("INSERT INTO profiles (account_id, age_band, updated_at) "
                              "VALUES (:b, '18-29', now())"), {"b": str(world.bob.id)})  # fmt: skip
    assert accounts.profile(world.ann.id) == ProfileInfo("30-39", "male")
    assert accounts.profile(world.bob.id) == ProfileInfo("70+", None)
    assert accounts.delete_account(world.ann.id)
    with world.owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM profiles")).scalar() == 1


def test_answers_are_seen_only_by_the_account_a_transaction_names(world: World) -> None:
    """Migration a0006: a recorded answer is its account's alone; the repository records,
    reads and deletes them (withdrawn consent, a deleted account) through the role."""
    accounts = Accounts(world.app, passwords=_passwords())
    one = AnswerInfo(date(2026, 11, 21), "emergency", ("emergency_signs",), ("chest_pain",), 1)
    for person in (world.ann, world.bob):
        accounts.set_consent(person.id, True)
        assert accounts.record_answer(person.id, one)
    with world.owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM answers")).scalar() == 2
    with world.app.begin() as conn:  # naming no one: nothing, and nothing to change
        assert conn.execute(text("SELECT count(*) FROM answers")).scalar() == 0
        assert conn.execute(text("UPDATE answers SET not_understood = 0")).rowcount == 0
        assert conn.execute(text("DELETE FROM answers")).rowcount == 0
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.account_id', :a, true)"),
                     {"a": str(world.ann.id)})  # fmt: skip
        assert conn.execute(text("SELECT triage_level FROM answers")).all() == [("emergency",)]
    with world.app.begin() as conn:  # cannot give one's answer to another, nor write theirs
        conn.execute(text("SELECT set_config('twitchwise.account_id', :a, true)"),
                     {"a": str(world.ann.id)})  # fmt: skip
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(text("UPDATE answers SET account_id = :b"), {"b": str(world.bob.id)})
    with world.app.begin() as conn:
        conn.execute(text("SELECT set_config('twitchwise.account_id', :a, true)"),
                     {"a": str(world.ann.id)})  # fmt: skip
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(
                text("INSERT INTO answers VALUES (gen_random_uuid(), :b, '2026-11-21', "
                     "'self_care', '', '', 0)"), {"b": str(world.bob.id)}
            )  # fmt: skip
    assert accounts.answers(world.ann.id) == [one] == accounts.answers(world.bob.id)
    accounts.set_consent(world.bob.id, False)
    assert accounts.answers(world.bob.id) == []
    assert not accounts.record_answer(world.bob.id, one)
    assert accounts.delete_account(world.ann.id)
    with world.owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM answers")).scalar() == 0
