"""Benchmark: peak memory and time of every journal command at the documented maximum.

Usage::

    python bench/bench_memory.py                    # 1,000 days x 1,000 twitches (a million)
    python bench/bench_memory.py --days 100 --per-day 100 --json
    python bench/bench_memory.py --only export-json,web-journal --files

Builds the largest journal twitchwise is sized for (docs/journal.md: 1,000 days with 1,000
twitch episodes each, with regions, sides, intensities, some notes, every daily factor and a
workout every third day) once, in a temporary ``TWITCHWISE_HOME``, written straight into the
migrated SQLite file (much faster than an import). Then each row runs in a fresh process,
so that its peak resident set (``ru_maxrss`` of that child alone, from ``os.wait4``) belongs
to that command alone:

=====================  =================================================================
Row                    What runs
=====================  =================================================================
baseline: python       ``python -c pass``: the interpreter alone
baseline: --version    ``twitchwise --version``: the command line's start-up
export-json            ``twitchwise export --format json --output FILE``
export-csv             ``twitchwise export --format csv --output FILE``
insights-json          ``twitchwise insights --format json``
report-html/pdf/fhir   ``twitchwise report --format ... --output FILE``
web-baseline           the web app in-process (``create_app`` + TestClient), ``GET /api/causes``
web-journal            the same app, ``GET /journal`` (the journal page)
web-episodes           the same app, ``GET /api/journal/episodes`` (its first page)
=====================  =================================================================

The benchmark process itself imports nothing of twitchwise (the journal is built in a child)
and stays small, since on Linux a child's ``ru_maxrss`` starts at the resident set of the
process it was forked from.

With ``--files`` it also reads hostile or large files (no journal): a GPX of a million
points, and zips of about 1 MB holding one 1 GB attribute value, text node or comment.

Each row gives the peak resident set in MB and as a ratio to the python baseline, the wall
time in seconds and as a ratio to the python baseline's (web rows also give the request's
own time), and the size of what was written. It reports; it never fails on a number (exit
status 0), and the goal (under 300 MB for every command) is printed as a reminder, not
checked. Results are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

GOAL_MB = 300
REGIONS = (
    "region_calf",
    "region_eyelid",
    "region_thigh",
    "region_foot",
    "region_arm",
    "region_hand",
    "region_back",
    "region_face",
    "region_shoulder",
    "region_hamstring",
    "region_abdomen",
    "region_chest",
)
SIDES = ("left", "right", "both", None)
NOTES = (
    "after three coffees",
    "during a long meeting, stressed",
    "slept badly",
    "after leg day",
    "no weakness, just annoying",
    "while resting on the sofa",
    "eyelid flickering while reading",
    "after a run in the heat",
)

WEB = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from fastapi.testclient import TestClient
    from twitchwise.journal.settings import JournalSettings
    from twitchwise.web.app import create_app
    from twitchwise.web.settings import WebSettings

    path = Path(sys.argv[1]) / "journal.sqlite"
    settings = WebSettings(journal=JournalSettings(f"sqlite:///{path}", path))
    client = TestClient(create_app(settings), base_url="http://127.0.0.1")
    client.get("/api/causes")
    started = time.perf_counter()
    response = client.get(sys.argv[2])
    seconds = time.perf_counter() - started
    print(json.dumps({"http_status": response.status_code, "bytes": len(response.content),
                      "request_s": seconds}))
    """
)

READ_FILE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from twitchwise.errors import InputError
    from twitchwise.journal.imports import read_file

    started = time.perf_counter()
    try:
        read_file(Path(sys.argv[1]))
        message = "accepted"
    except InputError as exc:
        message = str(exc)
    print(json.dumps({"message": message[:160], "request_s": time.perf_counter() - started}))
    """
)


@dataclass
class Row:
    name: str
    argv: list[str]
    output: Path | None = None
    web: bool = False
    peak_mb: float = 0.0
    seconds: float = 0.0
    status: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- the journal


def build_journal(home: Path, days: int, per_day: int, seed: int = 20261123) -> dict[str, int]:
    """The journal in ``home``: created and migrated by twitchwise, filled with sqlite3."""
    from twitchwise.journal.settings import JournalSettings
    from twitchwise.journal.store import open_journal

    path = home / "journal.sqlite"
    with open_journal(JournalSettings(f"sqlite:///{path}", path)):
        pass
    rng = random.Random(seed)
    last = date.today() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = OFF")
    episodes = 0
    with con:
        for i in range(days):
            day = first + timedelta(days=i)
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            rows = []
            for _ in range(per_day):
                at = midnight + timedelta(seconds=rng.randrange(86_400))
                rows.append(
                    (
                        uuid.UUID(int=rng.getrandbits(128)).hex,
                        at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        day.isoformat(),
                        rng.choice(REGIONS),
                        rng.choice(SIDES),
                        rng.choice((None, 1, 2, 3, 4, 5)),
                        float(rng.randrange(1, 120)),
                        rng.choice(NOTES) if rng.random() < 0.02 else None,
                        "log",
                    )
                )
            con.executemany(
                "INSERT INTO episodes (uid, at, local_date, region, side, intensity, "
                "duration_s, note, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            episodes += len(rows)
            con.execute(
                "INSERT INTO days (date, caffeine_mg, sleep_h, water_l, workout_min, stress, "
                "alcohol_units, medicines, steps, hrv_ms, sources, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    day.isoformat(),
                    float(rng.randrange(0, 600)),
                    round(rng.uniform(4, 9), 1),
                    round(rng.uniform(0.5, 3), 1),
                    float(rng.randrange(0, 90)),
                    rng.randrange(0, 11),
                    float(rng.randrange(0, 6)),
                    json.dumps(["magnesium"] if i % 7 == 0 else []),
                    rng.randrange(2000, 15000),
                    round(rng.uniform(20, 90), 1),
                    json.dumps({"caffeine_mg": "log"}),
                    now,
                ),
            )
            if i % 3 == 0:
                start = midnight + timedelta(hours=7)
                con.execute(
                    "INSERT INTO workouts (start, duration_s, sport, distance_m, energy_kj, "
                    "avg_hr_bpm, source_file, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        start.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        1800.0,
                        "running",
                        5000.0,
                        1200.0,
                        140.0,
                        "bench.gpx",
                        start.isoformat(),
                    ),
                )
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return {"episodes": episodes, "days": days, "workouts": (days + 2) // 3}


# ---------------------------------------------------------------------- files


def build_files(folder: Path) -> list[Row]:
    """A GPX of a million points and zips of one 1 GB node each (about 1 MB zipped)."""
    rows = []
    gpx = folder / "million.gpx"
    start = datetime(2025, 1, 1, 7, tzinfo=UTC)
    with gpx.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0"?>\n<gpx version="1.1" creator="bench" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n'
        )
        for i in range(1_000_000):
            moment = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.write(
                f'<trkpt lat="{51.5 + i * 1e-5:.5f}" lon="-0.1"><time>{moment}</time></trkpt>\n'
            )
        out.write("</trkseg></trk></gpx>\n")
    rows.append(Row("read a 1M-point GPX", [sys.executable, "-c", READ_FILE, str(gpx)]))
    head = (
        '<?xml version="1.0"?>\n<HealthData locale="en">\n<Workout workoutActivityType='
        '"HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" '
        'startDate="2025-01-01 07:00:00 +0000" endDate="2025-01-01 07:30:00 +0000">\n'
    )
    tail = "</Workout>\n</HealthData>\n"
    mib = 1 << 20
    for name, start, chunk, end in (
        ("attribute", '<a v="', b"x" * mib, '"/>'),
        ("text", "<a>", b"x" * mib, "</a>"),
        ("comment", "<!--", b"<>" * (mib // 2), "-->"),
    ):
        path = folder / f"{name}.zip"
        with (
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            archive.open("apple_health_export/export.xml", "w", force_zip64=True) as out,
        ):
            out.write((head + start).encode())
            for _ in range(1024):
                out.write(chunk)
            out.write((end + tail).encode())
        size = path.stat().st_size / mib
        rows.append(
            Row(
                f"read a 1 GB {name} ({size:.1f} MB zip)",
                [sys.executable, "-c", READ_FILE, str(path)],
            )
        )
    return rows


# ---------------------------------------------------------------------- running


def twitchwise_command() -> list[str]:
    script = Path(sys.executable).with_name("twitchwise")
    if script.exists():
        return [str(script)]
    found = shutil.which("twitchwise")
    return [found] if found else [sys.executable, "-m", "twitchwise.cli"]


def run(row: Row, env: dict[str, str], timeout: float = 0, max_mb: int = 0) -> None:
    """Run ``row`` in a fresh process; ``os.wait4`` gives that child's own peak resident set
    (``RUSAGE_CHILDREN`` would give the largest child so far). ``timeout`` (seconds) and
    ``max_mb`` (its address space) stop a runaway command; 0 is no limit."""

    def limit() -> None:
        if max_mb:
            import resource

            size = max_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            row.argv, env=env, stdout=out, stderr=err, text=True, preexec_fn=limit
        )
        timer = None
        if timeout:
            import threading

            timer = threading.Timer(timeout, proc.kill)
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        if timer is not None:
            timer.cancel()
        row.seconds = time.perf_counter() - started
        proc.returncode = row.status = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    # ru_maxrss is in kB on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    row.peak_mb = usage.ru_maxrss * scale / (1024 * 1024)
    if row.status != 0:
        row.extra["error"] = (stderr.strip().splitlines() or ["?"])[-1][:160]
    last = (stdout.strip().splitlines() or [""])[-1]
    if row.argv[:2] == [sys.executable, "-c"] and last.startswith("{"):
        row.extra.update(json.loads(last))
    if row.output is not None and row.output.exists():
        row.extra["written_mb"] = row.output.stat().st_size / (1024 * 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--only", default="", help="comma-separated row names")
    parser.add_argument("--files", action="store_true", help="also read large, hostile files")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="build the journal here and keep it")
    parser.add_argument("--timeout", type=float, default=0, help="kill a row after N seconds")
    parser.add_argument("--max-mb", type=int, default=0, help="address-space limit per row")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the child that builds
    args = parser.parse_args()
    if args.build is not None:
        print(json.dumps(build_journal(args.build, args.days, args.per_day)))
        return

    folder = Path(tempfile.mkdtemp(prefix="twitchwise-bench-memory-"))
    os.chmod(folder, 0o700)
    home = args.keep or folder / "home"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        if not (home / "journal.sqlite").exists():
            # in a child: this process stays a bare interpreter, because a child's ru_maxrss
            # starts from the resident set of the process it was forked from
            built = subprocess.run(
                [
                    *(sys.executable, __file__, "--build", str(home)),
                    *("--days", str(args.days), "--per-day", str(args.per_day)),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            counts = json.loads(built.stdout)
        else:
            con = sqlite3.connect(home / "journal.sqlite")
            counts = {
                t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("episodes", "days", "workouts")
            }
            con.close()
        built_s = time.perf_counter() - started
        env = {
            **os.environ,
            "TWITCHWISE_HOME": str(home),
            "TWITCHWISE_CACHE_DIR": str(folder / "cache"),
        }
        env.pop("TWITCHWISE_DATABASE_URL", None)
        tw = twitchwise_command()
        out = folder / "out"
        out.mkdir()
        rows = [
            Row("baseline: python", [sys.executable, "-c", "pass"]),
            Row("baseline: --version", [*tw, "--version"]),
        ]
        for fmt in ("json", "csv"):
            target = out / f"export.{fmt}"
            rows.append(
                Row(
                    f"export-{fmt}",
                    [*tw, "export", "--format", fmt, "--output", str(target)],
                    target,
                )
            )
        rows.append(Row("insights-json", [*tw, "insights", "--format", "json"]))
        for fmt in ("html", "pdf", "fhir"):
            target = out / f"report.{fmt}"
            rows.append(
                Row(
                    f"report-{fmt}",
                    [*tw, "report", "--format", fmt, "--output", str(target)],
                    target,
                )
            )
        for name, url in (
            ("web-baseline", "/api/causes"),
            ("web-journal", "/journal"),
            ("web-episodes", "/api/journal/episodes"),
        ):
            rows.append(Row(name, [sys.executable, "-c", WEB, str(home), url], web=True))
        if args.files:
            rows += build_files(folder)
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        if wanted:
            rows = [r for r in rows if r.name.startswith("baseline") or r.name in wanted]
        run(Row("warm-up", [*tw, "--version"]), env)  # writes the caches once
        for row in rows:
            run(row, env, args.timeout, args.max_mb)
            if not args.json:
                print(
                    f"  ran {row.name}: {row.peak_mb:.0f} MB, {row.seconds:.1f} s", file=sys.stderr
                )
        report(rows, counts, built_s, args.json)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(rows: list[Row], counts: dict[str, int], built_s: float, as_json: bool) -> None:
    base = rows[0]
    if as_json:
        print(
            json.dumps(
                {
                    "python": platform.python_version(),
                    "machine": platform.machine(),
                    "cpus": os.cpu_count(),
                    "journal": counts,
                    "built_s": round(built_s, 1),
                    "goal_mb": GOAL_MB,
                    "rows": [
                        {
                            "name": r.name,
                            "peak_mb": round(r.peak_mb, 1),
                            "peak_x_baseline": round(r.peak_mb / base.peak_mb, 2),
                            "seconds": round(r.seconds, 2),
                            "seconds_x_baseline": round(r.seconds / base.seconds, 1),
                            "status": r.status,
                            **{
                                k: round(v, 3) if isinstance(v, float) else v
                                for k, v in r.extra.items()
                            },
                        }
                        for r in rows
                    ],
                },
                indent=2,
            )
        )
        return
    print(
        f"journal: {counts['episodes']:,} episodes, {counts['days']:,} days, "
        f"{counts['workouts']:,} workouts (built in {built_s:.0f} s); "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'row':<34}{'peak MB':>9}{'x base':>8}{'seconds':>9}{'x base':>8}"
        f"{'request s':>11}{'out MB':>9}  status"
    )
    for r in rows:
        request = r.extra.get("request_s")
        written = r.extra.get(
            "written_mb", r.extra.get("bytes", 0) / (1024 * 1024) if "bytes" in r.extra else None
        )
        status = "ok" if r.status == 0 else f"exit {r.status}: {r.extra.get('error', '')}"
        if r.web and r.extra.get("http_status") not in (None, 200):
            status = f"HTTP {r.extra['http_status']}"
        if "message" in r.extra:
            status = r.extra["message"][:70]
        print(
            f"{r.name:<34}{r.peak_mb:>9.0f}{r.peak_mb / base.peak_mb:>8.1f}{r.seconds:>9.2f}"
            f"{r.seconds / base.seconds:>8.0f}"
            f"{'' if request is None else f'{request:.2f}':>11}"
            f"{'' if written is None else f'{written:.1f}':>9}  {status}"
        )
    over = [r.name for r in rows if r.peak_mb > GOAL_MB]
    print(f"goal: every command under {GOAL_MB} MB; over it: {', '.join(over) or 'none'}")


if __name__ == "__main__":
    main()
