"""Statement run benchmark: 5,000 patients, each billed one 3-line claim (charges through the
batch hook) and answered by one 835 (contractual CO 45 and 1.00 PR a line: each owes 3.00),
then one statement run (threshold 0): ledger figures, a PDF and a CSV per patient, stored.
The floor, in the same run: reading the same ledger rows with one plain SQL GROUP BY.

    .venv/bin/python bench/bench_statements.py [--postgres URL] [--patients 5000]
"""

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from seed import answer_835, fresh, seed, submit_all
from sqlmodel import col

from service import uploads
from service.auth.logic import Principal
from service.claims.models import Claim
from service.db import make_engine, session_factory_for
from service.ledger import statements
from service.remittance import files


@dataclass
class Run:
    patients: int
    statements: int
    seconds: float
    floor_seconds: float


def _billed(url: str, count: int) -> tuple[str, Principal]:
    """Seeds, batches, submits and answers `count` claims; the organization and its admin."""
    engine = make_engine(url)
    factory = session_factory_for(engine)
    seeded = seed(factory, count)
    org, actor = seeded.organization_id, seeded.actor
    with factory() as session:
        pcns, lines = submit_all(session, factory, seeded)
        with uploads.from_bytes(answer_835(lines, pcns).encode()) as received:
            files.upload(session, actor, received, filename="bench.835", at=datetime.now(UTC))
        session.commit()
    engine.dispose()
    return org, actor


def _floor(url: str, organization_id: str) -> float:
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT patient_id, encounter_id, kind, SUM(insurance_amount), "
                "SUM(patient_amount) FROM ledger_entry WHERE organization_id = :org "
                "GROUP BY patient_id, encounter_id, kind"
            ),
            {"org": organization_id},
        ).all()
    seconds = time.perf_counter() - started
    assert rows
    engine.dispose()
    return seconds


def run(url: str, count: int) -> Run:
    url = fresh(url, "bench_remittance")
    org, actor = _billed(url, count)
    floor = _floor(url, org)
    engine = make_engine(url)
    with session_factory_for(engine)() as session:
        started = time.perf_counter()
        made, created = statements.run_statements(
            session, actor, threshold=Decimal("0.00"), quiet_days=30, at=datetime.now(UTC)
        )
        session.commit()
        seconds = time.perf_counter() - started
        assert created
        patients = session.execute(
            sa.select(sa.func.count(sa.distinct(col(Claim.patient_id)))).where(
                col(Claim.organization_id) == org
            )
        ).scalar_one()
        count_made = made.statement_count
    engine.dispose()
    return Run(patients, count_made, seconds, floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL (a database bench_remittance is made)")
    parser.add_argument("--patients", type=int, default=5_000)
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        print("| database | patients | statements | run s | ms/statement | floor (SQL) s | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, url in targets:
            r = run(url, args.patients)
            print(
                f"| {name} | {r.patients:,} | {r.statements:,} | {r.seconds:.2f} | "
                f"{1000 * r.seconds / max(r.statements, 1):.1f} | {r.floor_seconds:.3f} | "
                f"{r.seconds / r.floor_seconds:.0f}x |"
            )


if __name__ == "__main__":
    main()
