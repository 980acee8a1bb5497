"""Request and response models for webhook subscriptions and their delivery log."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from service.outbox.events import EVENT_TYPES


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    events: list[str] = Field(min_length=1, description="Some of: " + ", ".join(EVENT_TYPES))
    # The HMAC key; generated when left out. Shown in this answer only.
    secret: str | None = Field(default=None, min_length=16, max_length=200)

    @field_validator("events")
    @classmethod
    def _offered(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"not an event offered: {', '.join(unknown)}")
        return sorted(set(value))


class WebhookRead(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str


class WebhookPage(BaseModel):
    items: list[WebhookRead]
    next_cursor: str | None = None


class DeliveryRead(BaseModel):
    id: str
    event_id: str
    event_type: str
    resource_type: str
    resource_id: str
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None = None
