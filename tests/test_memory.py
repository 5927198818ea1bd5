"""Issue 11 (4): memory bounded however large the journal.

At the documented maximum (1,000 days x 1,000 twitches) the export took 2.8 GB, the insights
and reports about 1 GB each and the FHIR bundle more than 6 GB, because each read every
episode into memory (``Journal.read``). Now the exports and the FHIR bundle are written a
chunk at a time (``Journal.stream``) and the insights, charts, reports and the journal page
are made from a summary counted as the rows stream past (``Journal.summary``).

These tests prove the mechanism at a moderate size (40,000 episodes): the peak of Python's
allocations (tracemalloc) while exporting, summarising or writing the bundle stays a small
fraction of what holding the episodes takes, and the output is byte for byte what the whole
journal gives. ``bench/bench_memory.py`` measures the documented maximum itself.
"""

from __future__ import annotations

import json
import random
import sqlite3
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twitchwise.app import default
from twitchwise.app.journal import export, overview, report_output
from twitchwise.insights.analysis import analyse
from twitchwise.insights.charts import charts
from twitchwise.insights.fhir import check_entries, fhir_bundle, fhir_chunks, validate_bundle
from twitchwise.insights.report import build_report, render_html
from twitchwise.journal.export import Streamed, dumps, json_object_chunks, to_csv, to_json
from twitchwise.journal.settings import JournalSettings
from twitchwise.journal.store import Journal, open_journal
from twitchwise.journal.summary import JournalSummary

TW = default()
MB = 1024 * 1024
EPISODES = 40_000
REGIONS = ("region_calf", "region_eyelid", "region_thigh", "region_arm", "region_tongue", None)
NOTES = ("after three coffees", "my legs feel weak", "no weakness", "slept badly")


def _settings(folder: Path) -> JournalSettings:
    path = folder / "journal.sqlite"
    return JournalSettings(f"sqlite:///{path}", path)


def fill(folder: Path, episodes: int, days: int = 100, seed: int = 11) -> JournalSettings:
    """A journal of ``episodes`` episodes over ``days`` days (written with sqlite3: fast)."""
    settings = _settings(folder)
    with open_journal(settings):
        pass
    rng = random.Random(seed)
    last = date.today() - timedelta(days=1)
    rows = []
    for i in range(episodes):
        day = last - timedelta(days=i % days)
        at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(86_400)
        )
        rows.append(
            (
                uuid.UUID(int=rng.getrandbits(128)).hex,
                at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                day.isoformat(),
                rng.choice(REGIONS),
                rng.choice(("left", "right", "both", None)),
                rng.choice((None, 1, 2, 3, 4, 5)),
                float(rng.randrange(1, 100)),
                rng.choice(NOTES) if rng.random() < 0.01 else None,
                rng.choice(("log", "csv")),
            )
        )
    assert settings.path is not None
    with sqlite3.connect(settings.path) as con:
        con.executemany(
            "INSERT INTO episodes (uid, at, local_date, region, side, intensity, duration_s, "
            "note, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        for i in range(days):
            day = last - timedelta(days=i)
            con.execute(
                "INSERT INTO days (date, caffeine_mg, sleep_h, stress, medicines, sources, "
                "updated_at) VALUES (?, ?, ?, ?, ?, '{}', '2025-01-01 00:00:00.000000')",
                (day.isoformat(), float(i % 7 * 50), 6.5, i % 10, json.dumps(["magnesium"])),
            )
    return settings


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> JournalSettings:
    return fill(tmp_path_factory.mktemp("large"), EPISODES)


def peak(step: Callable[[], Any]) -> tuple[Any, int]:
    """``step()`` and the peak of Python's allocations while it ran (bytes)."""
    tracemalloc.start()
    try:
        result = step()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def drain(chunks: Iterator[bytes]) -> tuple[int, str]:
    """Read every chunk, keeping only its size and a digest of the whole."""
    import hashlib

    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        digest.update(chunk)
    return size, digest.hexdigest()


def sha(text: str | bytes) -> str:
    import hashlib

    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


# ---------------------------------------------------------------------- how much the rows take


def test_holding_every_episode_takes_far_more_than_the_bounds_below(
    large: JournalSettings,
) -> None:
    """The yardstick: what Journal.read() (the old way of every command) holds."""
    with Journal(large) as journal:
        data, used = peak(journal.read)
    assert len(data.episodes) == EPISODES
    assert used > 12 * MB, used / MB


# ---------------------------------------------------------------------- exports


def test_the_json_export_is_written_a_chunk_at_a_time(large: JournalSettings) -> None:
    with Journal(large) as journal:
        whole = to_json(journal.read())
        output = export(journal, "json")
        (size, digest), used = peak(lambda: drain(output.chunks))
    assert (size, digest) == (len(whole.encode()), sha(whole)), "the same bytes"
    assert output.counts == {"episodes": EPISODES, "days": 100, "workouts": 0, "experiments": 0}
    assert used < 3 * MB, f"{used / MB:.1f} MB"


def test_the_csv_export_needs_only_the_episodes_per_day(large: JournalSettings) -> None:
    with Journal(large) as journal:
        data = journal.read()
        whole = _reference_csv(data)
        output = export(journal, "csv")
        content, used = peak(output.content)
    assert content.decode() == whole == to_csv(data)
    assert used < 3 * MB, f"{used / MB:.1f} MB"


def _reference_csv(data: Any) -> str:
    """The daily CSV as it was written from every row (before the summary)."""
    import csv
    import io
    from collections import Counter

    from twitchwise.journal.imports.daily_csv import COLUMNS, FACTOR_COLUMNS

    twitches = Counter(e.date for e in data.episodes)
    days = {d.date: d.factors for d in data.days}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for day in sorted(set(twitches) | set(days)):
        factors = days.get(day)
        values = [None if factors is None else getattr(factors, c) for c in FACTOR_COLUMNS]
        if not twitches.get(day) and all(v is None for v in values):
            continue
        cells = ["" if v is None else (str(int(v)) if float(v).is_integer() else repr(v))
                 for v in values]  # fmt: skip
        writer.writerow([day.isoformat(), twitches.get(day, 0), *cells])
    return out.getvalue()


# ---------------------------------------------------------------------- summary, insights, report


def test_the_summary_is_counted_as_the_rows_stream_past(large: JournalSettings) -> None:
    with Journal(large) as journal:
        whole = JournalSummary.of(journal.read(), 90)
        summary, used = peak(lambda: journal.summary(90))
    assert summary == whole
    assert summary.episodes == EPISODES
    assert used < 3 * MB, f"{used / MB:.1f} MB"


def test_insights_charts_and_report_are_the_same_from_the_summary(
    large: JournalSettings,
) -> None:
    with Journal(large) as journal:
        data = journal.read()
        summary = journal.summary(90)
    today = date.today()
    one = analyse(data, kb=TW.kb, parser=TW.parser, today=today)
    two = analyse(summary, kb=TW.kb, parser=TW.parser, today=today)
    assert one.to_dict() == two.to_dict()
    assert charts(data, one.effects, TW.kb) == charts(summary, two.effects, TW.kb)
    html = render_html(build_report(data, one, kb=TW.kb, today=today))
    assert html == render_html(build_report(summary, two, kb=TW.kb, today=today))


def test_the_journal_page_never_reads_every_episode(
    large: JournalSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Journal(large) as journal:
        expected = journal.read()

        def refuse(self: Journal) -> None:
            raise AssertionError("read() holds every episode")

        monkeypatch.setattr(Journal, "read", refuse)
        overview(TW, journal)  # once, so that what it imports is not counted
        page, used = peak(lambda: overview(TW, journal))
    assert page.counts["episodes"] == EPISODES
    assert [e["uid"] for e in page.recent] == [e.uid for e in expected.episodes[-8:]][::-1]
    assert used < 4 * MB, f"{used / MB:.1f} MB"


# ---------------------------------------------------------------------- FHIR


def data_small() -> Any:
    from twitchwise.journal.rows import JournalData

    return JournalData.from_dicts(
        [{"uid": "a", "at": "2025-01-01T10:00:00+00:00", "date": "2025-01-01"}], [], []
    )


@pytest.fixture(scope="module")
def small_and_four_times(tmp_path_factory: pytest.TempPathFactory) -> list[JournalSettings]:
    # both past the rows fetched at a time (2,000) and the entries written at a time (500)
    return [fill(tmp_path_factory.mktemp(f"fhir{n}"), n, seed=n) for n in (3000, 6000)]


def test_the_fhir_bundle_is_written_a_chunk_at_a_time(
    small_and_four_times: list[JournalSettings],
) -> None:
    """Twice the episodes, the same peak: the bundle (about 2 kB of JSON per episode) is
    written a chunk at a time, and byte for byte what the whole bundle gives."""
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    check_entries(fhir_bundle(data_small(), kb=TW.kb)["entry"])  # imports fhir.resources
    peaks = []
    for where in small_and_four_times:
        with Journal(where) as journal:
            data = journal.read()
            whole = dumps(fhir_bundle(data, kb=TW.kb, now=now))  # json.dumps(..., indent=2)
            held = 0 if peaks else peak(lambda d=data: fhir_bundle(d, kb=TW.kb, now=now))[1]
            with journal.stream() as stream:

                def written(stream: Any = stream) -> tuple[int, str]:
                    chunks = fhir_chunks(stream.episodes, stream.days, kb=TW.kb, now=now)
                    return drain(c.encode() for c in chunks)

                (size, digest), used = peak(written)
        assert (size, digest) == (len(whole.encode()) + 1, sha(whole + "\n"))
        peaks.append((used, held))
    (once, held), (twice, _) = peaks
    assert twice - once < MB / 2, (once / MB, twice / MB)
    # the whole bundle grows by about 3 kB an episode: 3 GB for a million
    assert held > 8 * MB, f"the whole bundle of 3000 episodes: {held / MB:.1f} MB"


def test_the_fhir_report_counts_its_observations_without_reading_them_back(
    large: JournalSettings,
) -> None:
    with Journal(large) as journal:
        output = report_output(TW, journal, "fhir")
        size, _ = drain(output.chunks)
    assert output.counts == {"observations": EPISODES + 100 * 3}
    assert size > EPISODES * 500


# ---------------------------------------------------------------------- the same summary both ways

TIMES = st.datetimes(datetime(2024, 1, 1), datetime(2024, 1, 20)).map(
    lambda t: t.replace(microsecond=0, second=0, minute=t.minute // 30 * 30)  # many ties
)
STORED = st.one_of(
    TIMES.map(lambda t: (t.strftime("%Y-%m-%d %H:%M:%S.%f"), t.date().isoformat())),
    TIMES.map(lambda t: (t.strftime("%Y-%m-%dT%H:%M:%S+02:00"), t.date().isoformat())),
    st.sampled_from(
        [
            ("0001-01-01 00:00:00.000000", "0001-01-01"),
            ("9999-12-31 10:00:00.000000", "9999-12-31"),
            ("2024-02-30 10:00:00.000000", "2024-02-29"),
            ("2024-01-05 10:00:00.000000", "someday"),
            ("2024-01-05 10:00:00.000000", "2024-13-01"),
        ]
    ),
)
ROWS = st.lists(
    st.tuples(
        STORED,
        st.sampled_from((*REGIONS, "")),
        st.sampled_from(("left", "right", "both", None)),
        st.sampled_from((None, 1, 3, 5)),
        st.sampled_from((None, "", "  a note  ", "my legs feel weak", "a note")),
    ),
    max_size=40,
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    with Journal(_settings(tmp_path_factory.mktemp("scratch"))) as journal:
        yield journal


@settings(max_examples=60)
@given(rows=ROWS, notes_days=st.sampled_from([None, 1, 3, 90]))
def test_the_summary_from_the_database_is_the_summary_of_every_row(
    scratch: Journal, rows: list[tuple[Any, ...]], notes_days: int | None
) -> None:
    """Ties in time, ids out of time order, times with an offset and rows outside the date
    rule: counted as they stream past, the summary is the one made from ``read()``."""
    path = scratch.settings.path
    assert path is not None
    with sqlite3.connect(path) as con:
        con.execute("DELETE FROM episodes")
        con.executemany(
            "INSERT INTO episodes (uid, at, local_date, region, side, intensity, note, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'log')",
            [
                (f"u{i}", at, day, region, side, intensity, note)
                for i, ((at, day), region, side, intensity, note) in reversed(list(enumerate(rows)))
            ],
        )
    data = scratch.read()
    assert scratch.summary(notes_days) == JournalSummary.of(data, notes_days)
    page, total = scratch.episode_page(0, 10_000)
    assert page == data.episodes and total == len(rows)
    latest = scratch.latest_episodes(5)
    assert latest == data.episodes[::-1][:5]


def test_regions_that_tie_are_listed_in_the_order_they_were_first_logged(
    home: Path,
) -> None:
    """The report's "most often in" keeps the journal's order for equal counts, from the
    summary as from the rows (Counter.most_common keeps the order of first appearance)."""
    from twitchwise.journal.rows import JournalData

    episodes = [
        {"uid": str(i), "at": f"2025-01-0{d}T10:0{i}:00+00:00", "date": f"2025-01-0{d}",
         "region": region}
        for i, (d, region) in enumerate(
            [(3, "region_thigh"), (1, "region_eyelid"), (2, "region_calf"), (2, "region_thigh"),
             (3, "region_calf")]
        )
    ]  # fmt: skip
    data = JournalData.from_dicts(episodes, [], [])
    insights = analyse(data, kb=TW.kb, parser=TW.parser)
    report = build_report(data, insights, kb=TW.kb)
    assert "Most often in: thigh (quadriceps) (2), calf (2), eyelid (1)." in report.summary
    by_time = JournalData.from_dicts(sorted(episodes, key=lambda e: e["at"]), [], [])
    report = build_report(by_time, insights, kb=TW.kb)
    assert "Most often in: calf (2), thigh (quadriceps) (2), eyelid (1)." in report.summary


# ---------------------------------------------------------------------- JSON, written as json does

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(codec="utf-8")),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON)
def test_dumps_writes_what_json_writes(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


@given(st.dictionaries(st.text(max_size=5), JSON, max_size=4), st.lists(JSON, max_size=5))
def test_a_streamed_object_is_what_json_writes(head: dict[str, Any], items: list[Any]) -> None:
    fields = [*head.items(), ("streamed", Streamed(iter(items)))]
    whole = {**head, "streamed": items}
    text = "".join(json_object_chunks(fields, items_per_chunk=2))
    assert text == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------- checks of the stream


def test_the_streamed_bundle_is_checked_like_the_whole_one(home: Path) -> None:
    """Each kind of Observation is validated with fhir.resources, and the values that could
    break one on their own on every entry: what validate_bundle refuses is refused."""
    from twitchwise.journal.rows import JournalData

    pytest.importorskip("fhir.resources")
    good = {"uid": "a", "at": "2025-01-01T10:00:00+00:00", "date": "2025-01-01",
            "region": "region_calf", "side": "left", "intensity": 3, "duration_s": 5.0,
            "note": "n"}  # fmt: skip
    fine = JournalData.from_dicts([good, {**good, "uid": "b", "intensity": 4}], [], [])
    check_entries(fhir_bundle(fine, kb=TW.kb)["entry"])
    for bad in ({"intensity": 2**40}, {"duration_s": float("inf")}, {"duration_s": float("nan")}):
        data = JournalData.from_dicts([good, {**good, "uid": "b", **bad}], [], [])
        bundle = fhir_bundle(data, kb=TW.kb)
        with pytest.raises(ValueError):
            validate_bundle(bundle)
        with pytest.raises(ValueError):
            check_entries(bundle["entry"])
        with pytest.raises(ValueError):  # before the first chunk: nothing is written
            fhir_chunks(lambda d=data: d.episodes, data.days, kb=TW.kb)
