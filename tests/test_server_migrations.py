"""The accounts' Alembic migrations on SQLite and PostgreSQL: they match the models, upgrade a
database that holds data, and live beside the journal's migrations without touching them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from server_db import database

pytest.importorskip("argon2", reason="the server extra is not installed")

from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import Engine, inspect, text

from twitchwise.journal.records import EpisodeIn
from twitchwise.journal.settings import JournalSettings
from twitchwise.journal.store import open_journal
from twitchwise.server.access import AuthenticationError, InvalidInvitation
from twitchwise.server.accounts import Accounts, AnswerInfo, ProfileInfo
from twitchwise.server.credentials import Passwords
from twitchwise.server.db import (
    HEAD_REVISION,
    MIGRATIONS,
    VERSION_TABLE,
    current_revision,
    make_engine,
    upgrade,
)
from twitchwise.server.models import Base

TABLES = {
    "accounts", "sessions", "api_tokens", "login_attempts", "invitations", "profiles", "answers",
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as found:
        yield found


def test_upgrade_creates_the_tables_and_is_idempotent(url: str) -> None:
    engine = make_engine(url)
    assert current_revision(engine) is None
    assert upgrade(engine) == HEAD_REVISION
    assert upgrade(engine) == HEAD_REVISION
    assert TABLES | {VERSION_TABLE} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_models_match_the_migrations(url: str) -> None:
    from alembic.autogenerate import compare_metadata

    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: kind != "table" or name in TABLES,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_an_upgrade_keeps_the_accounts_already_there(url: str) -> None:
    engine = make_engine(url)
    assert upgrade(engine, "a0001") == "a0001"
    accounts = Accounts(engine, passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=1024)))
    made = accounts.create_account("ann@example.org", "a long enough password")
    assert not inspect(engine).has_table("sessions")
    assert upgrade(engine) == HEAD_REVISION
    assert accounts.authenticate("ann@example.org", "a long enough password") == made
    login = accounts.create_session(made.id)
    found = accounts.session(login.token)
    assert found is not None and found.account == made
    engine.dispose()


def test_the_accounts_live_beside_the_journal(url: str, tmp_path: Path) -> None:
    """The journal's data and migrations are untouched by the accounts', both ways round."""
    path = tmp_path / "accounts.sqlite" if url.startswith("sqlite") else None
    settings = JournalSettings(url, path)
    at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    with open_journal(settings) as journal:
        journal.add_episode(EpisodeIn(day=date(2026, 11, 20), at=at, region="region_calf"))
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        journal_revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert journal_revision is not None and not journal_revision.startswith("a")
    with open_journal(settings) as journal:
        assert [e.region for e in journal.read().episodes] == ["region_calf"]
        journal.add_episode(EpisodeIn(day=date(2026, 11, 21), at=at.replace(day=21)))
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()


def test_row_level_security_is_on_only_on_postgresql(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return
    with engine.connect() as conn:
        flags = dict(
            (name, (on, forced))
            for name, on, forced in conn.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                    "WHERE relname IN ('accounts', 'sessions', 'api_tokens', 'login_attempts', "
                    "'invitations', 'profiles', 'answers') "
                    "AND relnamespace = current_schema()::regnamespace"
                )
            )
        )
        policies = {
            row[0] for row in conn.execute(text("SELECT policyname FROM pg_policies "
                                                "WHERE schemaname = current_schema()"))
        }  # fmt: skip
    engine.dispose()
    assert flags == {
        "accounts": (True, True),
        "sessions": (True, True),
        "api_tokens": (True, True),
        "login_attempts": (True, True),
        "invitations": (True, True),
        "profiles": (True, True),
        "answers": (True, True),
    }
    assert policies == {
        "accounts_own", "accounts_lookup", "sessions_own", "sessions_lookup",
        "api_tokens_own", "api_tokens_lookup", "login_attempts_named",
        "invitations_named", "invitations_managed", "profiles_own", "answers_own",
    }  # fmt: skip


def test_a0003_keeps_the_sessions_and_tokens_already_there(url: str) -> None:
    engine = make_engine(url)
    assert upgrade(engine, "a0002") == "a0002"
    assert not inspect(engine).has_table("login_attempts")
    accounts = Accounts(engine, passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=1024)))
    made = accounts.create_account("ann@example.org", "a long enough password")
    login = accounts.create_session(made.id)
    token = accounts.create_api_token(made.id, "script", ["read"])
    assert upgrade(engine, "a0003") == "a0003"
    found = accounts.session(login.token)
    assert found is not None and found.account == made
    used = accounts.api_token(token.token)
    assert used is not None and used.id == token.info.id and used.scopes == ("read",)
    assert accounts.find("ANN@example.org") == made
    assert accounts.login("ann@example.org", "a long enough password").session.account == made
    engine.dispose()


def downgrade(engine: Engine, revision: str) -> None:
    """The accounts' migrations down to ``revision`` (as :func:`upgrade` runs them up)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def everything(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the invitations, as the tables' owner reads them."""
    names = sorted(set(inspect(engine).get_table_names()) - {"invitations"})
    with engine.connect() as conn:
        return {
            name: sorted((tuple(r) for r in conn.execute(text(f"SELECT * FROM {name}"))), key=str)
            for name in names
        }


def test_a0004_keeps_everything_already_there(url: str, tmp_path: Path) -> None:
    """A database at a0003 holding accounts, sessions, tokens, throttling counts and a
    journal: a0004 adds the invitations and changes no row of anything else; back down to
    a0003 takes only the invitations away, and up again gives them back, empty."""
    path = tmp_path / "accounts.sqlite" if url.startswith("sqlite") else None
    settings = JournalSettings(url, path)
    at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    engine = make_engine(url)
    assert upgrade(engine, "a0003") == "a0003"
    accounts = Accounts(engine, passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=1024)))
    ann = accounts.create_account("ann@example.org", "a long enough password", consent=True)
    login = accounts.create_session(ann.id)
    token = accounts.create_api_token(ann.id, "script", ["read", "write"])
    with pytest.raises(AuthenticationError):
        accounts.login("bob@example.org", "not the password", client="192.0.2.1")
    with open_journal(settings) as journal:
        journal.add_episode(EpisodeIn(day=date(2026, 11, 20), at=at, region="region_calf"))
        journal.for_owner(ann.id).add_episode(
            EpisodeIn(day=date(2026, 11, 21), at=at.replace(day=21), region="region_eyelid")
        )
    before = everything(engine)
    assert len(before["login_attempts"]) == 2 and len(before["episodes"]) == 2
    assert not inspect(engine).has_table("invitations")

    assert upgrade(engine, "a0004") == "a0004"
    after = everything(engine)
    assert after.pop("twitchwise_accounts_version") == [("a0004",)]
    assert before.pop("twitchwise_accounts_version") == [("a0003",)]
    assert after == before
    found = accounts.session(login.token)
    assert found is not None and found.account == ann
    used = accounts.api_token(token.token)
    assert used is not None and used.id == token.info.id
    assert accounts.list_invitations() == []
    made = accounts.create_invitation()
    bob = accounts.create_invited_account(made.code, "bob@example.org", "a long enough password")
    assert accounts.login("bob@example.org", "a long enough password").session.account == bob
    with open_journal(settings) as journal:
        assert [e.region for e in journal.for_owner(ann.id).read().episodes] == ["region_eyelid"]

    downgrade(engine, "a0003")
    assert current_revision(engine) == "a0003"
    assert not inspect(engine).has_table("invitations")
    assert accounts.find("bob@example.org") == bob  # accounts made with a code stay
    assert upgrade(engine) == HEAD_REVISION
    assert accounts.list_invitations() == []
    with pytest.raises(InvalidInvitation):
        accounts.create_invited_account(made.code, "cy@example.org", "a long enough password")
    engine.dispose()


def test_a0005_keeps_everything_already_there(url: str, tmp_path: Path) -> None:
    """A database at a0004 holding accounts, sessions, tokens, an invitation, throttling
    counts and a journal: a0005 adds the profiles and changes no row of anything else; a
    profile set then is deleted with its account; back down to a0004 takes only the
    profiles away."""
    path = tmp_path / "accounts.sqlite" if url.startswith("sqlite") else None
    settings = JournalSettings(url, path)
    at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    engine = make_engine(url)
    assert upgrade(engine, "a0004") == "a0004"
    accounts = Accounts(engine, passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=1024)))
    ann = accounts.create_account("ann@example.org", "a long enough password", consent=True)
    bob = accounts.create_account("bob@example.org", "a long enough password")
    login = accounts.create_session(ann.id)
    token = accounts.create_api_token(ann.id, "script", ["read", "write"])
    accounts.create_invitation()
    with pytest.raises(AuthenticationError):
        accounts.login("bob@example.org", "not the password", client="192.0.2.1")
    with open_journal(settings) as journal:
        journal.for_owner(ann.id).add_episode(
            EpisodeIn(day=date(2026, 11, 21), at=at.replace(day=21), region="region_eyelid")
        )
    before = everything(engine)
    assert len(before["login_attempts"]) == 2 and len(before["episodes"]) == 1
    assert not inspect(engine).has_table("profiles")

    assert upgrade(engine, "a0005") == "a0005"
    after = everything(engine)
    assert after.pop("twitchwise_accounts_version") == [("a0005",)]
    assert before.pop("twitchwise_accounts_version") == [("a0004",)]
    assert after.pop("profiles") == []
    assert after == before
    found = accounts.session(login.token)
    assert found is not None and found.account == ann
    used = accounts.api_token(token.token)
    assert used is not None and used.id == token.info.id
    assert accounts.profile(ann.id) == ProfileInfo(None, None)
    assert accounts.set_profile(ann.id, age_band="40-49", sex="female") == ProfileInfo(
        "40-49", "female"
    )
    accounts.set_profile(bob.id, age_band=None, sex="male")
    assert accounts.profile(ann.id) == ProfileInfo("40-49", "female")
    upgrade(engine)  # the repository deletes an account at the head revision
    assert accounts.delete_account(ann.id)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT age_band, sex FROM profiles")).all()
    assert [tuple(r) for r in rows] == [(None, "male")]  # Bob's, left as it was

    downgrade(engine, "a0004")
    assert current_revision(engine) == "a0004"
    assert not inspect(engine).has_table("profiles")
    assert accounts.find("bob@example.org") == bob
    assert upgrade(engine) == HEAD_REVISION
    assert accounts.profile(bob.id) == ProfileInfo(None, None)
    engine.dispose()


def test_a0006_keeps_everything_already_there(url: str, tmp_path: Path) -> None:
    """A database at a0005 holding accounts, sessions, tokens, an invitation, throttling
    counts, a profile and a journal: a0006 adds the answers and changes no row of anything
    else; answers then are kept only with consent, all of them go when it is withdrawn and
    with the account; back down to a0005 takes only the answers away."""
    path = tmp_path / "accounts.sqlite" if url.startswith("sqlite") else None
    settings = JournalSettings(url, path)
    at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    engine = make_engine(url)
    assert upgrade(engine, "a0005") == "a0005"
    accounts = Accounts(engine, passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=1024)))
    ann = accounts.create_account("ann@example.org", "a long enough password", consent=True)
    bob = accounts.create_account("bob@example.org", "a long enough password", consent=True)
    cy = accounts.create_account("cy@example.org", "a long enough password")
    login = accounts.create_session(ann.id)
    token = accounts.create_api_token(ann.id, "script", ["read", "write"])
    accounts.create_invitation()
    accounts.set_profile(ann.id, age_band="30-39", sex="female")
    with pytest.raises(AuthenticationError):
        accounts.login("bob@example.org", "not the password", client="192.0.2.1")
    with open_journal(settings) as journal:
        journal.for_owner(ann.id).add_episode(
            EpisodeIn(day=date(2026, 11, 21), at=at.replace(day=21), region="region_eyelid")
        )
    before = everything(engine)
    assert len(before["profiles"]) == 1 and len(before["episodes"]) == 1
    assert not inspect(engine).has_table("answers")

    assert upgrade(engine) == HEAD_REVISION == "a0006"
    after = everything(engine)
    assert after.pop("twitchwise_accounts_version") == [("a0006",)]
    assert before.pop("twitchwise_accounts_version") == [("a0005",)]
    assert after.pop("answers") == []
    assert after == before
    found = accounts.session(login.token)
    assert found is not None and found.account == ann
    used = accounts.api_token(token.token)
    assert used is not None and used.id == token.info.id
    assert accounts.profile(ann.id) == ProfileInfo("30-39", "female")

    urgent = AnswerInfo(date(2026, 11, 22), "see_doctor_urgent", ("emergency_signs",),
                        ("twitching", "region_eyelid"), 2)  # fmt: skip
    calm = AnswerInfo(date(2026, 11, 21), "self_care", (), ("twitching",), 0)
    assert accounts.record_answer(ann.id, urgent) and accounts.record_answer(ann.id, calm)
    assert accounts.record_answer(bob.id, calm)
    assert not accounts.record_answer(cy.id, calm)  # no consent: nothing kept
    assert accounts.answers(ann.id) == [calm, urgent]
    assert accounts.answers(cy.id) == []
    accounts.set_consent(bob.id, False)
    assert accounts.answers(bob.id) == []
    assert accounts.delete_account(ann.id)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM answers")).scalar_one() == 0

    accounts.set_consent(bob.id, True)
    assert accounts.record_answer(bob.id, calm)
    downgrade(engine, "a0005")
    assert current_revision(engine) == "a0005"
    assert not inspect(engine).has_table("answers")
    assert accounts.find("bob@example.org") == accounts.get(bob.id)
    assert upgrade(engine) == HEAD_REVISION
    assert accounts.answers(bob.id) == []
    engine.dispose()
