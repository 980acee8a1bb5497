"""REST routes for worklist templates and worklists: build, items, status, CSV export, controls."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import Session

from service.api import tags
from service.api.crud_routes import add_crud_routes
from service.api.deps import Paging, RoleGuard, set_etag
from service.api.idempotency import IdempotencyDep
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.db import SessionDep
from service.labtests.roles import WORKLIST_READERS, WORKLIST_WRITERS
from service.schemas_common import page_of, patch_of
from service.worklists import export as worklist_file
from service.worklists import logic
from service.worklists.models import Worklist
from service.worklists.repository import ItemView
from service.worklists.schemas import (
    ControlAcceptance,
    ControlCreate,
    ControlRead,
    ItemAdd,
    ReservedPosition,
    WorklistBuild,
    WorklistFilters,
    WorklistItemRead,
    WorklistPage,
    WorklistRead,
    WorklistSummary,
    WorklistTemplateCreate,
    WorklistTemplateFilters,
    WorklistTemplateRead,
)

templates = APIRouter(prefix="/api/v1/worklist-templates", tags=[tags.WORKLISTS])
router = APIRouter(prefix="/api/v1/worklists", tags=[tags.WORKLISTS])

template_read = add_crud_routes(
    templates,
    logic.TEMPLATES,
    read_model=WorklistTemplateRead,
    page_model=page_of(WorklistTemplateRead),
    patch_model=patch_of(WorklistTemplateCreate),
    filter_model=WorklistTemplateFilters,
    apply_filters=logic.filter_templates,
    readers=WORKLIST_READERS,
    writers=WORKLIST_WRITERS,
    default_sort="created_at",
)

Reader = Annotated[Principal, Depends(RoleGuard(WORKLIST_READERS))]
Writer = Annotated[Principal, Depends(RoleGuard(WORKLIST_WRITERS))]
# 400: malformed JSON body; 415: a body that is not JSON (RequestGuards).
ACTION = problem_responses(400, 401, 403, 404, 409, 412, 415, 422)


def _now() -> datetime:
    return datetime.now(UTC)


def _read(worklist: Worklist, items: list[ItemView]) -> WorklistRead:
    return WorklistRead(
        id=worklist.id,
        template_id=worklist.template_id,
        name=worklist.name,
        bench=worklist.bench,
        instrument=worklist.instrument,
        test_ids=worklist.test_ids,
        layout=worklist.layout,
        capacity=worklist.capacity,
        reserved=[ReservedPosition.model_validate(r) for r in worklist.reserved],
        status=worklist.status,
        built_by=worklist.built_by,
        completed_at=worklist.completed_at,
        items=[
            WorklistItemRead(
                id=v.item.id,
                position=v.item.position,
                specimen_test_id=v.item.specimen_test_id,
                specimen_id=v.item.specimen_id,
                accession=v.accession,
                lab_test_id=v.item.lab_test_id,
                test_code=v.test_code,
                priority=v.priority,
            )
            for v in items
        ],
        created_at=worklist.created_at,
        updated_at=worklist.updated_at,
        version=worklist.version,
    )


def _full(session: Session, user: Principal, worklist_id: str, response: Response) -> WorklistRead:
    worklist, items = logic.read_worklist(session, user, worklist_id)
    set_etag(response, worklist.version)
    return _read(worklist, items)


def _location(body: dict[str, Any]) -> str:
    return f"{router.prefix}/{body['id']}"


@router.post(
    "",
    summary="Build a worklist from a template",
    status_code=201,
    response_model=WorklistRead,
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
def build(
    data: WorklistBuild,
    session: SessionDep,
    user: Writer,
    response: Response,
    idempotency: IdempotencyDep,
) -> WorklistRead | Response:
    """Build from the template's rules: waiting specimen-tests, STAT first, then oldest
    collection, up to capacity (reserved control/blank/calibrator positions left free)."""
    if replay := idempotency.replay_or_claim(session, user.organization_id, _location):
        return replay
    worklist = logic.build_worklist(session, user, data, at=_now())
    response.headers["Location"] = _location({"id": worklist.id})
    read = _full(session, user, worklist.id, response)
    idempotency.remember(session, 201, read)
    return read


@router.get("", summary="List worklists", responses=problem_responses(401, 403, 422))
def list_worklists(
    session: SessionDep, user: Reader, paging: Paging, filters: Annotated[WorklistFilters, Query()]
) -> WorklistPage:
    page = logic.list_worklists(
        session, user, filters, limit=paging.limit, cursor=paging.cursor, sort=paging.sort
    )
    return WorklistPage(
        items=[WorklistSummary.model_validate(w) for w in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{worklist_id}",
    summary="Read a worklist with its positions",
    responses=problem_responses(401, 403, 404),
)
def read(worklist_id: str, session: SessionDep, user: Reader, response: Response) -> WorklistRead:
    return _full(session, user, worklist_id, response)


@router.post(
    "/{worklist_id}/items",
    summary="Place a specimen's test on a worklist",
    status_code=201,
    response_model=WorklistRead,
    responses=ACTION,
)
def add_item(
    worklist_id: str,
    data: ItemAdd,
    session: SessionDep,
    user: Writer,
    response: Response,
    idempotency: IdempotencyDep,
) -> WorklistRead | Response:
    if replay := idempotency.replay_or_claim(session, user.organization_id):
        return replay
    logic.add_item(session, user, worklist_id, data, at=_now())
    read = _full(session, user, worklist_id, response)
    idempotency.remember(session, 201, read)
    return read


@router.delete(
    "/{worklist_id}/items/{item_id}",
    summary="Take an item off a worklist",
    status_code=204,
    responses=ACTION,
)
def remove_item(worklist_id: str, item_id: str, session: SessionDep, user: Writer) -> Response:
    logic.remove_item(session, user, worklist_id, item_id, at=_now())
    return Response(status_code=204)


@router.post("/{worklist_id}/start", summary="Start a worklist's run", responses=ACTION)
def start(worklist_id: str, session: SessionDep, user: Writer, response: Response) -> WorklistRead:
    logic.change_status(session, user, worklist_id, "in_progress", at=_now())
    return _full(session, user, worklist_id, response)


@router.post("/{worklist_id}/completion", summary="Complete a worklist", responses=ACTION)
def complete(
    worklist_id: str, session: SessionDep, user: Writer, response: Response
) -> WorklistRead:
    """Completed: its specimen-tests without results may be placed on a new worklist."""
    logic.change_status(session, user, worklist_id, "completed", at=_now())
    return _full(session, user, worklist_id, response)


@router.get(
    "/{worklist_id}/export",
    summary="Export a worklist as CSV for the instrument",
    responses={**problem_responses(401, 403, 404), 200: {"content": {"text/csv": {}}}},
)
def export(worklist_id: str, session: SessionDep, user: Reader) -> Response:
    """CSV for the instrument and the bench: position, kind, accession, patient_name,
    birth_date, test_code, loinc, priority, control_material; named like
    `worklist-A1C-2026-12-06-1.csv` (test or bench, local day, run of the day)."""
    worklist, text = worklist_file.export_csv(session, user, worklist_id)
    filename = worklist_file.export_filename(session, user, worklist)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/{worklist_id}/controls",
    summary="Record a control result for a worklist's run",
    status_code=201,
    response_model=ControlRead,
    responses=ACTION,
)
def record_control(
    worklist_id: str,
    data: ControlCreate,
    session: SessionDep,
    user: Writer,
    idempotency: IdempotencyDep,
) -> ControlRead | Response:
    """A control result of this run; out of range blocks verification of its patient results."""
    if replay := idempotency.replay_or_claim(session, user.organization_id):
        return replay
    control = ControlRead.model_validate(
        logic.record_control(session, user, worklist_id, data, at=_now())
    )
    idempotency.remember(session, 201, control)
    return control


@router.get(
    "/{worklist_id}/controls",
    summary="List a worklist's control results",
    responses=problem_responses(401, 403, 404),
)
def list_controls(worklist_id: str, session: SessionDep, user: Reader) -> list[ControlRead]:
    return [ControlRead.model_validate(c) for c in logic.list_controls(session, user, worklist_id)]


@router.post(
    "/{worklist_id}/controls/{control_id}/acceptance",
    summary="Accept an out-of-range control with a note",
    responses=ACTION,
)
def accept_control(
    worklist_id: str, control_id: str, data: ControlAcceptance, session: SessionDep, user: Writer
) -> ControlRead:
    row = logic.accept_control(session, user, worklist_id, control_id, data.note, at=_now())
    return ControlRead.model_validate(row)


ROUTERS = [templates, router]
