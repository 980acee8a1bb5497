"""Response models for the audit trail."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas_common import IsoDateTime


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    user_id: str | None
    role: str
    action: str
    resource_type: str
    resource_id: str | None
    patient_id: str | None
    outcome: str
    client_address: str
    request_id: str
    detail: str


class AuditEventPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None


class AuditEventFilters(BaseModel):
    patient_id: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    action: str | None = Field(default=None, max_length=40)
    outcome: Literal["success", "denied", "failed"] | None = None
    resource_type: str | None = Field(default=None, max_length=60)
    at_from: IsoDateTime | None = Field(default=None, alias="from", description="inclusive")
    at_to: IsoDateTime | None = Field(default=None, alias="to", description="exclusive")
