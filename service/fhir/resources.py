"""The one module that imports fhir.resources: R4 JSON is validated here (R4B models, which
accept R4 payloads for the resources served) and its errors are turned into FHIRPath."""

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from service.errors import FieldError, InvalidInput


class ResourceInvalid(InvalidInput):
    """The JSON is not a valid FHIR resource (HTTP 400: it fails basic FHIR validation)."""

    code = "invalid-resource"
    status = 400


class UnknownResourceType(InvalidInput):
    code = "unknown-resource-type"
    status = 400


def fhirpath(root: str, loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic error location as a FHIRPath expression: ('name', 0, 'given') ->
    Patient.name[0].given."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "").isalnum():
            path += f".{'resourceType' if part == 'resource_type' else part}"
    return path


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown element (not part of the FHIR R4 resource)"
    if error.get("type") == "missing":
        return "required element is missing"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ").split("\n")[0].strip()


def model_class(resource_type: str) -> type[Any]:
    try:
        return get_fhir_model_class(resource_type)
    except (ValueError, KeyError):
        raise UnknownResourceType(
            f"{resource_type!r} is not a FHIR resource type.",
            errors=[FieldError("resourceType", "unknown resource type")],
        ) from None


def validate(resource_type: str, data: Any, *, root: str | None = None) -> None:
    """Raises ResourceInvalid naming every bad element; `root` prefixes the FHIRPath
    (e.g. `Bundle.entry[2].resource`)."""
    where = root or resource_type
    if not isinstance(data, dict):
        raise ResourceInvalid(
            "The body must be a JSON object (a FHIR resource).",
            errors=[FieldError(where, "not a JSON object")],
        )
    if data.get("resourceType") != resource_type:
        raise ResourceInvalid(
            f"Expected a {resource_type} resource, got {data.get('resourceType')!r}.",
            errors=[FieldError(f"{where}.resourceType", f"must be {resource_type}")],
        )
    model = model_class(resource_type)
    try:
        model.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(fhirpath(where, e["loc"]), _message(dict(e))) for e in exc.errors()]
        raise ResourceInvalid(
            f"The {resource_type} resource is not valid FHIR R4.", errors=errors
        ) from None
    except (ValueError, TypeError) as exc:  # fhir_core raises plain errors for some shapes
        raise ResourceInvalid(
            f"The {resource_type} resource is not valid FHIR R4: {exc}",
            errors=[FieldError(where, str(exc).split("\n")[0])],
        ) from None


def parse_outgoing(data: dict[str, Any]) -> Any:
    """Parses a resource this service produced (tests check every response with it)."""
    return model_class(str(data["resourceType"])).model_validate(data)


def summary_elements(resource_type: str) -> frozenset[str]:
    """The JSON names of the elements the spec marks Σ (what `_summary=true` keeps), and the
    required ones (a subset must still be a valid resource)."""
    return frozenset(_elements(resource_type, summary=True))


def required_elements(resource_type: str) -> frozenset[str]:
    return frozenset(_elements(resource_type, summary=False))


def _elements(resource_type: str, *, summary: bool) -> set[str]:
    model = model_class(resource_type)
    names = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict):
            continue
        required = bool(extra.get("element_required")) or info.is_required()
        if required or (summary and extra.get("summary_element_property")):
            names.add(info.alias or name)
    return names
