"""REST routes for results under /api/v1/results, and CSV import under /api/v1/result-imports."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from service.api.deps import Paging, RoleGuard, set_etag
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.db import SessionDep
from service.errors import InvalidInput
from service.labtests.roles import RESULT_READERS, RESULT_WRITERS
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

router = APIRouter(prefix="/api/v1/results", tags=["lab"])
imports = APIRouter(prefix="/api/v1/result-imports", tags=["lab"])

Reader = Annotated[Principal, Depends(RoleGuard(RESULT_READERS))]
Writer = Annotated[Principal, Depends(RoleGuard(RESULT_WRITERS))]
# 400: malformed JSON body; 415: a body that is not JSON (RequestGuards).
ACTION = problem_responses(400, 401, 403, 404, 409, 412, 415, 422)


def _now() -> datetime:
    return datetime.now(UTC)


def to_read(row: Result) -> ResultRead:
    fields = {name: getattr(row, name) for name in ResultRead.model_fields if name != "current"}
    return ResultRead.model_validate({**fields, "current": row.current_key is not None})


@router.post("", status_code=201, responses=problem_responses(400, 401, 403, 404, 409, 415, 422))
def enter(data: ResultCreate, session: SessionDep, user: Writer, response: Response) -> ResultRead:
    """A value entered by hand; flags come from the component's range for the patient."""
    row = logic.enter_result(session, user, data, at=_now())
    response.headers["Location"] = f"{router.prefix}/{row.id}"
    set_etag(response, row.version)
    return to_read(row)


@router.get("", responses=problem_responses(401, 403, 422))
def list_results(
    session: SessionDep, user: Reader, paging: Paging, filters: Annotated[ResultFilters, Query()]
) -> ResultPage:
    page = logic.list_results(session, user, filters, limit=paging.limit, cursor=paging.cursor)
    return ResultPage(items=[to_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{result_id}", responses=problem_responses(401, 403, 404))
def read(result_id: str, session: SessionDep, user: Reader, response: Response) -> ResultRead:
    row = logic.get_result(session, user, result_id)
    set_etag(response, row.version)
    return to_read(row)


@router.get("/{result_id}/history", responses=problem_responses(401, 403, 404))
def history(result_id: str, session: SessionDep, user: Reader) -> list[ResultRead]:
    """Every value this component had on the specimen, oldest first (corrections keep history)."""
    return [to_read(r) for r in logic.history(session, user, result_id)]


@router.post("/{result_id}/notification", responses=ACTION)
def notify(
    result_id: str, data: Notification, session: SessionDep, user: Writer, response: Response
) -> ResultRead:
    """Records who was told of a critical value (and that the caller told them)."""
    row = logic.record_notification(session, user, result_id, data, at=_now())
    set_etag(response, row.version)
    return to_read(row)


@router.post("/verification", responses=ACTION)
def verify(data: Verification, session: SessionDep, user: Writer) -> list[ResultRead]:
    """Verify results (all or none). The verifier must be a different user than the one who
    entered each value: the same user gets 403."""
    return [to_read(r) for r in logic.verify_results(session, user, data.result_ids, at=_now())]


@router.post("/{result_id}/correction", status_code=201, responses=ACTION)
def correct(
    result_id: str, data: Correction, session: SessionDep, user: Writer, response: Response
) -> ResultRead:
    row = logic.correct_result(session, user, result_id, data, at=_now())
    response.headers["Location"] = f"{router.prefix}/{row.id}"
    return to_read(row)


@imports.post(
    "",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_results(
    request: Request,
    session: SessionDep,
    user: Writer,
    worklist_id: Annotated[str | None, Query(max_length=32)] = None,
) -> ImportReport:
    """CSV results (`accession,test_code,component_code,value,unit`, header row first), matched
    by accession + test code; all rows or none. Send `Content-Type: text/csv`."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The CSV must be UTF-8.") from None
    rows = await run_in_threadpool(
        logic.import_csv, session, user, text, worklist_id=worklist_id, at=_now()
    )
    return ImportReport(imported=len(rows), result_ids=[r.id for r in rows])


ROUTERS = [router, imports]
