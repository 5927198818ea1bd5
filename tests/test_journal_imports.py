"""Import readers: every format from generated files, detection by content, hostile and broken
files refused in one line with the journal unchanged, streaming memory, round trips."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.journal.files import (
    BILLION_LAUGHS,
    CSV_HEADER,
    EXTERNAL_ENTITY,
    FIT_START,
    GPX_START,
    PNG_BYTES,
    SNEAKY_ENTITY,
    TCX_START,
    WIDE_XML,
    import_into,
    journal_at,
    truncate,
    write_apple_health,
    write_apple_zip,
    write_big_apple_health,
    write_fit,
    write_gpx,
    write_ios16_export,
    write_long_gpx,
    write_long_tcx,
    write_tcx,
    write_wide_xml,
)
from twitchwise.errors import InputError
from twitchwise.journal.export import to_csv, to_json
from twitchwise.journal.imports import FileProblem, _xml, detect_format, read_file
from twitchwise.journal.imports._xml import XMLLimits, root_element
from twitchwise.journal.imports.apple_health import apple_time
from twitchwise.journal.records import DayFactors

XML_ROOTS = ["HealthData", "gpx", "TrainingCenterDatabase"]


def one_line(exc: pytest.ExceptionInfo[InputError], *needles: str) -> str:
    message = str(exc.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    return message


# ---------------------------------------------------------------------- good files


def test_fit(tmp_path: Path) -> None:
    path = tmp_path / "run.fit"
    write_fit(path)
    info, batch = read_file(path)
    assert info.format == "fit" and len(info.fingerprint) == 64
    (w,) = batch.workouts
    assert w.start == FIT_START
    assert (w.duration_s, w.sport, w.distance_m, w.avg_hr_bpm) == (590, "running", 2000, 145)
    assert w.energy_kj == pytest.approx(150 * 4.184, abs=0.1)


def _fit_checksummed(data: bytes) -> bytes:
    """A FIT file with its data size and both checksums made right for ``data`` (as a file
    cut short by its writer, or with an odd header, would be)."""
    import struct

    from fitdecode.utils import compute_crc

    header = bytearray(data[: data[0]])
    body = data[data[0] : -2]
    header[4:8] = struct.pack("<I", len(body))
    if len(header) >= 14:
        header[12:14] = struct.pack("<H", compute_crc(bytes(header[:12])))
    whole = bytes(header) + body
    return whole + struct.pack("<H", compute_crc(whole))


@pytest.mark.parametrize("case", ["a record cut short", "a 15-byte header"])
def test_fit_files_that_tripped_the_decoder_are_refused_in_one_line(
    tmp_path: Path, case: str
) -> None:
    """Found by tests/test_fuzz.py: fitdecode raised AssertionError (a record running past
    the data size its header gives) and struct.error (a header of 15 bytes), which escaped
    as tracebacks."""
    seed = tmp_path / "seed.fit"
    write_fit(seed)
    data = seed.read_bytes()
    data = data[:34] if case == "a record cut short" else bytes([15]) + data[1:]
    path = tmp_path / "odd.fit"
    path.write_bytes(_fit_checksummed(data))
    with pytest.raises(InputError) as info:
        read_file(path)
    one_line(info, "odd.fit", "the FIT file is malformed", "nothing was imported")


def test_fit_without_a_session_uses_its_records(tmp_path: Path) -> None:
    path = tmp_path / "records.fit"
    write_fit(path, with_session=False)
    (w,) = read_file(path)[1].workouts
    assert w.start == FIT_START
    assert w.duration_s == 600
    assert w.distance_m == 2000
    assert w.avg_hr_bpm == 145


def test_gpx(tmp_path: Path) -> None:
    path = tmp_path / "ride.gpx"
    write_gpx(path)
    (w,) = read_file(path)[1].workouts
    assert w.start == GPX_START
    assert w.duration_s == 300
    assert w.sport == "cycling"
    assert w.distance_m == pytest.approx(1668, rel=0.01)  # 30 x 0.0005 degrees of latitude
    assert w.avg_hr_bpm == pytest.approx(121, abs=0.5)


def test_a_large_gpx_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.gpx"
    write_gpx(path, points=3001)
    assert path.stat().st_size > 256 * 1024
    (w,) = read_file(path)[1].workouts
    assert w.duration_s == 30_000


def test_the_safe_reader_streams_everything_it_is_given() -> None:
    import io

    from twitchwise.journal.imports._xml import SafeXMLReader

    body = b"<a>" + b"\x0b" * 70_000 + b"x" * 100_000 + b"</a>"
    prolog = b'<?xml version="1.0"?>\n<!DOCTYPE a [<!ELEMENT a ANY>]>\n'
    reader = SafeXMLReader(io.BytesIO(prolog + body))
    out = b""
    while chunk := reader.read(4096):
        out += chunk
    assert out == b'<?xml version="1.0"?>\n\n<a>' + b"x" * 100_000 + b"</a>"


def test_gpx_route_without_times_adds_nothing_but_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "route.gpx"
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1"><rte><rtept lat="1" lon="2"/></rte></gpx>'
    )
    batch = read_file(path)[1]
    assert batch.empty
    assert "no timed track" in batch.notes[0]


def test_tcx(tmp_path: Path) -> None:
    path = tmp_path / "run.tcx"
    write_tcx(path)
    (w,) = read_file(path)[1].workouts
    assert w.start == TCX_START
    assert (w.duration_s, w.distance_m, w.sport) == (1800, 7000, "running")
    assert w.energy_kj == pytest.approx(400 * 4.184, abs=0.1)
    assert w.avg_hr_bpm == 145  # weighted by lap time: (140 x 1200 + 155 x 600) / 1800


def test_apple_health_export_xml(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    expected = write_apple_health(path, days=9, workouts_every=3)
    info, batch = read_file(path)
    assert info.format == "apple_health"
    assert sorted(batch.days) == [e.day for e in expected]
    for e in expected:
        assert batch.days[e.day] == DayFactors(
            caffeine_mg=e.caffeine_mg,  # the copy inside a Correlation is not counted
            water_l=e.water_l,  # mL -> L
            steps=e.steps,  # the source with most steps, not the sum of iPhone and Watch
            hrv_ms=e.hrv_ms,
            sleep_h=e.sleep_h,  # asleep intervals merged; in bed and awake left out
            alcohol_units=e.drinks * 1.75 if e.drinks else None,
        ), e.day
    assert len(batch.workouts) == 3
    w = batch.workouts[0]
    assert w.start == datetime(2025, 1, 1, 18, tzinfo=timezone(timedelta(hours=1)))
    assert (w.duration_s, w.sport, w.distance_m, w.energy_kj) == (2700, "running", 8200, 2092)
    assert w.avg_hr_bpm == 150
    assert batch.notes == []


def test_apple_health_export_zip(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    expected = write_apple_zip(path, days=4)
    info, batch = read_file(path)
    assert info.format == "apple_health"
    assert sorted(batch.days) == [e.day for e in expected]
    assert len(batch.workouts) == 2


def test_an_ios16_export_with_a_broken_dtd_still_imports(tmp_path: Path) -> None:
    from lxml import etree

    path = tmp_path / "export.xml"
    expected = write_ios16_export(path, days=3)
    with pytest.raises(etree.XMLSyntaxError):  # the file really is malformed as it stands
        etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    batch = read_file(path)[1]
    assert sorted(batch.days) == [e.day for e in expected]
    assert batch.days[expected[0].day].water_l == expected[0].water_l


def test_errors_keep_the_line_numbers_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    write_ios16_export(path, days=1)
    lines = path.read_text().splitlines()
    lines.insert(40, "<Record type='x' oops>")
    path.write_text("\n".join(lines))
    with pytest.raises(InputError, match="line 41"):
        read_file(path)


def test_a_translated_export_name_in_the_zip(tmp_path: Path) -> None:
    xml = tmp_path / "x.xml"
    expected = write_apple_health(xml, 2)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__MACOSX/apple_health_export/._导出.xml", b"\x00\x05\x16\x07")
        archive.writestr("apple_health_export/导出_cda.xml", "<ClinicalDocument/>")
        archive.write(xml, "apple_health_export/导出.xml")
    assert sorted(read_file(path)[1].days) == [e.day for e in expected]


def test_apple_health_units_and_odd_records(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    records = [
        ("HKQuantityTypeIdentifierDietaryCaffeine", "g", "0.1"),
        ("HKQuantityTypeIdentifierDietaryWater", "fl_oz_us", "10"),
        ("HKQuantityTypeIdentifierDietaryWater", "L", "1"),
        ("HKQuantityTypeIdentifierDietaryCaffeine", "furlong", "3"),  # unknown unit: skipped
        ("HKQuantityTypeIdentifierDietaryCaffeine", "mg", "lots"),  # unreadable: skipped
    ]
    body = "".join(
        f'<Record type="{t}" sourceName="x" unit="{u}" value="{v}" '
        'startDate="2025-02-01 09:00:00 -0500" endDate="2025-02-01 09:00:00 -0500"/>\n'
        for t, u, v in records
    )
    sleep = (
        '<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="x" '
        'value="HKCategoryValueSleepAnalysisAsleep" startDate="2025-02-01 13:00:00 -0500" '
        'endDate="2025-02-01 14:30:00 -0500"/>\n'  # a nap counts for that day
        '<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="x" '
        'value="HKCategoryValueSleepAnalysisAsleep" startDate="2025-02-01 22:00:00 -0500" '
        'endDate="2025-02-02 06:00:00 -0500"/>\n'  # the night ends on the 2nd
    )
    path.write_text(
        f'<?xml version="1.0"?>\n<HealthData locale="en_US">\n{body}{sleep}</HealthData>'
    )
    batch = read_file(path)[1]
    assert batch.days[date(2025, 2, 1)] == DayFactors(
        caffeine_mg=100, water_l=round(1 + 10 * 0.0295735, 3), sleep_h=1.5
    )
    assert batch.days[date(2025, 2, 2)] == DayFactors(sleep_h=8)
    assert any("furlong" in n for n in batch.notes)
    assert any("unreadable" in n for n in batch.notes)


def test_apple_time() -> None:
    assert apple_time("2024-03-01 07:12:00 +0100") == datetime(
        2024, 3, 1, 7, 12, tzinfo=timezone(timedelta(hours=1))
    )
    assert apple_time("2024-03-01 07:12:00 -0530") == datetime(
        2024, 3, 1, 7, 12, tzinfo=timezone(-timedelta(hours=5, minutes=30))
    )
    assert apple_time("2024-03-01T07:12:00Z") == datetime(2024, 3, 1, 7, 12, tzinfo=UTC)
    assert apple_time("2024-13-01 07:12:00 +0100") is None
    assert apple_time("") is None


def test_daily_csv(tmp_path: Path) -> None:
    path = tmp_path / "days.csv"
    path.write_text(
        "\ufeffdate,sleep_h,twitches,caffeine_mg\n2025-01-01,7.5,3,200\n\n2025-01-02,,0,\n",
        encoding="utf-8",
    )
    batch = read_file(path)[1]
    assert batch.days == {date(2025, 1, 1): DayFactors(caffeine_mg=200, sleep_h=7.5)}
    assert batch.episode_counts == {date(2025, 1, 1): 3, date(2025, 1, 2): 0}


def test_a_blank_twitches_cell_is_not_recorded_not_zero(tmp_path: Path) -> None:
    """docs/journal.md: an empty cell is "not recorded". A blank count adds no count for the
    day (its factors still count); only a written 0 says the day had no twitches."""
    path = tmp_path / "days.csv"
    path.write_text("date,twitches,caffeine_mg\n2025-01-01,,300\n2025-01-02,0,100\n2025-01-03, ,\n")
    batch = read_file(path)[1]
    assert batch.episode_counts == {date(2025, 1, 2): 0}
    assert batch.days == {
        date(2025, 1, 1): DayFactors(caffeine_mg=300),
        date(2025, 1, 2): DayFactors(caffeine_mg=100),
    }


@pytest.mark.parametrize(
    ("name", "writer", "expected"),
    [
        ("activity.dat", lambda p: write_fit(p), "fit"),
        ("ride.xml", lambda p: write_gpx(p), "gpx"),
        ("run.txt", lambda p: write_tcx(p), "tcx"),
        ("health.gpx", lambda p: write_apple_health(p, 2), "apple_health"),
        ("health.bin", lambda p: write_apple_zip(p, 2), "apple_health_zip"),
        ("days.txt", lambda p: p.write_text(CSV_HEADER + "\n"), "csv"),
        ("backup.txt", lambda p: p.write_text('{"episodes": []}'), "json"),
    ],
)
def test_the_format_comes_from_the_content_not_the_name(
    tmp_path: Path, name: str, writer: object, expected: str
) -> None:
    path = tmp_path / name
    writer(path)  # type: ignore[operator]
    assert detect_format(path) == expected


def test_progress_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    write_big_apple_health(path, 3_000_000)
    seen: list[tuple[int, int]] = []
    read_file(path, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) >= 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)


# ---------------------------------------------------------------------- bad files


def _broken_files(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    good = {
        "run.fit": write_fit,
        "ride.gpx": write_gpx,
        "run.tcx": write_tcx,
        "export.xml": lambda p: write_apple_health(p, 5),
        "export.zip": lambda p: write_apple_zip(p, 5),
    }
    for name, write in good.items():
        path = folder / name
        write(path)  # type: ignore[operator]
        files[f"truncated {name}"] = truncate(path)
    for root in XML_ROOTS:
        files[f"billion laughs <{root}>"] = folder / f"laughs-{root}.xml"
        files[f"billion laughs <{root}>"].write_text(BILLION_LAUGHS.format(root=root))
        files[f"external entity <{root}>"] = folder / f"xxe-{root}.xml"
        files[f"external entity <{root}>"].write_text(EXTERNAL_ENTITY.format(root=root))
    files["sneaky entity"] = folder / "sneaky.xml"
    files["sneaky entity"].write_text(SNEAKY_ENTITY)
    files["png named .gpx"] = folder / "photo.gpx"
    files["png named .gpx"].write_bytes(PNG_BYTES)
    files["empty"] = folder / "empty.fit"
    files["empty"].write_bytes(b"")
    files["html"] = folder / "page.xml"
    files["html"].write_text("<!DOCTYPE html><html><body>hi</body></html>")
    files["gzip"] = folder / "export.xml.gz"
    files["gzip"].write_bytes(gzip.compress(b"<HealthData/>"))
    files["zip without export.xml"] = folder / "other.zip"
    with zipfile.ZipFile(files["zip without export.xml"], "w") as archive:
        archive.writestr("notes.txt", "hello")
    files["zip of something else"] = folder / "odd.zip"
    with zipfile.ZipFile(files["zip of something else"], "w") as archive:
        archive.writestr("export.xml", "<gpx/>")
    files["corrupt fit"] = folder / "corrupt.fit"
    data = bytearray((folder / "run.fit").read_bytes())
    data[40] ^= 0xFF
    files["corrupt fit"].write_bytes(bytes(data))
    files["text"] = folder / "notes.txt"
    files["text"].write_text("dear diary, my calf twitched\n")
    files["bad json"] = folder / "backup.json"
    files["bad json"].write_text('{"episodes": [{"at": "yesterday"}]}')
    files["json with unknown keys"] = folder / "keys.json"
    files["json with unknown keys"].write_text('{"episodes": [], "passwords": []}')
    files["json episode without zone"] = folder / "naive.json"
    files["json episode without zone"].write_text('{"episodes": [{"at": "2025-01-01T10:00:00"}]}')
    files["deeply nested json"] = folder / "deep.json"
    files["deeply nested json"].write_text('{"episodes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return files


BROKEN = [
    "truncated run.fit",
    "truncated ride.gpx",
    "truncated run.tcx",
    "truncated export.xml",
    "truncated export.zip",
    *(f"billion laughs <{r}>" for r in XML_ROOTS),
    *(f"external entity <{r}>" for r in XML_ROOTS),
    "sneaky entity",
    "png named .gpx",
    "empty",
    "html",
    "gzip",
    "zip without export.xml",
    "zip of something else",
    "corrupt fit",
    "text",
    "bad json",
    "json with unknown keys",
    "json episode without zone",
    "deeply nested json",
]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _broken_files(tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize("case", BROKEN)
def test_broken_and_hostile_files_are_refused_in_one_line(
    broken: dict[str, Path], case: str, tmp_path: Path
) -> None:
    path = broken[case]
    with journal_at(tmp_path / "home") as journal:
        before = journal.read()
        started = time.perf_counter()
        with pytest.raises(InputError) as info:
            import_into(journal, path)
        assert time.perf_counter() - started < 2, "refusing must be quick"
        one_line(info, str(path))
        assert journal.read() == before
        assert journal.counts()["imports"] == 0


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("billion laughs <HealthData>", "entities"),
        ("external entity <gpx>", "entities"),
        ("sneaky entity", "entities"),
        ("truncated export.xml", "truncated"),
        ("truncated run.fit", "truncated"),
        ("truncated export.zip", "truncated or damaged"),
        ("corrupt fit", "corrupt"),
        ("png named .gpx", "binary"),
        ("html", "root element <html>"),
        ("gzip", "unpack it first"),
        ("zip without export.xml", "without an Apple Health export.xml"),
        ("json with unknown keys", "passwords"),
        ("deeply nested json", "the JSON is nested too deeply"),
    ],
)
def test_messages_say_what_is_wrong(broken: dict[str, Path], case: str, needle: str) -> None:
    with pytest.raises(InputError) as info:
        read_file(broken[case])
    one_line(info, needle, "nothing was imported")


def test_the_entity_is_never_expanded(broken: dict[str, Path]) -> None:
    """Even the lxml parser alone, with the options the readers use, expands nothing."""
    from lxml import etree

    from twitchwise.journal.imports._xml import PARSER_OPTIONS

    path = broken["external entity <HealthData>"]
    try:
        for _, elem in etree.iterparse(str(path), events=("end",), **PARSER_OPTIONS):
            assert "root:" not in (elem.get("sourceName") or "")
    except etree.XMLSyntaxError:
        pass


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("date,caffeine_mg\n2025-01-01,lots\n", "line 2: caffeine_mg 'lots' is not a number"),
        ("date,sleep_h\n2025-01-01,30\n", "line 2: sleep_h must be between 0 and 24, not 30"),
        ("date,stress\n2025-01-01,4.5\n", "line 2: stress must be a whole number"),
        ("date,water_l\n2025-01-01,nan\n", "water_l 'nan' is not a number"),
        ("date,twitches\n2025-01-01,-2\n", "twitches must be a whole number from 0 to 1000"),
        ("date,twitches\n2025-01-01,2.5\n", "twitches must be a whole number"),
        ("date,twitches\n01/02/2025,2\n", "line 2: date '01/02/2025' is not YYYY-MM-DD"),
        ("date,twitches\n2999-01-01,2\n", "in the future"),
        ("date,twitches\n2025-01-01,1\n2025-01-01,2\n", "line 3: 2025-01-01 appears twice"),
        ("date,coffee\n2025-01-01,1\n", "unknown column 'coffee'"),
        ("date,caffiene_mg\n2025-01-01,1\n", "did you mean 'caffeine_mg'"),
        ("date,twitches,twitches\n", "appears twice in the header"),
        ("date,twitches\n2025-01-01,1,5\n", "line 2: 3 values for 2 columns"),
        ('date,twitches\n2025-01-01,"1\n', "line"),
    ],
)
def test_bad_csv_values_are_refused_with_their_line(
    tmp_path: Path, content: str, needle: str
) -> None:
    path = tmp_path / "days.csv"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_file(path)
    one_line(info, str(path), needle)


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "days.csv"
    path.write_bytes(b"date,twitches\n2025-01-01,1\n\xff\xfe\n")
    with pytest.raises(InputError) as info:
        read_file(path)
    one_line(info, "not UTF-8")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_file(tmp_path / "nope.fit")
    one_line(info, "no such file")
    with pytest.raises(InputError) as info:
        read_file(tmp_path)
    one_line(info, "folder")


def test_dtd_scanner_finds_the_root_after_quotes_comments_and_pis() -> None:
    head = b"""<?xml version="1.0"?>
<!-- a '<fake' root in a comment -->
<!DOCTYPE HealthData [
  <?pi with <fake> inside?>
  <!-- don't end here: ]> -->
  <!ATTLIST Record a CDATA "<fake>" b CDATA '>'>
]>
<HealthData>"""
    assert root_element(head) == "HealthData"


@given(st.text(alphabet="<>!-[]\"'?%;ENTITYxa ", max_size=60))
def test_dtd_scanner_only_ever_refuses_with_a_file_problem(junk: str) -> None:
    head = f'<?xml version="1.0"?><!DOCTYPE x [{junk}<!ENTITY e "x">]><root>&e;</root>'
    try:
        root = root_element(head.encode())
    except FileProblem:
        return
    assert root  # the junk closed the DTD early: the parser then refuses the stray ENTITY


# ---------------------------------------------------------------------- the date rule

RULE = "a journal date is from 1900-01-01 to today"


def _text(content: str) -> object:
    return lambda path: path.write_text(content)


@pytest.mark.parametrize(
    ("name", "write", "needle"),
    [
        ("days.csv", _text("date,twitches\n2025-01-01,1\n0001-01-01,2\n"),
         "line 3: date 0001-01-01 is before 1900-01-01"),
        ("later.csv", _text("date,stress\n9999-12-31,2\n"),
         "line 2: date 9999-12-31 is in the future"),
        ("days.json", _text('{"days": [{"date": "2025-01-01", "stress": 2}, '
                            '{"date": "9999-12-31", "stress": 1}]}'),
         "days.1.date: 9999-12-31 is in the future"),
        ("at.json", _text('{"episodes": [{"at": "0001-01-01T00:00:00Z"}]}'),
         "episodes.0.at: 0001-01-01 is before 1900-01-01"),
        ("date.json", _text('{"episodes": [{"at": "2025-01-01T10:00:00Z", '
                            '"date": "9999-12-31"}]}'),
         "episodes.0.date: 9999-12-31 is in the future"),
        ("start.json", _text('{"workouts": [{"start": "9999-12-31T10:00:00Z", '
                             '"duration_s": 60}]}'),
         "workouts.0.start: 9999-12-31 is in the future"),
        ("run.fit", lambda p: write_fit(p, datetime(2100, 1, 1, tzinfo=UTC)),
         "session 1: 2100-01-01 is in the future"),
        ("records.fit", lambda p: write_fit(p, datetime(2100, 1, 1, tzinfo=UTC), False),
         "the records: 2100-01-01 is in the future"),
        ("ride.gpx", lambda p: write_gpx(p, datetime(1850, 6, 1, tzinfo=UTC)),
         "the track on line 3: 1850-06-01 is before 1900-01-01"),
        ("run.tcx", lambda p: write_tcx(p, datetime(1899, 12, 31, 22, tzinfo=UTC)),
         "the activity on line 4: 1899-12-31 is before 1900-01-01"),
    ],
)  # fmt: skip
def test_a_row_outside_the_date_rule_refuses_the_file(
    tmp_path: Path, name: str, write: Any, needle: str
) -> None:
    path = tmp_path / name
    write(path)
    with journal_at(tmp_path / "home") as journal:
        with pytest.raises(InputError) as info:
            import_into(journal, path)
        one_line(info, str(path), needle, RULE, "nothing was imported")
        assert journal.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}


def test_apple_health_leaves_out_records_outside_the_date_rule_and_names_them(
    tmp_path: Path,
) -> None:
    """An export gathers records from every app; one stray date does not refuse it (as an
    unreadable record does not): the record is left out and the summary names its line."""
    path = tmp_path / "export.xml"
    expected = write_apple_health(path, 3)
    text = path.read_text().replace(
        "</HealthData>",
        '<Record type="HKQuantityTypeIdentifierDietaryCaffeine" unit="mg" value="80" '
        'sourceName="App" startDate="9999-12-31 08:00:00 +0000" '
        'endDate="9999-12-31 08:00:00 +0000"/>\n'
        '<Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" '
        'durationUnit="min" startDate="0001-01-01 07:00:00 +0000" '
        'endDate="0001-01-01 07:30:00 +0000"/>\n</HealthData>',
    )
    path.write_text(text)
    lines = text.splitlines()
    record_line = 1 + next(i for i, line in enumerate(lines) if "9999-12-31" in line)
    batch = read_file(path)[1]
    assert sorted(batch.days) == [d.day for d in expected]
    assert all(w.start.year == 2025 for w in batch.workouts)
    (note,) = [n for n in batch.notes if "left out" in n]
    assert note == (
        f"2 left out, dated outside the date rule ({RULE}): "
        f"line {record_line}: 9999-12-31 is in the future; "
        f"line {record_line + 1}: 0001-01-01 is before 1900-01-01"
    )


# ---------------------------------------------------------------------- idempotence


def test_importing_the_same_files_twice_adds_nothing(tmp_path: Path) -> None:
    files = [tmp_path / n for n in ("run.fit", "ride.gpx", "run.tcx", "export.zip", "d.csv")]
    write_fit(files[0])
    write_gpx(files[1])
    write_tcx(files[2])
    write_apple_zip(files[3], 6)
    files[4].write_text(CSV_HEADER + "\n2025-02-01,4,250,6,2,45,5,1\n")
    with journal_at(tmp_path / "home") as journal:
        first = import_into(journal, *files)
        data = journal.read()
        counts = journal.counts()
        assert counts == {"episodes": 4, "workouts": 5, "days": 7, "imports": 5}
        assert all(s.rows_added > 0 for s in first)
        second = import_into(journal, *files)
        assert all(s.already_imported is not None and s.rows_added == 0 for s in second)
        assert journal.read() == data
        assert journal.counts() == counts


def test_a_renamed_or_edited_copy_adds_only_what_is_new(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("date,twitches,sleep_h\n2025-02-01,4,6\n")
    b = tmp_path / "b.csv"
    b.write_text("date,twitches,sleep_h\n2025-02-01,4,6\n2025-02-02,1,7\n")
    with journal_at(tmp_path / "home") as journal:
        import_into(journal, a)
        (s,) = import_into(journal, b)
        assert (s.episodes_added, s.days_added, s.days_updated) == (1, 1, 0)
        assert journal.counts()["episodes"] == 5


def test_a_workout_seen_in_two_formats_is_stored_once(tmp_path: Path) -> None:
    fit = tmp_path / "run.fit"
    tcx = tmp_path / "run.tcx"
    write_fit(fit, start=TCX_START)
    write_tcx(tcx, start=TCX_START)
    with journal_at(tmp_path / "home") as journal:
        import_into(journal, fit)
        (s,) = import_into(journal, tcx)
        assert (s.workouts_added, s.workouts_known) == (0, 1)


# ---------------------------------------------------------------------- memory


def test_memory_stays_flat_on_a_large_apple_health_export(tmp_path: Path) -> None:
    def peak(size: int) -> int:
        path = tmp_path / f"export-{size}.xml"
        write_big_apple_health(path, size)
        tracemalloc.start()
        try:
            read_file(path)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1_000_000), peak(12_000_000)
    # the fixed cost (read buffers) is the same; 11 MB more data adds next to nothing
    assert large - small < 256 * 1024, (small, large)
    assert large < 12_000_000 / 4


def test_resident_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """tracemalloc does not see libxml2's memory: compare the peak RSS of two file sizes."""
    small, large = tmp_path / "small.xml", tmp_path / "large.xml"
    write_big_apple_health(small, 2_000_000)
    write_big_apple_health(large, 24_000_000)
    (grew_small, _), (grew_large, _) = read_in_a_process(small), read_in_a_process(large)
    # 12x the data: the resident set may not grow by more than a few MB (it would by ~100 MB
    # if the tree were kept)
    assert grew_large - grew_small < 8, (grew_small, grew_large)


# ---------------------------------------------------------------------- bounded XML

#: Each hostile file wraps its children in a real record (see ``WIDE_XML``).
WIDE = [
    ("apple_health", "export.xml"),
    ("apple_health", "export.zip"),
    ("tcx", "run.tcx"),
    ("gpx", "ride.gpx"),
]
#: Children the record of ``WIDE_XML`` has before the added ones (TCX <Id>, GPX <time>).
OWN_CHILDREN = {"apple_health": 0, "tcx": 1, "gpx": 1}

_READ_IN_A_PROCESS = textwrap.dedent(
    """
    import json, re, resource, sys
    from pathlib import Path
    import gpxpy.geo, lxml.etree, sqlalchemy
    from twitchwise.errors import InputError
    from twitchwise.journal.imports import read_file

    def peak_kb():
        try:  # this process's own peak: ru_maxrss keeps the forked parent's after exec
            status = Path("/proc/self/status").read_text()
            return int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1))
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    before = peak_kb()
    try:
        read_file(Path(sys.argv[1]))
        message = "accepted"
    except InputError as exc:
        message = str(exc)
    print(json.dumps([(peak_kb() - before) // 1024, message]))
    """
)


def read_in_a_process(path: Path) -> tuple[int, str]:
    """How many MB the peak resident set grew by while a fresh process read ``path``, and
    the one-line error (or "accepted"). libxml2's memory is invisible to tracemalloc."""
    out = subprocess.run(
        [sys.executable, "-c", _READ_IN_A_PROCESS, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    grew_mb, message = json.loads(out.stdout)
    return int(grew_mb), str(message)


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> XMLLimits:
    limits = XMLLimits(children=50, elements=400, text_chars=4096, attributes=20)
    monkeypatch.setattr(_xml, "LIMITS", limits)
    return limits


@pytest.mark.parametrize(("fmt", "name"), WIDE)
def test_one_element_with_millions_of_children_is_refused_in_bounded_memory(
    tmp_path: Path, fmt: str, name: str
) -> None:
    # 2 million children: 8 MB of XML (8 kB zipped) took 250 MB before it was refused
    path = write_wide_xml(tmp_path / name, fmt, 2_000_000)
    started = time.perf_counter()
    grew_mb, message = read_in_a_process(path)
    assert time.perf_counter() - started < 5
    assert "\n" not in message
    assert f"holds more than {_xml.LIMITS.children:,} children" in message, message
    assert "on line 3" in message and "nothing was imported" in message
    assert grew_mb < 32, f"{grew_mb} MB"


@pytest.mark.parametrize(("fmt", "name"), WIDE)
def test_a_refused_element_changes_nothing(tmp_path: Path, fmt: str, name: str) -> None:
    good = tmp_path / "days.csv"
    good.write_text(CSV_HEADER + "\n2025-01-01,2,100,7,1,,,\n")
    hostile = write_wide_xml(tmp_path / name, fmt, 200_000)
    with journal_at(tmp_path / "home") as journal:
        with pytest.raises(InputError) as info:
            import_into(journal, good, hostile)
        one_line(info, str(hostile), "children")
        assert journal.counts() == {"episodes": 0, "workouts": 0, "days": 0, "imports": 0}


@pytest.mark.parametrize("fmt", sorted(WIDE_XML))
def test_the_children_limit_is_exact(tmp_path: Path, small_limits: XMLLimits, fmt: str) -> None:
    room = small_limits.children - OWN_CHILDREN[fmt]
    read_file(write_wide_xml(tmp_path / "at-the-limit.xml", fmt, room))
    with pytest.raises(InputError) as info:
        read_file(write_wide_xml(tmp_path / "one-more.xml", fmt, room + 1))
    one_line(info, "holds more than 50 children")


@pytest.mark.parametrize("fmt", sorted(WIDE_XML))
def test_elements_held_at_once_are_bounded(
    tmp_path: Path, small_limits: XMLLimits, fmt: str
) -> None:
    """Few children each, but many elements in all: the record holding them is named."""
    branch = "<b>" + "<c/>" * 40 + "</b>"  # 41 elements
    read_file(write_wide_xml(tmp_path / "fine.xml", fmt, 8, branch))  # 328 in all
    with pytest.raises(InputError) as info:
        read_file(write_wide_xml(tmp_path / "too-many.xml", fmt, 10, branch))  # 410
    record = {"apple_health": "<Workout>", "tcx": "<Activity>", "gpx": "<trkpt>"}[fmt]
    one_line(info, f"the XML element {record} on line 3 holds more than 400 elements")


@pytest.mark.parametrize("fmt", sorted(WIDE_XML))
def test_text_held_at_once_is_bounded(tmp_path: Path, small_limits: XMLLimits, fmt: str) -> None:
    read_file(write_wide_xml(tmp_path / "fine.xml", fmt, 3, f"<a>{'x' * 1000}</a>"))
    with pytest.raises(InputError) as info:
        read_file(write_wide_xml(tmp_path / "long.xml", fmt, 5, f"<a v='{'x' * 1000}'/>"))
    one_line(info, "holds more than 4,096 characters of text")


def test_a_tag_with_too_many_attributes_is_refused_before_it_is_parsed(
    tmp_path: Path, small_limits: XMLLimits
) -> None:
    attributes = " ".join(f'a{i}="1"' for i in range(21))
    ok = " ".join(f'a{i}="1"' for i in range(20))
    read_file(write_wide_xml(tmp_path / "fine.xml", "apple_health", 1, f"<x {ok}/>"))
    with pytest.raises(InputError) as info:
        read_file(write_wide_xml(tmp_path / "many.xml", "apple_health", 1, f"<x {attributes}/>"))
    one_line(info, "has more than 20 attributes")


def test_a_million_attributes_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    # one start tag of 1 million attributes: 10 MB (10 kB zipped); libxml2 took 330 MB for it
    many = " ".join(f"a{i}=''" for i in range(1_000_000))
    path = write_wide_xml(tmp_path / "export.zip", "apple_health", 1, f"<x {many}/>")
    grew_mb, message = read_in_a_process(path)
    assert f"has more than {_xml.LIMITS.attributes:,} attributes" in message, message
    assert grew_mb < 32, f"{grew_mb} MB"


@pytest.mark.parametrize(
    ("child", "needle"),
    [
        ("<a>" + "x" * 11_000_000 + "</a>", "Text node too long"),
        ("<a>" * 300 + "</a>" * 300, "Excessive depth"),
    ],
    ids=["text over 10 MB", "300 deep"],
)
def test_libxml2_limits_are_kept(tmp_path: Path, child: str, needle: str) -> None:
    path = write_wide_xml(tmp_path / "export.xml", "apple_health", 1, child)
    with pytest.raises(InputError) as info:
        read_file(path)
    message = one_line(info, "over a parser limit", needle, "nothing was imported")
    assert "XML_PARSE_HUGE" not in message


#: A piece of XML far longer than libxml2 allows, inside a real record: (before, filler,
#: after). The comment, CDATA section and processing instruction hold "<" and ">" too, so
#: only their own ends can end them.
HUGE = {
    "attribute value": ('<a v="', b"x", '"/>'),
    "text": ("<a>", b"x", "</a>"),
    "tag name": ("<a", b"x", "/>"),
    "comment": ("<!--", b"<>", "-->"),
    "CDATA section": ("<![CDATA[", b"<>", "]]>"),
    "processing instruction": ("<?pi ", b"<>", "?>"),
}


def write_huge_zip(path: Path, case: str, size: int) -> Path:
    """An Apple Health zip whose workout holds one piece of ``size`` bytes (``HUGE``)."""
    head, tail = WIDE_XML["apple_health"]
    before, filler, after = HUGE[case]
    chunk = filler * (1024 * 1024 // len(filler))
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("apple_health_export/export.xml", "w", force_zip64=True) as out,
    ):
        out.write((head + before).encode())
        for _ in range(size // len(chunk)):
            out.write(chunk)
        out.write((after + tail).encode())
    return path


@pytest.mark.parametrize("case", sorted(HUGE))
def test_a_huge_piece_of_xml_is_refused_before_libxml2_holds_it(tmp_path: Path, case: str) -> None:
    """Issue 11 (4): an attribute value, comment or section of 1 GB zipped into 1 MB took
    1-2 GB before libxml2 refused it (it reads such a piece whole first). Here 96 MB (about
    100 kB zipped): refused at 16 MB, in bounded memory (it took 100-200 MB before)."""
    path = write_huge_zip(tmp_path / "export.zip", case, 96 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    grew_mb, message = read_in_a_process(path)
    assert "\n" not in message
    if case == "text":  # libxml2 reads a text as it comes, and refuses it at 10 MB
        assert "Text node too long" in message, message
    else:
        assert f"of more than {_xml.LIMITS.node_bytes:,} bytes" in message, message
    assert "nothing was imported" in message
    assert grew_mb < 48, f"{grew_mb} MB"


@pytest.fixture
def short_pieces(monkeypatch: pytest.MonkeyPatch) -> XMLLimits:
    limits = XMLLimits(node_bytes=1000)
    monkeypatch.setattr(_xml, "LIMITS", limits)
    return limits


@pytest.mark.parametrize("case", sorted(HUGE))
def test_the_piece_limit_holds_for_every_kind_of_piece(
    tmp_path: Path, short_pieces: XMLLimits, case: str
) -> None:
    before, filler, after = HUGE[case]
    fine = filler.decode() * (900 // len(filler))  # with its markup, under 1,000 bytes
    read_file(write_wide_xml(tmp_path / "fine.xml", "apple_health", 1, before + fine + after))
    long = filler.decode() * (1100 // len(filler))
    with pytest.raises(InputError) as info:
        read_file(write_wide_xml(tmp_path / "long.xml", "apple_health", 1, before + long + after))
    one_line(info, "has a text, tag, comment or section of more than 1,000 bytes", "near byte")


def test_a_section_split_across_reads_is_still_found(
    tmp_path: Path, short_pieces: XMLLimits
) -> None:
    """Where a comment starts and ends is found even when a read cuts "<!--" or "-->" in two."""
    from twitchwise.journal.imports._xml import SafeXMLReader

    head, tail = WIDE_XML["apple_health"]
    fine = (
        "<!--" + "<>" * 400 + "-->" + "<![CDATA[" + "]]" * 400 + "]]>" + "<?p " + "?" * 900 + "?>"
    )
    body = (head + fine + "<a/>" * 300 + "<!--" + "<>" * 600 + "-->" + tail).encode()

    class Trickle(io.BytesIO):
        def __init__(self, data: bytes, most: int) -> None:
            super().__init__(data)
            self.most = most

        def read(self, size: int | None = -1, /) -> bytes:
            return super().read(self.most if size is None or size < 0 else min(size, self.most))

    for most in (1, 2, 3, 5, 7, 64):
        with pytest.raises(FileProblem, match=r"near byte [\d,]+ has .* more than 1,000 bytes"):
            reader = SafeXMLReader(Trickle(body, most))
            while reader.read(most):
                pass
    assert SafeXMLReader(Trickle(head.encode() + fine.encode() + tail.encode(), 3)).read(-1)


@pytest.mark.parametrize(("fmt", "write"), [("gpx", write_long_gpx), ("tcx", write_long_tcx)])
def test_a_long_track_streams_in_flat_memory(tmp_path: Path, fmt: str, write: Any) -> None:
    """50,000 points, five times the children limit, are read as running totals (a GPX of
    200,000 points took 334 MB when it was read whole, one of a million 1.7 GB)."""
    short, long = tmp_path / f"short.{fmt}", tmp_path / f"long.{fmt}"
    write(short, 5_000)
    write(long, 50_000)
    assert read_file(short)[1].workouts[0].duration_s == 4_999
    grew_short, _ = read_in_a_process(short)
    grew_long, message = read_in_a_process(long)
    assert message == "accepted"
    assert grew_long - grew_short < 8, (grew_short, grew_long)


# ---------------------------------------------------------------------- round trips

DAY_VALUES = {
    "caffeine_mg": st.floats(0, 3000, allow_nan=False),
    "sleep_h": st.floats(0, 24, allow_nan=False),
    "water_l": st.floats(0, 20, allow_nan=False),
    "workout_min": st.floats(0, 1440, allow_nan=False),
    "stress": st.integers(0, 10),
    "alcohol_units": st.floats(0, 100, allow_nan=False),
}
DAYS = st.dictionaries(
    st.dates(date(1990, 1, 1), date(2025, 12, 31)),
    st.tuples(
        st.one_of(st.none(), st.integers(0, 6)),  # None: the twitches cell left blank
        st.fixed_dictionaries({}, optional=DAY_VALUES),
    ),
    max_size=12,
)


def _count_cell(count: int | None) -> str:
    return "" if count is None else str(count)


def _csv(days: dict[date, tuple[int | None, dict[str, float]]]) -> str:
    lines = [CSV_HEADER]
    for day, (count, values) in sorted(days.items()):
        cells = [
            "" if values.get(c) is None else repr(values[c]) for c in CSV_HEADER.split(",")[2:]
        ]
        lines.append(",".join([day.isoformat(), _count_cell(count), *cells]))
    return "\n".join(lines) + "\n"


@settings(max_examples=40)
@given(DAYS)
def test_csv_export_import_round_trip(tmp_path_factory: pytest.TempPathFactory, days: dict) -> None:
    folder = tmp_path_factory.mktemp("csv")
    source = folder / "in.csv"
    source.write_text(_csv(days))
    with journal_at(folder / "a") as a:
        import_into(a, source)
        for day, (_count, values) in days.items():
            assert (a.get_day(day) or DayFactors()) == DayFactors(**values)
        first = to_csv(a.read())
    # one row per day, each count as given: a written 0 is a calm day and a blank cell a day
    # whose twitches were not recorded, and both are kept (issue 13: blank is not zero)
    rows = first.splitlines()[1:]
    assert [r.split(",")[:2] for r in rows] == [
        [d.isoformat(), _count_cell(v[0])] for d, v in sorted(days.items())
    ]
    exported = folder / "out.csv"
    exported.write_text(first)
    with journal_at(folder / "b") as b:
        import_into(b, exported)
        assert to_csv(b.read()) == first


AWARE = st.datetimes(
    datetime(2000, 1, 1),
    datetime(2025, 12, 31),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=10)), timezone(-timedelta(hours=5, minutes=30))]
    ),
)
EPISODE = st.fixed_dictionaries(
    {"at": AWARE},
    optional={
        "region": st.sampled_from(["region_calf", "region_eyelid", "region_thigh"]),
        "side": st.sampled_from(["left", "right", "both"]),
        "intensity": st.integers(1, 5),
        "duration_s": st.floats(0, 86_400, allow_nan=False),
        "note": st.text(max_size=40),
    },
)
DAY = st.fixed_dictionaries(
    {"date": st.dates(date(2000, 1, 1), date(2025, 12, 31))},
    optional={
        **DAY_VALUES,
        "workout_type": st.text(min_size=1, max_size=20),
        "medicines": st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3),
        "steps": st.integers(0, 300_000),
        "hrv_ms": st.floats(0, 1000, allow_nan=False),
    },
)
WORKOUT = st.fixed_dictionaries(
    {"start": AWARE, "duration_s": st.floats(0, 50_000, allow_nan=False)},
    optional={
        "sport": st.sampled_from(["running", "cycling", "yoga"]),
        "distance_m": st.floats(0, 1e6, allow_nan=False),
        "energy_kj": st.floats(0, 1e5, allow_nan=False),
        "avg_hr_bpm": st.floats(30, 220, allow_nan=False),
    },
)


@settings(max_examples=40)
@given(
    st.lists(EPISODE, max_size=8),
    st.lists(DAY, max_size=8, unique_by=lambda d: d["date"]),
    st.lists(
        WORKOUT,
        max_size=5,
        unique_by=lambda w: w["start"].astimezone(UTC).replace(microsecond=0),
    ),
)
def test_json_export_import_round_trip(
    tmp_path_factory: pytest.TempPathFactory, episodes: list, days: list, workouts: list
) -> None:
    folder = tmp_path_factory.mktemp("json")
    source = folder / "in.json"
    payload = {
        "episodes": [
            {**e, "at": e["at"].isoformat(), "date": e["at"].date().isoformat()} for e in episodes
        ],
        "days": [{**d, "date": d["date"].isoformat()} for d in days],
        "workouts": [{**w, "start": w["start"].isoformat()} for w in workouts],
    }
    source.write_text(json.dumps(payload))
    with journal_at(folder / "a") as a:
        import_into(a, source)
        first = a.read()
    assert len(first.episodes) == len(payload["episodes"])
    assert len(first.days) == len([d for d in days if len(d) > 1])
    assert len(first.workouts) == len(payload["workouts"])
    exported = folder / "out.json"
    exported.write_text(to_json(first))
    with journal_at(folder / "b") as b:
        import_into(b, exported)
        second = b.read()
        assert second == first
        (again,) = import_into(b, exported)
        assert again.already_imported is not None


CHECK_INS = st.dictionaries(
    st.dates(date(2020, 1, 1), date(2020, 6, 30)), st.booleans(), max_size=6
)
EXPERIMENT = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["caffeine", "sleep", "custom"]),
        "started_on": st.dates(date(2020, 1, 1), date(2020, 3, 1)),
        "block_days": st.integers(2, 14),
        "schedule": st.lists(st.sampled_from(["AB", "BA"]), min_size=1, max_size=4).map("".join),
        "seed": st.integers(0, 2**62),
        "created_at": AWARE,
        "days": CHECK_INS,
    },
    optional={
        "change": st.text(min_size=1, max_size=40),
        "stopped_on": st.dates(date(2020, 3, 1), date(2020, 6, 30)),
        "stop_reason": st.text(max_size=40),
    },
)


@settings(max_examples=30)
@given(st.lists(EXPERIMENT, max_size=3, unique_by=lambda x: (x["kind"], x["started_on"])))
def test_json_export_import_round_trip_of_experiments(
    tmp_path_factory: pytest.TempPathFactory, experiments: list
) -> None:
    folder = tmp_path_factory.mktemp("json")
    source = folder / "in.json"
    payload = {
        "experiments": [
            {
                **x,
                "washout_days": x["block_days"] // 2,
                "started_on": x["started_on"].isoformat(),
                "created_at": x["created_at"].isoformat(),
                "stopped_on": x["stopped_on"].isoformat() if "stopped_on" in x else None,
                "days": [{"date": d.isoformat(), "followed": f} for d, f in x["days"].items()],
            }
            for x in experiments
        ]
    }
    source.write_text(json.dumps(payload))
    with journal_at(folder / "a") as a:
        (summary,) = import_into(a, source)
        assert summary.experiments_added == len(experiments)
        assert summary.check_ins_added == sum(len(x["days"]) for x in experiments)
        first = a.read()
    assert [(x.kind, x.started_on, x.schedule, x.seed) for x in first.experiments] == [
        (x["kind"], x["started_on"], x["schedule"], x["seed"]) for x in experiments
    ]
    assert [dict(x.check_ins) for x in first.experiments] == [x["days"] for x in experiments]
    text = to_json(first)
    assert json.loads(text)["experiments"] == [x.to_dict() for x in first.experiments]
    exported = folder / "out.json"
    exported.write_text(text)
    with journal_at(folder / "b") as b:
        import_into(b, exported)
        second = b.read()
        assert second == first and to_json(second) == text
        (again,) = import_into(b, exported)
        assert again.already_imported is not None
    # an edited copy adds no experiment twice, only the check-ins the journal lacks
    edited = folder / "edited.json"
    edited.write_text(text.replace("{", "{ ", 1))
    with journal_at(folder / "b") as b:
        (summary,) = import_into(b, edited)
        assert (summary.experiments_added, summary.check_ins_added) == (0, 0)
        assert b.read() == first


def test_a_bad_experiment_in_a_json_export_refuses_the_file(tmp_path: Path) -> None:
    good = {
        "kind": "caffeine", "started_on": "2026-03-02", "block_days": 7, "washout_days": 2,
        "schedule": "ABBA", "seed": 1, "created_at": "2026-03-02T08:00:00+00:00",
    }  # fmt: skip
    for bad, needle in [
        ({"schedule": "ABC"}, "experiments.0.schedule"),
        ({"washout_days": 7}, "washout_days must be fewer than block_days"),
        ({"stopped_on": "2026-03-01"}, "stopped_on is before started_on"),
        ({"days": [{"date": "2026-03-02", "followed": True}] * 2}, "checked in twice"),
        ({"extra": 1}, "experiments.0.extra"),
    ]:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps({"experiments": [{**good, **bad}]}))
        with journal_at(tmp_path / "home") as journal:
            with pytest.raises(InputError, match=needle):
                import_into(journal, path)
            assert journal.experiments() == []
