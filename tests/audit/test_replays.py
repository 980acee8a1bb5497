"""An idempotent replay hands a stored response to whoever sends the key again: that user's
read of the patient is audited (issue 14)."""

from fastapi.testclient import TestClient

from service.auth.roles import Role
from tests.factories import Tenant, patient_payload


def test_a_replay_by_another_user_is_audited_for_that_user(
    client: TestClient, tenant: Tenant
) -> None:
    key = {"Idempotency-Key": "retry-1"}
    first = client.post(
        "/api/v1/patients",
        json=patient_payload(),
        headers={**tenant.headers(Role.FRONT_DESK), **key},
    )
    assert first.status_code == 201
    again = client.post(
        "/api/v1/patients",
        json=patient_payload(),
        headers={**tenant.headers(Role.INTEGRATION), **key},
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    patient_id = first.json()["id"]

    events = client.get(
        f"/api/v1/audit-events?patient_id={patient_id}", headers=tenant.headers(Role.AUDITOR)
    ).json()["items"]
    replays = [e for e in events if e["user_id"] == tenant.user_ids[Role.INTEGRATION]]
    assert [(e["action"], e["resource_id"]) for e in replays] == [("read", patient_id)]
    assert "replay" in replays[0]["detail"]
