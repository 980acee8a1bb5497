"""What the claim, remittance and statement benchmarks set up alike: a fresh migrated database,
ready claims seeded with their admin and trading partner, the claims batched and submitted, and
the 835 that answers them (CO 45 and 1.00 PR a line)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import migrate
from service.auth.logic import Principal
from service.auth.models import AppUser
from service.claims import batches, verbs
from service.claims.models import Claim, ClaimLine
from service.codesets.loader import load_bundled
from service.db import SessionFactory, make_engine, session_factory_for, session_scope
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
from service.x12.envelope import Interchange

TODAY = date(2026, 11, 28)


def fresh(url: str, name: str, *, code_sets: bool = True) -> str:
    """A migrated database (with the bundled code sets unless told not to): on PostgreSQL a
    new database `name` (dropped first), on SQLite the file of `url`. Answers its URL."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        admin = engine.execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
    migrate.upgrade(engine)
    if code_sets:
        with session_scope(session_factory_for(engine)) as session:
            load_bundled(session)
    engine.dispose()
    return url


@dataclass(frozen=True)
class Seeded:
    organization_id: str
    actor: Principal  # the organization's admin
    partner_id: str  # its clearinghouse


def seed(factory: SessionFactory, count: int) -> Seeded:
    """`count` ready claims (3 lines each) of a new organization."""
    with session_scope(factory) as session:
        org, _ = seed_ready_claims(session, count)
    with factory() as session:
        partner_id = session.exec(
            select(TradingPartner.id).where(TradingPartner.organization_id == org)
        ).one()
        admin = session.exec(select(AppUser).where(AppUser.organization_id == org)).first()
        assert admin is not None
        actor = Principal(admin.id, org, frozenset({"admin"}), "bench")
    return Seeded(org, actor, partner_id)


def submit_all(
    session: Session, factory: SessionFactory, seeded: Seeded, only: list[str] | None = None
) -> tuple[dict[str, str], dict[str, list[ClaimLine]]]:
    """Batches and submits every ready claim (or those of `only`); the patient control numbers
    and lines of every submitted claim by claim id."""
    org, actor = seeded.organization_id, seeded.actor
    batch = batches.build_claim_batch(
        session,
        actor,
        batches.BatchRequest(seeded.partner_id, "professional", claim_ids=only, rescrub=False),
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
    ids = list(pcns)
    for start in range(0, len(ids), 500):
        for line in session.exec(
            select(ClaimLine)
            .where(col(ClaimLine.claim_id).in_(ids[start : start + 500]))
            .order_by(col(ClaimLine.claim_id), col(ClaimLine.position))
        ):
            lines[line.claim_id].append(line)
    return pcns, lines


def _adjustments(charge: Decimal, denied: bool) -> tuple[AdjustmentInput, ...]:
    if denied:  # CO 50, not medically necessary: the whole charge, nothing paid
        return (AdjustmentInput("CO", "50", charge),)
    contractual = (charge * Decimal("0.2")).quantize(Decimal("0.01"))
    return (AdjustmentInput("CO", "45", contractual), AdjustmentInput("PR", "2", Decimal("1.00")))


def answer_835(
    claims: dict[str, list[ClaimLine]],
    pcns: dict[str, str],
    denied: frozenset[str] = frozenset(),
) -> str:
    """Pays each claim (CO 45 and 1.00 PR a line), or denies it (status 4, CO 50) if its id is
    in `denied`."""
    payments = []
    for claim_id, lines in claims.items():
        payments.append(
            ClaimPaymentInput(
                patient_control_number=pcns[claim_id],
                payer_claim_control_number=f"P{pcns[claim_id]}",
                patient_last_name="DOE",
                patient_first_name="JANE",
                member_id="M1",
                status="4" if claim_id in denied else "1",
                lines=tuple(
                    LinePaymentInput(
                        procedure_code=line.code,
                        charge=Decimal(line.charge),
                        adjustments=_adjustments(Decimal(line.charge), claim_id in denied),
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
