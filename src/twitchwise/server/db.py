"""The hosted service's database: its URL, an engine for it, and the accounts' migrations.

::

    url = database_url(None)      # --database-url, TWITCHWISE_DATABASE_URL or the journal's file
    engine = make_engine(url)     # SQLite: owner-only file, foreign keys on; PostgreSQL: psycopg 3
    upgrade(engine)               # the accounts' migrations up to head (twitchwise db upgrade)

The accounts' migrations keep their own Alembic version table
(:data:`VERSION_TABLE`), so they run on the journal's own database without touching its
migrations or its ``alembic_version``.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from twitchwise.errors import ConfigError, TwitchwiseError

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS",
    "VERSION_TABLE",
    "DatabaseError",
    "current_revision",
    "database_url",
    "describe",
    "make_engine",
    "upgrade",
]

#: The newest accounts migration.
HEAD_REVISION = "a0006"
MIGRATIONS = "twitchwise.server:migrations"
VERSION_TABLE = "twitchwise_accounts_version"


class DatabaseError(TwitchwiseError):
    """The accounts' database could not be reached, read or written."""


def database_url(explicit: str | None = None) -> str:
    """The database: ``explicit`` (``--database-url``), else ``TWITCHWISE_DATABASE_URL``, else
    the journal's SQLite file (``$TWITCHWISE_HOME/journal.sqlite``)."""
    if explicit is not None and explicit.strip():
        return explicit.strip()
    from twitchwise.journal.settings import journal_settings

    return journal_settings().url


def describe(url: str) -> str:
    """The URL for messages, without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a URL that cannot be parsed)"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``: ``postgresql://`` means psycopg 3; a SQLite file is created
    owner-only (0600, its folder 0700 when created) with foreign keys on."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"the database URL {url!r} cannot be parsed; give a SQLAlchemy URL such as "
            "postgresql+psycopg://user@host/twitchwise"
        ) from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        _private_sqlite_file(parsed.database)
    try:
        engine = create_engine(parsed, **options)
    except (ImportError, SQLAlchemyError) as exc:
        raise ConfigError(
            f"the database URL {describe(url)} cannot be used: {str(exc).splitlines()[0]}; "
            "for PostgreSQL install the server extra: pip install 'twitchwise[server]'"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _private_sqlite_file(database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    from pathlib import Path

    path = Path(database).expanduser()
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        if os.name != "nt":
            path.chmod(0o600)
    except OSError as exc:
        raise DatabaseError(f"could not create the database file {path}: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    """The accounts' migration the database is at, or None before the first."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        table = table_of(VERSION_TABLE)
        return conn.execute(select(table.c.version_num)).scalar()


def table_of(name: str) -> Table:
    """The Alembic version table, for reading it."""
    return Table(name, MetaData(), Column("version_num", String(32)))


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Run the accounts' migrations up to ``revision`` in one transaction; returns the
    revision the database is at afterwards."""
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        return current_revision(engine)
    except CommandError as exc:
        raise DatabaseError(
            f"the accounts schema of {where} is unknown to this twitchwise ({exc}); "
            "it was probably written by a newer version: upgrade twitchwise"
        ) from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not upgrade {where}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
