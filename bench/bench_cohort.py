"""Scale of ``twitchwise cohort report``: time and peak memory over cohort sizes, on DuckDB
and (for the smaller sizes) on Spark local[2].

    python bench/bench_cohort.py [--sizes 1000,3000,10000] [--days 365] [--spark 1000]
                                 [--work /tmp/cohort-bench]

Each cohort is generated once (bench/cohort_synth.py) into WORK/N; each report runs in a
fresh process (``twitchwise cohort report DIR --engine E --format json``), timed from start
to exit, with the peak resident memory of that process and its children (the JVM for Spark)
from ``getrusage``. Results go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cohort_synth import generate

from twitchwise.cohort.format import VERSION

_WRAPPER = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def report_run(folder: Path, engine: str) -> tuple[float, float]:
    """Seconds and peak MB of one report in a fresh process (through a fresh wrapper, so
    that the peak is this run's alone)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "twitchwise", "cohort",
         "report", str(folder), "--engine", engine, "--format", "json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return seconds, int(out.stdout.strip()) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--spark", default="1000", help="sizes to run on Spark too")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cohort-bench"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    spark = {int(s) for s in args.spark.split(",") if s}
    print(f"{'people':>7} {'rows':>10} {'parquet MB':>10} {'generate s':>10} "
          f"{'duckdb s':>9} {'peak MB':>8} {'spark s':>8} {'ratio':>6}")  # fmt: skip
    for n in sizes:
        folder = args.work / f"v{VERSION}" / str(n)  # a cohort of another format is not reused
        made = 0.0
        if not (folder / "cohort.json").exists():
            started = time.perf_counter()
            generate(folder, people=n, days=args.days, seed=n)
            made = time.perf_counter() - started
        size = sum(f.stat().st_size for f in folder.rglob("*.parquet")) / 1e6
        duck, peak = report_run(folder, "duckdb")
        line = (f"{n:>7} {n * args.days:>10,} {size:>10.1f} {made:>10.1f} "
                f"{duck:>9.1f} {peak:>8.0f}")  # fmt: skip
        if n in spark:
            sp, _ = report_run(folder, "spark")
            line += f" {sp:>8.1f} {sp / duck:>6.1f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
