"""The one rule for a journal date: from 1900-01-01 to today.

Every way into the journal checks it with :func:`date_problem` or :func:`check_date`: the
command line (``--date``, ``--at``), the API and the web forms, every import format, and the
store itself before it writes anything. Tomorrow is accepted too, since it may already be
tomorrow where an entry was made (the machine's clock is in another time zone).

A journal written before this rule, or edited by hand, may still hold a row outside it:
:meth:`~twitchwise.journal.store.Journal.read` leaves such rows out and says which they are
(see ``JournalData``), so that the journal still opens, charts and reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from twitchwise.errors import InputError

__all__ = ["EARLIEST", "RULE", "check_date", "date_problem", "latest", "moment_problem"]

#: The earliest journal date.
EARLIEST = date(1900, 1, 1)
#: How far past this machine's today a date may be.
SLACK = timedelta(days=1)
#: The rule in words, for messages.
RULE = f"a journal date is from {EARLIEST} to today"


def latest(today: date | None = None) -> date:
    """The latest journal date: tomorrow (see the module docstring)."""
    return (today or date.today()) + SLACK


def date_problem(day: date, today: date | None = None) -> str | None:
    """Why ``day`` cannot be a journal date ("9999-12-31 is in the future"), or None."""
    if day < EARLIEST:
        return f"{day.isoformat()} is before {EARLIEST}"
    if day > latest(today):
        return f"{day.isoformat()} is in the future"
    return None


def moment_problem(moment: datetime, today: date | None = None) -> str | None:
    """:func:`date_problem` for a time: its date where it was written, and in UTC (as the
    journal stores it), must both follow the rule."""
    problem = date_problem(moment.date(), today)
    if problem is None and moment.tzinfo is not None:
        problem = date_problem(moment.astimezone(UTC).date(), today)
    return problem


def check_date(day: date, what: str = "date", today: date | None = None) -> date:
    """``day`` when it can be a journal date, else a one-line :class:`InputError` that starts
    with ``what``: "date 9999-12-31 is in the future; a journal date is from ...".
    """
    problem = date_problem(day, today)
    if problem is not None:
        raise InputError(f"{what} {problem}; {RULE}")
    return day
