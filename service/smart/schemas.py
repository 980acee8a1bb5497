"""Request and response models for SMART client registration and the token endpoint."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from service.auth.roles import Role


class SmartClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    # The roles of the client's integration user: what its tokens may do at most.
    roles: list[Role] = Field(default_factory=lambda: [Role.INTEGRATION], min_length=1)
    scopes: str = Field(
        min_length=1, max_length=2000, description="Space-separated, e.g. `system/*.rs`."
    )
    jwks: dict[str, Any] | None = Field(default=None, description="An inline JWK Set.")
    jwks_url: HttpUrl | None = Field(default=None, description="Where the client publishes it.")

    @model_validator(mode="after")
    def _one_key_source(self) -> "SmartClientCreate":
        if (self.jwks is None) == (self.jwks_url is None):
            raise ValueError("Give exactly one of jwks (inline) and jwks_url.")
        return self


class SmartClientRead(BaseModel):
    id: str
    client_id: str
    name: str
    user_id: str
    roles: list[Role]
    scopes: str
    jwks: dict[str, Any] | None
    jwks_url: str | None
    created_at: datetime
    revoked_at: datetime | None


class SmartClientPage(BaseModel):
    items: list[SmartClientRead]
    next_cursor: str | None = None


class TokenIssued(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str
