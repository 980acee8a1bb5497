"""The delivery side of the outbox: fan events out to matching subscriptions, lease due
deliveries, record what happened (retries with backoff, subscriptions disabled after repeated
failures)."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.outbox.models import OutboxEvent, Subscription, SubscriptionDelivery

LEASE = timedelta(seconds=60)  # longer than a send can take (HTTP timeout 10 s)
MAX_ATTEMPTS = 8  # then the delivery is given up (about 20 minutes of retries)
DISABLE_AFTER = 5  # failed deliveries in a row disable the subscription
FIRST_RETRY = timedelta(seconds=5)
LAST_RETRY = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, ... at most 10 minutes between tries."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, LAST_RETRY)


def _write_lock(session: Session) -> None:
    # SQLite: take the write lock at BEGIN, so claiming is one writer at a time (the lease
    # column does the rest; PostgreSQL: FOR UPDATE SKIP LOCKED below). A deferred transaction
    # that reads, then writes after another process committed, fails at once (SQLITE_BUSY).
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_immediate": True})


def matches(subscription: Subscription, event: OutboxEvent) -> bool:
    if subscription.kind == "webhook":
        return event.event_type in subscription.events.split(",")
    resource_type, _, query = subscription.criteria.partition("?")
    if resource_type != event.resource_type:
        return False
    for name, value in parse_qsl(query):
        if name == "status" and event.status not in value.split(","):
            return False
    return True


def _due(at: datetime) -> Any:
    return sa.and_(
        col(SubscriptionDelivery.status) == "pending",
        col(SubscriptionDelivery.next_attempt_at) <= at,
        sa.or_(
            col(SubscriptionDelivery.lease_until).is_(None),
            col(SubscriptionDelivery.lease_until) < at,
        ),
    )


def has_work(session: Session, *, at: datetime) -> bool:
    """A plain read first: an idle worker then takes no write lock (SQLite) every poll."""
    unfanned = sa.exists().where(col(OutboxEvent.fanned_out_at).is_(None))
    due = sa.exists().where(_due(at))
    return bool(session.execute(sa.select(sa.or_(unfanned, due))).scalar())


def fan_out(session: Session, *, at: datetime, limit: int = 100) -> int:
    """One delivery row per (event, matching active subscription), in the transaction that
    marks the event fanned out: no event is fanned out twice or half."""
    _write_lock(session)
    events = session.exec(
        select(OutboxEvent)
        .where(col(OutboxEvent.fanned_out_at).is_(None))
        .order_by(col(OutboxEvent.occurred_at), col(OutboxEvent.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        return 0
    organizations = {e.organization_id for e in events}
    subscriptions = session.exec(
        select(Subscription).where(
            col(Subscription.organization_id).in_(organizations),
            col(Subscription.active).is_(True),
        )
    ).all()
    for event in events:
        for subscription in subscriptions:
            if subscription.organization_id == event.organization_id and matches(
                subscription, event
            ):
                session.add(
                    SubscriptionDelivery(
                        organization_id=event.organization_id,
                        subscription_id=subscription.id,
                        event_id=event.id,
                        next_attempt_at=at,
                    )
                )
        event.fanned_out_at = at
        session.add(event)
    session.flush()
    return len(events)


@dataclass(frozen=True)
class Due:
    """A leased delivery with what is needed to send it, read while the lease is taken."""

    delivery_id: str
    attempts: int
    subscription: Subscription
    event: OutboxEvent


def claim_due(session: Session, *, worker: str, at: datetime, limit: int = 20) -> list[Due]:
    """Lease up to `limit` due deliveries for this worker: another process skips the rows
    (SKIP LOCKED) or, once committed, sees the lease."""
    _write_lock(session)
    rows = session.exec(
        select(SubscriptionDelivery)
        .where(_due(at))
        .order_by(col(SubscriptionDelivery.next_attempt_at), col(SubscriptionDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    found = session.exec(
        select(OutboxEvent).where(col(OutboxEvent.id).in_({r.event_id for r in rows}))
    ).all()
    by_id = {e.id: e for e in found}
    due = []
    for row in rows:
        row.lease_until, row.leased_by = at + LEASE, worker
        session.add(row)
        subscription = session.get(Subscription, row.subscription_id)  # identity-mapped
        assert subscription is not None
        due.append(Due(row.id, row.attempts, subscription, by_id[row.event_id]))
    session.flush()
    return due


def record_delivered(session: Session, delivered: list[tuple[str, int, datetime]]) -> None:
    """(delivery id, HTTP status, at) of a round, in two statements whatever their number."""
    if not delivered:
        return
    _write_lock(session)
    table = SubscriptionDelivery.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("delivery_id"))
        .values(
            status="delivered",
            delivered_at=sa.bindparam("at"),
            attempts=table.c.attempts + 1,
            last_status_code=sa.bindparam("code"),
            lease_until=None,
            last_error="",
        ),
        [{"delivery_id": d, "code": code, "at": at} for d, code, at in delivered],
    )
    subscription_ids = session.exec(
        select(SubscriptionDelivery.subscription_id).where(
            col(SubscriptionDelivery.id).in_([d for d, _, _ in delivered])
        )
    ).all()
    session.execute(
        sa.update(Subscription)
        .where(col(Subscription.id).in_(set(subscription_ids)))
        .values(consecutive_failures=0)
    )
    session.expire_all()


def record_failed(
    session: Session, delivery_id: str, *, error: str, status_code: int | None, at: datetime
) -> None:
    """Retried later with backoff, given up after MAX_ATTEMPTS; the subscription is disabled,
    with the reason, once DISABLE_AFTER deliveries in a row failed."""
    row = session.get(SubscriptionDelivery, delivery_id)
    assert row is not None
    row.attempts += 1
    row.last_error, row.last_status_code, row.lease_until = error[:500], status_code, None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.next_attempt_at = at + backoff(row.attempts)
    session.add(row)
    session.execute(
        sa.update(Subscription)
        .where(col(Subscription.id) == row.subscription_id)
        .values(consecutive_failures=Subscription.consecutive_failures + 1)
    )
    subscription = session.get(Subscription, row.subscription_id)
    assert subscription is not None
    session.refresh(subscription)
    if subscription.active and subscription.consecutive_failures >= DISABLE_AFTER:
        disable(
            session,
            subscription,
            f"{DISABLE_AFTER} deliveries failed in a row; last: {error[:300]}",
            at=at,
        )
    session.flush()


def disable(session: Session, subscription: Subscription, reason: str, *, at: datetime) -> None:
    """Its pending deliveries stop too: they would only fail again."""
    subscription.active, subscription.disabled_at = False, at
    subscription.disabled_reason = reason[:500]
    session.add(subscription)
    session.execute(
        sa.update(SubscriptionDelivery)
        .where(
            col(SubscriptionDelivery.subscription_id) == subscription.id,
            col(SubscriptionDelivery.status) == "pending",
        )
        .values(status="failed", last_error="subscription disabled", lease_until=None)
    )


def webhook_body(event: OutboxEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.event_type,
        "occurred_at": event.occurred_at.isoformat(),
        "organization_id": event.organization_id,
        "resource": {
            "type": event.resource_type,
            "id": event.resource_id,
            **({"status": event.status} if event.status else {}),
        },
        "data": json.loads(event.data),
    }
