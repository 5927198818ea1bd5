"""Benchmark: requests per second of ``POST /api/ask`` against a no-op endpoint in the same server.

Usage::

    python bench/bench_web.py                 # a small table
    python bench/bench_web.py --json          # the same numbers as JSON
    python bench/bench_web.py --seconds 10 --connections 8

One uvicorn server (one process, as ``twitchwise serve`` runs it) serves ``create_app()`` plus
one extra route, ``POST /bench/noop``: it takes the same JSON body as ``/api/ask`` (parsed and
validated by the same model, through the same middleware) and returns ``{"ok": true}``
without calling twitchwise. Both are loaded the same way on loopback, so the ratio of their
rates is the share of the server's capacity that twitchwise's own work leaves; HTTP, FastAPI
and the load tool cost the same on both sides.

The load tool is ``wrk`` when it is installed (``--connections`` connections, two threads,
``--seconds`` each), otherwise a bounded loop of ``httpx`` keep-alive clients in threads
(``--connections`` threads, ``--seconds`` each). The bodies rotate through the 32 texts of
``bench_ask.py``. This reports; it never fails on a slow number (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import CORPUS

SERVER = textwrap.dedent(
    """
    import uvicorn
    from fastapi.responses import JSONResponse
    from twitchwise.web.app import create_app
    from twitchwise.web.models import AskIn

    app = create_app()

    @app.post("/bench/noop")
    def noop(body: AskIn) -> JSONResponse:
        return JSONResponse({{"ok": True}})

    uvicorn.run(app, host="127.0.0.1", port={port}, log_level="error", access_log=False)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, home: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TWITCHWISE_HOME": home}
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port)], env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/causes", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)


def bodies() -> list[bytes]:
    return [json.dumps({"text": text}).encode() for text in CORPUS]


def load_httpx(url: str, seconds: float, connections: int) -> dict[str, float]:
    """``connections`` threads, each a keep-alive client posting in a loop for ``seconds``."""
    import httpx

    payloads = bodies()
    counts = [0] * connections
    errors = [0] * connections
    start = threading.Barrier(connections + 1)

    def worker(i: int) -> None:
        with httpx.Client(headers={"content-type": "application/json"}, timeout=30) as client:
            start.wait()
            end = time.perf_counter() + seconds
            n = i
            while time.perf_counter() < end:
                r = client.post(url, content=payloads[n % len(payloads)])
                n += 1
                if r.status_code == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {"requests": sum(counts), "errors": sum(errors), "rps": sum(counts) / elapsed}


LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", nil, {["content-type"] = "application/json"}, bodies[i %% #bodies + 1])
end
"""


def load_wrk(url: str, seconds: float, connections: int) -> dict[str, float]:
    """``wrk`` with a Lua script that rotates through the bodies."""
    quoted = ", ".join(json.dumps(b.decode()) for b in bodies())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % quoted)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "-s",
                script.name,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": total, "errors": int(bad.group(1)) if bad else 0, "rps": rps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="load per endpoint")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections")
    parser.add_argument("--tool", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()

    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "httpx"
    load = load_wrk if tool == "wrk" else load_httpx
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="twitchwise-bench-web-") as home:
        proc = start_server(port, home)
        try:
            base = f"http://127.0.0.1:{port}"
            load(base + "/api/ask", 1.0, 1)  # warm up both routes
            load(base + "/bench/noop", 1.0, 1)
            results: dict[str, Any] = {}
            for name, path in (("noop", "/bench/noop"), ("ask", "/api/ask")):
                results[name] = load(base + path, args.seconds, args.connections)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    ratio = results["ask"]["rps"] / results["noop"]["rps"]
    report = {
        "tool": tool,
        "seconds": args.seconds,
        "connections": args.connections,
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
        "noop": {k: round(v, 1) for k, v in results["noop"].items()},
        "ask": {k: round(v, 1) for k, v in results["ask"].items()},
        "ask_over_noop": round(ratio, 3),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"POST on loopback, {tool}, {args.connections} connections, {args.seconds:g} s each")
    print(f"({report['machine']})")
    print(f"{'endpoint':<28}{'requests':>10}{'errors':>8}{'req/s':>10}")
    for name, label in (("noop", "POST /bench/noop (baseline)"), ("ask", "POST /api/ask")):
        r = report[name]
        print(f"{label:<28}{r['requests']:>10.0f}{r['errors']:>8.0f}{r['rps']:>10.1f}")
    print(f"ratio /api/ask / no-op: {ratio:.3f} ({1 / ratio:.1f}x the time per request)")


if __name__ == "__main__":
    main()
