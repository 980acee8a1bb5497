"""Queries for patients; every one is scoped to an organization."""

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.filters import Filter, apply_filters
from service.patients.models import Patient
from service.patients.schemas import PatientFilters


def get_patient_by_mrn(session: Session, organization_id: str, mrn: str) -> Patient | None:
    return session.exec(
        select(Patient).where(Patient.organization_id == organization_id, Patient.mrn == mrn)
    ).first()


PATIENT_FILTERS = (
    Filter("mrn", Patient.mrn),
    Filter("family_name", Patient.family_name, "prefix"),
    Filter("birth_date", Patient.birth_date),
)


def filter_patients(query: SelectOfScalar[Any], filters: PatientFilters) -> SelectOfScalar[Any]:
    return apply_filters(query, filters, PATIENT_FILTERS, blank_is_a_value=True)


def patients_by_id(
    session: Session, organization_id: str, ids: Iterable[str]
) -> dict[str, Patient]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(Patient).where(
        Patient.organization_id == organization_id, col(Patient.id).in_(wanted)
    )
    return {p.id: p for p in session.exec(query)}


def get_patient(session: Session, organization_id: str, patient_id: str) -> Patient | None:
    row = session.get(Patient, patient_id)
    return row if row is not None and row.organization_id == organization_id else None
