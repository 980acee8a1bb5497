"""Billing as staff meet it (issue 24): the 837 on the clinic's clock, claims by PCN, encounters
that default their coverages, claims and batches that name what they refuse or skip."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service import demo
from service.directory.models import TradingPartner
from tests.claims.x12_check import assert_valid_837, segments


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


def test_isa_and_gs_dates_and_times_are_on_the_organizations_clock(
    client: TestClient, db: Session
) -> None:
    seeded = demo.seed(db)  # America/Chicago
    db.commit()
    headers = {"Authorization": f"Bearer {seeded.admin_key}"}
    partner = db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == seeded.organization_id)
    ).one()
    batch = client.post("/api/v1/claim-batches",
                        json={"trading_partner_id": partner, "claim_type": "professional"},
                        headers=headers)  # fmt: skip
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


def test_a_claim_is_read_by_its_patient_control_number(client: TestClient, db: Session) -> None:
    seeded = demo.seed(db)
    db.commit()
    headers = {"Authorization": f"Bearer {seeded.admin_key}"}
    claim = client.get("/api/v1/claims?limit=1", headers=headers).json()["items"][0]
    pcn = claim["patient_control_number"]
    response = client.get(f"/api/v1/claims/by-pcn/{pcn}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == claim["id"]
    assert client.get("/api/v1/claims/by-pcn/NOPE", headers=headers).status_code == 404
