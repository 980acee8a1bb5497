"""Reason codes are ICD-10-CM, accepted with or without the dot, checked against the version in
force (bundled code sets loaded)."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import Tenant, make_lab_setup


def test_reason_codes_are_validated_and_shown_dotted(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    setup = make_lab_setup(db, tenant)
    body = {"patient_id": setup.patient_id, "ordering_provider_id": setup.provider_id,
            "test_ids": [setup.tests["A1C"]]}  # fmt: skip
    ok = client.post("/api/v1/lab-orders", json={**body, "reason_codes": ["E119", "r73.03"]},
                     headers=tenant.headers())  # fmt: skip
    assert ok.status_code == 201, ok.text
    assert ok.json()["reason_codes"] == ["E11.9", "R73.03"]

    codes = ["E11.9", "E11", "Z99.999"]
    bad = client.post("/api/v1/lab-orders", json={**body, "reason_codes": codes},
                      headers=tenant.headers())  # fmt: skip
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/reason_codes/1", "/reason_codes/2"]
