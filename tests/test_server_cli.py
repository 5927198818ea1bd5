"""``twitchwise db upgrade``, ``admin create-user`` and ``admin disable-user``, on SQLite (the
journal's home) and PostgreSQL (``--database-url``), with their one-line errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import run
from server_db import database

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
    assert "none -> a0003" in out
    code, out, _ = run(["db", "upgrade", "--database-url", url], capsys)
    assert code == 0 and "up to date (a0003)" in out

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
    assert current_revision(engine) == "a0003"
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
        f"upgraded the accounts schema of {where}: none -> a0003\n"
    )
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"episodes", "days", "imports", "workouts", "experiments", "experiment_days",
            "alembic_version", "accounts", "login_attempts"} <= names  # fmt: skip
    code, out, _ = run(["db", "upgrade", "--database-url", url], capsys)
    assert out == (
        f"the journal schema of {where} is up to date (0004)\n"
        f"the accounts schema of {where} is up to date (a0003)\n"
    )
