"""The FHIR resource types served under /fhir, one mapping module each, registered here.

To add a type (Encounter, ServiceRequest…): write `service/fhir/mapping/<type>.py` with a
`FhirType` (usually a `TableMapping` over the capability's `crud.Resource`) and add an instance
to `REGISTRY`. Routes, the CapabilityStatement, search Bundles and transactions pick it up.
"""

from service.fhir.mapping.base import FhirType, SearchParam
from service.fhir.mapping.claim import ClaimType
from service.fhir.mapping.claim_response import ClaimResponseType
from service.fhir.mapping.condition import ConditionType
from service.fhir.mapping.coverage import CoverageType
from service.fhir.mapping.dates import date_filter
from service.fhir.mapping.diagnostic_report import DiagnosticReportType
from service.fhir.mapping.encounter import EncounterType
from service.fhir.mapping.observation import ObservationType
from service.fhir.mapping.organization import OrganizationType
from service.fhir.mapping.patient import PatientType
from service.fhir.mapping.practitioner import PractitionerType
from service.fhir.mapping.service_request import ServiceRequestType
from service.fhir.mapping.specimen import SpecimenType

REGISTRY: dict[str, FhirType] = {
    mapping.type_name: mapping
    for mapping in (
        PatientType(),
        CoverageType(),
        PractitionerType(),
        OrganizationType(),
        EncounterType(),
        ConditionType(),
        ServiceRequestType(),
        SpecimenType(),
        DiagnosticReportType(),
        ObservationType(),
        ClaimType(),
        ClaimResponseType(),
    )
}


def _poll_by_last_updated(mapping: FhirType) -> None:
    """Every type over one table searches `_lastUpdated` (an EHR polls for changes with it)."""
    column = mapping.updated_column()
    if column is None or "_lastUpdated" in mapping.search_params:
        return
    type(mapping).search_params = {
        **mapping.search_params,
        "_lastUpdated": SearchParam(
            "_lastUpdated",
            "date",
            "When the resource last changed (meta.lastUpdated): ge2026-10-15T09:00:00Z, a "
            "partial date, prefixes eq, ne, lt, le, gt, ge.",
            date_filter(column),
            column=column,
        ),
    }


for _mapping in REGISTRY.values():
    _poll_by_last_updated(_mapping)

__all__ = ["REGISTRY", "FhirType"]
