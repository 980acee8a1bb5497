"""Every field of a request body that names another record is checked: generated from the
OpenAPI document, so a reference field added later fails here until it is covered.

For each (operation, field): the valid request with the field pointing at another
organization's record of the same kind, or at an id that exists nowhere, is refused (4xx, never
2xx or 500), with the field named; the valid request itself is not refused for that field.
"""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from service.main import create_app
from service.settings import Settings
from tests.factories import Tenant, encounter_payload, fee_schedule_payload
from tests.references.world import World, build_world, created, ready_encounter

# Fields named *_id that hold an outside identifier, not a reference to one of our records.
NOT_REFERENCES = {
    "member_id",  # the number on the patient's insurance card
    "own_member_id",  # a flag: the patient's card carries their own member ID
    "edi_payer_id",  # the clearinghouse's payer id
    "tax_id",  # EIN or SSN
    "submitter_id",  # X12 1000A NM109
    "receiver_id",  # X12 1000B NM109
    "isa_sender_id",  # ISA06
    "isa_receiver_id",  # ISA08
}

# Field name -> the kind of record it names (World.ids keys).
KINDS = {
    "patient_id": "patient",
    "payer_id": "payer",
    "ordering_provider_id": "provider",
    "billing_provider_id": "provider",
    "rendering_provider_id": "provider",
    "referring_provider_id": "provider",
    "facility_id": "facility",
    "coverage_id": "coverage",
    "coverage_ids": "coverage",
    "encounter_id": "encounter",
    "trading_partner_id": "trading_partner",
    "claim_ids": "claim",
    "test_ids": "lab_test",
    "lab_test_id": "lab_test",
    "order_id": "lab_order",
    "specimen_id": "specimen",
    "result_ids": "result",
    "template_id": "worklist_template",
    "owner_id": "user",
}


def _reference_fields() -> list[tuple[str, str, str]]:
    """(method, path, field) for every *_id / *_ids property of every JSON request body."""
    document = create_app(Settings(database_url="sqlite://")).openapi()
    schemas = document["components"]["schemas"]
    found: list[tuple[str, str, str]] = []

    def properties(schema: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        props = dict(schema.get("properties") or {})
        for branch in schema.get("anyOf", []) + schema.get("allOf", []):
            props.update(properties(branch))
        return props

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = (content.get("application/json") or {}).get("schema")
            if not path.startswith("/api/") or schema is None:
                continue
            for name in properties(schema):
                if name.endswith(("_id", "_ids")) and name not in NOT_REFERENCES:
                    found.append((method.upper(), path, name))
    return sorted(found)


REFERENCE_FIELDS = _reference_fields()

Request = tuple[str, str, dict[str, Any], str]  # method, url, body, role
Builder = Callable[[TestClient, World], Request]


def _new_order(client: TestClient, world: World) -> str:
    return created(
        client.post("/api/v1/lab-orders", headers=world.tenant.headers(Role.FRONT_DESK), json={
            "patient_id": world.ids["patient"], "ordering_provider_id": world.ids["provider"],
            "test_ids": [world.ids["lab_test"]]})
    )  # fmt: skip


def _empty_worklist(client: TestClient, world: World, template: str) -> str:
    return created(
        client.post("/api/v1/worklists", headers=world.tenant.headers(Role.LAB),
                    json={"template_id": world.ids[template], "limit": 0})
    )  # fmt: skip


def _new_fee_schedule(client: TestClient, world: World) -> str:
    return created(
        client.post("/api/v1/fee-schedules", headers=world.tenant.headers(),
                    json=fee_schedule_payload(payer_id=world.ids["payer"]))
    )  # fmt: skip


def _lab_order_body(world: World) -> dict[str, Any]:
    return {
        "patient_id": world.ids["patient"], "ordering_provider_id": world.ids["provider"],
        "test_ids": [world.ids["lab_test"]], "encounter_id": world.ids["encounter"],
    }  # fmt: skip


def _encounter_body(world: World) -> dict[str, Any]:
    return encounter_payload(
        world.practice, referring_provider_id=world.ids["provider"],
        facility_id=world.ids["facility"],
    )  # fmt: skip


ADMIN, LAB, CODER, DESK = Role.ADMIN, Role.LAB, Role.CODER, Role.FRONT_DESK


def _billed(client: TestClient, world: World) -> str:
    """The world's encounter billed (its claim batched), so the ledger charges it."""
    batched = client.post("/api/v1/claim-batches", headers=world.tenant.headers(ADMIN), json={
        "trading_partner_id": world.ids["trading_partner"], "claim_type": "professional",
        "claim_ids": [world.ids["claim"]]})  # fmt: skip
    assert batched.status_code == 201, batched.text
    return world.ids["encounter"]


def _owed_by_patient(client: TestClient, world: World) -> str:
    """The billed encounter with 10.00 moved to the patient's side."""
    encounter = _billed(client, world)
    moved = client.post("/api/v1/transfers", headers=world.tenant.headers(ADMIN), json={
        "encounter_id": encounter, "amount": "10.00", "to": "patient"})  # fmt: skip
    assert moved.status_code == 201, moved.text
    return encounter


def _paid(client: TestClient, world: World) -> str:
    """A check from the patient with nothing owed yet: the patient's credit."""
    paid = client.post("/api/v1/patient-payments", headers=world.tenant.headers(DESK), json={
        "patient_id": world.ids["patient"], "amount": "20.00", "method": "check"})  # fmt: skip
    assert paid.status_code == 201, paid.text
    return world.ids["patient"]


# (method, path) -> the valid request that each field's test then breaks.
BUILDERS: dict[tuple[str, str], Builder] = {
    ("POST", "/api/v1/coverages"): lambda c, w: (
        "POST", "/api/v1/coverages", {"patient_id": w.ids["patient"], "payer_id": w.ids["payer"],
        "member_id": "SEC-1", "priority": "secondary", "start_date": "2026-01-01"}, ADMIN),
    ("PATCH", "/api/v1/coverages/{record_id}"): lambda c, w: (
        "PATCH", f"/api/v1/coverages/{w.other_coverage_id}",
        {"patient_id": w.lab_patient_id, "payer_id": w.ids["payer"]}, ADMIN),
    ("POST", "/api/v1/fee-schedules"): lambda c, w: (
        "POST", "/api/v1/fee-schedules", fee_schedule_payload(payer_id=w.ids["payer"]), ADMIN),
    ("PATCH", "/api/v1/fee-schedules/{record_id}"): lambda c, w: (
        "PATCH", f"/api/v1/fee-schedules/{_new_fee_schedule(c, w)}",
        {"payer_id": w.ids["payer"]}, ADMIN),
    ("POST", "/api/v1/encounters"): lambda c, w: (
        "POST", "/api/v1/encounters", _encounter_body(w), CODER),
    ("PATCH", "/api/v1/encounters/{encounter_id}"): lambda c, w: (
        "PATCH", f"/api/v1/encounters/{created(c.post('/api/v1/encounters', json=_encounter_body(w), headers=w.tenant.headers(CODER)))}",  # noqa: E501
        _encounter_body(w), CODER),
    ("POST", "/api/v1/encounters/{encounter_id}/service-lines"): lambda c, w: (
        "POST", f"/api/v1/encounters/{created(c.post('/api/v1/encounters', json=_encounter_body(w), headers=w.tenant.headers(CODER)))}/service-lines",  # noqa: E501
        {"code_system": "CPT", "code": "93000", "charge": "50.00",
         "ordering_provider_id": w.ids["provider"],
         "rendering_provider_id": w.ids["provider"]}, CODER),
    ("POST", "/api/v1/claims"): lambda c, w: (
        "POST", "/api/v1/claims",
        {"encounter_id": ready_encounter(c, w), "coverage_id": w.ids["coverage"]}, ADMIN),
    ("POST", "/api/v1/claim-batches"): lambda c, w: (
        "POST", "/api/v1/claim-batches", {"trading_partner_id": w.ids["trading_partner"],
        "claim_type": "professional", "claim_ids": [w.ids["claim"]]}, ADMIN),
    ("POST", "/api/v1/lab-orders"): lambda c, w: (
        "POST", "/api/v1/lab-orders", _lab_order_body(w), DESK),
    ("PATCH", "/api/v1/lab-orders/{record_id}"): lambda c, w: (
        "PATCH", f"/api/v1/lab-orders/{_new_order(c, w)}", _lab_order_body(w), DESK),
    ("POST", "/api/v1/specimens"): lambda c, w: (
        "POST", "/api/v1/specimens",
        {"order_id": _new_order(c, w), "test_ids": [w.ids["lab_test"]]}, LAB),
    ("POST", "/api/v1/specimens/{specimen_id}/children"): lambda c, w: (
        "POST", f"/api/v1/specimens/{w.ids['specimen']}/children",
        {"kind": "aliquot", "test_ids": [w.ids["lab_test"]]}, LAB),
    ("POST", "/api/v1/worklist-templates"): lambda c, w: (
        "POST", "/api/v1/worklist-templates", {"name": "t2", "bench": "chemistry",
        "test_ids": [w.ids["lab_test"]], "layout": "rack", "capacity": 10}, LAB),
    ("PATCH", "/api/v1/worklist-templates/{record_id}"): lambda c, w: (
        "PATCH", f"/api/v1/worklist-templates/{w.ids['worklist_template']}",
        {"test_ids": [w.ids["lab_test"]]}, LAB),
    ("POST", "/api/v1/worklists"): lambda c, w: (
        "POST", "/api/v1/worklists", {"template_id": w.ids["worklist_template"]}, LAB),
    ("POST", "/api/v1/worklists/{worklist_id}/items"): lambda c, w: (
        "POST", f"/api/v1/worklists/{_empty_worklist(c, w, 'worklist_template')}/items",
        {"specimen_id": w.ids["spare_specimen"], "lab_test_id": w.ids["lab_test"]}, LAB),
    ("POST", "/api/v1/worklists/{worklist_id}/controls"): lambda c, w: (
        "POST", f"/api/v1/worklists/{_empty_worklist(c, w, 'glucose_template')}/controls",
        {"lab_test_id": w.ids["glucose_test"], "material": "Level 1",
         "component_code": "2345-7", "value": "100"}, LAB),
    ("POST", "/api/v1/results"): lambda c, w: (
        "POST", "/api/v1/results", {"specimen_id": w.ids["specimen"],
        "lab_test_id": w.ids["lab_test"], "component_code": "4548-4", "value": "5.2"}, LAB),
    ("POST", "/api/v1/results/verification"): lambda c, w: (
        "POST", "/api/v1/results/verification", {"result_ids": [w.ids["result"]]}, ADMIN),
    ("POST", "/api/v1/patient-payments"): lambda c, w: (
        "POST", "/api/v1/patient-payments", {"patient_id": w.ids["patient"],
        "encounter_id": w.ids["encounter"], "amount": "20.00", "method": "cash"}, DESK),
    ("POST", "/api/v1/credit-applications"): lambda c, w: (
        "POST", "/api/v1/credit-applications", {"patient_id": _paid(c, w),
        "encounter_id": _owed_by_patient(c, w)}, DESK),
    ("POST", "/api/v1/refunds"): lambda c, w: (
        "POST", "/api/v1/refunds", {"patient_id": _paid(c, w), "amount": "5.00",
        "method": "check"}, ADMIN),
    ("POST", "/api/v1/write-offs"): lambda c, w: (
        "POST", "/api/v1/write-offs", {"patient_id": w.ids["patient"],
        "encounter_id": _billed(c, w), "amount": "1.00", "reason": "small_balance",
        "side": "insurance"}, ADMIN),
    ("POST", "/api/v1/adjustments"): lambda c, w: (
        "POST", "/api/v1/adjustments", {"patient_id": w.ids["patient"],
        "encounter_id": _billed(c, w), "amount": "1.00", "reason": "contractual",
        "side": "insurance"}, ADMIN),
    ("POST", "/api/v1/transfers"): lambda c, w: (
        "POST", "/api/v1/transfers", {"encounter_id": _billed(c, w), "amount": "1.00",
        "to": "patient"}, ADMIN),
    ("PATCH", "/api/v1/denials/items/{item_id}"): lambda c, w: (
        "PATCH", f"/api/v1/denials/items/{w.ids['denial_item']}",
        {"owner_id": w.ids["user"]}, ADMIN),
}  # fmt: skip


@pytest.fixture
def worlds(client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant) -> tuple[World, World]:  # fmt: skip # noqa: E501
    from tests.factories import import_fixture_codes

    import_fixture_codes(db)
    return build_world(client, db, tenant, "A"), build_world(client, db, other_tenant, "B")


def _with(body: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    return {**body, field: [value] if field.endswith("_ids") else value}


def _names_reference(response: Any, field: str, kind: str) -> bool:
    """The refusal says which reference failed: a pointer at the field, or the kind of record
    in its type or detail ("trading-partner-not-found", "No lab test ...")."""
    body = response.json()
    pointers = [str(e.get("pointer", "")) for e in body.get("errors") or []]
    words = (str(body.get("type", "")) + " " + str(body.get("detail", ""))).lower()
    return any(p.lstrip("/").split("/")[0] == field for p in pointers) or any(
        name in words for name in (kind.replace("_", "-"), kind.replace("_", " "), "test")
    )


@pytest.mark.parametrize(("method", "path", "field"), REFERENCE_FIELDS)
def test_a_reference_to_another_organization_or_to_nothing_is_refused(
    client: TestClient, worlds: tuple[World, World], method: str, path: str, field: str
) -> None:
    mine, theirs = worlds
    builder = BUILDERS.get((method, path))
    assert builder is not None, f"{method} {path} takes {field}: add its valid request here"
    assert field in KINDS, f"{field}: say which record it names (KINDS) or why it names none"
    verb, url, body, role = builder(client, mine)
    headers = mine.tenant.headers(role)
    for wrong in (theirs.ids[KINDS[field]], "0" * 32):
        response = client.request(verb, url, json=_with(body, field, wrong), headers=headers)
        assert 400 <= response.status_code < 500, (
            field,
            wrong,
            response.status_code,
            response.text,
        )
        assert response.headers["content-type"] == "application/problem+json"
        if response.status_code == 422:
            assert _names_reference(response, field, KINDS[field]), response.text
    valid = client.request(verb, url, json=body, headers=headers)
    assert valid.status_code < 300, valid.text


# Where a reference must also be of the same patient as the record that holds it.
SAME_PATIENT: dict[str, Callable[[TestClient, World], Request]] = {
    "lab order encounter": lambda c, w: (
        "POST", "/api/v1/lab-orders", {**_lab_order_body(w), "patient_id": w.lab_patient_id},
        DESK),
    "lab order encounter (patch)": lambda c, w: (
        "PATCH", f"/api/v1/lab-orders/{_new_order(c, w)}",
        {"encounter_id": created(c.post("/api/v1/encounters", headers=w.tenant.headers(CODER),
            json=encounter_payload(w.practice, patient_id=w.ids["stray_patient"],
                                   coverage_ids=[])))}, DESK),
    "encounter coverage": lambda c, w: (
        "POST", "/api/v1/encounters",
        {**_encounter_body(w), "coverage_ids": [w.other_coverage_id]}, CODER),
    "claim coverage": lambda c, w: (
        "POST", "/api/v1/claims",
        {"encounter_id": ready_encounter(c, w), "coverage_id": w.other_coverage_id}, ADMIN),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SAME_PATIENT))
def test_a_reference_to_a_record_of_another_patient_is_refused(
    client: TestClient, worlds: tuple[World, World], case: str
) -> None:
    mine, _ = worlds
    verb, url, body, role = SAME_PATIENT[case](client, mine)
    response = client.request(verb, url, json=body, headers=mine.tenant.headers(role))
    assert response.status_code == 422, response.text
