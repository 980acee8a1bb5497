"""What a claim carries stays put: its coverage and encounter keep their patient, and a batch
file download is in each of its patients' accounting of disclosures (issue 14)."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.directory.models import TradingPartner
from tests.claims.conftest import Demo


def _a_claim(client: TestClient, demo_org: Demo) -> dict[str, Any]:
    claims = client.get("/api/v1/claims?status=ready", headers=demo_org.headers()).json()["items"]
    claim: dict[str, Any] = client.get(
        f"/api/v1/claims/{claims[0]['id']}", headers=demo_org.headers()
    ).json()
    return claim


def _another_patient(client: TestClient, demo_org: Demo, patient_id: str) -> str:
    patients = client.get("/api/v1/patients", headers=demo_org.headers()).json()["items"]
    return str(next(p["id"] for p in patients if p["id"] != patient_id))


def test_a_coverage_a_claim_bills_cannot_move_to_another_patient(
    client: TestClient, demo_org: Demo
) -> None:
    claim = _a_claim(client, demo_org)
    other = _another_patient(client, demo_org, claim["patient_id"])
    response = client.patch(
        f"/api/v1/coverages/{claim['coverage_id']}",
        json={"patient_id": other, "member_id": "NEW-MEMBER-9"},
        headers=demo_org.headers(),
    )
    assert response.status_code == 409, response.text
    assert f"claim {claim['id']}" in response.json()["detail"]
    coverage = client.get(f"/api/v1/coverages/{claim['coverage_id']}", headers=demo_org.headers())
    assert coverage.json()["patient_id"] == claim["patient_id"]


def test_an_encounter_with_a_claim_cannot_move_to_another_patient(
    client: TestClient, demo_org: Demo
) -> None:
    claim = _a_claim(client, demo_org)
    other = _another_patient(client, demo_org, claim["patient_id"])
    response = client.patch(
        f"/api/v1/encounters/{claim['encounter_id']}",
        json={"patient_id": other, "coverage_ids": []},
        headers=demo_org.headers(),
    )
    assert response.status_code == 409, response.text
    assert f"claim {claim['id']}" in response.json()["detail"]


def test_a_batch_download_is_audited_under_every_patient_in_the_file(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    partner = db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == demo_org.organization_id)
    ).one()
    batch = client.post(
        "/api/v1/claim-batches",
        json={"trading_partner_id": partner, "claim_type": "professional"},
        headers=demo_org.headers(),
    ).json()
    members = client.get("/api/v1/claims?status=batched", headers=demo_org.headers()).json()[
        "items"
    ]
    assert members
    assert (
        client.get(
            f"/api/v1/claim-batches/{batch['id']}/file", headers=demo_org.headers()
        ).status_code
        == 200
    )

    for claim in members:
        events = client.get(
            f"/api/v1/audit-events?patient_id={claim['patient_id']}&action=disclose",
            headers=demo_org.headers(),
        ).json()["items"]
        assert [(e["resource_type"], e["resource_id"]) for e in events] == [
            ("claim", claim["id"])
        ], events
