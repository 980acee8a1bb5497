"""REST routes for results under /api/v1/results, and CSV import under /api/v1/result-imports."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from service import uploads
from service.api import tags
from service.api.deps import Paging, RoleGuard, set_etag
from service.api.idempotency import IdempotencyDep, UploadIdempotencyDep
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.db import SessionDep
from service.labtests.roles import RESULT_READERS, RESULT_WRITERS
from service.results import imports as result_imports
from service.results import logic
from service.results.models import Result
from service.results.schemas import (
    Correction,
    ImportReport,
    Notification,
    ResultCreate,
    ResultFilters,
    ResultPage,
    ResultRead,
    Verification,
)

router = APIRouter(prefix="/api/v1/results", tags=[tags.RESULTS])
imports = APIRouter(prefix="/api/v1/result-imports", tags=[tags.RESULTS])

Reader = Annotated[Principal, Depends(RoleGuard(RESULT_READERS))]
Writer = Annotated[Principal, Depends(RoleGuard(RESULT_WRITERS))]
# 400: malformed JSON body; 415: a body that is not JSON (RequestGuards).
ACTION = problem_responses(400, 401, 403, 404, 409, 412, 415, 422)


def _now() -> datetime:
    return datetime.now(UTC)


def _location(body: dict[str, str]) -> str:
    return f"{router.prefix}/{body['id']}"


def to_read(row: Result) -> ResultRead:
    fields = {name: getattr(row, name) for name in ResultRead.model_fields if name != "current"}
    return ResultRead.model_validate({**fields, "current": row.current_key is not None})


@router.post(
    "",
    summary="Enter a result",
    status_code=201,
    response_model=ResultRead,
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
def enter(
    data: ResultCreate,
    session: SessionDep,
    user: Writer,
    response: Response,
    idempotency: IdempotencyDep,
) -> ResultRead | Response:
    """A value entered by hand; flags come from the component's range for the patient."""
    if replay := idempotency.replay_or_claim(session, user.organization_id, _location):
        return replay
    row = logic.enter_result(session, user, data, at=_now())
    response.headers["Location"] = _location({"id": row.id})
    set_etag(response, row.version)
    body = to_read(row)
    idempotency.remember(session, 201, body)
    return body


@router.get("", summary="List results", responses=problem_responses(401, 403, 422))
def list_results(
    session: SessionDep, user: Reader, paging: Paging, filters: Annotated[ResultFilters, Query()]
) -> ResultPage:
    page = logic.list_results(
        session, user, filters, limit=paging.limit, cursor=paging.cursor, sort=paging.sort
    )
    return ResultPage(items=[to_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{result_id}", summary="Read a result", responses=problem_responses(401, 403, 404))
def read(result_id: str, session: SessionDep, user: Reader, response: Response) -> ResultRead:
    row = logic.get_result(session, user, result_id)
    set_etag(response, row.version)
    return to_read(row)


@router.get(
    "/{result_id}/history",
    summary="List a result's versions",
    responses=problem_responses(401, 403, 404),
)
def history(result_id: str, session: SessionDep, user: Reader) -> list[ResultRead]:
    """Every value this component had on the specimen, oldest first (corrections keep history)."""
    return [to_read(r) for r in logic.history(session, user, result_id)]


@router.post(
    "/{result_id}/notification",
    summary="Record who was told of a critical result",
    responses=ACTION,
)
def notify(
    result_id: str, data: Notification, session: SessionDep, user: Writer, response: Response
) -> ResultRead:
    """Records who was told of a critical value (and that the caller told them)."""
    row = logic.record_notification(session, user, result_id, data, at=_now())
    set_etag(response, row.version)
    return to_read(row)


@router.post(
    "/verification",
    summary="Verify results (by a user other than the one who entered them)",
    responses=ACTION,
)
def verify(data: Verification, session: SessionDep, user: Writer) -> list[ResultRead]:
    """Verify results (all or none). The verifier must be a different user than the one who
    entered each value: the same user gets 403."""
    return [to_read(r) for r in logic.verify_results(session, user, data.result_ids, at=_now())]


@router.post(
    "/{result_id}/correction",
    summary="Correct a verified result",
    status_code=201,
    response_model=ResultRead,
    responses=ACTION,
)
def correct(
    result_id: str,
    data: Correction,
    session: SessionDep,
    user: Writer,
    response: Response,
    idempotency: IdempotencyDep,
) -> ResultRead | Response:
    """A new value for a verified result (status `corrected`); the old one stays as history."""
    if replay := idempotency.replay_or_claim(session, user.organization_id, _location):
        return replay
    row = logic.correct_result(session, user, result_id, data, at=_now())
    response.headers["Location"] = _location({"id": row.id})
    body = to_read(row)
    idempotency.remember(session, 201, body)
    return body


@imports.post(
    "",
    summary="Import an instrument's results CSV",
    status_code=201,
    response_model=ImportReport,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": uploads.RAW_FILE, **uploads.FORM_BODY},
        }
    },
)
async def import_results(
    request: Request,
    session: SessionDep,
    user: Writer,
    idempotency: UploadIdempotencyDep,
    worklist_id: Annotated[str | None, Query(max_length=32)] = None,
) -> ImportReport | Response:
    """CSV results (`accession,test_code,component_code,value,unit`, header row first), matched
    by accession + test code; all rows or none. Send `Content-Type: text/csv`, or the file as
    the `file` field of a form (`curl -F file=@results.csv`)."""
    limit = uploads.limits(request.app).csv
    received = await uploads.receive(
        request.stream(),
        content_type=request.headers.get("content-type", ""),
        limit=limit,
        what="CSV",
    )
    try:
        idempotency.fingerprint_upload(received.sha256)
        replay = await run_in_threadpool(idempotency.replay_or_claim, session, user.organization_id)
        if replay is not None:
            return replay
        rows = await run_in_threadpool(
            result_imports.import_csv, session, user, received, worklist_id=worklist_id, at=_now()
        )
    finally:
        received.close()
    report = ImportReport(imported=len(rows), result_ids=[r.id for r in rows])
    await run_in_threadpool(idempotency.remember, session, 201, report)
    return report


ROUTERS = [router, imports]
