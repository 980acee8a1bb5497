"""Billing as staff meet it (issue 24): the 837 on the clinic's clock, claims by PCN, encounters
that default their coverages, claims and batches that name what they refuse or skip."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.demo import clinic as demo
from service.directory.models import TradingPartner
from tests.claims.x12_check import assert_valid_837, segments


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@pytest.fixture
def seeded(db: Session) -> demo.DemoResult:
    result = demo.seed(db)  # America/Chicago; six ready encounters with their primary claims
    db.commit()
    return result


@pytest.fixture
def headers(seeded: demo.DemoResult) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.admin_key}"}


def _batch(
    client: TestClient, db: Session, seeded: demo.DemoResult, headers: dict[str, str], **body: Any
) -> Any:
    partner = db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == seeded.organization_id)
    ).one()
    return client.post("/api/v1/claim-batches",
                       json={"trading_partner_id": partner, "claim_type": "professional", **body},
                       headers=headers)  # fmt: skip


def test_isa_and_gs_dates_and_times_are_on_the_organizations_clock(
    client: TestClient, db: Session, seeded: demo.DemoResult, headers: dict[str, str]
) -> None:
    batch = _batch(client, db, seeded, headers)
    assert batch.status_code == 201, batch.text
    text = client.get(f"/api/v1/claim-batches/{batch.json()['id']}/file", headers=headers).text
    assert_valid_837(text)
    local = datetime.fromisoformat(batch.json()["created_at"]).astimezone(
        ZoneInfo("America/Chicago")
    )
    segs = segments(text)
    isa = next(s for s in segs if s[0] == "ISA")
    gs = next(s for s in segs if s[0] == "GS")
    assert (isa[9], isa[10]) == (f"{local:%y%m%d}", f"{local:%H%M}")
    assert (gs[4], gs[5]) == (f"{local:%Y%m%d}", f"{local:%H%M}")


def test_a_claim_is_read_by_its_patient_control_number(
    client: TestClient, headers: dict[str, str]
) -> None:
    claim = client.get("/api/v1/claims?limit=1", headers=headers).json()["items"][0]
    pcn = claim["patient_control_number"]
    response = client.get(f"/api/v1/claims/by-pcn/{pcn}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == claim["id"]
    assert client.get("/api/v1/claims/by-pcn/NOPE", headers=headers).status_code == 404


def test_a_rest_encounter_sent_without_coverages_bills_those_in_force_primary_first(
    client: TestClient, headers: dict[str, str]
) -> None:
    coverages = client.get("/api/v1/coverages", params={"limit": 200}, headers=headers).json()
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for coverage in coverages["items"]:
        by_patient.setdefault(coverage["patient_id"], []).append(coverage)
    patient_id, theirs = next((p, c) for p, c in by_patient.items() if len(c) >= 2)
    template = next(
        e for e in client.get("/api/v1/encounters", headers=headers).json()["items"]
        if e["patient_id"] == patient_id
    )  # fmt: skip
    body = {k: template[k] for k in ("patient_id", "date_of_service", "place_of_service",
                                     "kind", "billing_provider_id")}  # fmt: skip
    created = client.post("/api/v1/encounters", json=body, headers=headers)
    assert created.status_code == 201, created.text
    order = {"primary": 0, "secondary": 1, "tertiary": 2}
    expected = [c["id"] for c in sorted(theirs, key=lambda c: order[c["priority"]])]
    assert created.json()["coverage_ids"] == expected
    self_pay = client.post("/api/v1/encounters", json={**body, "coverage_ids": []},
                           headers=headers)  # fmt: skip
    assert self_pay.json()["coverage_ids"] == []


def test_a_patch_that_unreadies_an_encounter_says_so_and_a_no_op_patch_does_not(
    client: TestClient, headers: dict[str, str]
) -> None:
    ready = next(
        e for e in client.get("/api/v1/encounters", headers=headers).json()["items"]
        if e["status"] == "ready"
    )  # fmt: skip
    url = f"/api/v1/encounters/{ready['id']}"
    same = client.patch(url, json={"place_of_service": ready["place_of_service"]},
                        headers=headers)  # fmt: skip
    assert same.status_code == 200, same.text
    assert same.json()["status"] == "ready"
    assert same.json()["notices"] == []
    changed = client.patch(url, json={"prior_authorization": "PA-778"}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "coded"
    assert "sent it back to coded" in changed.json()["notices"][0]


def test_a_second_claim_for_a_billed_encounter_names_the_existing_claim(
    client: TestClient, db: Session, seeded: demo.DemoResult, headers: dict[str, str]
) -> None:
    assert _batch(client, db, seeded, headers).status_code == 201
    claim = client.get("/api/v1/claims", params={"status": "batched"},
                       headers=headers).json()["items"][0]  # fmt: skip
    again = client.post("/api/v1/claims", json={"encounter_id": claim["encounter_id"]},
                        headers=headers)  # fmt: skip
    assert again.status_code == 409
    assert claim["id"] in again.json()["detail"]
    assert "ready first" not in again.json()["detail"]


def test_a_batch_request_names_every_claim_it_skipped_and_why(
    client: TestClient, db: Session, seeded: demo.DemoResult, headers: dict[str, str]
) -> None:
    # Ready ones: the demo's held draft (Omar Haddad's) would be skipped for another reason.
    ready: dict[str, str | int] = {"limit": 200, "status": "ready"}
    claims = client.get("/api/v1/claims", params=ready, headers=headers).json()["items"]
    professional = [c["id"] for c in claims if c["claim_type"] == "professional"]
    dental = next(c["id"] for c in claims if c["claim_type"] == "dental")
    unknown = "0" * 32
    first = _batch(client, db, seeded, headers, claim_ids=professional[:1])
    assert first.status_code == 201, first.text
    assert first.json()["skipped"] == []
    response = _batch(client, db, seeded, headers,
                      claim_ids=[professional[0], professional[1], dental, unknown])  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["claim_count"] == 1
    reasons = {s["claim_id"]: s["reason"] for s in response.json()["skipped"]}
    assert set(reasons) == {professional[0], dental, unknown}
    assert reasons[professional[0]].startswith("batched")
    assert "dental" in reasons[dental]
    assert reasons[unknown] == "no claim with this id"


def test_a_batch_request_with_nothing_to_batch_lists_each_claim_and_why(
    client: TestClient, db: Session, seeded: demo.DemoResult, headers: dict[str, str]
) -> None:
    response = _batch(client, db, seeded, headers, claim_ids=["0" * 32])
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"pointer": "/claim_ids/0", "detail": "no claim with this id"}
    ]
