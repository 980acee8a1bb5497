"""Use cases for patients: register, read, list, update (merge patch), soft delete."""

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.merge_patch import apply_merge_patch
from service.paging import Page, fetch_page
from service.patients import repository
from service.patients.models import Patient
from service.patients.schemas import PatientCreate, patient_document
from service.records import bump_version


class PatientNotFound(NotFound):
    code = "patient-not-found"


class PatientMrnTaken(Conflict):
    code = "patient-mrn-taken"


def _apply(patient: Patient, data: PatientCreate) -> None:
    patient.mrn = data.mrn
    patient.family_name, patient.given_name = data.family_name, data.given_name
    patient.middle_name, patient.suffix = data.middle_name, data.suffix
    patient.birth_date, patient.sex, patient.phone = data.birth_date, data.sex, data.phone
    address = data.address
    patient.address_line1 = address.line1 if address else None
    patient.address_line2 = address.line2 if address else None
    patient.city = address.city if address else None
    patient.state = address.state if address else None
    patient.postal_code = address.postal_code if address else None


def _check_mrn_free(session: Session, organization_id: str, mrn: str, patient_id: str) -> None:
    other = repository.get_patient_by_mrn(session, organization_id, mrn)
    if other is not None and other.id != patient_id:
        raise PatientMrnTaken(f"MRN {mrn} belongs to patient {other.id} already.")


def register_patient(session: Session, organization_id: str, data: PatientCreate) -> Patient:
    patient = Patient(organization_id=organization_id)  # type: ignore[call-arg]  # _apply fills it
    _check_mrn_free(session, organization_id, data.mrn, patient.id)
    _apply(patient, data)
    session.add(patient)
    session.flush()
    return patient


def get_patient(session: Session, organization_id: str, patient_id: str) -> Patient:
    patient = repository.get_patient(session, organization_id, patient_id)
    if patient is None:
        raise PatientNotFound(f"No patient {patient_id}.")
    return patient


def list_patients(
    session: Session,
    organization_id: str,
    *,
    limit: int,
    cursor: str | None,
    mrn: str | None = None,
    family_name: str | None = None,
    birth_date: date | None = None,
) -> Page[Patient]:
    query = repository.patients_query(
        organization_id, mrn=mrn, family_name=family_name, birth_date=birth_date
    )
    return fetch_page(session, query, Patient.id, limit=limit, cursor=cursor)


def validation_error(exc: ValidationError) -> InvalidInput:
    """Pydantic errors of a merged document as field errors with JSON Pointers."""
    errors = [
        FieldError("/" + "/".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()
    ]
    return InvalidInput("The request has invalid fields.", errors=errors)


def update_patient(
    session: Session,
    organization_id: str,
    patient_id: str,
    patch: dict[str, Any],
    *,
    expected_version: int | None,
) -> Patient:
    patient = get_patient(session, organization_id, patient_id)
    merged = apply_merge_patch(patient_document(patient), patch)
    try:
        data = PatientCreate.model_validate(merged)
    except ValidationError as exc:
        raise validation_error(exc) from None
    if data.mrn != patient.mrn:
        _check_mrn_free(session, organization_id, data.mrn, patient.id)
    bump_version(session, patient, expected_version)
    _apply(patient, data)
    session.add(patient)
    session.flush()
    return patient


def delete_patient(
    session: Session,
    organization_id: str,
    patient_id: str,
    *,
    at: datetime,
    expected_version: int | None,
) -> Patient:
    patient = get_patient(session, organization_id, patient_id)
    bump_version(session, patient, expected_version)
    patient.deleted_at = at
    session.add(patient)
    session.flush()
    return patient
