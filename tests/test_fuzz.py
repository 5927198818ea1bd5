"""Fuzzing kept in the repository (issue 11): every importer and ``twitchwise.ask``.

Hypothesis feeds each importer (FIT, GPX, TCX, Apple Health export.xml and export.zip, the
daily CSV, twitchwise's JSON) files built from its own vocabulary with random values, and real
files mutated byte by byte and value by value (a FIT file's checksums are recomputed after
the mutation, so the decoder reads on instead of stopping at the checksum). Every file is
either read (and then written to a journal, which must accept it) or refused with one
:class:`~twitchwise.errors.InputError` line that names it; any other exception, or a
message of more than one line, fails. ``twitchwise.ask`` gets arbitrary Unicode text up to
the 20,000-character cap with random ages and sexes: an answer whose JSON has exactly the
contract's keys, or one ``InputError`` line.

CI runs a few examples of each (``TWITCHWISE_FUZZ_EXAMPLES``, default 20: a few seconds a
test). For a long run on demand::

    TWITCHWISE_FUZZ_EXAMPLES=5000 python -m pytest -p no:cacheprovider tests/test_fuzz.py

(add ``--hypothesis-seed=N`` to repeat a run; a failure prints the smallest example found).
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import twitchwise
from fixtures.journal.files import (
    APPLE_PROLOG,
    CSV_HEADER,
    journal_at,
    tcx_text,
    write_apple_health,
    write_fit,
    write_gpx,
    write_ios16_export,
)
from test_api import check_contract
from twitchwise.errors import InputError
from twitchwise.journal.imports import read_file
from twitchwise.journal.store import Journal

EXAMPLES = int(os.environ.get("TWITCHWISE_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
    ],
)

#: Values worth trying wherever a file has a number, a time or a name.
ODD = [
    "", " ", "-1", "0", "-0", "1e309", "-1e309", "nan", "NaN", "inf", "1e-320", "1.5e300",
    "99999999999999999999999", "4294967296", "-2147483649", "0x10", "1,5", "٣", "²",
    "2025-02-30", "2025-13-01", "0001-01-01", "9999-12-31", "1899-12-31",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2025-01-01T24:00:00Z",
    "2025-01-01 10:00:00 +9999", "2025-01-01T10:00:00+25:00", "2025-01-01T10:00:00.9999999Z",
    "1970-01-01T00:00:00", "2106-02-07T06:28:16Z", "now", "\u202e", "é", "\x85",
    "a" * 300, "&amp;", "&#0;", "&#x110000;", "]]>", "<", "\"'",
]  # fmt: skip
_NUMBER_OR_TIME = re.compile(
    rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?: ?[+-]\d\d:?\d\d|Z)?|-?\d+(?:\.\d+)?"
)


def fuzz_settings(**changes: Any) -> Any:
    return settings(FUZZ, **changes)


# ---------------------------------------------------------------------- what every file must do


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def journal(folder: Path) -> Iterator[Journal]:
    with journal_at(folder / "home") as j:
        yield j


def one_line(exc: InputError, path: Path) -> None:
    message = str(exc)
    assert message.strip() and "\n" not in message and "\r" not in message, message
    assert "Traceback" not in message, message
    assert path.name in message, message


def read_or_refuse(path: Path, data: bytes, journal: Journal) -> None:
    """Read ``data`` as a file: it is read and written to the journal, or refused in one line.
    Nothing else may happen."""
    path.write_bytes(data)
    try:
        info, batch = read_file(path)
    except InputError as exc:
        one_line(exc, path)
        return
    try:
        journal.import_files([(info, batch)])
    except InputError as exc:  # the store's own last check of the dates
        one_line(exc, path)


# ---------------------------------------------------------------------- mutations


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, values: bool = True) -> bytes:
    """``seed`` with one to four changes: bytes replaced, inserted, deleted, repeated, the
    end cut off, or (``values``) a number or time replaced by an odd value."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kinds = ["replace", "insert", "delete", "repeat", "cut"] + (["value"] * 4 if values else [])
        kind = draw(st.sampled_from(kinds))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        size = draw(st.integers(1, 16))
        if kind == "replace":
            data[at : at + size] = draw(st.binary(min_size=1, max_size=size))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=size))
        elif kind == "delete":
            del data[at : at + size]
        elif kind == "repeat":
            data[at:at] = data[at : at + size] * draw(st.integers(1, 50))
        elif kind == "cut":
            del data[at:]
        else:
            found = list(_NUMBER_OR_TIME.finditer(bytes(data)))
            if found:
                match = draw(st.sampled_from(found))
                value = draw(st.sampled_from(ODD) | st.text(max_size=12))
                data[match.start() : match.end()] = value.encode("utf-8", "surrogatepass")
    return bytes(data)


# ---------------------------------------------------------------------- FIT


def fit_checked(data: bytes) -> bytes:
    """``data`` with a FIT header's data size and both checksums made right again (when it
    still has a FIT header), so that a mutated file is decoded, not refused at its CRC."""
    from fitdecode.utils import compute_crc

    if len(data) < 14 or data[0] not in (12, 14) or data[8:12] != b".FIT":
        return data
    header = data[0]
    body = data[header:-2] if len(data) >= header + 2 else b""
    head = bytearray(data[:header])
    head[4:8] = struct.pack("<I", len(body))
    if header == 14:
        head[12:14] = struct.pack("<H", compute_crc(bytes(head[:12])))
    whole = bytes(head) + body
    return whole + struct.pack("<H", compute_crc(whole))


@pytest.fixture(scope="module")
def fit_seeds(folder: Path) -> list[bytes]:
    seeds = []
    for with_session in (True, False):
        path = folder / f"seed-{with_session}.fit"
        write_fit(path, with_session=with_session)
        seeds.append(path.read_bytes())
    return seeds


@FUZZ
@given(data=st.data())
def test_fit_files(
    data: st.DataObject, fit_seeds: list[bytes], folder: Path, journal: Journal
) -> None:
    seed = data.draw(st.sampled_from(fit_seeds))
    changed = data.draw(mutated(seed, values=False))
    if data.draw(st.booleans()):
        changed = fit_checked(changed)
    read_or_refuse(folder / "activity.fit", changed, journal)


@FUZZ
@given(
    start=st.datetimes(datetime(1989, 12, 31), datetime(2106, 1, 1), timezones=st.just(UTC)),
    session=st.booleans(),
)
def test_fit_files_at_any_time(
    start: datetime, session: bool, folder: Path, journal: Journal
) -> None:
    """Valid FIT files at any time FIT can hold (1989 to 2106): read, or refused for the date
    rule in one line."""
    path = folder / "built.fit"
    try:
        write_fit(path, start=start, with_session=session)
    except (ValueError, OverflowError, struct.error):
        assume(False)  # a time the FIT writer itself cannot encode
    read_or_refuse(path, path.read_bytes(), journal)


# ---------------------------------------------------------------------- XML: GPX, TCX, Apple Health

NAME = st.sampled_from(
    ["gpx", "trk", "trkseg", "trkpt", "time", "ele", "type", "extensions", "hr", "heartrate",
     "TrainingCenterDatabase", "Activities", "Activity", "Lap", "Track", "Trackpoint", "Time",
     "Id", "DistanceMeters", "TotalTimeSeconds", "Calories", "Value", "HeartRateBpm",
     "AverageHeartRateBpm", "HealthData", "Record", "Workout", "WorkoutStatistics",
     "MetadataEntry", "Correlation", "ExportDate", "x"]
)  # fmt: skip
ATTRIBUTE = st.sampled_from(
    ["lat", "lon", "Sport", "StartTime", "type", "unit", "value", "sourceName", "startDate",
     "endDate", "creationDate", "workoutActivityType", "duration", "durationUnit", "sum",
     "totalDistance", "totalDistanceUnit", "totalEnergyBurned", "totalEnergyBurnedUnit",
     "version", "locale", "key"]
)  # fmt: skip
TEXT_VALUE = st.one_of(
    st.sampled_from(ODD),
    st.sampled_from(
        ["HKQuantityTypeIdentifierDietaryCaffeine", "HKQuantityTypeIdentifierStepCount",
         "HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysisAsleepCore",
         "HKWorkoutActivityTypeRunning", "HKQuantityTypeIdentifierDietaryWater",
         "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "mg", "g", "mL", "fl_oz_us", "min",
         "count", "ms", "kcal", "km", "Running", "Biking", "2025-03-02T09:00:00Z",
         "2025-01-01 07:00:00 +0100", "2025-01-01 23:30:00 +0100", "51.5", "-0.12", "140",
         "300"]
    ),
    st.floats(allow_nan=True).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=20),
)  # fmt: skip


def _xml_escape(text: str) -> str:
    text = "".join(c for c in text if c in "\t\n\r" or (c >= " " and not 0xD800 <= ord(c) < 0xE000))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@st.composite
def element(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(NAME)
    attributes = draw(st.dictionaries(ATTRIBUTE, TEXT_VALUE, max_size=5))
    attrs = "".join(f' {k}="{_xml_escape(v)}"' for k, v in attributes.items())
    children: list[str] = []
    if depth < 5:
        children = draw(st.lists(element(depth + 1), max_size=4 if depth < 3 else 2))
    text = _xml_escape(draw(TEXT_VALUE)) if draw(st.booleans()) else ""
    if not children and not text:
        return f"<{name}{attrs}/>"
    return f"<{name}{attrs}>{text}{''.join(children)}</{name}>"


ROOTS = {
    "gpx": '<gpx version="1.1" creator="fuzz" xmlns="http://www.topografix.com/GPX/1/1" '
    'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">',
    "tcx": '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
    'TrainingCenterDatabase/v2">',
    "apple": '<HealthData locale="en_GB">',
}
CLOSE = {"gpx": "</gpx>", "tcx": "</TrainingCenterDatabase>", "apple": "</HealthData>"}


@FUZZ
@given(
    kind=st.sampled_from(sorted(ROOTS)), body=st.lists(element(), max_size=6), zipped=st.booleans()
)
def test_xml_files_from_their_own_vocabulary(
    kind: str, body: list[str], zipped: bool, folder: Path, journal: Journal
) -> None:
    prolog = (
        APPLE_PROLOG.split("<HealthData", 1)[0] if kind == "apple" else '<?xml version="1.0"?>\n'
    )
    xml = (prolog + ROOTS[kind] + "".join(body) + CLOSE[kind]).encode()
    if kind == "apple" and zipped:
        read_or_refuse(folder / "export.zip", _zip(xml), journal)
    else:
        read_or_refuse(folder / f"fuzz.{kind}", xml, journal)


def _zip(xml: bytes, name: str = "apple_health_export/export.xml") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, xml)
    return out.getvalue()


@pytest.fixture(scope="module")
def xml_seeds(folder: Path) -> dict[str, bytes]:
    gpx, apple, ios16 = folder / "seed.gpx", folder / "seed.xml", folder / "ios16.xml"
    write_gpx(gpx, points=6)
    write_apple_health(apple, days=3)
    write_ios16_export(ios16, days=2)
    return {
        "gpx": gpx.read_bytes(),
        "tcx": tcx_text().encode(),
        "apple": apple.read_bytes(),
        "ios16": ios16.read_bytes(),
    }


@FUZZ
@given(data=st.data())
def test_xml_files_mutated(
    data: st.DataObject, xml_seeds: dict[str, bytes], folder: Path, journal: Journal
) -> None:
    kind = data.draw(st.sampled_from(sorted(xml_seeds)))
    changed = data.draw(mutated(xml_seeds[kind]))
    suffix = {"gpx": "gpx", "tcx": "tcx"}.get(kind, "xml")
    read_or_refuse(folder / f"mutated.{suffix}", changed, journal)


@FUZZ
@given(data=st.data())
def test_apple_health_zips_mutated(
    data: st.DataObject, xml_seeds: dict[str, bytes], folder: Path, journal: Journal
) -> None:
    """The export inside changed (and zipped again, under its name or another), or the zip's
    own bytes changed."""
    xml = xml_seeds["apple"]
    if data.draw(st.booleans()):
        name = data.draw(st.sampled_from(["apple_health_export/export.xml", "exportar.xml",
                                          "a/b/export.xml", "export_cda.xml"]))  # fmt: skip
        archive = _zip(data.draw(mutated(xml)), name)
    else:
        archive = data.draw(mutated(_zip(xml), values=False))
    read_or_refuse(folder / "export.zip", archive, journal)


# ---------------------------------------------------------------------- daily CSV

CSV_COLUMNS = [*CSV_HEADER.split(","), "steps", "hrv_ms", "Date", "twitches ", "unknown", ""]
CELL = st.one_of(
    st.sampled_from(ODD),
    st.integers(-10, 5000).map(str),
    st.floats(-10, 5000, allow_nan=False).map(repr),
    st.dates().map(str),
    st.text(max_size=8),
)


@FUZZ
@given(
    columns=st.lists(st.sampled_from(CSV_COLUMNS), min_size=1, max_size=9),
    rows=st.lists(st.lists(CELL, max_size=10), max_size=8),
    date_first=st.booleans(),
    bom=st.booleans(),
)
def test_daily_csv_files(
    columns: list[str],
    rows: list[list[str]],
    date_first: bool,
    bom: bool,
    folder: Path,
    journal: Journal,
) -> None:
    import csv

    header = ["date", *columns] if date_first else columns
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([c.replace("\x00", "") for c in row])
    text = ("\ufeff" if bom else "") + out.getvalue()
    read_or_refuse(folder / "daily.csv", text.encode("utf-8", "surrogatepass"), journal)


@FUZZ
@given(data=st.data())
def test_daily_csv_files_mutated(data: st.DataObject, folder: Path, journal: Journal) -> None:
    seed = (
        CSV_HEADER + "\n2025-01-01,3,300,5.5,1.5,45,7,2\n2025-01-02,0,100,8,,,3,\n"
        "2025-01-03,1000,3000,24,20,1440,10,100\n"
    ).encode()
    read_or_refuse(folder / "daily.csv", data.draw(mutated(seed)), journal)


# ---------------------------------------------------------------------- twitchwise JSON

JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.sampled_from(ODD)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
EPISODE_KEYS = ["uid", "at", "date", "region", "side", "intensity", "duration_s", "note", "source"]
DAY_KEYS = ["date", "caffeine_mg", "sleep_h", "water_l", "workout_min", "workout_type", "stress",
            "alcohol_units", "medicines", "steps", "hrv_ms"]  # fmt: skip
WORKOUT_KEYS = ["start", "duration_s", "sport", "distance_m", "energy_kj", "avg_hr_bpm",
                "source_file"]  # fmt: skip


def _record(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    good = {
        "uid": st.text(max_size=8),
        "at": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
        "date": st.dates().map(str),
        "start": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
        "region": st.sampled_from(["region_calf", "calf", "", "region_nowhere"]),
        "side": st.sampled_from(["left", "right", "both", "up"]),
        "medicines": st.lists(st.text(max_size=6), max_size=3),
    }
    value = {k: st.one_of(good.get(k, st.nothing()), JSON_VALUE) for k in keys}
    return st.fixed_dictionaries({}, optional=value)


@FUZZ
@given(
    export=st.fixed_dictionaries(
        {},
        optional={
            "episodes": st.lists(_record(EPISODE_KEYS), max_size=4) | JSON_VALUE,
            "days": st.lists(_record(DAY_KEYS), max_size=4) | JSON_VALUE,
            "workouts": st.lists(_record(WORKOUT_KEYS), max_size=4) | JSON_VALUE,
            "extra": JSON_VALUE,
        },
    ),
    nest=st.integers(0, 3),
)
def test_twitchwise_json_files(
    export: dict[str, Any], nest: int, folder: Path, journal: Journal
) -> None:
    text = json.dumps(export, allow_nan=True)
    if nest:  # arrays inside arrays, as deep as a hostile file makes them
        text = text[:-1] + ', "deep": ' + "[" * 10**nest * 3 + "]" * 10**nest * 3 + "}"
    read_or_refuse(folder / "export.json", text.encode("utf-8", "surrogatepass"), journal)


@FUZZ
@given(data=st.data())
def test_twitchwise_json_files_mutated(data: st.DataObject, folder: Path, journal: Journal) -> None:
    seed = json.dumps(
        {
            "episodes": [{"uid": "a", "at": "2025-01-01T10:00:00+00:00", "date": "2025-01-01",
                          "region": "region_calf", "side": "left", "intensity": 3,
                          "duration_s": 20.0, "note": "after coffee", "source": "log"}],
            "days": [{"date": "2025-01-01", "caffeine_mg": 300.0, "sleep_h": 6.5,
                      "medicines": ["magnesium"], "steps": 9000}],
            "workouts": [{"start": "2025-01-01T07:00:00+00:00", "duration_s": 1800.0,
                          "sport": "running", "distance_m": 5000.0}],
        },
        indent=2,
    ).encode()  # fmt: skip
    read_or_refuse(folder / "export.json", data.draw(mutated(seed)), journal)


# ---------------------------------------------------------------------- ask

#: The longest text the parser reads (longer is cut there).
CAP = 20_000
WORDS = st.sampled_from(
    ["twitch", "twitching", "eyelid", "calf", "not", "no", "weakness", "weak", "3 weeks",
     "coffee", "4 coffees", "slept 5 hours", "statin", "dark urine", "chest pain", "numb",
     "my mum", "used to", "maybe", "?", ",", ".", "\n", "🙂", "ſ", "İ", "ß", "\u200b", "\u0301"]
)  # fmt: skip


@st.composite
def lay_text(draw: st.DrawFn) -> str:
    """Any Unicode, or words of the domain, repeated up to (and past) the cap."""
    piece = draw(
        st.one_of(
            st.text(max_size=200),
            st.lists(WORDS, max_size=40).map(" ".join),
            st.text(st.characters(codec="utf-8"), max_size=50),
        )
    )
    times = draw(st.sampled_from([1, 1, 1, 2, 10, 100, CAP]))
    return (piece * times)[: draw(st.sampled_from([CAP, CAP + 50, 500]))]


AGE = st.one_of(st.none(), st.integers(-5, 130), st.integers(-(2**70), 2**70))
SEX = st.one_of(
    st.none(), st.sampled_from(["female", "male", "Female", "", "other"]), st.text(max_size=5)
)


@fuzz_settings()
@given(text=lay_text(), age=AGE, sex=SEX)
def test_ask_answers_anything_in_the_contract_or_says_why_not(
    text: str, age: int | None, sex: str | None
) -> None:
    try:
        answer = twitchwise.ask(text, age=age, sex=sex)
    except InputError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, message
        return
    data = json.loads(json.dumps(answer.to_dict()))  # plain JSON, no NaN
    check_contract(data)


def test_the_fuzzers_can_run_long_on_demand() -> None:
    """The number of examples comes from the environment (CI: a few; on demand: thousands)."""
    assert EXAMPLES >= 1
    assert FUZZ.max_examples == EXAMPLES
