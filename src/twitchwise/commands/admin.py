"""``twitchwise db upgrade``, ``twitchwise admin create-user`` and ``admin disable-user``: the
hosted service's accounts; ``admin invite``, ``admin invites`` and ``admin revoke-invite``:
its invitation codes, for sign-up by invitation (docs/hosted.md).

The accounts live in the database of ``--database-url``, else ``TWITCHWISE_DATABASE_URL``,
else the journal's SQLite file. Everything of :mod:`twitchwise.server` (argon2, psycopg) is
imported inside the commands, so the other commands start as fast as before.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.errors import ConfigError, InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from twitchwise.server.accounts import Accounts, InvitationInfo

db_app = typer.Typer(
    name="db",
    help="The hosted service's database: run its migrations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
admin_app = typer.Typer(
    name="admin",
    help="Manage the hosted service's accounts: create or disable a user, invite people.",
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


# --------------------------------------------------------------------------- invitations

#: The shortest id prefix ``admin invites`` shows (longer when two would share it).
SHORT_ID = 8


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def invite(
    expires_days: Annotated[
        int,
        typer.Option(
            "--expires-days",
            metavar="N",
            help="Days until the code stops working (1-365).",
        ),
    ] = 7,
    uses: Annotated[
        int,
        typer.Option("--uses", metavar="N", help="How many people the code may sign up (1-1000)."),
    ] = 1,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Make an invitation code for sign-up by invitation (TWITCHWISE_SIGNUP=invite); it is
    shown only this once.

    Example: twitchwise admin invite --expires-days 3
    """
    from twitchwise.server.accounts import INVITATION_MAX_DAYS, INVITATION_MAX_USES

    if not 1 <= expires_days <= INVITATION_MAX_DAYS:
        raise InputError(
            f"--expires-days must be 1 to {INVITATION_MAX_DAYS}, not {expires_days}",
            field="expires_days",
        )
    if not 1 <= uses <= INVITATION_MAX_USES:
        raise InputError(f"--uses must be 1 to {INVITATION_MAX_USES}, not {uses}", field="uses")
    accounts = _open(database_url)
    try:
        made = accounts.create_invitation(days=expires_days, uses=uses)
    finally:
        accounts.engine.dispose()
    info = made.info
    people = "1 person" if info.uses_left == 1 else f"{info.uses_left} people"
    typer.echo(
        f"invitation {_short(info.id, [])} signs up {people} until "
        f"{_when(info.expires_at)} UTC; its code, shown only now:"
    )
    typer.echo(made.code)


def _short(invitation_id: object, others: list[InvitationInfo]) -> str:
    """The invitation's id as ``admin invites`` shows it: its first 8 characters, more when
    another invitation's id starts the same."""
    text = str(invitation_id)
    size = SHORT_ID
    while size < len(text) and any(
        str(o.id) != text and str(o.id).startswith(text[:size]) for o in others
    ):
        size += 1
    return text[:size]


def invites(database_url: DatabaseUrlOpt = None) -> None:
    """List the invitations, newest first: id, when made, when they expire (UTC), uses left
    and state; never their codes.

    Example: twitchwise admin invites
    """
    accounts = _open(database_url)
    try:
        found = accounts.list_invitations()
        now = accounts.clock()
    finally:
        accounts.engine.dispose()
    if not found:
        typer.echo("no invitations yet: make one with 'twitchwise admin invite'")
        return
    rows = [("id", "created (UTC)", "expires (UTC)", "uses left", "state")]
    rows += [
        (
            _short(i.id, found),
            _when(i.created_at),
            _when(i.expires_at),
            str(i.uses_left),
            i.state(now),
        )
        for i in found
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def revoke_invite(
    invitation_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="The invitation's id as 'twitchwise admin invites' shows it (or all of it).",
        ),
    ],
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke an invitation: its code signs no one up from now on.

    Example: twitchwise admin revoke-invite 3f2a9c1e
    """
    wanted = invitation_id.strip().lower()
    accounts = _open(database_url)
    try:
        every = accounts.list_invitations()
        matches = [i for i in every if len(wanted) >= 4 and str(i.id).startswith(wanted)]
        if len(matches) != 1:
            raise InputError(
                f"{'several invitations have' if matches else 'there is no invitation with'} "
                f"the id {invitation_id.strip()!r}; 'twitchwise admin invites' lists them",
                field="id",
            )
        done = accounts.revoke_invitation(matches[0].id)
    finally:
        accounts.engine.dispose()
    if done is None:  # pragma: no cover - deleted between the two transactions
        raise InputError(f"there is no invitation with the id {invitation_id.strip()!r}")
    typer.echo(f"revoked invitation {_short(done.id, every)}: its code signs no one up any more")


def register(app: typer.Typer) -> None:
    db_app.command("upgrade")(db_upgrade)
    admin_app.command("create-user")(create_user)
    admin_app.command("disable-user")(disable_user)
    admin_app.command("invite")(invite)
    admin_app.command("invites")(invites)
    admin_app.command("revoke-invite")(revoke_invite)
    app.add_typer(db_app, name="db")
    app.add_typer(admin_app, name="admin")
