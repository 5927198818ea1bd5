"""Where the journal lives: ``TWITCHWISE_HOME`` and ``TWITCHWISE_DATABASE_URL``.

=========================== ==========================================================
Setting                     Meaning
=========================== ==========================================================
``TWITCHWISE_HOME``         Folder of the journal (``journal.sqlite``); default: the user
                            data folder from platformdirs (``~/.local/share/twitchwise``
                            on Linux).
``TWITCHWISE_DATABASE_URL`` A SQLAlchemy database URL that replaces the SQLite file, e.g.
                            ``postgresql+psycopg://user@host/twitchwise``.
=========================== ==========================================================

An empty variable counts as unset. Both are read through the one settings model,
:mod:`twitchwise.settings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twitchwise.settings import Setting, environment_settings

__all__ = ["DATABASE_FILE", "SETTINGS", "JournalSettings", "Setting", "journal_settings"]

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
)


@dataclass(frozen=True, slots=True)
class JournalSettings:
    """The database URL, and the SQLite file when the URL is the default one."""

    url: str
    path: Path | None

    @classmethod
    def from_url(cls, url: str) -> JournalSettings:
        """The settings of the journal at ``url`` (its SQLite file, when it has one)."""
        url = url.strip()
        return cls(url, _sqlite_file(url))

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
    if url:
        return JournalSettings(url, _sqlite_file(url))
    path = journal_home() / DATABASE_FILE
    return JournalSettings(f"sqlite:///{path}", path)


def _sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL; None for memory databases and other servers."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()
