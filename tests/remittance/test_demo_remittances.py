"""`backoffice demo --remittances`: its files ingest, and Walter's secondary claim goes out."""

from datetime import UTC, date, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.claims.models import Claim
from service.demo.remittances import DENIED_MRN, write_demo_remittances
from service.demo.westside import HELD_MRN
from service.patients.models import Patient
from tests.claims.conftest import Demo
from tests.claims.x12_check import assert_valid_837
from tests.remittance.helpers import claim_status, make_batch, upload


def test_the_demo_remittance_files_close_the_loop_and_the_secondary_claim_passes_pyx12(
    client: TestClient, app: FastAPI, demo_org: Demo, db: Session, tmp_path: Path
) -> None:
    paths, secondary = write_demo_remittances(
        db,
        demo_org.organization_id,
        tmp_path,
        numbers_factory=app.state.session_factory,
        now=datetime.now(UTC),
        local_today=lambda: date(2026, 11, 28),
    )
    db.commit()
    again, _ = write_demo_remittances(
        db,
        demo_org.organization_id,
        tmp_path / "again",
        numbers_factory=app.state.session_factory,
        now=datetime.now(UTC),
        local_today=lambda: date(2026, 11, 28),
    )
    db.commit()
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]  # deterministic
    assert secondary is not None
    # Waiting for Medicare's 835: it cannot go out without the primary adjudication loops.
    assert claim_status(db, secondary) == "draft"
    waiting = db.get(Claim, secondary)
    assert waiting is not None
    assert "primary-adjudication-missing" in {f["code"] for f in waiting.findings}

    for kind in ("999", "277ca", "835"):
        for path in sorted(p for p in paths if p.name.startswith(kind)):
            upload(client, demo_org, path.read_text(encoding="ascii"))

    db.commit()
    primaries = db.exec(
        select(Claim, Patient.mrn)
        .join(Patient, col(Patient.id) == Claim.patient_id)
        .where(Claim.organization_id == demo_org.organization_id, Claim.id != secondary)
    ).all()
    by_mrn = {mrn: c.status for c, mrn in primaries if mrn in (DENIED_MRN, HELD_MRN)}
    assert by_mrn == {DENIED_MRN: "denied", HELD_MRN: "draft"}  # held: in no batch, no files
    paid = {c.status for c, mrn in primaries if mrn not in (DENIED_MRN, HELD_MRN)}
    assert paid <= {"paid", "partially_paid"}
    assert claim_status(db, secondary) == "ready"  # scrubbed again when the 835 posted
    batch = make_batch(client, demo_org, db)
    assert [c.id for c in batch.claims] == [secondary]
    text = client.get(f"/api/v1/claim-batches/{batch.id}/file", headers=demo_org.headers()).text
    assert "SVD*MCRIL*" in text
    assert_valid_837(text)
