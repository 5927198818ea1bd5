"""The journal: twitch episodes, daily factors and workouts in a local database.

::

    twitchwise.journal
     ├── settings      TWITCHWISE_HOME, TWITCHWISE_DATABASE_URL
     ├── dates         the one date rule: 1900-01-01 to today, for every way in
     ├── factors       the one registry of daily factors: units, limits, names, options
     ├── records       plain records in, import summaries out (no database)
     ├── rows          the journal as read: typed rows, JournalData (no database)
     ├── summary       the journal as counts, for the insights: JournalSummary (no database)
     ├── models        SQLAlchemy 2 tables, every row with its owner; migrations/: Alembic
     ├── store         open (and migrate) one owner's journal, write, read, forget
     ├── imports/      FIT, GPX, TCX, Apple Health, daily CSV, JSON -> records (no database)
     └── export        JSON and daily CSV

Words to records (region words, times, free text) are above the journal, in
:mod:`twitchwise.app.entry`: nothing here reads the knowledge base or the answer layer.

The names below are loaded on first use, so importing a light module (``factors``,
``records``, ``rows``, ``imports``) does not import SQLAlchemy. See docs/journal.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twitchwise.journal.factors import FACTORS, Factor
    from twitchwise.journal.imports import read_file
    from twitchwise.journal.models import LOCAL_OWNER
    from twitchwise.journal.records import (
        Batch,
        DayFactors,
        EpisodeIn,
        FileInfo,
        ImportSummary,
        WorkoutIn,
    )
    from twitchwise.journal.rows import DayRow, EpisodeRow, JournalData, WorkoutRow
    from twitchwise.journal.store import Journal, open_journal
    from twitchwise.journal.summary import JournalSummary

__all__ = [
    "FACTORS",
    "LOCAL_OWNER",
    "Batch",
    "DayFactors",
    "DayRow",
    "EpisodeIn",
    "EpisodeRow",
    "Factor",
    "FileInfo",
    "ImportSummary",
    "Journal",
    "JournalData",
    "JournalSummary",
    "WorkoutIn",
    "WorkoutRow",
    "open_journal",
    "read_file",
]

_WHERE = {
    "FACTORS": "factors",
    "Factor": "factors",
    "Batch": "records",
    "DayFactors": "records",
    "EpisodeIn": "records",
    "FileInfo": "records",
    "ImportSummary": "records",
    "WorkoutIn": "records",
    "DayRow": "rows",
    "EpisodeRow": "rows",
    "JournalData": "rows",
    "WorkoutRow": "rows",
    "JournalSummary": "summary",
    "LOCAL_OWNER": "models",
    "Journal": "store",
    "open_journal": "store",
    "read_file": "imports",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'twitchwise.journal' has no attribute {name!r}")
    return getattr(import_module(f"twitchwise.journal.{module}"), name)
