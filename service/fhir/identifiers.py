"""Business identifiers of the FHIR types whose records have no column for them (Encounter:
the EHR's visit number; ServiceRequest: the placer order number; Coverage; Specimen): kept as
sent, rendered back, and searchable with `identifier=[system]|[value]`, so that an EHR's
conditional create (`ifNoneExist: identifier=…`) finds what its first attempt created."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, delete, select
from sqlmodel.sql.expression import SelectOfScalar

from service.fhir.models import FhirIdentifier
from service.fhir.outcomes import invalid

_MAX = 255


def store(
    session: Session,
    organization_id: str,
    type_name: str,
    resource_id: str,
    elements: Any,
    root: str,
) -> None:
    """Replaces the resource's identifiers with `elements` (PUT sends the whole resource)."""
    rows = []
    for position, element in enumerate(elements or []):
        if not isinstance(element, dict) or not element.get("value"):
            continue  # FHIR allows an identifier without a value; nothing to search by
        system, value = str(element.get("system") or ""), str(element["value"])
        if len(system) > _MAX or len(value) > _MAX:
            raise invalid(f"{root}.identifier[{position}]", f"system and value: at most {_MAX}")
        rows.append(
            FhirIdentifier(
                organization_id=organization_id,
                resource_type=type_name,
                resource_id=resource_id,
                position=position,
                system=system,
                value=value,
                element=element,
            )
        )
    session.exec(
        delete(FhirIdentifier).where(
            col(FhirIdentifier.resource_type) == type_name,
            col(FhirIdentifier.resource_id) == resource_id,
        )
    )
    session.add_all(rows)
    session.flush()


def rendered(row: Any, type_name: str) -> list[dict[str, Any]]:
    session = object_session(row)
    if session is None:
        return []
    return [
        dict(element)
        for element in session.exec(  # type: ignore[attr-defined]
            select(FhirIdentifier.element)
            .where(
                FhirIdentifier.resource_type == type_name,
                FhirIdentifier.resource_id == row.id,
            )
            .order_by(col(FhirIdentifier.position))
        ).all()
    ]


def matching_ids(type_name: str, values: Sequence[str]) -> SelectOfScalar[str]:
    """Ids whose identifiers match any token: `system|value`, `|value` (no system), `value`
    (any system) or `system|` (any value in that system)."""
    alternatives = []
    for token in values:
        if "|" in token:
            system, _, value = token.partition("|")
            clause = col(FhirIdentifier.system) == system
            if value:
                clause = sa.and_(clause, col(FhirIdentifier.value) == value)
            alternatives.append(clause)
        else:
            alternatives.append(col(FhirIdentifier.value) == token)
    return select(FhirIdentifier.resource_id).where(
        FhirIdentifier.resource_type == type_name, sa.or_(*alternatives)
    )
