"""What the insights, charts and reports need of a journal, without every episode in memory.

A :class:`JournalSummary` holds the episodes as counts (per date, region and side, with the
position of the first of each), the intensities as a distribution, the notes of the latest
days once each, and the days and workouts as rows (a journal has one row per day, so these
stay small). :meth:`~twitchwise.journal.store.Journal.summary` gathers it in one pass over
the database, holding one chunk of rows at a time; :meth:`JournalSummary.of` gathers the same
from a :class:`~twitchwise.journal.rows.JournalData` (a journal made by hand, or read whole).
Both give the same summary for the same journal, so the insights, charts and reports written
from it are the same whichever way it was read.

Nothing here touches a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twitchwise.journal.rows import DayRow, JournalData, WorkoutRow

__all__ = ["EpisodeGroup", "EpisodeNote", "EpisodeTally", "JournalSummary"]


@dataclass(frozen=True, slots=True)
class EpisodeGroup:
    """The episodes of one date, region and side (``region`` and ``side`` as stored: None or
    empty when not given).

    ``first`` is the position of the group's first episode in the journal's order (by time as
    stored, then as written); ``first_in_day`` the group's earliest episode by time, then by
    position (all of a group share its date). Counting in that order gives the order in which
    regions and sites first appear, which the report and the alerts keep.
    """

    date: dt.date
    region: str | None
    side: str | None
    count: int
    first: int
    first_in_day: tuple[dt.datetime, int]


@dataclass(frozen=True, slots=True)
class EpisodeNote:
    """A note of an episode (stripped), once per date and region."""

    date: dt.date
    region: str | None
    text: str


@dataclass
class JournalSummary:
    """The journal as the insights need it (see the module docstring).

    ``groups`` are ordered by date, then by the time of their first episode; ``notes`` hold
    every note of the episodes dated from ``notes_from`` on (the last ``notes_days`` days up
    to the latest episode), once per date and region, in the order they were made (by date,
    then time). Every row follows the date rule; rows left out are named in ``problems``.
    """

    episodes: int = 0
    groups: list[EpisodeGroup] = field(default_factory=list)
    intensities: dict[int, int] = field(default_factory=dict)
    notes: list[EpisodeNote] = field(default_factory=list)
    notes_from: dt.date | None = None
    days: list[DayRow] = field(default_factory=list)
    workouts: list[WorkoutRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, data: JournalData, notes_days: int | None = None) -> JournalSummary:
        """The summary of a journal already read (``notes_days`` None: every note)."""
        tally = EpisodeTally(notes_days)
        for position, e in enumerate(data.episodes):
            tally.add(position, e.date, e.at, e.region, e.side, e.intensity, e.note)
        return tally.summary(data.days, data.workouts, data.problems)

    def day_counts(self) -> dict[dt.date, int]:
        """Episodes per date, oldest first."""
        out: dict[dt.date, int] = {}
        for g in self.groups:
            out[g.date] = out.get(g.date, 0) + g.count
        return out

    def episode_days(self) -> list[dt.date]:
        """The dates with an episode, oldest first."""
        return list(self.day_counts())

    def region_side_counts(self) -> dict[tuple[str | None, str | None], int]:
        """Episodes per (region, side) as stored."""
        out: dict[tuple[str | None, str | None], int] = {}
        for g in self.groups:
            key = (g.region, g.side)
            out[key] = out.get(key, 0) + g.count
        return out


class _Counting:
    """A group being counted: how many, its first episode, its earliest by time."""

    __slots__ = ("at", "at_position", "count", "first")

    def __init__(self, position: int, at: dt.datetime) -> None:
        self.count = 1
        self.first = position
        self.at = at
        self.at_position = position


class EpisodeTally:
    """Counts episodes as they stream past, in the journal's order (see :class:`EpisodeGroup`).

    ``notes_days`` keeps the notes of that many days up to the latest episode seen (None:
    all of them); older days' notes are dropped as newer days arrive, so what is held is
    bounded by the notes of those days, not by the journal.
    """

    def __init__(self, notes_days: int | None = None) -> None:
        self.notes_days = notes_days
        self.count = 0
        self._groups: dict[tuple[dt.date, str | None, str | None], _Counting] = {}
        self._intensities: dict[int, int] = {}
        # date -> (region, note) -> (time, position) of its first episode
        self._notes: dict[dt.date, dict[tuple[str | None, str], tuple[dt.datetime, int]]] = {}
        self._latest: dt.date | None = None

    def add(
        self,
        position: int,
        day: dt.date,
        at: dt.datetime,
        region: str | None,
        side: str | None,
        intensity: int | None,
        note: str | None,
    ) -> None:
        self.count += 1
        key = (day, region, side)
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = _Counting(position, at)
        else:
            group.count += 1
            if at < group.at:
                group.at, group.at_position = at, position
        if intensity is not None:
            self._intensities[intensity] = self._intensities.get(intensity, 0) + 1
        if self._latest is None or day > self._latest:
            self._latest = day
            self._drop_old_notes()
        if note and (text := note.strip()) and not self._too_old(day):
            notes = self._notes.setdefault(day, {})
            seen = notes.get((region, text))
            if seen is None or (at, position) < seen:
                notes[(region, text)] = (at, position)

    def _too_old(self, day: dt.date) -> bool:
        if self.notes_days is None or self._latest is None:
            return False
        return (self._latest - day).days >= self.notes_days

    def _drop_old_notes(self) -> None:
        if self.notes_days is not None and self._notes:
            for day in [d for d in self._notes if self._too_old(d)]:
                del self._notes[day]

    def summary(
        self, days: list[DayRow], workouts: list[WorkoutRow], problems: Iterable[str]
    ) -> JournalSummary:
        groups = [
            EpisodeGroup(day, region, side, g.count, g.first, (g.at, g.at_position))
            for (day, region, side), g in self._groups.items()
        ]
        groups.sort(key=lambda g: (g.date, g.first_in_day))
        notes_from = None
        if self._latest is not None and self.notes_days is not None:
            notes_from = self._latest - dt.timedelta(days=self.notes_days - 1)
        ordered = sorted(
            (
                (day, when, region, text)
                for day, notes in self._notes.items()
                for (region, text), when in notes.items()
            ),
            key=lambda item: (item[0], item[1]),
        )
        return JournalSummary(
            episodes=self.count,
            groups=groups,
            intensities=dict(sorted(self._intensities.items())),
            notes=[EpisodeNote(day, region, text) for day, _, region, text in ordered],
            notes_from=notes_from,
            days=list(days),
            workouts=list(workouts),
            problems=list(problems),
        )
