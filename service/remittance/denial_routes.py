"""REST routes: the denials queue (by CARC) and the denial work items (owner, follow-up,
appeal, write-off)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from service.api import tags
from service.api.deps import Paging
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import repository as claim_repository
from service.db import SessionDep
from service.remittance import denial_views, denials
from service.remittance.models import DenialItem as DenialWorkItem
from service.remittance.route_roles import Biller, Reader
from service.remittance.schemas import (
    DenialAppeal,
    DenialFilters,
    DenialQueue,
    DenialWorkFilters,
    DenialWorkItemPage,
    DenialWorkItemRead,
    DenialWorkItemUpdate,
    DenialWriteOff,
)

denial_queue = APIRouter(prefix="/api/v1/denials", tags=[tags.REMITTANCE])


@denial_queue.get(
    "",
    summary="Summarize denials by reason with suggested actions",
    responses=problem_responses(401, 403, 422),
)
def list_denials(
    session: SessionDep, user: Reader, filters: Annotated[DenialFilters, Query()]
) -> DenialQueue:
    """Denied and partially paid lines grouped by CARC (and RARC), with a suggested action."""
    groups = denials.denials(
        session,
        user.organization_id,
        payer_id=filters.payer_id,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    audit.record_many(
        session,
        user,
        action="query",
        resource_type="claim",
        rows=claim_repository.patient_ids(
            session, {i["claim_id"] for g in groups for i in g["items"]}
        ),
        detail="denials queue",
    )
    return DenialQueue.model_validate({"items": groups})


def _audit_items(
    session: Session, user: Principal, items: list[DenialWorkItem], action: str, detail: str
) -> None:
    audit.record_many(
        session,
        user,
        action=action,
        resource_type="denial_item",
        rows=[(i.id, i.patient_id) for i in items],
        detail=detail,
    )


@denial_queue.get(
    "/items", summary="List the denial work queue", responses=problem_responses(401, 403, 422)
)
def list_denial_items(
    session: SessionDep,
    user: Reader,
    paging: Paging,
    filters: Annotated[DenialWorkFilters, Query()],
) -> DenialWorkItemPage:
    """The denial work queue, one item per denied line (or claim) and CARC, oldest first:
    CARC/RARC text, patient and payer, amount, age, owner, follow-up date, status."""
    items = denials.list_items(
        session,
        user.organization_id,
        statuses=filters.status,
        owner_id=filters.owner_id,
        payer_id=filters.payer_id,
        follow_up_by=filters.follow_up_by,
        limit=paging.limit + 1,
        after=paging.cursor,
    )
    more = len(items) > paging.limit
    items = items[: paging.limit]
    _audit_items(session, user, items, "query", "denial work queue")
    return DenialWorkItemPage(
        items=denial_views.work_items(session, user, items),
        next_cursor=items[-1].id if more else None,
    )


@denial_queue.get(
    "/items/{item_id}",
    summary="Read a denial item and its history",
    responses=problem_responses(401, 403, 404),
)
def read_denial_item(item_id: str, session: SessionDep, user: Reader) -> DenialWorkItemRead:
    item = denials.get_item(session, user, item_id)
    _audit_items(session, user, [item], "read", "")
    return denial_views.work_items(session, user, [item])[0]


@denial_queue.patch(
    "/items/{item_id}",
    summary="Assign, schedule or annotate a denial item",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def update_denial_item(
    item_id: str, body: DenialWorkItemUpdate, session: SessionDep, user: Biller
) -> DenialWorkItemRead:
    """Owner, follow-up date, status (open, in_progress, resubmitted, appealed, closed) and a
    note; each change joins the item's history."""
    item = denials.update_item(
        session, user, item_id, body.model_dump(exclude_unset=True), at=datetime.now(UTC)
    )
    _audit_items(session, user, [item], "update", "denial item")
    return denial_views.work_items(session, user, [item])[0]


@denial_queue.post(
    "/items/{item_id}/appeal",
    summary="Record an appeal of a denial item",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def appeal_denial_item(
    item_id: str, body: DenialAppeal, session: SessionDep, user: Biller
) -> DenialWorkItemRead:
    """Marks the item appealed (the appeal itself goes to the payer outside this service)."""
    item = denials.appeal(session, user, item_id, note=body.note, at=datetime.now(UTC))
    _audit_items(session, user, [item], "update", "denial appealed")
    return denial_views.work_items(session, user, [item])[0]


@denial_queue.post(
    "/items/{item_id}/write-off",
    summary="Write off a denial item's amount",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def write_off_denial_item(
    item_id: str, body: DenialWriteOff, session: SessionDep, user: Biller
) -> DenialWorkItemRead:
    """Gives the denied amount up: a write_off entry on the patient ledger (insurance side of
    the encounter, no more than insurance still owes), and the item written_off."""
    item = denials.write_off(
        session, user, item_id, reason=body.reason, note=body.note, at=datetime.now(UTC)
    )
    _audit_items(session, user, [item], "update", "denial written off")
    return denial_views.work_items(session, user, [item])[0]
