"""`_summary` and `_elements` (FHIR 3.1.1.5.7-8): a resource cut down to the elements asked
for, tagged SUBSETTED, still valid (required elements are kept)."""

from dataclasses import dataclass
from typing import Any

from service.fhir import resources
from service.fhir.outcomes import NotSupported, invalid

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
_ALWAYS = {"resourceType", "id", "meta"}
SUMMARY_VALUES = ("true", "data", "count", "false")


@dataclass(frozen=True)
class Shape:
    summary: str = "false"  # true | data | count | false
    elements: tuple[str, ...] = ()

    @property
    def subsets(self) -> bool:
        return self.summary in ("true", "data") or bool(self.elements)


def parse(pairs: list[tuple[str, str]], *, search: bool) -> Shape:
    summary = "false"
    elements: tuple[str, ...] = ()
    for key, value in pairs:
        if key == "_summary":
            if value == "text":
                raise NotSupported("_summary=text is not supported (resources carry no text).")
            if value not in SUMMARY_VALUES or (value == "count" and not search):
                allowed = SUMMARY_VALUES if search else ("true", "data", "false")
                raise invalid("_summary", "must be " + ", ".join(allowed), status=400)
            summary = value
        elif key == "_elements":
            elements = tuple(e.strip() for e in value.split(",") if e.strip())
    if summary != "false" and elements:
        raise invalid("_elements", "cannot be combined with _summary", status=400)
    return Shape(summary, elements)


def apply(resource: dict[str, Any], shape: Shape) -> dict[str, Any]:
    if not shape.subsets:
        return resource
    kind = str(resource["resourceType"])
    if shape.summary == "data":
        kept = {k: v for k, v in resource.items() if k != "text"}
    else:
        wanted = (
            resources.summary_elements(kind)
            if shape.summary == "true"
            else set(shape.elements) | resources.required_elements(kind)
        )
        kept = {k: v for k, v in resource.items() if k in wanted or k in _ALWAYS}
    meta = dict(kept.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    kept["meta"] = meta
    return kept
