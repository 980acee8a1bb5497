"""Bookkeeping reports: balances, A/R aging, deposits, batch totals (tables for JSON/CSV/XLSX).

Money per claim is the sum of all its postings: a reversal (CLP02 22) carries negated amounts,
so a reversed payment and its reversal cancel out; a PLB recoupment that names the claim (WO,
72, FB ..., not L6 interest) takes its amount back off what the claim was paid. Insurance
balance = what the payer was billed - paid - adjustments - patient responsibility, where:
- a denied amount (any adjustment but PR and the contractual CO 45 / CO 253, on a claim that is
  denied or partially paid) is not an adjustment: it stays owed by the payer, in A/R, until
  the claim is worked;
- a secondary (or tertiary) claim, until its own 835, is owed what the primary payer left
  (the primary's patient responsibility once the primary has an 835, the charge before; its
  own 835 then accounts for the primary's part in CLP03 and OA 23), and the primary's patient
  responsibility is the secondary's to answer, not the patient's, once the secondary went out:
  coordination of benefits counts each dollar once.
Patient balance = the PR adjustments (no patient payments are recorded by this service).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.claims import repository as claim_repository
from service.claims.repository import Claim
from service.directory.models import Payer
from service.filters import Filter, apply_filters
from service.patients.models import Patient
from service.remittance.denials import WRITE_OFF
from service.remittance.models import (
    ClaimPosting,
    PostedAdjustment,
    ProviderAdjustment,
    RemittancePayment,
)

SENT = ("batched", "submitted", "accepted", "rejected", "paid", "partially_paid", "denied")
BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")
ZERO = Decimal("0.00")
COUNTS = frozenset({"claims", "claim_count", "entries"})


@dataclass
class Table:
    """One report: columns in order, rows of plain values, and the totals of money columns."""

    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    money: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    # False for a table whose rows are not to be added up (a month-end's lines): no TOTAL row.
    summed: bool = True

    @property
    def counted(self) -> list[str]:
        """Count columns (claims, entries) that the TOTAL row adds up beside the money."""
        return [c for c in self.columns if c in COUNTS]

    @property
    def totals(self) -> dict[str, Decimal | int]:
        if not self.summed:
            return {}
        counts: dict[str, Decimal | int] = {
            c: sum(int(r[c]) for r in self.rows) for c in self.counted
        }
        return counts | {c: sum((Decimal(r[c]) for r in self.rows), ZERO) for c in self.money}


# Provider-level adjustments that are interest paid on top of claims, not money of the claim.
INTEREST = frozenset({"L6"})
# A claim in these statuses still has its denied amounts to be worked (appeal, resubmission).
WORKABLE = frozenset({"denied", "partially_paid"})


@dataclass
class _Money:
    paid: Decimal = ZERO  # CLP04, less PLB recoupments naming the claim
    written_off: Decimal = ZERO  # contractual: CO 45, CO 253
    other: Decimal = ZERO  # every other CO, OA, PI adjustment (denials among them)
    patient: Decimal = ZERO  # PR
    billed: Decimal | None = None  # what the payer was billed, when not the claim's charge
    transferred: Decimal = ZERO  # of `patient`, what a secondary claim now answers for

    @property
    def patient_owes(self) -> Decimal:
        return self.patient - self.transferred

    def adjustments(self, status: str) -> Decimal:
        """What was adjusted off the claim for good: a workable claim's denials stay owed."""
        return self.written_off + (ZERO if status in WORKABLE else self.other)


def _claim_money(session: Session, organization_id: str) -> dict[str, _Money]:
    money: dict[str, _Money] = defaultdict(_Money)
    for claim_id, paid in session.execute(
        select(ClaimPosting.claim_id, sa.func.sum(ClaimPosting.paid))
        .where(ClaimPosting.organization_id == organization_id, col(ClaimPosting.matched))
        .group_by(col(ClaimPosting.claim_id))
    ):
        money[claim_id].paid = Decimal(paid)
    for claim_id, recouped in session.execute(
        select(ProviderAdjustment.claim_id, sa.func.sum(ProviderAdjustment.amount))
        .where(
            ProviderAdjustment.organization_id == organization_id,
            col(ProviderAdjustment.claim_id).is_not(None),
            col(ProviderAdjustment.reason).not_in(INTEREST),
        )
        .group_by(col(ProviderAdjustment.claim_id))
    ):
        money[claim_id].paid -= Decimal(recouped)
    for claim_id, group, reason, amount in session.execute(
        select(
            ClaimPosting.claim_id,
            PostedAdjustment.group_code,
            PostedAdjustment.reason,
            sa.func.sum(PostedAdjustment.amount),
        )
        .join(ClaimPosting, col(ClaimPosting.id) == col(PostedAdjustment.claim_posting_id))
        .where(ClaimPosting.organization_id == organization_id, col(ClaimPosting.matched))
        .group_by(
            col(ClaimPosting.claim_id),
            col(PostedAdjustment.group_code),
            col(PostedAdjustment.reason),
        )
    ):
        if group == "PR":
            money[claim_id].patient += Decimal(amount)
        elif (group, reason) in WRITE_OFF:
            money[claim_id].written_off += Decimal(amount)
        else:
            money[claim_id].other += Decimal(amount)
    return money


def _coordinate(claims: list[Claim], money: dict[str, _Money]) -> None:
    """Coordination of benefits: a non-primary claim is billed what the encounter's primary
    claim left, and that primary's patient responsibility moves to it (see the module)."""
    primaries = {c.encounter_id: c for c in claims if c.payer_responsibility == "P"}
    for claim in claims:
        primary = primaries.get(claim.encounter_id)
        if claim.payer_responsibility == "P" or primary is None or primary.id not in money:
            continue
        left = money[primary.id]
        if claim.id not in money:  # once it has an 835 of its own, its CLP03 and OA 23 tell
            money[claim.id].billed = left.patient
        left.transferred = left.patient


def _sent_money(session: Session, organization_id: str) -> tuple[list[Claim], dict[str, _Money]]:
    claims = _sent_claims(session, organization_id)
    money = _claim_money(session, organization_id)
    _coordinate(claims, money)
    return claims, money


def _owed(claim: Claim, m: _Money) -> tuple[Decimal, Decimal]:
    """(charge counted, what the payer still owes) for one claim. A secondary claim owed what
    the primary left counts no charge of its own: the encounter's charge is the primary's."""
    if m.billed is None:
        charge = Decimal(claim.total_charge)
        return charge, charge - m.paid - m.adjustments(claim.status) - m.patient
    return ZERO, m.billed - m.paid - m.adjustments(claim.status) - m.patient


def _sent_claims(session: Session, organization_id: str) -> list[Claim]:
    return claim_repository.claims_with_status(session, organization_id, SENT)


def _names(session: Session, organization_id: str, by: str) -> dict[str, str]:
    if by == "payer":
        return {
            p.id: p.name
            for p in session.exec(select(Payer).where(Payer.organization_id == organization_id))
        }
    return {
        p.id: p.mrn
        for p in session.exec(select(Patient).where(Patient.organization_id == organization_id))
    }


def _leading(by: str, label: str, rest: list[str]) -> list[str]:
    """Staff read the name first (issue 24: not a 32-hex id); the id stays, last, for joins."""
    names = ["patient_name", label] if by == "patient" else [label]
    return [*names, *rest, f"{by}_id"]


def _patient_names(session: Session, organization_id: str, by: str) -> dict[str, str]:
    if by != "patient":
        return {}
    rows = session.exec(
        select(Patient.id, Patient.family_name, Patient.given_name).where(
            Patient.organization_id == organization_id
        )
    ).all()
    return {i: ", ".join(n for n in (f, g) if n) for i, f, g in rows}


def balances(session: Session, organization_id: str, *, by: str) -> Table:
    claims, money = _sent_money(session, organization_id)
    names = _names(session, organization_id, by)
    patients = _patient_names(session, organization_id, by)
    rows: dict[str, dict[str, Any]] = {}
    for claim in claims:
        key = claim.payer_id if by == "payer" else claim.patient_id
        row = rows.setdefault(
            key,
            {
                f"{by}_id": key,
                "payer_name" if by == "payer" else "mrn": names.get(key, ""),
                **({"patient_name": patients.get(key, "")} if by == "patient" else {}),
                "claims": 0,
                "charges": ZERO,
                "paid": ZERO,
                "adjustments": ZERO,
                "patient_responsibility": ZERO,
                "insurance_balance": ZERO,
            },
        )
        m = money.get(claim.id, _Money())
        charge, owed = _owed(claim, m)
        row["claims"] += 1
        row["charges"] += charge
        row["paid"] += m.paid
        row["adjustments"] += m.adjustments(claim.status)
        row["patient_responsibility"] += m.patient_owes
        row["insurance_balance"] += owed
    label = "payer_name" if by == "payer" else "mrn"
    money_columns = [
        "charges",
        "paid",
        "adjustments",
        "patient_responsibility",
        "insurance_balance",
    ]
    return Table(
        f"Balances by {by}",
        _leading(by, label, ["claims", *money_columns]),
        sorted(rows.values(), key=lambda r: (str(r[label]), r[f"{by}_id"])),
        money_columns,
        {"by": by},
    )


def bucket(days: int) -> str:
    """0-30, 31-60, 61-90, 91-120, 120+ days (from the date of service or first submission)."""
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    if days <= 120:
        return "91-120"
    return "120+"


def aging(
    session: Session,
    organization_id: str,
    *,
    by: str,
    as_of: date,
    basis: str,
    local_date: Any,
) -> Table:
    """What payers owe (by=payer: insurance balance) or patients owe (by=patient: PR), aged
    from the date of service or of first submission (basis=submission), as of a date."""
    claims, money = _sent_money(session, organization_id)
    names = _names(session, organization_id, by)
    patients = _patient_names(session, organization_id, by)
    rows: dict[str, dict[str, Any]] = {}
    for claim in claims:
        m = money.get(claim.id, _Money())
        if by == "payer":
            owed = _owed(claim, m)[1]
            key = claim.payer_id
        else:
            owed = m.patient_owes
            key = claim.patient_id
        if owed == 0:
            continue
        if basis == "submission" and claim.first_submitted_at is not None:
            start = local_date(claim.first_submitted_at)
        else:
            start = claim.date_of_service
        if start > as_of:
            continue
        label = "payer_name" if by == "payer" else "mrn"
        row = rows.setdefault(
            key,
            {f"{by}_id": key, label: names.get(key, ""), "claims": 0}
            | ({"patient_name": patients.get(key, "")} if by == "patient" else {})
            | dict.fromkeys(BUCKETS, ZERO)
            | {"total": ZERO},
        )
        row["claims"] += 1
        row[bucket((as_of - start).days)] += owed
        row["total"] += owed
    label = "payer_name" if by == "payer" else "mrn"
    return Table(
        f"A/R aging by {by} as of {as_of.isoformat()}",
        _leading(by, label, ["claims", *BUCKETS, "total"]),
        sorted(rows.values(), key=lambda r: (str(r[label]), r[f"{by}_id"])),
        [*BUCKETS, "total"],
        {"by": by, "as_of": as_of.isoformat(), "basis": basis},
    )


DEPOSIT_FILTERS = (
    Filter("date_from", RemittancePayment.payment_date, "ge"),
    Filter("date_to", RemittancePayment.payment_date, "le"),
)


def deposits(
    session: Session, organization_id: str, *, date_from: date | None, date_to: date | None
) -> Table:
    """One row per 835 payment (BPR/TRN) for bank reconciliation: TRN02 is the deposit's key."""
    query = select(RemittancePayment).where(RemittancePayment.organization_id == organization_id)
    query = apply_filters(query, {"date_from": date_from, "date_to": date_to}, DEPOSIT_FILTERS)
    payments = list(
        session.exec(query.order_by(col(RemittancePayment.payment_date), col(RemittancePayment.id)))
    )
    claim_totals: dict[str, Decimal] = {
        payment_id: Decimal(total)
        for payment_id, total in session.execute(
            select(ClaimPosting.payment_id, sa.func.sum(ClaimPosting.paid))
            .where(ClaimPosting.organization_id == organization_id)
            .group_by(col(ClaimPosting.payment_id))
        )
    }
    rows = [
        {
            "trace_number": p.trace_number,
            "payment_date": p.payment_date,
            "payer_name": p.payer_name,
            "payer_identifier": p.payer_identifier,
            "payment_method": p.payment_method,
            "claim_count": p.claim_count,
            "claims_paid": claim_totals.get(p.id, ZERO),
            "provider_adjustments": Decimal(p.provider_adjustment_total),
            "deposit_amount": Decimal(p.paid_amount) * (-1 if p.credit_debit == "D" else 1),
            "file_id": p.file_id,
        }
        for p in payments
    ]
    money_columns = ["claims_paid", "provider_adjustments", "deposit_amount"]
    return Table(
        "Payments by deposit",
        [
            "trace_number",
            "payment_date",
            "payer_name",
            "payer_identifier",
            "payment_method",
            "claim_count",
            *money_columns,
            "file_id",
        ],
        rows,
        money_columns,
        {
            "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None,
        },
    )


def batch_totals(session: Session, organization_id: str) -> Table:
    """Per batch: what was billed and what its claims' postings came to so far."""
    money = _claim_money(session, organization_id)
    members: dict[str, list[str]] = defaultdict(list)
    for batch_id, claim_id in claim_repository.batch_members(session, organization_id):
        members[batch_id].append(claim_id)
    rows = []
    for batch in claim_repository.batches_of(session, organization_id):
        claims = [money.get(c, _Money()) for c in members[batch.id]]
        paid = sum((m.paid for m in claims), ZERO)
        adjusted = sum((m.written_off + m.other for m in claims), ZERO)
        patient = sum((m.patient for m in claims), ZERO)
        rows.append(
            {
                "batch_id": batch.id,
                "interchange_control_number": batch.interchange_control_number,
                "claim_type": batch.claim_type,
                "status": batch.status,
                "claim_count": batch.claim_count,
                "total_charge": Decimal(batch.total_charge),
                "paid": paid,
                "adjustments": adjusted,
                "patient_responsibility": patient,
                "outstanding": Decimal(batch.total_charge) - paid - adjusted - patient
                if batch.status != "cancelled"
                else ZERO,
            }
        )
    money_columns = ["total_charge", "paid", "adjustments", "patient_responsibility", "outstanding"]
    return Table(
        "Batch totals",
        [
            "batch_id",
            "interchange_control_number",
            "claim_type",
            "status",
            "claim_count",
            *money_columns,
        ],
        rows,
        money_columns,
    )
