"""Benchmark: command-line start-up of ``twitchwise ask`` against a bare ``python -c pass``.

Usage::

    python bench/bench_startup.py              # a small table
    python bench/bench_startup.py --json       # the same numbers as JSON
    python bench/bench_startup.py --runs 20    # more runs per command
    python bench/bench_startup.py --imports 12 # also: which packages take the import time

Every command runs once to warm up (this also writes the knowledge-base cache), then
``--runs`` times, round-robin so that a slow moment of the machine hits every command alike.
The figure that matters is the difference between the median of ``twitchwise ask`` and the
median of a bare ``python -c pass`` measured in the same run (target: at most 150 ms, issue 12;
it was 300 ms before). Output goes to a pipe, as when ``twitchwise ask`` is scripted: the
terminal format is then plain text, without colour.

The knowledge-base cache goes to a fresh temporary folder (``TWITCHWISE_CACHE_DIR``), so
the run neither depends on nor disturbs the user's cache. One extra row runs ``ask`` with
``TWITCHWISE_NO_CACHE=1`` to show what the cache saves. Python's bytecode is written during
the warm-up to the same temporary folder (``PYTHONPYCACHEPREFIX``; ``PYTHONDONTWRITEBYTECODE``
is unset), as it is for an installed tool, so the source tree is not touched.

This reports; it never fails on a slow number (exit status 0; 1 if a command itself fails).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEXT = "my left eyelid has twitched for 3 days, 4 coffees a day, slept 5 hours, no weakness"
TARGET_MS = 150.0


def console_script() -> list[str]:
    """The installed ``twitchwise`` next to this Python, else on PATH, else ``-m``."""
    beside = Path(sys.executable).with_name("twitchwise")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("twitchwise")
    if found:
        return [found]
    return [sys.executable, "-m", "twitchwise.cli"]


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    tw = console_script()
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], {}),
        "python -c 'import twitchwise.cli'": ([sys.executable, "-c", "import twitchwise.cli"], {}),
        "twitchwise --version": ([*tw, "--version"], {}),
        "twitchwise ask TEXT": ([*tw, "ask", TEXT], {}),
        "twitchwise ask --format json TEXT": ([*tw, "ask", "--format", "json", TEXT], {}),
        "twitchwise ask TEXT, no cache": ([*tw, "ask", TEXT], {"TWITCHWISE_NO_CACHE": "1"}),
    }


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise SystemExit(
            f"{' '.join(cmd)} failed ({proc.returncode}): {message[-1] if message else ''}"
        )
    return elapsed * 1000


def top_imports(code: list[str], env: dict[str, str], count: int) -> list[tuple[str, float]]:
    """Where the import time of a Python command goes, via ``-X importtime``.

    Self time (ms) summed per top-level package, except that twitchwise's own modules are
    kept apart, since their self time includes defining their classes (dataclasses and the
    knowledge base's msgspec models) at import.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *code],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    totals: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        module = name.strip()
        key = module if module.startswith("twitchwise") else module.split(".")[0]
        totals[key] = totals.get(key, 0.0) + int(self_us) / 1000
    rows = sorted(totals.items(), key=lambda r: -r[1])
    return [(name, round(ms, 1)) for name, ms in rows[:count]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command")
    parser.add_argument("--imports", type=int, default=0, metavar="N",
                        help="also list the N packages whose imports take longest")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    cache = tempfile.mkdtemp(prefix="twitchwise-bench-")
    try:
        # An installed tool has its bytecode compiled: let the warm-up write it, out of tree.
        base_env = {
            **os.environ,
            "TWITCHWISE_CACHE_DIR": cache,
            "PYTHONPYCACHEPREFIX": os.path.join(cache, "pycache"),
        }
        for name in ("TWITCHWISE_NO_CACHE", "PYTHONDONTWRITEBYTECODE"):
            base_env.pop(name, None)
        plan = commands()
        samples: dict[str, list[float]] = {name: [] for name in plan}
        for cmd, extra in plan.values():  # warm-up: page cache, .pyc files, knowledge cache
            run_once(cmd, {**base_env, **extra})
        for _ in range(args.runs):
            for name, (cmd, extra) in plan.items():
                samples[name].append(run_once(cmd, {**base_env, **extra}))
        imports: dict[str, list[tuple[str, float]]] = {}
        if args.imports:
            imports["import twitchwise.cli"] = top_imports(
                ["-c", "import twitchwise.cli"], base_env, args.imports
            )
            imports["twitchwise ask TEXT"] = top_imports(
                ["-m", "twitchwise.cli", "ask", TEXT], base_env, args.imports
            )
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    bare = statistics.median(samples["python -c pass"])
    rows = {
        name: {
            "median_ms": round(statistics.median(values), 1),
            "min_ms": round(min(values), 1),
            "over_bare_python_ms": round(statistics.median(values) - bare, 1),
        }
        for name, values in samples.items()
    }
    over = rows["twitchwise ask TEXT"]["over_bare_python_ms"]
    result = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} cpus",
        "runs": args.runs,
        "commands": rows,
        "ask_over_bare_python_ms": over,
        "target_ms": TARGET_MS,
        "within_target": over <= TARGET_MS,
        "top_imports_ms": imports,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0

    print(f"Python {result['python']}, {result['machine']}")
    print(f"median of {args.runs} runs after a warm-up")
    print(f"{'':36} {'median ms':>10} {'min ms':>8} {'over bare':>10}")
    for name, row in rows.items():
        print(f"{name:36} {row['median_ms']:>10.1f} {row['min_ms']:>8.1f} "
              f"{row['over_bare_python_ms']:>+10.1f}")  # fmt: skip
    verdict = "within" if over <= TARGET_MS else "OVER"
    print(f"twitchwise ask start-up: {over:+.1f} ms over bare python")
    print(f"({verdict} the target of {TARGET_MS:g} ms)")
    for what, top in imports.items():
        print(f"import time of {what}, self ms per package:")
        for name, ms in top:
            print(f"  {name:34} {ms:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
