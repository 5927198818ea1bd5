"""``twitchwise db upgrade``, ``twitchwise admin create-user`` and ``admin disable-user``: the
hosted service's accounts (docs/hosted.md).

The accounts live in the database of ``--database-url``, else ``TWITCHWISE_DATABASE_URL``,
else the journal's SQLite file. Everything of :mod:`twitchwise.server` (argon2, psycopg) is
imported inside the commands, so the other commands start as fast as before.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.errors import ConfigError, InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from twitchwise.server.accounts import Accounts

db_app = typer.Typer(
    name="db",
    help="The hosted service's database: run its migrations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
admin_app = typer.Typer(
    name="admin",
    help="Manage the hosted service's accounts: create or disable a user.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the database (default: TWITCHWISE_DATABASE_URL, else the "
        "journal's SQLite file), e.g. postgresql+psycopg://twitchwise@db/twitchwise.",
    ),
]


def _server_extra() -> None:
    try:
        import argon2  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "the accounts need the server extra: pip install 'twitchwise[server]'"
        ) from exc


def _connect(database_url: str | None) -> tuple[Engine, str, str | None]:
    """An engine for the database, its URL for messages and its accounts revision."""
    _server_extra()
    from twitchwise.server.db import DatabaseError, current_revision, describe, make_engine
    from twitchwise.server.db import database_url as url_of

    url = url_of(database_url)
    engine = make_engine(url)
    try:
        return engine, describe(url), current_revision(engine)
    except Exception as exc:  # any driver error (refused, unknown database...): one line
        engine.dispose()
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseError(f"could not reach {describe(url)}: {detail}") from exc


def db_upgrade(database_url: DatabaseUrlOpt = None) -> None:
    """Create or upgrade the journal's tables and the accounts' (accounts, sessions, API
    tokens, login throttling).

    Example: twitchwise db upgrade --database-url postgresql+psycopg://twitchwise@db/twitchwise
    """
    engine, where, before = _connect(database_url)
    from twitchwise.journal.settings import JournalSettings
    from twitchwise.journal.store import current_revision as journal_revision
    from twitchwise.journal.store import open_journal
    from twitchwise.server.db import database_url as url_of
    from twitchwise.server.db import upgrade

    try:
        journal_before = journal_revision(engine)
        open_journal(JournalSettings.from_url(url_of(database_url))).close()  # migrates it
        journal_after = journal_revision(engine)
        after = upgrade(engine)
    finally:
        engine.dispose()
    for what, was, now in (("journal", journal_before, journal_after), ("accounts", before, after)):
        if was == now:
            typer.echo(f"the {what} schema of {where} is up to date ({now})")
        else:
            typer.echo(f"upgraded the {what} schema of {where}: {was or 'none'} -> {now}")


def _open(database_url: str | None) -> Accounts:
    """The accounts of an upgraded database, else one line saying to upgrade it."""
    engine, where, at = _connect(database_url)
    from twitchwise.server.accounts import Accounts
    from twitchwise.server.db import HEAD_REVISION

    if at != HEAD_REVISION:
        engine.dispose()
        raise ConfigError(
            f"the accounts schema of {where} is at {at or 'none'}, not "
            f"{HEAD_REVISION}: run 'twitchwise db upgrade' first"
        )
    return Accounts(engine)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not line:
            raise InputError("--password-stdin read no password: give it on the first line")
        return line
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


def create_user(
    email: Annotated[str, typer.Argument(help="The person's email address (their login).")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of standard input instead of a prompt.",
        ),
    ] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create an account; the password is asked for twice (or read with --password-stdin).

    Example: twitchwise admin create-user ann@example.org
    """
    _server_extra()
    from twitchwise.server.accounts import check_email, check_password

    email = check_email(email)
    accounts = _open(database_url)
    try:
        password = check_password(_read_password(password_stdin))
        made = accounts.create_account(email, password)
    finally:
        accounts.engine.dispose()
    typer.echo(f"created account {made.email} ({made.id})")


def disable_user(
    email: Annotated[str, typer.Argument(help="The email address of the account.")],
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Disable an account: no more logins, and its sessions and API tokens are revoked.

    Example: twitchwise admin disable-user ann@example.org
    """
    accounts = _open(database_url)
    try:
        found = accounts.find(email)
        if found is None:
            raise InputError(f"there is no account for {email.strip()!r}", field="email")
        accounts.disable_account(found.id)
    finally:
        accounts.engine.dispose()
    typer.echo(f"disabled account {found.email}: its sessions and API tokens are revoked")


def register(app: typer.Typer) -> None:
    db_app.command("upgrade")(db_upgrade)
    admin_app.command("create-user")(create_user)
    admin_app.command("disable-user")(disable_user)
    app.add_typer(db_app, name="db")
    app.add_typer(admin_app, name="admin")
