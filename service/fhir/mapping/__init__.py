"""The FHIR resource types served under /fhir, one mapping module each, registered here.

To add a type (Encounter, ServiceRequest…): write `service/fhir/mapping/<type>.py` with a
`FhirType` (usually a `TableMapping` over the capability's `crud.Resource`) and add an instance
to `REGISTRY`. Routes, the CapabilityStatement, search Bundles and transactions pick it up.
"""

from service.fhir.mapping.base import FhirType
from service.fhir.mapping.claim import ClaimType
from service.fhir.mapping.claim_response import ClaimResponseType
from service.fhir.mapping.condition import ConditionType
from service.fhir.mapping.coverage import CoverageType
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

__all__ = ["REGISTRY", "FhirType"]
