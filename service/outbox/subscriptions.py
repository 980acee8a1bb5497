"""Use cases: webhook subscriptions of an organization, their delivery log."""

import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from service.errors import NotFound
from service.outbox.logic import disable
from service.outbox.models import OutboxEvent, Subscription, SubscriptionDelivery
from service.outbox.schemas import DeliveryRead, WebhookCreate
from service.paging import Page, by_creation, fetch_page


class SubscriptionNotFound(NotFound):
    code = "subscription-not-found"


def create_webhook(session: Session, organization_id: str, data: WebhookCreate) -> Subscription:
    """The URL must have been checked (net.check_url) by the caller, who knows the setting."""
    row = Subscription(
        organization_id=organization_id,
        kind="webhook",
        url=str(data.url),
        events=",".join(data.events),
        secret=data.secret or "whsec_" + secrets.token_urlsafe(32),
    )
    session.add(row)
    session.flush()
    return row


def get_subscription(
    session: Session, organization_id: str, subscription_id: str, *, kind: str
) -> Subscription:
    row = session.get(Subscription, subscription_id)
    if row is None or row.organization_id != organization_id or row.kind != kind:
        raise SubscriptionNotFound(f"No subscription {subscription_id}.")
    return row


def list_subscriptions(
    session: Session,
    organization_id: str,
    *,
    kind: str,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[Subscription]:
    query = select(Subscription).where(
        Subscription.organization_id == organization_id, Subscription.kind == kind
    )
    return fetch_page(
        session,
        query,
        Subscription.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "created_at"),
    )


def set_active(
    session: Session, row: Subscription, active: bool, *, at: datetime, reason: str
) -> Subscription:
    """Turning one back on forgets its failure count; turning it off stops its retries."""
    if active and not row.active:
        row.active, row.consecutive_failures = True, 0
        row.disabled_at, row.disabled_reason = None, ""
        session.add(row)
    elif not active and row.active:
        disable(session, row, reason, at=at)
    session.flush()
    return row


def list_deliveries(
    session: Session, row: Subscription, *, limit: int, cursor: str | None, sort: str | None = None
) -> Page[DeliveryRead]:
    query = select(SubscriptionDelivery).where(SubscriptionDelivery.subscription_id == row.id)
    page = fetch_page(
        session,
        query,
        SubscriptionDelivery.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "-created_at"),
    )
    events = {
        e.id: e
        for e in session.exec(
            select(OutboxEvent).where(col(OutboxEvent.id).in_([d.event_id for d in page.items]))
        ).all()
    }
    items = [
        DeliveryRead(
            id=d.id,
            event_id=d.event_id,
            event_type=events[d.event_id].event_type,
            resource_type=events[d.event_id].resource_type,
            resource_id=events[d.event_id].resource_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
        )
        for d in page.items
    ]
    return Page(items=items, next_cursor=page.next_cursor)
