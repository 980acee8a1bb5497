"""Two-step sign-in for admins (RFC 6238 time-based codes through pyotp): enrolment confirmed by
a first code, the code asked for after the password, and turning it off with a code.

The secret is shown once, while enrolment waits for its first code, and never again; it is not
logged. A code is good for its 30-second step and one step either side (clock drift), and only
once: the step of the last code used is kept, and a code of that step or an earlier one is
refused, with one conditional UPDATE so that two requests cannot both use the same code."""

import hmac
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from sqlmodel import Session

from service.auth.logic import Principal, get_user
from service.auth.models import AppUser
from service.auth.roles import Role
from service.errors import Conflict, FieldError, InvalidInput, PermissionDenied

ISSUER = "Back office"
DRIFT_STEPS = 1  # codes of the step before and after the current one are accepted
# A half-signed-in session (password right, code to come) lasts this long.
CODE_STEP_TIME = timedelta(minutes=5)

_USER = AppUser.__table__  # type: ignore[attr-defined]


class CodeRefused(InvalidInput):
    code = "sign-in-code-refused"

    def __init__(self) -> None:
        problem = "The code is not right, or it was used already: wait for the next one."
        super().__init__(problem, errors=[FieldError("/code", problem)])


class TwoStepState(Conflict):
    code = "two-step-state"


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs, shown on the enrolment page until it is confirmed."""

    secret: str
    uri: str
    qr_svg: str  # the URI as a QR code, inline SVG (no script, no image request)


def is_on(user: AppUser) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def _admin(session: Session, actor: Principal) -> AppUser:
    if Role.ADMIN not in actor.roles:
        raise PermissionDenied("Two-step sign-in is for admins.")
    return get_user(session, actor.organization_id, actor.user_id)


def _enrolment(user: AppUser, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username or user.name, issuer_name=ISSUER)
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    svg = svg[svg.index("<svg") :]  # no XML declaration inside HTML
    return Enrolment(secret, uri, svg)


@dataclass(frozen=True)
class TwoStep:
    """An admin's two-step sign-in as their page shows it."""

    on_since: datetime | None
    pending: Enrolment | None  # an enrolment waiting for its first code (shown until then)
    username: str


def status(session: Session, actor: Principal) -> TwoStep:
    user = _admin(session, actor)
    pending = None
    if user.totp_secret is not None and user.totp_enabled_at is None:
        pending = _enrolment(user, user.totp_secret)
    return TwoStep(user.totp_enabled_at, pending, user.username or "")


def start_enrolment(session: Session, actor: Principal, *, at: datetime) -> Enrolment:
    """A new secret for the admin, not in force until a first code confirms it."""
    user = _admin(session, actor)
    if is_on(user):
        raise TwoStepState("Two-step sign-in is on already; turn it off first.")
    user.totp_secret = pyotp.random_base32()  # 160 bits
    user.totp_last_step = None
    user.updated_at = at
    session.add(user)
    session.flush()
    return _enrolment(user, user.totp_secret)


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            return step
    return None


def use_code(session: Session, user: AppUser, code: str, *, at: datetime) -> bool:
    """True if `code` is the user's for now and was not used before; it is then spent."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, at)
    if step is None:
        return False
    spent = session.execute(
        sa.update(_USER)
        .where(
            _USER.c.id == user.id,
            sa.or_(_USER.c.totp_last_step.is_(None), _USER.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def confirm_enrolment(session: Session, actor: Principal, code: str, *, at: datetime) -> None:
    user = _admin(session, actor)
    if user.totp_secret is None or user.totp_enabled_at is not None:
        raise TwoStepState("There is no enrolment waiting for its first code.")
    if not use_code(session, user, code, at=at):
        raise CodeRefused()
    user.totp_enabled_at = at
    user.updated_at = at
    session.add(user)
    session.flush()


def turn_off(session: Session, actor: Principal, code: str, *, at: datetime) -> None:
    """Only with a current code: a stolen session alone cannot weaken the account."""
    user = _admin(session, actor)
    if not is_on(user):
        raise TwoStepState("Two-step sign-in is not on.")
    if not use_code(session, user, code, at=at):
        raise CodeRefused()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.updated_at = at
    session.add(user)
    session.flush()
