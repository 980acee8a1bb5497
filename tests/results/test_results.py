"""Results: flags, verification rules (different user, critical notification, controls),
corrections with history, specimen verified, CSV import all-or-nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service import uploads
from service.auth.roles import Role
from service.labtests.schemas import ReferenceRange, ResultComponent
from service.results import flags
from service.results.models import Result
from tests.factories import LabSetup, Tenant, make_lab_setup, make_ready_specimen

LAB, ADMIN = Role.LAB, Role.ADMIN
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def setup(db: Session, tenant: Tenant) -> LabSetup:
    return make_lab_setup(db, tenant)


def _enter(client: TestClient, tenant: Tenant, specimen_id: str, test_id: str, code: str,
           value: str, role: str = LAB) -> Any:  # fmt: skip
    return client.post("/api/v1/results", headers=tenant.headers(role), json={
        "specimen_id": specimen_id, "lab_test_id": test_id, "component_code": code,
        "value": value})  # fmt: skip


def _verify(client: TestClient, tenant: Tenant, ids: list[str], role: str = ADMIN) -> Any:
    return client.post("/api/v1/results/verification", json={"result_ids": ids},
                       headers=tenant.headers(role))  # fmt: skip


GLUCOSE = ResultComponent(code="2345-7", name="Glucose", unit="mg/dL", ranges=[
    ReferenceRange(low=Decimal(70), high=Decimal(99), critical_low=Decimal(40),
                   critical_high=Decimal(400)),
    ReferenceRange(sex="M", age_min_years=0, age_max_years=1, low=Decimal(50), high=Decimal(90)),
])  # fmt: skip


@pytest.mark.parametrize(
    ("value", "sex", "age", "flag"),
    [("30", "F", 40, "LL"), ("60", "F", 40, "L"), ("85", "F", 40, "N"), ("120", "F", 40, "H"),
     ("450", "F", 40, "HH"), ("60", "M", 0, "N"), ("95", "M", 0, "H")],
)  # fmt: skip
def test_flags_come_from_the_most_specific_range(value: str, sex: str, age: int, flag: str) -> None:
    assert flags.flag(GLUCOSE, value, sex, age).flag == flag


def test_coded_results_are_normal_or_abnormal_and_bad_numbers_are_refused() -> None:
    coded = ResultComponent(code="X", name="Dx", kind="coded", normal_values=["benign"])
    assert flags.flag(coded, "benign", "F", 30).flag == "N"
    assert flags.flag(coded, "malignant", "F", 30).flag == "A"
    with pytest.raises(flags.BadValue):
        flags.flag(GLUCOSE, "high", "F", 30)
    with pytest.raises(flags.BadValue):
        flags.flag(GLUCOSE, "NaN", "F", 30)


def test_the_same_user_cannot_verify_and_a_different_lab_user_can(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup, collected_at=T0)
    entered = _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "6.1")
    assert entered.status_code == 201, entered.text
    assert entered.json()["flag"] == "H"
    assert entered.json()["ref_high"] == "5.6"
    rid = entered.json()["id"]

    same = _verify(client, tenant, [rid], LAB)
    assert same.status_code == 403
    assert same.json()["type"].endswith("/verifier-must-differ")
    assert _verify(client, tenant, [rid], Role.FRONT_DESK).status_code == 403
    assert _verify(client, tenant, [rid], Role.INTEGRATION).status_code == 403

    verified = _verify(client, tenant, [rid], ADMIN)
    assert verified.status_code == 200, verified.text
    assert verified.json()[0]["status"] == "final"
    assert verified.json()[0]["verified_by"] == tenant.user_ids[ADMIN]
    status = client.get(f"/api/v1/specimens/{specimen.id}", headers=tenant.headers(LAB))
    assert status.json()["status"] == "verified"
    assert client.get(f"/api/v1/results/{rid}",
                      headers=tenant.headers(Role.INTEGRATION)).status_code == 200  # fmt: skip


def test_a_second_key_of_the_same_user_is_still_the_same_user(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    from service.auth import logic as auth_logic

    specimen = make_ready_specimen(db, tenant, setup, collected_at=T0)
    rid = _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "5.0").json()["id"]
    _, second_key = auth_logic.issue_api_key(
        db, tenant.organization_id, tenant.user_ids[LAB], "second"
    )
    db.commit()
    response = client.post("/api/v1/results/verification", json={"result_ids": [rid]},
                           headers={"Authorization": f"Bearer {second_key}"})  # fmt: skip
    assert response.status_code == 403


def test_a_critical_value_needs_a_notification_before_verification(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup, code="A1C", collected_at=T0)
    a1c = _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "5.0").json()
    assert a1c["critical"] is False
    glu_specimen = make_ready_specimen(db, tenant, setup, code="GLU", collected_at=T0)
    client.post(
        f"/api/v1/specimens/{glu_specimen.id}/steps",
        headers=tenant.headers(LAB),
        json={"step": "centrifuge", "parameters": {"minutes": 10, "g_force": 1500}},
    )
    critical = _enter(client, tenant, glu_specimen.id, setup.tests["GLU"], "2345-7", "35").json()
    assert (critical["flag"], critical["critical"]) == ("LL", True)

    refused = _verify(client, tenant, [a1c["id"], critical["id"]])
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/critical-value-not-notified")
    assert db.get(Result, a1c["id"]).verified_at is None  # type: ignore[union-attr]  # all or none

    notified = client.post(f"/api/v1/results/{critical['id']}/notification",
                           json={"notified_name": "Dr. Okafor (ordering)"},
                           headers=tenant.headers(LAB))  # fmt: skip
    assert notified.json()["notified_by"] == tenant.user_ids[LAB]
    assert _verify(client, tenant, [a1c["id"], critical["id"]]).status_code == 200


def test_a_correction_keeps_history_and_needs_verifying_again(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup, collected_at=T0)
    first = _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "5.0").json()
    assert _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "5.1").status_code == (
        201
    )  # a preliminary value may be replaced
    current = client.get(f"/api/v1/results?specimen_id={specimen.id}",
                         headers=tenant.headers(LAB)).json()["items"]  # fmt: skip
    latest = next(r for r in current if r["current"])
    _verify(client, tenant, [latest["id"]])
    again = _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "5.2")
    assert again.status_code == 409

    corrected = client.post(f"/api/v1/results/{latest['id']}/correction",
                            json={"value": "7.2", "reason": "transcription error"},
                            headers=tenant.headers(LAB))  # fmt: skip
    assert corrected.status_code == 201
    assert (corrected.json()["status"], corrected.json()["flag"]) == ("corrected", "H")
    history = client.get(f"/api/v1/results/{first['id']}/history",
                         headers=tenant.headers(LAB)).json()  # fmt: skip
    assert [(h["value"], h["status"], h["current"]) for h in history] == [
        ("5.0", "preliminary", False),
        ("5.1", "final", False),
        ("7.2", "corrected", True),
    ]
    assert _verify(client, tenant, [corrected.json()["id"]], LAB).status_code == 403
    assert _verify(client, tenant, [corrected.json()["id"]], ADMIN).status_code == 200


def test_an_out_of_range_control_blocks_the_run_until_accepted_or_rerun(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup, code="GLU", collected_at=T0)
    client.post(
        f"/api/v1/specimens/{specimen.id}/steps",
        headers=tenant.headers(LAB),
        json={"step": "centrifuge", "parameters": {"minutes": 10, "g_force": 1500}},
    )
    template = client.post("/api/v1/worklist-templates", headers=tenant.headers(LAB), json={
        "name": "chem", "bench": "chemistry", "test_ids": [setup.tests["GLU"]],
        "layout": "rack", "capacity": 10}).json()["id"]  # fmt: skip
    worklist = client.post("/api/v1/worklists", json={"template_id": template},
                           headers=tenant.headers(LAB)).json()["id"]  # fmt: skip
    controls = f"/api/v1/worklists/{worklist}/controls"
    control = {"lab_test_id": setup.tests["GLU"], "material": "Level 1", "component_code": "2345-7"}
    low = client.post(controls, json={**control, "value": "80"}, headers=tenant.headers(LAB))
    assert low.json()["in_range"] is False
    rid = _enter(client, tenant, specimen.id, setup.tests["GLU"], "2345-7", "85").json()["id"]
    assert (
        client.get(f"/api/v1/results/{rid}", headers=tenant.headers(LAB)).json()["worklist_id"]
        == worklist
    )

    blocked = _verify(client, tenant, [rid])
    assert blocked.status_code == 409
    assert "Level 1 2345-7=80" in blocked.json()["detail"]
    rerun = client.post(controls, json={**control, "value": "100"}, headers=tenant.headers(LAB))
    assert rerun.json()["in_range"] is True
    assert _verify(client, tenant, [rid]).status_code == 200


def test_an_accepted_control_releases_the_run(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup, code="GLU", collected_at=T0)
    client.post(
        f"/api/v1/specimens/{specimen.id}/steps",
        headers=tenant.headers(LAB),
        json={"step": "centrifuge", "parameters": {"minutes": 10, "g_force": 1500}},
    )
    template = client.post("/api/v1/worklist-templates", headers=tenant.headers(LAB), json={
        "name": "chem", "bench": "chemistry", "test_ids": [setup.tests["GLU"]],
        "layout": "rack", "capacity": 10}).json()["id"]  # fmt: skip
    worklist = client.post("/api/v1/worklists", json={"template_id": template},
                           headers=tenant.headers(LAB)).json()["id"]  # fmt: skip
    low = client.post(f"/api/v1/worklists/{worklist}/controls", headers=tenant.headers(LAB),
                      json={"lab_test_id": setup.tests["GLU"], "material": "Level 1",
                            "component_code": "2345-7", "value": "150"}).json()  # fmt: skip
    rid = _enter(client, tenant, specimen.id, setup.tests["GLU"], "2345-7", "85").json()["id"]
    assert _verify(client, tenant, [rid]).status_code == 409
    accepted = client.post(f"/api/v1/worklists/{worklist}/controls/{low['id']}/acceptance",
                           json={"note": "lot change, QC reviewed"},
                           headers=tenant.headers(LAB))  # fmt: skip
    assert accepted.json()["accepted_by"] == tenant.user_ids[LAB]
    assert _verify(client, tenant, [rid]).status_code == 200


def _worklist_with(client: TestClient, tenant: Tenant, db: Session, setup: LabSetup,
                   n: int) -> tuple[str, list[Any]]:  # fmt: skip
    specimens = [make_ready_specimen(db, tenant, setup, collected_at=T0 + timedelta(minutes=i))
                 for i in range(n)]  # fmt: skip
    template = client.post("/api/v1/worklist-templates", headers=tenant.headers(LAB), json={
        "name": "a1c", "bench": "chemistry", "test_ids": [setup.tests["A1C"]],
        "layout": "rack", "capacity": 10}).json()["id"]  # fmt: skip
    worklist = client.post("/api/v1/worklists", json={"template_id": template},
                           headers=tenant.headers(LAB)).json()["id"]  # fmt: skip
    return worklist, specimens


def _import(client: TestClient, tenant: Tenant, text: str, worklist: str | None) -> Any:
    url = "/api/v1/result-imports" + (f"?worklist_id={worklist}" if worklist else "")
    return client.post(url, content=text.encode(),
                       headers={**tenant.headers(LAB), "Content-Type": "text/csv"})  # fmt: skip


def test_a_csv_import_matches_by_accession_and_test_code(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    worklist, specimens = _worklist_with(client, tenant, db, setup, 2)
    text = ("accession,test_code,component_code,value,unit\r\n"
            f"{specimens[0].accession},A1C,4548-4,5.4,%\r\n"
            f"{specimens[1].accession},A1C,,6.8,\r\n")  # fmt: skip
    response = _import(client, tenant, text, worklist)
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2
    results = client.get(f"/api/v1/results?worklist_id={worklist}",
                         headers=tenant.headers(LAB)).json()["items"]  # fmt: skip
    assert sorted((r["value"], r["flag"]) for r in results) == [("5.4", "N"), ("6.8", "H")]
    shown = client.get(f"/api/v1/worklists/{worklist}", headers=tenant.headers(LAB)).json()
    assert shown["status"] == "in_progress"
    assert client.get(f"/api/v1/specimens/{specimens[0].id}",
                      headers=tenant.headers(LAB)).json()["status"] == "resulted"  # fmt: skip


def test_a_csv_sent_as_a_form_field_in_small_pieces_imports_the_same(
    client: TestClient,
    tenant: Tenant,
    db: Session,
    setup: LabSetup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "READ_BYTES", 5)  # rows and quoted values cut between reads
    worklist, specimens = _worklist_with(client, tenant, db, setup, 2)
    text = ("accession,test_code,component_code,value,unit\r\n"
            f'{specimens[0].accession},A1C,4548-4,"5.4",%\r\n'
            f"{specimens[1].accession},A1C,,6.8,\r\n")  # fmt: skip
    response = client.post(f"/api/v1/result-imports?worklist_id={worklist}",
                           files={"file": ("run.csv", text.encode(), "text/csv")},
                           headers=tenant.headers(LAB))  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2
    results = client.get(f"/api/v1/results?worklist_id={worklist}",
                         headers=tenant.headers(LAB)).json()["items"]  # fmt: skip
    assert sorted(r["value"] for r in results) == ["5.4", "6.8"]


def test_unmatched_or_malformed_rows_are_all_reported_and_nothing_is_imported(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    worklist, specimens = _worklist_with(client, tenant, db, setup, 2)
    outsider = make_ready_specimen(db, tenant, setup, collected_at=T0 + timedelta(hours=5))
    text = ("accession,test_code,component_code,value,unit\n"
            f"{specimens[0].accession},A1C,4548-4,5.4,%\n"        # line 2: good
            "26-999999,A1C,4548-4,5.0,%\n"                         # 3: no such specimen
            f"{specimens[1].accession},NOPE,,5.0,\n"               # 4: no such test
            f"{specimens[1].accession},A1C,4548-4,high,%\n"        # 5: not a number
            f"{specimens[1].accession},A1C,4548-4,5.0,mg/dL\n"     # 6: wrong unit
            f"{outsider.accession},A1C,4548-4,5.0,%\n"             # 7: not on this worklist
            f"{specimens[0].accession},A1C,4548-4,5.5,%,extra\n"   # 8: too many fields
            f"{specimens[0].accession},A1C,4548-4,5.5,%\n")  # 9: duplicate  # fmt: skip
    response = _import(client, tenant, text, worklist)
    assert response.status_code == 422
    errors = {e["pointer"]: e["detail"] for e in response.json()["errors"]}
    assert sorted(errors) == [f"/rows/{n}" for n in range(3, 10)]
    assert "no specimen 26-999999" in errors["/rows/3"]
    assert "not a number" in errors["/rows/5"]
    assert "not on worklist" in errors["/rows/7"]
    assert "nothing was imported" in response.json()["detail"]
    assert db.exec(select(func.count()).select_from(Result)).one() == 0

    assert _import(client, tenant, "specimen,value\nx,1\n", worklist).status_code == 422
    as_json = client.post("/api/v1/result-imports", json={}, headers=tenant.headers(LAB))
    assert as_json.status_code == 422


def test_another_organization_cannot_see_or_verify_results(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup, collected_at=T0)
    rid = _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "5.0").json()["id"]
    assert client.get(f"/api/v1/results/{rid}", headers=other_tenant.headers(LAB)).status_code == (
        404
    )
    assert _verify(client, other_tenant, [rid]).status_code == 404
    assert client.get("/api/v1/results", headers=other_tenant.headers(LAB)).json()["items"] == []
    assert _enter(
        client, other_tenant, specimen.id, setup.tests["A1C"], "4548-4", "5"
    ).status_code == (404)


def _count_results(db: Session) -> int:
    db.commit()  # a fresh snapshot: see what the requests committed
    return db.exec(select(func.count()).select_from(Result)).one()


def test_a_retried_entry_with_its_idempotency_key_answers_the_first_result(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup)
    body = {"specimen_id": specimen.id, "lab_test_id": setup.tests["A1C"],
            "component_code": "4548-4", "value": "5.9"}  # fmt: skip
    headers = {**tenant.headers(LAB), "Idempotency-Key": "entry-1"}

    first = client.post("/api/v1/results", json=body, headers=headers)
    again = client.post("/api/v1/results", json=body, headers=headers)
    other = client.post("/api/v1/results", json={**body, "value": "6.1"}, headers=headers)

    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert _count_results(db) == 1


def test_a_retried_csv_import_with_its_idempotency_key_imports_once(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    worklist, specimens = _worklist_with(client, tenant, db, setup, 2)
    text = ("accession,test_code,component_code,value,unit\r\n"
            f"{specimens[0].accession},A1C,4548-4,5.4,%\r\n"
            f"{specimens[1].accession},A1C,4548-4,6.8,%\r\n")  # fmt: skip
    headers = {**tenant.headers(LAB), "Content-Type": "text/csv", "Idempotency-Key": "run-7"}
    url = f"/api/v1/result-imports?worklist_id={worklist}"

    first = client.post(url, content=text.encode(), headers=headers)
    again = client.post(url, content=text.encode(), headers=headers)

    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert first.json()["imported"] == 2
    assert again.headers["idempotent-replayed"] == "true"
    other_run = client.post("/api/v1/result-imports", content=text.encode(), headers=headers)
    assert other_run.status_code == 422  # the same key for another request (no worklist)
    assert _count_results(db) == 2


def test_an_item_with_results_stays_on_its_worklist(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    worklist, [specimen] = _worklist_with(client, tenant, db, setup, 1)
    item = client.get(f"/api/v1/worklists/{worklist}", headers=tenant.headers(LAB)).json()
    item_id = next(i["id"] for i in item["items"] if i.get("specimen_id") == specimen.id)
    entered = _enter(client, tenant, specimen.id, setup.tests["A1C"], "4548-4", "5.0")
    assert entered.status_code == 201, entered.text
    removed = client.delete(
        f"/api/v1/worklists/{worklist}/items/{item_id}", headers=tenant.headers(LAB)
    )
    assert removed.status_code == 409, removed.text
    assert removed.json()["type"].endswith("/worklist-item-has-results")
