"""Published 835 samples, secondary claims judged by pyx12, denials, aging and report downloads."""

import io
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlmodel import Session, select

from service.claims.models import Claim
from service.patients.models import Coverage, Patient
from service.remittance import export, reports
from service.remittance.models import ClaimPosting
from tests.claims.conftest import Demo
from tests.claims.x12_check import assert_valid_837, segments
from tests.remittance.helpers import (
    ack_999,
    claim_status,
    denied,
    make_batch,
    paid_in_full,
    partially_paid,
    remit_835,
    upload,
)
from tests.remittance.x12.helpers import NO_SAMPLES, SAMPLES

GOOD = ["835_pyx12_mult_loops.x12", "835_tr3_managed_care_fixed.x12"]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=NO_SAMPLES)
@pytest.mark.parametrize("name", GOOD)
def test_a_published_835_for_claims_we_never_sent_goes_wholly_to_the_unmatched_queue(
    client: TestClient, demo_org: Demo, db: Session, name: str
) -> None:
    file = upload(client, demo_org, (SAMPLES / name).read_text(encoding="ascii"))

    queue = client.get(
        f"/api/v1/remittance-files/{file['id']}/unmatched", headers=demo_org.headers()
    ).json()
    result = file["result"]
    assert result["claims_matched"] == 0
    assert result["claims_unmatched"] == result["claims"] == len(queue["claims"]) > 0
    db.commit()
    assert all(p.claim_id is None for p in db.exec(select(ClaimPosting)))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=NO_SAMPLES)
def test_the_published_835_missing_only_non_financial_segments_posts_with_warnings(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    """Its BPR16 is not a date and its payer has no PER*BL: neither touches the money, so the
    payment posts (its claims are not ours: unmatched) and the result lists both."""
    text = (SAMPLES / "835_published_managed_care.x12").read_text(encoding="ascii")

    file = upload(client, demo_org, text)

    warnings = " ".join(file["result"]["warnings"])
    assert "BPR16" in warnings
    assert "PER*BL" in warnings
    assert file["result"]["claims"] == file["result"]["claims_unmatched"] > 0
    db.commit()
    assert len(db.exec(select(ClaimPosting)).all()) == file["result"]["claims"]


def test_a_secondary_claim_carries_the_primary_adjudication_and_passes_pyx12(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, ack_999(batch))
    walter = db.exec(select(Patient).where(Patient.mrn == "D-1003")).one()
    primary = next(c for c in batch.claims if c.patient_id == walter.id)
    upload(client, demo_org, remit_835([partially_paid(primary)]))
    assert claim_status(db, primary.id) == "partially_paid"
    claim = db.get(Claim, primary.id)
    assert claim is not None
    secondary = db.exec(
        select(Coverage).where(Coverage.patient_id == walter.id, Coverage.priority == "secondary")
    ).one()

    created = client.post(
        "/api/v1/claims",
        json={"encounter_id": claim.encounter_id, "coverage_id": secondary.id},
        headers=demo_org.headers(),
    )

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "ready"
    assert created.json()["payer_responsibility"] == "S"
    second = make_batch(client, demo_org, db)
    text = client.get(f"/api/v1/claim-batches/{second.id}/file", headers=demo_org.headers()).text
    assert_valid_837(text)
    segs = segments(text)
    paid = Decimal(
        client.get(f"/api/v1/claims/{primary.id}/adjudication", headers=demo_org.headers()).json()[
            "paid"
        ]
    )
    assert ["AMT", "D", f"{paid:.2f}".rstrip("0").rstrip(".")] in segs or any(
        s[:2] == ["AMT", "D"] and Decimal(s[2]) == paid for s in segs
    )
    assert any(s[0] == "SBR" and s[1] == "P" for s in segs)  # 2320: the primary payer
    assert any(s[0] == "SBR" and s[1] == "S" for s in segs)  # 2000B: we bill the secondary
    svd = [s for s in segs if s[0] == "SVD"]
    assert len(svd) == len(primary.lines)
    assert svd[0][1] == "MCRIL"
    assert any(s[:3] == ["CAS", "CO", "45"] for s in segs)
    assert any(s[:2] == ["DTP", "573"] for s in segs)


def test_denials_are_grouped_by_carc_with_a_suggested_action(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    first, second, third, *_ = batch.claims
    upload(
        client,
        demo_org,
        remit_835([denied(first, "50"), denied(second, "50"), denied(third, "18")]),
    )

    queue = client.get("/api/v1/denials", headers=demo_org.headers()).json()["items"]

    by_reason = {g["reason"]: g for g in queue}
    assert set(by_reason) == {"50", "18"}
    assert by_reason["50"]["claim_count"] == 2
    assert Decimal(by_reason["50"]["amount"]) == first.charge + second.charge
    assert by_reason["50"]["remark_codes"] == ["N115"]
    assert by_reason["50"]["suggested_action"]["action"] == "appeal"
    assert by_reason["18"]["suggested_action"]["action"] == "void"
    assert by_reason["18"]["items"][0]["payer_claim_number"] == f"PCC{third.pcn}"
    other_payer = client.get("/api/v1/denials?payer_id=nobody", headers=demo_org.headers()).json()
    assert other_payer["items"] == []
    later = client.get("/api/v1/denials?date_from=2027-01-01", headers=demo_org.headers())
    assert later.json()["items"] == []


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-120"),
        (120, "91-120"),
        (121, "120+"),
        (400, "120+"),
    ],
)
def test_aging_buckets_have_fixed_edges(days: int, bucket: str) -> None:
    assert reports.bucket(days) == bucket


def test_aging_puts_each_claim_in_its_bucket_as_of_a_date(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    paid, *open_claims = batch.claims
    upload(client, demo_org, remit_835([paid_in_full(paid)]))
    service_date = db.get(Claim, paid.id).date_of_service  # type: ignore[union-attr]
    assert service_date == date(2026, 11, 2)

    def aging(as_of: str) -> dict[str, str]:
        body = client.get(
            f"/api/v1/remittance-reports/aging?as_of={as_of}", headers=demo_org.headers()
        ).json()
        return body["totals"]  # type: ignore[no-any-return]

    owed = sum((c.charge for c in open_claims), Decimal(0))
    assert Decimal(aging("2026-12-02")["0-30"]) == owed  # 30 days
    assert Decimal(aging("2026-12-03")["31-60"]) == owed  # 31 days
    assert Decimal(aging("2027-01-31")["61-90"]) == owed  # 90 days
    assert Decimal(aging("2027-02-01")["91-120"]) == owed  # 91 days
    assert Decimal(aging("2027-03-02")["91-120"]) == owed  # 120 days
    assert Decimal(aging("2027-03-03")["120+"]) == owed  # 121 days
    assert Decimal(aging("2027-03-03")["total"]) == owed
    assert aging("2026-11-01")["total"] == "0.00"  # before the date of service


def test_the_xlsx_and_csv_downloads_hold_the_json_totals(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    first, second, third, *_ = batch.claims
    upload(
        client, demo_org, remit_835([paid_in_full(first), partially_paid(second), denied(third)])
    )
    url = "/api/v1/remittance-reports/balances"
    body = client.get(url, headers=demo_org.headers()).json()

    xlsx = client.get(f"{url}?format=xlsx", headers=demo_org.headers())
    csv = client.get(f"{url}?format=csv", headers=demo_org.headers())

    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=export.HEADER_ROW, values_only=True))
    assert list(rows[0]) == body["columns"]
    total = dict(zip(body["columns"], rows[-1], strict=True))
    assert total[body["columns"][0]] == "TOTAL"
    for column, value in body["totals"].items():
        assert Decimal(str(total[column])).quantize(Decimal("0.01")) == Decimal(value)
        data_sum = sum(
            (Decimal(str(r[body["columns"].index(column)])) for r in rows[1:-1]), Decimal(0)
        )
        assert data_sum.quantize(Decimal("0.01")) == Decimal(value)
    lines = csv.text.strip().split("\r\n")
    assert lines[-1].split(",")[0] == "TOTAL"
    assert len(lines) == len(body["rows"]) + 2
    for name in ("deposits", "batches", "aging"):
        response = client.get(
            f"/api/v1/remittance-reports/{name}?format=xlsx", headers=demo_org.headers()
        )
        assert response.status_code == 200


def test_deposits_list_each_payment_for_bank_reconciliation(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    first, second, *_ = batch.claims
    upload(client, demo_org, remit_835([paid_in_full(first)], trace="EFT-A"))
    upload(client, demo_org, remit_835([partially_paid(second)], trace="EFT-B", control=7202))

    body = client.get("/api/v1/remittance-reports/deposits", headers=demo_org.headers()).json()

    db.commit()  # a fresh snapshot
    assert [r["trace_number"] for r in body["rows"]] == ["EFT-A", "EFT-B"]
    assert body["rows"][0]["deposit_amount"] == f"{first.charge:.2f}"
    postings = sum((Decimal(p.paid) for p in db.exec(select(ClaimPosting))), Decimal(0))
    assert Decimal(body["totals"]["deposit_amount"]) == postings
    batches = client.get("/api/v1/remittance-reports/batches", headers=demo_org.headers()).json()
    (row,) = batches["rows"]
    assert Decimal(row["paid"]) == postings
