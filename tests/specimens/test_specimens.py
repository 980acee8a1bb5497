"""Specimens over HTTP: accessioning, custody, preparation steps, children, labels, TAT."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from service.results import logic as result_logic
from service.results.schemas import ResultCreate
from service.specimens import labels
from tests.factories import LabSetup, Tenant, make_lab_setup, make_order, principal
from tests.specimens.barcodes import decode_modules, modules_from_png, modules_from_svg

LAB = Role.LAB


@pytest.fixture
def setup(db: Session, tenant: Tenant) -> LabSetup:
    return make_lab_setup(db, tenant)


def _post(client: TestClient, tenant: Tenant, url: str, body: dict[str, Any],
          role: str = LAB) -> Any:  # fmt: skip
    return client.post(url, json=body, headers=tenant.headers(role))


def _specimen(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup, code: str, **body: Any
) -> dict[str, Any]:
    order = make_order(db, tenant, setup, [code])
    response = _post(client, tenant, "/api/v1/specimens", {"order_id": order, **body},
                     Role.FRONT_DESK)  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


def _received(client: TestClient, tenant: Tenant, db: Session, setup: LabSetup, code: str,
              **body: Any) -> dict[str, Any]:  # fmt: skip
    specimen = _specimen(client, tenant, db, setup, code, collected_at=_now(), **body)
    response = _post(client, tenant, f"/api/v1/specimens/{specimen['id']}/receipt",
                     {"location": "Histology"})  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def _now() -> str:
    return datetime.now(UTC).isoformat()


def test_accession_numbers_are_yy_dash_six_digits_and_count_up(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    first = _specimen(client, tenant, db, setup, "A1C")
    second = _specimen(client, tenant, db, setup, "A1C")
    year = datetime.now(UTC).year % 100
    assert re.fullmatch(rf"{year:02d}-\d{{6}}", first["accession"])
    assert int(second["accession"][3:]) == int(first["accession"][3:]) + 1
    assert first["status"] == "ordered"
    found = client.get(f"/api/v1/specimens?accession={first['accession']}",
                       headers=tenant.headers(LAB)).json()["items"]  # fmt: skip
    assert [s["id"] for s in found] == [first["id"]]


def test_a_specimen_without_required_steps_is_ready_on_receipt(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _received(client, tenant, db, setup, "A1C")
    assert specimen["status"] == "ready"
    assert specimen["ready_at"] == specimen["received_at"]


def test_an_illegal_transition_is_a_409_naming_current_and_allowed_states(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _specimen(client, tenant, db, setup, "GLU")
    response = _post(client, tenant, f"/api/v1/specimens/{specimen['id']}/receipt",
                     {"location": "Chem"})  # fmt: skip
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "is ordered" in response.json()["detail"]
    assert "Allowed next: collected" in response.json()["detail"]


def test_required_steps_gate_ready_and_parameters_are_checked_against_the_protocol(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _received(client, tenant, db, setup, "GLU")
    assert specimen["status"] == "received"
    url = f"/api/v1/specimens/{specimen['id']}/steps"

    too_fast = _post(
        client, tenant, url, {"step": "centrifuge", "parameters": {"minutes": 10, "g_force": 5000}}
    )
    unknown = _post(client, tenant, url, {"step": "centrifuge", "parameters": {"minutes": 10}})
    not_in_protocol = _post(client, tenant, url, {"step": "stain"})
    assert too_fast.status_code == 422  # policy: refuse
    assert "g_force 5000" in too_fast.json()["detail"]
    assert unknown.status_code == 422
    assert "/parameters/g_force" in [e["pointer"] for e in unknown.json()["errors"]]
    assert not_in_protocol.status_code == 422

    done = _post(
        client, tenant, url, {"step": "centrifuge", "parameters": {"minutes": 10, "g_force": 1500}}
    )
    assert done.status_code == 201, done.text
    assert done.json()["specimen"]["status"] == "ready"
    assert done.json()["deviation"] is False


def test_out_of_order_steps_are_refused_and_out_of_range_fixation_is_flagged(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _received(client, tenant, db, setup, "SURGPATH")
    url = f"/api/v1/specimens/{specimen['id']}/steps"

    early = _post(client, tenant, url, {"step": "gross"})
    assert early.status_code == 409
    assert "gross before fix" in early.json()["detail"]

    long_fix = _post(client, tenant, url, {"step": "fix", "parameters": {"hours": 80}})
    assert long_fix.status_code == 201
    assert long_fix.json()["deviation"] is True
    assert long_fix.json()["specimen"]["status"] == "in_preparation"
    assert any("hours 80" in w for w in long_fix.json()["specimen"]["warnings"])

    for step in ("gross", "process", "embed", "section"):
        assert _post(client, tenant, url, {"step": step}).json()["specimen"]["status"] == (
            "in_preparation"
        )
    assert _post(client, tenant, url, {"step": "stain"}).json()["specimen"]["status"] == "ready"
    events = client.get(f"/api/v1/specimens/{specimen['id']}/events",
                        headers=tenant.headers(LAB)).json()["items"]  # fmt: skip
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == ["fix", "gross", "process", "embed", "section", "stain"]
    assert [e["deviation"] for e in steps] == [True, False, False, False, False, False]


def test_stability_exceeded_at_receipt_flags_a_warning(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _specimen(client, tenant, db, setup, "GLU", collected_at="2026-01-01T08:00:00Z")
    received = _post(client, tenant, f"/api/v1/specimens/{specimen['id']}/receipt",
                     {"location": "Chem", "at": "2026-01-01T17:00:00Z"})  # fmt: skip
    assert received.json()["warnings"] == ["GLU: stability of 8 h at room temperature exceeded"]
    events = client.get(f"/api/v1/specimens/{specimen['id']}/events",
                        headers=tenant.headers(LAB)).json()["items"]  # fmt: skip
    assert any(e["event"] == "deviation" and e["deviation"] for e in events)


def test_rejection_needs_a_listed_reason_and_recollection_is_a_new_ordered_specimen(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _received(client, tenant, db, setup, "A1C")
    url = f"/api/v1/specimens/{specimen['id']}/rejection"
    assert _post(client, tenant, url, {"reason": "too cold"}).status_code == 422

    rejected = _post(client, tenant, url, {"reason": "hemolyzed", "recollect": True})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    new_url = re.match(r"<([^>]+)>", rejected.headers["link"])
    assert new_url is not None
    recollection = client.get(new_url.group(1), headers=tenant.headers(LAB)).json()
    assert recollection["status"] == "ordered"
    assert recollection["order_id"] == specimen["order_id"]
    assert recollection["recollection_of_id"] == specimen["id"]
    assert recollection["accession"] != specimen["accession"]
    assert _post(client, tenant, url, {"reason": "qns"}).status_code == 409


def test_children_get_suffixed_accessions_take_volume_and_start_received_at_the_parent(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    parent = _received(client, tenant, db, setup, "A1C", volume="4", volume_unit="mL")
    url = f"/api/v1/specimens/{parent['id']}/children"
    a1 = _post(client, tenant, url, {"kind": "aliquot", "volume": "1.5"})
    a2 = _post(client, tenant, url, {"kind": "aliquot", "volume": "2"})
    too_much = _post(client, tenant, url, {"kind": "aliquot", "volume": "1"})
    assert a1.status_code == 201, a1.text
    assert a1.json()["accession"] == parent["accession"] + "-A1"
    assert a2.json()["accession"] == parent["accession"] + "-A2"
    assert too_much.status_code == 409
    assert "0.5 mL left" in too_much.json()["detail"]
    assert a1.json()["status"] == "received"
    assert a1.json()["location"] == parent["location"]

    slide = _post(client, tenant, f"/api/v1/specimens/{a1.json()['id']}/children",
                  {"kind": "slide"})  # fmt: skip
    assert slide.json()["accession"] == parent["accession"] + "-A1-S1"
    down = client.get(f"/api/v1/specimens/{parent['id']}/lineage",
                      headers=tenant.headers(LAB)).json()  # fmt: skip
    up = client.get(f"/api/v1/specimens/{slide.json()['id']}/lineage",
                    headers=tenant.headers(LAB)).json()  # fmt: skip
    assert [s["accession"] for s in down["descendants"]] == [
        a1.json()["accession"],
        slide.json()["accession"],
        a2.json()["accession"],
    ]
    assert [s["id"] for s in up["ancestors"]] == [a1.json()["id"], parent["id"]]
    assert client.get(f"/api/v1/specimens/{parent['id']}",
                      headers=tenant.headers(LAB)).json()["volume"] == "0.5"  # fmt: skip


def test_a_block_inherits_its_parents_steps_and_is_ready_after_its_own(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    tissue = _received(client, tenant, db, setup, "SURGPATH")
    url = f"/api/v1/specimens/{tissue['id']}/steps"
    _post(client, tenant, url, {"step": "fix", "parameters": {"hours": 12}})
    _post(client, tenant, url, {"step": "gross"})
    block = _post(client, tenant, f"/api/v1/specimens/{tissue['id']}/children",
                  {"kind": "block", "test_ids": [setup.tests["SURGPATH"]]}).json()  # fmt: skip
    assert block["accession"].endswith("-B1")
    assert block["status"] == "received"
    block_url = f"/api/v1/specimens/{block['id']}/steps"
    for step in ("process", "embed", "section"):
        assert _post(client, tenant, block_url, {"step": step}).status_code == 201
    assert _post(client, tenant, block_url, {"step": "stain"}).json()["specimen"]["status"] == (
        "ready"
    )


def test_labels_encode_the_accession_and_each_print_is_a_counted_event(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _specimen(client, tenant, db, setup, "A1C", collected_at="2026-03-01T13:00:00Z")
    url = f"/api/v1/specimens/{specimen['id']}/label"
    headers = tenant.headers(Role.FRONT_DESK)
    svg = client.get(url + "?format=svg", headers=headers)
    png = client.get(url + "?format=png", headers=headers)
    zpl = client.get(url + "?format=zpl", headers=headers)

    assert svg.headers["content-type"] == "image/svg+xml"
    assert modules_from_svg(svg.content) == labels.modules(specimen["accession"])
    assert decode_modules(modules_from_svg(svg.content)) == specimen["accession"]
    assert png.headers["content-type"] == "image/png"
    assert decode_modules(modules_from_png(png.content)) == specimen["accession"]
    assert f"^BCN,50,N,N,N^FD{specimen['accession']}^FS" in zpl.text
    assert "Rivera, Ana  MRN LAB-0001" in zpl.text
    assert "DOB 1980-04-02  BLD  EDTA lavender top" in zpl.text
    assert "^FDA1C^FS" in zpl.text  # the tests on the tube
    assert "2026-03-01 08:00 EST" in zpl.text  # collection time in the clinic's zone

    events = client.get(f"/api/v1/specimens/{specimen['id']}/events",
                        headers=tenant.headers(LAB)).json()["items"]  # fmt: skip
    prints = [e for e in events if e["event"].startswith("label_")]
    assert [e["event"] for e in prints] == ["label_printed", "label_reprinted", "label_reprinted"]
    assert [e["details"]["count"] for e in prints] == [1, 2, 3]
    assert client.get(url + "?format=pdf", headers=headers).status_code == 422


def test_turnaround_times_hold_across_time_zones(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _specimen(client, tenant, db, setup, "A1C",
                         collected_at="2026-03-01T08:00:00-05:00")  # 13:00Z  # fmt: skip
    received = _post(client, tenant, f"/api/v1/specimens/{specimen['id']}/receipt",
                     {"location": "Chem", "at": "2026-03-01T14:30:00+01:00"})  # 13:30Z  # fmt: skip
    assert received.json()["status"] == "ready"
    entered = result_logic.enter_result(
        db, principal(tenant, LAB),
        ResultCreate(specimen_id=specimen["id"], lab_test_id=setup.tests["A1C"],
                     component_code="4548-4", value="5.1"),
        at=datetime.fromisoformat("2026-03-01T14:00:00+00:00"),
    )  # fmt: skip
    result_logic.verify_results(
        db, principal(tenant, Role.ADMIN), [entered.id],
        at=datetime.fromisoformat("2026-03-01T23:00:00+09:00"),  # 14:00Z
    )  # fmt: skip
    db.commit()

    mine = client.get(f"/api/v1/specimens/{specimen['id']}/turnaround",
                      headers=tenant.headers(LAB)).json()  # fmt: skip
    assert mine["collected_to_received_minutes"] == 30
    assert mine["received_to_ready_minutes"] == 0
    assert mine["ready_to_verified_minutes"] == 30
    report = client.get(
        "/api/v1/reports/turnaround",
        params={"from": "2026-03-01T00:00:00-10:00", "to": "2026-03-02T00:00:00+09:00"},
        headers=tenant.headers(LAB),
    ).json()  # fmt: skip
    assert report["by_test"][0]["key"] == "A1C"
    assert report["by_test"][0]["collected_to_verified_median_minutes"] == 60
    assert report["by_bench"][0]["key"] == "chemistry"
    later = client.get(
        "/api/v1/reports/turnaround",
        params={"from": "2026-03-01T08:30:00-05:00", "to": "2026-03-02T00:00:00Z"},
        headers=tenant.headers(LAB),
    ).json()  # fmt: skip
    assert later["by_test"] == []
    naive = client.get("/api/v1/reports/turnaround",
                       params={"from": "2026-03-01T00:00:00", "to": "2026-03-02T00:00:00Z"},
                       headers=tenant.headers(LAB))  # fmt: skip
    assert naive.status_code == 422


def test_another_organization_gets_404_and_a_biller_gets_403(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = _received(client, tenant, db, setup, "A1C")
    url = f"/api/v1/specimens/{specimen['id']}"
    foreign = other_tenant.headers(LAB)
    assert client.get(url, headers=foreign).status_code == 404
    assert client.get(url + "/events", headers=foreign).status_code == 404
    assert client.get(url + "/label", headers=foreign).status_code == 404
    assert client.post(url + "/rejection", json={"reason": "qns"}, headers=foreign).status_code == (
        404
    )
    assert client.get("/api/v1/specimens", headers=foreign).json()["items"] == []
    assert client.get(
        f"/api/v1/lab-orders/{specimen['order_id']}", headers=foreign
    ).status_code == (404)
    biller = tenant.headers(Role.BILLER)
    assert client.get(url, headers=biller).status_code == 403
    assert client.get("/api/v1/lab-orders", headers=biller).status_code == 403
    assert client.get("/api/v1/results", headers=biller).status_code == 403
    assert client.get("/api/v1/lab-tests", headers=biller).status_code == 403


def test_reading_a_specimen_is_audited_with_its_patient(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    from sqlmodel import select

    from service.audit.models import AuditEvent

    specimen = _received(client, tenant, db, setup, "A1C")
    client.get(f"/api/v1/specimens/{specimen['id']}", headers=tenant.headers(Role.AUDITOR))
    reads = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_id == specimen["id"], AuditEvent.action == "read"
        )
    ).all()
    assert [(r.patient_id, r.role) for r in reads] == [(setup.patient_id, "auditor")]


def test_accessioning_writes_the_specimen_its_tests_custody_and_audit_events(
    db: Session, tenant: Tenant, setup: LabSetup
) -> None:
    from sqlmodel import select

    from service.audit.models import AuditEvent
    from service.specimens import logic as specimen_logic
    from service.specimens import repository
    from service.specimens.models import SpecimenEvent
    from service.specimens.schemas import SpecimenCreate

    order_id = make_order(db, tenant, setup, ["A1C"])
    actor = principal(tenant, Role.FRONT_DESK)
    data = SpecimenCreate(order_id=order_id, volume="3", location="Draw 2")
    # Two in one transaction: the second reuses the zone and catalog rows the first read.
    first, second = (
        specimen_logic.accession_specimen(db, actor, data, at=datetime.now(UTC)) for _ in range(2)
    )
    db.commit()

    assert int(second.accession[3:]) == int(first.accession[3:]) + 1
    for specimen in (first, second):
        db.refresh(specimen)
        assert (specimen.status, specimen.version, specimen.volume, specimen.volume_unit) == (
            "ordered", 1, Decimal(3), "mL",
        )  # fmt: skip
        tests = repository.tests_of(db, [specimen.id])
        assert [(t.lab_test_id, t.status) for t in tests] == [(setup.tests["A1C"], "pending")]
        events = db.exec(select(SpecimenEvent).where(SpecimenEvent.specimen_id == specimen.id))
        assert [(e.event, e.location, e.user_id, e.details) for e in events] == [
            ("accessioned", "Draw 2", actor.user_id, {"order_id": order_id})
        ]
        audits = db.exec(select(AuditEvent).where(AuditEvent.resource_id == specimen.id))
        assert [(a.action, a.resource_type, a.patient_id, a.outcome, a.role) for a in audits] == [
            ("create", "specimen", setup.patient_id, "success", "front_desk")
        ]


def test_a_test_taken_out_of_the_catalog_within_the_transaction_is_refused(
    db: Session, tenant: Tenant, setup: LabSetup
) -> None:
    from service import crud
    from service.errors import InvalidInput
    from service.labtests import logic as labtest_logic
    from service.specimens import logic as specimen_logic
    from service.specimens.schemas import SpecimenCreate

    order_id = make_order(db, tenant, setup, ["A1C"])
    actor = principal(tenant)
    data = SpecimenCreate(order_id=order_id)
    specimen_logic.accession_specimen(db, actor, data, at=datetime.now(UTC))
    crud.delete(db, actor, labtest_logic.LAB_TESTS, setup.tests["A1C"], at=datetime.now(UTC),
                expected_version=None)  # fmt: skip
    with pytest.raises(InvalidInput, match="no longer in the catalog"):
        specimen_logic.accession_specimen(db, actor, data, at=datetime.now(UTC))


def test_retried_steps_and_aliquots_with_their_idempotency_keys_happen_once(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    """A bench tablet on flaky Wi-Fi resends: one step event, one aliquot, the volume taken once."""
    parent = _received(client, tenant, db, setup, "GLU", volume="4", volume_unit="mL")
    headers = {**tenant.headers(LAB), "Idempotency-Key": "spin-1"}
    step = {"step": "centrifuge", "parameters": {"minutes": 10, "g_force": 1500}}
    url = f"/api/v1/specimens/{parent['id']}"

    first = client.post(f"{url}/steps", json=step, headers=headers)
    again = client.post(f"{url}/steps", json=step, headers=headers)
    headers["Idempotency-Key"] = "aliquot-1"
    child = client.post(
        f"{url}/children", json={"kind": "aliquot", "volume": "1.5"}, headers=headers
    )
    child_again = client.post(
        f"{url}/children", json={"kind": "aliquot", "volume": "1.5"}, headers=headers
    )

    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert child.status_code == child_again.status_code == 201, child_again.text
    assert child_again.json()["id"] == child.json()["id"]
    assert child_again.headers["location"] == child.headers["location"]
    events = client.get(f"{url}/events", headers=tenant.headers(LAB)).json()["items"]
    assert [e["step"] for e in events if e["event"] == "step"] == ["centrifuge"]
    shown = client.get(url, headers=tenant.headers(LAB)).json()
    assert Decimal(shown["volume"]) == Decimal("2.5")
