"""Lists as staff read them (issue 24): names in rows, filters, `sort` with a documented
default, 422 for misspelt enum values and sort keys, reports that lead with names."""

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.auth.roles import Role
from service.demo import clinic as demo
from service.remittance import export
from tests.factories import make_tenant


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@pytest.fixture
def headers(db: Session) -> dict[str, str]:
    seeded = demo.seed(db)  # claims for ACME01, MCRIL (Medicare) and MCDIL payers
    db.commit()
    return {"Authorization": f"Bearer {seeded.admin_key}"}


def _claims(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/v1/claims", params=params, headers=headers)


def test_claim_rows_carry_patient_payer_and_provider_names(
    client: TestClient, headers: dict[str, str]
) -> None:
    rows = _claims(client, headers).json()["items"]
    assert rows
    for row in rows:
        assert row["patient_name"]
        assert ", " in row["patient_name"]
        assert row["patient_mrn"].startswith("D-")
        assert row["payer_name"]
        assert row["provider_name"]


def test_all_medicare_claims_by_payer_id(client: TestClient, headers: dict[str, str]) -> None:
    everything = _claims(client, headers).json()["items"]
    medicare = _claims(client, headers, payer_id="MCRIL").json()["items"]
    assert medicare
    assert len(medicare) < len(everything)
    assert {r["payer_id"] for r in medicare} == {medicare[0]["payer_id"]}
    by_id = _claims(client, headers, payer_id=medicare[0]["payer_id"]).json()["items"]
    assert [r["id"] for r in by_id] == [r["id"] for r in medicare]


def test_claims_filter_by_patient_mrn_and_date_range(
    client: TestClient, headers: dict[str, str]
) -> None:
    one = _claims(client, headers).json()["items"][0]
    mine = _claims(client, headers, patient_id=one["patient_mrn"]).json()["items"]
    assert mine
    assert {r["patient_id"] for r in mine} == {one["patient_id"]}
    day = one["date_of_service"]
    on_day = _claims(client, headers, date_from=day, date_to=day).json()["items"]
    assert on_day
    assert {r["date_of_service"] for r in on_day} == {day}


def test_claims_are_newest_first_and_sort_reverses_it(
    client: TestClient, headers: dict[str, str]
) -> None:
    newest_first = [r["id"] for r in _claims(client, headers).json()["items"]]
    assert newest_first == sorted(newest_first, reverse=True)
    oldest_first = [r["id"] for r in _claims(client, headers, sort="created_at").json()["items"]]
    assert oldest_first == newest_first[::-1]


def test_a_sort_by_value_pages_through_every_row_once_in_order(
    client: TestClient, headers: dict[str, str]
) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "-total_charge", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = _claims(client, headers, **params).json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    everything = _claims(client, headers, limit=200).json()["items"]
    assert sorted(r["id"] for r in seen) == sorted(r["id"] for r in everything)
    charges = [float(r["total_charge"]) for r in seen]
    assert charges == sorted(charges, reverse=True)


def test_an_unknown_sort_key_is_422_naming_the_accepted_ones(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = _claims(client, headers, sort="-colour")
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "sort"
    assert "date_of_service" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/claims", {"status": "recieved"}),
        ("/api/v1/specimens", {"status": "recieved"}),
        ("/api/v1/claim-batches", {"status": "genrated"}),
        ("/api/v1/results", {"status": "finall"}),
    ],
)
def test_a_misspelt_status_is_422_at_the_parameter(
    client: TestClient, headers: dict[str, str], path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "status"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/patients", "/api/v1/payers", "/api/v1/encounters", "/api/v1/claim-batches",
     "/api/v1/specimens", "/api/v1/users", "/api/v1/audit-events", "/api/v1/remittance-files"],
)  # fmt: skip
def test_every_list_takes_sort_and_refuses_an_unknown_key(
    client: TestClient, headers: dict[str, str], path: str
) -> None:
    assert client.get(path, params={"sort": "-created_at"}, headers=headers).status_code == 200
    assert client.get(path, params={"sort": "created_at"}, headers=headers).status_code == 200
    assert client.get(path, params={"sort": "nonsense"}, headers=headers).status_code == 422


def test_patients_sort_by_family_name(client: TestClient, headers: dict[str, str]) -> None:
    body = client.get("/api/v1/patients", params={"sort": "family_name"}, headers=headers).json()
    names = [p["family_name"] for p in body["items"]]
    assert names == sorted(names)


def test_the_aging_download_leads_with_the_patients_name_and_mrn(
    client: TestClient, headers: dict[str, str]
) -> None:
    url = "/api/v1/remittance-reports/aging"
    body = client.get(url, params={"by": "patient"}, headers=headers).json()
    assert body["columns"][:2] == ["patient_name", "mrn"]
    assert body["columns"][-1] == "patient_id"
    xlsx = client.get(url, params={"by": "patient", "format": "xlsx"}, headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    header = next(sheet.iter_rows(min_row=export.HEADER_ROW, values_only=True))
    assert header[:2] == ("patient_name", "mrn")
    payer = client.get(url, params={"by": "payer"}, headers=headers).json()
    assert payer["columns"][0] == "payer_name"


def test_specimen_rows_filter_by_test_and_collection_day_and_carry_the_patient(
    client: TestClient, db: Session
) -> None:
    from datetime import UTC, datetime

    from tests.factories import make_lab_setup, make_ready_specimen

    tenant = make_tenant(db, "Lab list clinic")
    setup = make_lab_setup(db, tenant)
    a1c = make_ready_specimen(db, tenant, setup, collected_at=datetime(2026, 3, 1, 15, tzinfo=UTC))
    glu = make_ready_specimen(db, tenant, setup, code="GLU",
                              collected_at=datetime(2026, 3, 2, 15, tzinfo=UTC))  # fmt: skip
    lab = tenant.headers(Role.LAB)
    rows = client.get("/api/v1/specimens", params={"test": "A1C"}, headers=lab).json()["items"]
    assert [r["id"] for r in rows] == [a1c.id]
    assert rows[0]["patient_name"] == "Rivera, Ana"
    assert rows[0]["patient_mrn"] == "LAB-0001"
    day = client.get("/api/v1/specimens", params={"collected_from": "2026-03-02",
                     "collected_to": "2026-03-02"}, headers=lab).json()["items"]  # fmt: skip
    assert [r["id"] for r in day] == [glu.id]
    newest = client.get("/api/v1/specimens", headers=lab).json()["items"]
    assert [r["id"] for r in newest] == [glu.id, a1c.id]
    received = client.get("/api/v1/specimens", params={"status": "ready"}, headers=lab).json()
    assert {r["status"] for r in received["items"]} <= {"ready"}
