"""Throttling of failed authentications, per key id (or username) and per client address.

Each failure counts in a fixed window per scope; a scope that reaches its limit is refused (429
with Retry-After) until the block ends, even with the right key, so that guessing cannot go on
in the pause. The counters are rows (`login_throttle`), written with one upsert, so that every
replica behind a load balancer sees the same count.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from service.auth.models import LoginThrottle
from service.columns import UTCDateTime
from service.errors import DomainError

_TABLE: sa.Table = LoginThrottle.__table__  # type: ignore[attr-defined]


class TooManyFailedLogins(DomainError):
    code = "too-many-failed-logins"
    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    per_key: int  # failures of one key id within the window
    per_address: int  # failures from one client address within the window
    window: timedelta
    block: timedelta


def scopes(key_id: str | None, address: str, username: str | None = None) -> list[str]:
    """The scopes an attempt counts in: the key id it named (if well-formed) or the username a
    sign-in form named, and its address."""
    found: list[str] = []
    if key_id:
        found.append(f"key:{key_id}")
    if username:
        found.append(f"user:{username[:60]}")
    if address:
        found.append(f"address:{address[:80]}")
    return found


def _limit(scope: str, limits: Limits) -> int:
    # A username is one account, as a key id is: the same, lower limit.
    return limits.per_address if scope.startswith("address:") else limits.per_key


# Built once: every authenticated request runs it, and building it cost as much as running it.
_BLOCKED = sa.select(_TABLE.c.blocked_until).where(
    _TABLE.c.scope.in_(sa.bindparam("scopes", expanding=True)),
    _TABLE.c.blocked_until > sa.bindparam("at", type_=UTCDateTime()),
)


def retry_after(
    session: Session, key_id: str | None, address: str, at: datetime, username: str | None = None
) -> int:
    """Seconds until the attempt's scopes are unblocked (0: not blocked)."""
    names = scopes(key_id, address, username)
    if not names:
        return 0
    rows = session.execute(_BLOCKED, {"scopes": names, "at": at}).scalars()
    longest = max((until for until in rows if until is not None), default=None)
    return ceil((longest - at).total_seconds()) if longest is not None else 0


def refuse_if_blocked(
    session: Session, key_id: str | None, address: str, at: datetime, username: str | None = None
) -> None:
    seconds = retry_after(session, key_id, address, at, username)
    if seconds > 0:
        raise TooManyFailedLogins(
            f"Too many failed authentications; try again in {seconds} seconds.",
            retry_after=seconds,
        )


def record_failure(
    session: Session,
    key_id: str | None,
    address: str,
    at: datetime,
    limits: Limits,
    username: str | None = None,
) -> list[str]:
    """Counts one failure in each scope; returns the scopes this failure blocked."""
    newly_blocked: list[str] = []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = sa.literal(at, UTCDateTime())
    for scope in scopes(key_id, address, username):
        block_end = sa.literal(at + limits.block, UTCDateTime())
        stale = _TABLE.c.window_started_at <= at - limits.window
        failures = sa.case((stale, 1), else_=_TABLE.c.failures + 1)
        limit = _limit(scope, limits)
        statement = insert(_TABLE).values(
            scope=scope,
            failures=1,
            window_started_at=at,
            blocked_until=at + limits.block if limit <= 1 else None,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[_TABLE.c.scope],
            set_={
                "failures": failures,
                "window_started_at": sa.case((stale, now), else_=_TABLE.c.window_started_at),
                "blocked_until": sa.case(
                    (failures >= limit, block_end), else_=_TABLE.c.blocked_until
                ),
            },
        )
        count = session.execute(upsert.returning(_TABLE.c.failures)).scalar_one()
        if count == limit:
            newly_blocked.append(scope)
    return newly_blocked


class FailedLoginCounter:
    """Counts a refused credential in a transaction of its own (the request's was rolled back);
    the app holds one, built from the settings and its session factory."""

    def __init__(self, factory: Callable[[], Session], limits: Limits) -> None:
        self.factory = factory
        self.limits = limits

    def failed(
        self, key_id: str | None, address: str, at: datetime, username: str | None = None
    ) -> list[str]:
        with self.factory() as session:
            blocked = record_failure(session, key_id, address, at, self.limits, username)
            session.commit()
        return blocked
