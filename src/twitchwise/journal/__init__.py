"""The journal: twitch episodes, daily factors and workouts in a local database.

::

    twitchwise.journal
     ├── settings      TWITCHWISE_HOME, TWITCHWISE_DATABASE_URL
     ├── dates         the one date rule: 1900-01-01 to today, for every way in
     ├── records       plain records and the limits of every factor (no database)
     ├── models        SQLAlchemy 2 tables; migrations/ holds the Alembic scripts
     ├── store         open (and migrate) the journal, write, read, forget
     ├── imports/      FIT, GPX, TCX, Apple Health, daily CSV, JSON -> records (no database)
     ├── export        JSON and daily CSV
     └── entry         region words, times, free text -> records (reads the knowledge base)

The names below are loaded on first use, so importing a light module (``records``) does not
import SQLAlchemy. See docs/journal.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twitchwise.journal.imports import read_file
    from twitchwise.journal.records import Batch, DayFactors, EpisodeIn, WorkoutIn
    from twitchwise.journal.store import ImportSummary, Journal, JournalData, open_journal

__all__ = [
    "Batch",
    "DayFactors",
    "EpisodeIn",
    "ImportSummary",
    "Journal",
    "JournalData",
    "WorkoutIn",
    "open_journal",
    "read_file",
]

_WHERE = {
    "Batch": "records",
    "DayFactors": "records",
    "EpisodeIn": "records",
    "WorkoutIn": "records",
    "ImportSummary": "store",
    "Journal": "store",
    "JournalData": "store",
    "open_journal": "store",
    "read_file": "imports",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'twitchwise.journal' has no attribute {name!r}")
    return getattr(import_module(f"twitchwise.journal.{module}"), name)
