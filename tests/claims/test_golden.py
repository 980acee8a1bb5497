"""Golden 837P and 837D files built from the demo data: any change to what the writer emits shows
up here as a diff. Regenerate deliberately with `UPDATE_GOLDEN=1 pytest tests/claims/test_golden.py`
and review the diff before committing it."""

import itertools
import os
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from service import blobs
from service.auth.logic import Principal
from service.auth.models import AppUser
from service.claims import batches
from service.claims import logic as claim_logic
from service.claims.models import ClaimBatchChunk
from service.db import SessionFactory
from service.demo import clinic as demo
from service.directory.models import TradingPartner
from tests.claims.x12_check import assert_valid_837

GOLDEN = Path(__file__).parent / "golden"
AT = datetime(2026, 11, 28, 9, 30)  # noqa: DTZ001 - the file's local creation time
TODAY = datetime(2026, 11, 28).date()  # noqa: DTZ001


@pytest.fixture
def demo_files(
    db: Session, session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    numbers = itertools.count(1)
    monkeypatch.setattr(
        claim_logic, "new_patient_control_number", lambda: f"DEMO{next(numbers):04d}"
    )
    result = demo.seed(db)
    db.commit()
    org = result.organization_id
    admin = db.exec(select(AppUser).where(AppUser.organization_id == org)).first()
    assert admin is not None
    actor = Principal(admin.id, org, frozenset({"admin"}), "golden")
    partner = db.exec(select(TradingPartner.id).where(TradingPartner.organization_id == org)).one()
    files = {}
    for claim_type in ("professional", "dental"):
        batch = batches.build_claim_batch(
            db,
            actor,
            batches.BatchRequest(partner, claim_type),
            numbers_factory=session_factory,
            at=AT,
            today=TODAY,
        )
        files[claim_type] = b"".join(
            blobs.chunks(db, ClaimBatchChunk, "batch_id", batch.id)
        ).decode()
    db.rollback()
    return files


@pytest.mark.parametrize(
    ("claim_type", "name"), [("professional", "demo-837p.x12"), ("dental", "demo-837d.x12")]
)
def test_the_demo_batch_matches_its_golden_file(
    demo_files: dict[str, str], claim_type: str, name: str
) -> None:
    text = demo_files[claim_type]
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        assert_valid_837(text, dental=claim_type == "dental")
        golden.write_text(text.replace("~", "~\n"))
    assert golden.exists(), f"no {golden}: run with UPDATE_GOLDEN=1 once and review it"
    assert text.replace("~", "~\n") == golden.read_text()
