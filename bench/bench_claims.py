"""Claim batch benchmark: a 10,000-claim 837P batch (3 lines each), on SQLite and optionally
PostgreSQL, beside the floor of reading the same claim and line rows with plain SQL in the same
run; peak Python memory at 10,000 and at 100,000 claims.

    .venv/bin/python bench/bench_claims.py [--postgres URL] [--claims 10000] [--big 100000]

The timed batch is the service's own path (build_claim_batch) without the re-scrub, which is
timed separately per claim: a batch re-scrubs every claim by design.
"""

import argparse
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from service import migrate
from service.auth.logic import Principal
from service.auth.models import AppUser
from service.claims import batches
from service.claims.models import Claim
from service.claims.synthetic import seed_ready_claims
from service.codesets.loader import load_bundled
from service.db import make_engine, session_factory_for, session_scope
from service.directory.models import TradingPartner

TODAY = date(2026, 11, 28)


@dataclass
class Run:
    claims: int
    seconds: float
    floor_seconds: float
    peak_mib: float
    size_mib: float
    scrub_ms_per_claim: float | None


def _fresh(url: str) -> str:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        admin = engine.execution_options(isolation_level="AUTOCOMMIT")
        name = "bench_claims"
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(session_factory_for(engine)) as session:
        load_bundled(session)
    engine.dispose()
    return url


def run(url: str, count: int, *, scrub_sample: int = 0) -> Run:
    url = _fresh(url)
    engine = make_engine(url)
    factory = session_factory_for(engine)
    with session_scope(factory) as session:
        org, _ = seed_ready_claims(session, count)
    with factory() as session:
        partner_id = session.exec(
            select(TradingPartner.id).where(TradingPartner.organization_id == org)
        ).one()
        admin = session.exec(select(AppUser).where(AppUser.organization_id == org)).first()
        assert admin is not None
        actor = Principal(admin.id, org, frozenset({"admin"}), "bench")
        # The floor: the same claim and line rows, read with plain SQL.
        started = time.perf_counter()
        rows = session.execute(
            sa.text(
                "SELECT c.*, l.* FROM claim c JOIN claim_line l ON l.claim_id = c.id "
                "WHERE c.organization_id = :o AND c.status = 'ready'"
            ),
            {"o": org},
        ).fetchall()
        floor = time.perf_counter() - started
        assert len(rows) >= count
        del rows
        scrub = None
        if scrub_sample:
            from service.claims import logic

            sample = session.exec(
                select(Claim).where(Claim.organization_id == org).limit(scrub_sample)
            ).all()
            started = time.perf_counter()
            for claim in sample:
                logic.scrub_claim(session, actor, claim, today=TODAY)
            scrub = (time.perf_counter() - started) * 1000 / len(sample)
            session.rollback()
    with factory() as session:
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
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = batch.size_bytes
        assert batch.claim_count >= count
    engine.dispose()
    return Run(count, seconds, floor, peak / 2**20, size / 2**20, scrub)


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
            "| file MiB | scrub ms/claim |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, url in targets:
            if name == "SQLite":
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            r = run(url, args.claims, scrub_sample=200)
            print(
                f"| {name} | {r.claims:,} | {r.seconds:.2f} | {r.floor_seconds:.3f} | "
                f"{r.seconds / r.floor_seconds:.1f}x | {r.peak_mib:.1f} | {r.size_mib:.1f} | "
                f"{r.scrub_ms_per_claim:.1f} |"
            )
        if args.big:
            url = targets[-1][1]
            if url.startswith("sqlite"):
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            big = run(url, args.big)
            small_peak = run(url, args.claims).peak_mib if url.startswith("sqlite") else None
            print()
            print("| memory | claims | peak MiB | vs 10,000 |")
            print("|---|---:|---:|---:|")
            base = small_peak if small_peak is not None else r.peak_mib
            print(
                f"| {targets[-1][0]} | {big.claims:,} | {big.peak_mib:.1f} "
                f"| {big.peak_mib / base:.2f}x |"
            )


if __name__ == "__main__":
    main()
