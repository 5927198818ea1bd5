"""Databases for the hosted service's tests: a SQLite file, or a fresh PostgreSQL schema.

PostgreSQL is the one at 127.0.0.1:5432 (database ``test``, user ``postgres``, trust
authentication: .ci/run starts one when none answers); no other address is ever used. Each
test gets its own schema (``tw_<random>``), dropped afterwards; tests that need PostgreSQL
skip when it does not answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine

PG_CONNINFO = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"
PG_URL = "postgresql+psycopg://{user}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


@cache
def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used for the tests, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    try:
        with psycopg.connect(PG_CONNINFO):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at 127.0.0.1:5432 does not answer: {str(exc).splitlines()[0]}"


def pg_execute(*statements: str) -> None:
    """Run statements as the superuser, each committed."""
    import psycopg

    with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def pg_url(schema: str, user: str = "postgres") -> str:
    return PG_URL.format(user=user, schema=schema)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema in the ``test`` database; yields its name and drops it afterwards."""
    problem = pg_problem()
    if problem is not None:
        pytest.skip(problem)
    schema = "tw_" + secrets.token_hex(6)
    pg_execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        pg_execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of this kind (``sqlite`` or ``postgresql``)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'accounts.sqlite'}"
        return
    with pg_schema() as schema:
        yield pg_url(schema)


@contextmanager
def upgraded(kind: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database of this kind with the accounts' migrations run."""
    from twitchwise.server.db import make_engine, upgrade

    with database(kind, tmp_path) as url:
        made = make_engine(url)
        upgrade(made)
        yield made
        made.dispose()


class Clock:
    """A clock the tests move by hand: the repository's ``clock``."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def assert_restricted_role(engine: Engine, role: str) -> None:
    """The engine's role is no superuser, cannot bypass row-level security and owns none of
    the schema's tables: the policies apply to it."""
    from sqlalchemy import text

    with engine.connect() as conn:
        me = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        table_owners = {
            r[0]
            for r in conn.execute(
                text("SELECT tableowner FROM pg_tables WHERE schemaname = current_schema()")
            )
        }
    assert tuple(me) == (False, False)
    assert role not in table_owners
