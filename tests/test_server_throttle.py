"""Login throttling in the accounts repository (``Accounts.login``, migration ``a0003``), on
SQLite and PostgreSQL: per email and per address, waits that double up to a cap, the same
answer and the same work for an unknown email as for a wrong password, counts kept as hashes
in the database (shared by every worker), and consent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from server_db import Clock, upgraded

pytest.importorskip("argon2", reason="the server extra is not installed")

from argon2 import PasswordHasher
from sqlalchemy import Engine, text

from twitchwise.server.access import AuthenticationError, LoginThrottled
from twitchwise.server.accounts import Accounts
from twitchwise.server.credentials import Passwords
from twitchwise.server.throttle import ACCOUNT, ADDRESS, RESET_AFTER, Policy, keys_for, network

PASSWORD = "correct horse battery"
ANN = "ann@example.org"


class Counting(Passwords):
    """Counts argon2id verifications, real or wasted."""

    verifications = 0

    def verify(self, stored: str, password: str) -> tuple[bool, bool]:
        Counting.verifications += 1
        return super().verify(stored, password)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with upgraded(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(engine: Engine, clock: Clock) -> Accounts:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    made = Accounts(engine, passwords=Counting(hasher), clock=clock)
    made.create_account(ANN, PASSWORD, consent=True)
    return made


def failures(accounts: Accounts, email: str, client: str, n: int) -> None:
    for _ in range(n):
        with pytest.raises(AuthenticationError):
            accounts.login(email, "not the password", client=client)


def test_the_policy_doubles_up_to_the_cap() -> None:
    policy = Policy(free=3, base_s=1, cap_s=10)
    assert [policy.wait(n).total_seconds() for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 10]
    assert ACCOUNT.wait(10**6) == timedelta(seconds=900)
    assert (ACCOUNT.free, ADDRESS.free) == (5, 20)


def test_an_email_waits_after_five_failures_and_the_wait_doubles(
    accounts: Accounts, clock: Clock
) -> None:
    failures(accounts, ANN, "203.0.113.1", 5)
    with pytest.raises(LoginThrottled) as caught:  # even with the right password
        accounts.login(ANN, PASSWORD, client="203.0.113.2")
    assert caught.value.retry_after == 1
    assert "wait 1 second and try again" in str(caught.value)
    clock.wait(1)
    failures(accounts, ANN, "203.0.113.3", 1)  # the sixth failure: now 2 s
    with pytest.raises(LoginThrottled) as caught:
        accounts.login(ANN, PASSWORD)
    assert caught.value.retry_after == 2
    clock.wait(2)
    login = accounts.login(ANN, PASSWORD, client="203.0.113.4")
    assert accounts.session(login.token) is not None
    failures(accounts, ANN, "203.0.113.4", 1)  # a success cleared the email's count
    accounts.login(ANN, PASSWORD)


def test_an_unknown_email_gets_the_same_answer_after_the_same_work(accounts: Accounts) -> None:
    def attempt(email: str) -> tuple[str, int]:
        before = Counting.verifications
        try:
            accounts.login(email, "not the password", client="198.51.100.7")
        except (AuthenticationError, LoginThrottled) as exc:
            return f"{type(exc).__name__}: {exc}", Counting.verifications - before
        raise AssertionError("logged in")

    known = [attempt(ANN) for _ in range(6)]
    unknown = [attempt("zed@example.org") for _ in range(6)]
    assert known == unknown
    assert known[0] == ("AuthenticationError: wrong email or password", 1)
    assert known[5] == ("LoginThrottled: too many failed logins for this email or from this "
                        "address; wait 1 second and try again", 0)  # fmt: skip


def test_an_address_waits_after_twenty_failures_whatever_the_emails(
    accounts: Accounts, clock: Clock
) -> None:
    for n in range(20):
        failures(accounts, f"p{n}@example.org", "2001:db8:1:2::17", 1)
    with pytest.raises(LoginThrottled):  # the same /64, another address in it
        accounts.login(ANN, PASSWORD, client="2001:db8:1:2:ffff::1")
    accounts.login(ANN, PASSWORD, client="2001:db8:1:3::1")  # another /64
    accounts.login(ANN, PASSWORD)  # no address known: the email's count only
    # a success does not clear the address: one good password must not reset it
    with pytest.raises(LoginThrottled):
        accounts.login(ANN, PASSWORD, client="2001:db8:1:2::17")
    clock.wait(RESET_AFTER.total_seconds() + 1)  # an hour without failures: from zero
    accounts.login(ANN, PASSWORD, client="2001:db8:1:2::17")
    failures(accounts, "p0@example.org", "2001:db8:1:2::17", 1)
    accounts.login(ANN, PASSWORD, client="2001:db8:1:2::17")


def test_only_hashes_are_kept_and_rows_are_shared(
    accounts: Accounts, engine: Engine, clock: Clock
) -> None:
    failures(accounts, ANN, "192.0.2.5", 5)
    with engine.connect() as conn:
        found = {tuple(r) for r in conn.execute(text("SELECT key, kind, failures FROM "
                                                     "login_attempts"))}  # fmt: skip
    email_key, address_key = keys_for(ANN, "192.0.2.5")
    assert found == {(email_key.digest, "account", 5), (address_key.digest, "address", 5)}
    assert email_key.digest != hashlib.sha256(ANN.encode()).hexdigest()  # salted by kind
    # another worker (another repository on the same database) sees the same counts
    other = Accounts(engine, passwords=accounts.passwords, clock=clock)
    with pytest.raises(LoginThrottled):
        other.login(ANN, PASSWORD)


def test_networks() -> None:
    assert network("2001:db8::1") == "2001:db8::/64"
    assert network("::ffff:192.0.2.1") == "192.0.2.1"
    assert network(" 192.0.2.1 ") == "192.0.2.1"
    assert network("testclient") == "testclient"


def test_confirming_and_changing_a_password_are_throttled_too(accounts: Accounts) -> None:
    ann = accounts.find(ANN)
    assert ann is not None
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            accounts.confirm_password(ann.id, "not the password", client="192.0.2.8")
    with pytest.raises(LoginThrottled):
        accounts.confirm_password(ann.id, PASSWORD, client="192.0.2.9")
    with pytest.raises(LoginThrottled):
        accounts.change_password(ann.id, PASSWORD, "a new password!", client="192.0.2.9")
    with pytest.raises(LoginThrottled):
        accounts.login(ANN, PASSWORD)


def test_consent_and_a_token_with_its_account(accounts: Accounts) -> None:
    ann = accounts.find(ANN)
    assert ann is not None and ann.consent
    withdrawn = accounts.set_consent(ann.id, False)
    assert withdrawn is not None and not withdrawn.consent
    made = accounts.create_api_token(ann.id, "script", ["read"])
    found = accounts.api_token_account(made.token)
    assert found is not None
    token, account = found
    assert token.id == made.info.id and account.id == ann.id and not account.consent
    assert accounts.api_token_account("twt_" + "x" * 43) is None
