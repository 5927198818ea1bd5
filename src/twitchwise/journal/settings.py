"""Where the journal lives (``TWITCHWISE_HOME``, ``TWITCHWISE_DATABASE_URL``) and the
connection pool of its engine (``TWITCHWISE_DB_POOL_*``).

=================================== ========================================================
Setting                             Meaning
=================================== ========================================================
``TWITCHWISE_HOME``                 Folder of the journal (``journal.sqlite``); default: the
                                    user data folder from platformdirs
                                    (``~/.local/share/twitchwise`` on Linux).
``TWITCHWISE_DATABASE_URL``         A SQLAlchemy database URL that replaces the SQLite file,
                                    e.g. ``postgresql+psycopg://user@host/twitchwise``.
``TWITCHWISE_DB_POOL_SIZE``         Connections the pool keeps open (default 5).
``TWITCHWISE_DB_POOL_MAX_OVERFLOW`` Connections it may open beyond them at a peak, closed
                                    again when given back (default 10).
``TWITCHWISE_DB_POOL_TIMEOUT``      Seconds a request waits for a connection when all are in
                                    use, before it fails (503 in the web app; default 30).
``TWITCHWISE_DB_POOL_RECYCLE``      Seconds after which a connection is replaced when next
                                    taken (default: never; 0 too).
=================================== ========================================================

An empty variable counts as unset. All are read through the one settings model,
:mod:`twitchwise.settings`. The defaults are SQLAlchemy's own, so a journal without these
variables has the pool it always had. They apply to every engine the journal opens on a
database server or a SQLite file (not to an in-memory SQLite database); in the hosted service
that is the one engine every person's journal and the accounts share, in each worker process
(docs/hosted.md: a worker opens at most ``size + max_overflow`` connections).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twitchwise.errors import ConfigError
from twitchwise.settings import Setting, environment_settings

__all__ = [
    "DATABASE_FILE",
    "SETTINGS",
    "JournalSettings",
    "PoolSettings",
    "Setting",
    "journal_settings",
    "pool_settings",
]

DATABASE_FILE = "journal.sqlite"


#: Every journal setting (environment variable), its default and what it does; docs/journal.md
#: documents each one (tests/test_journal_store.py checks).
SETTINGS = (
    Setting(
        "TWITCHWISE_HOME",
        "the user data folder (platformdirs)",
        "Folder that holds the journal file journal.sqlite.",
    ),
    Setting(
        "TWITCHWISE_DATABASE_URL",
        "sqlite:///$TWITCHWISE_HOME/journal.sqlite",
        "SQLAlchemy URL of the journal database; replaces the SQLite file.",
    ),
    Setting(
        "TWITCHWISE_DB_POOL_SIZE",
        "5",
        "Connections the database pool keeps open (per process).",
    ),
    Setting(
        "TWITCHWISE_DB_POOL_MAX_OVERFLOW",
        "10",
        "Connections the pool may open beyond its size at a peak; closed when given back.",
    ),
    Setting(
        "TWITCHWISE_DB_POOL_TIMEOUT",
        "30",
        "Seconds to wait for a connection when all are in use, then fail.",
    ),
    Setting(
        "TWITCHWISE_DB_POOL_RECYCLE",
        "never",
        "Seconds after which a pooled connection is replaced when next taken (0: never).",
    ),
)

#: The most connections a pool setting may ask for (size, and overflow).
MAX_POOL = 1000


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """The connection pool of the journal's engine (SQLAlchemy's ``QueuePool``): ``size``
    connections kept open, up to ``max_overflow`` more at a peak (closed when given back),
    ``timeout_s`` to wait for one when all are in use, and connections replaced after
    ``recycle_s`` seconds (None: never). The defaults are SQLAlchemy's."""

    size: int = 5
    max_overflow: int = 10
    timeout_s: float = 30.0
    recycle_s: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_POOL:
            raise ConfigError(f"the pool size must be from 1 to {MAX_POOL}, not {self.size}")
        if not 0 <= self.max_overflow <= MAX_POOL:
            raise ConfigError(
                f"the pool's max overflow must be from 0 to {MAX_POOL}, not {self.max_overflow}"
            )
        if not 0 < self.timeout_s <= 3600:
            raise ConfigError(
                f"the pool timeout must be above 0 and at most 3600 s, not {self.timeout_s}"
            )
        if self.recycle_s is not None and not 1 <= self.recycle_s <= 86_400:
            raise ConfigError(
                f"the pool recycle must be from 1 to 86400 s (or none), not {self.recycle_s}"
            )

    @property
    def limit(self) -> int:
        """The most connections one engine (one process) opens at once."""
        return self.size + self.max_overflow

    def engine_options(self) -> dict[str, Any]:
        """The keyword arguments of ``create_engine`` for this pool."""
        return {
            "pool_size": self.size,
            "max_overflow": self.max_overflow,
            "pool_timeout": self.timeout_s,
            "pool_recycle": -1 if self.recycle_s is None else self.recycle_s,
        }


def pool_settings() -> PoolSettings:
    """The pool as the environment sets it now (``TWITCHWISE_DB_POOL_*``), else the defaults."""
    env: Any = environment_settings()
    default = PoolSettings()
    recycle: int | None = env.db_pool_recycle
    return PoolSettings(
        size=default.size if env.db_pool_size is None else env.db_pool_size,
        max_overflow=(
            default.max_overflow if env.db_pool_max_overflow is None else env.db_pool_max_overflow
        ),
        timeout_s=default.timeout_s if env.db_pool_timeout is None else env.db_pool_timeout,
        recycle_s=recycle or None,
    )


@dataclass(frozen=True, slots=True)
class JournalSettings:
    """The database URL, the SQLite file when the URL is the default one, and the engine's
    connection pool."""

    url: str
    path: Path | None
    pool: PoolSettings = PoolSettings()

    @classmethod
    def from_url(cls, url: str, pool: PoolSettings | None = None) -> JournalSettings:
        """The settings of the journal at ``url`` (its SQLite file, when it has one), with
        ``pool`` (default: SQLAlchemy's pool; :func:`pool_settings` reads the environment's)."""
        url = url.strip()
        return cls(url, _sqlite_file(url), pool or PoolSettings())

    @property
    def where(self) -> str:
        """The journal's location for messages: the file, or the URL without a password."""
        if self.path is not None:
            return str(self.path)
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "(a URL that cannot be parsed)"


def journal_home() -> Path:
    home: Path | None = environment_settings().home  # type: ignore[attr-defined]
    if home is not None:
        return home.expanduser()
    from platformdirs import user_data_path

    return user_data_path("twitchwise", appauthor=False)


def journal_settings() -> JournalSettings:
    """Read the settings from the environment (every call: tests change it)."""
    url: str | None = environment_settings().database_url  # type: ignore[attr-defined]
    pool = pool_settings()
    if url:
        return JournalSettings(url, _sqlite_file(url), pool)
    path = journal_home() / DATABASE_FILE
    return JournalSettings(f"sqlite:///{path}", path, pool)


def _sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL; None for memory databases and other servers."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()
