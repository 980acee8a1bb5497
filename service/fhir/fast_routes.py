"""`GET /fhir/{type}/{id}` answered before routing (service/api/fast_reads.py), for the types
whose read is the plain read of one table row (TableMapping.read).

The row comes from the fast path's own cursor; what the record has no column for (kept.py:
elements and identifiers) is read on the same cursor and handed to the mapping, which renders
the resource from a detached instance of the row exactly as the route does. The instance sits
in a session with no database: anything the mapping would load besides (a relationship) fails,
and the route answers instead.
"""

from typing import Any

import sqlalchemy as sa
from fastapi import Response
from sqlalchemy import orm
from sqlmodel import Session

from service.api import fast_reads
from service.fhir import kept
from service.fhir.http import written_response
from service.fhir.interactions import Written
from service.fhir.mapping.base import FhirType, TableMapping


def _as_loaded(model: type[Any], row: Any) -> Any:
    """The instance the ORM would have loaded from `row` (its columns by name), built as the
    ORM builds one: no constructor, no validation of what the database holds (the model's
    constructor cost half of this read's rendering)."""
    instance = sa.inspect(model).class_manager.new_instance()
    sa.inspect(instance).dict.update(row._asdict())
    orm.make_transient_to_detached(instance)  # as loaded: nothing to write
    return instance


def _render(mapping: TableMapping, row: Any, query: fast_reads.Query) -> Response | None:
    instance = _as_loaded(mapping.resource.model, row)
    with Session() as session:
        session.info["read_only"] = True
        session.add(instance)
        key = {"type": mapping.type_name, "id": row.id}
        rows = query(kept.KEPT_OF, key)
        elements = {r.name: r.kept for r in rows if r.name is not None}
        identifiers = [r.kept for r in rows if r.name is None]
        kept.recall(session, mapping.type_name, row.id, elements, identifiers)
        if not mapping.owns(instance):
            return None
        written = Written(200, mapping, instance, mapping.to_fhir(instance))
        return written_response(written, base_url="")  # the base only makes a 201's Location


def register(mapping: FhirType) -> None:
    if not isinstance(mapping, TableMapping) or type(mapping).read is not TableMapping.read:
        return  # a read of its own (several tables, a computed resource): the route's
    resource = mapping.resource
    fast_reads.register(
        fast_reads.FastRead(
            prefix=f"/fhir/{mapping.type_name}",
            route_name=f"fhir_read_{mapping.type_name}",
            table=resource.model.__table__,
            readers=mapping.readers,
            audit_type=resource.name if resource.phi else None,
            patient_id=resource.patient_id,
            render=lambda row, query: _render(mapping, row, query),
            accept=fast_reads.PLAIN_ACCEPT,
        )
    )
