"""Remittances that post right (issue 18): split CLPs, crossovers held and released, PLB
recoupments, $0-paid deductible claims, denied claims in A/R, COB without double counting,
lenient intake of non-financial defects and the dry run."""

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.claims.models import Claim, ClaimLine
from service.demo.x12_835 import (
    AdjustmentInput,
    ClaimPaymentInput,
    LinePaymentInput,
    ProviderAdjustmentInput,
    make_835,
)
from service.patients.models import Coverage, Patient
from service.remittance.models import ClaimPosting, ProviderAdjustment, RemittanceFile
from tests.claims.conftest import Demo
from tests.claims.x12_check import assert_valid_837, segments
from tests.remittance.helpers import (
    PAYEE,
    PAYER,
    X12,
    Batch,
    BatchedClaim,
    ack_999,
    claim_status,
    interchange,
    make_batch,
    paid_in_full,
    partially_paid,
    remit_835,
    upload,
)

CENT = Decimal("0.01")


def _walter(db: Session) -> Patient:
    return db.exec(select(Patient).where(Patient.mrn == "D-1003")).one()


def _walter_primary(db: Session) -> Claim:
    return db.exec(
        select(Claim).where(Claim.patient_id == _walter(db).id, Claim.payer_responsibility == "P")
    ).one()


def _add_a_second_line_to_walter(client: TestClient, demo: Demo, db: Session) -> None:
    """The demo bills Walter one line; a split needs two: an ECG is added (a lab code would
    need the CLIA number the demo clinic lacks) and the primary claim rebuilt from the new
    coding."""
    primary = _walter_primary(db)
    encounter = client.get(
        f"/api/v1/encounters/{primary.encounter_id}", headers=demo.headers()
    ).json()
    keys = ("code_system", "code", "modifiers", "units", "charge", "service_date", "pointers")
    lines = [{k: line[k] for k in keys} for line in encounter["service_lines"]]
    lines.append({**lines[0], "code": "93000", "modifiers": [], "charge": "40.00", "pointers": [1]})
    coded = client.put(
        f"/api/v1/encounters/{primary.encounter_id}/coding",
        json={"diagnoses": encounter["diagnoses"], "service_lines": lines},
        headers=demo.headers(),
    )
    assert coded.status_code == 200, coded.text
    ready = client.post(
        f"/api/v1/encounters/{primary.encounter_id}/status",
        json={"status": "ready"},
        headers=demo.headers(),
    )
    assert ready.status_code == 200, ready.text
    rebuilt = client.post(f"/api/v1/claims/{primary.id}/rebuild", headers=demo.headers())
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json()["status"] == "ready"


def _sent(client: TestClient, demo: Demo, db: Session) -> tuple[Batch, BatchedClaim]:
    """The demo's professional claims batched and accepted; Walter's Medicare claim."""
    batch = make_batch(client, demo, db)
    upload(client, demo, ack_999(batch))
    walter = _walter(db)
    return batch, next(c for c in batch.claims if c.patient_id == walter.id)


def _secondary(client: TestClient, demo: Demo, db: Session) -> dict[str, Any]:
    primary = _walter_primary(db)
    coverage = db.exec(
        select(Coverage).where(
            Coverage.patient_id == primary.patient_id, Coverage.priority == "secondary"
        )
    ).one()
    created = client.post(
        "/api/v1/claims",
        json={"encounter_id": primary.encounter_id, "coverage_id": coverage.id},
        headers=demo.headers(),
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def _clp(
    claim: BatchedClaim,
    lines: list[tuple[ClaimLine, tuple[AdjustmentInput, ...], tuple[str, ...]]],
    *,
    status: str = "1",
    number: str = "",
    remarks: tuple[str, ...] = (),
) -> ClaimPaymentInput:
    return ClaimPaymentInput(
        patient_control_number=claim.pcn,
        payer_claim_control_number=number or f"PCC{claim.pcn}",
        patient_last_name="WHITFIELD",
        patient_first_name="WALTER",
        member_id="M1",
        status=status,
        remark_codes=remarks,
        lines=tuple(
            LinePaymentInput(
                procedure_code=line.code,
                charge=Decimal(line.charge),
                adjustments=adjustments,
                service_date=line.service_date,
                line_item_control_number=line.line_control_number,
                remark_codes=line_remarks,
            )
            for line, adjustments, line_remarks in lines
        ),
    )


def _split(claim: BatchedClaim) -> tuple[ClaimPaymentInput, ClaimPaymentInput]:
    """Medicare pays the visit $80 in one CLP and denies the HbA1c (CO 16, N290) in another."""
    visit, hba1c = claim.lines
    paid = _clp(
        claim,
        [(visit, (AdjustmentInput("CO", "45", Decimal(visit.charge) - 80),), ())],
        number="MCR-A",
    )
    denied = _clp(
        claim,
        [(hba1c, (AdjustmentInput("CO", "16", Decimal(hba1c.charge)),), ("N290",))],
        number="MCR-B",
    )
    return paid, denied


def _adjudication(client: TestClient, demo: Demo, claim_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/claims/{claim_id}/adjudication", headers=demo.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _report(client: TestClient, demo: Demo, path: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/remittance-reports/{path}", headers=demo.headers())
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def _walter_balance(client: TestClient, demo: Demo, db: Session) -> dict[str, Any]:
    rows = _report(client, demo, "balances?by=patient")
    return next(r for r in rows if r["mrn"] == "D-1003")


# --- split CLPs ---


def test_a_split_claim_combines_its_clps_and_the_medicaid_837_carries_both(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _add_a_second_line_to_walter(client, demo_org, db)
    _, primary = _sent(client, demo_org, db)
    assert len(primary.lines) == 2
    first, second = _split(primary)

    upload(client, demo_org, remit_835([first, second], trace="SPLIT1"))

    assert claim_status(db, primary.id) == "partially_paid"
    found = _adjudication(client, demo_org, primary.id)
    assert Decimal(found["paid"]) == 80
    assert Decimal(found["charge"]) == primary.charge
    assert [p["payer_claim_number"] for p in found["postings"]] == ["MCR-A", "MCR-B"]
    assert {ln["claim_line_id"] for ln in found["lines"]} == {ln.id for ln in primary.lines}
    assert {(a["group"], a["reason"]) for ln in found["lines"] for a in ln["adjustments"]} == {
        ("CO", "45"),
        ("CO", "16"),
    }
    secondary = _secondary(client, demo_org, db)
    assert secondary["status"] == "ready"
    medicaid = make_batch(client, demo_org, db)
    text = client.get(f"/api/v1/claim-batches/{medicaid.id}/file", headers=demo_org.headers()).text
    assert_valid_837(text)
    segs = segments(text)
    assert [Decimal(s[2]) for s in segs if s[:2] == ["AMT", "D"]] == [Decimal(80)]
    svd = [s for s in segs if s[0] == "SVD"]
    assert sorted((s[3].split(":")[1], Decimal(s[2])) for s in svd) == [
        ("93000", Decimal(0)),
        ("99214", Decimal(80)),
    ]
    assert ["CAS", "CO", "16", "40"] in segs


def test_reversing_one_clp_of_a_split_claim_undoes_only_that_one(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _add_a_second_line_to_walter(client, demo_org, db)
    _, primary = _sent(client, demo_org, db)
    first, second = _split(primary)
    upload(client, demo_org, remit_835([first, second], trace="SPLIT2"))
    reversal = replace(second, status="22")
    corrected = _clp(primary, [(primary.lines[1], (AdjustmentInput("CO", "45", Decimal(10)),), ())])

    upload(client, demo_org, remit_835([reversal, corrected], trace="SPLIT3", control=7202))

    found = _adjudication(client, demo_org, primary.id)
    assert [p["payer_claim_number"] for p in found["postings"]] == [
        "MCR-A",
        corrected.payer_claim_control_number,
    ]
    assert Decimal(found["paid"]) == 80 + 30
    assert claim_status(db, primary.id) == "partially_paid"


# --- $0 paid, all patient responsibility ---


def test_a_claim_paid_nothing_because_of_the_deductible_is_paid_with_its_patient_share(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    line = primary.lines[0]
    contractual = (Decimal(line.charge) * Decimal("0.40")).quantize(CENT)
    deductible = Decimal(line.charge) - contractual
    clp = _clp(
        primary,
        [
            (
                line,
                (AdjustmentInput("CO", "45", contractual), AdjustmentInput("PR", "1", deductible)),
                (),
            )
        ],
    )
    assert clp.paid == 0

    upload(client, demo_org, remit_835([clp], trace="DED1"))

    assert claim_status(db, primary.id) == "paid"
    found = _adjudication(client, demo_org, primary.id)
    assert Decimal(found["patient_responsibility"]) == deductible
    assert found["claim_status"] == "paid"
    assert Decimal(_walter_balance(client, demo_org, db)["patient_responsibility"]) == deductible


# --- denied claims stay in A/R ---


def test_a_fully_denied_claim_stays_in_the_payer_ar_and_in_the_denials_queue(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    line = primary.lines[0]
    clp = _clp(primary, [(line, (AdjustmentInput("CO", "16", Decimal(line.charge)),), ("N290",))])

    upload(client, demo_org, remit_835([clp], trace="DEN1"))

    assert claim_status(db, primary.id) == "denied"
    queue = client.get("/api/v1/denials", headers=demo_org.headers()).json()
    assert any(g["reason"] == "16" and g["remark_codes"] == ["N290"] for g in queue["items"])
    aging = _report(client, demo_org, "aging?by=payer&as_of=2027-01-15")
    medicare = next(r for r in aging if r["payer_id"] == primary.payer_id)
    assert Decimal(medicare["total"]) == primary.charge
    assert Decimal(_walter_balance(client, demo_org, db)["insurance_balance"]) == primary.charge


# --- COB: no double counting ---


def test_the_secondary_claim_is_owed_only_what_medicare_left(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    upload(client, demo_org, remit_835([paid_in_full(primary)], trace="COB1"))
    assert claim_status(db, primary.id) == "paid"
    secondary = _secondary(client, demo_org, db)
    medicaid = make_batch(client, demo_org, db)
    assert [c.id for c in medicaid.claims] == [secondary["id"]]

    balance = _walter_balance(client, demo_org, db)

    assert balance["claims"] == 2
    assert Decimal(balance["insurance_balance"]) == 0
    assert Decimal(balance["patient_responsibility"]) == 0


def test_the_primary_patient_share_is_the_secondary_payers_once_it_is_billed(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    upload(client, demo_org, remit_835([partially_paid(primary)], trace="COB2"))
    share = Decimal(_walter_balance(client, demo_org, db)["patient_responsibility"])
    assert share > 0
    _secondary(client, demo_org, db)
    make_batch(client, demo_org, db)

    balance = _walter_balance(client, demo_org, db)

    assert Decimal(balance["insurance_balance"]) == share
    assert Decimal(balance["patient_responsibility"]) == 0
    medicaid_payer = db.exec(
        select(Claim.payer_id).where(
            Claim.patient_id == primary.patient_id, Claim.payer_responsibility == "S"
        )
    ).one()
    by_payer = _report(client, demo_org, "balances?by=payer")
    assert (
        Decimal(next(r for r in by_payer if r["payer_id"] == medicaid_payer)["insurance_balance"])
        == share
    )


# --- crossover ---


def test_a_crossover_holds_the_medicaid_claim_in_forwarded_until_released(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    secondary = _secondary(client, demo_org, db)
    assert secondary["status"] == "draft"
    _, primary = _sent(client, demo_org, db)
    crossed = replace(partially_paid(primary), status="19", remark_codes=("MA18",))

    upload(client, demo_org, remit_835([crossed], trace="XOVER1"))

    assert claim_status(db, secondary["id"]) == "forwarded"
    assert _adjudication(client, demo_org, primary.id)["remark_codes"] == ["MA18"]
    later = client.post(
        "/api/v1/claim-batches",
        json={"trading_partner_id": _partner(db), "claim_type": "professional"},
        headers=demo_org.headers(),
    )
    assert later.status_code in (201, 409, 422), later.text
    if later.status_code == 201:
        assert secondary["id"] not in _batch_claims(db, later.json()["id"])

    released = client.post(f"/api/v1/claims/{secondary['id']}/release", headers=demo_org.headers())

    assert released.status_code == 200, released.text
    assert released.json()["status"] == "ready"
    again = client.post(f"/api/v1/claims/{secondary['id']}/release", headers=demo_org.headers())
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_a_remark_ma18_alone_is_a_crossover_too(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    secondary = _secondary(client, demo_org, db)
    _, primary = _sent(client, demo_org, db)
    crossed = replace(paid_in_full(primary), remark_codes=("N89",))

    upload(client, demo_org, remit_835([crossed], trace="XOVER2"))

    assert claim_status(db, secondary["id"]) == "forwarded"


def test_only_a_forwarded_claim_is_released(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _walter_primary(db)

    response = client.post(f"/api/v1/claims/{claim.id}/release", headers=demo_org.headers())

    assert response.status_code == 409
    assert "forwarded" in response.json()["detail"]


def _partner(db: Session) -> str:
    from service.directory.models import TradingPartner

    return db.exec(select(TradingPartner.id)).first() or ""


def _batch_claims(db: Session, batch_id: str) -> set[str]:
    from service.claims.models import ClaimBatchMember

    db.commit()
    return set(
        db.exec(select(ClaimBatchMember.claim_id).where(ClaimBatchMember.batch_id == batch_id))
    )


# --- PLB ---


def test_a_plb_recoupment_moves_the_claim_it_names_and_an_unknown_one_stays_unmatched(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch, primary = _sent(client, demo_org, db)
    other = next(c for c in batch.claims if c.id != primary.id)
    upload(client, demo_org, remit_835([paid_in_full(primary)], trace="PLB1"))
    before = _walter_balance(client, demo_org, db)
    assert Decimal(before["insurance_balance"]) == 0
    text = make_835(
        interchange(7301),
        payer=PAYER,
        payee=PAYEE,
        payment_date=date(2026, 12, 8),
        trace_number="PLB2",
        claims=[paid_in_full(other)],
        provider_adjustments=[
            ProviderAdjustmentInput(
                PAYEE.npi, date(2026, 12, 31), "WO", Decimal("25.00"), primary.pcn
            ),
            ProviderAdjustmentInput(
                PAYEE.npi, date(2026, 12, 31), "WO", Decimal("5.00"), "NOSUCHCLAIM"
            ),
        ],
    )

    file = upload(client, demo_org, text)

    unmatched = file["result"]["provider_adjustments_unmatched"]
    assert [(u["reason"], u["reference"], Decimal(u["amount"])) for u in unmatched] == [
        ("WO", "NOSUCHCLAIM", Decimal(5))
    ]
    queue = client.get(
        f"/api/v1/remittance-files/{file['id']}/unmatched", headers=demo_org.headers()
    ).json()
    assert [(p["reference"], Decimal(p["amount"])) for p in queue["provider_adjustments"]] == [
        ("NOSUCHCLAIM", Decimal(5))
    ]
    db.commit()
    plb = {p.reference: p.claim_id for p in db.exec(select(ProviderAdjustment))}
    assert plb == {primary.pcn: primary.id, "NOSUCHCLAIM": None}
    after = _walter_balance(client, demo_org, db)
    assert Decimal(after["paid"]) == Decimal(before["paid"]) - 25
    assert Decimal(after["insurance_balance"]) == 25  # the recouped money is owed again
    deposits = _report(client, demo_org, "deposits")
    assert (
        Decimal(next(r for r in deposits if r["trace_number"] == "PLB2")["provider_adjustments"])
        == 30
    )


# --- lenient intake and the dry run ---


def _without(text: str, segment: str) -> str:
    """The 835 with one segment left out and SE01 counting one segment less."""
    terminator = "~"
    parts = text.split(terminator)
    kept = [p for p in parts if not p.strip().startswith(segment)]
    assert len(kept) == len(parts) - 1
    out = terminator.join(kept)
    return re.sub(r"(^|\n|~)SE\*(\d+)\*", lambda m: f"{m.group(1)}SE*{int(m.group(2)) - 1}*", out)


def test_an_835_without_per_bl_posts_with_a_warning(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    text = _without(remit_835([paid_in_full(primary)], trace="LEN1"), "PER*BL")

    file = upload(client, demo_org, text)

    assert claim_status(db, primary.id) == "paid"
    assert any("PER*BL" in w for w in file["result"]["warnings"])


def test_a_bad_non_financial_date_and_an_unknown_qualifier_post_with_warnings(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    text = remit_835([paid_in_full(primary)], trace="LEN2")
    nm1 = next(p for p in text.split("~") if p.startswith("NM1*QC"))
    text = text.replace(nm1, f"{nm1}~DTM*232*20261399~DTM*999*20261201")
    text = re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) + 2}*", text)

    file = upload(client, demo_org, text)

    warnings = " ".join(file["result"]["warnings"])
    assert "DTM*232" in warnings
    assert "DTM*999" in warnings
    assert claim_status(db, primary.id) == "paid"


def test_a_financial_defect_still_refuses_the_whole_file(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    text = _without(remit_835([paid_in_full(primary)], trace="LEN3"), "PER*BL")
    clp = next(p for p in text.split("~") if p.startswith("CLP*"))
    fields = clp.split("*")
    fields[4] = str(Decimal(fields[4]) + 1)  # CLP04 no longer what the lines paid
    text = text.replace(clp, "*".join(fields))

    response = client.post(
        "/api/v1/remittance-files", content=text.encode(), headers={**demo_org.headers(), **X12}
    )

    assert response.status_code == 422, response.text
    db.commit()
    assert db.exec(select(RemittanceFile)).all() == [] or all(
        f.kind != "835" for f in db.exec(select(RemittanceFile))
    )
    assert claim_status(db, primary.id) == "submitted"


def test_a_dry_run_shows_what_would_post_and_stores_nothing(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    _, primary = _sent(client, demo_org, db)
    text = remit_835([paid_in_full(primary)], trace="DRY1")
    db.commit()
    files_before = len(db.exec(select(RemittanceFile)).all())

    response = client.post(
        "/api/v1/remittance-files?dry_run=true",
        content=text.encode(),
        headers={**demo_org.headers(), **X12},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True
    assert body["result"]["claims_matched"] == 1
    assert body["result"]["statuses"] == {"paid": 1}
    assert "Location" not in response.headers
    db.commit()
    assert len(db.exec(select(RemittanceFile)).all()) == files_before
    assert db.exec(select(ClaimPosting)).all() == []
    assert claim_status(db, primary.id) == "submitted"
    posted = upload(client, demo_org, text)  # the same bytes are new: nothing was kept
    assert posted["duplicate"] is False
    assert claim_status(db, primary.id) == "paid"
