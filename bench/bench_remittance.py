"""835 posting benchmark: a 10,000-claim 835 (3 lines each) uploaded through the service's own
path (files.upload: parse, balance, match, post, statuses, audit) on SQLite and optionally
PostgreSQL, beside the floor of parsing the same file alone (parse_835 + check_balance).

    .venv/bin/python bench/bench_remittance.py [--postgres URL] [--claims 10000]
"""

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from seed import answer_835, fresh, seed, submit_all

from service import uploads
from service.db import make_engine, session_factory_for
from service.remittance import files
from service.remittance.x12.balance import check_balance
from service.remittance.x12.remit835 import parse_835


@dataclass
class Run:
    claims: int
    size_mib: float
    seconds: float
    floor_seconds: float
    # This process's CPU (time.process_time): steadier than wall time on a loaded machine;
    # PostgreSQL's own CPU is not in it.
    cpu_seconds: float
    floor_cpu_seconds: float


def run(url: str, count: int) -> Run:
    url = fresh(url, "bench_remittance")
    engine = make_engine(url)
    factory = session_factory_for(engine)
    seeded = seed(factory, count)
    actor = seeded.actor
    with factory() as session:
        pcns, lines = submit_all(session, factory, seeded)
    text = answer_835(lines, pcns)
    raw = text.encode()
    started, started_cpu = time.perf_counter(), time.process_time()
    remittance = parse_835(text)
    assert check_balance(remittance) == []
    floor = time.perf_counter() - started
    floor_cpu = time.process_time() - started_cpu
    with factory() as session:
        started, started_cpu = time.perf_counter(), time.process_time()
        with uploads.from_bytes(raw) as received:
            upload = files.upload(
                session, actor, received, filename="bench.835", at=datetime.now(UTC)
            )
        session.commit()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - started_cpu
        assert upload.file.result["claims_matched"] == len(pcns), upload.file.result
    engine.dispose()
    return Run(len(pcns), len(raw) / 2**20, seconds, floor, cpu, floor_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL (a database bench_remittance is made)")
    parser.add_argument("--claims", type=int, default=10_000)
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        print(
            "| database | claims | file MiB | post s | floor (parse + balance) s | ratio "
            "| post CPU s | floor CPU s | CPU ratio |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, url in targets:
            r = run(url, args.claims)
            print(
                f"| {name} | {r.claims:,} | {r.size_mib:.1f} | {r.seconds:.2f} | "
                f"{r.floor_seconds:.2f} | {r.seconds / r.floor_seconds:.1f}x | "
                f"{r.cpu_seconds:.2f} | {r.floor_cpu_seconds:.2f} | "
                f"{r.cpu_seconds / r.floor_cpu_seconds:.1f}x |"
            )


if __name__ == "__main__":
    main()
