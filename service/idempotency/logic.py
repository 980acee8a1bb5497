"""Claim a key before the work, store the answer after it, replay it on a retry.

The key's row is inserted first, inside the request's transaction: a concurrent retry with the
same key blocks on the unique index until the first request commits, then replays its answer.
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service.errors import Conflict, InvalidInput
from service.idempotency.models import IdempotencyRecord


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency-key-reused"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency-key-in-flight"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    return digest_fingerprint(method, path, hashlib.sha256(body).hexdigest())


def digest_fingerprint(method: str, path: str, sha256: str) -> str:
    """The same fingerprint from the body's digest (an upload is hashed as it streams in)."""
    return f"{method} {path[:200]} {sha256}"


def _find(session: Session, organization_id: str, key: str) -> IdempotencyRecord | None:
    return session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.organization_id == organization_id, IdempotencyRecord.key == key
        )
    ).first()


def _replay(record: IdempotencyRecord, request_fingerprint: str) -> Replay:
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key."
        )
    if record.status_code is None or record.response_body is None:
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still running.")
    return Replay(record.status_code, record.response_body)


def begin(
    session: Session, organization_id: str, key: str, request_fingerprint: str
) -> tuple[IdempotencyRecord | None, Replay | None]:
    """Either claims the key (record returned) or returns the stored answer to replay."""
    if not 1 <= len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters.")
    existing = _find(session, organization_id, key)
    if existing is not None:
        return None, _replay(existing, request_fingerprint)
    record = IdempotencyRecord(
        organization_id=organization_id, key=key, fingerprint=request_fingerprint
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        # A concurrent request with this key committed first: answer as it did.
        winner = _find(session, organization_id, key)
        if winner is None:
            raise IdempotencyKeyInFlight(
                "A request with this Idempotency-Key is still running."
            ) from None
        return None, _replay(winner, request_fingerprint)
    return record, None


def finish(session: Session, record: IdempotencyRecord, status_code: int, body: str) -> None:
    record.status_code, record.response_body = status_code, body
    session.add(record)
    session.flush()
