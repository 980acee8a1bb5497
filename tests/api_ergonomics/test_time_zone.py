"""One clock: the organization's time zone, set at set-up or by an admin, used for labels,
worklist names, ISA/GS dates and times and report days (issue 24)."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from tests.factories import LabSetup, Tenant, make_lab_setup, make_order, make_ready_specimen


@pytest.fixture
def setup(db: Session, tenant: Tenant) -> LabSetup:
    return make_lab_setup(db, tenant)


def _set_zone(client: TestClient, tenant: Tenant, zone: str, role: str = Role.ADMIN) -> Any:
    return client.patch("/api/v1/organization", json={"time_zone": zone},
                        headers=tenant.headers(role))  # fmt: skip


def test_an_admin_sets_the_time_zone_and_every_role_reads_it(
    client: TestClient, tenant: Tenant
) -> None:
    response = _set_zone(client, tenant, "America/Chicago")
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == "America/Chicago"
    read = client.get("/api/v1/organization", headers=tenant.headers(Role.LAB))
    assert read.status_code == 200
    assert read.json()["time_zone"] == "America/Chicago"


def test_only_an_admin_sets_the_time_zone(client: TestClient, tenant: Tenant) -> None:
    assert _set_zone(client, tenant, "America/Chicago", Role.FRONT_DESK).status_code == 403


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "CST6CDT/x"])
def test_an_unknown_time_zone_is_a_422_at_the_field(
    client: TestClient, tenant: Tenant, zone: str
) -> None:
    response = _set_zone(client, tenant, zone)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/time_zone"


def test_the_label_prints_the_collection_time_on_the_new_clock(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    assert _set_zone(client, tenant, "America/Chicago").status_code == 200
    order = make_order(db, tenant, setup, ["A1C"])
    specimen = client.post(
        "/api/v1/specimens",
        json={"order_id": order, "collected_at": "2026-03-01T13:00:00Z"},
        headers=tenant.headers(Role.FRONT_DESK),
    ).json()
    zpl = client.get(f"/api/v1/specimens/{specimen['id']}/label?format=zpl",
                     headers=tenant.headers(Role.FRONT_DESK))  # fmt: skip
    assert "2026-03-01 07:00 CST" in zpl.text


def test_a_worklist_name_carries_the_local_time(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    assert _set_zone(client, tenant, "Asia/Tokyo").status_code == 200
    make_ready_specimen(db, tenant, setup)
    template = client.post(
        "/api/v1/worklist-templates",
        json={"name": "Rack", "bench": "chemistry", "test_ids": [setup.tests["A1C"]],
              "layout": "rack", "capacity": 4},
        headers=tenant.headers(Role.LAB),
    ).json()["id"]  # fmt: skip
    before = datetime.now(UTC)
    built = client.post("/api/v1/worklists", json={"template_id": template},
                        headers=tenant.headers(Role.LAB))  # fmt: skip
    after = datetime.now(UTC)
    assert built.status_code == 201, built.text
    tokyo = ZoneInfo("Asia/Tokyo")
    expected = {f"Rack {t.astimezone(tokyo):%Y-%m-%d %H:%M}" for t in (before, after)}
    assert built.json()["name"] in expected


def test_the_turnaround_report_takes_plain_dates_as_local_days(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    assert _set_zone(client, tenant, "America/Chicago").status_code == 200
    # 2026-12-02 03:00Z is still Dec 1 in Chicago: a Dec 1 report includes it, Dec 2 does not.
    make_ready_specimen(db, tenant, setup, collected_at=datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    url = "/api/v1/reports/turnaround"
    headers = tenant.headers(Role.LAB)
    dec1 = client.get(url, params={"from": "2026-12-01", "to": "2026-12-01"}, headers=headers)
    dec2 = client.get(url, params={"from": "2026-12-02", "to": "2026-12-02"}, headers=headers)
    assert dec1.status_code == 200, dec1.text
    assert [g["specimens"] for g in dec1.json()["by_test"]] == [1]
    assert dec2.json()["by_test"] == []
    instants = client.get(url, params={"from": "2026-12-02T00:00:00Z",
                                       "to": "2026-12-03T00:00:00Z"}, headers=headers)  # fmt: skip
    assert [g["specimens"] for g in instants.json()["by_test"]] == [1]


def test_a_report_date_in_another_form_says_which_forms_are_expected(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.get("/api/v1/reports/turnaround", params={"from": "12/01/2026",
                          "to": "2026-12-02"}, headers=tenant.headers(Role.LAB))  # fmt: skip
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.text
