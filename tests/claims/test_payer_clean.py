"""Payer-clean claims: dependants with their own member id, replacement and void claims, drug,
note, anesthesia and line-provider detail, the payer rules of the scrubber, other payers on
primary claims, and claim lines traced to their source. Every file is judged by pyx12."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.claims.models import Claim
from service.coding.models import Encounter
from service.demo.remittances import write_demo_remittances
from service.directory.models import Facility, Payer, Provider
from service.patients.models import Coverage, Patient
from tests.claims.conftest import Demo
from tests.claims.x12_check import assert_valid_837, segments
from tests.remittance.helpers import claim_status, make_batch, upload


def _patient(db: Session, mrn: str) -> Patient:
    return db.exec(select(Patient).where(Patient.mrn == mrn)).one()


def _claim_of(db: Session, mrn: str, kind: str = "professional") -> Claim:
    return db.exec(
        select(Claim).where(
            Claim.patient_id == _patient(db, mrn).id,
            Claim.claim_type == kind,
            Claim.payer_responsibility == "P",
        )
    ).one()


def _batch_text(client: TestClient, demo_org: Demo, db: Session, kind: str) -> str:
    batch = make_batch(client, demo_org, db, kind)
    response = client.get(f"/api/v1/claim-batches/{batch.id}/file", headers=demo_org.headers())
    assert response.status_code == 200
    return response.text


def _claim_block(segs: list[list[str]], pcn: str) -> list[list[str]]:
    """The segments from the HL the claim sits under through the claim's last line."""
    at = next(i for i, s in enumerate(segs) if s[:2] == ["CLM", pcn])
    start = max(i for i in range(at) if segs[i][0] == "HL")
    end = next((i for i in range(at + 1, len(segs)) if segs[i][0] in ("HL", "SE")), len(segs))
    return segs[start:end]


def _errors(body: dict[str, Any]) -> set[str]:
    return {f["code"] for f in body["findings"] if f["severity"] == "error"}


# --- dependants ---


@pytest.mark.parametrize("kind", ["professional", "dental"])
def test_a_child_with_her_own_member_id_is_the_subscriber(
    client: TestClient, demo_org: Demo, db: Session, kind: str
) -> None:
    sofia = _claim_of(db, "D-1002", kind)
    text = _batch_text(client, demo_org, db, kind)
    assert_valid_837(text, dental=kind == "dental")
    block = _claim_block(segments(text), sofia.patient_control_number)
    assert block[0][3:5] == ["22", "0"]  # under her own 2000B, no 2000C
    assert block[1][:3] == ["SBR", "P", "18"]
    assert block[2][:5] == ["NM1", "IL", "1", "RIVERA", "SOFIA"]
    assert block[2][-1] == "ACM100200301"
    assert any(s[:3] == ["DMG", "D8", "20160303"] for s in block)
    assert not any(s[0] == "PAT" for s in block)


def test_a_child_sharing_his_mothers_member_id_goes_in_2000c(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    mateo = _claim_of(db, "D-1005")
    text = _batch_text(client, demo_org, db, "professional")
    assert_valid_837(text)
    segs = segments(text)
    block = _claim_block(segs, mateo.patient_control_number)
    assert block[0][3] == "23"  # 2000C
    assert ["PAT", "19"] in block
    assert any(s[:5] == ["NM1", "QC", "1", "RIVERA", "MATEO"] for s in block)
    # The 2000B above names the mother with the shared id.
    assert any(
        s[:5] == ["NM1", "IL", "1", "RIVERA", "ANA"] and s[-1] == "ACM100200300" for s in segs
    )


def test_own_member_id_is_for_dependants_only(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    ana = _patient(db, "D-1001")
    payer = db.exec(select(Payer).where(Payer.edi_payer_id == "ACME01")).one()
    response = client.post(
        "/api/v1/coverages",
        json={
            "patient_id": ana.id,
            "payer_id": payer.id,
            "member_id": "X1",
            "priority": "secondary",
            "relationship": "18",
            "own_member_id": True,
            "start_date": "2026-01-01",
        },
        headers=demo_org.headers(),
    )
    assert response.status_code == 422


# --- replacement and void ---


def _demo_paid(client: TestClient, app: FastAPI, demo_org: Demo, db: Session, tmp: Path) -> None:
    """`backoffice demo --remittances`, its files uploaded: the primary claims are paid."""
    paths, _ = write_demo_remittances(
        db,
        demo_org.organization_id,
        tmp,
        numbers_factory=app.state.session_factory,
        now=datetime.now(UTC),
        local_today=lambda: date(2026, 11, 28),
    )
    db.commit()
    for kind in ("999", "277ca", "835"):
        for path in sorted(p for p in paths if p.name.startswith(kind)):
            upload(client, demo_org, path.read_text(encoding="ascii"))
    db.commit()


def _recode(client: TestClient, demo_org: Demo, encounter_id: str) -> None:
    """The coder reopens the billed encounter, corrects it and moves it to ready."""
    headers = demo_org.headers()
    reopened = client.post(
        f"/api/v1/encounters/{encounter_id}/reopen",
        json={"reason": "payer asked for 99214"},
        headers=headers,
    )
    assert reopened.status_code == 200, reopened.text
    coded = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={
            "diagnoses": ["R51.9"],
            "service_lines": [{"code_system": "CPT", "code": "99214", "pointers": [1]}],
        },
        headers=headers,
    )
    assert coded.status_code == 200, coded.text
    ready = client.post(
        f"/api/v1/encounters/{encounter_id}/status", json={"status": "ready"}, headers=headers
    )
    assert ready.status_code == 200, ready.text


def test_a_paid_claim_is_replaced_and_another_voided_and_the_batch_carries_7_and_8(
    client: TestClient, app: FastAPI, demo_org: Demo, db: Session, tmp_path: Path
) -> None:
    _demo_paid(client, app, demo_org, db, tmp_path)
    # Mateo's claim: the demo 835 denies Siobhán O'Connor's (DENIED_MRN), and this wants a paid one.
    mateo, ana = _claim_of(db, "D-1005"), _claim_of(db, "D-1001")
    assert mateo.status in ("paid", "partially_paid")
    read = client.get(f"/api/v1/claims/{mateo.id}", headers=demo_org.headers()).json()
    number = read["payer_claim_number"]
    assert number  # CLP07 of the demo 835
    headers = demo_org.headers()

    # The encounter still billed with its old coding: reopen and correct it first.
    refused = client.post(f"/api/v1/claims/{mateo.id}/replacement", headers=headers)
    assert refused.status_code == 409
    assert claim_status(db, mateo.id) == mateo.status  # untouched
    _recode(client, demo_org, mateo.encounter_id)

    replacement = client.post(f"/api/v1/claims/{mateo.id}/replacement", headers=headers)
    assert replacement.status_code == 201, replacement.text
    body = replacement.json()
    assert (body["frequency"], body["payer_claim_number"]) == ("7", number)
    assert body["replaces_claim_id"] == mateo.id
    assert [line["code"] for line in body["lines"]] == ["99214"]
    assert body["status"] == "ready", body["findings"]
    again = client.post(f"/api/v1/claims/{mateo.id}/replacement", headers=headers)
    assert again.status_code == 409
    assert "already has a replacement" in again.json()["detail"]
    linked = client.get(f"/api/v1/claims/{mateo.id}", headers=headers).json()
    assert linked["replaced_by_claim_id"] == body["id"]

    void = client.post(f"/api/v1/claims/{ana.id}/void", headers=headers)
    assert void.status_code == 201, void.text
    voided = void.json()
    assert voided["frequency"] == "8"
    assert [(ln["code"], ln["charge"]) for ln in voided["lines"]] == [
        (ln["code"], ln["charge"])
        for ln in client.get(f"/api/v1/claims/{ana.id}", headers=headers).json()["lines"]
    ]

    batch = make_batch(client, demo_org, db)
    text = client.get(f"/api/v1/claim-batches/{batch.id}/file", headers=headers).text
    assert_valid_837(text)
    segs = segments(text)
    clm = {s[1]: s for s in segs if s[0] == "CLM"}
    assert clm[body["patient_control_number"]][5] == "11:B:7"
    assert clm[voided["patient_control_number"]][5] == "11:B:8"
    assert ["REF", "F8", number] in _claim_block(segs, body["patient_control_number"])
    assert ["REF", "F8", voided["payer_claim_number"]] in _claim_block(
        segs, voided["patient_control_number"]
    )

    # Sent: the originals turn replaced and voided.
    assert claim_status(db, mateo.id) == mateo.status
    submitted = client.post(f"/api/v1/claim-batches/{batch.id}/submission", headers=headers)
    assert submitted.status_code == 200, submitted.text
    assert claim_status(db, mateo.id) == "replaced"
    assert claim_status(db, ana.id) == "voided"
    gone = client.post(f"/api/v1/claims/{ana.id}/void", headers=headers)
    assert gone.status_code == 409


def test_a_claim_never_sent_or_without_a_payer_claim_number_is_not_replaced(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    headers = demo_org.headers()
    ready = _claim_of(db, "D-1004")
    never_sent = client.post(f"/api/v1/claims/{ready.id}/void", headers=headers)
    assert never_sent.status_code == 409
    assert never_sent.json()["type"].endswith("claim-not-sent")

    batch = make_batch(client, demo_org, db)
    client.post(f"/api/v1/claim-batches/{batch.id}/submission", headers=headers)
    unknown = client.post(f"/api/v1/claims/{ready.id}/void", headers=headers)
    assert unknown.status_code == 409
    assert unknown.json()["type"].endswith("payer-claim-number-unknown")

    entered = client.patch(
        f"/api/v1/claims/{ready.id}", json={"payer_claim_number": "2026PORTAL77"}, headers=headers
    )
    assert entered.status_code == 200, entered.text
    assert entered.json()["payer_claim_number"] == "2026PORTAL77"
    void = client.post(f"/api/v1/claims/{ready.id}/void", headers=headers)
    assert void.status_code == 201, void.text
    assert void.json()["payer_claim_number"] == "2026PORTAL77"


# --- line and claim detail ---


def _code(client: TestClient, demo_org: Demo, encounter_id: str, body: dict[str, Any]) -> Any:
    return client.put(
        f"/api/v1/encounters/{encounter_id}/coding", json=body, headers=demo_org.headers()
    )


def _medical_encounter(db: Session, mrn: str) -> Encounter:
    return db.exec(
        select(Encounter).where(
            Encounter.patient_id == _patient(db, mrn).id, Encounter.kind == "medical"
        )
    ).one()


def test_bad_line_detail_is_a_422_with_pointers(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    encounter = _medical_encounter(db, "D-1004")
    long_note = "x" * 81
    response = _code(
        client,
        demo_org,
        encounter.id,
        {
            "diagnoses": ["R51.9"],
            "service_lines": [
                {"code_system": "CPT", "code": "99213", "pointers": [1], "ndc": "1234-5678"},
                {"code_system": "CPT", "code": "99213", "pointers": [1], "note": long_note},
            ],
        },
    )
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"/service_lines/0/ndc", "/service_lines/1/note"} <= pointers

    minutes = _code(
        client,
        demo_org,
        encounter.id,
        {
            "diagnoses": ["R51.9"],
            "service_lines": [
                {"code_system": "CPT", "code": "99213", "pointers": [1], "anesthesia_minutes": 30}
            ],
        },
    )
    assert minutes.status_code == 422
    assert [e["pointer"] for e in minutes.json()["errors"]] == [
        "/service_lines/0/anesthesia_minutes"
    ]
    half_drug = _code(
        client,
        demo_org,
        encounter.id,
        {
            "diagnoses": ["R51.9"],
            "service_lines": [
                {
                    "code_system": "HCPCS",
                    "code": "J3301",
                    "charge": "40.00",
                    "pointers": [1],
                    "ndc": "00003-0293-05",
                }
            ],
        },
    )
    assert half_drug.status_code == 422
    assert {e["pointer"] for e in half_drug.json()["errors"]} == {
        "/service_lines/0/ndc_unit",
        "/service_lines/0/ndc_quantity",
    }
    no_drug = _code(
        client,
        demo_org,
        encounter.id,
        {
            "diagnoses": ["R51.9"],
            "service_lines": [
                {"code_system": "CPT", "code": "99213", "pointers": [1], "ndc_link_number": "RX1"}
            ],
        },
    )
    assert no_drug.status_code == 422
    assert [e["pointer"] for e in no_drug.json()["errors"]] == ["/service_lines/0/ndc_link_number"]


def _full_detail_claim(client: TestClient, demo_org: Demo, db: Session) -> dict[str, Any]:
    """Siobhan's encounter re-coded with every new detail, then claimed again."""
    encounter = _medical_encounter(db, "D-1004")
    claim = _claim_of(db, "D-1004")
    okafor = db.exec(select(Provider).where(Provider.family_name == "Okafor")).one()
    lindqvist = db.exec(select(Provider).where(Provider.family_name == "Lindqvist")).one()
    headers = demo_org.headers()
    patched = client.patch(
        f"/api/v1/encounters/{encounter.id}",
        json={
            "claim_note": "Patient seen after a fall: see attached report",
            "onset_date": "2026-10-30",
            "accident_date": "2026-10-30",
            "related_causes": ["AA"],
            "accident_state": "IL",
            "attachments": [
                {"report_type": "OZ", "transmission": "FX", "control_number": "ATT-2026-0001"}
            ],
        },
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    coded = _code(
        client,
        demo_org,
        encounter.id,
        {
            "diagnoses": ["R51.9"],
            "service_lines": [
                {"code_system": "CPT", "code": "99213", "pointers": [1]},
                {
                    "code_system": "HCPCS",
                    "code": "J3301",
                    "charge": "40.00",
                    "pointers": [1],
                    "ndc": "00003-0293-05",
                    "ndc_unit": "ML",
                    "ndc_quantity": "1",
                    "ndc_link_number": "RX778899",
                    "ordering_provider_id": okafor.id,
                },
                {
                    "code_system": "CPT",
                    "code": "17999",
                    "charge": "150.00",
                    "pointers": [1],
                    "note": "Removal of skin tag * with cautery ~ 2 cm",
                    "rendering_provider_id": lindqvist.id,
                },
                {
                    "code_system": "CPT",
                    "code": "00400",
                    "charge": "300.00",
                    "pointers": [1],
                    "anesthesia_minutes": 45,
                },
            ],
        },
    )
    assert coded.status_code == 200, coded.text
    assert coded.json()["service_lines"][2]["note"] == "Removal of skin tag with cautery 2 cm"
    ready = client.post(
        f"/api/v1/encounters/{encounter.id}/status", json={"status": "ready"}, headers=headers
    )
    assert ready.status_code == 200, ready.text
    rebuilt = client.post(f"/api/v1/claims/{claim.id}/rebuild", headers=headers)
    assert rebuilt.status_code == 200, rebuilt.text
    body: dict[str, Any] = rebuilt.json()
    return body


def test_ndc_notes_minutes_line_providers_and_accident_detail_pass_pyx12(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _full_detail_claim(client, demo_org, db)
    assert claim["status"] == "ready", claim["findings"]
    assert claim["lines"][1]["ndc"] == "00003029305"
    text = _batch_text(client, demo_org, db, "professional")
    assert_valid_837(text)
    block = _claim_block(segments(text), claim["patient_control_number"])
    clm = block[next(i for i, s in enumerate(block) if s[0] == "CLM")]
    assert clm[11] == "AA:::IL"
    assert ["DTP", "431", "D8", "20261030"] in block
    assert ["DTP", "439", "D8", "20261030"] in block
    assert ["PWK", "OZ", "FX", "", "", "AC", "ATT-2026-0001"] in block
    # The claim note, its ":" stripped (an X12 delimiter).
    assert ["NTE", "ADD", "PATIENT SEEN AFTER A FALL SEE ATTACHED REPORT"] in block
    assert ["LIN", "", "N4", "00003029305"] in block
    ctp = block.index(["CTP", "", "", "", "1", "ML"])
    assert block[ctp + 1] == ["REF", "VY", "RX778899"]  # 2410 link sequence number
    assert any(s[:4] == ["NM1", "DK", "1", "OKAFOR"] for s in block)  # 2420E
    assert any(s[:4] == ["NM1", "82", "1", "LINDQVIST"] for s in block)  # 2420A
    assert ["NTE", "ADD", "REMOVAL OF SKIN TAG WITH CAUTERY 2 CM"] in block
    assert any(s[0] == "SV1" and s[1] == "HC:00400" and s[3:5] == ["MJ", "45"] for s in block)


def test_the_scrubber_names_missing_clia_ndc_note_and_minutes(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    walter = _claim_of(db, "D-1003")
    encounter = db.get(Encounter, walter.encounter_id)
    assert encounter is not None
    headers = demo_org.headers()
    medicaid = db.exec(select(Payer).where(Payer.claim_filing_indicator == "MC")).one()
    # A lab test billed CLIA-waived (QW), a J-code, an unlisted code and anesthesia, with no
    # facility (no CLIA number), no NDC, no note and no minutes, to Medicaid as primary.
    coverage = db.exec(
        select(Coverage).where(
            Coverage.patient_id == walter.patient_id, Coverage.payer_id == medicaid.id
        )
    ).one()
    coded = _code(
        client,
        demo_org,
        encounter.id,
        {
            "diagnoses": ["E11.621"],
            "service_lines": [
                {"code_system": "CPT", "code": "87880", "modifiers": ["QW"], "charge": "20.00",
                 "pointers": [1]},
                {"code_system": "HCPCS", "code": "J3301", "charge": "40.00", "pointers": [1]},
                {"code_system": "CPT", "code": "17999", "charge": "150.00", "pointers": [1]},
                {"code_system": "CPT", "code": "00400", "charge": "300.00", "pointers": [1]},
            ],
        },
    )  # fmt: skip
    assert coded.status_code == 200, coded.text
    client.post(
        f"/api/v1/encounters/{encounter.id}/status", json={"status": "ready"}, headers=headers
    )
    built = client.post(
        "/api/v1/claims",
        json={"encounter_id": encounter.id, "coverage_id": coverage.id},
        headers=headers,
    )
    assert built.status_code == 201, built.text
    body = built.json()
    findings = {f["code"]: f for f in body["findings"] if f["severity"] == "error"}
    assert "REF*X4" in findings["clia-missing"]["message"]
    assert findings["clia-missing"]["field"] == "/lines/0/code"
    assert findings["ndc-missing"]["field"] == "/lines/1/ndc"
    assert findings["note-missing"]["field"] == "/lines/2/note"
    assert findings["anesthesia-minutes-missing"]["field"] == "/lines/3/anesthesia_minutes"
    assert body["status"] == "draft"


def test_medicaid_ahead_of_medicare_and_an_ended_primary_are_cob_errors(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    walter = _claim_of(db, "D-1003")
    headers = demo_org.headers()
    coverages = {
        c.priority: c
        for c in db.exec(select(Coverage).where(Coverage.patient_id == walter.patient_id))
    }
    # Medicaid made primary, Medicare secondary: Medicaid pays last.
    for coverage, priority in (
        (coverages["primary"], "secondary"),
        (coverages["secondary"], "primary"),
    ):
        r = client.patch(
            f"/api/v1/coverages/{coverage.id}", json={"priority": priority}, headers=headers
        )
        assert r.status_code == 200, r.text
    scrubbed = client.post(f"/api/v1/claims/{walter.id}/scrub", headers=headers).json()
    assert "cob-order" in _errors(scrubbed)
    assert any("Medicaid" in f["message"] for f in scrubbed["findings"])


def test_an_ended_primary_coverage_is_not_billed_when_another_primary_is_in_force(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    siobhan = _patient(db, "D-1004")
    headers = demo_org.headers()
    payer = db.exec(select(Payer).where(Payer.edi_payer_id == "MCRIL")).one()
    old = client.post(
        "/api/v1/coverages",
        json={
            "patient_id": siobhan.id,
            "payer_id": payer.id,
            "member_id": "OLD123",
            "priority": "primary",
            "start_date": "2025-01-01",
            "end_date": "2025-12-31",
        },
        headers=headers,
    ).json()
    current = db.exec(
        select(Coverage).where(
            Coverage.patient_id == siobhan.id, Coverage.member_id == "ACM555000111"
        )
    ).one()
    encounter = client.post(
        "/api/v1/encounters",
        json={
            "patient_id": siobhan.id,
            "date_of_service": "2026-11-04",
            "place_of_service": "11",
            "kind": "medical",
            "billing_provider_id": _medical_encounter(db, "D-1004").billing_provider_id,
            "coverage_ids": [old["id"], current.id],
        },
        headers=headers,
    ).json()
    _code(client, demo_org, encounter["id"], {
        "diagnoses": ["R51.9"],
        "service_lines": [{"code_system": "CPT", "code": "99213", "pointers": [1]}],
    })  # fmt: skip
    client.post(
        f"/api/v1/encounters/{encounter['id']}/status", json={"status": "ready"}, headers=headers
    )
    built = client.post("/api/v1/claims", json={"encounter_id": encounter["id"]}, headers=headers)
    assert built.status_code == 201, built.text
    assert built.json()["coverage_id"] == current.id


# --- other payers, suffixes, dental taxonomy ---


def test_a_primary_claim_lists_the_known_secondary_payer_with_the_suffix(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    walter = _claim_of(db, "D-1003")
    text = _batch_text(client, demo_org, db, "professional")
    assert_valid_837(text)
    block = _claim_block(segments(text), walter.patient_control_number)
    assert ["SBR", "S", "18", "", "", "", "", "", "", "MC"] in block
    assert any(s[:2] == ["NM1", "IL"] and s[3] == "WHITFIELD" and s[7] == "JR" for s in block)
    assert any(s[:2] == ["NM1", "PR"] and s[-1] == "MCDIL" for s in block)
    assert not any(s[:2] == ["AMT", "D"] for s in block)  # no adjudication yet


def test_the_837d_carries_a_dental_taxonomy(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    text = _batch_text(client, demo_org, db, "dental")
    assert_valid_837(text, dental=True)
    taxonomies = [s[3] for s in segments(text) if s[:2] == ["PRV", "BI"]]
    assert taxonomies
    assert all(t.startswith("122") for t in taxonomies)


# --- origins ---


def test_a_lab_facility_without_clia_is_a_finding(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    ana = _claim_of(db, "D-1001")  # 83036 at the lab
    lab = db.exec(select(Facility).where(Facility.name == "Springfield Clinic Lab")).one()
    lab.clia_number = None
    db.add(lab)
    db.commit()
    scrubbed = client.post(f"/api/v1/claims/{ana.id}/scrub", headers=demo_org.headers()).json()
    assert "clia-missing" in _errors(scrubbed)
