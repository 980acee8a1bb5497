"""Reopening a billed encounter: coders and billers only, from billed only."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.coding import logic
from tests.coding.test_encounters import OFFICE_VISIT, _code, _open, _ready
from tests.factories import Practice, Tenant, import_fixture_codes, make_practice


@pytest.fixture
def practice(db: Session, tenant: Tenant) -> Practice:
    import_fixture_codes(db)
    return make_practice(db, tenant)


def _billed(client: TestClient, tenant: Tenant, practice: Practice, db: Session) -> str:
    encounter_id = _open(client, tenant, practice)
    _code(client, tenant, encounter_id, ["E11.9"], [OFFICE_VISIT])
    assert _ready(client, tenant, encounter_id).status_code == 200
    logic.mark_billed(db, [encounter_id])  # what batching its primary claim does
    db.commit()
    return encounter_id


@pytest.mark.parametrize(("role", "status"), [("coder", 200), ("biller", 200), ("front_desk", 403)])
def test_only_coders_and_billers_reopen_a_billed_encounter(
    client: TestClient, tenant: Tenant, practice: Practice, db: Session, role: str, status: int
) -> None:
    encounter_id = _billed(client, tenant, practice, db)

    response = client.post(
        f"/api/v1/encounters/{encounter_id}/reopen",
        json={"reason": "wrong laterality"},
        headers=tenant.headers(role),
    )

    assert response.status_code == status, response.text


def test_a_ready_encounter_is_not_billed_by_a_reopen_and_cannot_be_reopened(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    encounter_id = _open(client, tenant, practice)
    _code(client, tenant, encounter_id, ["E11.9"], [OFFICE_VISIT])

    response = client.post(
        f"/api/v1/encounters/{encounter_id}/reopen",
        json={"reason": "nothing to reopen"},
        headers=tenant.headers("coder"),
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_mark_billed_moves_only_ready_encounters(
    client: TestClient, tenant: Tenant, practice: Practice, db: Session
) -> None:
    coded = _open(client, tenant, practice)
    _code(client, tenant, coded, ["E11.9"], [OFFICE_VISIT])

    logic.mark_billed(db, [coded])
    db.commit()

    body = client.get(f"/api/v1/encounters/{coded}", headers=tenant.headers("coder")).json()
    assert body["status"] == "coded"
