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


def owed_by_patient(
    session: Session, organization_id: str, *, by_age: bool, offset: int, limit: int
) -> list[tuple[str, Decimal, Decimal, Decimal, date | None]]:
    """(patient id, insurance pending, patient responsibility, credit, oldest date of service
    still owed on) of the patients who owe or are owed, the biggest total first (or the oldest
    date of service), `limit` of them from `offset`: summed, sorted and cut by the database,
    not row by row here. An encounter whose sums are zero is left out (paid off); credit is
    what the entries without an encounter hold."""
    insurance_sum = sa.func.sum(LedgerEntry.insurance_amount)
    own_sum = sa.func.sum(LedgerEntry.patient_amount)
    encounters = (
        sa.select(
            col(LedgerEntry.patient_id).label("patient_id"),
            col(LedgerEntry.encounter_id).label("encounter_id"),
            col(Encounter.date_of_service).label("served"),
            insurance_sum.label("insurance"),
            own_sum.label("own"),
        )
        .outerjoin(Encounter, col(Encounter.id) == col(LedgerEntry.encounter_id))
        .where(col(LedgerEntry.organization_id) == organization_id)
        .group_by(
            col(LedgerEntry.patient_id),
            col(LedgerEntry.encounter_id),
            col(Encounter.date_of_service),
        )
        # Rounded: SQLite sums NUMERIC as floating point, 0.1 + 0.2 - 0.3 is not 0 there.
        .having(sa.or_(sa.func.round(insurance_sum, 2) != 0, sa.func.round(own_sum, 2) != 0))
        .subquery()
    )
    e = encounters.c
    owed = e.encounter_id.is_not(None)
    money = sa.Numeric(14, 2)
    insurance = sa.func.sum(sa.case((owed, e.insurance), else_=0))
    patient = sa.func.sum(sa.case((owed, e.own), else_=0))
    credit = sa.func.sum(sa.case((owed, 0), else_=-(e.insurance + e.own)))
    oldest = sa.func.min(sa.case((owed, e.served)))
    query = (
        sa.select(
            e.patient_id,
            sa.type_coerce(insurance, money),
            sa.type_coerce(patient, money),
            sa.type_coerce(credit, money),
            sa.type_coerce(oldest, sa.Date),
        )
        .group_by(e.patient_id)
        .having(
            sa.or_(
                sa.func.round(insurance, 2) != 0,
                sa.func.round(patient, 2) != 0,
                sa.func.round(credit, 2) != 0,
            )
        )
    )
    if by_age:  # the oldest date of service first, patients owed only credit last
        query = query.order_by(sa.case((oldest.is_(None), 1), else_=0), oldest, e.patient_id)
    else:
        total = sa.func.sum(e.insurance + e.own)
        query = query.order_by(sa.func.round(total, 2).desc(), e.patient_id)
    cent = Decimal("0.01")
    return [
        (
            p,
            Decimal(i or ZERO).quantize(cent),
            Decimal(o or ZERO).quantize(cent),
            Decimal(c or ZERO).quantize(cent),
            d,
        )
        for p, i, o, c, d in session.execute(query.offset(offset).limit(limit))
    ]


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
