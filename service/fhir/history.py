"""Versions of resources as FHIR clients wrote them, for vread (`[type]/[id]/_history/[vid]`)
and instance history (`[type]/[id]/_history`). Versions made through REST are not
snapshotted: the current one is always served from the record itself."""

from typing import Any

from sqlmodel import Session, col, select

from service.fhir.models import FhirResourceVersion
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
    session.add(
        FhirResourceVersion(
            organization_id=organization_id,
            resource_type=type_name,
            resource_id=resource_id,
            version=version,
            method=method,
            recorded_at=utcnow(),
            body=resource,
        )
    )


def get(
    session: Session, organization_id: str, type_name: str, resource_id: str, version: int
) -> FhirResourceVersion | None:
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
