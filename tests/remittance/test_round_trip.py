"""Closing the loop on our own batches: 999, 277CA and 835 generated, uploaded, applied."""

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.claims.models import Claim, ClaimBatch, ClaimBatchMember
from service.demo.x12_files import ElementErrorInput, SegmentErrorInput, StatusInput
from service.directory.models import TradingPartner
from service.remittance.models import ClaimPosting, RemittanceFile
from tests.claims.conftest import Demo
from tests.remittance.helpers import (
    X12,
    ack_277ca,
    ack_999,
    claim_status,
    denied,
    load_batch,
    make_batch,
    paid_in_full,
    partially_paid,
    remit_835,
    upload,
)


def test_a_999_277ca_and_835_move_the_batch_and_its_claims_to_their_answers(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    assert len(batch.claims) == 5
    first, second, third, extra, fourth = batch.claims

    result = upload(client, demo_org, ack_999(batch))["result"]

    (answer,) = result["batches"]
    assert (answer["batch_id"], answer["batch_status"], answer["marked_submitted"]) == (
        batch.id,
        "acknowledged",
        True,
    )
    db.commit()
    stored = db.get(ClaimBatch, batch.id)
    assert stored is not None
    assert stored.status == "acknowledged"
    assert {claim_status(db, c.id) for c in batch.claims} == {"submitted"}
    audited = db.exec(select(AuditEvent.detail).where(AuditEvent.resource_id == batch.id)).all()
    assert "submitted" in audited  # a 999 for an unsent batch marks it submitted, audited

    rejected = StatusInput("A7", "562", "85")  # entity's NPI invalid
    result = upload(client, demo_org, ack_277ca(batch, {fourth.pcn: rejected}))["result"]

    assert (result["accepted"], result["rejected"], result["unmatched"]) == (4, 1, [])
    assert claim_status(db, fourth.id) == "rejected"
    acks = client.get(
        f"/api/v1/claims/{fourth.id}/acknowledgements", headers=demo_org.headers()
    ).json()
    (status,) = [a for a in acks if a["kind"] == "277CA"]
    assert status["outcome"] == "rejected"
    assert status["details"][0]["category"] == "A7"
    assert "Billing provider" in status["details"][0]["entity_words"]
    member = db.exec(select(ClaimBatchMember).where(ClaimBatchMember.claim_id == fourth.id)).one()
    assert member.pending is False  # free to go into a new batch once corrected

    remittance = remit_835(
        [paid_in_full(first), partially_paid(second), denied(third), paid_in_full(extra)]
    )
    result = upload(client, demo_org, remittance)["result"]

    assert (result["claims_matched"], result["claims_unmatched"], result["lines_unmatched"]) == (
        4,
        0,
        0,
    )
    assert claim_status(db, first.id) == "paid"
    assert claim_status(db, second.id) == "partially_paid"
    assert claim_status(db, third.id) == "denied"
    adjudication = client.get(
        f"/api/v1/claims/{second.id}/adjudication", headers=demo_org.headers()
    ).json()
    contractual = sum(
        (Decimal(line.charge) * Decimal("0.20")).quantize(Decimal("0.01")) for line in second.lines
    )
    deductible = Decimal("10.00") * len(second.lines)
    assert Decimal(adjudication["paid"]) == second.charge - contractual - deductible
    assert Decimal(adjudication["patient_responsibility"]) == deductible
    assert adjudication["payer_claim_number"] == f"PCC{second.pcn}"
    assert {line["match_method"] for line in adjudication["lines"]} == {"line_control_number"}
    assert [a["reason"] for a in adjudication["lines"][0]["adjustments"]] == ["45", "1"]

    balances = client.get("/api/v1/remittance-reports/balances", headers=demo_org.headers()).json()
    totals = balances["totals"]
    paid = first.charge + second.charge + extra.charge - contractual - deductible
    assert Decimal(totals["paid"]) == paid
    assert Decimal(totals["patient_responsibility"]) == deductible
    # What payers still owe: the rejected claim (never adjudicated) and the denied one (its
    # denial stays in A/R until the claim is worked).
    assert Decimal(totals["insurance_balance"]) == fourth.charge + third.charge


def test_a_rejected_claim_is_corrected_and_goes_out_again_in_a_new_batch(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, ack_999(batch))
    target = batch.claims[0]
    upload(client, demo_org, ack_277ca(batch, {target.pcn: StatusInput("A3", "21")}))
    assert claim_status(db, target.id) == "rejected"

    corrected = client.post(f"/api/v1/claims/{target.id}/correction", headers=demo_org.headers())

    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "ready"
    assert corrected.json()["frequency"] == "1"
    again = make_batch(client, demo_org, db)
    assert [c.id for c in again.claims] == [target.id]
    memberships = db.exec(
        select(ClaimBatchMember).where(ClaimBatchMember.claim_id == target.id)
    ).all()
    assert sorted(m.pending for m in memberships) == [False, True]  # history is kept


def test_a_999_that_rejects_the_group_rejects_every_claim_with_its_errors_in_words(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    errors = (
        SegmentErrorInput(
            "NM1", 12, "2010AA", "8", (ElementErrorInput(9, "7", "67", "1234567890"),)
        ),
    )
    text = ack_999(batch, refused=frozenset(c.st for c in batch.claims), segment_errors=errors)

    result = upload(client, demo_org, text)["result"]

    (answer,) = result["batches"]
    assert answer["batch_status"] == "rejected"
    assert answer["claims_rejected"] == 5
    (st,) = answer["transaction_sets"]
    assert st["errors"][0] == (
        "NM1 at segment 12 of the ST (loop 2010AA): Segment has data element errors; "
        "element 9: Invalid code value (value '1234567890')"
    )
    assert {claim_status(db, c.id) for c in batch.claims} == {"rejected"}
    pending = db.exec(
        select(ClaimBatchMember).where(
            ClaimBatchMember.batch_id == batch.id, col(ClaimBatchMember.pending)
        )
    ).all()
    assert pending == []


def test_a_partial_999_rejects_only_the_claims_of_the_refused_transaction_set(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    # The receiver takes two CLMs per ST: the demo's five claims go out in three.
    partner = db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == demo_org.organization_id)
    ).one()
    patched = client.patch(
        f"/api/v1/trading-partners/{partner}",
        json={"max_claims_per_transaction_set": 2},
        headers=demo_org.headers(),
    )
    assert patched.status_code == 200, patched.text
    batch = make_batch(client, demo_org, db)
    sts = sorted({c.st for c in batch.claims})
    assert len(sts) == 3

    result = upload(client, demo_org, ack_999(batch, refused=frozenset({sts[1]})))["result"]

    assert result["batches"][0]["batch_status"] == "partially_accepted"
    for claim in batch.claims:
        expected = "rejected" if claim.st == sts[1] else "submitted"
        assert claim_status(db, claim.id) == expected


def test_the_same_file_twice_is_recognised_and_not_posted_twice(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    text = remit_835([paid_in_full(c) for c in batch.claims])
    first = upload(client, demo_org, text)

    second = upload(client, demo_org, text, status=200)

    assert second["duplicate"] is True
    assert second["id"] == first["id"]
    assert second["result"] == first["result"]
    db.commit()
    assert len(db.exec(select(ClaimPosting)).all()) == 5
    assert len(db.exec(select(RemittanceFile)).all()) == 1


def test_the_same_payment_in_another_envelope_is_refused(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    claims = [paid_in_full(c) for c in batch.claims]
    upload(client, demo_org, remit_835(claims, control=7201))

    response = client.post(
        "/api/v1/remittance-files",
        content=remit_835(claims, control=7202).encode(),
        headers={**demo_org.headers(), **X12},
    )

    assert response.status_code == 409
    assert "EFT1001" in response.json()["detail"]


def test_a_reversal_undoes_a_posting_and_a_corrected_payment_posts_again(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, ack_999(batch))
    target, *_, largest = sorted(batch.claims, key=lambda c: c.charge)
    upload(client, demo_org, remit_835([paid_in_full(target)], trace="EFT1"))
    assert claim_status(db, target.id) == "paid"

    reversal = paid_in_full(target, status="22")
    # A payment may not be negative: the reversal rides along with another claim's payment.
    other = paid_in_full(largest)
    result = upload(client, demo_org, remit_835([reversal, other], trace="EFT2", control=7202))[
        "result"
    ]

    assert result["reversals"] == 1
    assert claim_status(db, target.id) == "submitted"  # the status before the payment
    missing = client.get(f"/api/v1/claims/{target.id}/adjudication", headers=demo_org.headers())
    assert missing.status_code == 404
    postings = db.exec(select(ClaimPosting).where(ClaimPosting.claim_id == target.id)).all()
    original = next(p for p in postings if p.status_code == "1")
    assert original.reversed_by == next(p.id for p in postings if p.status_code == "22")

    upload(
        client,
        demo_org,
        remit_835([partially_paid(target)], trace="EFT3", control=7203),
    )
    assert claim_status(db, target.id) == "partially_paid"
    balances = client.get(
        "/api/v1/remittance-reports/balances?by=patient", headers=demo_org.headers()
    ).json()
    row = next(r for r in balances["rows"] if r["patient_id"] == target.patient_id)
    deductible = Decimal("10.00") * len(target.lines)
    assert Decimal(row["patient_responsibility"]) == deductible  # the reversed one nets out


def test_an_unbalanced_835_is_refused_whole_and_nothing_is_posted(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    text = remit_835([paid_in_full(c) for c in batch.claims])
    first = batch.claims[0]
    clp = next(s for s in text.split("~") if s.startswith(f"CLP*{first.pcn}*"))
    parts = clp.split("*")
    parts[4] = f"{Decimal(parts[4]) - 1:.2f}"  # CLP04 one dollar short
    tampered = text.replace(clp, "*".join(parts))

    response = client.post(
        "/api/v1/remittance-files",
        content=tampered.encode(),
        headers={**demo_org.headers(), **X12},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/x12-835-unbalanced")
    assert any(first.pcn in e["detail"] for e in body["errors"])
    assert any("transaction" in e["detail"] for e in body["errors"])
    db.commit()
    assert db.exec(select(RemittanceFile)).all() == []
    assert db.exec(select(ClaimPosting)).all() == []
    assert {claim_status(db, c.id) for c in batch.claims} == {"batched"}


def test_a_malformed_file_is_refused_with_its_segment_and_position(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    text = remit_835([paid_in_full(c) for c in batch.claims])
    broken = text.replace("CLP*", "CLP*", 1).replace("*1*", "*X1*", 1)

    response = client.post(
        "/api/v1/remittance-files", content=broken.encode(), headers={**demo_org.headers(), **X12}
    )

    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/x12-malformed")
    assert "segment" in body["detail"]
    assert body["errors"][0]["pointer"].startswith("/segment/")
    db.commit()
    assert db.exec(select(RemittanceFile)).all() == []


def test_unknown_claims_and_lines_go_to_the_unmatched_queue(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    known, *_ = batch.claims
    stranger = paid_in_full(known)
    stranger = type(stranger)(
        **{
            **{f: getattr(stranger, f) for f in stranger.__dataclass_fields__},
            "patient_control_number": "NOTOURS123",
        }
    )
    # A line with neither REF*6R nor a code/date/charge that matches one of ours.
    odd_line = paid_in_full(known).lines[0]
    odd_line = type(odd_line)(
        **{
            **{f: getattr(odd_line, f) for f in odd_line.__dataclass_fields__},
            "line_item_control_number": "",
            "procedure_code": "99499",
        }
    )
    with_odd = paid_in_full(known, with_line_control=False)
    with_odd = type(with_odd)(
        **{
            **{f: getattr(with_odd, f) for f in with_odd.__dataclass_fields__},
            "lines": (*with_odd.lines, odd_line),
        }
    )

    file = upload(client, demo_org, remit_835([with_odd, stranger]))

    assert file["result"]["claims_unmatched"] == 1
    queue = client.get(
        f"/api/v1/remittance-files/{file['id']}/unmatched", headers=demo_org.headers()
    ).json()
    assert [c["patient_control_number"] for c in queue["claims"]] == ["NOTOURS123"]
    assert [line["procedure_code"] for line in queue["lines"]] == ["99499"]
    adjudication = client.get(
        f"/api/v1/claims/{known.id}/adjudication", headers=demo_org.headers()
    ).json()
    methods = [line["match_method"] for line in adjudication["lines"]]
    assert methods == ["code_date_charge"] * len(known.lines) + ["unmatched"]


def test_another_organization_never_sees_the_files(
    client: TestClient, demo_org: Demo, db: Session, other_tenant: object
) -> None:
    batch = make_batch(client, demo_org, db)
    file = upload(client, demo_org, ack_999(batch))
    headers = other_tenant.headers()  # type: ignore[attr-defined]

    assert client.get(f"/api/v1/remittance-files/{file['id']}", headers=headers).status_code == 404
    listed = client.get("/api/v1/remittance-files", headers=headers).json()
    assert listed["items"] == []
    unmatched = client.get(f"/api/v1/remittance-files/{file['id']}/unmatched", headers=headers)
    assert unmatched.status_code == 404
    # Its own 999 for our group control number matches nothing of its own.
    response = client.post(
        "/api/v1/remittance-files",
        content=ack_999(batch, control=7301).encode(),
        headers={**headers, **X12},
    )
    assert response.status_code == 422


def test_files_are_listed_and_read_back_with_their_result(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    text = ack_999(batch)
    file = upload(client, demo_org, text)

    listed = client.get("/api/v1/remittance-files?kind=999", headers=demo_org.headers()).json()
    read = client.get(f"/api/v1/remittance-files/{file['id']}", headers=demo_org.headers())
    raw = client.get(f"/api/v1/remittance-files/{file['id']}/file", headers=demo_org.headers())

    assert [f["id"] for f in listed["items"]] == [file["id"]]
    assert read.json()["result"] == file["result"]
    assert raw.content == text.encode()
    assert load_batch(db, batch.id).icn == batch.icn
    claims = db.exec(select(Claim).where(col(Claim.id).in_([c.id for c in batch.claims]))).all()
    assert len(claims) == 5
