"""`backoffice demo`'s people for the web pages: an admin, a biller and a lab technologist, each
with a username and a one-time password. A re-run issues a fresh one (the earlier one stops
working) only to people who have not chosen their own password yet, so a clerk who signed in
and changed it keeps it; `reset=True` (`--reset-passwords`) issues new ones to everybody."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from service.auth import logic as auth_logic
from service.auth import people
from service.auth.models import AppUser
from service.auth.roles import Role
from service.auth.schemas import UserCreate

# (what the person does, user name, username, role); the admin is the one `init` made.
PEOPLE = (
    ("admin", "admin", "demo-admin", Role.ADMIN),
    ("billing clerk", "Demo biller", "demo-biller", Role.BILLER),
    ("lab technologist", "Demo lab technologist", "demo-lab", Role.LAB),
)


@dataclass(frozen=True)
class SignIn:
    who: str
    username: str
    one_time_password: str | None  # None: the person keeps the password they chose


def _chose_own_password(user: AppUser) -> bool:
    return user.password_hash is not None and not user.password_must_change


def issue_sign_ins(
    session: Session, organization_id: str, *, reset: bool = False
) -> tuple[list[SignIn], int]:
    """The demo people's sign-ins, and how many users this run created."""
    sign_ins: list[SignIn] = []
    created = 0
    now = datetime.now(UTC)
    for who, name, username, role in PEOPLE:
        user = session.exec(
            select(AppUser).where(AppUser.organization_id == organization_id, AppUser.name == name)
        ).first()
        if user is None:
            user = auth_logic.create_user(
                session, organization_id, UserCreate(name=name, roles=[role])
            )
            created += 1
        if user.username is not None and _chose_own_password(user) and not reset:
            sign_ins.append(SignIn(who, user.username, None))
            continue
        _, password = people.issue_one_time_password(
            session, organization_id, user.id, username=username, at=now
        )
        sign_ins.append(SignIn(who, username, password))
    return sign_ins, created
