"""The primary payer's adjudication, as the next payer's 837 carries it (2320/2330, 2430).

For every claim of a page that is not the primary one (SBR01 S or T): the encounter's primary
claim that its payer answered (the latest) gives 2320 SBR/CAS/AMT*D from its active payer
adjudications (one per posted CLP, summed when the payer split the claim; a reversal clears
one), 2330A the primary subscriber, 2330B the primary payer (DTP*573 when no line was
adjudicated), and each line's 2430 SVD/CAS/DTP*573 (lines matched through the encounter
service line both claims were copied from). Everything is read in bulk, a fixed number of
queries per page whatever its size.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from sqlmodel import Session, col, select

from service.claims.models import Claim, ClaimLine, PayerAdjudication
from service.claims.states import ADJUDICATED
from service.claims.x12 import model as x12
from service.directory.models import Payer
from service.patients.models import Coverage, Patient

_RELATIONSHIPS = frozenset({"01", "18", "19", "20", "21", "39", "40", "53", "G8"})


class SecondaryClaim(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def encounter_id(self) -> str: ...
    @property
    def payer_responsibility(self) -> str: ...


@dataclass(frozen=True)
class PriorPayers:
    other_payers: tuple[x12.OtherPayer, ...]
    # The 2430 loops per line of the secondary claim, keyed by its encounter service line id.
    lines: dict[str, tuple[x12.LineAdjudication, ...]] = field(default_factory=dict)


def _adjustments(values: Iterable[dict[str, Any]]) -> tuple[x12.Adjustment, ...]:
    return tuple(
        x12.Adjustment(
            a["group"],
            a["reason"],
            Decimal(a["amount"]),
            None if a.get("quantity") is None else Decimal(a["quantity"]),
        )
        for a in values
    )


def _by_id(session: Session, model: Any, ids: Iterable[str]) -> dict[str, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(wanted)))}


def prior_payers(session: Session, claims: Sequence[SecondaryClaim]) -> dict[str, PriorPayers]:
    """For the claims of a page that are not primary (the others are left out)."""
    others = [c for c in claims if c.payer_responsibility != "P"]
    if not others:
        return {}
    primaries: dict[str, Claim] = {}  # encounter id -> its latest answered primary claim
    for primary in session.exec(
        select(Claim)
        .where(
            col(Claim.encounter_id).in_(sorted({c.encounter_id for c in others})),
            Claim.payer_responsibility == "P",
            col(Claim.status).in_([s.value for s in ADJUDICATED]),
        )
        .order_by(col(Claim.created_at).desc(), col(Claim.id).desc())
    ):
        primaries.setdefault(primary.encounter_id, primary)
    primary_ids = sorted(p.id for p in primaries.values())
    decisions: dict[str, list[PayerAdjudication]] = defaultdict(list)
    service_lines: dict[str, str | None] = {}
    if primary_ids:
        for row in session.exec(
            select(PayerAdjudication)
            .where(
                col(PayerAdjudication.claim_id).in_(primary_ids),
                col(PayerAdjudication.cleared_by).is_(None),
            )
            .order_by(col(PayerAdjudication.recorded_at), col(PayerAdjudication.id))
        ):
            decisions[row.claim_id].append(row)
        service_lines = dict(
            session.execute(
                select(ClaimLine.id, ClaimLine.service_line_id).where(
                    col(ClaimLine.claim_id).in_(primary_ids)
                )
            ).all()
        )
    answered = [p for p in primaries.values() if decisions.get(p.id)]
    coverages: dict[str, Coverage] = _by_id(session, Coverage, (p.coverage_id for p in answered))
    payers: dict[str, Payer] = _by_id(session, Payer, (p.payer_id for p in answered))
    patients: dict[str, Patient] = _by_id(
        session,
        Patient,
        (
            p.patient_id
            for p in answered
            if p.coverage_id in coverages
            and (
                coverages[p.coverage_id].relationship == "18"
                or coverages[p.coverage_id].own_member_id
            )
        ),
    )
    found: dict[str, PriorPayers] = {}
    for claim in others:
        latest = primaries.get(claim.encounter_id)
        if latest is None or not decisions.get(latest.id):
            continue
        primary = latest
        coverage = coverages.get(primary.coverage_id)
        payer = payers.get(primary.payer_id)
        if coverage is None or payer is None:
            continue
        found[claim.id] = _prior(
            primary, decisions[primary.id], coverage, payer, patients, service_lines
        )
    return found


def _prior(
    primary: Claim,
    decisions: list[PayerAdjudication],
    coverage: Coverage,
    payer: Payer,
    patients: dict[str, Patient],
    service_lines: dict[str, str | None],
) -> PriorPayers:
    # 2330A: the card holder, suffix (NM107) included; a dependant with their own member id
    # holds their own card (SBR02 18).
    own = coverage.relationship == "18" or coverage.own_member_id
    if own:
        patient = patients[primary.patient_id]
        family, given, address = patient.family_name, patient.given_name, patient.address
        middle, suffix = patient.middle_name, patient.suffix
    else:
        sub = coverage.subscriber or {}
        family, given = sub.get("family_name", ""), sub.get("given_name", "")
        middle, suffix = sub.get("middle_name"), sub.get("suffix")
        address = sub.get("address")
    dates = [d.payment_date for d in decisions if d.payment_date]
    when: date = max(dates) if dates else primary.date_of_service
    lines: dict[str, tuple[x12.LineAdjudication, ...]] = {}
    for decision in decisions:
        for line in decision.lines:
            service_line_id = service_lines.get(line.get("claim_line_id") or "")
            if not service_line_id:
                continue
            units = Decimal(line["units"]) if line.get("units") is not None else None
            lines[service_line_id] = (
                *lines.get(service_line_id, ()),
                x12.LineAdjudication(
                    payer_id=payer.edi_payer_id,
                    paid_amount=Decimal(line["paid"]),
                    procedure_code=line["procedure_code"],
                    adjudication_date=when,
                    paid_units=units or Decimal(1),
                    modifiers=tuple(line.get("modifiers") or ()),
                    adjustments=_adjustments(line.get("adjustments") or ()),
                ),
            )
    other = x12.OtherPayer(
        payer=x12.Payer(
            name=payer.name, payer_id=payer.edi_payer_id, address=x12.address_from(payer.address)
        ),
        subscriber=x12.OtherSubscriber(
            member_id=coverage.member_id,
            name=x12.PersonName(family, given or "", middle or "", suffix or ""),
            address=x12.address_from(address),
        ),
        claim_filing_indicator=payer.claim_filing_indicator,
        relationship="18"
        if own
        else (coverage.relationship if coverage.relationship in _RELATIONSHIPS else "G8"),
        payer_responsibility="P",
        group_number=coverage.group_number,
        paid_amount=sum((Decimal(d.paid) for d in decisions), Decimal(0)),
        adjustments=tuple(a for d in decisions for a in _adjustments(d.adjustments)),
        # 2330B DTP*573 is required when no 2430 line adjudication is sent.
        adjudication_date=None if lines else when,
    )
    return PriorPayers((other,), lines)
