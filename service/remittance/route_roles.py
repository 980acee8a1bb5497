"""Who may read and change remittances (DESIGN.md: admin and biller rw; coder and auditor r;
integration claims r), shared by the remittance route modules."""

from datetime import UTC, date, datetime
from typing import Annotated

from sqlmodel import Session

from service import org_clock
from service.api.deps import allow
from service.auth.logic import Principal
from service.auth.roles import Role

Reader = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR)]
ClaimReader = Annotated[
    Principal, allow(Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR, Role.INTEGRATION)
]
Biller = Annotated[Principal, allow(Role.ADMIN, Role.BILLER)]


def local_today(session: Session, user: Principal) -> date:
    """Today in the user's organization's time zone."""
    return org_clock.local_date(session, user.organization_id, datetime.now(UTC))
