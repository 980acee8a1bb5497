"""Request and response models for users and keys."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.auth.roles import Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["person", "integration"] = "person"
    roles: list[Role] = Field(min_length=1)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    roles: list[Role] | None = Field(default=None, min_length=1)
    active: bool | None = None


class UserRead(BaseModel):
    id: str
    name: str
    kind: str
    roles: list[Role]
    active: bool
    created_at: datetime
    username: str | None = Field(default=None, description="For the web pages' sign-in form.")
    password_must_change: bool = False


class PasswordReset(BaseModel):
    """Issues a one-time password; `username` sets or changes the user's sign-in name."""

    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(
        default=None,
        min_length=2,
        max_length=60,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
        description="Unique across the deployment (the sign-in form has no organization "
        "field); letters, digits and . _ @ -, compared without regard to case.",
    )


class PasswordIssued(BaseModel):
    user_id: str
    username: str
    one_time_password: str = Field(
        description="Shown once; the user must choose a new password at the first sign-in."
    )
    password_must_change: bool = True


class UserPage(BaseModel):
    items: list[UserRead]
    next_cursor: str | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=200)


class ApiKeyRead(BaseModel):
    id: str
    user_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyRead):
    key: str = Field(description="The key itself. Shown once: store it now.")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyRead]
    next_cursor: str | None


class OrganizationRead(BaseModel):
    id: str
    name: str
    time_zone: str = Field(
        description="IANA zone (America/Chicago): local dates and times on labels, worklist "
        "names, 837 ISA/GS, dates of service and report days are this zone's."
    )
    created_at: datetime


class OrganizationUpdate(BaseModel):
    """A merge patch of the caller's organization; only the time zone can change here (the
    name is set by `backoffice init`)."""

    model_config = ConfigDict(extra="forbid")

    time_zone: str = Field(min_length=1, max_length=64, examples=["America/Chicago"])
