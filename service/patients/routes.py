"""REST routes for patients under /api/v1/patients (and their possible duplicates)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import Session

from service.api import tags
from service.api.crud_routes import add_crud_routes
from service.api.deps import allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.roles import ALL_ROLES, Role
from service.db import SessionDep
from service.paging import MAX_LIMIT, SortKey
from service.patients import duplicates, repository
from service.patients.coverage_schemas import (
    CoverageFilters,
    CoveragePage,
    CoveragePatch,
    CoverageRead,
)
from service.patients.coverages import COVERAGES, filter_coverages
from service.patients.logic import PATIENTS
from service.patients.models import Patient
from service.patients.schemas import (
    DuplicateList,
    DuplicatePair,
    PatientFilters,
    PatientPage,
    PatientPatch,
    PatientRead,
    PatientWarning,
)

router = APIRouter(prefix="/api/v1/patients", tags=[tags.PATIENTS])
PATIENT_WRITERS = frozenset({Role.ADMIN, Role.FRONT_DESK, Role.INTEGRATION})
Reader = Annotated[Principal, allow(*ALL_ROLES)]


def _audit_shown(session: Session, user: Principal, patients: list[Patient]) -> None:
    """Every patient shown is a patient whose data was read."""
    audit.record_many(
        session,
        user,
        action="query",
        resource_type="patient",
        rows=[(p.id, p.id) for p in patients],
    )


# Before the CRUD routes: `/duplicates` would otherwise read as a patient id.
@router.get(
    "/duplicates",
    summary="List possible duplicate patients",
    responses=problem_responses(401, 403, 422),
)
def list_duplicates(
    session: SessionDep,
    user: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> DuplicateList:
    """Pairs of patients who may be one person: the same birth date and the same or a close
    name (one letter off, or the same first initial). For the front desk to review and merge
    by hand; nothing is changed here."""
    found = duplicates.pairs(session, user.organization_id, limit=limit)
    _audit_shown(session, user, [p for pair in found for p in (pair.first, pair.second)])
    return DuplicateList(
        items=[
            DuplicatePair(reason=pair.reason, patients=[to_read(pair.first), to_read(pair.second)])
            for pair in found
        ]
    )


def _warn_of_duplicates(session: Session, user: Principal, row: Any, body: Any) -> None:
    matches = duplicates.matches_for(session, row)
    _audit_shown(session, user, [m.patient for m in matches])
    body.warnings = [
        PatientWarning(
            code="possible-duplicate",
            patient_id=m.patient.id,
            mrn=m.patient.mrn,
            detail=f"Patient {m.patient.id} (MRN {m.patient.mrn}): {m.reason}.",
        )
        for m in matches
    ]


to_read = patient_read = add_crud_routes(
    router,
    PATIENTS,
    read_model=PatientRead,
    page_model=PatientPage,
    patch_model=PatientPatch,
    filter_model=PatientFilters,
    apply_filters=repository.filter_patients,
    readers=ALL_ROLES,
    writers=PATIENT_WRITERS,
    natural_key=("mrn", "mrn"),
    sort_keys={"family_name": SortKey(Patient.family_name), "mrn": SortKey(Patient.mrn)},
    on_created=_warn_of_duplicates,
)

coverages = APIRouter(prefix="/api/v1/coverages", tags=[tags.PATIENTS])

coverage_read = add_crud_routes(
    coverages,
    COVERAGES,
    read_model=CoverageRead,
    page_model=CoveragePage,
    patch_model=CoveragePatch,
    filter_model=CoverageFilters,
    apply_filters=filter_coverages,
    readers=ALL_ROLES,
    writers=PATIENT_WRITERS,
)
