"""The journal commands: log (twitch, day, free text), import, export, forget; one-line errors
with exit status 2; a kill -9 in the middle of an import."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from fixtures.journal.files import (
    BILLION_LAUGHS,
    CSV_HEADER,
    insert_bad_rows,
    write_apple_zip,
    write_fit,
    write_gpx,
    write_tcx,
    write_wide_xml,
)
from helpers import run
from twitchwise.journal.store import open_journal

RULE = "a journal date is from 1900-01-01 to today"


def one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def exported(capsys: pytest.CaptureFixture[str]) -> dict[str, list[dict[str, object]]]:
    code, out, err = run(["export", "--format", "json"], capsys)
    assert code == 0, err
    return json.loads(out)


# ---------------------------------------------------------------------- log


def test_log_free_text(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "left calf twitching again after 3 coffees"
    code, out, err = run(["log", text, "--at", "2026-03-01T07:30"], capsys)
    assert (code, err) == (0, "")
    assert out == (
        "Logged a twitch: calf, left side, at 2026-03-01 07:30.\n"
        "Recorded for 2026-03-01: caffeine (mg) 288.\n"
    )
    data = exported(capsys)
    (episode,) = data["episodes"]
    assert episode["region"] == "region_calf"
    assert episode["side"] == "left"
    assert episode["note"] == text
    assert episode["source"] == "log"
    assert data["days"][0]["date"] == "2026-03-01"
    assert data["days"][0]["caffeine_mg"] == 288


def test_log_text_is_the_same_as_log(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["log", "text", "my", "eyelid", "twitches", "--at", "2026-03-01T07:30"], capsys
    )
    assert code == 0
    assert out == "Logged a twitch: eyelid, at 2026-03-01 07:30.\n"


def test_one_episode_per_region_with_its_own_side(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["log", "left calf and right thigh twitching, slept 5 hours", "--at", "2026-03-01T07:30"],
        capsys,
    )
    assert code == 0
    assert out == (
        "Logged a twitch: calf, left side, at 2026-03-01 07:30.\n"
        "Logged a twitch: thigh (quadriceps), right side, at 2026-03-01 07:30.\n"
        "Recorded for 2026-03-01: sleep (hours) 5.\n"
    )
    episodes = exported(capsys)["episodes"]
    assert [(e["region"], e["side"]) for e in episodes] == [
        ("region_calf", "left"),
        ("region_thigh", "right"),
    ]


def test_twitching_without_a_region_is_still_an_episode(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["log", "twitching all evening", "--at", "2026-03-01T20:00"], capsys)
    assert code == 0
    assert out.startswith("Logged a twitch: no region given, at 2026-03-01 20:00.")


def test_denied_twitching_logs_nothing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["log", "no twitching today"], capsys)
    assert code == 0
    assert out.startswith("Nothing logged: you wrote there was no twitching")
    assert exported(capsys)["episodes"] == []


def test_text_with_nothing_to_log(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["log", "the weather is nice"], capsys)
    one_line_error(code, out, err, "nothing to log", "twitchwise log twitch --region")


def test_log_twitch(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["log", "twitch", "--region", "calves", "--side", "both", "--intensity", "3"]
    argv += ["--at", "2026-03-01T09:15+01:00", "--duration-s", "40", "--note", "after run"]
    code, out, err = run(argv, capsys)
    assert (code, err) == (0, "")
    assert out == "Logged a twitch: calf, both sides, intensity 3/5, 40 s, at 2026-03-01 08:15.\n"
    (episode,) = exported(capsys)["episodes"]
    assert episode == {
        "uid": episode["uid"],
        "at": "2026-03-01T08:15:00+00:00",
        "date": "2026-03-01",
        "region": "region_calf",
        "side": "both",
        "intensity": 3,
        "duration_s": 40.0,
        "note": "after run",
        "source": "log",
    }


def test_log_twitch_accepts_region_ids(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["log", "twitch", "-r", "region_eyelid", "--at", "2026-03-01T07:00"], capsys)
    assert code == 0
    assert "eyelid" in out


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--region", "calfe"], ["unknown body region 'calfe'", "did you mean 'calf'"]),
        (["--region", "calf", "--side", "middle"], ["--side must be left, right or both"]),
        (["--region", "calf", "--intensity", "6"], ["intensity must be a whole number from 1"]),
        (["--region", "calf", "--intensity", "many"], ["--intensity", "twitchwise --help"]),
        (["--region", "calf", "--at", "2999-01-01T00:00"], ["in the future"]),
        (["--region", "calf", "--at", "0001-01-01T00:00"], ["0001-01-01 is before 1900-01-01"]),
        (["--region", "calf", "--at", "9999-12-31T23:59"], ["9999-12-31 is in the future"]),
        (["--region", "calf", "--at", "last tuesday"], ["not an ISO time"]),
        (["--region", "calf", "--duration-s", "-3"], ["duration"]),
        ([], ["--region"]),
    ],
)
def test_log_twitch_refuses_bad_input(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]
) -> None:
    code, out, err = run(["log", "twitch", *args], capsys)
    one_line_error(code, out, err, *needles)
    assert not (home / "journal.sqlite").exists() or exported(capsys)["episodes"] == []


def test_log_day_upserts(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["log", "day", "--date", "2026-03-01", "--caffeine-mg", "300", "--sleep-h", "5.5"], capsys
    )
    assert code == 0
    assert out == "Recorded for 2026-03-01: caffeine (mg) 300; sleep (hours) 5.5.\n"
    argv = ["log", "day", "-d", "2026-03-01", "--stress", "7", "--water-l", "1.5"]
    argv += ["--workout-min", "45", "--workout-type", "legs", "--alcohol-units", "2"]
    argv += ["--medicines", "sertraline, salbutamol"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    (day,) = exported(capsys)["days"]
    assert day == {
        "date": "2026-03-01",
        "caffeine_mg": 300.0,
        "sleep_h": 5.5,
        "water_l": 1.5,
        "workout_min": 45.0,
        "workout_type": "legs",
        "stress": 7,
        "alcohol_units": 2.0,
        "medicines": ["sertraline", "salbutamol"],
        "steps": None,
        "hrv_ms": None,
    }


def test_log_day_has_an_option_for_every_factor(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Steps and heart-rate variability too (issue 12: 'log day' missed them)."""
    argv = ["log", "day", "-d", "2026-03-01", "--steps", "9000", "--hrv-ms", "45.5"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert out == "Recorded for 2026-03-01: steps 9000; heart-rate variability SDNN (ms) 45.5.\n"
    (day,) = exported(capsys)["days"]
    assert (day["steps"], day["hrv_ms"]) == (9000, 45.5)
    code, out, err = run(["log", "day", "--hrv-ms", "1001"], capsys)
    one_line_error(code, out, err, "hrv_ms must be between 0 and 1000")


def test_log_day_defaults_to_today_and_knows_yesterday(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["log", "day", "--sleep-h", "7"], capsys)[0] == 0
    assert run(["log", "day", "--date", "yesterday", "--sleep-h", "6"], capsys)[0] == 0
    days = {d["date"]: d["sleep_h"] for d in exported(capsys)["days"]}
    today = date.today()
    assert days == {today.isoformat(): 7.0, (today - timedelta(days=1)).isoformat(): 6.0}


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ([], ["give at least one factor"]),
        (["--stress", "11"], ["stress must be between 0 and 10, not 11"]),
        (["--sleep-h", "30"], ["sleep_h must be between 0 and 24"]),
        (["--caffeine-mg", "-5"], ["caffeine_mg must be between 0 and 3000"]),
        (["--date", "01/03/2026", "--stress", "2"], ["is not a date"]),
        (["--date", "2999-01-01", "--stress", "2"], ["in the future"]),
        (["--date", "9999-12-31", "--stress", "2"], ["--date 9999-12-31 is in the future", RULE]),
        (["--date", "0001-01-01", "--stress", "2"], ["--date 0001-01-01 is before 1900", RULE]),
    ],
)
def test_log_day_refuses_bad_input(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]
) -> None:
    code, out, err = run(["log", "day", *args], capsys)
    one_line_error(code, out, err, *needles)


def test_log_alone_prints_help(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["log"], capsys)
    assert code == 0
    assert "twitch" in out and "day" in out and "text" in out


# ---------------------------------------------------------------------- import


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / n for n in ("run.fit", "ride.gpx", "run.tcx", "export.zip", "days.csv")]
    write_fit(paths[0])
    write_gpx(paths[1])
    write_tcx(paths[2])
    write_apple_zip(paths[3], 3)
    paths[4].write_text(CSV_HEADER + "\n2025-02-01,4,250,6,2,45,5,1\n2025-02-02,,,7,,,,\n")
    return paths


def test_import_says_what_was_added(
    home: Path, files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["import", *map(str, files)], capsys)
    assert (code, err) == (0, "")
    assert out == (
        "run.fit (FIT): added 1 workout.\n"
        "ride.gpx (GPX): added 1 workout.\n"
        "run.tcx (TCX): added 1 workout.\n"
        "export.zip (Apple Health): added 1 workout, daily factors for 3 days.\n"
        "days.csv (daily CSV): added daily factors for 2 days, 4 twitch episodes.\n"
    )
    code, out, _ = run(["import", str(files[0]), str(files[4])], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("run.fit (FIT): already imported on ")
    assert lines[1].startswith("days.csv (daily CSV): already imported on ")
    assert all(line.endswith("; nothing added.") for line in lines)


def test_the_same_file_twice_in_one_command(
    home: Path, files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["import", str(files[0]), str(files[0])], capsys)
    assert code == 0
    assert out.splitlines()[0] == "run.fit (FIT): added 1 workout."
    assert "already imported" in out.splitlines()[1]


def test_a_bad_file_among_good_ones_imports_nothing(
    home: Path, files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["log", "day", "--sleep-h", "7"], capsys)
    before = exported(capsys)
    hostile = tmp_path / "export.xml"
    hostile.write_text(BILLION_LAUGHS.format(root="HealthData"))
    code, out, err = run(["import", *map(str, files), str(hostile)], capsys)
    one_line_error(code, out, err, str(hostile), "entities", "nothing was imported")
    assert exported(capsys) == before
    with open_journal() as journal:
        assert journal.counts()["imports"] == 0


@pytest.mark.parametrize(("fmt", "name"), [("apple_health", "export.zip"), ("gpx", "ride.gpx")])
def test_an_element_with_millions_of_children_is_one_line_and_exit_2(
    home: Path,
    files: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    name: str,
) -> None:
    run(["log", "day", "--sleep-h", "7"], capsys)
    before = exported(capsys)
    hostile = write_wide_xml(tmp_path / name, fmt, 1_000_000)
    code, out, err = run(["import", *map(str, files), str(hostile)], capsys)
    one_line_error(
        code, out, err, str(hostile), "more than 10,000 children", "nothing was imported"
    )
    assert exported(capsys) == before


def test_a_deeply_nested_json_is_one_line_and_exit_2(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"days": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, out, err = run(["import", str(deep)], capsys)
    one_line_error(code, out, err, str(deep), "nested too deeply", "nothing was imported")


def test_import_of_a_missing_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["import", "nowhere.fit"], capsys)
    one_line_error(code, out, err, "nowhere.fit", "no such file")


# ---------------------------------------------------------------------- a bad stored row


def test_a_journal_holding_bad_rows_still_opens_and_names_them(
    home: Path, files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows from before the date rule (here written with sqlite3): every command still works
    and says which rows it left out, instead of a traceback."""
    run(["import", *map(str, files)], capsys)
    run(["log", "calf twitching", "--at", "2025-02-02T10:00"], capsys)
    before = exported(capsys)
    insert_bad_rows(home / "journal.sqlite")
    named = ["day #", "9999-12-31 is in the future", "episode #", "0001-01-01 is before 1900"]

    code, out, err = run(["export", "--format", "json"], capsys)
    assert code == 0 and json.loads(out) == before
    assert all(line.startswith("warning: Left out ") for line in err.splitlines())
    for needle in [*named, "'someday' is not a date", "workout #"]:
        assert needle in err

    code, out, err = run(["export", "--format", "csv"], capsys)
    assert code == 0 and "9999" not in out

    code, out, err = run(["insights", "--format", "json"], capsys)
    assert code == 0, err
    notes = " ".join(json.loads(out)["notes"])
    assert all(needle in notes for needle in named)

    report = tmp_path / "report.html"
    code, out, err = run(["report", "--output", str(report)], capsys)
    assert code == 0, err
    assert "warning: Left out episode #" in err
    assert "0001-01-01 is before 1900-01-01" in report.read_text()

    code, out, err = run(
        ["report", "--format", "fhir", "--output", str(tmp_path / "f.json")], capsys
    )
    assert code == 0, err
    assert "9999" not in (tmp_path / "f.json").read_text()


# ---------------------------------------------------------------------- export


def test_export_csv_round_trips_through_import(
    home: Path, files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["import", *map(str, files)], capsys)
    run(["log", "calf twitching", "--at", "2025-02-02T10:00"], capsys)
    code, first, _ = run(["export", "--format", "csv"], capsys)
    assert code == 0
    assert first.splitlines()[0] == CSV_HEADER
    assert "2025-02-01,4,250,6,2,45,5,1" in first.splitlines()
    assert "2025-02-02,1,,7,,,," in first.splitlines()
    out_file = tmp_path / "journal.csv"
    code, out, _ = run(["export", "-f", "csv", "--output", str(out_file)], capsys)
    assert code == 0 and out.startswith("Wrote ")
    assert out_file.read_text() == first
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    os.environ["TWITCHWISE_HOME"] = str(tmp_path / "other")
    assert run(["import", str(out_file)], capsys)[0] == 0
    assert run(["export", "--format", "csv"], capsys)[1] == first


@pytest.mark.parametrize("command", [["export"], ["report", "--format", "fhir"]])
def test_an_existing_output_file_ends_up_owner_only(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Issue 11, item 10: a file that was there (0644) used to keep its mode when the
    export overwrote it with health data."""
    if command[0] == "report":
        pytest.importorskip("numpy")
    run(["log", "calf twitching", "--at", "2025-02-02T10:00"], capsys)
    target = tmp_path / "shared.out"
    target.write_text("old")
    target.chmod(0o644)
    code, _, err = run([*command, "--output", str(target)], capsys)
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() != "old"


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_world_writable_home_is_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 11, item 10: a TWITCHWISE_HOME anyone can write used to be used silently."""
    home.mkdir()
    home.chmod(0o777)
    code, out, err = run(["log", "calf twitching"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert f"the journal's folder {home} can be written by anyone" in err
    assert not (home / "journal.sqlite").exists()
    home.chmod(0o1777)  # sticky, as /tmp: others still make files in it
    assert run(["export"], capsys)[0] == 2
    home.chmod(0o700)
    assert run(["log", "calf twitching"], capsys)[0] == 0


def test_export_json_round_trips_through_import(
    home: Path, files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["import", *map(str, files)], capsys)
    run(["log", "left calf twitching, 2 coffees", "--at", "2025-02-02T10:00"], capsys)
    out_file = tmp_path / "journal.json"
    assert run(["export", "--output", str(out_file)], capsys)[0] == 0
    data = json.loads(out_file.read_text())
    assert set(data) == {"episodes", "days", "workouts", "experiments"}
    assert len(data["workouts"]) == 4
    os.environ["TWITCHWISE_HOME"] = str(tmp_path / "other")
    assert run(["import", str(out_file)], capsys)[0] == 0
    assert exported(capsys) == data


def test_export_refuses_unknown_formats(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["export", "--format", "xml"], capsys)
    one_line_error(code, out, err, "unknown format 'xml'", "--format json or --format csv")


# ---------------------------------------------------------------------- forget


def test_forget_needs_yes(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["log", "day", "--sleep-h", "7"], capsys)
    code, out, err = run(["forget"], capsys)
    one_line_error(code, out, err, "twitchwise forget --yes", str(home / "journal.sqlite"))
    assert exported(capsys)["days"] != []


def test_forget_deletes_everything(
    home: Path, files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run(["import", *map(str, files)], capsys)
    run(["log", "calf twitching"], capsys)
    code, out, _ = run(["forget", "--yes"], capsys)
    assert code == 0
    assert out == (
        f"Deleted 5 episodes, 5 days, 4 workouts and 5 import records from "
        f"{home / 'journal.sqlite'}. The journal is empty.\n"
    )
    assert exported(capsys) == {"episodes": [], "days": [], "workouts": [], "experiments": []}
    code, out, _ = run(["forget", "--yes"], capsys)
    assert out.startswith("The journal at ") and "already empty" in out
    # forgotten files can be imported again
    assert "added 1 workout" in run(["import", str(files[0])], capsys)[1]


def test_export_carries_experiments_and_forget_deletes_them(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["log", "calf twitching"], capsys)
    assert run(["experiment", "start", "caffeine", "--weeks", "2"], capsys)[0] == 0
    assert run(["experiment", "log", "--followed"], capsys)[0] == 0
    body = exported(capsys)
    (experiment,) = body["experiments"]
    assert experiment["kind"] == "caffeine" and len(experiment["schedule"]) == 2
    assert experiment["days"] == [{"date": date.today().isoformat(), "followed": True}]
    path = tmp_path / "all.json"
    code, out, _ = run(["export", "--output", str(path)], capsys)
    assert out == f"Wrote 1 episode, 0 days, 0 workouts and 1 self-experiment to {path} (json).\n"
    code, out, _ = run(["forget", "--yes"], capsys)
    assert code == 0
    assert out == (
        "Deleted 1 episode, 0 days, 0 workouts, 1 self-experiment (1 check-in) and "
        f"0 import records from {home / 'journal.sqlite'}. The journal is empty.\n"
    )
    assert exported(capsys)["experiments"] == []
    code, out, _ = run(["import", str(path)], capsys)
    assert "1 self-experiment, 1 experiment check-in" in out
    assert exported(capsys)["experiments"] == [experiment]


# ---------------------------------------------------------------------- process level


def test_start_up_of_other_commands_loads_no_journal_libraries() -> None:
    script = (
        "import sys, twitchwise.cli; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'lxml', 'fitdecode', 'gpxpy', "
        "'twitchwise.journal') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


IMPORT_SCRIPT = (
    "import sys; from twitchwise.cli import main; sys.exit(main(['import', *sys.argv[1:]]))"
)


def test_kill_9_during_an_import_loses_nothing_and_leaves_no_half_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "TWITCHWISE_HOME": str(home)}
    small = tmp_path / "small.csv"
    small.write_text("date,twitches,sleep_h\n2025-01-01,2,7\n2025-01-02,1,6\n")
    subprocess.run([sys.executable, "-c", IMPORT_SCRIPT, str(small)], env=env, check=True)
    big = tmp_path / "big.csv"
    first = date(1960, 1, 1)
    days = 5_000
    with big.open("w") as out:
        out.write("date,twitches,caffeine_mg\n")
        for i in range(days):
            out.write(f"{first + timedelta(days=i)},20,{i % 400}\n")

    wal = home / "journal.sqlite-wal"
    proc = subprocess.Popen(
        [sys.executable, "-c", IMPORT_SCRIPT, str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 1_000_000:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"

    with sqlite3.connect(home / "journal.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with open_journal_at(home) as journal:
        counts = journal.counts()
        # what was committed before is all there; of the big file, nothing at all
        assert counts == {"episodes": 3, "workouts": 0, "days": 2, "imports": 1}
    # and the same file imports completely afterwards
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, str(big)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with open_journal_at(home) as journal:
        assert journal.counts() == {
            "episodes": 3 + 20 * days,
            "workouts": 0,
            "days": 2 + days,
            "imports": 2,
        }


def open_journal_at(home: Path):  # -> Journal
    from fixtures.journal.files import journal_at

    return journal_at(home)


def test_a_progress_bar_for_big_files_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from twitchwise.commands import journal as commands

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with commands._Progress() as progress:
        assert progress(tmp_path / "small.fit", 1_000) is None
        update = progress(tmp_path / "export.zip", 10_000_000)
        assert update is not None
        update(5_000_000, 10_000_000)
        update(10_000_000, 10_000_000)
    assert capsys.readouterr().out == ""  # the bar goes to stderr only


# imports first and says so, then logs when told to (so start-up is not part of the wait)
LOG_SCRIPT = (
    "import sys; from twitchwise.cli import main; import twitchwise.journal.store; "
    "print('ready', flush=True); sys.stdin.readline(); sys.exit(main(['log', *sys.argv[1:]]))"
)
WAITING = "Waiting for another twitchwise (an import?) to finish writing the journal..."


def test_log_during_a_long_import_waits_and_every_entry_lands(tmp_path: Path) -> None:
    """Issue 11 (8): while an import held the write lock past SQLite's 5 s busy timeout, 4 of
    6 concurrent `log` calls failed with "database is locked"; now all of them wait and land."""
    home = tmp_path / "home"
    env = {**os.environ, "TWITCHWISE_HOME": str(home)}
    with open_journal_at(home):
        pass
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LOG_SCRIPT, "twitch", "--region", "calf", "--note", str(i)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        held = sqlite3.connect(home / "journal.sqlite", isolation_level=None)
        try:
            held.execute("BEGIN IMMEDIATE")  # the write lock, held as an import holds it
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            time.sleep(6.5)  # longer than busy_timeout (5 s), with room for opening
            assert [p.poll() for p in procs] == [None] * 6, "a log gave up while the lock was held"
        finally:
            held.rollback()
            held.close()
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert err.strip() in ("", WAITING), err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with open_journal_at(home) as journal:
        assert sorted(e.note for e in journal.read().episodes) == [str(i) for i in range(6)]
