"""GET /api/v1/audit-events: the trail, for auditors and admins (reading it is audited too)."""

from typing import Annotated

from fastapi import APIRouter, Query

from service.api import tags
from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.audit import logic
from service.audit.schemas import AuditEventFilters, AuditEventPage, AuditEventRead
from service.auth.logic import Principal
from service.auth.roles import Role
from service.db import SessionDep

router = APIRouter(prefix="/api/v1/audit-events", tags=[tags.AUDIT])

Auditor = Annotated[Principal, allow(Role.ADMIN, Role.AUDITOR)]


@router.get("", summary="List audit events", responses=problem_responses(401, 403, 422))
def list_audit_events(
    session: SessionDep,
    user: Auditor,
    paging: Paging,
    filters: Annotated[AuditEventFilters, Query()],
) -> AuditEventPage:
    page = logic.list_events(
        session,
        user.organization_id,
        limit=paging.limit,
        cursor=paging.cursor,
        sort=paging.sort,
        **filters.model_dump(exclude_none=True),
    )
    logic.record(
        session,
        user,
        action="query",
        resource_type="audit_event",
        patient_id=filters.patient_id,
        detail=f"{len(page.items)} events",
    )
    return AuditEventPage(
        items=[AuditEventRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )
