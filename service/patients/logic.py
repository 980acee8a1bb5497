"""Patients as a record: MRN unique per organization; reads and writes audited (PHI)."""

from typing import Any

from sqlmodel import Session

from service import crud
from service.auth.logic import Principal
from service.errors import Conflict, NotFound
from service.patients import repository
from service.patients.models import Patient
from service.patients.schemas import PatientCreate


class PatientNotFound(NotFound):
    code = "patient-not-found"


class PatientMrnTaken(Conflict):
    code = "patient-mrn-taken"


def _check(session: Session, actor: Principal, data: PatientCreate, row: Any) -> None:
    if row is not None and row.mrn == data.mrn:
        return  # the patient keeps the MRN it holds: no one else can have taken it
    other = repository.get_patient_by_mrn(session, actor.organization_id, data.mrn)
    if other is not None and (row is None or other.id != row.id):
        raise PatientMrnTaken(f"MRN {data.mrn} belongs to patient {other.id} already.")


PATIENTS: crud.Resource[Patient, PatientCreate] = crud.Resource(
    name="patient",
    model=Patient,
    create_schema=PatientCreate,
    check=_check,
    patient_id=lambda row: row.id,
    phi=True,
    not_found=PatientNotFound,
    json_fields=("address",),
)


def get_patient(session: Session, actor: Principal, patient_id: str) -> Patient:
    return crud.get(session, actor, PATIENTS, patient_id)


def register_patient(session: Session, actor: Principal, data: PatientCreate) -> Patient:
    return crud.create(session, actor, PATIENTS, data)
