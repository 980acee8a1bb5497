"""Person sign-in (DESIGN.md "Person sign-in"): argon2id passwords, one-time passwords issued by
an admin, and server-side web sessions behind a cookie whose token is stored only hashed."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col

from service.auth import repository
from service.auth.logic import LoginDenied, Principal, create_user, get_user
from service.auth.models import AppUser, WebSession, role_set
from service.auth.schemas import UserCreate
from service.errors import Conflict, FieldError, InvalidInput

# argon2id with the library's defaults (RFC 9106's second recommended parameter set).
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so that both paths cost one argon2 hash.
_DUMMY_HASH = _HASHER.hash("no such user")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
MAX_USERNAME_LENGTH = 60
SIGN_IN_REFUSED = "The username or password is not right."


class UsernameTaken(Conflict):
    code = "username-taken"


class NotAPerson(Conflict):
    code = "user-not-a-person"


class PasswordRefused(InvalidInput):
    code = "password-refused"


def normalize_username(raw: str) -> str:
    return raw.strip().lower()[:MAX_USERNAME_LENGTH]


def token_hash(token: str) -> str:
    """The cookie's token as stored: a leaked table cannot be replayed as cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(session: Session, username: str, password: str) -> AppUser:
    """The user a username and password name, or LoginDenied (with the organization when the
    username resolved, so that its admins see the attempt, as with a wrong key secret)."""
    user = repository.get_user_by_username(session, normalize_username(username))
    stored = user.password_hash if user is not None and user.password_hash else None
    ok = _verifies(stored or _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH]) and stored is not None
    if user is None or not ok or not user.active or user.kind != "person":
        if user is None:
            reason = "unknown username"
        elif stored is None:
            reason = "no password set"
        else:
            reason = "wrong password" if not ok else "inactive user"
        raise LoginDenied(
            SIGN_IN_REFUSED,
            organization_id=user.organization_id if user else None,
            user_id=user.id if user else None,
            reason=reason,
        )
    if stored is not None and _HASHER.check_needs_rehash(stored):
        user.password_hash = hash_password(password)  # parameters raised since it was set
        session.add(user)
    return user


@dataclass(frozen=True)
class SignedIn:
    """A live web session: who it acts as, and the token its forms must carry."""

    principal: Principal
    session_id: str
    csrf_token: str
    user_name: str
    password_must_change: bool


def start_session(
    session: Session, user: AppUser, *, address: str, at: datetime, awaiting_code: bool = False
) -> str:
    """A new session for a signed-in user (or, `awaiting_code`, one whose two-step code is still
    to come); returns the cookie's token (never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            organization_id=user.organization_id,
            user_id=user.id,
            token_hash=token_hash(token),
            csrf_token=secrets.token_urlsafe(32),
            created_at=at,
            updated_at=at,
            last_seen_at=at,
            client_address=address[:80],
            awaiting_code=awaiting_code,
        )
    )
    session.flush()
    return token


_SESSION = WebSession.__table__  # type: ignore[attr-defined]
_USER = AppUser.__table__  # type: ignore[attr-defined]
# Every page request runs it: Core, built once.
_LIVE_SESSION = (
    sa.select(
        _SESSION.c.id,
        _SESSION.c.csrf_token,
        _SESSION.c.last_seen_at,
        _SESSION.c.ended_at,
        _SESSION.c.awaiting_code,
        _SESSION.c.created_at,
        _USER.c.id.label("user_id"),
        _USER.c.organization_id,
        _USER.c.name,
        _USER.c.roles,
        _USER.c.active,
        _USER.c.password_must_change,
    )
    .join_from(_SESSION, _USER, _SESSION.c.user_id == _USER.c.id)
    .where(_SESSION.c.token_hash == sa.bindparam("token_hash"))
)


def resume_session(
    session: Session, token: str, *, at: datetime, idle: timedelta, address: str = ""
) -> SignedIn | None:
    """The session a cookie names, if it is live: not ended, past its two-step code, its user
    active, and used within the idle time. Touches last_seen_at. An idle session is refused
    here and ended by `end_if_idle` (the refusal rolls this request's transaction back)."""
    if not token or len(token) > 100:
        return None
    row = session.execute(_LIVE_SESSION, {"token_hash": token_hash(token)}).mappings().first()
    if row is None or row["ended_at"] is not None or not row["active"] or row["awaiting_code"]:
        return None
    if row["last_seen_at"] <= at - idle:
        return None
    session.execute(sa.update(_SESSION).where(_SESSION.c.id == row["id"]).values(last_seen_at=at))
    principal = Principal(
        row["user_id"],
        row["organization_id"],
        role_set(row["roles"]),
        f"web:{row['id']}",
        client_address=address,
    )
    return SignedIn(
        principal, row["id"], row["csrf_token"], row["name"], row["password_must_change"]
    )


def end_if_idle(session: Session, token: str, *, at: datetime, idle: timedelta) -> bool:
    """Ends the session a cookie names if it has been idle too long (so that it stays ended
    whatever its row says later); True if it did."""
    if not token or len(token) > 100:
        return False
    done = session.execute(
        sa.update(_SESSION)
        .where(
            _SESSION.c.token_hash == token_hash(token),
            _SESSION.c.ended_at.is_(None),
            _SESSION.c.last_seen_at <= at - idle,
        )
        .values(ended_at=at, updated_at=at)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class HalfSignedIn:
    """A session whose password was right and whose two-step code is still to come."""

    session_id: str
    user_id: str
    organization_id: str
    csrf_token: str


def resume_half_signed_in(
    session: Session, token: str, *, at: datetime, within: timedelta
) -> HalfSignedIn | None:
    """The session a second-step cookie names, if it still waits for its code (started within
    `within`, not ended, its user active)."""
    if not token or len(token) > 100:
        return None
    row = session.execute(_LIVE_SESSION, {"token_hash": token_hash(token)}).mappings().first()
    if row is None or row["ended_at"] is not None or not row["active"]:
        return None
    if not row["awaiting_code"] or row["created_at"] <= at - within:
        return None
    return HalfSignedIn(row["id"], row["user_id"], row["organization_id"], row["csrf_token"])


def complete_session(session: Session, half: HalfSignedIn, *, at: datetime) -> str:
    """The code was right: the session is signed in under a new token (the half-signed-in one
    is spent), with a new CSRF token. Returns the new cookie's token."""
    token = secrets.token_urlsafe(32)
    session.execute(
        sa.update(_SESSION)
        .where(_SESSION.c.id == half.session_id)
        .values(
            token_hash=token_hash(token),
            csrf_token=secrets.token_urlsafe(32),
            awaiting_code=False,
            last_seen_at=at,
            updated_at=at,
        )
    )
    return token


def csrf_matches(signed_in: SignedIn, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(signed_in.csrf_token.encode(), sent.encode())


def end_session(session: Session, session_id: str, *, at: datetime) -> None:
    session.execute(
        sa.update(_SESSION)
        .where(_SESSION.c.id == session_id, _SESSION.c.ended_at.is_(None))
        .values(ended_at=at, updated_at=at)
    )


def _check_new_password(user: AppUser, new: str) -> None:
    problem = None
    if len(new) < MIN_PASSWORD_LENGTH:
        problem = f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    elif len(new) > MAX_PASSWORD_LENGTH:
        problem = f"Choose a password of at most {MAX_PASSWORD_LENGTH} characters."
    elif user.password_hash and _verifies(user.password_hash, new):
        problem = "Choose a password different from the current one."
    if problem:
        raise PasswordRefused(problem, errors=[FieldError("/new_password", problem)])


def change_password(
    session: Session, signed_in: SignedIn, *, current: str, new: str, at: datetime
) -> None:
    """The user's own change (forced after a one-time password): the current password proves
    it is them; their other sessions end, this one goes on."""
    user = get_user(session, signed_in.principal.organization_id, signed_in.principal.user_id)
    if not user.password_hash or not _verifies(user.password_hash, current[:MAX_PASSWORD_LENGTH]):
        problem = "The current password is not right."
        raise PasswordRefused(problem, errors=[FieldError("/current_password", problem)])
    _check_new_password(user, new)
    user.password_hash = hash_password(new)
    user.password_must_change = False
    user.updated_at = at
    session.add(user)
    session.execute(
        sa.update(_SESSION)
        .where(
            _SESSION.c.user_id == user.id,
            _SESSION.c.id != signed_in.session_id,
            _SESSION.c.ended_at.is_(None),
        )
        .values(ended_at=at, updated_at=at)
    )
    session.flush()


def issue_one_time_password(
    session: Session, organization_id: str, user_id: str, *, username: str | None, at: datetime
) -> tuple[AppUser, str]:
    """An admin's reset: sets the username if given, a fresh one-time password (returned, shown
    once) that must be changed at the next sign-in, and ends the user's sessions."""
    user = get_user(session, organization_id, user_id)
    if user.kind != "person":
        raise NotAPerson(f"User {user.id} is an integration client; it signs in with API keys.")
    if username is not None:
        wanted = normalize_username(username)
        holder = repository.get_user_by_username(session, wanted)
        if holder is not None and holder.id != user.id:
            raise UsernameTaken(
                f"The username {wanted!r} is taken; choose another.",
                errors=[FieldError("/username", "taken")],
            )
        user.username = wanted
    if user.username is None:
        problem = "This user has no username yet: send one."
        raise InvalidInput(problem, errors=[FieldError("/username", problem)])
    password = secrets.token_urlsafe(12)  # 16 characters, 96 bits
    user.password_hash = hash_password(password)
    user.password_must_change = True
    user.updated_at = at
    session.add(user)
    repository.end_web_sessions(session, user.id, at)
    session.flush()
    return user, password


def live_sessions(session: Session, user_id: str) -> int:
    """Sessions of a user not ended (idle ones included until they are next presented)."""
    count = session.execute(
        sa.select(sa.func.count())
        .select_from(_SESSION)
        .where(_SESSION.c.user_id == user_id, col(_SESSION.c.ended_at).is_(None))
    ).scalar_one()
    return int(count)


def create_person(
    session: Session, organization_id: str, data: UserCreate, *, username: str, at: datetime
) -> tuple[AppUser, str]:
    """A staff account with its username and a one-time password (returned, shown once), or
    nothing at all if either is refused (a taken username leaves no user without one)."""
    with session.begin_nested():
        user = create_user(session, organization_id, data)
        return issue_one_time_password(session, organization_id, user.id, username=username, at=at)
