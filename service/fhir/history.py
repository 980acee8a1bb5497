"""Versions of resources as FHIR clients wrote them, for vread (`[type]/[id]/_history/[vid]`)
and instance history (`[type]/[id]/_history`). Versions made through REST are not
snapshotted: the current one is always served from the record itself."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.fhir.models import FhirResourceVersion
from service.ids import new_id
from service.records import utcnow


def record(
    session: Session,
    organization_id: str,
    resource: dict[str, Any],
    method: str,
    *,
    fresh: bool = False,
) -> None:
    """Keeps this version (once; `fresh`: a resource just created has no version kept yet)."""
    version = int(resource["meta"]["versionId"])
    type_name, resource_id = resource["resourceType"], resource["id"]
    if not fresh and get(session, organization_id, type_name, resource_id, version) is not None:
        return  # kept already (an update that changed nothing, or a replaced version)
    values = {
        "id": new_id(),
        "organization_id": organization_id,
        "resource_type": type_name,
        "resource_id": resource_id,
        "version": version,
        "method": method,
        "recorded_at": utcnow(),
        "body": resource,
    }
    pending: dict[tuple[str, str, int], dict[str, Any]] | None = session.info.get(_PENDING)
    if pending is not None:
        pending[(type_name, resource_id, version)] = values
    else:
        session.add(FhirResourceVersion(**values))


# session.info key: versions recorded inside `batched`, not yet inserted.
_PENDING = "fhir_versions_pending"


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """The versions recorded inside go in one INSERT (`write_pending`, at the end at the
    latest): a transaction Bundle keeps one per entry. `get` and `versions` see them before."""
    if _PENDING in session.info:
        yield
        return
    session.info[_PENDING] = {}
    try:
        yield
        write_pending(session)
    finally:
        session.info.pop(_PENDING, None)


def write_pending(session: Session) -> None:
    pending: dict[tuple[str, str, int], dict[str, Any]] | None = session.info.get(_PENDING)
    if pending:
        rows = list(pending.values())
        pending.clear()
        table = FhirResourceVersion.__table__  # type: ignore[attr-defined]
        session.execute(sa.insert(table), rows)


def get(
    session: Session, organization_id: str, type_name: str, resource_id: str, version: int
) -> FhirResourceVersion | None:
    waiting = (session.info.get(_PENDING) or {}).get((type_name, resource_id, version))
    if waiting is not None and waiting["organization_id"] == organization_id:
        return FhirResourceVersion(**waiting)
    return session.exec(
        select(FhirResourceVersion).where(
            FhirResourceVersion.organization_id == organization_id,
            FhirResourceVersion.resource_type == type_name,
            FhirResourceVersion.resource_id == resource_id,
            FhirResourceVersion.version == version,
        )
    ).first()


def versions(
    session: Session, organization_id: str, type_name: str, resource_id: str
) -> list[FhirResourceVersion]:
    """Newest first."""
    write_pending(session)
    return list(
        session.exec(
            select(FhirResourceVersion)
            .where(
                FhirResourceVersion.organization_id == organization_id,
                FhirResourceVersion.resource_type == type_name,
                FhirResourceVersion.resource_id == resource_id,
            )
            .order_by(col(FhirResourceVersion.version).desc())
        ).all()
    )
