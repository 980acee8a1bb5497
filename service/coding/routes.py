"""REST routes for encounters and their coding under /api/v1/encounters."""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlmodel import Session

from service import crud
from service.api import tags
from service.api.deps import IfMatch, Paging, allow, merge_patch_body, set_etag
from service.api.idempotency import IdempotencyDep
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.auth.roles import Role
from service.codesets.search import display_code
from service.coding import logic
from service.coding.logic import ENCOUNTERS
from service.coding.models import Encounter
from service.coding.schemas import (
    CodingIn,
    EncounterCreate,
    EncounterFilters,
    EncounterPage,
    EncounterPatch,
    EncounterRead,
    EncounterReopen,
    ServiceLineIn,
    ServiceLineRead,
    StatusChange,
)
from service.db import SessionDep
from service.paging import CREATED, SortKey, parse_sort

router = APIRouter(prefix="/api/v1/encounters", tags=[tags.CODING])

# DESIGN.md: encounters and coding: admin, coder, integration rw; front_desk, biller, auditor r.
Reader = Annotated[
    Principal,
    allow(Role.ADMIN, Role.CODER, Role.INTEGRATION, Role.FRONT_DESK, Role.BILLER, Role.AUDITOR),
]
Writer = Annotated[Principal, allow(Role.ADMIN, Role.CODER, Role.INTEGRATION)]


def encounter_read(session: Session, encounter: Encounter) -> EncounterRead:
    lines = logic.lines_of(session, encounter.id)
    return EncounterRead.model_validate(
        crud.document(ENCOUNTERS, encounter)
        | {
            "id": encounter.id,
            "created_at": encounter.created_at,
            "updated_at": encounter.updated_at,
            "version": encounter.version,
            "status": encounter.status,
            "diagnoses": [display_code(c) for c in encounter.diagnoses],
            "service_lines": [
                ServiceLineRead.model_validate(line, from_attributes=True) for line in lines
            ],
            "total_charge": logic.total_charge(lines),
            "findings": encounter.findings,
        }
    )


def _answer(session: Session, encounter: Encounter, response: Response) -> EncounterRead:
    set_etag(response, encounter.version)
    return encounter_read(session, encounter)


def _location(body: dict[str, Any]) -> str:
    return f"{router.prefix}/{body['id']}"


@router.post(
    "",
    summary="Open an encounter",
    status_code=201,
    response_model=EncounterRead,
    responses=problem_responses(400, 401, 403, 415, 422),
)
def open_encounter(
    data: EncounterCreate,
    session: SessionDep,
    user: Writer,
    response: Response,
    idempotency: IdempotencyDep,
) -> EncounterRead | Response:
    if replay := idempotency.replay_or_claim(session, user.organization_id, _location):
        return replay
    encounter = logic.open_encounter(session, user, data)
    response.headers["Location"] = _location({"id": encounter.id})
    body = _answer(session, encounter, response)
    idempotency.remember(session, 201, body)
    return body


ENCOUNTER_SORTS = {
    "created_at": CREATED,
    "date_of_service": SortKey(Encounter.date_of_service, date.fromisoformat, date.isoformat),
}


@router.get(
    "",
    summary="List encounters",
    responses=problem_responses(401, 403, 422),
    description="Sort keys: created_at, date_of_service; default `-created_at` (newest first).",
)
def list_encounters(
    session: SessionDep,
    user: Reader,
    paging: Paging,
    filters: Annotated[EncounterFilters, Query()],
) -> Any:
    query = logic.encounters_query_filter(crud.base_query(ENCOUNTERS, user), filters)
    sort = parse_sort(paging.sort, ENCOUNTER_SORTS, "-created_at")
    page = crud.list_page(
        session, user, ENCOUNTERS, query, limit=paging.limit, cursor=paging.cursor, sort=sort
    )
    items = [encounter_read(session, e) for e in page.items]
    return EncounterPage(items=items, next_cursor=page.next_cursor)


@router.get(
    "/{encounter_id}",
    summary="Read an encounter with its coding and findings",
    responses=problem_responses(401, 403, 404),
)
def read_encounter(
    encounter_id: str, session: SessionDep, user: Reader, response: Response
) -> EncounterRead:
    return _answer(session, crud.get(session, user, ENCOUNTERS, encounter_id), response)


@router.patch(
    "/{encounter_id}",
    summary="Update an encounter (merge patch)",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
    openapi_extra=merge_patch_body(EncounterPatch),
)
def update_encounter(
    encounter_id: str,
    patch: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    user: Writer,
    expected_version: IfMatch,
    response: Response,
) -> EncounterRead:
    was = crud.get(session, user, ENCOUNTERS, encounter_id, audit_read=False).status
    encounter = logic.update_encounter(
        session, user, encounter_id, patch, expected_version=expected_version
    )
    answer = _answer(session, encounter, response)
    if was == "ready" and encounter.status != "ready":
        answer.notices.append(
            f"The encounter was ready; this change sent it back to {encounter.status}. "
            "Check it and set it ready again (POST .../status) before building its claim."
        )
    return answer


@router.delete(
    "/{encounter_id}",
    summary="Delete an open encounter",
    status_code=204,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def delete_encounter(
    encounter_id: str, session: SessionDep, user: Writer, expected_version: IfMatch
) -> Response:
    encounter = crud.get(session, user, ENCOUNTERS, encounter_id, audit_read=False)
    if encounter.status == "billed":
        raise logic.EncounterLocked(f"Encounter {encounter.id} is billed; void its claim.")
    crud.delete(
        session,
        user,
        ENCOUNTERS,
        encounter_id,
        at=datetime.now(UTC),
        expected_version=expected_version,
    )
    return Response(status_code=204)


@router.put(
    "/{encounter_id}/coding",
    summary="Code an encounter (diagnoses and service lines)",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
)
def code_encounter(
    encounter_id: str,
    data: CodingIn,
    session: SessionDep,
    user: Writer,
    expected_version: IfMatch,
    response: Response,
) -> EncounterRead:
    """Replaces the diagnoses (principal first) and service lines; the edits run again."""
    encounter = logic.code_encounter(
        session, user, encounter_id, data, expected_version=expected_version
    )
    return _answer(session, encounter, response)


@router.post(
    "/{encounter_id}/service-lines",
    summary="Add a service line to an encounter",
    status_code=201,
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
)
def add_service_line(
    encounter_id: str,
    data: ServiceLineIn,
    session: SessionDep,
    user: Writer,
    expected_version: IfMatch,
    response: Response,
) -> EncounterRead:
    logic.add_service_line(session, user, encounter_id, data, expected_version=expected_version)
    encounter = crud.get(session, user, ENCOUNTERS, encounter_id, audit_read=False)
    return _answer(session, encounter, response)


@router.post(
    "/{encounter_id}/status",
    summary="Move an encounter to open, coded or ready",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
)
def change_status(
    encounter_id: str,
    data: StatusChange,
    session: SessionDep,
    user: Writer,
    expected_version: IfMatch,
    response: Response,
) -> EncounterRead:
    """open -> coded -> ready; `ready` needs no error findings. `billed` comes from claims."""
    encounter = logic.change_status(
        session, user, encounter_id, data.status, expected_version=expected_version
    )
    return _answer(session, encounter, response)


Reopener = Annotated[Principal, allow(Role.ADMIN, Role.CODER, Role.BILLER)]


@router.post(
    "/{encounter_id}/reopen",
    summary="Reopen a billed or ready encounter for recoding",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
)
def reopen_encounter(
    encounter_id: str,
    data: EncounterReopen,
    session: SessionDep,
    user: Reopener,
    expected_version: IfMatch,
    response: Response,
) -> EncounterRead:
    """A billed encounter back to coded for correction (coders and billers; the reason is
    audited). Its claims are rebuilt (POST /api/v1/claims/{id}/rebuild) or replaced once it is
    re-coded and ready again."""
    encounter = logic.reopen_encounter(
        session, user, encounter_id, reason=data.reason, expected_version=expected_version
    )
    return _answer(session, encounter, response)
