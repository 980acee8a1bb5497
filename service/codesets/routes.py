"""REST routes for code search, lookup and validation under /api/v1/codes (every role reads).

Code sets are not patient data, so these reads are not audited.
"""

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlmodel import Session

from service.api.deps import allow
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.auth.roles import Role
from service.codesets import logic
from service.codesets.schemas import (
    CodeRead,
    CodeSearchRead,
    CodeValidateRead,
    CodeValidateRequest,
    code_read,
    search_read,
    validate_read,
)
from service.codesets.search import MAX_LIMIT
from service.db import ReadSessionDep, run_read
from service.schemas_common import IsoDate

router = APIRouter(prefix="/api/v1/codes", tags=["codes"])

# Code sets are not patient data: no audit row, so a read-only session (no write lock). The
# routes are async and do their work in one worker thread (run_read): fewer thread hops.
Reader = Annotated[Principal, allow(*Role, read_only=True)]
_DATE_HELP = "Date of service (YYYY-MM-DD); default today in the organization's time zone"


def _on(session: Session, user: Principal, on: date | None) -> date:
    return on or logic.local_date(session, user.organization_id, datetime.now(UTC))


def _validate(session: Session, user: Principal, data: CodeValidateRequest) -> CodeValidateRead:
    on = _on(session, user, data.date)
    checks = [logic.CodeCheck(item.system, item.code) for item in data.codes]
    return validate_read(on, logic.validate_codes(session, checks, on))


def _search(
    session: Session, user: Principal, system: str, q: str, on: date | None, limit: int
) -> CodeSearchRead:
    day = _on(session, user, on)
    return search_read(logic.search_codes(session, system, q, day, limit))


def _read(session: Session, user: Principal, system: str, code: str, on: date | None) -> CodeRead:
    day = _on(session, user, on)
    return code_read(logic.get_code(session, system, code, day))


@router.post("/validate", responses=problem_responses(400, 401, 403, 415, 422))
async def validate(
    data: CodeValidateRequest, session: ReadSessionDep, user: Reader
) -> CodeValidateRead:
    return await run_read(session, _validate, user, data)


@router.get("/{system}", responses=problem_responses(401, 403, 404, 422))
async def search(
    system: str,
    session: ReadSessionDep,
    user: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    on: Annotated[IsoDate | None, Query(alias="date", description=_DATE_HELP)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> CodeSearchRead:
    """Typeahead: the exact code, then codes starting with `q`, then titles with every word."""
    return await run_read(session, _search, user, system, q, on, limit)


@router.get("/{system}/{code}", responses=problem_responses(401, 403, 404, 422))
async def read(
    system: str,
    code: Annotated[str, Path(max_length=40)],
    session: ReadSessionDep,
    user: Reader,
    on: Annotated[IsoDate | None, Query(alias="date", description=_DATE_HELP)] = None,
) -> CodeRead:
    return await run_read(session, _read, user, system, code, on)
