"""835 posting benchmark: a 10,000-claim 835 (3 lines each) uploaded through the service's own
path (files.upload: parse, balance, match, post, statuses, audit) on SQLite and optionally
PostgreSQL, beside the floor of parsing the same file alone (parse_835 + check_balance).

    .venv/bin/python bench/bench_remittance.py [--postgres URL] [--claims 10000]
"""

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from service import migrate, uploads
from service.auth.logic import Principal
from service.auth.models import AppUser
from service.claims import batches, verbs
from service.claims.models import Claim, ClaimLine
from service.codesets.loader import load_bundled
from service.db import make_engine, session_factory_for, session_scope
from service.demo.synthetic_claims import seed_ready_claims
from service.demo.x12_835 import (
    AdjustmentInput,
    ClaimPaymentInput,
    LinePaymentInput,
    PayeeInput,
    PayerInput,
    make_835,
)
from service.directory.models import TradingPartner
from service.remittance import files
from service.remittance.x12.balance import check_balance
from service.remittance.x12.remit835 import parse_835
from service.x12.envelope import Interchange

TODAY = date(2026, 11, 28)


@dataclass
class Run:
    claims: int
    size_mib: float
    seconds: float
    floor_seconds: float


def _fresh(url: str) -> str:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        admin = engine.execution_options(isolation_level="AUTOCOMMIT")
        name = "bench_remittance"
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


def _835(claims: dict[str, list[ClaimLine]], pcns: dict[str, str]) -> str:
    payments = []
    for claim_id, lines in claims.items():
        payments.append(
            ClaimPaymentInput(
                patient_control_number=pcns[claim_id],
                payer_claim_control_number=f"P{pcns[claim_id]}",
                patient_last_name="DOE",
                patient_first_name="JANE",
                member_id="M1",
                lines=tuple(
                    LinePaymentInput(
                        procedure_code=line.code,
                        charge=Decimal(line.charge),
                        adjustments=(
                            AdjustmentInput(
                                "CO",
                                "45",
                                (Decimal(line.charge) * Decimal("0.2")).quantize(Decimal("0.01")),
                            ),
                            AdjustmentInput("PR", "2", Decimal("1.00")),
                        ),
                        service_date=line.service_date,
                        line_item_control_number=line.line_control_number,
                    )
                    for line in lines
                ),
            )
        )
    return make_835(
        Interchange(
            sender_qualifier="ZZ",
            sender_id="DEMOCH",
            receiver_qualifier="ZZ",
            receiver_id="SFMDEMO",
            interchange_control_number=9001,
            group_control_number=9001,
            application_sender_code="DEMOCH",
            application_receiver_code="SFMDEMO",
            created_at=datetime(2026, 12, 1, 8, 0),  # noqa: DTZ001 - a local wall-clock time
        ),
        payer=PayerInput(
            "ACME HEALTH PLAN", "ACME01", "1 MAIN ST", "CHICAGO", "IL", "606010001", "8005551212"
        ),
        payee=PayeeInput("SPRINGFIELD FAMILY MEDICINE", "1999999992"),
        payment_date=date(2026, 12, 1),
        trace_number="BENCH0001",
        claims=payments,
    )


def run(url: str, count: int) -> Run:
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
        batch = batches.build_claim_batch(
            session,
            actor,
            batches.BatchRequest(partner_id, "professional", rescrub=False),
            numbers_factory=factory,
            at=datetime.now(UTC),
            today=TODAY,
        )
        session.commit()
        verbs.submit_batch(session, actor, batch.id, at=datetime.now(UTC))
        session.commit()
        pcns = dict(
            session.execute(
                select(Claim.id, Claim.patient_control_number).where(
                    Claim.organization_id == org, Claim.status == "submitted"
                )
            ).all()
        )
        lines: dict[str, list[ClaimLine]] = {cid: [] for cid in pcns}
        for start in range(0, len(pcns), 500):
            page = list(pcns)[start : start + 500]
            for line in session.exec(
                select(ClaimLine)
                .where(col(ClaimLine.claim_id).in_(page))
                .order_by(col(ClaimLine.claim_id), col(ClaimLine.position))
            ):
                lines[line.claim_id].append(line)
    text = _835(lines, pcns)
    raw = text.encode()
    started = time.perf_counter()
    remittance = parse_835(text)
    assert check_balance(remittance) == []
    floor = time.perf_counter() - started
    with factory() as session:
        started = time.perf_counter()
        with uploads.from_bytes(raw) as received:
            upload = files.upload(
                session, actor, received, filename="bench.835", at=datetime.now(UTC)
            )
        session.commit()
        seconds = time.perf_counter() - started
        assert upload.file.result["claims_matched"] == len(pcns), upload.file.result
    engine.dispose()
    return Run(len(pcns), len(raw) / 2**20, seconds, floor)


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
        print("| database | claims | file MiB | post s | floor (parse + balance) s | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, url in targets:
            r = run(url, args.claims)
            print(
                f"| {name} | {r.claims:,} | {r.size_mib:.1f} | {r.seconds:.2f} | "
                f"{r.floor_seconds:.2f} | {r.seconds / r.floor_seconds:.1f}x |"
            )


if __name__ == "__main__":
    main()
