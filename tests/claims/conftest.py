"""Claims tests run on a database with the bundled code sets loaded, seeded by the demo."""

from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.auth.roles import Role
from service.demo import clinic as demo


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@dataclass
class Demo:
    organization_id: str
    key: str

    def headers(self, role: str = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def demo_org(db: Session) -> Demo:
    """The demo organization: 6 ready encounters with their primary claims, a partner `demo`."""
    result = demo.seed(db)
    db.commit()
    return Demo(result.organization_id, result.admin_key)
