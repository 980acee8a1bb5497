"""Tables: smart_client, smart_assertion (used jti values), smart_access_token."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.records import TenantRecord


class SmartClient(TenantRecord, table=True):
    """A system client of one organization (DESIGN.md "SMART client"). It acts as its own
    integration user, whose roles bound what any of its tokens may do."""

    __tablename__ = "smart_client"

    client_id: str = Field(unique=True, max_length=64)  # the public id, `iss` and `sub`
    name: str = Field(max_length=200)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=32)
    # Space-separated scopes the client may ask for ("system/*.rs").
    scopes: str = Field(max_length=2000)
    jwks: str | None = Field(default=None, max_length=20000)  # inline JWK Set (JSON)
    jwks_url: str | None = Field(default=None, max_length=2000)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SmartAssertion(SQLModel, table=True):
    """Each client assertion's jti until the assertion expires: a replay is refused by every
    replica, since the row is in the shared database (SMART Backend Services, jti)."""

    __tablename__ = "smart_assertion"

    client_pk: str = Field(primary_key=True, max_length=32)
    jti: str = Field(primary_key=True, max_length=255)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class SmartAccessToken(SQLModel, table=True):
    """An issued access token, stored as its SHA-256 only (like API keys): opaque to clients,
    read on every request, so revoking the client ends its tokens at once."""

    __tablename__ = "smart_access_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    client_pk: str = Field(foreign_key="smart_client.id", index=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    scopes: str = Field(max_length=2000)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
