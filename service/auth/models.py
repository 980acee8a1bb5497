"""Tables: organization, app_user, api_key, web_session, login_throttle."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import TenantRecord, utcnow


def role_set(roles: str) -> frozenset[str]:
    """`app_user.roles` ("coder,lab") as a set."""
    return frozenset(r for r in roles.split(",") if r)


class Organization(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(unique=True, max_length=200)
    # IANA zone: turns instants into the clinic's local dates of service.
    time_zone: str = Field(default="America/New_York", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppUser(TenantRecord, table=True):
    __tablename__ = "app_user"

    name: str = Field(max_length=200)
    kind: str = Field(default="person", max_length=20)  # person | integration
    roles: str = Field(max_length=200)  # comma-separated Role values
    active: bool = Field(default=True)
    # Person sign-in (web pages): one username across all organizations, because the sign-in
    # form has no organization field; stored lower-case. The password is an argon2id hash.
    username: str | None = Field(default=None, unique=True, max_length=60)
    password_hash: str | None = Field(default=None, max_length=200)
    # Set by a one-time password (an admin's reset): the next sign-in must choose a new one.
    password_must_change: bool = Field(default=False)
    # Two-step sign-in (RFC 6238 TOTP, admins): the shared secret (set at enrolment, turned on
    # once a first code confirms it; never shown again nor logged; stored sealed under the
    # secrets key, service/secret_box.py: about 140 characters), and the time step of the last
    # code used, so that a code cannot be used twice.
    totp_secret: str | None = Field(default=None, max_length=255)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int | None = Field(default=None, sa_type=sa.BigInteger)

    @property
    def role_set(self) -> frozenset[str]:
        return role_set(self.roles)


class ApiKey(TenantRecord, table=True):
    __tablename__ = "api_key"

    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=32)
    # The public part of the key, used to find the row; the secret is only stored hashed.
    key_id: str = Field(unique=True, max_length=32)
    secret_hash: str = Field(max_length=64)
    label: str = Field(default="", max_length=200)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(TenantRecord, table=True):
    """A person's signed-in browser, server-side so that it can be ended (sign-out, deactivation,
    password reset) at once on every replica. Only a hash of the cookie's token is stored."""

    __tablename__ = "web_session"

    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=32)
    token_hash: str = Field(unique=True, max_length=64)  # SHA-256 hex of the cookie value
    csrf_token: str = Field(max_length=64)  # sent back in every form of this session
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    client_address: str = Field(default="", max_length=80)
    # Half signed in: the password was right, the two-step code is still to come. Such a
    # session opens no page but the code's.
    awaiting_code: bool = Field(default=False)


class LoginThrottle(SQLModel, table=True):
    """Failed authentications per key id or per client address, in the database so that every
    replica counts the same attempts (DESIGN.md: no state in process memory)."""

    __tablename__ = "login_throttle"

    scope: str = Field(primary_key=True, max_length=100)  # "key:<key id>" | "address:<ip>"
    failures: int = Field(default=0)
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
