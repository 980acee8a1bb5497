"""FHIR R4 Encounter, Condition, ServiceRequest and Specimen bodies modelled on the spec's
examples (encounter-example, condition-example, servicerequest-example-lipid, specimen-101) with
US EHR habits: the EHR's own identifiers, US Core profiles, extensions the service ignores."""

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Tenant
from tests.fhir.examples import (
    BILLING_PROVIDER,
    PATIENT,
    PAYER,
    PRACTITIONER,
    US_CORE,
    coverage,
    created,
)

EHR_VISIT_SYSTEM = "urn:oid:1.2.36.146.595.217.0.1.8"
EHR_ORDER_SYSTEM = "urn:oid:1.2.36.146.595.217.0.1.9"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
IGNORED_EXTENSION = {"url": "http://example.org/ehr/visit-source", "valueString": "kiosk"}


@dataclass
class Chart:
    """What an EHR has pushed before a visit: patient, coverage, billing org, practitioner."""

    patient: str
    payer: str
    coverage: str
    billing: str
    practitioner: str


def push_chart(client: TestClient, tenant: Tenant) -> Chart:
    patient = created(client, tenant, PATIENT)["id"]
    payer = created(client, tenant, PAYER)["id"]
    cover = created(client, tenant, coverage(f"Patient/{patient}", f"Organization/{payer}"))["id"]
    billing = created(client, tenant, BILLING_PROVIDER)["id"]
    practitioner = created(client, tenant, PRACTITIONER)["id"]
    return Chart(patient, payer, cover, billing, practitioner)


def encounter(chart: Chart, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "example",
        "meta": {"profile": [f"{US_CORE}/us-core-encounter"]},
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">Office visit</div>',
        },
        "extension": [IGNORED_EXTENSION],
        "identifier": [{"use": "usual", "system": EHR_VISIT_SYSTEM, "value": "V-2026-000123"}],
        "status": "finished",
        "class": {"system": V3_ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [
            {
                "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}],
                "text": "Office visit, established patient",
            }
        ],
        "subject": {"reference": f"Patient/{chart.patient}", "display": "Peter James Chalmers"},
        "participant": [
            {
                "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF"}]}],
                "individual": {"reference": f"Practitioner/{chart.practitioner}"},
            }
        ],
        "period": {"start": "2026-10-15T09:00:00-04:00", "end": "2026-10-15T09:30:00-04:00"},
        "reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]}],
        "serviceProvider": {"reference": f"Organization/{chart.billing}"},
    }
    body.update(changes)
    return body


def condition(
    patient: str, encounter_ref: str, code: str = "E11.9", system: str = ICD10CM
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "meta": {"profile": [f"{US_CORE}/us-core-condition-encounter-diagnosis"]},
        "extension": [IGNORED_EXTENSION],
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "44054006"},
                {"system": system, "code": code},
            ],
            "text": "Type 2 diabetes mellitus",
        },
        "subject": {"reference": patient},
        "encounter": {"reference": encounter_ref},
        "onsetDateTime": "2019-03-01",
        "recordedDate": "2026-10-15",
    }


def service_request(
    patient: str, requester: str, loinc: str = "4548-4", **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "meta": {"profile": [f"{US_CORE}/us-core-servicerequest"]},
        "extension": [IGNORED_EXTENSION],
        "identifier": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}
                    ]
                },
                "system": EHR_ORDER_SYSTEM,
                "value": "ORD-000123",
            }
        ],
        "status": "active",
        "intent": "original-order",
        "category": [
            {
                "coding": [
                    {"system": "http://snomed.info/sct", "code": "108252007", "display": "Lab"}
                ]
            }
        ],
        "priority": "routine",
        "code": {
            "coding": [
                {"system": LOINC, "code": loinc},
                {"system": "http://acme.org/tests", "code": "A1C-EHR"},
            ],
            "text": "Hemoglobin A1c",
        },
        "subject": {"reference": patient},
        "authoredOn": "2026-10-15T09:15:00-04:00",
        "requester": {"reference": requester},
        "reasonCode": [{"coding": [{"system": ICD10CM, "code": "E11.9"}]}],
    }
    body.update(changes)
    return body


def specimen(patient: str, request: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Specimen",
        "extension": [IGNORED_EXTENSION],
        "accessionIdentifier": {"system": "http://acme.org/ehr/specimens", "value": "X352356"},
        "status": "available",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0487",
                    "code": "BLD",
                    "display": "Whole blood",
                }
            ]
        },
        "subject": {"reference": patient},
        "request": [{"reference": request}],
        "collection": {
            "collectedDateTime": "2026-10-15T09:20:00-04:00",
            "quantity": {"value": 4, "unit": "mL"},
            "method": {"coding": [{"system": "http://snomed.info/sct", "code": "28520004"}]},
        },
        "container": [
            {
                "type": {"text": "EDTA lavender top"},
                "capacity": {"value": 4, "unit": "mL"},
            }
        ],
        "note": [{"text": "Patient fasting"}],
    }
    body.update(changes)
    return body
