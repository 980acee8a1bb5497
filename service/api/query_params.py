"""Unknown query parameters on REST reads are refused (400 naming them), as FHIR searches do:
`GET /patients?q=zzzz` must not answer every patient as if the filter were applied."""

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel

from service.errors import DomainError, FieldError


class UnknownQueryParameter(DomainError):
    code = "unknown-query-parameter"
    status = 400


def _declared(dependant: Dependant) -> frozenset[str]:
    """Every query parameter the route or its dependencies read; a filter model given as
    `Annotated[Filters, Query()]` contributes its fields."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for param in current.query_params:
            annotation: Any = param.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names.update(f.alias or n for n, f in annotation.model_fields.items())
            else:
                names.add(param.alias)
        pending.extend(current.dependencies)
    return frozenset(names)


async def refuse_unknown_query(request: Request) -> None:
    """A router dependency for the REST API (GET only: reads and lists)."""
    if request.method != "GET" or not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    # Kept on the route: derived from the code alone, the same in every process.
    declared: frozenset[str] | None = getattr(route, "_declared_query_params", None)
    if declared is None:
        declared = _declared(dependant)
        setattr(route, "_declared_query_params", declared)  # noqa: B010
    unknown = sorted({name for name in request.query_params if name not in declared})
    if unknown:
        raise UnknownQueryParameter(
            "Unknown query parameter(s): "
            + ", ".join(unknown)
            + ". Accepted: "
            + (", ".join(sorted(declared)) or "none")
            + ".",
            errors=[
                FieldError(f"?{name}", "not a parameter of this operation") for name in unknown
            ],
        )
