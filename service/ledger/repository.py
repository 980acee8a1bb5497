"""Reads of the ledger: entries and the balances summed from them (nothing is stored twice)."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.claims.models import Claim
from service.coding.models import Encounter
from service.filters import Filter, apply_filters
from service.ledger.models import LedgerEntry

ZERO = Decimal("0.00")


def _sums(query: Any, session: Session) -> tuple[Decimal, Decimal]:
    insurance, patient = session.execute(query).one()
    return Decimal(insurance or ZERO), Decimal(patient or ZERO)


def encounter_balance(
    session: Session, organization_id: str, encounter_id: str
) -> tuple[Decimal, Decimal]:
    """(what insurance owes, what the patient owes) on one encounter."""
    return _sums(
        sa.select(
            sa.func.sum(LedgerEntry.insurance_amount), sa.func.sum(LedgerEntry.patient_amount)
        ).where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.encounter_id) == encounter_id,
        ),
        session,
    )


def credit(session: Session, organization_id: str, patient_id: str) -> Decimal:
    """The patient's unapplied credit (>= 0): what entries without an encounter hold."""
    _, held = _sums(
        sa.select(
            sa.func.sum(LedgerEntry.insurance_amount), sa.func.sum(LedgerEntry.patient_amount)
        ).where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.patient_id) == patient_id,
            col(LedgerEntry.encounter_id).is_(None),
        ),
        session,
    )
    return -held


def encounter_payer(session: Session, organization_id: str, encounter_id: str) -> str | None:
    """The payer of the encounter's primary claim (the one insurance balances belong to)."""
    return session.exec(
        select(Claim.payer_id)
        .where(
            Claim.organization_id == organization_id,
            Claim.encounter_id == encounter_id,
            Claim.payer_responsibility == "P",
        )
        .order_by(col(Claim.created_at))
    ).first()


def reversal_of(session: Session, entry_id: str) -> LedgerEntry | None:
    return session.exec(
        select(LedgerEntry).where(LedgerEntry.reverses_entry_id == entry_id)
    ).first()


ENTRY_FILTERS = (
    Filter("patient_id", LedgerEntry.patient_id),
    Filter("encounter_id", LedgerEntry.encounter_id),
    Filter("date_from", LedgerEntry.entry_date, "ge"),
    Filter("date_to", LedgerEntry.entry_date, "le"),
    Filter("kinds", LedgerEntry.kind, "in"),
)


def list_entries(
    session: Session,
    organization_id: str,
    *,
    patient_id: str | None = None,
    encounter_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    kinds: Sequence[str] = (),
) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.organization_id == organization_id)
    given = {
        "patient_id": patient_id,
        "encounter_id": encounter_id,
        "date_from": date_from,
        "date_to": date_to,
        "kinds": kinds,
    }
    query = apply_filters(query, given, ENTRY_FILTERS, blank_is_a_value=True)
    return list(session.exec(query.order_by(col(LedgerEntry.at), col(LedgerEntry.id))))


def balances_by_encounter(
    session: Session,
    organization_id: str,
    *,
    patient_id: str | None = None,
    as_of: date | None = None,
) -> list[tuple[str, str | None, Decimal, Decimal]]:
    """(patient id, encounter id or None for credit, insurance, patient) per encounter."""
    query = sa.select(
        col(LedgerEntry.patient_id),
        col(LedgerEntry.encounter_id),
        sa.func.sum(LedgerEntry.insurance_amount),
        sa.func.sum(LedgerEntry.patient_amount),
    ).where(col(LedgerEntry.organization_id) == organization_id)
    if patient_id is not None:
        query = query.where(col(LedgerEntry.patient_id) == patient_id)
    if as_of is not None:
        query = query.where(col(LedgerEntry.entry_date) <= as_of)
    query = query.group_by(col(LedgerEntry.patient_id), col(LedgerEntry.encounter_id)).order_by(
        col(LedgerEntry.patient_id), col(LedgerEntry.encounter_id)
    )
    return [(p, e, Decimal(i or ZERO), Decimal(o or ZERO)) for p, e, i, o in session.execute(query)]


def balances_with_service_dates(
    session: Session, organization_id: str
) -> list[tuple[str, str | None, date | None, Decimal, Decimal]]:
    """As balances_by_encounter, with each encounter's date of service joined in the same
    statement (a page over thousands of encounters, not a query per 500 of them)."""
    query = (
        sa.select(
            col(LedgerEntry.patient_id),
            col(LedgerEntry.encounter_id),
            col(Encounter.date_of_service),
            sa.func.sum(LedgerEntry.insurance_amount),
            sa.func.sum(LedgerEntry.patient_amount),
        )
        .outerjoin(Encounter, col(Encounter.id) == col(LedgerEntry.encounter_id))
        .where(col(LedgerEntry.organization_id) == organization_id)
        .group_by(
            col(LedgerEntry.patient_id),
            col(LedgerEntry.encounter_id),
            col(Encounter.date_of_service),
        )
    )
    rows = session.execute(query)
    return [(p, e, d, Decimal(i or ZERO), Decimal(o or ZERO)) for p, e, d, i, o in rows]


def dates_of_service(session: Session, encounter_ids: Sequence[str]) -> dict[str, date]:
    found: dict[str, date] = {}
    ids = sorted(set(encounter_ids))
    for start in range(0, len(ids), 500):
        for encounter_id, day in session.execute(
            sa.select(col(Encounter.id), col(Encounter.date_of_service)).where(
                col(Encounter.id).in_(ids[start : start + 500])
            )
        ):
            found[encounter_id] = day
    return found
