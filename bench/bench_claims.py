"""Claim batch benchmark: a 10,000-claim 837P batch (3 lines each), on SQLite and optionally
PostgreSQL, beside the floor of reading the same claim and line rows with plain SQL in the same
run; peak Python memory at 10,000 and at 100,000 claims.

    .venv/bin/python bench/bench_claims.py [--postgres URL] [--claims 10000] [--big 100000]

The timed batch is the service's own path (build_claim_batch) without the re-scrub, which is
timed on its own over the same claims (logic.rescrub_claims, what a batch runs first). Peak
memory comes from separate runs under tracemalloc: its hook on every allocation slows
allocation-heavy code several times over, so a traced run's time is not the batch's time.
"""

import argparse
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from seed import TODAY, fresh, seed
from sqlmodel import Session, select

from service.claims import batches, logic
from service.claims.models import Claim
from service.db import make_engine, session_factory_for


@dataclass
class Run:
    claims: int
    seconds: float
    floor_seconds: float
    peak_mib: float | None
    size_mib: float
    rescrub_ms_per_claim: float | None


def _floor(session: Session, org: str, count: int) -> float:
    """The same claim and line rows, read with plain SQL."""
    started = time.perf_counter()
    rows = session.execute(
        sa.text(
            "SELECT c.*, l.* FROM claim c JOIN claim_line l ON l.claim_id = c.id "
            "WHERE c.organization_id = :o AND c.status = 'ready'"
        ),
        {"o": org},
    ).fetchall()
    seconds = time.perf_counter() - started
    assert len(rows) >= count
    return seconds


def _rescrub_ms_per_claim(session: Session, org: str) -> float:
    """The batch's re-scrub of every ready claim, rolled back afterwards."""
    claim_ids = list(
        session.exec(
            select(Claim.id).where(Claim.organization_id == org, Claim.status == "ready")
        ).all()
    )
    started = time.perf_counter()
    ready = logic.rescrub_claims(session, claim_ids, today=TODAY)
    seconds = time.perf_counter() - started
    assert len(ready) == len(claim_ids)
    session.rollback()
    return seconds * 1000 / len(claim_ids)


def run(url: str, count: int, *, traced: bool = False, rescrub: bool = False) -> Run:
    url = fresh(url, "bench_claims")
    engine = make_engine(url)
    factory = session_factory_for(engine)
    seeded = seed(factory, count)
    org, actor, partner_id = seeded.organization_id, seeded.actor, seeded.partner_id
    with factory() as session:
        floor = _floor(session, org, count)
        rescrub_ms = _rescrub_ms_per_claim(session, org) if rescrub else None
    with factory() as session:
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        batch = batches.build_claim_batch(
            session,
            actor,
            batches.BatchRequest(partner_id, "professional", rescrub=False),
            numbers_factory=factory,
            at=datetime.now(UTC),
            today=TODAY,
        )
        session.commit()
        seconds = time.perf_counter() - started
        peak = None
        if traced:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        size = batch.size_bytes
        assert batch.claim_count >= count
    engine.dispose()
    return Run(count, seconds, floor, peak, size / 2**20, rescrub_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL (a database bench_claims is made)")
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000, help="0 to skip the memory run")
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        print(
            "| database | claims | batch s | floor (plain SQL read) s | ratio | peak MiB "
            "| file MiB | re-scrub ms/claim |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        peaks: dict[str, float] = {}
        for name, url in targets:
            r = run(_unlinked(url), args.claims, rescrub=True)
            peak = peaks[name] = _peak_mib(url, args.claims)
            print(
                f"| {name} | {r.claims:,} | {r.seconds:.2f} | {r.floor_seconds:.3f} | "
                f"{r.seconds / r.floor_seconds:.1f}x | {peak:.1f} | {r.size_mib:.1f} | "
                f"{r.rescrub_ms_per_claim:.2f} |"
            )
        if args.big:
            name, url = targets[-1]
            big_peak = _peak_mib(url, args.big)
            print()
            print("| memory | claims | peak MiB | vs 10,000 |")
            print("|---|---:|---:|---:|")
            print(f"| {name} | {args.big:,} | {big_peak:.1f} | {big_peak / peaks[name]:.2f}x |")


def _peak_mib(url: str, count: int) -> float:
    peak = run(_unlinked(url), count, traced=True).peak_mib
    assert peak is not None
    return peak


def _unlinked(url: str) -> str:
    """A SQLite file is removed first, so that every run starts from an empty database."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    return url


if __name__ == "__main__":
    main()
