"""Webhook subscriptions of the caller's organization, and their delivery log."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.api import tags
from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.roles import Role
from service.db import SessionDep
from service.fhir.http import (
    FHIR_JSON,
    FhirResponse,
    FhirRoute,
    base_url,
    check_format,
    read_json,
)
from service.net import check_url
from service.outbox import fhir as subscription_fhir
from service.outbox import subscriptions
from service.outbox.models import Subscription
from service.outbox.schemas import (
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookRead,
)
from service.settings import get_settings

router = APIRouter(prefix="/api/v1/webhooks", tags=[tags.NOTIFICATIONS])

# An integration engine may subscribe itself; auditors may look.
Manager = Annotated[Principal, allow(Role.ADMIN, Role.INTEGRATION)]
Reader = Annotated[Principal, allow(Role.ADMIN, Role.INTEGRATION, Role.AUDITOR)]


def webhook_read(row: Subscription) -> WebhookRead:
    return WebhookRead(
        id=row.id,
        url=row.url,
        events=row.events.split(","),
        active=row.active,
        consecutive_failures=row.consecutive_failures,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
    )


def _audit(session: Session, user: Principal, row: Subscription, detail: str) -> None:
    audit.record(
        session,
        user,
        action="update",
        resource_type="subscription",
        resource_id=row.id,
        detail=detail,
    )


@router.post(
    "",
    summary="Register a webhook",
    status_code=201,
    responses=problem_responses(400, 401, 403, 415, 422),
)
def create_webhook(data: WebhookCreate, session: SessionDep, user: Manager) -> WebhookCreated:
    check_url(str(data.url), allow_private=get_settings().allow_private_webhook_addresses)
    row = subscriptions.create_webhook(session, user.organization_id, data)
    _audit(session, user, row, f"webhook created for {row.events}")
    return WebhookCreated(**webhook_read(row).model_dump(), secret=row.secret)


@router.get("", summary="List webhooks", responses=problem_responses(401, 403, 422))
def list_webhooks(session: SessionDep, user: Reader, paging: Paging) -> WebhookPage:
    page = subscriptions.list_subscriptions(
        session,
        user.organization_id,
        kind="webhook",
        limit=paging.limit,
        cursor=paging.cursor,
        sort=paging.sort,
    )
    return WebhookPage(items=[webhook_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{webhook_id}", summary="Read a webhook", responses=problem_responses(401, 403, 404))
def get_webhook(webhook_id: str, session: SessionDep, user: Reader) -> WebhookRead:
    return webhook_read(
        subscriptions.get_subscription(session, user.organization_id, webhook_id, kind="webhook")
    )


@router.post(
    "/{webhook_id}/deactivation",
    summary="Turn a webhook off",
    responses=problem_responses(401, 403, 404),
)
def deactivate_webhook(webhook_id: str, session: SessionDep, user: Manager) -> WebhookRead:
    row = subscriptions.get_subscription(session, user.organization_id, webhook_id, kind="webhook")
    subscriptions.set_active(session, row, False, at=datetime.now(UTC), reason="turned off")
    _audit(session, user, row, "deactivated")
    return webhook_read(row)


@router.post(
    "/{webhook_id}/activation",
    summary="Turn a webhook back on",
    responses=problem_responses(401, 403, 404, 422),
)
def activate_webhook(webhook_id: str, session: SessionDep, user: Manager) -> WebhookRead:
    """After a failure disabled it and the receiver is fixed: deliveries start again with the
    next event (the failed ones stay failed, in the log)."""
    row = subscriptions.get_subscription(session, user.organization_id, webhook_id, kind="webhook")
    check_url(row.url, allow_private=get_settings().allow_private_webhook_addresses)
    subscriptions.set_active(session, row, True, at=datetime.now(UTC), reason="")
    _audit(session, user, row, "activated")
    return webhook_read(row)


@router.get(
    "/{webhook_id}/deliveries",
    summary="List a webhook's deliveries",
    responses=problem_responses(401, 403, 404, 422),
)
def list_deliveries(
    webhook_id: str, session: SessionDep, user: Reader, paging: Paging
) -> DeliveryPage:
    row = subscriptions.get_subscription(session, user.organization_id, webhook_id, kind="webhook")
    page = subscriptions.list_deliveries(
        session, row, limit=paging.limit, cursor=paging.cursor, sort=paging.sort
    )
    return DeliveryPage(items=list(page.items), next_cursor=page.next_cursor)


# --- FHIR R4 Subscription (rest-hook), under /fhir: errors as OperationOutcome ---

fhir_router = APIRouter(prefix="/fhir/Subscription", tags=[tags.FHIR], route_class=FhirRoute)
_FHIR_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}}
    for s in (400, 401, 403, 404, 415, 422)
}
_FHIR_OK: dict[str, Any] = {"description": "Subscription or Bundle", "content": {FHIR_JSON: {}}}


def _fhir_subscription(session: Session, user: Principal, record_id: str) -> Subscription:
    return subscriptions.get_subscription(
        session, user.organization_id, record_id, kind="rest-hook"
    )


@fhir_router.post(
    "", status_code=201, summary="Create a Subscription", responses={201: _FHIR_OK, **_FHIR_ERRORS}
)
async def create_fhir_subscription(
    request: Request, session: SessionDep, user: Manager
) -> Response:
    check_format(request)
    body = await read_json(request)

    def work() -> Subscription:
        row = subscription_fhir.from_fhir(user.organization_id, body)
        check_url(row.url, allow_private=get_settings().allow_private_webhook_addresses)
        session.add(row)
        session.flush()
        _audit(session, user, row, f"FHIR Subscription created: {row.criteria}")
        return row

    row = await run_in_threadpool(work)
    return FhirResponse(
        subscription_fhir.to_fhir(row),
        status_code=201,
        headers={
            "Location": f"{base_url(request)}/Subscription/{row.id}/_history/{row.version}",
            "ETag": f'W/"{row.version}"',
        },
    )


@fhir_router.get(
    "/{record_id}", summary="Read a Subscription", responses={200: _FHIR_OK, **_FHIR_ERRORS}
)
def read_fhir_subscription(
    record_id: str, request: Request, session: SessionDep, user: Reader
) -> Response:
    check_format(request)
    row = _fhir_subscription(session, user, record_id)
    return FhirResponse(subscription_fhir.to_fhir(row), headers={"ETag": f'W/"{row.version}"'})


@fhir_router.get(
    "", summary="Search Subscription resources", responses={200: _FHIR_OK, **_FHIR_ERRORS}
)
def search_fhir_subscriptions(
    request: Request, session: SessionDep, user: Reader, paging: Paging
) -> Response:
    """The organization's subscriptions, newest last, paged by `_count`-free cursors."""
    check_format(request)
    page = subscriptions.list_subscriptions(
        session,
        user.organization_id,
        kind="rest-hook",
        limit=paging.limit,
        cursor=paging.cursor,
        sort=paging.sort,
    )
    base = base_url(request)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": str(request.url)}],
    }
    entries = [
        {
            "fullUrl": f"{base}/Subscription/{r.id}",
            "resource": subscription_fhir.to_fhir(r),
            "search": {"mode": "match"},
        }
        for r in page.items
    ]
    if entries:
        bundle["entry"] = entries
    if page.next_cursor:
        bundle["link"].append(
            {"relation": "next", "url": f"{base}/Subscription?cursor={page.next_cursor}"}
        )
    return FhirResponse(bundle)


@fhir_router.delete(
    "/{record_id}",
    status_code=204,
    summary="Turn a Subscription off",
    responses=_FHIR_ERRORS,
)
def delete_fhir_subscription(record_id: str, session: SessionDep, user: Manager) -> Response:
    """Kept (with its delivery history) with status `off`; no more notifications."""
    row = _fhir_subscription(session, user, record_id)
    subscription_fhir.turn_off(session, row, at=datetime.now(UTC))
    _audit(session, user, row, "FHIR Subscription turned off")
    return Response(status_code=204)
