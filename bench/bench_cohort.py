"""Scale of ``twitchwise cohort report``: time and peak memory over cohort sizes, on DuckDB
and (for the sizes in --spark) on Spark local[2].

    python bench/bench_cohort.py [--sizes 1000,3000,10000] [--days 365] [--spark 1000]
                                 [--repeat 2] [--work /tmp/cohort-bench]

Each cohort is generated once (bench/cohort_synth.py) into WORK/vVERSION/N (seed N; a cohort
already there is reused, and its generation is not timed); each report runs --repeat times,
each in a fresh process (``twitchwise cohort report DIR --engine E --format json``), timed
from start to exit, with the peak resident memory of that process and its children (the JVM
for Spark) from ``getrusage``. Then, per size, each table's rows and Parquet bytes, in all
and per person (what docs/cohort.md's sizing of a cluster rests on), and the results as a
markdown table. Results go to docs/performance.md and docs/cohort.md by hand.
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
_TABLES = ("people", "days", "effects", "experiments", "answers")


def _tree_peaks(root: int, peaks: dict[int, int]) -> None:
    """Record into ``peaks`` the peak resident kB (VmHWM) of every process under ``root``."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:  # gone meanwhile
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields["PPid"])
        if "VmHWM" in fields:
            hwm = int(fields["VmHWM"].split()[0])
            peaks.setdefault(-pid, hwm)  # every process seen, to find its ancestry below
            peaks[-pid] = max(peaks[-pid], hwm)
    for pid in parents:
        up = pid
        while up in parents and up != root:
            up = parents[up]
        if up == root and -pid in peaks:
            peaks[pid] = peaks[-pid]


def report_run(folder: Path, engine: str) -> tuple[float, float, float]:
    """Seconds and peak MB of one report in a fresh process (through a fresh wrapper, so
    that the peak is this run's alone), by ``getrusage``, and the sum of the peaks of every
    process under the wrapper sampled from /proc (the JVM of Spark, which ``getrusage``
    misses: it is not waited for)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "twitchwise", "cohort",
         "report", str(folder), "--engine", engine, "--format", "json"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        _tree_peaks(proc.pid, peaks)
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        raise SystemExit(f"the report failed on {folder} ({engine})")
    tree = sum(kb for pid, kb in peaks.items() if pid > 0) / 1024
    return seconds, int(out.strip()) / 1024, tree


def table_sizes(folder: Path) -> dict[str, tuple[int, int]]:
    """Rows and Parquet bytes of each table of the cohort in ``folder``."""
    import pyarrow.parquet as pq

    sizes = {}
    for table in _TABLES:
        files = sorted((folder / table).rglob("*.parquet"))
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        sizes[table] = (rows, sum(f.stat().st_size for f in files))
    return sizes


def _span(values: list[float], digits: int = 1) -> str:
    low, high = min(values), max(values)
    if round(low, digits) == round(high, digits):
        return f"{low:.{digits}f}"
    return f"{low:.{digits}f}-{high:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--spark", default="1000", help="sizes to run on Spark too")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each report")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cohort-bench"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    spark = {int(s) for s in args.spark.split(",") if s}
    rows: list[str] = []
    print(f"{'people':>7} {'rows':>11} {'parquet MB':>10} {'generate s':>10} {'engine':>6} "
          f"{'s':>6} {'peak MB':>8} {'tree MB':>8}")  # fmt: skip
    for n in sizes:
        folder = args.work / f"v{VERSION}" / str(n)  # a cohort of another format is not reused
        made = "reused"
        if not (folder / "cohort.json").exists():
            started = time.perf_counter()
            generate(folder, people=n, days=args.days, seed=n)
            made = f"{time.perf_counter() - started:.1f}"
        tables = table_sizes(folder)
        mb = sum(b for _, b in tables.values()) / 1e6
        for table, (count, size) in tables.items():
            print(f"  {table:12} {count:>11,} rows {count / n:>8.2f} a person "
                  f"{size / 1e6:>8.1f} MB {size / n:>8.0f} B a person")  # fmt: skip
        runs: dict[str, list[tuple[float, float]]] = {}
        for engine in ("duckdb", "spark") if n in spark else ("duckdb",):
            for _ in range(args.repeat):
                seconds, peak, tree = report_run(folder, engine)
                runs.setdefault(engine, []).append((seconds, max(peak, tree)))
                print(f"{n:>7} {n * args.days:>11,} {mb:>10.1f} {made:>10} {engine:>6} "
                      f"{seconds:>6.1f} {peak:>8.0f} {tree:>8.0f}", flush=True)  # fmt: skip
        duck = runs["duckdb"]
        row = (
            f"| {n:,} | {n * args.days:,} | {mb:.1f} MB | "
            f"{_span([s for s, _ in duck])} s | {_span([p for _, p in duck], 0)} MB |"
        )
        if "spark" in runs:
            sp = runs["spark"]
            spark_s, duck_s = [s for s, _ in sp], [s for s, _ in duck]
            ratio = [min(spark_s) / min(duck_s), max(spark_s) / max(duck_s)]  # like with like
            row += (f" {_span([s for s, _ in sp])} s | {_span([p for _, p in sp], 0)} MB |"
                    f" {_span(ratio, 0)}x |")  # fmt: skip
        else:
            row += " not run | | |"
        rows.append(row)
    print(
        "\n| people | person-days | Parquet | DuckDB report | DuckDB peak | Spark local[2] "
        "report | Spark peak | Spark / DuckDB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
