"""A person's journal written through every way in, for the tests of owners and isolation.

:func:`fill` writes the same keys for every person (the same day, the same import file by its
fingerprint, the same episode uids, the same workout start, the same experiment) with values
that carry the person's marker, so a test can tell whose a row is, and a view of one person's
journal (:func:`view`) is another's with the marker swapped.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, text

from twitchwise.journal.export import json_chunks, to_csv, to_json
from twitchwise.journal.records import (
    Batch,
    DayFactors,
    EpisodeIn,
    ExperimentIn,
    FileInfo,
    ImportSummary,
    WorkoutIn,
)
from twitchwise.journal.store import Journal

#: Every personal table of the journal.
TABLES = ("imports", "episodes", "days", "workouts", "experiments", "experiment_days")
FINGERPRINT = "f" * 64
DAY = date(2026, 3, 1)
NEXT = date(2026, 3, 2)
THIRD = date(2026, 3, 3)
AT = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)


def fill(journal: Journal, marker: str) -> list[ImportSummary]:
    """Write one person's journal through every writing method; returns the import's
    summaries."""
    journal.log(
        [EpisodeIn(at=AT, day=DAY, region="region_calf", note=f"{marker} logged", uid="same-uid")],
        DAY,
        DayFactors(caffeine_mg=200, medicines=(f"{marker} pill",)),
    )
    journal.add_episode(
        EpisodeIn(at=AT.replace(hour=9), day=DAY, note=f"{marker} again", uid="second-uid")
    )
    journal.set_day(NEXT, DayFactors(sleep_h=6.5, workout_type=f"{marker} yoga"))
    batch = Batch(
        "json",
        workouts=[WorkoutIn(AT.replace(hour=18), 1800, sport=f"{marker} run")],
        days={THIRD: DayFactors(steps=9000, workout_type=f"{marker} walk")},
        episodes=[EpisodeIn(at=AT, day=NEXT, note=f"{marker} imported", uid="imported-uid")],
        episode_counts={THIRD: 2},
        experiments=[
            ExperimentIn(
                kind="caffeine",
                change=f"{marker} less coffee",
                started_on=date(2026, 1, 1),
                block_days=7,
                washout_days=1,
                schedule="ABBA",
                seed=7,
                created_at=AT.replace(month=1),
                stopped_on=date(2026, 1, 20),
                stop_reason=f"{marker} done",
                check_ins={date(2026, 1, 2): True},
            )
        ],
    )
    summaries = journal.import_files([(FileInfo("same.json", FINGERPRINT, 10, "json"), batch)])
    started = journal.start_experiment(
        kind="sleep", change=f"{marker} earlier bed", started_on=date(2026, 2, 1),
        block_days=7, washout_days=1, schedule="ABAB", seed=3, today=date(2026, 2, 1),
    )  # fmt: skip
    journal.check_in(started.id, date(2026, 2, 2), True)
    journal.check_in(started.id, date(2026, 2, 2), False)  # replaces the first
    journal.stop_experiment(started.id, date(2026, 2, 10), f"{marker} stopped")
    return summaries


def view(journal: Journal) -> dict[str, Any]:
    """What every reading method of ``journal`` gives, as plain values."""
    data = journal.read()
    with journal.stream() as stream:
        streamed = "".join(
            json_chunks(stream.episodes(), stream.days, stream.workouts, stream.experiments)
        )
    page, total = journal.episode_page(0, 100)
    days, problems = journal.days()
    return {
        "export": to_json(data),
        "problems": data.problems + problems,
        "stream": streamed,
        "summary csv": to_csv(journal.summary()),
        "summary": journal.summary(notes_days=3650),
        "page": ([e.to_dict() for e in page], total),
        "latest": [e.to_dict() for e in journal.latest_episodes(50)],
        "days": [d.to_dict() for d in days],
        "experiments": [x.to_dict() for x in journal.experiments()],
        "counts": journal.counts(),
        "day": journal.get_day(DAY),
        "imported": journal.imported(FINGERPRINT),
    }


def swapped(value: Any, old: str, new: str) -> str:
    """A view's text with one person's marker swapped for another's."""
    return repr(value).replace(old, new)


def owners_of(engine: Engine, table: str) -> Counter[uuid.UUID]:
    """How many rows of ``table`` each owner has, read by the engine's own role."""
    with engine.connect() as conn:
        found = conn.execute(text(f"SELECT owner_id, count(*) FROM {table} GROUP BY owner_id"))
        return Counter({uuid.UUID(str(owner)): int(n) for owner, n in found})
