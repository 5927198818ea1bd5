"""The database's connection pool (issue 15): its size, overflow, timeout and recycling as
settings of the one settings model (``TWITCHWISE_DB_POOL_*``), used by the journal's engine,
which in the hosted service is every person's journal's and the accounts' engine. Its gauges in
``/metrics`` are in tests/test_web_ops.py."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from server_db import database
from twitchwise.errors import ConfigError, JournalError
from twitchwise.journal.settings import JournalSettings, PoolSettings, journal_settings
from twitchwise.journal.store import PoolUse, open_journal

VARIABLES = {
    "TWITCHWISE_DB_POOL_SIZE": "3",
    "TWITCHWISE_DB_POOL_MAX_OVERFLOW": "0",
    "TWITCHWISE_DB_POOL_TIMEOUT": "2.5",
    "TWITCHWISE_DB_POOL_RECYCLE": "600",
}


@pytest.fixture(autouse=True)
def no_pool_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_are_sqlalchemys() -> None:
    assert PoolSettings() == PoolSettings(size=5, max_overflow=10, timeout_s=30.0, recycle_s=None)
    assert journal_settings().pool == PoolSettings()
    assert PoolSettings().engine_options() == {
        "pool_size": 5, "max_overflow": 10, "pool_timeout": 30.0, "pool_recycle": -1
    }  # fmt: skip
    assert PoolSettings().limit == 15


def test_the_pool_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from twitchwise.web.settings import WebSettings

    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)
    wanted = PoolSettings(size=3, max_overflow=0, timeout_s=2.5, recycle_s=600)
    assert journal_settings().pool == wanted
    url = "postgresql+psycopg://app@db/twitchwise"
    journal = WebSettings.from_env(database_url=url).journal
    assert journal is not None and journal.pool == wanted
    monkeypatch.setenv("TWITCHWISE_DB_POOL_RECYCLE", "0")  # 0: never, as unset
    assert journal_settings().pool.recycle_s is None
    assert journal_settings().pool.engine_options()["pool_recycle"] == -1


@pytest.mark.parametrize(
    ("name", "value", "wanted"),
    [
        ("TWITCHWISE_DB_POOL_SIZE", "0", "a whole number from 1 to 1000"),
        ("TWITCHWISE_DB_POOL_SIZE", "many", "a whole number from 1 to 1000"),
        ("TWITCHWISE_DB_POOL_MAX_OVERFLOW", "-1", "a whole number from 0 to 1000"),
        ("TWITCHWISE_DB_POOL_TIMEOUT", "0", "a number of seconds above 0, at most 3600"),
        ("TWITCHWISE_DB_POOL_RECYCLE", "1.5", "a whole number of seconds from 0 (never)"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str,
    wanted: str,
) -> None:  # fmt: skip
    from twitchwise.cli import main

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(f"{name} must be {wanted}")) as info:
        journal_settings()
    assert "\n" not in str(info.value)
    assert main(["serve", "--accounts", "--database-url", "sqlite:///x.sqlite"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{name} must be {wanted}" in err


def test_pool_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="pool size must be from 1 to 1000, not 0"):
        PoolSettings(size=0)
    with pytest.raises(ConfigError, match="max overflow must be from 0 to 1000"):
        PoolSettings(max_overflow=-1)
    with pytest.raises(ConfigError, match="pool timeout must be above 0"):
        PoolSettings(timeout_s=0)
    with pytest.raises(ConfigError, match="pool recycle must be from 1 to 86400"):
        PoolSettings(recycle_s=0)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_journals_engine_has_that_pool(kind: str, tmp_path: Path) -> None:
    """On a SQLite file and on PostgreSQL; a journal of another owner shares it."""
    pool = PoolSettings(size=2, max_overflow=1, timeout_s=0.5, recycle_s=300)
    with (
        database(kind, tmp_path) as url,
        open_journal(JournalSettings.from_url(url, pool)) as journal,
    ):
        engine = journal.engine
        assert engine.pool.size() == 2  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 1  # type: ignore[attr-defined]
        assert engine.pool._timeout == 0.5  # type: ignore[attr-defined]
        assert engine.pool._recycle == 300
        assert journal.for_owner(uuid.uuid4()).engine is engine
        journal.counts()
        assert journal.pool_use() == PoolUse(checked_out=0, idle=1, overflow=0, limit=3)
        with engine.connect(), engine.connect(), engine.connect():
            assert journal.pool_use() == PoolUse(checked_out=3, idle=0, overflow=1, limit=3)
            # every connection is in use: a read waits pool_timeout, then fails cleanly
            with pytest.raises(JournalError, match="could not read the journal"):
                journal.counts()
        assert journal.counts()["episodes"] == 0  # and works again once one is free


def test_an_in_memory_database_keeps_sqlalchemys_own_pool() -> None:
    settings = JournalSettings("sqlite://", None, PoolSettings(size=2, max_overflow=0))
    with open_journal(settings) as journal:
        assert journal.pool_use() is None
        assert journal.counts()["episodes"] == 0


def test_the_hosted_app_answers_503_while_every_connection_is_taken(tmp_path: Path) -> None:
    """The hosted service on PostgreSQL, the app's one engine sized by the settings: with its
    only connection held elsewhere, a request waits the pool's timeout and gets 503 in the
    one error shape; then it works again, without restarting anything."""
    from hosted import hosted, sign_up

    pool = PoolSettings(size=1, max_overflow=0, timeout_s=0.3)
    with hosted("postgresql", tmp_path, pool=pool) as site:
        ann = sign_up(site, "ann@example.org")
        engine = site.app.state.journal.engine
        assert engine.pool.size() == 1 and engine.pool._max_overflow == 0
        assert site.app.state.accounts.engine is engine  # the accounts share it
        with engine.connect():
            r = ann.get("/api/journal/days")
            assert r.status_code == 503
            body = r.json()
            assert set(body) == {"ok", "error", "status", "errors"} and body["status"] == 503
            assert "postgresql" not in body["error"] and "\n" not in body["error"]
        assert ann.get("/api/journal/days").status_code == 200
