"""Request body examples for /docs ("Try it out" sends them as they are), keyed by operation.

Each example is written against the demo organization (`backoffice demo`). Record ids are
generated, so an example names the record it means (`<id of patient D-1001>`) and its note says
where to look the id up; everything else (MRNs, NPIs, payer ids, codes, test codes, materials)
exists in the demo as written. tests/api/test_openapi_docs.py checks that every request body has
one, that each validates against its schema, and that no entry is left over."""

from typing import Any

ADDRESS = {"line1": "12 Main St", "city": "Springfield", "state": "IL", "postal_code": "627011234"}
LOOKUPS = (
    "Ids are generated: replace each `<id of ...>` with the `id` its lookup answers in your "
    "organization. On the demo: patients `GET /api/v1/patients/by-mrn/D-1001`, payers `GET "
    "/api/v1/payers/by-payer-id/ACME01`, providers `GET /api/v1/providers/by-npi/1900000013`, "
    "lab tests `GET /api/v1/lab-tests?code=CBC`, and the lists (`GET /api/v1/encounters?"
    "patient_id=...`, `/claims`, `/specimens`, `/worklists`, `/trading-partners`, `/users`) "
    "for the others."
)


def example(summary: str, value: Any, note: str = "") -> dict[str, Any]:
    text = f"{value}"
    description = " ".join(n for n in (note, LOOKUPS if "<id of" in text else "") if n)
    return {"summary": summary, "value": value} | (
        {"description": description} if note or description else {}
    )


_999 = (
    "ISA*00*          *00*          *ZZ*DEMOCH         *ZZ*SFMDEMO        *261206*1200*^*00501*"
    "000000001*0*P*:~GS*FA*DEMOCH*SFMDEMO*20261206*1200*1*X*005010X231A1~ST*999*0001*005010X231A1~"
    "AK1*HC*1*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~AK9*A*1*1*1~SE*6*0001~GE*1*1~"
    "IEA*1*000000001~"
)

REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    # organization and users
    "POST /api/v1/users": example(
        "A front desk user", {"name": "Front desk 1", "kind": "person", "roles": ["front_desk"]}
    ),
    "PATCH /api/v1/users/{user_id}": example(
        "Give a user a second role", {"roles": ["front_desk", "biller"]}
    ),
    "POST /api/v1/users/{user_id}/api-keys": example("A key for one desk", {"label": "desk 1"}),
    "POST /api/v1/users/{user_id}/password-reset": example(
        "A sign-in name and a one-time password for the web pages", {"username": "pat.front"}
    ),
    "PATCH /api/v1/organization": example(
        "The clinic's time zone", {"time_zone": "America/Chicago"}
    ),
    # clinic directory
    "POST /api/v1/payers": example(
        "A commercial payer",
        {
            "name": "Prairie Health Plan",
            "edi_payer_id": "PRAIRIE1",
            "claim_filing_indicator": "CI",
            "address": {
                "line1": "PO Box 4000",
                "city": "Chicago",
                "state": "IL",
                "postal_code": "60601",
            },
            "timely_filing_days": 180,
        },
        "The demo already has ACME01, MCRIL and MCDIL: a second create of one is 409.",
    ),
    "PATCH /api/v1/payers/{record_id}": example(
        "Change the filing limit", {"timely_filing_days": 90}
    ),
    "POST /api/v1/providers": example(
        "A rendering provider (individual)",
        {
            "npi": "1900000047",
            "kind": "individual",
            "family_name": "Haddad",
            "given_name": "Lina",
            "taxonomy": "207Q00000X",
        },
        "A billing provider is `kind: organization` with `organization_name`, `tax_id` and a "
        "street address with a 9-digit ZIP (the demo's is NPI 1900000005).",
    ),
    "PATCH /api/v1/providers/{record_id}": example("Set a taxonomy", {"taxonomy": "207R00000X"}),
    "POST /api/v1/facilities": example(
        "An office with its own NPI",
        {
            "name": "Springfield East Office",
            "npi": "1900000054",
            "address": ADDRESS,
            "place_of_service": "11",
        },
        "A lab adds its `clia_number` (10 characters, sent as REF*X4).",
    ),
    "PATCH /api/v1/facilities/{record_id}": example(
        "Change the place of service", {"place_of_service": "22"}
    ),
    "POST /api/v1/fee-schedules": example(
        "Charges for a payer",
        {
            "name": "Acme 2027",
            "payer_id": "<id of payer ACME01>",
            "effective_from": "2027-01-01",
            "items": [
                {"code_system": "CPT", "code": "99213", "charge": "130.00"},
                {"code_system": "CPT", "code": "85025", "charge": "34.00"},
            ],
        },
        "Leave `payer_id` out for the clinic's default charges.",
    ),
    "PATCH /api/v1/fee-schedules/{record_id}": example(
        "End a schedule", {"effective_to": "2027-12-31"}
    ),
    "POST /api/v1/trading-partners": example(
        "A clearinghouse (test files)",
        {
            "name": "clearinghouse",
            "submitter_name": "Springfield Family Medicine",
            "submitter_id": "SFM0001",
            "contact_name": "Billing Office",
            "contact_phone": "2175550100",
            "receiver_name": "Acme Clearinghouse",
            "receiver_id": "ACMECH",
            "isa_sender_id": "SFM0001",
            "isa_receiver_id": "ACMECH",
            "gs_sender_code": "SFM0001",
            "gs_receiver_code": "ACMECH",
            "usage_indicator": "T",
        },
        "The ids come from the clearinghouse's enrollment; `usage_indicator` P for production.",
    ),
    "PATCH /api/v1/trading-partners/{record_id}": example("Go live", {"usage_indicator": "P"}),
    # patients and coverages
    "POST /api/v1/patients": example(
        "A new patient",
        {
            "mrn": "A-1001",
            "family_name": "Rivera",
            "given_name": "Ana",
            "birth_date": "1980-04-02",
            "sex": "F",
            "address": ADDRESS,
            "phone": "2175550123",
        },
        "MRNs are unique per organization: a second create with A-1001 is 409.",
    ),
    "PATCH /api/v1/patients/{record_id}": example(
        "A new phone number, middle name removed", {"phone": "2175550199", "middle_name": None}
    ),
    "POST /api/v1/coverages": example(
        "The patient's own primary plan",
        {
            "patient_id": "<id of patient D-1001>",
            "payer_id": "<id of payer ACME01>",
            "member_id": "XAB123456789",
            "group_number": "GRP100",
            "priority": "primary",
            "relationship": "18",
            "start_date": "2026-01-01",
        },
    ),
    "PATCH /api/v1/coverages/{record_id}": example("End a coverage", {"end_date": "2026-12-31"}),
    # lab tests and orders
    "POST /api/v1/lab-tests": example(
        "A basic test with one component",
        {
            "code": "GLU",
            "name": "Glucose, serum",
            "loinc": "2345-7",
            "billing_code": "82947",
            "specimen_type": "SER",
            "container": "SST gold top",
            "min_volume": "1",
            "volume_unit": "mL",
            "stability_room_temp_hours": 8,
            "bench": "chemistry",
            "components": [
                {
                    "code": "2345-7",
                    "name": "Glucose",
                    "unit": "mg/dL",
                    "ranges": [{"low": "70", "high": "99"}],
                }
            ],
        },
    ),
    "PATCH /api/v1/lab-tests/{record_id}": example(
        "Move a test to another bench", {"bench": "chemistry"}
    ),
    "POST /api/v1/lab-orders": example(
        "A STAT CBC for diabetes follow-up",
        {
            "patient_id": "<id of patient D-1001>",
            "ordering_provider_id": "<id of provider 1900000013>",
            "test_ids": ["<id of lab test CBC>"],
            "priority": "stat",
            "reason_codes": ["E11.9"],
        },
    ),
    "PATCH /api/v1/lab-orders/{record_id}": example("Make an order STAT", {"priority": "stat"}),
    # specimens
    "POST /api/v1/specimens": example(
        "A lavender tube drawn now",
        {
            "order_id": "<id of the lab order>",
            "container": "EDTA lavender top",
            "collected_at": "2026-12-06T09:15:00-06:00",
            "location": "Draw station 1",
            "volume": "3",
            "volume_unit": "mL",
        },
        "Leave `test_ids` out for every test of the order; `collected_at` out for a specimen "
        "still to be drawn (status ordered).",
    ),
    "POST /api/v1/specimens/{specimen_id}/collection": example(
        "Drawn at the bedside",
        {
            "at": "2026-12-06T09:15:00-06:00",
            "location": "Room 4",
            "volume": "3",
            "volume_unit": "mL",
        },
    ),
    "POST /api/v1/specimens/{specimen_id}/receipt": example(
        "Received in the lab, refrigerated",
        {"location": "Lab reception", "temperature": "refrigerated", "condition": "intact"},
    ),
    "POST /api/v1/specimens/{specimen_id}/steps": example(
        "Formalin fixation of a biopsy",
        {"step": "fix", "parameters": {"hours": 8}, "location": "Histology", "note": "10% NBF"},
        "Step names and parameters come from the test's protocol (`GET /api/v1/lab-tests/{id}`).",
    ),
    "POST /api/v1/specimens/{specimen_id}/rejection": example(
        "Hemolyzed, draw again",
        {"reason": "hemolyzed", "note": "gross hemolysis", "recollect": True},
    ),
    "POST /api/v1/specimens/{specimen_id}/children": example(
        "A 0.5 mL aliquot", {"kind": "aliquot", "volume": "0.5", "volume_unit": "mL"}
    ),
    "POST /api/v1/specimens/{specimen_id}/location": example(
        "To the hematology bench", {"location": "Hematology bench", "temperature": "room"}
    ),
    "POST /api/v1/specimens/{specimen_id}/storage": example(
        "Into the fridge", {"location": "Fridge 2 rack B", "temperature": "refrigerated"}
    ),
    "POST /api/v1/specimens/{specimen_id}/disposal": example(
        "Discarded after the retention period", {"note": "7-day retention over"}
    ),
    # worklists
    "POST /api/v1/worklist-templates": example(
        "A hematology rack of 10 with a control in position 1",
        {
            "name": "Hematology rack",
            "bench": "hematology",
            "instrument": "XN-550",
            "test_ids": ["<id of lab test CBC>"],
            "layout": "rack",
            "capacity": 10,
            "reserved": [{"position": "1", "kind": "control", "material": "Hem Normal"}],
        },
    ),
    "PATCH /api/v1/worklist-templates/{record_id}": example("A bigger rack", {"capacity": 20}),
    "POST /api/v1/worklists": example(
        "Fill a run from the template", {"template_id": "<id of the worklist template>"}
    ),
    "POST /api/v1/worklists/{worklist_id}/items": example(
        "Add a specimen's CBC by hand",
        {"specimen_id": "<id of the specimen>", "lab_test_id": "<id of lab test CBC>"},
    ),
    "POST /api/v1/worklists/{worklist_id}/controls": example(
        "The normal control's hemoglobin",
        {
            "lab_test_id": "<id of lab test CBC>",
            "material": "Hem Normal",
            "component_code": "718-7",
            "value": "13.8",
        },
    ),
    "POST /api/v1/worklists/{worklist_id}/controls/{control_id}/acceptance": example(
        "Accepted by the supervisor", {"note": "Rerun in range; lot 4411 recalibrated"}
    ),
    # results
    "POST /api/v1/results": example(
        "A hemoglobin value",
        {
            "specimen_id": "<id of the specimen>",
            "lab_test_id": "<id of lab test CBC>",
            "component_code": "718-7",
            "value": "11.4",
            "unit": "g/dL",
        },
    ),
    "POST /api/v1/results/{result_id}/notification": example(
        "A critical value phoned to the nurse",
        {"notified_name": "RN J. Patel", "note": "read back"},
    ),
    "POST /api/v1/results/verification": example(
        "Verify a run's results", {"result_ids": ["<id of the result>"]}
    ),
    "POST /api/v1/results/{result_id}/correction": example(
        "A transcription error", {"value": "12.1", "reason": "transcription error"}
    ),
    "POST /api/v1/result-imports": example(
        "An analyser's CBC rows",
        "accession,test_code,component_code,value,unit\n26-000001,CBC,6690-2,7.2,10*3/uL\n"
        "26-000001,CBC,718-7,11.4,g/dL\n",
        "Send with `?worklist_id=` of the run; the accession is the specimen's label.",
    ),
    # encounters and coding, code sets
    "POST /api/v1/encounters": example(
        "An office visit",
        {
            "patient_id": "<id of patient D-1001>",
            "date_of_service": "2026-12-06",
            "place_of_service": "11",
            "kind": "medical",
            "billing_provider_id": "<id of provider 1900000005>",
            "rendering_provider_id": "<id of provider 1900000013>",
            "coverage_ids": ["<id of the patient's coverage>"],
        },
    ),
    "PATCH /api/v1/encounters/{encounter_id}": example(
        "Add a prior authorization", {"prior_authorization": "PA123456"}
    ),
    "PUT /api/v1/encounters/{encounter_id}/coding": example(
        "A visit and a CBC for type 2 diabetes",
        {
            "diagnoses": ["E11.9", "I10"],
            "service_lines": [
                {"code_system": "CPT", "code": "99213", "pointers": [1, 2]},
                {"code_system": "CPT", "code": "85025", "pointers": [1]},
            ],
        },
        "Charges come from the fee schedule when left out.",
    ),
    "POST /api/v1/encounters/{encounter_id}/service-lines": example(
        "A venipuncture", {"code_system": "CPT", "code": "36415", "units": "1", "pointers": [1]}
    ),
    "POST /api/v1/encounters/{encounter_id}/status": example(
        "Ready for billing", {"status": "ready"}
    ),
    "POST /api/v1/encounters/{encounter_id}/reopen": example(
        "Recode after a payer query", {"reason": "wrong E/M level"}
    ),
    "POST /api/v1/codes/validate": example(
        "Two diagnoses on a date of service",
        {
            "date": "2026-09-30",
            "codes": [
                {"system": "icd10cm", "code": "E11.621"},
                {"system": "icd10cm", "code": "C78.31"},
            ],
        },
    ),
    # claims and batches
    "POST /api/v1/claims": example(
        "The secondary claim of a billed encounter",
        {"encounter_id": "<id of the encounter>", "coverage_id": "<id of the secondary coverage>"},
        "Leave `coverage_id` out for the primary coverage's claim.",
    ),
    "PATCH /api/v1/claims/{claim_id}": example(
        "The payer's claim number from a phone call", {"payer_claim_number": "PCN20261206001"}
    ),
    "POST /api/v1/claim-batches": example(
        "Every ready professional claim",
        {"trading_partner_id": "<id of trading partner demo>", "claim_type": "professional"},
        "Name `claim_ids` to batch only some.",
    ),
    # remittance and denials
    "POST /api/v1/remittance-files": example(
        "A 999 accepting batch 1",
        _999,
        "AK1's group control number is the batch's GS06 (`GET /api/v1/claim-batches/{id}`); "
        "an 835 or 277CA goes the same way.",
    ),
    "PATCH /api/v1/denials/items/{item_id}": example(
        "Take a denial and follow up in two weeks",
        {
            "owner_id": "<id of the biller user>",
            "follow_up_date": "2026-12-20",
            "status": "in_progress",
            "note": "called payer",
        },
    ),
    "POST /api/v1/denials/items/{item_id}/appeal": example(
        "Appeal with records", {"note": "appeal letter and chart notes faxed"}
    ),
    "POST /api/v1/denials/items/{item_id}/write-off": example(
        "Too late to appeal", {"reason": "timely_filing", "note": "past the payer's limit"}
    ),
    # patient money
    "POST /api/v1/patient-payments": example(
        "A copay at the desk",
        {
            "patient_id": "<id of patient D-1001>",
            "encounter_id": "<id of the encounter>",
            "amount": "25.00",
            "method": "card",
            "reference": "slip 12",
        },
    ),
    "POST /api/v1/credit-applications": example(
        "Use the patient's credit on a visit",
        {"patient_id": "<id of patient D-1001>", "encounter_id": "<id of the encounter>"},
        "Leave `amount` out to apply as much as the visit owes.",
    ),
    "POST /api/v1/refunds": example(
        "Refund credit by check",
        {
            "patient_id": "<id of patient D-1001>",
            "amount": "10.00",
            "method": "check",
            "reference": "check 1042",
        },
    ),
    "POST /api/v1/write-offs": example(
        "A small balance",
        {
            "patient_id": "<id of patient D-1001>",
            "encounter_id": "<id of the encounter>",
            "amount": "2.50",
            "reason": "small_balance",
            "side": "patient",
        },
    ),
    "POST /api/v1/adjustments": example(
        "A courtesy adjustment",
        {
            "patient_id": "<id of patient D-1001>",
            "encounter_id": "<id of the encounter>",
            "amount": "15.00",
            "reason": "courtesy",
            "side": "patient",
            "note": "long wait",
        },
    ),
    "POST /api/v1/transfers": example(
        "Not covered: the patient's",
        {
            "encounter_id": "<id of the encounter>",
            "amount": "40.00",
            "to": "patient",
            "note": "not covered",
        },
    ),
    "POST /api/v1/ledger-entries/{entry_id}/reversal": example(
        "A payment keyed twice", {"note": "duplicate entry"}
    ),
    "POST /api/v1/statement-runs": example(
        "Everyone owing over 5.00, not billed this month", {"threshold": "5.00", "quiet_days": 30}
    ),
    # integrations
    "POST /api/v1/smart-clients": example(
        "An EHR reading FHIR",
        {
            "name": "Northside EHR",
            "roles": ["integration"],
            "scopes": "system/Patient.rs system/Observation.rs",
            "jwks_url": "https://ehr.example.org/.well-known/jwks.json",
        },
    ),
    "POST /api/v1/webhooks": example(
        "Tell the EHR about verified results",
        {"url": "https://ehr.example.org/hooks/backoffice", "events": ["result.verified"]},
        "The answer shows the signing secret once (HMAC-SHA256); send `secret` to choose it.",
    ),
}
