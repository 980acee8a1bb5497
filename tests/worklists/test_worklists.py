"""Worklists: rules (STAT first, oldest collection, capacity, reserved positions), manual
changes, one active worklist per specimen-test, CSV export, concurrent builders."""

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service import org_clock
from service.auth.roles import Role
from service.ids import new_id
from service.worklists.models import WorklistItem
from tests.factories import LabSetup, Tenant, make_lab_setup, make_ready_specimen
from tests.specimens.test_concurrency import together

LAB = Role.LAB
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def setup(db: Session, tenant: Tenant) -> LabSetup:
    return make_lab_setup(db, tenant)


def _template(client: TestClient, tenant: Tenant, setup: LabSetup, **overrides: Any) -> str:
    body = {"name": "Chemistry rack", "bench": "chemistry", "test_ids": [setup.tests["A1C"]],
            "layout": "rack", "capacity": 4,
            "reserved": [{"position": "1", "kind": "control", "material": "Level 1"}],
            **overrides}  # fmt: skip
    response = client.post("/api/v1/worklist-templates", json=body, headers=tenant.headers(LAB))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _build(client: TestClient, tenant: Tenant, template_id: str, role: str = LAB) -> Any:
    return client.post("/api/v1/worklists", json={"template_id": template_id},
                       headers=tenant.headers(role))  # fmt: skip


def test_a_build_takes_stat_first_then_the_oldest_collection_up_to_capacity(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    old = make_ready_specimen(db, tenant, setup, collected_at=T0)
    new = make_ready_specimen(db, tenant, setup, collected_at=T0 + timedelta(hours=2))
    stat = make_ready_specimen(
        db, tenant, setup, priority="stat", collected_at=T0 + timedelta(hours=3)
    )
    middle = make_ready_specimen(db, tenant, setup, collected_at=T0 + timedelta(hours=1))
    template = _template(client, tenant, setup)

    first = _build(client, tenant, template)
    assert first.status_code == 201, first.text
    items = first.json()["items"]
    assert [(i["position"], i["accession"]) for i in items] == [
        ("2", stat.accession),
        ("3", old.accession),
        ("4", middle.accession),
    ]  # position 1 is the reserved control
    second = _build(client, tenant, template).json()["items"]
    assert [i["accession"] for i in second] == [new.accession]
    assert _build(client, tenant, template).json()["items"] == []
    specimen = client.get(f"/api/v1/specimens/{old.id}", headers=tenant.headers(LAB)).json()
    assert specimen["status"] == "in_analysis"


def test_a_build_audits_each_placed_specimen_with_its_patient(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    from service.audit.models import AuditEvent

    placed = {make_ready_specimen(db, tenant, setup).id for _ in range(2)}
    build = _build(client, tenant, _template(client, tenant, setup)).json()
    audits = db.exec(
        select(AuditEvent).where(
            AuditEvent.detail == f"worklist {build['id']}", AuditEvent.action == "update"
        )
    ).all()
    assert sorted((a.resource_id, a.patient_id, a.role) for a in audits) == sorted(
        (specimen_id, setup.patient_id, "lab") for specimen_id in placed
    )


def test_a_plate_fills_down_columns_around_reserved_wells(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimens = [make_ready_specimen(db, tenant, setup, collected_at=T0 + timedelta(minutes=i))
                 for i in range(3)]  # fmt: skip
    template = _template(client, tenant, setup, layout="plate96", capacity=96, reserved=[
        {"position": "A1", "kind": "blank"}, {"position": "B1", "kind": "calibrator"}])  # fmt: skip
    items = _build(client, tenant, template).json()["items"]
    assert [(i["position"], i["accession"]) for i in items] == [
        ("C1", specimens[0].accession), ("D1", specimens[1].accession),
        ("E1", specimens[2].accession)
    ]  # fmt: skip
    bad = client.post("/api/v1/worklist-templates", headers=tenant.headers(LAB), json={
        "name": "x", "bench": "b", "test_ids": [setup.tests["A1C"]], "layout": "plate96",
        "capacity": 96, "reserved": [{"position": "I1", "kind": "blank"}]})  # fmt: skip
    assert bad.status_code == 422


def test_manual_add_refuses_an_item_on_another_active_worklist_and_removal_frees_it(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup, collected_at=T0)
    template = _template(client, tenant, setup)
    first = _build(client, tenant, template).json()
    empty = _build(client, tenant, template).json()
    body = {"specimen_id": specimen.id, "lab_test_id": setup.tests["A1C"]}
    url = f"/api/v1/worklists/{empty['id']}/items"
    refused = client.post(url, json=body, headers=tenant.headers(LAB))
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/specimen-test-on-active-worklist")

    item = first["items"][0]["id"]
    removed = client.delete(f"/api/v1/worklists/{first['id']}/items/{item}",
                            headers=tenant.headers(LAB))  # fmt: skip
    assert removed.status_code == 204
    added = client.post(url, json={**body, "position": "3"}, headers=tenant.headers(LAB))
    assert added.status_code == 201, added.text
    assert [(i["position"], i["accession"]) for i in added.json()["items"]] == [
        ("3", specimen.accession)
    ]


def test_completing_a_worklist_releases_unresulted_items_and_is_final(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    make_ready_specimen(db, tenant, setup, collected_at=T0)
    template = _template(client, tenant, setup)
    first = _build(client, tenant, template).json()
    url = f"/api/v1/worklists/{first['id']}"
    assert client.post(url + "/start", headers=tenant.headers(LAB)).json()["status"] == (
        "in_progress"
    )
    assert client.post(url + "/completion", headers=tenant.headers(LAB)).status_code == 200
    again = client.post(url + "/start", headers=tenant.headers(LAB))
    assert again.status_code == 409
    assert "completed" in again.json()["detail"]
    assert len(_build(client, tenant, template).json()["items"]) == 1


def test_the_database_refuses_a_second_active_assignment(
    tenant: Tenant, db: Session, setup: LabSetup, client: TestClient
) -> None:
    make_ready_specimen(db, tenant, setup, collected_at=T0)
    template = _template(client, tenant, setup)
    built = _build(client, tenant, template).json()
    other = _build(client, tenant, template).json()
    db.rollback()  # a fresh snapshot after the requests' commits
    item = db.get(WorklistItem, built["items"][0]["id"])
    assert item is not None
    duplicate = WorklistItem(
        id=new_id(), organization_id=tenant.organization_id, worklist_id=other["id"],
        position="2", specimen_test_id=item.specimen_test_id, specimen_id=item.specimen_id,
        lab_test_id=item.lab_test_id, active_specimen_test_id=item.specimen_test_id,
    )  # fmt: skip
    savepoint = db.begin_nested()
    db.add(duplicate)
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()
    savepoint.rollback()


def test_the_csv_export_lists_positions_with_controls(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    stat = make_ready_specimen(db, tenant, setup, priority="stat", collected_at=T0)
    built = _build(client, tenant, _template(client, tenant, setup)).json()
    response = client.get(f"/api/v1/worklists/{built['id']}/export", headers=tenant.headers(LAB))
    assert response.headers["content-type"].startswith("text/csv")
    day = org_clock.local_date(db, tenant.organization_id, datetime.now(UTC))
    assert response.headers["content-disposition"] == (
        f'attachment; filename="worklist-A1C-{day.isoformat()}-1.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["position", "kind", "accession", "patient_name", "birth_date", "test_code", "loinc",
         "priority", "control_material"],
        ["1", "control", "", "", "", "", "", "", "Level 1"],
        ["2", "patient", stat.accession, "Rivera, Ana", "1980-04-02", "A1C", "4548-4", "stat", ""],
    ]  # fmt: skip
    # the bench's second worklist of the day is number 2
    make_ready_specimen(db, tenant, setup, collected_at=T0)
    second = _build(client, tenant, _template(client, tenant, setup)).json()
    again = client.get(f"/api/v1/worklists/{second['id']}/export", headers=tenant.headers(LAB))
    assert again.headers["content-disposition"].endswith(f'-A1C-{day.isoformat()}-2.csv"')


def test_typed_text_in_the_csv_export_never_runs_as_a_spreadsheet_formula(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    reserved = [{"position": "1", "kind": "control", "material": '=HYPERLINK("http://x")'}]
    built = _build(client, tenant, _template(client, tenant, setup, reserved=reserved)).json()
    response = client.get(f"/api/v1/worklists/{built['id']}/export", headers=tenant.headers(LAB))
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1] == ["1", "control", "", "", "", "", "", "", '\'=HYPERLINK("http://x")']


def test_front_desk_and_integrations_cannot_build_worklists(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    template = _template(client, tenant, setup)
    assert _build(client, tenant, template, Role.FRONT_DESK).status_code == 403
    assert _build(client, tenant, template, Role.INTEGRATION).status_code == 403
    assert _build(client, other_tenant, template).status_code == 404


def test_two_technicians_building_at_once_never_get_the_same_item(
    committing_app: FastAPI, committing_tenant: Tenant
) -> None:
    with committing_app.state.session_factory() as session:
        setup = make_lab_setup(session, committing_tenant)
        for i in range(30):
            make_ready_specimen(session, committing_tenant, setup,
                                collected_at=T0 + timedelta(minutes=i))  # fmt: skip
    headers = committing_tenant.headers(LAB)
    [template] = asyncio.run(together(committing_app, [(
        "POST", "/api/v1/worklist-templates",
        {"name": "rack", "bench": "chemistry", "test_ids": [setup.tests["A1C"]],
         "layout": "rack", "capacity": 8}, headers)]))  # fmt: skip
    build = ("POST", "/api/v1/worklists", {"template_id": template.json()["id"]}, headers)
    responses = asyncio.run(together(committing_app, [build] * 5))
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    placed = [i["specimen_test_id"] for r in responses for i in r.json()["items"]]
    assert len(placed) == 30
    assert len(set(placed)) == 30
    with committing_app.state.session_factory() as session:
        active = session.exec(
            select(WorklistItem.active_specimen_test_id).where(
                WorklistItem.active_specimen_test_id.is_not(None)  # type: ignore[union-attr]
            )
        ).all()
    assert len(active) == len(set(active)) == 30


def test_a_retried_build_with_its_idempotency_key_builds_one_worklist(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    for minute in range(3):
        make_ready_specimen(db, tenant, setup, collected_at=T0 + timedelta(minutes=minute))
    template = client.post("/api/v1/worklist-templates", headers=tenant.headers(LAB), json={
        "name": "a1c", "bench": "chemistry", "test_ids": [setup.tests["A1C"]],
        "layout": "rack", "capacity": 2}).json()["id"]  # fmt: skip
    headers = {**tenant.headers(LAB), "Idempotency-Key": "morning-run"}

    first = client.post("/api/v1/worklists", json={"template_id": template}, headers=headers)
    again = client.post("/api/v1/worklists", json={"template_id": template}, headers=headers)

    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    listed = client.get("/api/v1/worklists", headers=tenant.headers(LAB)).json()["items"]
    assert [w["id"] for w in listed] == [first.json()["id"]]  # the third specimen still waits
