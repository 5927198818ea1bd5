"""Invitations in the accounts repository (migration ``a0004``), on SQLite and PostgreSQL: a
code shown once and kept as a hash, expiring, with a use count; spending a use and making the
account in one transaction (two people racing for a one-use code: exactly one wins); the same
error for a wrong, expired, used-up and revoked code; guesses throttled with the logins."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from server_db import Clock, upgraded

pytest.importorskip("argon2", reason="the server extra is not installed")

from argon2 import PasswordHasher
from sqlalchemy import Engine, text

from twitchwise.errors import InputError
from twitchwise.server.access import (
    AuthenticationError,
    InvalidInvitation,
    InvitationThrottled,
    LoginThrottled,
)
from twitchwise.server.accounts import AccountInfo, Accounts, InvitationInfo
from twitchwise.server.credentials import Passwords
from twitchwise.server.throttle import ADDRESS, invitation_keys, keys_for

PASSWORD = "a long enough password"
INVALID = (
    "this invitation code does not work: it is mistyped, expired, used up or withdrawn; ask "
    "the people who run this twitchwise for a new one"
)


class Counting(Passwords):
    """Counts argon2id hashes: the work a sign-up does."""

    hashes = 0

    def hash(self, password: str) -> str:
        Counting.hashes += 1
        return super().hash(password)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with upgraded(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _passwords() -> Passwords:
    return Counting(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def accounts(engine: Engine, clock: Clock) -> Accounts:
    return Accounts(engine, passwords=_passwords(), clock=clock)


def emails(engine: Engine) -> list[str]:
    """Every account's email, read as the tables' owner (a superuser on PostgreSQL)."""
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(text("SELECT email FROM accounts")))


def refused(call: Callable[[], object]) -> str:
    with pytest.raises(InvalidInvitation) as caught:
        call()
    return str(caught.value)


def test_a_code_is_shown_once_and_kept_as_its_hash(accounts: Accounts, engine: Engine) -> None:
    made = accounts.create_invitation()
    assert made.code.startswith("twi_") and len(made.code) == 4 + 43  # 32 random bytes
    assert made.info.uses_left == 1
    assert made.info.expires_at - made.info.created_at == timedelta(days=7)
    assert made.info.id.version == 4
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM invitations"))]
    assert len(rows) == 1
    assert hashlib.sha256(made.code.encode()).hexdigest() in rows[0]
    assert not any(made.code in str(value) for value in rows[0])
    other = accounts.create_invitation(days=30, uses=3)
    assert other.code != made.code
    assert (other.info.uses_left, other.info.expires_at - other.info.created_at) == (
        3,
        timedelta(days=30),
    )


def test_a_code_signs_up_as_many_people_as_it_has_uses(
    accounts: Accounts, engine: Engine
) -> None:
    made = accounts.create_invitation(uses=2)
    ann = accounts.create_invited_account(made.code, "Ann@Example.org", PASSWORD, consent=True)
    assert isinstance(ann, AccountInfo) and ann.email == "ann@example.org" and ann.consent
    assert accounts.authenticate("ann@example.org", PASSWORD) == ann
    bob = accounts.create_invited_account(f"  {made.code}\n", "bob@example.org", PASSWORD)
    assert not bob.consent
    assert refused(lambda: accounts.create_invited_account(made.code, "cy@example.org", PASSWORD))
    assert emails(engine) == ["ann@example.org", "bob@example.org"]
    [listed] = accounts.list_invitations()
    assert listed.uses_left == 0 and listed.state(accounts.clock()) == "used up"


def test_every_code_that_does_not_work_gets_the_same_error_and_no_account(
    accounts: Accounts, engine: Engine, clock: Clock
) -> None:
    wrong = "twi_" + "x" * 43
    used = accounts.create_invitation()
    accounts.create_invited_account(used.code, "first@example.org", PASSWORD)
    expired = accounts.create_invitation(days=1)
    revoked = accounts.create_invitation()
    assert accounts.revoke_invitation(revoked.info.id) is not None
    clock.wait(timedelta(days=1).total_seconds())
    live = accounts.create_invitation()
    codes = (wrong, used.code, expired.code, revoked.code, "anything", used.code[:-1])
    messages = {
        refused(lambda c=code: accounts.create_invited_account(c, "eve@example.org", PASSWORD))
        for code in codes
    }
    assert messages == {INVALID}
    assert emails(engine) == ["first@example.org"]
    states = {i.id: i.state(clock()) for i in accounts.list_invitations()}
    assert states == {
        used.info.id: "used up",
        expired.info.id: "expired",
        revoked.info.id: "revoked",
        live.info.id: "live",
    }
    # a code just before its expiry works
    clock.wait(timedelta(days=7).total_seconds() - 1)
    assert accounts.create_invited_account(live.code, "eve@example.org", PASSWORD)


def test_a_wrong_code_costs_no_password_hash(accounts: Accounts) -> None:
    before = Counting.hashes
    refused(lambda: accounts.create_invited_account("twi_wrong", "eve@example.org", PASSWORD))
    assert Counting.hashes == before


def test_bad_input_takes_no_use(accounts: Accounts, engine: Engine) -> None:
    made = accounts.create_invitation()
    accounts.create_account("ann@example.org", PASSWORD)
    with pytest.raises(InputError, match=r"an account for ann@example\.org exists already"):
        accounts.create_invited_account(made.code, "ANN@example.org", PASSWORD)
    with pytest.raises(InputError, match="is not an email address"):
        accounts.create_invited_account(made.code, "ann", PASSWORD)
    with pytest.raises(InputError, match="a password has 10 to 1024 characters"):
        accounts.create_invited_account(made.code, "bob@example.org", "short")
    with pytest.raises(InputError, match="give the invitation code you were sent"):
        accounts.create_invited_account("  ", "bob@example.org", PASSWORD)
    [listed] = accounts.list_invitations()
    assert listed.uses_left == 1  # the refused account gave its use back
    accounts.create_invited_account(made.code, "bob@example.org", PASSWORD)
    assert emails(engine) == ["ann@example.org", "bob@example.org"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"days": 0}, "an invitation lasts 1 to 365 days, not 0"),
        ({"days": 366}, "an invitation lasts 1 to 365 days, not 366"),
        ({"uses": 0}, "an invitation signs up 1 to 1000 people, not 0"),
        ({"uses": 1001}, "an invitation signs up 1 to 1000 people, not 1001"),
    ],
)
def test_an_invitation_lasts_and_counts_within_limits(
    accounts: Accounts, options: dict[str, int], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        accounts.create_invitation(**options)
    assert accounts.list_invitations() == []


def test_listing_and_revoking(accounts: Accounts, clock: Clock) -> None:
    first = accounts.create_invitation()
    clock.wait(60)
    second = accounts.create_invitation(uses=5)
    listed = accounts.list_invitations()
    assert [i.id for i in listed] == [second.info.id, first.info.id]  # newest first
    assert all(isinstance(i, InvitationInfo) for i in listed)
    assert listed[0] == second.info
    clock.wait(60)
    revoked = accounts.revoke_invitation(first.info.id)
    assert revoked is not None and revoked.revoked_at == clock()
    clock.wait(60)
    again = accounts.revoke_invitation(first.info.id)  # already: unchanged
    assert again is not None and again.revoked_at == revoked.revoked_at
    assert accounts.revoke_invitation(uuid.uuid4()) is None
    assert refused(lambda: accounts.create_invited_account(first.code, "a@example.org", PASSWORD))


def test_code_guesses_are_throttled_with_the_logins_of_their_address(
    accounts: Accounts, clock: Clock
) -> None:
    made = accounts.create_invitation()
    accounts.create_account("ann@example.org", PASSWORD)
    for n in range(ADDRESS.free):  # twenty wrong codes from one address are free
        with pytest.raises(InvalidInvitation):
            accounts.create_invited_account(
                f"twi_guess{n}", f"e{n}@example.org", PASSWORD, client="192.0.2.7"
            )
    with pytest.raises(InvitationThrottled) as caught:  # the right code is not even checked
        accounts.create_invited_account(made.code, "bob@example.org", PASSWORD, client="192.0.2.7")
    assert caught.value.retry_after == 1
    assert str(caught.value) == (
        "too many wrong invitation codes or failed logins from this address; wait 1 second "
        "and try again"
    )
    assert isinstance(caught.value, LoginThrottled)
    with pytest.raises(LoginThrottled):  # the same key as this address's logins
        accounts.login("ann@example.org", PASSWORD, client="192.0.2.7")
    # another address, or this one after the wait, signs up with the right code
    clock.wait(1)
    bob = accounts.create_invited_account(
        made.code, "bob@example.org", PASSWORD, client="192.0.2.7"
    )
    assert bob.email == "bob@example.org"
    # and wrong passwords count against code guesses from the same address
    for n in range(ADDRESS.free):
        with pytest.raises(AuthenticationError):
            accounts.login(f"n{n}@example.org", "wrong password", client="198.51.100.1")
    other = accounts.create_invitation()
    with pytest.raises(InvitationThrottled):
        accounts.create_invited_account(
            other.code, "cy@example.org", PASSWORD, client="198.51.100.1"
        )
    assert accounts.create_invited_account(other.code, "cy@example.org", PASSWORD, client="x")
    assert invitation_keys("192.0.2.7") == keys_for("anyone@example.org", "192.0.2.7")[1:]
    assert invitation_keys(None) == ()


def test_a_racing_sign_up_for_the_last_use_finds_it_taken(
    accounts: Accounts, engine: Engine
) -> None:
    """The code passed the first look, then someone else spent it before this transaction:
    the same error, no account, and not counted as a guess."""
    made = accounts.create_invitation()
    first_look = accounts._invitation_usable

    def someone_else_first(digest: str) -> bool:
        usable = first_look(digest)
        accounts._invitation_usable = first_look  # type: ignore[method-assign]
        accounts.create_invited_account(made.code, "fast@example.org", PASSWORD)
        return usable

    accounts._invitation_usable = someone_else_first  # type: ignore[method-assign]
    assert refused(
        lambda: accounts.create_invited_account(
            made.code, "slow@example.org", PASSWORD, client="192.0.2.1"
        )
    ) == INVALID
    assert emails(engine) == ["fast@example.org"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM login_attempts")).scalar() == 0


@pytest.mark.parametrize("uses", [1, 3])
def test_many_people_racing_for_a_code_take_exactly_its_uses(
    engine: Engine, uses: int
) -> None:
    """Eight threads, each a worker's repository on its own connection, sign up with one
    code at the same moment: exactly ``uses`` get an account."""
    made = Accounts(engine, passwords=_passwords()).create_invitation(uses=uses)
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def person(n: int) -> None:
        mine = Accounts(engine, passwords=_passwords())
        start.wait()
        try:
            mine.create_invited_account(made.code, f"p{n}@example.org", PASSWORD)
        except InvalidInvitation:
            outcomes.append("refused")
        else:
            outcomes.append("made")

    threads = [threading.Thread(target=person, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["made"] * uses + ["refused"] * (8 - uses)
    assert len(emails(engine)) == uses
    [listed] = Accounts(engine).list_invitations()
    assert listed.uses_left == 0


def test_two_people_blocked_on_a_one_use_code_exactly_one_wins(tmp_path: Path) -> None:
    """On PostgreSQL, both sign-ups are made to wait on the invitation's row (a third
    transaction holds it) after both have passed the first look and hashed their password;
    then the row is let go and both spend at once: one account, one refusal, no use left."""
    from twitchwise.server.db import make_engine

    with upgraded("postgresql", tmp_path) as engine:
        made = Accounts(engine, passwords=_passwords()).create_invitation()
        name = "tw_race_" + secrets.token_hex(4)
        url = engine.url.render_as_string(hide_password=False)
        racers = make_engine(url, connect_args={"application_name": name})
        outcomes: dict[str, str] = {}

        def person(email: str) -> None:
            try:
                Accounts(racers, passwords=_passwords()).create_invited_account(
                    made.code, email, PASSWORD
                )
            except InvalidInvitation as exc:
                outcomes[email] = str(exc)
            else:
                outcomes[email] = "made"

        threads = [
            threading.Thread(target=person, args=(e,))
            for e in ("ann@example.org", "bob@example.org")
        ]
        try:
            with engine.connect() as holder:
                holder.execute(text("SELECT 1 FROM invitations FOR UPDATE"))  # as the owner
                for thread in threads:
                    thread.start()
                waiting = _wait_for_lock_waits(engine, name, 2)
                assert waiting == 2, "both sign-ups should wait on the invitation's row"
                holder.commit()  # let both go at once
            for thread in threads:
                thread.join(60)
        finally:
            racers.dispose()
        assert sorted(outcomes.values()) == sorted(["made", INVALID])
        winner = next(e for e, o in outcomes.items() if o == "made")
        assert emails(engine) == [winner]
        [listed] = Accounts(engine).list_invitations()
        assert listed.uses_left == 0


def _wait_for_lock_waits(engine: Engine, application: str, wanted: int) -> int:
    """How many sessions of ``application`` wait for a lock, once ``wanted`` do (or 20 s)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = :name AND wait_event_type = 'Lock'"
    )
    found = 0
    deadline = time.monotonic() + 20
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            found = int(conn.execute(query, {"name": application}).scalar_one())
            conn.rollback()
            if found >= wanted:
                break
            time.sleep(0.05)
    return found
