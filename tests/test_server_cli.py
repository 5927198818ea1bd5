"""``twitchwise db upgrade``, ``admin create-user``, ``admin disable-user`` and the invitations'
``admin invite``, ``admin invites`` and ``admin revoke-invite``, on SQLite (the journal's home)
and PostgreSQL (``--database-url``), with their exact output and one-line errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import run
from server_db import Clock, database

pytest.importorskip("argon2", reason="the server extra is not installed")

from twitchwise.cli import app
from twitchwise.server.accounts import Accounts
from twitchwise.server.db import current_revision, make_engine

PASSWORD = "a long enough password"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as found:
        yield found


def with_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_upgrade_create_and_disable(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(["db", "upgrade", "--database-url", url], capsys)
    assert (code, err) == (0, "")
    assert "none -> a0006" in out
    code, out, _ = run(["db", "upgrade", "--database-url", url], capsys)
    assert code == 0 and "up to date (a0006)" in out

    with_stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(
        ["admin", "create-user", "Ann@Example.org", "--password-stdin", "--database-url", url],
        capsys,
    )
    assert (code, err) == (0, "")
    assert out.startswith("created account ann@example.org (")
    engine = make_engine(url)
    accounts = Accounts(engine)
    ann = accounts.authenticate("ann@example.org", PASSWORD)
    login = accounts.create_session(ann.id)

    with_stdin(monkeypatch, PASSWORD + "\n")
    code, _, err = run(
        ["admin", "create-user", "ANN@example.org", "--password-stdin", "--database-url", url],
        capsys,
    )
    assert code == 2 and err == "error: an account for ann@example.org exists already\n"

    code, out, err = run(["admin", "disable-user", "ann@EXAMPLE.org", "--database-url", url],
                         capsys)  # fmt: skip
    assert (code, err) == (0, "")
    assert "disabled account ann@example.org" in out
    assert accounts.session(login.token) is None
    code, _, err = run(["admin", "disable-user", "nobody@example.org", "--database-url", url],
                       capsys)  # fmt: skip
    assert code == 2 and err == "error: there is no account for 'nobody@example.org'\n"
    engine.dispose()


def test_the_password_prompt_asks_twice(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["db", "upgrade", "--database-url", url], capsys)[0] == 0
    result = CliRunner().invoke(
        app,
        ["admin", "create-user", "bob@example.org", "--database-url", url],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    engine = make_engine(url)
    assert Accounts(engine).find("bob@example.org") is not None
    engine.dispose()


def test_the_journal_home_is_the_default_database(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["db", "upgrade"], capsys)
    assert code == 0 and str(home / "journal.sqlite") in out
    assert (home / "journal.sqlite").stat().st_mode & 0o077 == 0  # owner-only
    # the local journal still works in the same file
    assert run(["log", "left calf twitching after 3 coffees"], capsys)[0] == 0
    code, out, _ = run(["export", "--format", "json"], capsys)
    assert code == 0 and "region_calf" in out
    other = home.parent / "other.sqlite"
    monkeypatch.setenv("TWITCHWISE_DATABASE_URL", f"sqlite:///{other}")
    assert run(["db", "upgrade"], capsys)[0] == 0
    engine = make_engine(f"sqlite:///{other}")
    assert current_revision(engine) == "a0006"
    engine.dispose()


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["admin", "create-user", "not-an-email", "--password-stdin"], PASSWORD + "\n",
         "is not an email address"),
        (["admin", "create-user", "ann@example.org", "--password-stdin"], "short\n",
         "a password has 10 to 1024 characters"),
        (["admin", "create-user", "ann@example.org", "--password-stdin"], "",
         "--password-stdin read no password"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str],
    stdin: str,
    message: str,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(["db", "upgrade"], capsys)[0] == 0
    with_stdin(monkeypatch, stdin)
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_before_the_upgrade_and_on_a_broken_database(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["admin", "disable-user", "ann@example.org"], capsys)
    assert code == 2 and "run 'twitchwise db upgrade' first" in err and err.count("\n") == 1
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    for argv in (["db", "upgrade"], ["admin", "disable-user", "ann@example.org"]):
        code, _, err = run([*argv, "--database-url", f"sqlite:///{broken}"], capsys)
        assert code == 2 and err.startswith("error: could not reach sqlite:///"), err
        assert err.count("\n") == 1
    code, _, err = run(["db", "upgrade", "--database-url", "nonsense://"], capsys)
    assert code == 2 and err.count("\n") == 1, err


def test_upgrade_migrates_the_journal_too_and_says_so(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """So that the hosted service can run as a role that cannot change tables."""
    from sqlalchemy import inspect

    from twitchwise.server.db import describe

    where = describe(url)
    code, out, err = run(["db", "upgrade", "--database-url", url], capsys)
    assert (code, err) == (0, "")
    assert out == (
        f"upgraded the journal schema of {where}: none -> 0004\n"
        f"upgraded the accounts schema of {where}: none -> a0006\n"
    )
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"episodes", "days", "imports", "workouts", "experiments", "experiment_days",
            "alembic_version", "accounts", "login_attempts"} <= names  # fmt: skip
    code, out, _ = run(["db", "upgrade", "--database-url", url], capsys)
    assert out == (
        f"the journal schema of {where} is up to date (0004)\n"
        f"the accounts schema of {where} is up to date (a0006)\n"
    )


# --------------------------------------------------------------------------- invitations

#: The invitations' ids, in the order they are made (two share their first 8 characters).
IDS = [
    "3f2a9c1e-5b7d-4c8e-9f01-23456789abcd",
    "7b01d4e2-1111-4a2b-8c3d-4e5f60718293",
    "7b01d4e2-2222-4b3c-9d4e-5f6071829304",
    "c4d5e6f7-0a1b-4c2d-8e3f-405162738495",
]


@pytest.fixture
def made_at(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The commands' clock (from 2026-12-01 12:00 UTC), the invitations' ids (:data:`IDS`)
    and their codes (``twi_`` and one letter repeated), fixed for exact output."""
    import uuid

    from twitchwise.commands import admin
    from twitchwise.server import accounts as accounts_module
    from twitchwise.server.credentials import hash_token

    clock = Clock()
    opened = admin._open

    def with_clock(url: str | None) -> Accounts:
        found = opened(url)
        found.clock = clock
        return found

    ids = iter(uuid.UUID(i) for i in IDS)
    random_id = uuid.uuid4  # for anything made after them (an account)
    letters = iter("ABCD")

    def token(prefix: str) -> tuple[str, str]:
        code = prefix + next(letters) * 43
        return code, hash_token(code)

    monkeypatch.setattr(admin, "_open", with_clock)
    monkeypatch.setattr(accounts_module, "new_token", token)
    monkeypatch.setattr(accounts_module.uuid, "uuid4", lambda: next(ids, None) or random_id())
    return clock


def test_invite_list_and_revoke(
    url: str, made_at: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["db", "upgrade", "--database-url", url], capsys)[0] == 0
    where = ["--database-url", url]
    assert run(["admin", "invites", *where], capsys) == (
        0, "no invitations yet: make one with 'twitchwise admin invite'\n", "")  # fmt: skip

    assert run(["admin", "invite", *where], capsys) == (0, (
        "invitation 3f2a9c1e signs up 1 person until 2026-12-08 12:00 UTC; its code, shown "
        "only now:\n"
        f"twi_{'A' * 43}\n"
    ), "")  # fmt: skip
    made_at.wait(3600)
    code, out, err = run(["admin", "invite", "--expires-days", "30", "--uses", "5", *where],
                         capsys)  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        "invitation 7b01d4e2 signs up 5 people until 2026-12-31 13:00 UTC; its code, shown "
        f"only now:\ntwi_{'B' * 43}\n"
    )
    made_at.wait(3600)
    assert run(["admin", "invite", "--expires-days", "1", *where], capsys)[0] == 0
    made_at.wait(3600)
    assert run(["admin", "invite", *where], capsys)[0] == 0

    # one is used, one revoked, one expires; the codes are never shown again
    engine = make_engine(url)
    Accounts(engine, clock=made_at).create_invited_account(
        "twi_" + "B" * 43, "ann@example.org", PASSWORD
    )
    engine.dispose()
    assert run(["admin", "revoke-invite", "c4d5e6f7", *where], capsys) == (
        0, "revoked invitation c4d5e6f7: its code signs no one up any more\n", "")  # fmt: skip
    made_at.wait(86_400)
    code, out, err = run(["admin", "invites", *where], capsys)
    assert (code, err) == (0, "")
    assert out == (
        "id          created (UTC)     expires (UTC)     uses left  state\n"
        "c4d5e6f7    2026-12-01 15:00  2026-12-08 15:00  1          revoked\n"
        "7b01d4e2-2  2026-12-01 14:00  2026-12-02 14:00  1          expired\n"
        "7b01d4e2-1  2026-12-01 13:00  2026-12-31 13:00  4          live\n"
        "3f2a9c1e    2026-12-01 12:00  2026-12-08 12:00  1          live\n"
    )
    assert "twi_" not in out
    # revoking by a longer part of the id, or the whole id, and again: the same
    again = "revoked invitation 7b01d4e2-1: its code signs no one up any more\n"
    for given in ("7b01d4e2-1", IDS[1], IDS[1].upper()):
        assert run(["admin", "revoke-invite", given, *where], capsys) == (0, again, "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["admin", "invite", "--uses", "0"], "--uses must be 1 to 1000, not 0"),
        (["admin", "invite", "--uses", "1001"], "--uses must be 1 to 1000, not 1001"),
        (["admin", "invite", "--expires-days", "0"], "--expires-days must be 1 to 365, not 0"),
        (["admin", "invite", "--expires-days", "366"],
         "--expires-days must be 1 to 365, not 366"),
        (["admin", "revoke-invite", "7b01d4e2"],
         "several invitations have the id '7b01d4e2'; 'twitchwise admin invites' lists them"),
        (["admin", "revoke-invite", "ffffffff"],
         "there is no invitation with the id 'ffffffff'; 'twitchwise admin invites' lists them"),
        (["admin", "revoke-invite", "7b0"],
         "there is no invitation with the id '7b0'; 'twitchwise admin invites' lists them"),
    ],
)  # fmt: skip
def test_invitation_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, home: Path, made_at: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["db", "upgrade"], capsys)[0] == 0
    for _ in IDS[:3]:
        assert run(["admin", "invite"], capsys)[0] == 0
    assert run(argv, capsys) == (2, "", f"error: {message}\n")


def test_invitations_need_the_upgrade(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["admin", "invite"], ["admin", "invites"], ["admin", "revoke-invite", "abcd"]):
        code, out, err = run(argv, capsys)
        assert (code, out) == (2, "") and err.count("\n") == 1
        assert "run 'twitchwise db upgrade' first" in err
