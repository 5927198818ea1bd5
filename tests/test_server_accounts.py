"""The accounts repository (twitchwise.server.accounts) on SQLite and on PostgreSQL:
passwords, sessions, API tokens, disabling and deleting, checked down to the rows."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from owned_rows import AT, DAY, fill, owners_of, view
from owned_rows import TABLES as OWNED
from server_db import Clock, upgraded

pytest.importorskip("argon2", reason="the server extra is not installed")

from argon2 import PasswordHasher
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from twitchwise.errors import InputError
from twitchwise.journal.records import EpisodeIn
from twitchwise.journal.settings import JournalSettings
from twitchwise.journal.store import erase_owner, open_journal
from twitchwise.server.accounts import Accounts, AuthenticationError, ProfileInfo
from twitchwise.server.credentials import Passwords

PASSWORD = "correct horse battery"


def cheap() -> Passwords:
    """argon2id with small parameters: the same code, quicker tests."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with upgraded(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(engine: Engine, clock: Clock) -> Accounts:
    return Accounts(engine, passwords=cheap(), clock=clock)


def rows(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def test_create_and_authenticate_whatever_the_case_of_the_email(accounts: Accounts) -> None:
    made = accounts.create_account("  Ann@Example.ORG ", PASSWORD)
    assert made.email == "ann@example.org"
    assert not made.disabled and not made.consent  # consent is off until given
    assert accounts.authenticate("ANN@example.org", PASSWORD).id == made.id
    assert accounts.find("ann@EXAMPLE.org") == made
    assert isinstance(made.id, uuid.UUID) and made.id.version == 4  # not guessable


def test_an_email_is_unique_whatever_its_case(accounts: Accounts, engine: Engine) -> None:
    accounts.create_account("ann@example.org", PASSWORD)
    with pytest.raises(InputError, match="exists already"):
        accounts.create_account("ANN@example.org", PASSWORD)
    # the database itself refuses it too (a unique index on lower(email))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, email, password_hash, created_at, disabled, consent) "
                "VALUES (:id, 'Ann@Example.org', 'x', :at, false, false)"
            ),
            {"id": uuid.uuid4().hex if engine.dialect.name == "sqlite" else uuid.uuid4(),
             "at": datetime.now(UTC)},
        )


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not an email", PASSWORD, "email"), ("a@b", PASSWORD, "email"),
     ("ann@example.org", "short", "password"), ("ann@example.org", "x" * 1025, "password")],
)  # fmt: skip
def test_bad_input_is_an_input_error(
    accounts: Accounts, email: str, password: str, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        accounts.create_account(email, password)
    assert caught.value.field == field


class Counting(Passwords):
    """Counts the argon2id verifications (real or wasted) a login does."""

    verifications = 0

    def verify(self, stored: str, password: str) -> tuple[bool, bool]:
        Counting.verifications += 1
        return super().verify(stored, password)


def test_a_failed_login_says_the_same_after_the_same_work(engine: Engine) -> None:
    accounts = Accounts(engine, passwords=Counting(PasswordHasher(time_cost=1, memory_cost=1024)))
    made = accounts.create_account("ann@example.org", PASSWORD)
    accounts.create_account("bob@example.org", PASSWORD)
    accounts.disable_account(made.id)
    messages = set()
    for email, password in [
        ("nobody@example.org", PASSWORD),  # unknown
        ("bob@example.org", "wrong password!"),  # wrong password
        ("ann@example.org", PASSWORD),  # disabled
    ]:
        before = Counting.verifications
        with pytest.raises(AuthenticationError) as caught:
            accounts.authenticate(email, password)
        assert Counting.verifications - before == 1, email
        messages.add(str(caught.value))
    assert messages == {"wrong email or password"}


def test_passwords_are_argon2id_and_rehashed_when_the_parameters_change(
    engine: Engine,
) -> None:
    old = Accounts(engine, passwords=cheap())
    made = old.create_account("ann@example.org", PASSWORD)
    [(stored,)] = rows(engine, "SELECT password_hash FROM accounts")
    assert isinstance(stored, str) and stored.startswith("$argon2id$") and "m=1024" in stored
    assert PASSWORD not in stored
    new = Accounts(engine, passwords=Passwords(PasswordHasher(time_cost=2, memory_cost=2048)))
    assert new.authenticate("ann@example.org", PASSWORD).id == made.id
    [(rehashed,)] = rows(engine, "SELECT password_hash FROM accounts")
    assert isinstance(rehashed, str) and "m=2048,t=2" in rehashed
    assert new.authenticate("ann@example.org", PASSWORD).id == made.id


def test_sessions_are_stored_hashed_and_expire(accounts: Accounts, engine: Engine,
                                               clock: Clock) -> None:  # fmt: skip
    made = accounts.create_account("ann@example.org", PASSWORD)
    login = accounts.create_session(made.id)
    [(stored_id,)] = rows(engine, "SELECT id FROM sessions")
    assert stored_id == hashlib.sha256(login.token.encode()).hexdigest()
    assert login.token not in str(rows(engine, "SELECT * FROM sessions"))
    found = accounts.session(login.token)
    assert found is not None and found.account.id == made.id
    assert accounts.session(login.token + "x") is None
    assert accounts.session("") is None
    clock.now += accounts.session_ttl - timedelta(seconds=1)
    assert accounts.session(login.token) is not None
    clock.now += timedelta(seconds=1)
    assert accounts.session(login.token) is None  # expired


def test_log_out_and_log_out_everywhere(accounts: Accounts) -> None:
    ann = accounts.create_account("ann@example.org", PASSWORD)
    bob = accounts.create_account("bob@example.org", PASSWORD)
    phone, laptop, tablet = (accounts.create_session(ann.id) for _ in range(3))
    bobs = accounts.create_session(bob.id)
    assert accounts.revoke_session(phone.token)
    assert not accounts.revoke_session(phone.token)
    assert accounts.session(phone.token) is None
    assert accounts.revoke_all_sessions(ann.id) == 2
    assert accounts.session(laptop.token) is None and accounts.session(tablet.token) is None
    assert accounts.session(bobs.token) is not None  # someone else's stays


def test_changing_the_password_revokes_the_other_sessions(accounts: Accounts) -> None:
    ann = accounts.create_account("ann@example.org", PASSWORD)
    here, elsewhere = accounts.create_session(ann.id), accounts.create_session(ann.id)
    with pytest.raises(AuthenticationError):
        accounts.change_password(ann.id, "not the password", "a new long password")
    with pytest.raises(InputError):
        accounts.change_password(ann.id, PASSWORD, "short")
    accounts.change_password(ann.id, PASSWORD, "a new long password", keep_session=here.token)
    assert accounts.session(here.token) is not None
    assert accounts.session(elsewhere.token) is None
    with pytest.raises(AuthenticationError):
        accounts.authenticate("ann@example.org", PASSWORD)
    assert accounts.authenticate("ann@example.org", "a new long password").id == ann.id


def test_api_tokens_are_scoped_hashed_listed_and_revoked(
    accounts: Accounts, engine: Engine, clock: Clock
) -> None:
    ann = accounts.create_account("ann@example.org", PASSWORD)
    bob = accounts.create_account("bob@example.org", PASSWORD)
    reader = accounts.create_api_token(ann.id, "my script", ["read"])
    writer = accounts.create_api_token(ann.id, "sync", {"write", "read"})
    accounts.create_api_token(bob.id, "bob's", ["read"])
    assert reader.token.startswith("twt_") and reader.token != writer.token
    assert reader.info.scopes == ("read",) and writer.info.scopes == ("read", "write")
    stored = rows(engine, "SELECT token_hash FROM api_tokens")
    assert (hashlib.sha256(reader.token.encode()).hexdigest(),) in stored
    assert all(t.token not in str(rows(engine, "SELECT * FROM api_tokens"))
               for t in (reader, writer))  # fmt: skip
    with pytest.raises(InputError):
        accounts.create_api_token(ann.id, "x", ["admin"])
    with pytest.raises(InputError):
        accounts.create_api_token(ann.id, "x", [])
    with pytest.raises(InputError):
        accounts.create_api_token(ann.id, " ", ["read"])

    clock.now += timedelta(minutes=5)
    used = accounts.api_token(reader.token)
    assert used is not None and used.account_id == ann.id and used.last_used_at == clock.now
    assert accounts.api_token(reader.token[:-1]) is None
    listed = accounts.list_api_tokens(ann.id)
    assert {t.name for t in listed} == {"my script", "sync"}  # never bob's
    assert not hasattr(listed[0], "token")  # the secret is shown once, when made

    assert not accounts.revoke_api_token(bob.id, reader.info.id)  # not bob's to revoke
    assert accounts.revoke_api_token(ann.id, reader.info.id)
    assert accounts.api_token(reader.token) is None
    assert accounts.api_token(writer.token) is not None


def test_a_disabled_account_can_do_nothing(accounts: Accounts) -> None:
    ann = accounts.create_account("ann@example.org", PASSWORD)
    login = accounts.create_session(ann.id)
    token = accounts.create_api_token(ann.id, "t", ["read"])
    assert accounts.disable_account(ann.id)
    assert accounts.session(login.token) is None
    assert accounts.api_token(token.token) is None
    with pytest.raises(AuthenticationError):
        accounts.create_session(ann.id)
    with pytest.raises(AuthenticationError):
        accounts.create_api_token(ann.id, "t", ["read"])
    assert not accounts.disable_account(uuid.uuid4())


def test_deleting_an_account_leaves_no_row_of_it(accounts: Accounts, engine: Engine) -> None:
    ann = accounts.create_account("ann@example.org", PASSWORD)
    bob = accounts.create_account("bob@example.org", PASSWORD)
    for person in (ann, bob):
        accounts.create_session(person.id)
        accounts.create_session(person.id)
        accounts.create_api_token(person.id, "t", ["read", "write"])
        accounts.set_profile(person.id, age_band="50-59", sex="male")
    assert accounts.delete_account(ann.id)
    assert not accounts.delete_account(ann.id)
    key = ann.id.hex if engine.dialect.name == "sqlite" else ann.id
    for table, column in [("accounts", "id"), ("sessions", "account_id"),
                          ("api_tokens", "account_id"), ("profiles", "account_id")]:  # fmt: skip
        assert rows(engine, f"SELECT count(*) FROM {table} WHERE {column} = :key", key=key) == [
            (0,)
        ], table
    assert "ann@example.org" not in str(rows(engine, "SELECT * FROM accounts"))
    # bob's are all there
    assert rows(engine, "SELECT count(*) FROM sessions") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM api_tokens") == [(1,)]
    assert accounts.profile(bob.id) == ProfileInfo("50-59", "male")
    assert accounts.authenticate("bob@example.org", PASSWORD).id == bob.id


def test_a_profile_is_optional_and_from_closed_lists(accounts: Accounts, engine: Engine) -> None:
    from twitchwise.cohort.format import AGE_BANDS as COHORT_AGE_BANDS
    from twitchwise.cohort.format import SEXES as COHORT_SEXES
    from twitchwise.server.accounts import AGE_BANDS, SEXES

    assert (AGE_BANDS, SEXES) == (COHORT_AGE_BANDS, COHORT_SEXES)  # the cohort's own values
    ann = accounts.create_account("ann@example.org", PASSWORD)
    assert accounts.profile(ann.id) == ProfileInfo(None, None)
    assert accounts.set_profile(ann.id, age_band="18-29", sex="") == ProfileInfo("18-29", None)
    assert accounts.set_profile(ann.id, age_band="70+", sex="Female") == ProfileInfo(
        "70+", "female"
    )
    assert rows(engine, "SELECT age_band, sex FROM profiles") == [("70+", "female")]
    refused = [
        ("17", None, "age_band"),
        ("1990-04-02", None, "age_band"),
        (None, "other", "sex"),
        ("30-39", "prefer not to say", "sex"),
    ]
    for band, sex, field in refused:
        with pytest.raises(InputError) as caught:
            accounts.set_profile(ann.id, age_band=band, sex=sex)
        assert caught.value.field == field
    assert accounts.profile(ann.id) == ProfileInfo("70+", "female")  # unchanged
    assert accounts.set_profile(ann.id, age_band=None, sex=None) == ProfileInfo(None, None)
    assert rows(engine, "SELECT count(*) FROM profiles") == [(0,)]  # nothing kept
    with pytest.raises(AuthenticationError):
        accounts.set_profile(uuid.uuid4(), age_band="30-39", sex=None)


def test_an_answer_is_recorded_only_with_consent_and_without_text(
    accounts: Accounts, engine: Engine
) -> None:
    from datetime import date

    from twitchwise.cohort.format import LEVELS
    from twitchwise.server.accounts import ANSWER_LEVELS, AnswerInfo

    assert ANSWER_LEVELS == LEVELS  # the cohort's own values
    ann = accounts.create_account("ann@example.org", PASSWORD, consent=True)
    bob = accounts.create_account("bob@example.org", PASSWORD)
    one = AnswerInfo(date(2026, 3, 1), "see_doctor_routine", ("emergency_signs",), ("twitching",))
    assert accounts.record_answer(ann.id, one) and accounts.answers(ann.id) == [one]
    assert not accounts.record_answer(bob.id, one) and accounts.answers(bob.id) == []
    assert not accounts.record_answer(uuid.uuid4(), one)
    refused = [
        (AnswerInfo(one.day, "urgent"), "level"),
        (AnswerInfo(one.day, "self_care", ("my eyelid twitches",)), "questions"),
        (AnswerInfo(one.day, "self_care", (), ("Twitching",)), "findings"),
        (AnswerInfo(one.day, "self_care", (), (), -1), "not_understood"),
    ]
    for answer, field in refused:
        with pytest.raises(InputError) as caught:
            accounts.record_answer(ann.id, answer)
        assert caught.value.field == field
    accounts.disable_account(ann.id)
    assert not accounts.record_answer(ann.id, one)
    accounts.set_consent(ann.id, False)
    assert rows(engine, "SELECT count(*) FROM answers") == [(0,)]


def _journal_settings(engine: Engine) -> JournalSettings:
    """The journal in the accounts' own database (as the hosted service keeps it)."""
    database = engine.url.database
    path = Path(database) if engine.dialect.name == "sqlite" and database else None
    return JournalSettings(engine.url.render_as_string(hide_password=False), path)


def test_deleting_an_account_deletes_its_journal_for_good(
    accounts: Accounts, engine: Engine
) -> None:
    ann = accounts.create_account("ann@example.org", PASSWORD)
    bob = accounts.create_account("bob@example.org", PASSWORD)
    with open_journal(_journal_settings(engine)) as journal:  # the local owner's
        journal.add_episode(EpisodeIn(at=AT, day=DAY, uid="local"))
        fill(journal.for_owner(ann.id), "ANN")
        fill(journal.for_owner(bob.id), "BOB")
        bob_view = view(journal.for_owner(bob.id))
    before = {table: owners_of(engine, table) for table in OWNED}
    assert all(before[table][ann.id] > 0 for table in OWNED)
    assert accounts.delete_account(ann.id)
    for table in OWNED:  # every row of ann's, and nothing else
        after = owners_of(engine, table)
        assert after[ann.id] == 0, table
        assert after == before[table] - Counter({ann.id: before[table][ann.id]}), table
    with open_journal(_journal_settings(engine)) as journal:
        assert view(journal.for_owner(bob.id)) == bob_view
        assert journal.for_owner(ann.id).counts() == dict.fromkeys(
            ("episodes", "workouts", "days", "imports"), 0
        )
        assert [e.uid for e in journal.read().episodes] == ["local"]


def test_an_account_and_its_journal_go_in_one_transaction(
    accounts: Accounts, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When anything of the deletion fails, the journal is kept whole along with the account."""
    ann = accounts.create_account("ann@example.org", PASSWORD)
    with open_journal(_journal_settings(engine)) as journal:
        fill(journal.for_owner(ann.id), "ANN")
    before = {table: owners_of(engine, table) for table in OWNED}
    import twitchwise.server.accounts as module

    def erase_then_fail(connection: object, owner: uuid.UUID) -> dict[str, int]:
        erased = erase_owner(connection, owner)  # type: ignore[arg-type]
        assert sum(erased.values()) > 0
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(module, "erase_owner", erase_then_fail)
    with pytest.raises(RuntimeError, match="disk is full"):
        accounts.delete_account(ann.id)
    assert {table: owners_of(engine, table) for table in OWNED} == before
    assert accounts.get(ann.id) == ann


def test_deleting_an_account_without_a_journal_in_the_database(accounts: Accounts) -> None:
    ann = accounts.create_account("ann@example.org", PASSWORD)
    assert accounts.delete_account(ann.id)
    assert accounts.get(ann.id) is None
