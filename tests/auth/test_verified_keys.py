"""Keys verified a moment ago (the typeahead's): kept by header and address, rechecked against
the database, forgotten when idle, trusted no longer than the TTL."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from service.auth import logic as auth_logic
from service.auth.logic import Caller
from service.auth.roles import Role
from service.auth.schemas import UserUpdate
from service.auth.verified_keys import IDLE_SECONDS, TTL_SECONDS, VerifiedKeys
from service.db import SessionFactory
from tests.factories import Tenant

ADDRESS = "10.0.0.7"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kept(clock: Clock) -> VerifiedKeys:
    return VerifiedKeys(ttl=TTL_SECONDS, clock=clock)


def header(tenant: Tenant, role: str = Role.CODER) -> str:
    return tenant.headers(role)["Authorization"]


def checked(db: Session, authorization: str) -> Caller:
    caller = auth_logic.authenticate_quickly(
        db.connection(), authorization, ADDRESS, datetime.now(UTC)
    )
    assert caller is not None
    return caller


def test_a_key_is_kept_for_its_header_and_address_only(
    db: Session, tenant: Tenant, kept: VerifiedKeys
) -> None:
    coder = header(tenant)
    kept.put(coder, ADDRESS, checked(db, coder))

    assert kept.get(coder, ADDRESS) == checked(db, coder)
    assert kept.get(coder, "10.0.0.8") is None
    assert kept.get(coder[:-1] + "x", ADDRESS) is None
    assert kept.get(header(tenant, Role.ADMIN), ADDRESS) is None
    assert kept.get(None, ADDRESS) is None


def test_only_api_keys_are_kept_and_nothing_while_off(
    db: Session, tenant: Tenant, clock: Clock
) -> None:
    coder = header(tenant)
    caller = checked(db, coder)
    off = VerifiedKeys(clock=clock)
    on = VerifiedKeys(ttl=TTL_SECONDS, clock=clock)

    off.put(coder, ADDRESS, caller)
    on.put("Bearer some.smart.token", ADDRESS, caller)

    assert len(off) == 0
    assert off.get(coder, ADDRESS) is None
    assert len(on) == 0


def test_a_recheck_confirms_unchanged_keys_for_another_ttl(
    db: Session, tenant: Tenant, kept: VerifiedKeys, clock: Clock, session_factory: SessionFactory
) -> None:
    coder = header(tenant)
    kept.put(coder, ADDRESS, checked(db, coder))

    clock.now += TTL_SECONDS - 1
    assert kept.recheck(session_factory) == 1
    clock.now += TTL_SECONDS - 1

    assert kept.get(coder, ADDRESS) is not None
    clock.now += 2
    assert kept.get(coder, ADDRESS) is None  # unconfirmed for longer than the TTL


def test_a_recheck_drops_a_key_whose_roles_changed(
    db: Session, tenant: Tenant, kept: VerifiedKeys, session_factory: SessionFactory
) -> None:
    coder = header(tenant)
    kept.put(coder, ADDRESS, checked(db, coder))
    user = tenant.user_ids[Role.CODER]
    auth_logic.update_user(db, tenant.organization_id, user, UserUpdate(roles=[Role.BILLER]))
    db.commit()

    assert kept.recheck(session_factory) == 0
    assert kept.get(coder, ADDRESS) is None


def test_a_recheck_forgets_keys_left_idle(
    db: Session, tenant: Tenant, kept: VerifiedKeys, clock: Clock, session_factory: SessionFactory
) -> None:
    coder, admin = header(tenant), header(tenant, Role.ADMIN)
    kept.put(coder, ADDRESS, checked(db, coder))
    kept.put(admin, ADDRESS, checked(db, admin))

    clock.now += IDLE_SECONDS / 2
    kept.recheck(session_factory)
    assert kept.get(admin, ADDRESS) is not None
    clock.now += IDLE_SECONDS / 2 + 1

    assert kept.recheck(session_factory) == 1
    assert kept.get(admin, ADDRESS) is not None
    assert kept.get(coder, ADDRESS) is None
