"""Use cases: authenticate a key, create organizations, users and keys, revoke keys."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.auth import keys, repository, throttle
from service.auth.models import ApiKey, AppUser, Organization, role_set
from service.auth.roles import Role
from service.auth.schemas import UserCreate, UserUpdate
from service.errors import Conflict, NotFound, Unauthenticated
from service.paging import Page, by_creation, fetch_page
from service.records import utcnow


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user a key acts as, within one organization."""

    user_id: str
    organization_id: str
    roles: frozenset[str]
    key_id: str
    client_address: str = ""
    request_id: str = ""
    # A SMART access token's granted scopes (service/smart); None for an API key (not scoped).
    scopes: frozenset[str] | None = None

    @property
    def role(self) -> str:
        """The roles as one string for the audit trail."""
        return ",".join(sorted(self.roles))


class UserNotFound(NotFound):
    code = "user-not-found"


class ApiKeyNotFound(NotFound):
    code = "api-key-not-found"


class LoginDenied(Unauthenticated):
    """A refused credential, with what it named: the key id when well-formed, and the key's
    organization and user when the id resolved (a wrong secret is that organization's event)."""

    def __init__(
        self,
        detail: str,
        *,
        key_id: str | None = None,
        organization_id: str | None = None,
        user_id: str | None = None,
        reason: str = "no key",
    ) -> None:
        super().__init__(detail)
        self.key_id = key_id
        self.organization_id = organization_id
        self.user_id = user_id
        self.reason = reason


class LastAdmin(Conflict):
    code = "last-admin"


class OrganizationNotFound(NotFound):
    code = "organization-not-found"


class OrganizationExists(Conflict):
    code = "organization-exists"


SMART_TOKEN_PREFIX = "smt_"  # nosec B105 - a prefix, not a secret (API keys start "bo_")

# Compared against when the key id is unknown, so that both paths cost one hash and one compare.
_DUMMY_HASH = keys.hash_secret("no such key")


def key_id_of(authorization: str | None) -> str | None:
    """The public key id a `Bearer bo_<id>_<secret>` header names, if it is well-formed."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    parts = keys.split_key(token.strip()) if scheme.lower() == "bearer" else None
    return parts[0] if parts else None


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Reads the key on every request (no cache): a revoked key or a deactivated user is refused
    at once, by every process."""
    if not authorization:
        raise LoginDenied("Send `Authorization: Bearer <api key>`.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip().startswith(SMART_TOKEN_PREFIX):
        # SMART Backend Services: an access token from /oauth/token instead of a key.
        from service.smart import logic as smart_logic

        return smart_logic.authenticate(session, token.strip(), utcnow())
    parts = keys.split_key(token.strip()) if scheme.lower() == "bearer" else None
    found = repository.get_credential(session, parts[0]) if parts else None
    secret = parts[1] if parts else ""
    ok = keys.secret_matches(secret, found.secret_hash if found else _DUMMY_HASH)
    if not (ok and found) or found.revoked_at is not None or not found.active:
        if found is None:
            reason = "unknown key id" if parts else "malformed key"
        else:
            reason = (
                "wrong secret"
                if not ok
                else ("revoked key" if found.revoked_at is not None else "inactive user")
            )
        raise LoginDenied(
            "The API key is unknown, revoked, or its user is inactive.",
            key_id=parts[0] if parts else None,
            organization_id=found.organization_id if found else None,
            user_id=found.user_id if found else None,
            reason=reason,
        )
    return Principal(found.user_id, found.organization_id, role_set(found.roles), found.key_pk)


@dataclass(frozen=True)
class Caller:
    """An authenticated API key's principal and its organization's time zone (IANA name)."""

    principal: Principal
    time_zone: str


def authenticate_quickly(
    connection: sa.Connection | repository.FirstRow,
    authorization: str | None,
    address: str,
    at: datetime,
) -> Caller | None:
    """The plain case of `authenticate` in one read: a well-formed API key, found, usable, with
    the right secret, neither it nor the address blocked. None for anything else: the caller
    then runs the full check, which refuses, audits and counts as before. Nothing is cached,
    so a revoked key or a deactivated user is refused at once, by every process."""
    key_id = key_id_of(authorization)
    if key_id is None or authorization is None:
        return None
    parts = keys.split_key(authorization.partition(" ")[2].strip())
    if parts is None:
        return None
    found = repository.get_caller(connection, key_id, throttle.scopes(key_id, address), at)
    # Hashed whatever was found, as `authenticate` does: every refusal costs the same.
    ok = keys.secret_matches(parts[1], found.secret_hash if found else _DUMMY_HASH)
    if not ok or found is None or found.blocked or not found.usable:
        return None
    principal = Principal(
        found.user_id,
        found.organization_id,
        role_set(found.roles),
        found.key_pk,
        client_address=address,
    )
    return Caller(principal, found.time_zone)


def _new_key(session: Session, user: AppUser, label: str) -> tuple[ApiKey, str]:
    issued = keys.issue_key()
    key = ApiKey(
        organization_id=user.organization_id,
        user_id=user.id,
        key_id=issued.key_id,
        secret_hash=issued.secret_hash,
        label=label,
    )
    session.add(key)
    session.flush()
    return key, issued.plaintext


def create_organization(
    session: Session, *, name: str, time_zone: str = "America/New_York"
) -> tuple[Organization, AppUser, str]:
    """`backoffice init`: an organization with its first admin user and key (plaintext returned)."""
    if repository.get_organization_by_name(session, name) is not None:
        raise OrganizationExists(f"An organization named {name!r} exists already.")
    org = Organization(name=name, time_zone=time_zone)
    session.add(org)
    session.flush()
    admin = AppUser(organization_id=org.id, name="admin", kind="person", roles=Role.ADMIN.value)
    session.add(admin)
    session.flush()
    _, plaintext = _new_key(session, admin, "created by init")
    return org, admin, plaintext


def create_recovery_admin(session: Session, organization_name: str) -> tuple[AppUser, str]:
    """`backoffice users create-admin`: a new admin and key for an organization locked out of
    its API (local access to the deployment is the authority here)."""
    org = repository.get_organization_by_name(session, organization_name)
    if org is None:
        raise OrganizationNotFound(f"No organization named {organization_name!r}.")
    admin = AppUser(
        organization_id=org.id, name="admin (recovery)", kind="person", roles=Role.ADMIN.value
    )
    session.add(admin)
    session.flush()
    _, plaintext = _new_key(session, admin, "created by backoffice users create-admin")
    return admin, plaintext


def create_user(session: Session, organization_id: str, data: UserCreate) -> AppUser:
    user = AppUser(
        organization_id=organization_id,
        name=data.name,
        kind=data.kind,
        roles=",".join(sorted({r.value for r in data.roles})),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, organization_id: str, user_id: str) -> AppUser:
    user = repository.get_user(session, organization_id, user_id)
    if user is None:
        raise UserNotFound(f"No user {user_id}.")
    return user


def list_users(
    session: Session,
    organization_id: str,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[AppUser]:
    query = select(AppUser).where(AppUser.organization_id == organization_id)
    return fetch_page(
        session,
        query,
        AppUser.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "created_at"),
    )


def _admins_with_keys(session: Session, organization_id: str) -> dict[str, int]:
    """Active admins of the organization -> their unrevoked keys: the people who can still
    administer it. Organizations have few users; the role test is on the parsed list."""
    rows = session.execute(
        sa.select(col(AppUser.id), col(AppUser.roles), sa.func.count(col(ApiKey.id)))
        .join(ApiKey, col(ApiKey.user_id) == col(AppUser.id))
        .where(
            col(AppUser.organization_id) == organization_id,
            col(AppUser.active).is_(True),
            col(ApiKey.revoked_at).is_(None),
        )
        .group_by(col(AppUser.id), col(AppUser.roles))
    ).all()
    return {uid: n for uid, roles, n in rows if Role.ADMIN.value in role_set(roles)}


def _keep_an_admin(
    session: Session, organization_id: str, user_id: str, *, losing_keys: int | None
) -> None:
    """409 unless someone else, or this user with a key left, still administers the
    organization afterwards (an organization without one cannot be recovered from the API).

    The organization row is locked first (PostgreSQL), so that two admins demoting each other at
    once cannot both pass."""
    session.execute(
        sa.select(col(Organization.id))
        .where(col(Organization.id) == organization_id)
        .with_for_update()
    )
    admins = _admins_with_keys(session, organization_id)
    if user_id not in admins:
        return  # not one of the organization's admins: nothing changes for them
    if losing_keys is None or admins[user_id] - losing_keys <= 0:
        del admins[user_id]
    if not admins:
        raise LastAdmin(
            "This would leave the organization without an active admin with a key; "
            "make another user admin first."
        )


def update_user(session: Session, organization_id: str, user_id: str, data: UserUpdate) -> AppUser:
    user = get_user(session, organization_id, user_id)
    demoted = data.roles is not None and Role.ADMIN not in data.roles
    if user.active and Role.ADMIN.value in user.role_set and (demoted or data.active is False):
        _keep_an_admin(session, organization_id, user.id, losing_keys=None)
    if data.name is not None:
        user.name = data.name
    if data.roles is not None:
        user.roles = ",".join(sorted({r.value for r in data.roles}))
    if data.active is not None:
        if user.active and not data.active:
            repository.end_web_sessions(session, user.id, utcnow())  # signed out everywhere
        user.active = data.active
    session.add(user)
    session.flush()
    return user


def issue_api_key(
    session: Session, organization_id: str, user_id: str, label: str
) -> tuple[ApiKey, str]:
    return _new_key(session, get_user(session, organization_id, user_id), label)


def list_api_keys(
    session: Session,
    organization_id: str,
    user_id: str,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[ApiKey]:
    get_user(session, organization_id, user_id)
    query = select(ApiKey).where(
        ApiKey.organization_id == organization_id, ApiKey.user_id == user_id
    )
    return fetch_page(
        session,
        query,
        ApiKey.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "created_at"),
    )


def revoke_api_key(session: Session, organization_id: str, key_pk: str, *, at: datetime) -> ApiKey:
    key = repository.get_key(session, organization_id, key_pk)
    if key is None:
        raise ApiKeyNotFound(f"No API key {key_pk}.")
    if key.revoked_at is None:  # revoking twice is harmless and keeps the first time
        _keep_an_admin(session, organization_id, key.user_id, losing_keys=1)
        key.revoked_at = at
        session.add(key)
        session.flush()
    return key
