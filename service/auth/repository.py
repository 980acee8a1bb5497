"""Queries for organizations, users and keys."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from service.auth.models import ApiKey, AppUser, LoginThrottle, Organization, WebSession
from service.columns import UTCDateTime


def get_organization_by_name(session: Session, name: str) -> Organization | None:
    return session.exec(select(Organization).where(Organization.name == name)).first()


def get_organization(session: Session, organization_id: str) -> Organization | None:
    return session.get(Organization, organization_id)


_ORGANIZATION = Organization.__table__  # type: ignore[attr-defined]
_TIME_ZONE = sa.select(_ORGANIZATION.c.time_zone).where(
    _ORGANIZATION.c.id == sa.bindparam("organization_id")
)


def get_time_zone(session: Session, organization_id: str) -> str | None:
    """One column, no entity: lookups without a date read it on every request."""
    zone: str | None = session.execute(
        _TIME_ZONE, {"organization_id": organization_id}
    ).scalar_one_or_none()
    return zone


@dataclass(frozen=True)
class Credential:
    """A key and its user, as authentication needs them."""

    key_pk: str
    secret_hash: str
    revoked_at: datetime | None
    user_id: str
    organization_id: str
    roles: str
    active: bool


_KEY = ApiKey.__table__  # type: ignore[attr-defined]
_USER = AppUser.__table__  # type: ignore[attr-defined]
# Every request runs this: built once, and Core rather than ORM (no entities to load).
_CREDENTIAL = (
    sa.select(
        _KEY.c.id.label("key_pk"),
        _KEY.c.secret_hash,
        _KEY.c.revoked_at,
        _USER.c.id.label("user_id"),
        _USER.c.organization_id,
        _USER.c.roles,
        _USER.c.active,
    )
    .join_from(_KEY, _USER, _KEY.c.user_id == _USER.c.id)
    .where(_KEY.c.key_id == sa.bindparam("key_id"))
)


def get_credential(session: Session, key_id: str) -> Credential | None:
    row = session.execute(_CREDENTIAL, {"key_id": key_id}).mappings().first()
    return Credential(**row) if row else None


def get_user(session: Session, organization_id: str, user_id: str) -> AppUser | None:
    user = session.get(AppUser, user_id)
    return user if user and user.organization_id == organization_id else None


def get_key(session: Session, organization_id: str, key_pk: str) -> ApiKey | None:
    key = session.get(ApiKey, key_pk)
    return key if key and key.organization_id == organization_id else None


def get_user_by_username(session: Session, username: str) -> AppUser | None:
    """Usernames are unique across organizations (the sign-in form names no organization)."""
    return session.exec(select(AppUser).where(AppUser.username == username)).first()


def end_web_sessions(session: Session, user_id: str, at: datetime) -> None:
    """Ends every live web session of a user (deactivation, password reset)."""
    table = WebSession.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table)
        .where(table.c.user_id == user_id, table.c.ended_at.is_(None))
        .values(ended_at=at, updated_at=at)
    )


@dataclass(frozen=True)
class CallerRow:
    """A key, its user, the organization's time zone and the throttle's verdict, in one read."""

    key_pk: str
    secret_hash: str
    usable: bool  # not revoked and the user active
    user_id: str
    organization_id: str
    roles: str
    time_zone: str
    blocked: bool  # the key id or the address is blocked by the failed-login throttle


_THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]
_CALLER = (
    sa.select(
        _KEY.c.id.label("key_pk"),
        _KEY.c.secret_hash,
        sa.and_(_KEY.c.revoked_at.is_(None), _USER.c.active).label("usable"),
        _USER.c.id.label("user_id"),
        _USER.c.organization_id,
        _USER.c.roles,
        _ORGANIZATION.c.time_zone,
        sa.exists()
        .where(
            # Two fixed parameters, not an expanding list: the statement compiles once.
            _THROTTLE.c.scope.in_([sa.bindparam("key_scope"), sa.bindparam("address_scope")]),
            _THROTTLE.c.blocked_until > sa.bindparam("at", type_=UTCDateTime()),
        )
        .label("blocked"),
    )
    .select_from(
        _KEY.join(_USER, _KEY.c.user_id == _USER.c.id).join(
            _ORGANIZATION, _USER.c.organization_id == _ORGANIZATION.c.id
        )
    )
    .where(_KEY.c.key_id == sa.bindparam("key_id"))
)


# Runs a statement with its parameters and returns its first row (or None): a Connection's
# execute, or a precompiled statement on a driver cursor (service/raw_sql.py).
FirstRow = Callable[[sa.Select[Any], dict[str, Any]], Any]


def get_caller(
    connection: sa.Connection | FirstRow, key_id: str, scopes: list[str], at: datetime
) -> CallerRow | None:
    """The one statement a request's quick authentication runs (service/auth/logic.py).
    `scopes`: the key's and the address's (throttle.scopes), or the key's alone."""
    if not 1 <= len(scopes) <= 2:
        raise ValueError("a key scope and at most an address scope")
    params = {"key_id": key_id, "key_scope": scopes[0], "address_scope": scopes[-1], "at": at}
    if isinstance(connection, sa.Connection):
        row = connection.execute(_CALLER, params).first()
    else:
        row = connection(_CALLER, params)
    if row is None:
        return None
    return CallerRow(
        row.key_pk,
        row.secret_hash,
        bool(row.usable),
        row.user_id,
        row.organization_id,
        row.roles,
        row.time_zone,
        bool(row.blocked),
    )
