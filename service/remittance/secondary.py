"""The primary payer's adjudication, as the next payer's 837 carries it (2320/2330, 2430).

claims.x12_input calls prior_payers() for every claim that is not the primary one
(SBR01 S or T): the primary claim of the same encounter that the primary payer paid or denied
gives 2320 SBR/CAS/AMT*D, 2330A the primary subscriber, 2330B the primary payer (DTP*573 when
no line was adjudicated), and each line's 2430 SVD/CAS/DTP*573 (lines matched through the
encounter service line both claims were copied from).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from service.claims.models import Claim, ClaimLine
from service.claims.x12 import model as x12
from service.directory.models import Payer
from service.patients.models import Coverage, Patient
from service.remittance.adjudication import AdjustmentValue, adjudication_of

ADJUDICATED = ("paid", "partially_paid", "denied")
_RELATIONSHIPS = frozenset({"01", "18", "19", "20", "21", "39", "40", "53", "G8"})


@dataclass(frozen=True)
class PriorPayers:
    other_payers: tuple[x12.OtherPayer, ...]
    # The 2430 loops per line of the secondary claim, keyed by its encounter service line id.
    lines: dict[str, tuple[x12.LineAdjudication, ...]] = field(default_factory=dict)


def _adjustments(values: Sequence[AdjustmentValue]) -> tuple[x12.Adjustment, ...]:
    return tuple(x12.Adjustment(a.group, a.reason, a.amount, a.quantity) for a in values)


def primary_claim(session: Session, claim: Claim) -> Claim | None:
    """The encounter's primary claim that its payer answered (the latest one)."""
    return session.exec(
        select(Claim)
        .where(
            Claim.organization_id == claim.organization_id,
            Claim.encounter_id == claim.encounter_id,
            Claim.payer_responsibility == "P",
            col(Claim.status).in_(ADJUDICATED),
        )
        .order_by(col(Claim.created_at).desc())
    ).first()


def prior_payer(session: Session, claim: Claim) -> PriorPayers | None:
    if claim.payer_responsibility == "P":
        return None
    primary = primary_claim(session, claim)
    if primary is None:
        return None
    adjudication = adjudication_of(session, claim.organization_id, primary.id)
    coverage = session.get(Coverage, primary.coverage_id)
    payer = session.get(Payer, primary.payer_id)
    if adjudication is None or coverage is None or payer is None:
        return None
    if coverage.relationship == "18":
        patient = session.get(Patient, primary.patient_id)
        assert patient is not None
        family, given, address = patient.family_name, patient.given_name, patient.address
    else:
        sub = coverage.subscriber or {}
        family, given = sub.get("family_name", ""), sub.get("given_name", "")
        address = sub.get("address")
    primary_lines = {
        line.id: line.service_line_id
        for line in session.exec(select(ClaimLine).where(ClaimLine.claim_id == primary.id))
    }
    lines: dict[str, tuple[x12.LineAdjudication, ...]] = {}
    when = adjudication.payment_date or primary.date_of_service
    for line in adjudication.lines:
        service_line_id = primary_lines.get(line.claim_line_id or "")
        if not service_line_id:
            continue
        lines[service_line_id] = (
            *lines.get(service_line_id, ()),
            x12.LineAdjudication(
                payer_id=payer.edi_payer_id,
                paid_amount=line.paid,
                procedure_code=line.procedure_code,
                adjudication_date=when,
                paid_units=line.units or 1,  # type: ignore[arg-type]
                modifiers=line.modifiers,
                adjustments=_adjustments(line.adjustments),
            ),
        )
    other = x12.OtherPayer(
        payer=x12.Payer(
            name=payer.name, payer_id=payer.edi_payer_id, address=x12.address_from(payer.address)
        ),
        subscriber=x12.OtherSubscriber(
            member_id=coverage.member_id,
            name=x12.PersonName(family=family, given=given),
            address=x12.address_from(address),
        ),
        claim_filing_indicator=payer.claim_filing_indicator,
        relationship=coverage.relationship if coverage.relationship in _RELATIONSHIPS else "G8",
        payer_responsibility="P",
        group_number=coverage.group_number,
        paid_amount=adjudication.paid,
        adjustments=_adjustments(adjudication.adjustments),
        # 2330B DTP*573 is required when no 2430 line adjudication is sent.
        adjudication_date=None if lines else when,
    )
    return PriorPayers((other,), lines)


def prior_payers(session: Session, claims: Sequence[Claim]) -> dict[str, PriorPayers]:
    """For the claims of a page that are not primary; the hook claims.x12_input calls."""
    found: dict[str, PriorPayers] = {}
    for claim in claims:
        prior = prior_payer(session, claim)
        if prior is not None:
            found[claim.id] = prior
    return found


__all__ = ["PriorPayers", "primary_claim", "prior_payer", "prior_payers"]
