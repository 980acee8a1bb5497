"""REST routes for patients under /api/v1/patients."""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from service.api.deps import IfMatch, Paging, allow, merge_patch_body, set_etag
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.auth.roles import Role
from service.db import SessionDep
from service.patients import logic
from service.patients.schemas import (
    PatientCreate,
    PatientPage,
    PatientPatch,
    PatientRead,
    patient_read,
)

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])

Reader = Annotated[Principal, allow(*(r for r in Role))]
Writer = Annotated[Principal, allow(Role.ADMIN, Role.FRONT_DESK, Role.INTEGRATION)]


@router.post("", status_code=201, responses=problem_responses(400, 401, 403, 409, 415, 422))
def register(
    data: PatientCreate, session: SessionDep, user: Writer, response: Response
) -> PatientRead:
    patient = logic.register_patient(session, user.organization_id, data)
    response.headers["Location"] = f"{router.prefix}/{patient.id}"
    set_etag(response, patient.version)
    return patient_read(patient)


@router.get("", responses=problem_responses(401, 403, 422))
def list_patients(
    session: SessionDep,
    user: Reader,
    paging: Paging,
    mrn: Annotated[str | None, Query(max_length=50)] = None,
    family_name: Annotated[str | None, Query(max_length=100)] = None,
    birth_date: date | None = None,
) -> PatientPage:
    page = logic.list_patients(
        session,
        user.organization_id,
        limit=paging.limit,
        cursor=paging.cursor,
        mrn=mrn,
        family_name=family_name,
        birth_date=birth_date,
    )
    return PatientPage(items=[patient_read(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/{patient_id}", responses=problem_responses(401, 403, 404))
def read(patient_id: str, session: SessionDep, user: Reader, response: Response) -> PatientRead:
    patient = logic.get_patient(session, user.organization_id, patient_id)
    set_etag(response, patient.version)
    return patient_read(patient)


@router.patch(
    "/{patient_id}",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
    openapi_extra=merge_patch_body(PatientPatch),
)
def update(
    patient_id: str,
    patch: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    user: Writer,
    expected_version: IfMatch,
    response: Response,
) -> PatientRead:
    patient = logic.update_patient(
        session, user.organization_id, patient_id, patch, expected_version=expected_version
    )
    set_etag(response, patient.version)
    return patient_read(patient)


@router.delete("/{patient_id}", status_code=204, responses=problem_responses(401, 403, 404, 412))
def delete(
    patient_id: str, session: SessionDep, user: Writer, expected_version: IfMatch
) -> Response:
    logic.delete_patient(
        session,
        user.organization_id,
        patient_id,
        at=datetime.now(UTC),
        expected_version=expected_version,
    )
    return Response(status_code=204)
