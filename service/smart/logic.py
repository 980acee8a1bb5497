"""Use cases: register and revoke SMART clients, exchange a signed assertion for an access
token (SMART Backend Services, RFC 7523 client authentication), authenticate that token."""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session, col, select

from service.auth import keys as auth_keys
from service.auth.logic import SMART_TOKEN_PREFIX, LoginDenied, Principal
from service.auth.models import AppUser, role_set
from service.errors import NotFound
from service.paging import Page, by_creation, fetch_page
from service.smart import keysets, scopes
from service.smart.models import SmartAccessToken, SmartAssertion, SmartClient
from service.smart.schemas import SmartClientCreate

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PREFIX = SMART_TOKEN_PREFIX
TOKEN_LIFETIME = timedelta(minutes=5)  # short-lived: a client asks again, it is cheap
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)  # SMART: exp no more than 5 minutes ahead
CLOCK_SKEW = timedelta(seconds=60)  # tolerated difference between the client's clock and ours


class SmartClientNotFound(NotFound):
    code = "smart-client-not-found"


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer of the token endpoint (not a problem+json)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


# --- registration (admin API) ---


def register_client(session: Session, organization_id: str, data: SmartClientCreate) -> SmartClient:
    """The client's integration user is created with it: audit rows name that user."""
    scopes.parse_all(data.scopes)  # 422 on a malformed scope, before anything is written
    if data.jwks is not None:
        keysets.import_public(data.jwks)
    user = AppUser(
        organization_id=organization_id,
        name=f"SMART client: {data.name}"[:200],
        kind="integration",
        roles=",".join(sorted({r.value for r in data.roles})),
    )
    session.add(user)
    session.flush()
    client = SmartClient(
        organization_id=organization_id,
        client_id=secrets.token_hex(16),
        name=data.name,
        user_id=user.id,
        scopes=" ".join(data.scopes.split()),
        jwks=json.dumps(data.jwks) if data.jwks is not None else None,
        jwks_url=str(data.jwks_url) if data.jwks_url is not None else None,
    )
    session.add(client)
    session.flush()
    return client


def get_client(session: Session, organization_id: str, client_pk: str) -> SmartClient:
    client = session.get(SmartClient, client_pk)
    if client is None or client.organization_id != organization_id:
        raise SmartClientNotFound(f"No SMART client {client_pk}.")
    return client


def list_clients(
    session: Session,
    organization_id: str,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[SmartClient]:
    query = select(SmartClient).where(SmartClient.organization_id == organization_id)
    return fetch_page(
        session,
        query,
        SmartClient.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "created_at"),
    )


def client_roles(session: Session, client: SmartClient) -> frozenset[str]:
    user = session.get(AppUser, client.user_id)
    return user.role_set if user is not None else frozenset()


def revoke_client(
    session: Session, organization_id: str, client_pk: str, *, at: datetime
) -> SmartClient:
    """Its tokens stop working at once (they are read on every request); its user is
    deactivated so that nothing else acts as it."""
    client = get_client(session, organization_id, client_pk)
    if client.revoked_at is None:
        client.revoked_at = at
        session.add(client)
        user = session.get(AppUser, client.user_id)
        if user is not None:
            user.active = False
            session.add(user)
        session.execute(
            sa.delete(SmartAccessToken).where(col(SmartAccessToken.client_pk) == client.id)
        )
        session.flush()
    return client


# --- the token endpoint ---


@dataclass(frozen=True)
class Issued:
    client: SmartClient
    token: str
    granted: list[scopes.Scope]
    expires_in: int


def _claims_of(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before the signature is checked: they name the client (and key)."""
    try:
        compact = jws.extract_compact(assertion.encode())
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise _invalid_client("client_assertion is not a compact JWS.") from exc
    if not isinstance(claims, dict):
        raise _invalid_client("client_assertion carries no JSON claims.")
    return dict(compact.protected), claims


def _key_set(client: SmartClient, remote: keysets.RemoteKeySets, kid: str | None) -> KeySet:
    if client.jwks is not None:
        return keysets.import_public(json.loads(client.jwks))
    assert client.jwks_url is not None
    try:
        key_set = remote.get(client.jwks_url)
        if kid is not None and not any(k.kid == kid for k in key_set.keys):
            key_set = remote.get(client.jwks_url, refresh=True)  # the client rotated its keys
    except Exception as exc:  # unreachable, not JSON, not a JWK Set: the client's to fix
        raise _invalid_client("The client's jwks_url could not be read.") from exc
    return key_set


def _check_claims(
    claims: dict[str, Any], client: SmartClient, token_url: str, at: datetime
) -> datetime:
    """RFC 7523 §3 and SMART Backend Services: iss = sub = client_id, aud = this endpoint,
    exp at most 5 minutes ahead, a jti. Returns the assertion's expiry."""
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        raise _invalid_client("iss and sub must both be the client_id.")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if token_url not in audiences:
        raise _invalid_client(f"aud must be the token endpoint, {token_url}.")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _invalid_client("The assertion needs an exp (seconds since the epoch).")
    expires = datetime.fromtimestamp(exp, at.tzinfo)
    if expires <= at - CLOCK_SKEW:
        raise _invalid_client("The assertion has expired.")
    if expires > at + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise _invalid_client("exp may be at most 5 minutes ahead.")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if isinstance(value, int | float) and datetime.fromtimestamp(value, at.tzinfo) > (
            at + CLOCK_SKEW
        ):
            raise _invalid_client(f"The assertion's {name} is in the future.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise _invalid_client("The assertion needs a jti (at most 255 characters).")
    return expires


def _remember_jti(
    session: Session, client: SmartClient, jti: str, expires: datetime, at: datetime
) -> None:
    """Insert-if-absent on the primary key: of two replicas given the same assertion at once,
    one inserts and the other finds it (PostgreSQL waits for the first's commit)."""
    table = SmartAssertion.__table__  # type: ignore[attr-defined]
    session.execute(sa.delete(table).where(table.c.client_pk == client.id, table.c.expires_at < at))
    dialect = session.get_bind().dialect.name
    insert: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(client_pk=client.id, jti=jti, expires_at=expires + CLOCK_SKEW)
    inserted = session.execute(statement.on_conflict_do_nothing().returning(table.c.jti)).first()
    if inserted is None:  # the row was there: this assertion was used before
        raise _invalid_client("This assertion's jti was used already; sign a new one.")


def issue_token(
    session: Session,
    form: dict[str, str],
    *,
    token_url: str,
    at: datetime,
    remote: keysets.RemoteKeySets,
) -> Issued:
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials.")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = form.get("client_assertion", "")
    requested = form.get("scope", "").strip()
    if not assertion:
        raise OAuthError("invalid_request", "client_assertion is missing.")
    if not requested:
        raise OAuthError("invalid_request", "scope is missing, e.g. system/*.rs.")
    header, unverified = _claims_of(assertion)
    if header.get("alg") not in keysets.ALGORITHMS:
        raise _invalid_client("The assertion must be signed with RS384 or ES384.")
    client_id = unverified.get("iss")
    client = (
        session.exec(select(SmartClient).where(SmartClient.client_id == client_id)).first()
        if isinstance(client_id, str)
        else None
    )
    user = session.get(AppUser, client.user_id) if client is not None else None
    if client is None or client.revoked_at is not None or user is None or not user.active:
        raise _invalid_client("No such client, or it was revoked.")
    kid = header.get("kid")
    key_set = _key_set(client, remote, kid if isinstance(kid, str) else None)
    try:
        jwt.decode(assertion, key_set, algorithms=list(keysets.ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise _invalid_client("The assertion's signature does not verify.") from exc
    expires = _check_claims(unverified, client, token_url, at)
    try:
        granted = scopes.grant(requested, client.scopes)
    except scopes.ScopeInvalid as exc:
        raise OAuthError("invalid_scope", exc.detail) from exc
    if not granted:
        raise OAuthError("invalid_scope", f"None of {requested!r} is registered for this client.")
    _remember_jti(session, client, str(unverified["jti"]), expires, at)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.execute(
        sa.delete(SmartAccessToken).where(
            col(SmartAccessToken.client_pk) == client.id, col(SmartAccessToken.expires_at) < at
        )
    )
    session.add(
        SmartAccessToken(
            token_hash=auth_keys.hash_secret(token),
            client_pk=client.id,
            organization_id=client.organization_id,
            scopes=" ".join(str(s) for s in granted),
            expires_at=at + TOKEN_LIFETIME,
        )
    )
    session.flush()
    return Issued(client, token, granted, int(TOKEN_LIFETIME.total_seconds()))


# --- using a token ---


def authenticate(session: Session, token: str, at: datetime) -> Principal:
    """Read on every request, like API keys: an expired token or a revoked client is refused."""
    row = session.get(SmartAccessToken, auth_keys.hash_secret(token))
    client = session.get(SmartClient, row.client_pk) if row is not None else None
    user = session.get(AppUser, client.user_id) if client is not None else None
    if row is None or client is None or user is None:
        raise LoginDenied("The access token is unknown or has expired.", reason="unknown token")
    refused = (
        "expired token"
        if row.expires_at <= at
        else ("revoked client" if client.revoked_at is not None or not user.active else None)
    )
    if refused:
        raise LoginDenied(
            "The access token is unknown or has expired.",
            organization_id=client.organization_id,
            user_id=user.id,
            reason=refused,
        )
    return Principal(
        user.id,
        client.organization_id,
        role_set(user.roles),
        client.id,
        scopes=frozenset(row.scopes.split()),
    )
