"""The /docs groups, in the order a clinic meets them: set up, patients, the lab's day, coding,
billing, money, integrations, oversight (issue 25). Each router names one of these tags."""

from typing import Any

ORGANIZATION = "organization and users"
DIRECTORY = "clinic directory"
PATIENTS = "patients and coverages"
LAB_ORDERS = "lab tests and orders"
SPECIMENS = "specimens"
WORKLISTS = "worklists"
RESULTS = "results"
CODING = "encounters and coding"
CODE_SETS = "code sets"
CLAIMS = "claims and batches"
REMITTANCE = "remittance and denials"
PATIENT_MONEY = "patient money"
FHIR = "FHIR R4"
SMART = "SMART backend clients"
NOTIFICATIONS = "notifications"
AUDIT = "audit"
HEALTH = "health"

OPENAPI_TAGS: list[dict[str, Any]] = [
    {
        "name": ORGANIZATION,
        "description": "Your organization (its time zone gives every local date of service), "
        "its users and their roles (admin, front_desk, lab, coder, biller, integration, auditor) "
        "and their API keys. Send a key as `Authorization: Bearer <key>`; a new key is shown "
        "once. Organizations themselves are created by `backoffice init`.",
    },
    {
        "name": DIRECTORY,
        "description": "What a clinic sets up once before it bills: the billing and rendering "
        "providers (NPI), facilities (place of service, CLIA number for labs), payers (EDI payer "
        "id, claim filing indicator), fee schedules (code -> charge, optionally per payer) and "
        "the clearinghouse as a trading partner (ISA/GS ids of the 837 files).",
    },
    {
        "name": PATIENTS,
        "description": "The front desk's records: patients (MRN, name, birth date, sex, "
        "address) and their insurance coverages (payer, member id, priority, relationship to "
        "the subscriber). Every read and write is audited under the patient.",
    },
    {
        "name": LAB_ORDERS,
        "description": "The lab's catalog of tests (LOINC, billing code, specimen type and "
        "container, preparation protocol, result components with reference ranges, control "
        "materials) and the orders placed against it for a patient.",
    },
    {
        "name": SPECIMENS,
        "description": "A specimen from accession to disposal: labels (PNG, SVG, ZPL), "
        "collection, receipt, preparation steps against the test's protocol, aliquots, blocks "
        "and slides, rejection, storage, the append-only chain of custody and turnaround times.",
    },
    {
        "name": WORKLISTS,
        "description": "Bench and instrument runs: templates (layout, capacity, reserved "
        "control positions), worklists built from the specimen-tests waiting (STAT first, then "
        "the oldest collection), the CSV export for the instrument and the run's control results.",
    },
    {
        "name": RESULTS,
        "description": "Results entered by hand or imported from an instrument's CSV, flagged "
        "against the reference ranges, verified by a different user, corrected with a reason; "
        "critical values record who was told. Verified results add their billing code to the "
        "order's encounter.",
    },
    {
        "name": CODING,
        "description": "Encounters (date of service, place, providers, coverages) and their "
        "coding: ICD-10-CM diagnoses and CPT/HCPCS/CDT service lines, checked by the edits on "
        "every change (`findings`); an encounter moves `open -> coded -> ready` for billing.",
    },
    {
        "name": CODE_SETS,
        "description": "The coder's typeahead and code lookups over the bundled and imported "
        "code sets (ICD-10-CM, POS, modifiers, teeth; HCPCS, CPT, CDT, LOINC when imported), "
        "and validation of codes on a date of service.",
    },
    {
        "name": CLAIMS,
        "description": "Claims built from ready encounters, one per coverage, scrubbed before "
        "they go out; batches of ready claims written as X12 5010 837P/837D files for a trading "
        "partner, downloaded, marked submitted; corrections, replacements and voids.",
    },
    {
        "name": REMITTANCE,
        "description": "What payers send back: 999 and 277CA acknowledgements and 835 "
        "remittances, uploaded as files and posted to claims and lines; adjudications, "
        "unmatched payments, the denial summary and work queue, and the A/R reports.",
    },
    {
        "name": PATIENT_MONEY,
        "description": "The patient ledger (append-only): payments at the desk, credit, "
        "refunds, write-offs, adjustments, transfers between insurance and patient, reversals; "
        "balances, statements (PDF and CSV) and the accountant's reports.",
    },
    {
        "name": FHIR,
        "description": "FHIR R4 for EHR integrations (`application/fhir+json`, errors as "
        "OperationOutcome): Patient, Coverage, Practitioner, Organization, Encounter, "
        "Condition, ServiceRequest and Specimen in; DiagnosticReport, Observation, Claim and "
        "ClaimResponse out; transaction Bundles and Subscriptions. See `/fhir/metadata`.",
    },
    {
        "name": SMART,
        "description": "SMART Backend Services: an EHR registers its public keys (JWKS) and "
        "trades a signed assertion for a short-lived token with scopes, instead of an API key.",
    },
    {
        "name": NOTIFICATIONS,
        "description": "Webhooks: signed HTTP notifications of events (result verified, "
        "specimen rejected, batch or claim rejected, 835 posted), delivered with retries; each "
        "delivery is listed.",
    },
    {
        "name": AUDIT,
        "description": "The append-only audit trail: every read and write of patient data, "
        "every denial and failure, who, when, from where. Auditors and admins read it; reading "
        "it is itself audited.",
    },
    {
        "name": HEALTH,
        "description": "Liveness and readiness probes for a load balancer (no key needed).",
    },
]
