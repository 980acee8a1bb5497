"""Tables: outbox_event, subscription (webhooks and FHIR rest-hooks), subscription_delivery."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import TenantRecord, utcnow


class OutboxEvent(SQLModel, table=True):
    """Something happened, written in the transaction that made it happen: it exists if and
    only if the change was committed. Carries ids and statuses, never patient data."""

    __tablename__ = "outbox_event"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    event_type: str = Field(max_length=50)  # EVENT_TYPES
    resource_type: str = Field(max_length=50)  # the FHIR type it concerns
    resource_id: str = Field(max_length=32)
    status: str = Field(default="", max_length=30)  # the resource's FHIR status after it
    data: str = Field(default="{}", max_length=4000)  # JSON: more ids
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set once its deliveries exist (one per matching subscription): the fan-out happened.
    fanned_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class Subscription(TenantRecord, table=True):
    """Where an organization wants events: a webhook (`kind` webhook: events by name, HMAC
    signed) or a FHIR R4 Subscription (`kind` rest-hook: a criteria on a resource status)."""

    __tablename__ = "subscription"

    kind: str = Field(max_length=20)  # webhook | rest-hook
    url: str = Field(max_length=2000)
    events: str = Field(default="", max_length=1000)  # webhook: comma-separated event types
    secret: str = Field(default="", max_length=200)  # webhook: the HMAC key
    criteria: str = Field(default="", max_length=500)  # rest-hook: "DiagnosticReport?status=final"
    payload: str = Field(default="", max_length=100)  # rest-hook: "" or application/fhir+json
    headers: str = Field(default="[]", max_length=4000)  # rest-hook: channel.header, JSON list
    reason: str = Field(default="", max_length=500)  # rest-hook: Subscription.reason
    active: bool = Field(default=True)
    consecutive_failures: int = Field(default=0)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str = Field(default="", max_length=500)


class SubscriptionDelivery(SQLModel, table=True):
    """One event for one subscription. A worker leases it (`lease_until`) before sending, so
    no other process sends it meanwhile; a lease that runs out (the worker died) frees it."""

    __tablename__ = "subscription_delivery"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_id"),
        sa.Index("ix_subscription_delivery_due", "status", "next_attempt_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    subscription_id: str = Field(foreign_key="subscription.id", index=True, max_length=32)
    event_id: str = Field(foreign_key="outbox_event.id", max_length=32)
    status: str = Field(default="pending", max_length=20)  # pending | delivered | failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str = Field(default="", max_length=100)
    last_status_code: int | None = Field(default=None)
    last_error: str = Field(default="", max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
