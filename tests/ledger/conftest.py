"""Ledger tests run on the demo organization (code sets loaded), like the remittance tests."""

from dataclasses import dataclass, field

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.auth import logic as auth_logic
from service.auth.roles import Role
from service.auth.schemas import UserCreate
from tests.claims.conftest import Demo, demo_org

__all__ = ["Demo", "Staff", "demo_org"]


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@dataclass
class Staff:
    """The demo organization's keys for each role (the demo itself issues only an admin's)."""

    demo: Demo
    keys: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str = Role.ADMIN) -> dict[str, str]:
        if role == Role.ADMIN:
            return self.demo.headers()
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture
def staff(db: Session, demo_org: Demo) -> Staff:
    found = Staff(demo_org)
    for role in (Role.FRONT_DESK, Role.BILLER, Role.CODER, Role.AUDITOR):
        user = auth_logic.create_user(
            db, demo_org.organization_id, UserCreate(name=f"{role} clerk", roles=[role])
        )
        _, key = auth_logic.issue_api_key(db, demo_org.organization_id, user.id, "test")
        found.keys[role], found.user_ids[role] = key, user.id
    db.commit()
    return found
