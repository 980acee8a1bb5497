"""Code search benchmark: ICD-10-CM FY2027 typeahead in process and over HTTP, validation."""

import asyncio
import importlib.util
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from service import migrate
from service.auth import logic as auth_logic
from service.codesets import logic
from service.codesets.loader import load_bundled
from service.codesets.search import CodeIndex, display_code
from service.db import make_engine, session_factory_for, session_scope

ON = date(2026, 10, 1)
QUERIES = 1_000
ENCOUNTERS = 10_000
HTTP_CLIENTS = 16
HTTP_REQUESTS = 3_000
HTTP_SECONDS = 30.0
REPO = Path(__file__).resolve().parents[1]

# httpcore tries `import sniffio` several times per request; when it is not installed, each
# failed import walks sys.path again: about 1 ms of client CPU per request, taken from the two
# cores the server runs on. A None entry makes that import fail at once.
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def realistic_queries(index: CodeIndex, rng: random.Random) -> list[str]:
    """Half code prefixes (dotted or not, 3-7 characters), half 1-3 partial title words."""
    rows = list(index.rows())
    queries = []
    for n in range(QUERIES):
        row = rng.choice(rows)
        if n % 2 == 0:
            prefix = row.code[: rng.randint(3, min(7, len(row.code)))]
            queries.append(display_code(prefix) if rng.random() < 0.5 else prefix.lower())
        else:
            words = [w for w in row.title.lower().replace(",", " ").split() if len(w) > 3]
            picked = rng.sample(words, min(len(words), rng.randint(1, 3))) or ["fracture"]
            queries.append(" ".join(w[: rng.randint(3, len(w))] for w in picked))
    return queries


def timed(call: Callable[[str], object], queries: list[str]) -> list[float]:
    samples = []
    for query in queries:
        start = time.perf_counter_ns()
        call(query)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def http_run(base: str, key: str, queries: list[str]) -> tuple[list[float], float]:
    samples: list[float] = []
    jobs = iter(range(HTTP_REQUESTS))
    deadline = time.perf_counter() + HTTP_SECONDS
    headers = {"Authorization": f"Bearer {key}"}

    async def client_loop() -> None:
        # A client (and connection) each: one pool shared by 16 loops costs the client a scan
        # of every connection, with a poll() per idle one, for each request it sends.
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for n in jobs:
                if time.perf_counter() > deadline:
                    return
                params = {"q": queries[n % len(queries)], "date": ON.isoformat()}
                start = time.perf_counter_ns()
                response = await client.get("/api/v1/codes/icd10cm", params=params, headers=headers)
                samples.append((time.perf_counter_ns() - start) / 1e6)
                response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(HTTP_CLIENTS)))
    return samples, time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (Linux): moves less than latency when other work shares
    the cores, so it helps compare runs taken on a busy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):  # up to 2 minutes: the app builds its code indexes first
        if server.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        engine = make_engine(url)
        migrate.upgrade(engine)
        factory = session_factory_for(engine)
        start = time.perf_counter()
        with session_scope(factory) as session:
            load_bundled(session)
        rows.append(("load every bundled set (SQLite)", f"{time.perf_counter() - start:.2f} s"))
        with session_scope(factory) as session:
            _, _, key = auth_logic.create_organization(session, name="Bench clinic")

        with factory() as session:
            version = logic.version_in_force(session, "icd10cm", ON).version
            tracemalloc.start()
            start = time.perf_counter()
            index = logic.index_for(session, version)
            built = time.perf_counter() - start
            memory = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            rows.append(("build FY2027 index from the database (traced)", f"{built:.2f} s"))
            rows.append(("FY2027 index memory (tracemalloc)", f"{memory / 2**20:.0f} MiB"))

            queries = realistic_queries(index, random.Random(2027))
            exact = {row.code: row for row in index.rows()}
            floor = timed(lambda q: exact.get(q.replace(".", "").upper()), queries)
            search = timed(lambda q: index.search(q, 20), queries)
            with_db = timed(lambda q: logic.search_codes(session, "icd10cm", q, ON, 20), queries)
            for name, samples in (
                ("exact dict lookup (floor)", floor),
                ("CodeIndex.search, limit 20", search),
                ("search_codes (version check in DB + search)", with_db),
            ):
                p50, p99 = percentile(samples, 50), percentile(samples, 99)
                rows.append((f"{name} p50 / p99", f"{p50 * 1e3:.1f} / {p99 * 1e3:.1f} µs"))
            rows.append(
                (
                    "search p50 / p99 ÷ floor",
                    f"{percentile(search, 50) / percentile(floor, 50):.0f}x / "
                    f"{percentile(search, 99) / percentile(floor, 99):.0f}x",
                )
            )

            rng = random.Random(10_000)
            billable = [row.code for row in index.rows() if row.billable]
            encounters = [
                [logic.CodeCheck("icd10cm", display_code(rng.choice(billable))) for _ in range(3)]
                for _ in range(ENCOUNTERS)
            ]
            start = time.perf_counter()
            invalid = sum(
                not v.valid
                for codes in encounters
                for v in logic.validate_codes(session, codes, ON)
            )
            elapsed = time.perf_counter() - start
            rows.append(
                (
                    f"validate_codes, {ENCOUNTERS:,} encounters x 3 diagnoses",
                    f"{elapsed:.2f} s ({elapsed / ENCOUNTERS * 1e3:.3f} ms each, "
                    f"{invalid} invalid)",
                )
            )
        engine.dispose()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {key}"}
        env = {**os.environ, "BACKOFFICE_DATABASE_URL": url, "BACKOFFICE_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "service.main:app_factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
             "--log-level", "warning"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_ready(base, server)
            # The served app builds the index before it answers /healthz (issue 21); one search
            # first all the same, so that the measure starts warm.
            warm = {"q": "E11"}
            httpx.get(f"{base}/api/v1/codes/icd10cm", params=warm, headers=auth, timeout=60)
            cpu_before = cpu_seconds(server.pid)
            samples, wall = asyncio.run(http_run(base, key, queries))
            cpu_after = cpu_seconds(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
        rows.append(
            (
                f"HTTP GET /api/v1/codes/icd10cm, {HTTP_CLIENTS} clients, "
                "1 uvicorn process, p50 / p99",
                f"{statistics.median(samples):.1f} / {percentile(samples, 99):.1f} ms "
                f"({len(samples)} requests, {len(samples) / wall:.0f} req/s)",
            )
        )
        if cpu_before is not None and cpu_after is not None:
            per_request = (cpu_after - cpu_before) / len(samples) * 1e3
            rows.append(("HTTP server CPU per request (user + system)", f"{per_request:.2f} ms"))

    print("| measure | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    print("Targets: in-process p99 <= 5 ms; over HTTP p99 <= 25 ms.")


if __name__ == "__main__":
    main()
