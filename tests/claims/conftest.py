"""Claims tests run on a database with the bundled code sets loaded, seeded by the demo."""

from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.auth.roles import Role
from service.claims.models import Claim
from service.demo import clinic as demo
from service.demo.westside import HELD_MRN
from service.patients.models import Patient


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
    """The demo organization: 8 ready encounters with their primary claims (Omar Haddad's held
    as a draft by the scrubber, the others ready), a partner `demo`."""
    result = demo.seed(db)
    db.commit()
    return Demo(result.organization_id, result.admin_key)


def held_claim_id(session: Session) -> str:
    """Omar Haddad's claim (HELD_MRN): the scrubber holds it as a draft (Westside's 5-digit ZIP),
    so no batch takes it and it stays out of "every claim is now ..." checks."""
    return session.exec(
        select(Claim.id)
        .join(Patient, col(Patient.id) == Claim.patient_id)
        .where(Patient.mrn == HELD_MRN)
    ).one()
