"""`backoffice demo --remittances`: the 999, 277CA and 835 files answering the demo's batches.

Batches the demo's ready claims when it has no batch yet, writes for every batch not cancelled
a 999 accepting it, a 277CA accepting each claim and one 835 per payer (the first claim paid in
full, the others reduced by contract and a deductible, Siobhán O'Connor's denied), and builds
Walter Whitfield's Medicaid claim (secondary to Medicare) so that, once the 835s are uploaded,
it goes out carrying Medicare's adjudication. The files depend only on the database, so a
re-run writes the same bytes (and uploading them twice is recognised). Ready claims in no batch
get no files: the clerk batches them first.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from service import org_clock
from service.auth.logic import Principal
from service.auth.models import AppUser
from service.auth.roles import Role
from service.claims import batches as claim_batches
from service.claims import logic as claim_logic
from service.claims.models import Claim, ClaimBatch, ClaimBatchMember, ClaimLine
from service.db import SessionFactory
from service.demo.x12_835 import (
    AdjustmentInput,
    ClaimPaymentInput,
    LinePaymentInput,
    PayeeInput,
    PayerInput,
    make_835,
)
from service.demo.x12_files import ClaimStatusInput, SetResult, StatusInput, make_277ca, make_999
from service.demo.x12_files import Organization as X12Organization
from service.directory.models import Payer, TradingPartner
from service.errors import DomainError
from service.patients.models import Coverage, Patient
from service.x12.envelope import Interchange

DEFAULT_FOLDER = Path("var/demo-remittances")
# Siobhán O'Connor's original claim comes back denied (CLP02 4, CARC 16 "lacks information",
# RARC N290 "missing rendering provider primary identifier"), a denial for the clerk to work.
DENIED_MRN = "D-1004"


@dataclass
class _Claim:
    claim: Claim
    patient: Patient
    member_id: str
    lines: list[ClaimLine]
    st: int


def _actor(session: Session, organization_id: str) -> Principal:
    admin = session.exec(
        select(AppUser).where(AppUser.organization_id == organization_id, AppUser.name == "admin")
    ).one()
    return Principal(admin.id, organization_id, frozenset({Role.ADMIN}), "demo")


def _ensure_batches(
    session: Session, actor: Principal, numbers_factory: SessionFactory, now: datetime, today: date
) -> None:
    if session.exec(
        select(ClaimBatch.id).where(ClaimBatch.organization_id == actor.organization_id)
    ).first():
        return
    partner = session.exec(
        select(TradingPartner).where(
            TradingPartner.organization_id == actor.organization_id, TradingPartner.name == "demo"
        )
    ).one()
    for claim_type in ("professional", "dental"):
        try:
            claim_batches.build_claim_batch(
                session,
                actor,
                claim_batches.BatchRequest(partner.id, claim_type),
                numbers_factory=numbers_factory,
                at=now,
                today=today,
            )
        except claim_batches.NoClaimsReady:
            continue


def _claims_of(session: Session, batch: ClaimBatch) -> list[_Claim]:
    found = []
    for member in session.exec(
        select(ClaimBatchMember)
        .where(ClaimBatchMember.batch_id == batch.id)
        .order_by(col(ClaimBatchMember.id))
    ):
        claim = session.get(Claim, member.claim_id)
        assert claim is not None
        patient = session.get(Patient, claim.patient_id)
        coverage = session.get(Coverage, claim.coverage_id)
        assert patient is not None
        assert coverage is not None
        lines = list(
            session.exec(
                select(ClaimLine)
                .where(ClaimLine.claim_id == claim.id)
                .order_by(col(ClaimLine.position))
            )
        )
        found.append(_Claim(claim, patient, coverage.member_id, lines, member.st_control_number))
    return found


def _interchange(control: int, partner: TradingPartner, created: datetime) -> Interchange:
    return Interchange(
        sender_qualifier=partner.isa_receiver_qualifier,
        sender_id=partner.isa_receiver_id,
        receiver_qualifier=partner.isa_sender_qualifier,
        receiver_id=partner.isa_sender_id,
        interchange_control_number=control,
        group_control_number=control,
        application_sender_code=partner.gs_receiver_code,
        application_receiver_code=partner.gs_sender_code,
        created_at=created,
    )


def _payment(item: _Claim, in_full: bool) -> ClaimPaymentInput:
    # The original only (CLM05-3 1): a replacement the clerk resubmits is paid.
    denied = (
        item.patient.mrn == DENIED_MRN
        and item.claim.payer_responsibility == "P"
        and item.claim.frequency == "1"
    )

    def adjustments(line: ClaimLine) -> tuple[AdjustmentInput, ...]:
        if denied:
            return (AdjustmentInput("CO", "16", Decimal(line.charge)),)
        if in_full:
            return ()
        charge = Decimal(line.charge)
        contractual = (charge * Decimal("0.20")).quantize(Decimal("0.01"))
        deductible = min(Decimal("15.00"), charge - contractual)
        return (AdjustmentInput("CO", "45", contractual), AdjustmentInput("PR", "1", deductible))

    return ClaimPaymentInput(
        patient_control_number=item.claim.patient_control_number,
        payer_claim_control_number=f"DEMO{item.claim.patient_control_number}",
        patient_last_name=item.patient.family_name,
        patient_first_name=item.patient.given_name or "",
        member_id=item.member_id,
        status="4" if denied else "1",
        lines=tuple(
            LinePaymentInput(
                procedure_code=line.code,
                charge=Decimal(line.charge),
                adjustments=adjustments(line),
                service_date=line.service_date,
                line_item_control_number=line.line_control_number,
                qualifier="AD" if line.code_system == "CDT" else "HC",
                # On each denied line (LQ*HE), where the denial queue shows what to add.
                remark_codes=("N290",) if denied else (),
            )
            for line in item.lines
        ),
    )


def _files_for(
    session: Session, batch: ClaimBatch, partner: TradingPartner, zone: ZoneInfo
) -> dict[str, str]:
    created = batch.created_at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    icn = batch.interchange_control_number
    items = _claims_of(session, batch)
    guide = "005010X222A1" if batch.claim_type == "professional" else "005010X224A2"
    files = {
        f"999-{icn:09d}.x12": make_999(
            _interchange(100_000_000 + icn, partner, created),
            group_control_number=icn,
            results=[SetResult(f"{st:04d}") for st in sorted({i.st for i in items})],
            acknowledged_version=guide,
        )
    }
    by_payer: dict[str, list[_Claim]] = defaultdict(list)
    for item in items:
        by_payer[item.claim.payer_id].append(item)
    for n, (payer_id, claims) in enumerate(sorted(by_payer.items()), start=1):
        payer = session.get(Payer, payer_id)
        assert payer is not None
        files[f"277ca-{icn:09d}-{payer.edi_payer_id}.x12"] = make_277ca(
            _interchange(200_000_000 + icn * 10 + n, partner, created),
            payer=X12Organization(payer.name, payer.edi_payer_id),
            receiver=X12Organization(partner.submitter_name, partner.submitter_id),
            billing_provider=X12Organization(partner.submitter_name, "1999999992"),
            claims=[
                ClaimStatusInput(
                    patient_control_number=i.claim.patient_control_number,
                    patient_last_name=i.patient.family_name,
                    patient_first_name=i.patient.given_name or "",
                    member_id=i.member_id,
                    charge=Decimal(i.claim.total_charge),
                    service_date=i.claim.date_of_service,
                    status=StatusInput("A2", "20"),
                    payer_claim_control_number=f"DEMO{i.claim.patient_control_number}",
                )
                for i in claims
            ],
        )
        address = payer.address or {}
        files[f"835-{icn:09d}-{payer.edi_payer_id}.x12"] = make_835(
            _interchange(300_000_000 + icn * 10 + n, partner, created),
            payer=PayerInput(
                payer.name,
                payer.edi_payer_id,
                address.get("line1", "1 PAYER PLAZA"),
                address.get("city", "CHICAGO"),
                address.get("state", "IL"),
                address.get("postal_code", "606010001"),
                "8005551212",
            ),
            payee=PayeeInput(partner.submitter_name, "1999999992"),
            payment_date=created.date(),
            trace_number=f"DEMO{icn:09d}{payer.edi_payer_id}",
            claims=[_payment(item, in_full=k == 0) for k, item in enumerate(claims)],
        )
    return files


def _secondary_claim(session: Session, actor: Principal, today: date) -> str | None:
    """Walter Whitfield: Medicare primary, Medicaid secondary."""
    walter = session.exec(
        select(Patient).where(
            Patient.organization_id == actor.organization_id, Patient.mrn == "D-1003"
        )
    ).first()
    if walter is None:
        return None
    coverage = session.exec(
        select(Coverage).where(Coverage.patient_id == walter.id, Coverage.priority == "secondary")
    ).first()
    primary = session.exec(
        select(Claim).where(Claim.patient_id == walter.id, Claim.payer_responsibility == "P")
    ).first()
    if coverage is None or primary is None:
        return None
    existing = session.exec(
        select(Claim.id).where(
            Claim.encounter_id == primary.encounter_id, Claim.coverage_id == coverage.id
        )
    ).first()
    if existing is not None:
        return existing
    try:
        claim = claim_logic.build_claim(
            session, actor, primary.encounter_id, coverage_id=coverage.id, today=today
        )
    except DomainError:
        return None
    return claim.id


def ready_claims_not_batched(session: Session, organization_id: str) -> int:
    """Ready claims no batch carries yet: the files answer batches, so these get none."""
    return len(
        session.exec(
            select(Claim.id).where(
                Claim.organization_id == organization_id, Claim.status == "ready"
            )
        ).all()
    )


def write_demo_remittances(
    session: Session,
    organization_id: str,
    folder: Path,
    *,
    numbers_factory: SessionFactory,
    now: datetime,
    local_today: Callable[[], date],
) -> tuple[list[Path], str | None]:
    """Writes the files; returns their paths in upload order (per batch the 999, then each
    payer's 277CA and 835) and the secondary claim's id."""
    actor = _actor(session, organization_id)
    zone = org_clock.zone(session, organization_id)
    today = local_today()
    _ensure_batches(session, actor, numbers_factory, now, today)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    batches = session.exec(
        select(ClaimBatch)
        .where(ClaimBatch.organization_id == organization_id, ClaimBatch.status != "cancelled")
        .order_by(col(ClaimBatch.interchange_control_number))
    ).all()
    for batch in batches:
        partner = session.get(TradingPartner, batch.trading_partner_id)
        assert partner is not None
        for name, text in _files_for(session, batch, partner, zone).items():
            path = folder / name
            path.write_text(text, encoding="ascii")
            written.append(path)
    return written, _secondary_claim(session, actor, today)
