"""`Idempotency-Key` for routes (DESIGN.md: POSTs that create accept it, for EHR and client
retries). A route takes `IdempotencyDep`, calls `replay_or_claim()` before the work and
`remember()` after it, in the request's own transaction: a retry with the same key and the same
body answers the first answer (`Idempotent-Replayed: true`); the same key with another body is
422; a retry that arrives while the first request still runs waits for it (unique index).
"""

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel, TypeAdapter
from sqlmodel import Session

from service.audit import logic as audit
from service.auth.logic import Principal
from service.idempotency import logic
from service.idempotency.models import IdempotencyRecord

KEY_DESCRIPTION = (
    "Any unique string (a UUID) per intended request: a retry with the same key and body "
    "answers the first answer instead of doing the work twice."
)


class Idempotency:
    def __init__(self, key: str | None, fingerprint: str, request: Request | None = None) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self._record: IdempotencyRecord | None = None
        self._request = request

    def replay_or_claim(
        self,
        session: Session,
        organization_id: str,
        location: Callable[[Any], str] | None = None,
    ) -> Response | None:
        """The stored answer when this key was seen; else claims the key and returns None.
        `location` gives the Location header of a replay from its JSON body."""
        if self.key is None:
            return None
        self._record, replay = logic.begin(session, organization_id, self.key, self.fingerprint)
        if replay is None:
            return None
        headers = {"Idempotent-Replayed": "true"}
        body = json.loads(replay.body)
        self._audit_replay(session, body)
        if location is not None:
            headers["Location"] = location(body)
        if isinstance(body, dict) and isinstance(body.get("version"), int):
            headers["ETag"] = f'"{body["version"]}"'  # as set_etag answered the first time
        return Response(
            replay.body,
            status_code=replay.status_code,
            media_type="application/json",
            headers=headers,
        )

    def _audit_replay(self, session: Session, body: Any) -> None:
        """A replay hands the stored body (patient data, often) to whoever sent the key again,
        maybe another user of the organization: that user's read is audited, per patient."""
        principal: Principal | None = (
            getattr(self._request.state, "principal", None) if self._request else None
        )
        if principal is None or self._request is None:
            return
        path = self._request.url.path
        resource_type = path.removeprefix("/api/v1/").split("/")[0].replace("-", "_") or "unknown"
        resource_id = body.get("id") if isinstance(body, dict) else None
        patients: list[str | None] = [*sorted(_patient_ids(body, path))] or [None]
        for patient_id in patients:
            audit.record(
                session,
                principal,
                action="read",
                resource_type=resource_type[:60],
                resource_id=str(resource_id)[:64] if resource_id else None,
                patient_id=patient_id,
                detail="idempotent replay of a stored response",
            )

    def remember(
        self, session: Session, status_code: int, body: BaseModel | list[Any] | dict[str, Any]
    ) -> None:
        if self._record is None:
            return
        text = (
            body.model_dump_json()
            if isinstance(body, BaseModel)
            else TypeAdapter(Any).dump_json(body).decode()
        )
        logic.finish(session, self._record, status_code, text)


def _patient_ids(body: Any, path: str) -> set[str]:
    """Patients a stored body shows: its `patient_id` values (at any depth), or the patient
    itself under /patients."""
    found: set[str] = set()
    if path.startswith("/api/v1/patients") and isinstance(body, dict) and body.get("id"):
        found.add(str(body["id"]))
    pending = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            value = node.get("patient_id")
            if isinstance(value, str):
                found.add(value)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _target(request: Request) -> str:
    # The query string is part of the request (result imports name their worklist there).
    return f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path


async def idempotency(
    request: Request,
    idempotency_key: Annotated[str | None, Header(description=KEY_DESCRIPTION)] = None,
) -> Idempotency:
    # The body is already read (and cached) by the time dependencies run; the raw bytes are the
    # fingerprint, so a retry must resend the same bytes, as HTTP clients do.
    body = await request.body() if idempotency_key is not None else b""
    target = _target(request)
    return Idempotency(idempotency_key, logic.fingerprint(request.method, target, body), request)


class UploadIdempotency(Idempotency):
    """For routes that stream their body (service/uploads.py): reading it here would hold it
    whole, so the fingerprint comes from the digest the route computes as the bytes arrive."""

    def fingerprint_upload(self, sha256: str) -> None:
        assert self._request is not None
        request = self._request
        self.fingerprint = logic.digest_fingerprint(request.method, _target(request), sha256)


async def upload_idempotency(
    request: Request,
    idempotency_key: Annotated[str | None, Header(description=KEY_DESCRIPTION)] = None,
) -> UploadIdempotency:
    return UploadIdempotency(idempotency_key, "", request)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
UploadIdempotencyDep = Annotated[UploadIdempotency, Depends(upload_idempotency)]
