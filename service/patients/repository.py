"""Queries for patients; every one is scoped to an organization and skips soft-deleted rows."""

from datetime import date

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.patients.models import Patient


def get_patient(session: Session, organization_id: str, patient_id: str) -> Patient | None:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.organization_id != organization_id or patient.deleted_at:
        return None
    return patient


def get_patient_by_mrn(session: Session, organization_id: str, mrn: str) -> Patient | None:
    return session.exec(
        select(Patient).where(Patient.organization_id == organization_id, Patient.mrn == mrn)
    ).first()


def patients_query(
    organization_id: str,
    *,
    mrn: str | None = None,
    family_name: str | None = None,
    birth_date: date | None = None,
) -> SelectOfScalar[Patient]:
    query = select(Patient).where(
        Patient.organization_id == organization_id, col(Patient.deleted_at).is_(None)
    )
    if mrn is not None:
        query = query.where(Patient.mrn == mrn)
    if family_name is not None:
        query = query.where(
            col(Patient.family_name).ilike(family_name.replace("%", r"\%") + "%", escape="\\")
        )
    if birth_date is not None:
        query = query.where(Patient.birth_date == birth_date)
    return query
