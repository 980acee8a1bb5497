"""What the FHIR edge keeps where the records have no column: tokens of a search parameter
(business identifiers of Encounter, ServiceRequest, Coverage and Specimen, the codes of
Encounter.type), searchable with `[system]|[value]`, so that an EHR's conditional create
(`ifNoneExist: identifier=…`) finds what its first attempt created; and elements kept as sent
(US Core extensions, email, communication, the given names as a list)."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, delete, select
from sqlmodel.sql.expression import SelectOfScalar

from service.fhir.models import FhirElement, FhirToken
from service.fhir.outcomes import invalid
from service.ids import new_id

_MAX = 255
_TOKEN: sa.Table = FhirToken.__table__  # type: ignore[attr-defined]
_ELEMENT: sa.Table = FhirElement.__table__  # type: ignore[attr-defined]
# session.info key: what this session wrote for the resources it created, by (type, id, what),
# so that answering a create renders it without reading back the rows it just wrote. Only
# kept.py writes these tables; a rewrite (not `fresh`) drops the entry, a rollback all of them.
_WRITTEN = "fhir_kept_written"


def _remember(session: Session, key: tuple[str, str, str], value: Any, fresh: bool) -> None:
    written: dict[tuple[str, str, str], Any] = session.info.setdefault(_WRITTEN, {})
    if fresh:
        written[key] = json.loads(json.dumps(value))  # as the JSON column would give it back
    else:
        written.pop(key, None)


def _recalled(session: orm.Session, key: tuple[str, str, str]) -> Any:
    return session.info.get(_WRITTEN, {}).get(key)


# What `kept` and `identifiers_of` read, for a read that reads them on its own cursor and
# hands them over with `recall` (service/fhir/fast_routes.py).
def _of(table: sa.Table) -> tuple[Any, ...]:
    return table.c.resource_type == sa.bindparam("type"), table.c.resource_id == sa.bindparam("id")


_IDENTIFIER_TOKENS = (*_of(_TOKEN), _TOKEN.c.param == "identifier")
ELEMENTS_OF = sa.select(_ELEMENT.c.name, _ELEMENT.c.value).where(*_of(_ELEMENT))
IDENTIFIERS_OF = sa.select(_TOKEN.c.element).where(*_IDENTIFIER_TOKENS).order_by(_TOKEN.c.position)
# Both in one statement (one round trip on PostgreSQL): the elements (a name, position -1)
# first, then the identifiers (no name) in their order.
KEPT_OF = sa.union_all(
    sa.select(
        _ELEMENT.c.name, _ELEMENT.c.value.label("kept"), sa.literal(-1).label("position")
    ).where(*_of(_ELEMENT)),
    sa.select(sa.null(), _TOKEN.c.element, _TOKEN.c.position).where(*_IDENTIFIER_TOKENS),
).order_by(sa.literal_column("position"))


def recall(
    session: Session,
    type_name: str,
    row_id: str,
    elements: dict[str, list[Any]],
    identifiers: list[dict[str, Any]],
) -> None:
    """What `kept` and `identifiers_of` would read for this row, read already."""
    written: dict[tuple[str, str, str], Any] = session.info.setdefault(_WRITTEN, {})
    written[(type_name, row_id, "elements")] = elements
    written[(type_name, row_id, "identifier")] = identifiers


def forget_written(session: Session) -> None:
    """After a rollback (a batch entry's savepoint): what was written is gone."""
    session.info.pop(_WRITTEN, None)


def identifier_tokens(elements: Any) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(position, system, value, element) of each Identifier with a value."""
    found = []
    for position, element in enumerate(elements or []):
        if isinstance(element, dict) and element.get("value"):
            found.append(
                (position, str(element.get("system") or ""), str(element["value"]), element)
            )
    return found


def concept_tokens(concepts: Any) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(position of the concept, system, code, coding) of each coding with a code."""
    found = []
    for position, concept in enumerate(concepts or []):
        for coding in (concept or {}).get("coding") or [] if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and coding.get("code"):
                found.append(
                    (position, str(coding.get("system") or ""), str(coding["code"]), coding)
                )
    return found


def store_tokens(
    session: Session,
    organization_id: str,
    type_name: str,
    resource_id: str,
    param: str,
    tokens: list[tuple[int, str, str, dict[str, Any]]],
    root: str,
    *,
    fresh: bool = False,
) -> None:
    """Replaces the resource's tokens of `param` (PUT sends the whole resource); `fresh`: the
    resource was just created, there is nothing to replace."""
    rows = []
    for position, system, value, element in tokens:
        if len(system) > _MAX or len(value) > _MAX:
            raise invalid(f"{root}.{param}[{position}]", f"system and value: at most {_MAX}")
        rows.append(
            {
                "id": new_id(),
                "organization_id": organization_id,
                "resource_type": type_name,
                "resource_id": resource_id,
                "param": param,
                "position": position,
                "system": system,
                "value": value,
                "element": element,
            }
        )
    if not fresh:
        session.exec(
            delete(FhirToken).where(
                col(FhirToken.resource_type) == type_name,
                col(FhirToken.resource_id) == resource_id,
                col(FhirToken.param) == param,
            )
        )
    _insert(session, _TOKEN, rows)
    _remember(session, (type_name, resource_id, param), [r["element"] for r in rows], fresh)


def _insert(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Complete rows as one table-level INSERT, at once: no ORM objects to build and flush
    (a transaction Bundle writes a few per entry)."""
    if rows:
        session.execute(sa.insert(table), rows)


def identifiers_of(row: Any, type_name: str) -> list[dict[str, Any]]:
    session = object_session(row)
    if session is None:
        return []
    recalled = _recalled(session, (type_name, row.id, "identifier"))
    if recalled is not None:
        return [dict(element) for element in recalled]
    key = {"type": type_name, "id": row.id}
    return [dict(r.element) for r in session.execute(IDENTIFIERS_OF, key)]


def matching_ids(type_name: str, param: str, values: Sequence[str]) -> SelectOfScalar[str]:
    """Ids with a token matching any of `system|value`, `|value` (no system), `value` (any
    system) or `system|` (any value in that system)."""
    alternatives = []
    for token in values:
        if "|" in token:
            system, _, value = token.partition("|")
            clause = col(FhirToken.system) == system
            if value:
                clause = sa.and_(clause, col(FhirToken.value) == value)
            alternatives.append(clause)
        else:
            alternatives.append(col(FhirToken.value) == token)
    return select(FhirToken.resource_id).where(
        FhirToken.resource_type == type_name, FhirToken.param == param, sa.or_(*alternatives)
    )


def keep(
    session: Session,
    organization_id: str,
    type_name: str,
    resource_id: str,
    elements: Mapping[str, list[Any] | None],
    *,
    fresh: bool = False,
) -> None:
    """Keeps the elements of a resource as sent (one given as nothing is forgotten)."""
    if not fresh:
        session.exec(
            delete(FhirElement).where(
                col(FhirElement.resource_type) == type_name,
                col(FhirElement.resource_id) == resource_id,
                col(FhirElement.name).in_(list(elements)),
            )
        )
    sent = {name: value for name, value in elements.items() if value}
    _insert(
        session,
        _ELEMENT,
        [
            {
                "id": new_id(),
                "organization_id": organization_id,
                "resource_type": type_name,
                "resource_id": resource_id,
                "name": name,
                "value": value,
            }
            for name, value in sent.items()
        ],
    )
    _remember(session, (type_name, resource_id, "elements"), sent, fresh)


def kept(row: Any, type_name: str) -> dict[str, list[Any]]:
    """The elements kept for this row, by name."""
    session = object_session(row)
    if session is None:
        return {}
    recalled = _recalled(session, (type_name, row.id, "elements"))
    if recalled is not None:
        return {name: list(value) for name, value in recalled.items()}
    key = {"type": type_name, "id": row.id}
    return {r.name: list(r.value) for r in session.execute(ELEMENTS_OF, key)}
