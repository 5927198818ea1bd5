"""Benchmark and fault test: the hosted service under load, on worker processes and PostgreSQL.

Usage::

    python bench/bench_load.py                      # 200 people for 60 s against 2 workers
    python bench/bench_load.py --seconds 20 --people 50
    python bench/bench_load.py --kill-worker        # SIGKILL one worker half-way
    python bench/bench_load.py --restart-postgres   # restart PostgreSQL half-way
    python bench/bench_load.py --think 0 --json     # no pause between requests; JSON out
    python bench/bench_load.py --pool-size 20 --pool-overflow 10   # each worker's DB pool

What it does, all on this machine and all thrown away at the end:

1. **A private PostgreSQL.** ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin``
   (``--pg-bin`` to choose) make a cluster in a new temporary folder, listening on a free
   port of 127.0.0.1 only (and a socket in that folder), started and later stopped and
   deleted by this script. As root, the cluster runs as the ``postgres`` user (else
   ``nobody``) through ``runuser``, since PostgreSQL refuses to run as root. No other
   PostgreSQL server is touched: the one a machine may run on 127.0.0.1:5432 is never
   restarted or written to.
2. **The database as a hosted service has it.** A role ``tw_owner`` owns the database and
   runs ``twitchwise db upgrade``; the app connects as ``tw_app`` (``NOSUPERUSER
   NOBYPASSRLS``, ``SELECT, INSERT, UPDATE, DELETE`` on the tables), so row-level security
   applies to every request, as docs/hosted.md asks.
3. **The people.** ``--people`` accounts (consenting to keep health data) made through the
   accounts repository with cheap argon2id parameters (set-up, not measured); half of them
   get an API token (``Authorization: Bearer``), the other half a login session (the
   ``twitchwise_session`` cookie).
4. **The server.** ``twitchwise serve --accounts --workers 2 --metrics`` in a child process
   (``TWITCHWISE_MAX_CONNECTIONS`` raised to the number of people plus 50, so that one
   worker may hold every person's connection; ``TWITCHWISE_KEEP_ALIVE=75``, longer than
   any person's pause, as docs/deploy.md sets it behind a proxy: with the default 5 s a
   request sent just as the server closes an idle connection fails, which browsers retry
   and this benchmark would count as an error).
5. **The load.** Each person is an ``asyncio`` task with its own ``httpx.AsyncClient`` (its
   own keep-alive connection), looping for ``--seconds``: log a twitch (``POST
   /api/journal/episodes``, 45%), set a day's factors (``PUT /api/journal/days/{day}``,
   15%), ask a question (``POST /api/ask``, 25%, the 32 texts of ``bench_ask.py``), read
   the insights (``GET /api/journal/insights``, 15%), pausing between requests for an
   exponentially distributed time of mean ``--think`` seconds (0: none).
6. **The fault**, half-way: ``--kill-worker`` sends SIGKILL to one worker process;
   ``--restart-postgres`` runs ``pg_ctl restart -m fast`` (the load goes on meanwhile).
7. **The checks.** Every response that is not 2xx must be the one error shape
   (``{"ok": false, "error": ..., "status": ...}``). Without a fault: zero errors. With
   ``--kill-worker``: the other worker answers while the killed one is replaced, errors only
   for requests that were in flight on the killed worker, none five seconds later. With
   ``--restart-postgres``: every failure is a 503 in the error shape (no 500, no dropped
   connection), none five seconds after the restart, and the same processes serve
   throughout. Always: **every entry a client got a 2xx for is in the database** (each
   episode by its id, each day by its date), counted with a direct query as the superuser.
   Also: ``/metrics`` (prometheus-client's multi-process mode) counts the requests of both
   workers, and the server stops on SIGTERM within its graceful timeout.

Reported: requests, errors by kind, throughput, latency p50/p95/p99 overall and per action,
the CPU time of the load generator, the server's workers and PostgreSQL (the machine's
cores are shared by all three) and of other work on the machine meanwhile, the sessions
opened to PostgreSQL and the connections the app held, and each check. Exit status 0 when
every check holds, 1 when one does not (this benchmark checks correctness too), 2 when it
could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import CORPUS

#: What each person does, and how often.
ACTIONS = {"log": 0.45, "day": 0.15, "ask": 0.25, "insights": 0.15}
REGIONS = ("calf", "eyelid", "thigh", "arm", "foot", "back")
#: After a fault, errors are expected only this long (seconds).
RECOVERY_S = 5.0
WORKERS = 2
GRACEFUL_S = 10.0
KEEP_ALIVE_S = 75


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- PostgreSQL


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1."""

    def __init__(self, bin_dir: Path | None) -> None:
        self.bin = bin_dir or self.find_bin()
        self.root = Path(tempfile.mkdtemp(prefix="twbench-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.user = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.root, self.user)
        self.root.chmod(0o700)

    @staticmethod
    def find_bin() -> Path:
        found = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"),
            key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        )
        if not found:
            raise SystemExit("no PostgreSQL binaries in /usr/lib/postgresql/*/bin; use --pg-bin")
        return found[-1].parent

    def run(self, program: str, *args: str) -> str:
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--no-sync", "--no-instructions")  # fmt: skip
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.root} -c max_connections=300")  # fmt: skip
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                 "-o", options, "start")  # fmt: skip

    def restart(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                 "-m", "fast", "restart")  # fmt: skip

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def version(self) -> str:
        return self.run("postgres", "--version").strip()

    def url(self, user: str, database: str = "twitchwise") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def execute(self, database: str, *statements: str) -> list[tuple[Any, ...]]:
        """Run statements as the superuser (each committed); the last one's rows."""
        import psycopg

        rows: list[tuple[Any, ...]] = []
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname=database, autocommit=True) as conn:  # fmt: skip
            for statement in statements:
                cursor = conn.execute(statement)  # type: ignore[arg-type]
                rows = cursor.fetchall() if cursor.description else []
        return rows

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, ...)."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *children(postmaster)]


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def children(parent: int, marker: bytes = b"") -> list[int]:
    """Processes whose parent is ``parent`` (and whose command line holds ``marker``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes() if marker else b""
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        if ppid and int(ppid.group(1)) == parent and marker in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """User and system CPU time of a live process (0 when it is gone); with ``reaped``, and
    of its children that ended and that it waited for (PostgreSQL's backends that closed,
    a worker that was killed)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11 : 15 if reaped else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the machine's cores have spent busy since it started, every process and
    the kernel (user, nice, system, interrupts; not idle, waiting for the disk or stolen by
    the host), from ``/proc/stat``."""
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]
    )
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server: Server, pg: PrivatePostgres) -> dict[str, float]:
    """CPU seconds used so far by this process (the load), the server (its parent, the
    workers it reaped and the live ones) and PostgreSQL (the postmaster, the backends it
    reaped and the live ones). A PostgreSQL restart loses the old postmaster's count."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    pids = pg.pids()
    return {
        "load_generator": own.ru_utime + own.ru_stime,
        "server": cpu_seconds(server.proc.pid, reaped=True)
        + sum(cpu_seconds(w) for w in server.workers()),
        "postgresql": (cpu_seconds(pids[0], reaped=True) + sum(cpu_seconds(p) for p in pids[1:]))
        if pids
        else 0.0,
    }


def rss_mb(pid: int) -> float:
    """The resident memory of a live process, in MB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return round(int(found.group(1)) / 1024, 1) if found else 0.0


def pg_sessions(pg: PrivatePostgres) -> int:
    """Sessions (connections) opened to the database so far."""
    rows = pg.execute(
        "postgres", "SELECT sessions FROM pg_stat_database WHERE datname = 'twitchwise'"
    )
    return int(rows[0][0]) if rows else 0


def setup_database(pg: PrivatePostgres) -> str:
    """The database, its owner, ``twitchwise db upgrade``, the app's restricted role; the
    app's URL."""
    pg.execute(
        "postgres",
        "CREATE ROLE tw_owner LOGIN NOSUPERUSER NOBYPASSRLS",
        "CREATE DATABASE twitchwise OWNER tw_owner",
        "CREATE ROLE tw_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
    )
    upgrade = subprocess.run(
        [sys.executable, "-m", "twitchwise", "db", "upgrade",
         "--database-url", pg.url("tw_owner")],
        capture_output=True, text=True,
    )  # fmt: skip
    if upgrade.returncode != 0:
        raise RuntimeError(f"twitchwise db upgrade failed: {upgrade.stderr.strip()}")
    pg.execute(
        "twitchwise",
        "GRANT USAGE ON SCHEMA public TO tw_app",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tw_app",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tw_app",
    )
    return pg.url("tw_app")


# --------------------------------------------------------------------------- people


@dataclass
class Person:
    account: uuid.UUID
    headers: dict[str, str]
    cookies: dict[str, str]
    episodes: set[str] = field(default_factory=set)  # public ids answered 201
    days: set[date] = field(default_factory=set)  # dates answered 200


def make_people(url: str, count: int) -> list[Person]:
    """``count`` consenting accounts; even ones with an API token, odd ones a session."""
    from argon2 import PasswordHasher

    from twitchwise.server.accounts import Accounts
    from twitchwise.server.credentials import Passwords
    from twitchwise.server.db import make_engine

    engine = make_engine(url)
    cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts = Accounts(engine, passwords=cheap)
    people = []
    try:
        for i in range(count):
            email = f"person{i}@bench.example"
            account = accounts.create_account(email, secrets.token_urlsafe(18), consent=True)
            if i % 2 == 0:
                token = accounts.create_api_token(account.id, "bench", ["read", "write"]).token
                people.append(Person(account.id, {"authorization": f"Bearer {token}"}, {}))
            else:
                session = accounts.create_session(account.id).token
                people.append(Person(account.id, {}, {"twitchwise_session": session}))
    finally:
        engine.dispose()
    return people


# --------------------------------------------------------------------------- the server


class Server:
    """``twitchwise serve --accounts --workers 2 --metrics`` in a child process."""

    def __init__(
        self, url: str, people: int, folder: Path, pool: dict[str, int] | None = None
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWITCHWISE_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env |= {
            "TWITCHWISE_HOME": str(folder / "home"),
            "TWITCHWISE_MAX_CONNECTIONS": str(people + 50),
            "TWITCHWISE_GRACEFUL_TIMEOUT": str(GRACEFUL_S),
            # longer than any pause of a person (as behind a proxy: docs/deploy.md), so that
            # no request is sent on a connection the server is closing
            "TWITCHWISE_KEEP_ALIVE": str(KEEP_ALIVE_S),
        }
        # the database pool of each worker (TWITCHWISE_DB_POOL_*); unset: SQLAlchemy's
        env |= {f"TWITCHWISE_DB_POOL_{name.upper()}": str(n) for name, n in (pool or {}).items()}
        command = [sys.executable, "-m", "twitchwise", "serve", "--accounts",
                   "--workers", str(WORKERS), "--metrics", "--database-url", url,
                   "--port", str(self.port)]  # fmt: skip
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def workers(self) -> list[int]:
        return children(self.proc.pid, b"spawn_main")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped: {self.tail()}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as r:
                    if r.status == 200 and len(self.workers()) == WORKERS:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not get ready: {self.tail()}")

    def metrics(self) -> str:
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as r:
            return str(r.read().decode())

    def stop(self) -> tuple[float, int | None]:
        """SIGTERM; seconds until it exited, and its exit status (None: killed after 60 s)."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(GRACEFUL_S + 50)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self.log.close()
        return time.monotonic() - started, code

    def tail(self, lines: int = 15) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# --------------------------------------------------------------------------- the load


@dataclass
class Result:
    t: float  # seconds since the load started, when the request was sent
    action: str
    status: int  # 0: no HTTP answer
    seconds: float
    kind: str  # "ok", "http 503", or the exception's class
    shaped: bool  # an error in the one error shape (True for successes)
    idle: float = 0.0  # seconds the person's connection had been idle before it


def error_shaped(body: bytes, status: int) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and data.get("ok") is False
        and isinstance(data.get("error"), str)
        and data.get("status") == status
    )


async def person_loop(
    person: Person, base: str, seconds: float, think: float, seed: int, results: list[Result],
    t0: float,
) -> None:  # fmt: skip
    import httpx

    rng = random.Random(seed)
    names, weights = list(ACTIONS), list(ACTIONS.values())
    today = date.today()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base,
        headers=person.headers,
        cookies=person.cookies,
        timeout=httpx.Timeout(60),
        limits=limits,
    ) as client:
        await asyncio.sleep(rng.uniform(0, max(think, 0.5)))  # not all at once
        last = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            action = rng.choices(names, weights)[0]
            day = today - timedelta(days=rng.randrange(90))
            started = time.perf_counter()
            try:
                if action == "log":
                    body = {"region": rng.choice(REGIONS), "intensity": rng.randint(1, 5)}
                    r = await client.post("/api/journal/episodes", json=body)
                elif action == "day":
                    body = {"caffeine_mg": rng.randrange(0, 500, 50), "sleep_h": rng.uniform(4, 9)}
                    r = await client.put(f"/api/journal/days/{day.isoformat()}", json=body)
                elif action == "ask":
                    r = await client.post("/api/ask", json={"text": rng.choice(CORPUS)})
                else:
                    r = await client.get("/api/journal/insights")
            except httpx.HTTPError as exc:
                elapsed = time.perf_counter() - started
                kind = type(exc).__name__
                results.append(
                    Result(started - t0, action, 0, elapsed, kind, False, started - last)
                )
            else:
                elapsed = time.perf_counter() - started
                ok = 200 <= r.status_code < 300
                if ok and action == "log":
                    person.episodes.add(str(uuid.UUID(r.json()["id"])))
                elif ok and action == "day":
                    person.days.add(day)
                kind = "ok" if ok else f"http {r.status_code}"
                shaped = ok or error_shaped(r.content, r.status_code)
                results.append(
                    Result(
                        started - t0, action, r.status_code, elapsed, kind, shaped, started - last
                    )
                )
            last = time.perf_counter()
            if think > 0:
                await asyncio.sleep(rng.expovariate(1 / think))


@dataclass
class Fault:
    name: str
    started: float = 0.0  # seconds since the load started
    ended: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


async def inject(
    fault: Fault, seconds: float, t0: float, server: Server, pg: PrivatePostgres
) -> None:
    await asyncio.sleep(max(0.0, t0 + seconds / 2 - time.perf_counter()))
    fault.started = time.perf_counter() - t0
    if fault.name == "kill-worker":
        before = server.workers()
        victim = before[0]
        os.kill(victim, signal.SIGKILL)
        fault.ended = time.perf_counter() - t0
        fault.detail["killed"] = victim
        # uvicorn's parent notices and starts another
        while time.perf_counter() - t0 < seconds:
            now = server.workers()
            if len(now) == WORKERS and victim not in now:
                fault.detail["replaced_after_s"] = round(time.perf_counter() - t0 - fault.ended, 2)
                break
            await asyncio.sleep(0.1)
    elif fault.name == "restart-postgres":
        fault.detail["workers_before"] = server.workers()
        await asyncio.to_thread(pg.restart)
        fault.ended = time.perf_counter() - t0
        fault.detail["restart_s"] = round(fault.ended - fault.started, 2)


#: Connections the app's role holds open to its database now (in use or idle in a pool).
HELD = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = 'twitchwise' AND usename = 'tw_app'"
)


def _held(conn: Any) -> int:
    row = conn.execute(HELD).fetchone()
    return int(row[0]) if row else 0


async def sample_connections(
    pg: PrivatePostgres, seconds: float, t0: float, samples: list[int]
) -> None:
    """Every second of the load, the connections the app holds: read on one connection of
    the superuser's to the ``postgres`` database, kept for the run (opened again after a
    restart), so the sampling opens no session of its own each second."""
    import psycopg

    conn: Any = None
    try:
        while time.perf_counter() - t0 < seconds:
            await asyncio.sleep(1.0)
            try:
                if conn is None or conn.closed:
                    conn = await asyncio.to_thread(
                        psycopg.connect, host="127.0.0.1", port=pg.port, user="postgres",
                        dbname="postgres", autocommit=True,
                    )  # fmt: skip
                samples.append(await asyncio.to_thread(_held, conn))
            except psycopg.Error:  # PostgreSQL restarting (--restart-postgres)
                conn = None
    finally:
        if conn is not None:
            conn.close()


async def run_load(
    people: list[Person], server: Server, pg: PrivatePostgres, args: argparse.Namespace
) -> tuple[list[Result], Fault | None, float, list[int]]:
    results: list[Result] = []
    samples: list[int] = []
    fault = Fault(args.fault) if args.fault else None
    t0 = time.perf_counter()
    tasks = [
        person_loop(p, server.base, args.seconds, args.think, args.seed + i, results, t0)
        for i, p in enumerate(people)
    ]
    tasks.append(sample_connections(pg, args.seconds, t0, samples))
    if fault is not None:
        tasks.append(inject(fault, args.seconds, t0, server, pg))
    await asyncio.gather(*tasks)
    return results, fault, time.perf_counter() - t0, samples


# --------------------------------------------------------------------------- checks


def count_check(pg: PrivatePostgres, people: list[Person]) -> dict[str, int]:
    """Every episode and day answered 2xx is in the database (read as the superuser)."""
    episodes = {(str(a), str(i)) for a, i in pg.execute(
        "twitchwise", "SELECT owner_id, public_id FROM episodes")}  # fmt: skip
    days = {(str(a), d) for a, d in pg.execute("twitchwise", "SELECT owner_id, date FROM days")}
    acked_episodes = {(str(p.account), i) for p in people for i in p.episodes}
    acked_days = {(str(p.account), d) for p in people for d in p.days}
    return {
        "episodes_acknowledged": len(acked_episodes),
        "episodes_in_database": len(episodes),
        "episodes_missing": len(acked_episodes - episodes),
        "episodes_unacknowledged": len(episodes - acked_episodes),
        "days_acknowledged": len(acked_days),
        "days_in_database": len(days),
        "days_missing": len(acked_days - days),
        "days_unacknowledged": len(days - acked_days),
    }


def metrics_total(text: str) -> float:
    """Requests the workers counted, summed over the worker processes, but the scrapes and
    probes of this script."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("twitchwise_http_requests_total{") and not any(
            f'route="{r}"' in line for r in ("/metrics", "/readyz", "/healthz")
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


def summarise(
    results: list[Result], elapsed: float, fault: Fault | None
) -> tuple[dict[str, Any], list[tuple[str, bool, str]]]:
    ok = [r for r in results if r.kind == "ok"]
    errors = [r for r in results if r.kind != "ok"]
    latencies = [r.seconds * 1000 for r in ok]
    summary: dict[str, Any] = {
        "requests": len(results),
        "ok": len(ok),
        "errors": len(errors),
        "errors_by_kind": dict(Counter(r.kind for r in errors)),
        "errors_idle_s": sorted(round(r.idle, 2) for r in errors if not r.status)[:20],
        "throughput_rps": round(len(ok) / elapsed, 1),
        "elapsed_s": round(elapsed, 1),
        "latency_ms": _latency(latencies),
        "by_action": {
            action: {
                "requests": sum(1 for r in results if r.action == action),
                "errors": sum(1 for r in errors if r.action == action),
                "latency_ms": _latency([r.seconds * 1000 for r in ok if r.action == action]),
            }
            for action in ACTIONS
        },
    }
    checks: list[tuple[str, bool, str]] = []
    unshaped = [r for r in errors if r.status and not r.shaped]
    checks.append(("every HTTP error in the error shape", not unshaped, f"{len(unshaped)} not"))
    if fault is None:
        checks.append(("zero errors", not errors, f"{len(errors)} errors"))
        return summary, checks
    window_end = fault.ended + RECOVERY_S
    late = [r for r in errors if r.t > window_end]
    during = [r for r in errors if r.t <= window_end]
    served = [r for r in ok if fault.started <= r.t <= fault.started + 2]
    summary["fault"] = {
        "name": fault.name,
        "at_s": round(fault.started, 2),
        "ended_s": round(fault.ended, 2),
        **fault.detail,
        "errors_before_fault": sum(1 for r in errors if r.t + r.seconds < fault.started),
        "errors_during": len(during),
        "errors_during_by_kind": dict(Counter(r.kind for r in during)),
        "errors_after_recovery": len(late),
        "ok_in_the_2_s_after": len(served),
    }
    if errors:
        summary["fault"]["last_error_after_fault_end_s"] = round(
            max(r.t + r.seconds for r in errors) - fault.ended, 2
        )
    checks.append((f"no errors {RECOVERY_S:g} s after the fault", not late, f"{len(late)} late"))
    checks.append(("requests served in the 2 s after the fault", bool(served), f"{len(served)}"))
    if fault.name == "kill-worker":
        answered = [r for r in errors if r.status]
        checks.append(
            ("failures only as dropped connections (no HTTP error)", not answered,
             f"{dict(Counter(r.kind for r in answered))}")
        )  # fmt: skip
    if fault.name == "restart-postgres":
        not_503 = [r for r in errors if r.status != 503 or not r.shaped]
        checks.append(
            ("every failure a 503 in the error shape", not not_503,
             f"{dict(Counter(r.kind for r in not_503))}")
        )  # fmt: skip
    return summary, checks


def _latency(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(percentile(values, q), 1) for q in (50, 95, 99)} | {
        "max": round(max(values), 1) if values else 0.0
    }


def request_costs(
    server: Server, pg: PrivatePostgres, people: list[Person], n: int
) -> dict[str, dict[str, float]]:
    """Each kind of request ``n`` times, one after another on one keep-alive connection, by
    a person with a token and one with a session (and an answer without an account): the
    wall time and the CPU time of the server's workers and of PostgreSQL per request."""
    import httpx

    token = next(p for p in people if p.headers)
    session = next(p for p in people if p.cookies)
    text = iter(CORPUS * (n // len(CORPUS) + 20))
    kinds: dict[str, tuple[Person | None, str, str, Any]] = {
        "healthz (no database)": (None, "GET", "/healthz", None),
        "ask, no account": (None, "POST", "/api/ask", "text"),
        "ask, API token": (token, "POST", "/api/ask", "text"),
        "ask, session": (session, "POST", "/api/ask", "text"),
        "log, API token": (token, "POST", "/api/journal/episodes", {"region": "calf"}),
        "log, session": (session, "POST", "/api/journal/episodes", {"region": "calf"}),
        "day, API token": (token, "PUT", "/api/journal/days/2026-01-05", {"caffeine_mg": 100}),
        "insights, API token": (token, "GET", "/api/journal/insights", None),
    }
    out: dict[str, dict[str, float]] = {}
    for name, (who, method, path, body) in kinds.items():
        with httpx.Client(
            base_url=server.base,
            timeout=60,
            headers=who.headers if who else {},
            cookies=who.cookies if who else {},
        ) as client:
            for _ in range(5):
                _cost_request(client, name, method, path, body, text)
            before, started = cpu_snapshot(server, pg), time.perf_counter()
            for _ in range(n):
                _cost_request(client, name, method, path, body, text)
            elapsed, after = time.perf_counter() - started, cpu_snapshot(server, pg)
        out[name] = {
            "wall_ms": round(elapsed / n * 1000, 2),
            "server_cpu_ms": round((after["server"] - before["server"]) / n * 1000, 2),
            "postgresql_cpu_ms": round((after["postgresql"] - before["postgresql"]) / n * 1000, 2),
        }
    return out


def _cost_request(
    client: Any, name: str, method: str, path: str, body: Any, text: Iterator[str]
) -> None:
    payload = {"text": next(text)} if body == "text" else body
    r = client.request(method, path, json=payload)
    if r.status_code >= 300:
        raise RuntimeError(f"{name}: {r.status_code} {r.text[:200]}")


def print_costs(costs: dict[str, dict[str, float]], n: int) -> None:
    print(f"{n} requests of each kind, one after another")
    print(f"{'request':<24}{'wall ms':>10}{'server CPU ms':>16}{'PostgreSQL CPU ms':>20}")
    for name, row in costs.items():
        print(f"{name:<24}{row['wall_ms']:>10}{row['server_cpu_ms']:>16}"
              f"{row['postgresql_cpu_ms']:>20}")  # fmt: skip


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause between a person's requests, seconds (0: none)",
    )
    parser.add_argument("--seed", type=int, default=15)
    faults = parser.add_mutually_exclusive_group()
    faults.add_argument("--kill-worker", dest="fault", action="store_const", const="kill-worker")
    faults.add_argument("--restart-postgres", dest="fault", action="store_const",
                        const="restart-postgres")  # fmt: skip
    parser.add_argument(
        "--cost",
        type=int,
        metavar="N",
        help="instead of the load: N requests of each kind one after another, and the CPU "
        "time each costs the server and PostgreSQL",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        metavar="N",
        help="each worker's database pool size (TWITCHWISE_DB_POOL_SIZE; default: 5)",
    )
    parser.add_argument(
        "--pool-overflow",
        type=int,
        metavar="N",
        help="connections each worker's pool may open beyond its size "
        "(TWITCHWISE_DB_POOL_MAX_OVERFLOW; default: 10)",
    )
    parser.add_argument("--pg-bin", type=Path, help="folder of initdb and pg_ctl")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.people < 1 or args.seconds <= 0 or args.think < 0:
        parser.error("--people must be at least 1, --seconds above 0, --think at least 0")
    if (args.pool_size is not None and not 1 <= args.pool_size <= 1000) or (
        args.pool_overflow is not None and not 0 <= args.pool_overflow <= 1000
    ):
        parser.error("--pool-size must be from 1 to 1000, --pool-overflow from 0 to 1000")
    pool = {
        name: value
        for name, value in (("size", args.pool_size), ("max_overflow", args.pool_overflow))
        if value is not None
    }
    try:
        import httpx  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        print(f"needs the dev and server extras: {exc}", file=sys.stderr)
        return 2

    pg = PrivatePostgres(args.pg_bin)
    server: Server | None = None
    work = Path(tempfile.mkdtemp(prefix="twbench-load-"))
    report: dict[str, Any] = {}
    checks: list[tuple[str, bool, str]] = []
    try:
        say = (lambda *_: None) if args.json else (lambda m: print(m, file=sys.stderr))
        say(f"starting a private PostgreSQL on 127.0.0.1:{pg.port} in {pg.root} ...")
        pg.start()
        url = setup_database(pg)
        say(f"making {args.people} accounts ...")
        people = make_people(url, args.people)
        server = Server(url, args.people, work, pool)
        server.wait_ready()
        if args.cost:
            costs = request_costs(server, pg, people, args.cost)
            server.stop()
            if args.json:
                print(json.dumps(costs, indent=2))
            else:
                print_costs(costs, args.cost)
            return 0
        workers = server.workers()
        say(f"serving on {server.base} with workers {workers}; load for {args.seconds:g} s ...")
        load_before = os.getloadavg()[0]
        sessions_before = pg_sessions(pg)
        cpu_before = cpu_snapshot(server, pg)
        busy_before = machine_busy_seconds()
        results, fault, elapsed, held = asyncio.run(run_load(people, server, pg, args))
        cpu_after = cpu_snapshot(server, pg)
        busy = machine_busy_seconds() - busy_before
        cpu: dict[str, Any] = {
            f"{name}_s": round(cpu_after[name] - cpu_before[name], 1) for name in cpu_before
        }
        # what else ran on the machine meanwhile: its busy time less this benchmark's three
        cpu["machine_busy_s"] = round(busy, 1)
        cpu["others_s"] = round(busy - sum(cpu_after[n] - cpu_before[n] for n in cpu_before), 1)
        cpu["machine_load_before"] = round(load_before, 2)
        cpu["machine_load_after"] = round(os.getloadavg()[0], 2)
        cpu["postgresql_sessions_opened"] = pg_sessions(pg) - sessions_before
        cpu["app_connections_held"] = {
            "median": sorted(held)[len(held) // 2] if held else 0,
            "max": max(held, default=0),
        }
        cpu["worker_rss_mb"] = [rss_mb(w) for w in server.workers()]
        summary, checks = summarise(results, elapsed, fault)
        counted = metrics_total(server.metrics())
        answered = sum(1 for r in results if r.status)
        shutdown_s, code = server.stop()
        log_text = server.log_path.read_text(errors="replace")
        server_log = {
            "lines": log_text.count("\n"),
            "tracebacks": log_text.count("Traceback (most recent call last)"),
            "first_lines": [line for line in log_text.splitlines() if line.strip()][:3],
        }
        counts = count_check(pg, people)
        checks.append(
            ("every entry answered 2xx is in the database",
             counts["episodes_missing"] == 0 and counts["days_missing"] == 0,
             f"{counts['episodes_missing']} episodes, {counts['days_missing']} days missing")
        )  # fmt: skip
        if fault is None or fault.name != "kill-worker":
            checks.append(
                ("/metrics counts every answered request (summed over the workers)",
                 counted == answered, f"{counted:g} counted, {answered} answered")
            )  # fmt: skip
        else:  # requests in flight on the killed worker may be answered by nobody
            checks.append(
                ("/metrics counts the answered requests (summed over the workers)",
                 abs(counted - answered) <= summary["errors"], f"{counted:g} counted, "
                 f"{answered} answered")
            )  # fmt: skip
        checks.append(
            (f"stopped by SIGTERM within the graceful timeout ({GRACEFUL_S:g} s)",
             code == 0 and shutdown_s < GRACEFUL_S + 5, f"{shutdown_s:.1f} s, exit {code}")
        )  # fmt: skip
        report = {
            "setup": {
                "people": args.people,
                "seconds": args.seconds,
                "think_s": args.think,
                "workers": WORKERS,
                "pool_size": args.pool_size or 5,
                "pool_max_overflow": 10 if args.pool_overflow is None else args.pool_overflow,
                "postgresql": pg.version(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "fault": args.fault,
                "tokens": (args.people + 1) // 2,
                "sessions": args.people // 2,
            },
            **summary,
            "cpu": cpu,
            "metrics_counted": counted,
            "answered": answered,
            "shutdown_s": round(shutdown_s, 2),
            "server_log": server_log,
            "count_check": counts,
            "checks": [{"check": c, "ok": ok, "detail": d} for c, ok, d in checks],
        }
    except (RuntimeError, OSError) as exc:
        print(f"bench_load: {exc}", file=sys.stderr)
        if server is not None:
            print(server.tail(), file=sys.stderr)
        return 2
    finally:
        if server is not None and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)
    return 0 if all(ok for _, ok, _ in checks) else 1


def print_report(report: dict[str, Any]) -> None:
    setup = report["setup"]
    print(
        f"{setup['people']} people ({setup['tokens']} with API tokens, {setup['sessions']} with "
        f"sessions), {setup['seconds']:g} s, think time {setup['think_s']:g} s, "
        f"{setup['workers']} workers (pool {setup['pool_size']} + {setup['pool_max_overflow']} "
        f"each), {setup['postgresql']}, {setup['cpus']} CPUs"
        + (f", fault: {setup['fault']}" if setup["fault"] else "")
    )
    lat = report["latency_ms"]
    print(
        f"requests {report['requests']}  ok {report['ok']}  errors {report['errors']}  "
        f"throughput {report['throughput_rps']} req/s  "
        f"latency p50 {lat['p50']} ms  p95 {lat['p95']} ms  p99 {lat['p99']} ms  "
        f"max {lat['max']} ms"
    )
    print(f"{'action':<10}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for action, row in report["by_action"].items():
        la = row["latency_ms"]
        print(f"{action:<10}{row['requests']:>10}{row['errors']:>8}"
              f"{la['p50']:>10}{la['p95']:>10}{la['p99']:>10}")  # fmt: skip
    if report["errors_by_kind"]:
        print(f"errors by kind: {report['errors_by_kind']}")
    if "fault" in report:
        print(f"fault: {report['fault']}")
    cpu = report["cpu"]
    print(
        f"CPU seconds: load generator {cpu['load_generator_s']}, server {cpu['server_s']}, "
        f"PostgreSQL {cpu['postgresql_s']} ({cpu['postgresql_sessions_opened']} sessions "
        f"opened; the app held {cpu['app_connections_held']['median']} connections, at most "
        f"{cpu['app_connections_held']['max']}); the machine was busy {cpu['machine_busy_s']} "
        f"CPU seconds, {cpu['others_s']} of them other work; machine load average "
        f"{cpu['machine_load_before']} before, "
        f"{cpu['machine_load_after']} after; workers' memory {cpu['worker_rss_mb']} MB"
    )
    print(f"count check: {report['count_check']}")
    print(f"shutdown after SIGTERM: {report['shutdown_s']} s")
    log = report["server_log"]
    print(
        f"server log: {log['lines']} lines, {log['tracebacks']} tracebacks; "
        f"first: {log['first_lines']}"
    )
    for check in report["checks"]:
        print(f"{'PASS' if check['ok'] else 'FAIL'}  {check['check']} ({check['detail']})")


if __name__ == "__main__":
    sys.exit(main())
