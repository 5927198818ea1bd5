"""Helpers shared by the readers: the problem type, progress counting, times and names."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Protocol

from twitchwise.journal.dates import RULE, moment_problem

#: Called with the number of bytes read so far and the total to read.
Progress = Callable[[int, int], None]


class Readable(Protocol):
    """A binary stream: all a streaming reader needs."""

    def read(self, size: int = -1, /) -> bytes: ...


class FileProblem(Exception):
    """What is wrong with a file; :func:`twitchwise.journal.imports.read_file` adds its name
    and turns it into an :class:`~twitchwise.errors.InputError`."""


class CountingReader:
    """A binary stream that reports how many bytes were read (for a progress bar)."""

    def __init__(self, raw: IO[bytes], progress: Progress | None, total: int = 0) -> None:
        self.raw = raw
        self.progress = progress
        self.total = total
        self.count = 0
        self._reported = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        if self.progress is not None and self.count - self._reported >= 1 << 20:
            self._reported = self.count
            self.progress(self.count, self.total)
        return data

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.count, max(self.total, self.count))


def check_times(where: str, *moments: datetime) -> None:
    """:class:`FileProblem` naming ``where`` (a session, a line) when the date of one of
    ``moments`` breaks the date rule (:mod:`twitchwise.journal.dates`)."""
    for moment in moments:
        problem = moment_problem(moment)
        if problem is not None:
            raise FileProblem(f"{where}: {problem}; {RULE}")


def parse_iso_time(value: str | None) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed); a time without a zone is taken as UTC, as GPX, TCX
    and FIT define it. None when missing or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def sport_name(value: object, prefix: str = "") -> str:
    """A sport as a short snake_case word: ``HKWorkoutActivityTypeRunning`` -> ``running``."""
    text = str(value or "").strip()
    if prefix and text.startswith(prefix):
        text = text[len(prefix) :]
    text = _NON_WORD.sub("_", _CAMEL.sub("_", text).lower()).strip("_")
    return text[:64] or "unknown"


def positive(value: object) -> float | None:
    """A finite number above zero, else None (devices write 0 or junk for 'not measured')."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")) or number <= 0:
        return None
    return number
