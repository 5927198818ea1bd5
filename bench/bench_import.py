"""Benchmark: Apple Health import speed (MB/s) and peak memory, against baselines in the same run.

Usage::

    python bench/bench_import.py             # a 100 MB export, 3 runs of each row
    python bench/bench_import.py --mb 500    # a bigger file
    python bench/bench_import.py --json      # the same numbers as JSON

A synthetic ``export.xml`` of ``--mb`` megabytes is written to a temporary folder with
Apple's prolog and a realistic mix of records (heart rate most of all, steps from an iPhone
and a Watch, caffeine, water, HRV, sleep stages, a workout most days), plus the same file as
``export.zip``. Each row then runs ``--runs`` times, each time in a fresh Python process so
that its peak resident memory (``ru_maxrss``) is its own:

======================  ==================================================================
Row                     What runs
======================  ==================================================================
baseline: sha256        hashing the file: the speed of reading it at all
baseline: iterparse     lxml ``iterparse`` over Record and Workout elements, clearing each:
                        the least a streaming XML reader can do
read export.xml         ``twitchwise.journal.imports.read_file``: detect, fingerprint, parse,
                        aggregate per day (no database)
read export.zip         the same from the zip, decompressed as it streams
import export.xml       ``read_file`` then ``Journal.import_files`` into a fresh journal: what
                        ``twitchwise import`` does
======================  ==================================================================

For each row: the median time, MB/s of the XML size, the ratio to the iterparse baseline,
and the growth of the peak resident set over the process's size before the work began (the
interpreter and libraries are already loaded then). One extra run of ``read export.xml``
under ``tracemalloc`` gives the peak of Python allocations. Memory that stays flat as
``--mb`` grows is the target (docs/performance.md).

This reports; it never fails on a slow number (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

PROLOG = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
]>
<HealthData locale="en_GB">
 <ExportDate value="2025-01-31 20:00:00 +0000"/>
"""

ROWS = (
    "baseline: sha256",
    "baseline: iterparse",
    "read export.xml",
    "read export.zip",
    "import export.xml",
)


def _t(day: date, minutes: int) -> str:
    moment = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%d %H:%M:%S +0100")


def _record(kind: str, source: str, unit: str, start: str, end: str, value: str) -> str:
    return (
        f'<Record type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" '
        f'sourceVersion="17.1" unit="{unit}" creationDate="{end}" startDate="{start}" '
        f'endDate="{end}" value="{value}"/>\n'
    )


def day_xml(day: date, i: int) -> str:
    out = []
    for minute in range(0, 1440, 4):  # heart rate: the bulk of a real export
        t = _t(day, minute)
        out.append(_record("HeartRate", "Watch", "count/min", t, t, str(55 + (minute + i) % 50)))
    for hour in range(7, 22):
        for source in ("iPhone", "Watch"):
            start, end = _t(day, hour * 60), _t(day, hour * 60 + 30)
            out.append(_record("StepCount", source, "count", start, end, str(200 + hour * 3)))
    for k in range(2 + i % 3):
        t = _t(day, 8 * 60 + k * 90)
        out.append(_record("DietaryCaffeine", "Coffee", "mg", t, t, "95"))
        out.append(_record("DietaryWater", "Water", "mL", t, t, "300"))
    out.append(_record("HeartRateVariabilitySDNN", "Watch", "ms", _t(day, 180), _t(day, 181), "48"))
    night = day - timedelta(days=1)
    for stage, start, end in (
        ("Core", _t(night, 23 * 60), _t(day, 150)),
        ("Deep", _t(day, 150), _t(day, 240)),
        ("REM", _t(day, 240), _t(day, 400)),
    ):
        out.append(
            f'<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" '
            f'startDate="{start}" endDate="{end}" '
            f'value="HKCategoryValueSleepAnalysisAsleep{stage}"/>\n'
        )
    if i % 7 != 6:
        start, end = _t(day, 18 * 60), _t(day, 18 * 60 + 40)
        out.append(
            f'<Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="40" '
            f'durationUnit="min" sourceName="Watch" startDate="{start}" endDate="{end}">'
            f'<WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="{start}" '
            f'endDate="{end}" average="148" minimum="110" maximum="172" unit="count/min"/>'
            f'<WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" '
            f'startDate="{start}" endDate="{end}" sum="7.1" unit="km"/></Workout>\n'
        )
    return "".join(out)


def write_export(folder: Path, megabytes: float) -> tuple[Path, Path, int]:
    xml = folder / "export.xml"
    target = int(megabytes * 1_000_000)
    written = 0
    days = 0
    day = date(2015, 1, 1)
    with xml.open("w", encoding="utf-8") as out:
        out.write(PROLOG)
        while written < target:
            text = day_xml(day, days)
            out.write(text)
            written += len(text)
            day += timedelta(days=1)
            days += 1
        out.write("</HealthData>\n")
    archive = folder / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(xml, "apple_health_export/export.xml")
    return xml, archive, days


# ---------------------------------------------------------------------- worker


def worker(mode: str, path: str, trace: bool) -> dict[str, Any]:
    """Runs in a fresh process: load the libraries, then time one job and measure memory."""
    import hashlib
    import resource
    import time
    import tracemalloc

    import lxml.etree
    import sqlalchemy  # noqa: F401  (loaded before "before", like the rest)

    from twitchwise.journal.imports import read_file
    from twitchwise.journal.imports._xml import PARSER_OPTIONS
    from twitchwise.journal.settings import JournalSettings
    from twitchwise.journal.store import open_journal

    file = Path(path)
    settings = None
    if mode == "import export.xml":
        db = Path(tempfile.mkdtemp()) / "journal.sqlite"
        settings = JournalSettings(f"sqlite:///{db}", db)
        open_journal(settings).close()  # migrations are not what is measured
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    if mode == "baseline: sha256":
        digest = hashlib.sha256()
        with file.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    elif mode == "baseline: iterparse":
        with file.open("rb") as stream:
            for _, elem in lxml.etree.iterparse(
                stream, events=("end",), tag=("Record", "Workout"), **PARSER_OPTIONS
            ):
                parent = elem.getparent()
                elem.clear()
                while elem.getprevious() is not None:
                    del parent[0]
    elif mode in ("read export.xml", "read export.zip"):
        read_file(file)
    elif mode == "import export.xml":
        assert settings is not None
        with open_journal(settings) as journal:
            journal.import_files([read_file(file)])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {
        "seconds": seconds,
        "rss_before_mb": before * scale / 1e6,
        "rss_growth_mb": (after - before) * scale / 1e6,
        "tracemalloc_peak_mb": traced / 1e6 if traced is not None else None,
    }


def run_worker(mode: str, path: Path, trace: bool = False) -> dict[str, Any]:
    args = [sys.executable, __file__, "--worker", mode, str(path)]
    if trace:
        args.append("--trace")
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# ---------------------------------------------------------------------- main


def measure(megabytes: float, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="twitchwise-bench-") as tmp:
        xml, archive, days = write_export(Path(tmp), megabytes)
        size_mb = xml.stat().st_size / 1e6
        rows: dict[str, dict[str, Any]] = {}
        for mode in ROWS:
            path = archive if mode.endswith(".zip") else xml
            results = [run_worker(mode, path) for _ in range(runs)]
            seconds = statistics.median(r["seconds"] for r in results)
            rows[mode] = {
                "seconds": round(seconds, 3),
                "mb_per_s": round(size_mb / seconds, 1),
                "rss_growth_mb": round(max(r["rss_growth_mb"] for r in results), 1),
                "rss_before_mb": round(results[0]["rss_before_mb"], 1),
            }
        base = rows["baseline: iterparse"]["seconds"]
        for row in rows.values():
            row["time_vs_iterparse"] = round(row["seconds"] / base, 2)
        traced = run_worker("read export.xml", xml, trace=True)
        return {
            "file_mb": round(size_mb, 1),
            "zip_mb": round(archive.stat().st_size / 1e6, 1),
            "days": days,
            "runs": runs,
            "rows": rows,
            "read_tracemalloc_peak_mb": round(traced["tracemalloc_peak_mb"], 2),
            "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"Apple Health export: {result['file_mb']} MB XML ({result['zip_mb']} MB zipped), "
        f"{result['days']} days; median of {result['runs']} runs, each in a fresh process"
    )
    print(f"{'row':<22} {'seconds':>8} {'MB/s':>7} {'x iterparse':>12} {'peak RSS +MB':>13}")
    for name, row in result["rows"].items():
        print(
            f"{name:<22} {row['seconds']:>8.3f} {row['mb_per_s']:>7.1f} "
            f"{row['time_vs_iterparse']:>12.2f} {row['rss_growth_mb']:>13.1f}"
        )
    print(f"tracemalloc peak of read export.xml: {result['read_tracemalloc_peak_mb']} MB")
    print(f"Python {result['python']} on {result['machine']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=float, default=100, help="size of the export.xml (MB)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row (median)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.trace)))
        return 0
    result = measure(args.mb, args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
