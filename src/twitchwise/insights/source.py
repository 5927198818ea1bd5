"""What the insights read: a journal read whole, or its summary.

Every function of the insights, charts and report takes either a
:class:`~twitchwise.journal.rows.JournalData` (a journal made by hand, as the tests do, or
read whole) or a :class:`~twitchwise.journal.summary.JournalSummary` (what
:meth:`~twitchwise.journal.store.Journal.summary` gathers in bounded memory), and works on
the summary: the same journal gives the same results either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from twitchwise.journal.summary import JournalSummary

if TYPE_CHECKING:
    from twitchwise.journal.rows import JournalData

__all__ = ["NOTES_DAYS", "Source", "summarise"]

#: The alerts read the notes of this many days up to the latest episode (``WINDOW_DAYS``).
NOTES_DAYS = 90

Source: TypeAlias = "JournalData | JournalSummary"


def summarise(data: Source) -> JournalSummary:
    """``data``'s summary, with the notes the alerts read (``data`` itself if it is one)."""
    if isinstance(data, JournalSummary):
        return data
    return JournalSummary.of(data, NOTES_DAYS)
