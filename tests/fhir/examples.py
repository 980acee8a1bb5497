"""Realistic FHIR R4 resources, modelled on the spec's published examples (patient-example,
coverage-example, practitioner-example, organization-example) with US EHR habits: MRN under
an EHR's own OID typed MR, US Core race/ethnicity/birthsex extensions, contained subscriber."""

import copy
import json
from typing import Any

from fastapi.testclient import TestClient

from service.fhir import resources
from tests.factories import Tenant, valid_npi

FHIR_JSON = "application/fhir+json"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"
EHR_MRN_SYSTEM = "urn:oid:1.2.36.146.595.217.0.1"

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "example",
    "meta": {"profile": [f"{US_CORE}/us-core-patient"]},
    "text": {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">Peter James Chalmers</div>',
    },
    "extension": [
        {
            "url": f"{US_CORE}/us-core-race",
            "extension": [
                {
                    "url": "ombCategory",
                    "valueCoding": {
                        "system": "urn:oid:2.16.840.1.113883.6.238",
                        "code": "2106-3",
                        "display": "White",
                    },
                },
                {"url": "text", "valueString": "White"},
            ],
        },
        {
            "url": f"{US_CORE}/us-core-ethnicity",
            "extension": [
                {
                    "url": "ombCategory",
                    "valueCoding": {
                        "system": "urn:oid:2.16.840.1.113883.6.238",
                        "code": "2186-5",
                        "display": "Not Hispanic or Latino",
                    },
                },
                {"url": "text", "valueString": "Not Hispanic or Latino"},
            ],
        },
        {"url": f"{US_CORE}/us-core-birthsex", "valueCode": "M"},
    ],
    "identifier": [
        {
            "use": "usual",
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                ]
            },
            "system": EHR_MRN_SYSTEM,
            "value": "12345",
            "period": {"start": "2001-05-06"},
            "assigner": {"display": "Acme Healthcare"},
        },
        {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "000-00-0000"},
    ],
    "active": True,
    "name": [
        {"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
        {"use": "usual", "given": ["Jim"]},
        {"use": "maiden", "family": "Windsor", "given": ["Peter", "James"]},
    ],
    "telecom": [
        {"use": "home"},
        {"system": "phone", "value": "(03) 5555 6473", "use": "work", "rank": 1},
        {"system": "phone", "value": "(03) 3410 5613", "use": "mobile", "rank": 2},
        {"system": "email", "value": "jim@example.org"},
    ],
    "gender": "male",
    "birthDate": "1974-12-25",
    "_birthDate": {
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                "valueDateTime": "1974-12-25T14:35:45-05:00",
            }
        ]
    },
    "deceasedBoolean": False,
    "address": [
        {
            "use": "home",
            "type": "both",
            "text": "534 Erewhon St, PleasantVille, IL 62701",
            "line": ["534 Erewhon St", "Apt 4"],
            "city": "PleasantVille",
            "district": "Rainbow",
            "state": "IL",
            "postalCode": "62701",
            "period": {"start": "1974-12-25"},
        }
    ],
    "communication": [
        {
            "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-US"}]},
            "preferred": True,
        }
    ],
}

PAYER: dict[str, Any] = {
    "resourceType": "Organization",
    "id": "2",
    "identifier": [{"system": "urn:backoffice:payer-id", "value": "60054"}],
    "active": True,
    "type": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                    "code": "pay",
                    "display": "Payer",
                }
            ]
        }
    ],
    "name": "Aetna Better Health",
    "telecom": [{"system": "phone", "value": "800-555-0199", "use": "work"}],
    "address": [
        {"line": ["151 Farmington Ave"], "city": "Hartford", "state": "CT", "postalCode": "06156"}
    ],
}

BILLING_PROVIDER: dict[str, Any] = {
    "resourceType": "Organization",
    "identifier": [
        {"system": "http://hl7.org/fhir/sid/us-npi", "value": valid_npi("123456780")},
        {"system": "urn:oid:2.16.840.1.113883.4.4", "value": "12-3456789"},
    ],
    "type": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                    "code": "prov",
                }
            ]
        }
    ],
    "name": "Burgers University Medical Center",
    "address": [
        {"line": ["100 Main St"], "city": "Springfield", "state": "IL", "postalCode": "627011234"}
    ],
}

FACILITY: dict[str, Any] = {
    "resourceType": "Organization",
    "extension": [{"url": "urn:backoffice:fhir:place-of-service", "valueCode": "81"}],
    "identifier": [{"system": "urn:oid:2.16.840.1.113883.4.7", "value": "14D0123456"}],
    "name": "Clinical Lab",
    "address": [
        {"line": ["1 Lab Way"], "city": "Springfield", "state": "IL", "postalCode": "62701"}
    ],
}

PRACTITIONER: dict[str, Any] = {
    "resourceType": "Practitioner",
    "id": "example",
    "meta": {"profile": [f"{US_CORE}/us-core-practitioner"]},
    "identifier": [
        {"system": "http://hl7.org/fhir/sid/us-npi", "value": valid_npi("123456789")},
        {"system": "http://www.acme.org/practitioners", "value": "23"},
    ],
    "active": True,
    "name": [{"family": "Careful", "given": ["Adam"], "prefix": ["Dr"]}],
    "address": [
        {
            "use": "work",
            "line": ["534 Erewhon St"],
            "city": "PleasantVille",
            "state": "IL",
            "postalCode": "62701",
        }
    ],
    "qualification": [
        {
            "code": {
                "coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207Q00000X"}]
            }
        }
    ],
}


def coverage(patient_ref: str, payer_ref: str) -> dict[str, Any]:
    """coverage-example (9876B1) with its subscriber as a contained RelatedPerson (a spouse)."""
    return {
        "resourceType": "Coverage",
        "id": "9876B1",
        "contained": [
            {
                "resourceType": "RelatedPerson",
                "id": "sub",
                "patient": {"reference": patient_ref},
                "relationship": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                "code": "SPS",
                            }
                        ]
                    }
                ],
                "name": [{"family": "Chalmers", "given": ["Jane", "Q"]}],
                "gender": "female",
                "birthDate": "1976-03-01",
                "address": [
                    {
                        "line": ["534 Erewhon St"],
                        "city": "PleasantVille",
                        "state": "IL",
                        "postalCode": "62701",
                    }
                ],
            }
        ],
        "identifier": [{"system": "http://benefitsinc.com/certificate", "value": "12345"}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "EHCPOL",
                    "display": "extended healthcare",
                }
            ]
        },
        "policyHolder": {"reference": "#sub"},
        "subscriber": {"reference": "#sub"},
        "subscriberId": "AB9876",
        "beneficiary": {"reference": patient_ref},
        "dependent": "1",
        "relationship": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    "code": "spouse",
                }
            ]
        },
        "period": {"start": "2011-05-23", "end": "2030-05-23"},
        "payor": [{"reference": payer_ref}],
        "class": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "group",
                        }
                    ]
                },
                "value": "CB135",
                "name": "Corporate Baker's Inc. Local #35",
            },
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "plan",
                        }
                    ]
                },
                "value": "B37FC",
            },
        ],
        "order": 2,
        "network": "5",
    }


def example(resource: dict[str, Any], **changes: Any) -> dict[str, Any]:
    copied = copy.deepcopy(resource)
    copied.update(changes)
    return copied


def headers(tenant: Tenant, role: str = "integration", **extra: str) -> dict[str, str]:
    return {**tenant.headers(role), "Content-Type": FHIR_JSON, "Accept": FHIR_JSON, **extra}


def send(
    client: TestClient,
    method: str,
    url: str,
    tenant: Tenant,
    body: Any = None,
    role: str = "integration",
    **extra: str,
) -> Any:
    content = None if body is None else json.dumps(body)
    return client.request(method, url, content=content, headers=headers(tenant, role, **extra))


def valid(body: dict[str, Any]) -> dict[str, Any]:
    """Every resource this service sends must parse as FHIR (Bundles parse their entries)."""
    resources.parse_outgoing(body)
    return body


def created(client: TestClient, tenant: Tenant, resource: dict[str, Any]) -> dict[str, Any]:
    response = send(client, "POST", f"/fhir/{resource['resourceType']}", tenant, resource)
    assert response.status_code == 201, response.text
    return valid(response.json())


def outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    return body


def expressions(body: dict[str, Any]) -> list[str]:
    return [e for issue in body["issue"] for e in issue.get("expression", [])]
