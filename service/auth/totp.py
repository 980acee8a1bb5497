"""Two-step sign-in for admins (RFC 6238 time-based codes through pyotp): enrolment confirmed by
a first code, the code asked for after the password, and turning it off with a code.

The secret is shown once, while enrolment waits for its first code, and never again; it is not
logged, and it is stored sealed under the secrets key (service/secret_box.py). A key that does
not open it refuses the sign-in with TwoStepUnavailable (503): the step is never skipped. A
code is good for its 30-second step and one step either side (clock drift), and only once: the
step of the last code used is kept, and a code of that step or an earlier one is refused, with
one conditional UPDATE so that two requests cannot both use the same code."""

import hmac
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.auth.logic import Principal, get_user
from service.auth.models import AppUser
from service.auth.people import normalize_username
from service.auth.roles import Role
from service.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from service.secret_box import SecretBox, SecretUnreadable

log = logging.getLogger(__name__)

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


class TwoStepUnavailable(DomainError):
    """The secrets key does not open the admin's secret (lost or changed key): no code can be
    checked, so none is accepted. The operator restores the key; the account is not at fault."""

    code = "two-step-unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "Two-step sign-in cannot be checked on this server now: its secrets key does not "
            "open this account's two-step secret. Ask whoever runs the server to restore the "
            "key it was set up with (BACKOFFICE_SECRETS_KEY or the secrets key file)."
        )


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


def _opened(user: AppUser, sealed: str, box: SecretBox) -> str:
    try:
        return box.open(sealed)
    except SecretUnreadable:
        log.error(
            "the two-step secret of user %s does not open with the secrets key from %s",
            user.id,
            box.source,
        )
        raise TwoStepUnavailable() from None


def record_unavailable(
    session: Session, user: AppUser, client_address: str, *, request_id: str
) -> None:
    """The refused sign-in, audited in the request's own transaction (it commits: the answer is
    a page). Not counted as a failure: no code was checked."""
    session.add(
        AuditEvent(
            organization_id=user.organization_id,
            user_id=user.id,
            action="login-denied",
            resource_type="web_session",
            outcome="failed",
            client_address=client_address,
            request_id=request_id,
            detail="503 sign-in refused: the secrets key does not open the two-step secret",
        )
    )


def status(session: Session, actor: Principal, *, box: SecretBox) -> TwoStep:
    user = _admin(session, actor)
    pending = None
    if user.totp_secret is not None and user.totp_enabled_at is None:
        try:
            pending = _enrolment(user, box.open(user.totp_secret))
        except SecretUnreadable:  # an enrolment sealed under another key: start a new one
            pending = None
    return TwoStep(user.totp_enabled_at, pending, user.username or "")


def start_enrolment(
    session: Session, actor: Principal, *, at: datetime, box: SecretBox
) -> Enrolment:
    """A new secret for the admin, not in force until a first code confirms it."""
    user = _admin(session, actor)
    if is_on(user):
        raise TwoStepState("Two-step sign-in is on already; turn it off first.")
    secret = pyotp.random_base32()  # 160 bits
    user.totp_secret = box.seal(secret)
    user.totp_last_step = None
    user.updated_at = at
    session.add(user)
    session.flush()
    return _enrolment(user, secret)


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


def use_code(session: Session, user: AppUser, code: str, *, at: datetime, box: SecretBox) -> bool:
    """True if `code` is the user's for now and was not used before; it is then spent (and the
    secret sealed again under the first key, which is how a key rotation reaches every row).
    TwoStepUnavailable when the secrets key does not open the secret."""
    if user.totp_secret is None:
        return False
    step = _matching_step(_opened(user, user.totp_secret, box), code, at)
    if step is None:
        return False
    spent = session.execute(
        sa.update(_USER)
        .where(
            _USER.c.id == user.id,
            sa.or_(_USER.c.totp_last_step.is_(None), _USER.c.totp_last_step < step),
        )
        .values(totp_last_step=step, totp_secret=box.reseal(user.totp_secret))
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def confirm_enrolment(
    session: Session, actor: Principal, code: str, *, at: datetime, box: SecretBox
) -> None:
    user = _admin(session, actor)
    if user.totp_secret is None or user.totp_enabled_at is not None:
        raise TwoStepState("There is no enrolment waiting for its first code.")
    if not use_code(session, user, code, at=at, box=box):
        raise CodeRefused()
    user.totp_enabled_at = at
    user.updated_at = at
    session.add(user)
    session.flush()


def turn_off(
    session: Session, actor: Principal, code: str, *, at: datetime, box: SecretBox
) -> None:
    """Only with a current code: a stolen session alone cannot weaken the account."""
    user = _admin(session, actor)
    if not is_on(user):
        raise TwoStepState("Two-step sign-in is not on.")
    if not use_code(session, user, code, at=at, box=box):
        raise CodeRefused()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.updated_at = at
    session.add(user)
    session.flush()


def unopened_secrets(session: Session, box: SecretBox) -> list[str]:
    """The users whose stored secret the key does not open (checked at start: a lost or
    changed key is told to the operator before an admin meets it at sign-in)."""
    rows = session.execute(
        sa.select(_USER.c.id, _USER.c.totp_secret).where(_USER.c.totp_secret.is_not(None))
    )
    unopened = []
    for user_id, sealed in rows:
        try:
            box.open(sealed)
        except SecretUnreadable:
            unopened.append(user_id)
    return unopened


def report_unopened(session: Session, box: SecretBox) -> int:
    """Logs, at start, the admins whose two-step sign-in the key cannot check; answers how many."""
    unopened = unopened_secrets(session, box)
    if unopened:
        log.error(
            "the secrets key from %s does not open the two-step secret of %d user(s) (%s): "
            "they cannot finish signing in until the key they enrolled under is restored",
            box.source,
            len(unopened),
            ", ".join(unopened[:10]),
        )
    return len(unopened)


def reset(session: Session, username: str, *, at: datetime) -> AppUser:
    """`backoffice users reset-two-step`: two-step sign-in off for a person who cannot finish
    signing in (the secrets key lost, or the authenticator); the password alone signs them in
    again and they may turn it on anew. Local access to the deployment is the authority."""
    user = session.exec(select(AppUser).where(AppUser.username == normalize_username(username)))
    found = user.first()
    if found is None:
        raise NotFound(f"No person signs in as {username!r}.")
    found.totp_secret = None
    found.totp_enabled_at = None
    found.totp_last_step = None
    found.updated_at = at
    session.add(found)
    session.flush()
    return found
