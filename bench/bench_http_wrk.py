"""HTTP load with wrk: service routes beside a bare FastAPI route measured in the same run.

    .venv/bin/python bench/bench_http_wrk.py [--duration 8] [--connections 16] [--threads 2]
        [--route NAME=PATH ...] [--database-url URL]

Starts `backoffice serve` (one process; SQLite in a temporary directory, migrated with the
bundled code sets, `backoffice demo` for an API key) and a bare FastAPI app answering
`GET /hello` from the same virtualenv, each on a free port, then runs
`wrk -t2 -c16 -d8s --latency` against the bare route and against every service route. A
route whose PATH holds `{query}` cycles through the code-search evaluation queries (a wrk Lua
script), so the typeahead is not one cached answer. Prints req/s, p50 and p99 per route and the
ratio to the bare route (the ceiling: what FastAPI and uvicorn alone reach on this machine
now). `make bench-http` runs it; `make wrk` installs Debian's wrk when missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess  # nosec B404 - starts this repository's service, uvicorn and wrk
import sys
import tempfile
import textwrap
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EVAL_SET = REPO / "tests" / "codesets" / "search_eval.tsv"
# The typeahead as clients call it: no date (today in the organization's time zone).
DEFAULT_ROUTES = ["typeahead=/api/v1/codes/icd10cm?q={query}&limit=20"]
# Issue 21: the typeahead at >= 40% of the bare route's req/s, p99 <= 2x the bare p99.
TARGET_SHARE, TARGET_P99 = 0.40, 2.0

BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}
"""

ROTATE_LUA = """
local paths = {{{paths}}}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors (connect, read, write, timeout) and non-2xx/3xx answers


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """req/s, p50, p99 and errors from `wrk --latency` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rate and p50 and p99 and total):
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return WrkResult(
        float(rate.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), errors
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited during start-up")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


@contextmanager
def running(command: list[str], env: dict[str, str], ready_url: str) -> Iterator[None]:
    process = subprocess.Popen(  # nosec B603 - fixed commands from this script
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(ready_url, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=15)


def backoffice(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # nosec B603 - this virtualenv's own command line
        [str(BIN / "backoffice"), *args], env=env, cwd=REPO, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"backoffice {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def queries() -> list[str]:
    lines = EVAL_SET.read_text(encoding="utf-8").splitlines()
    cells = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [c[2] for c in cells[1:] if len(c) == 4 and c[1] == "icd10cm"]


def wrk_script(directory: Path, path: str) -> Path | None:
    """A Lua script cycling `{query}` through the evaluation queries, or None for a fixed path."""
    if "{query}" not in path:
        return None
    paths = [path.replace("{query}", urllib.parse.quote(q)) for q in queries()]
    script = directory / f"rotate-{abs(hash(path))}.lua"
    script.write_text(ROTATE_LUA.format(paths=", ".join(f'"{p}"' for p in paths)))
    return script


def run_wrk(
    base: str, path: str, args: argparse.Namespace, directory: Path, key: str | None = None
) -> WrkResult:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    command += ["--latency", "--timeout", "10s"]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    script = wrk_script(directory, path)
    if script:
        command += ["-s", str(script), base]
    else:
        command.append(base + path)
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # nosec B603
    return parse_wrk(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=8, help="seconds per route (8)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--route", action="append", help="NAME=PATH; {query} cycles queries")
    parser.add_argument("--database-url", help="an existing, migrated database (else SQLite)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make wrk` (Debian's package)")
    routes = [route.split("=", 1) for route in (args.route or DEFAULT_ROUTES)]

    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        directory = Path(tmp)
        url = args.database_url or f"sqlite:///{directory / 'bench.sqlite3'}"
        env = {**os.environ, "BACKOFFICE_DATABASE_URL": url, "BACKOFFICE_LOG_LEVEL": "WARNING"}
        start = time.perf_counter()
        backoffice(env, "migrate")
        key = backoffice(env, "demo").strip().splitlines()[-1]
        prepared = time.perf_counter() - start
        (directory / "hello.py").write_text(textwrap.dedent(BARE_APP))

        results: list[tuple[str, WrkResult]] = []
        port = free_port()
        # The same uvicorn settings as `backoffice serve`, so only the application differs.
        run = "import uvicorn; uvicorn.run('hello:app', host='127.0.0.1', "
        run += f"port={port}, log_level='warning', access_log=False)"
        bare = [str(BIN / "python"), "-c", run]
        bare_env = {**env, "PYTHONPATH": str(directory)}
        with running(bare, bare_env, f"http://127.0.0.1:{port}/hello"):
            results.append(("bare FastAPI GET /hello", run_wrk(
                f"http://127.0.0.1:{port}", "/hello", args, directory)))  # fmt: skip

        port = free_port()
        serve = [str(BIN / "backoffice"), "serve", "--port", str(port)]
        started = time.perf_counter()
        with running(serve, env, f"http://127.0.0.1:{port}/healthz"):
            ready = time.perf_counter() - started
            for name, path in routes:
                result = run_wrk(f"http://127.0.0.1:{port}", path, args, directory, key)
                results.append((f"{name} GET {path.split('?')[0]}", result))

    ceiling = results[0][1]
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, one process "
          f"each, {os.cpu_count()} cores; SQLite with demo data ({prepared:.0f} s to prepare); "
          f"/healthz answered {ready:.1f} s after start (indexes built first).")  # fmt: skip
    print()
    print(f"ceiling: {ceiling.requests_per_second:,.0f} req/s")
    print()
    print("| route | req/s | p50 ms | p99 ms | errors | ceiling req/s | share of ceiling "
          "| p99 ÷ ceiling p99 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results:
        print(f"| {name} | {r.requests_per_second:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
              f"| {r.errors} | {ceiling.requests_per_second:,.0f} "
              f"| {r.requests_per_second / ceiling.requests_per_second:.2f} "
              f"| {r.p99_ms / ceiling.p99_ms:.1f}x |")  # fmt: skip
    print()
    print(
        f"Targets (issue 21): typeahead >= {TARGET_SHARE:.0%} of the ceiling's req/s, "
        f"p99 <= {TARGET_P99:.0f}x the ceiling's p99."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
