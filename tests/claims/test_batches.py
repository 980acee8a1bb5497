"""Claims to files: build, scrub, batch, download, cancel, submit; checked by pyx12."""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service import blobs
from service.audit.models import AuditEvent
from service.auth.roles import Role
from service.claims import batches
from service.claims.models import Claim, ClaimBatch, ClaimBatchMember
from service.coding.models import Encounter
from service.directory.models import Payer, TradingPartner
from tests.claims.conftest import Demo, held_claim_id
from tests.claims.x12_check import assert_valid_837, segments


def _partner(db: Session, demo_org: Demo) -> str:
    return db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == demo_org.organization_id)
    ).one()


def _batch(client: TestClient, demo_org: Demo, db: Session, claim_type: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/claim-batches",
        json={"trading_partner_id": _partner(db, demo_org), "claim_type": claim_type},
        headers=demo_org.headers(),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _file(client: TestClient, demo_org: Demo, batch_id: str) -> str:
    response = client.get(f"/api/v1/claim-batches/{batch_id}/file", headers=demo_org.headers())
    assert response.status_code == 200
    return response.text


def test_the_demo_claims_make_an_837p_that_pyx12_accepts(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = _batch(client, demo_org, db, "professional")
    assert batch["claim_count"] == 5
    text = _file(client, demo_org, batch["id"])
    assert_valid_837(text)
    segs = segments(text)
    ids = [s[0] for s in segs]
    assert ids.count("CLM") == 5
    assert ids.count("ST") == 1
    # The dependant sharing his mother's id (2000C NM1*QC), the one with her own (NM1*IL), the
    # suffix (NM107), the apostrophe, the lab's CLIA number.
    assert any(s[:3] == ["NM1", "QC", "1"] and s[3] == "RIVERA" and s[4] == "MATEO" for s in segs)
    assert any(s[:3] == ["NM1", "IL", "1"] and s[3] == "RIVERA" and s[4] == "SOFIA" for s in segs)
    assert any(s[:2] == ["NM1", "IL"] and s[3] == "WHITFIELD" and s[7] == "JR" for s in segs)
    assert any(s[:2] == ["NM1", "IL"] and s[3] == "O'CONNOR" and s[4] == "SIOBHAN" for s in segs)
    assert ["REF", "X4", "14D0123456"] in segs
    assert sum(1 for s in segs if s[:2] == ["REF", "6R"]) == 6
    total = sum(float(s[2]) for s in segs if s[0] == "CLM")
    assert f"{total:.2f}" == batch["total_charge"]


def test_the_demo_dental_claims_make_an_837d_that_pyx12_accepts(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = _batch(client, demo_org, db, "dental")
    text = _file(client, demo_org, batch["id"])
    assert "005010X224A2" in text
    assert ["TOO", "JP", "30", "O"] in segments(text)
    assert_valid_837(text, dental=True)


def test_downloads_are_byte_identical_audited_and_named(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = _batch(client, demo_org, db, "professional")
    url = f"/api/v1/claim-batches/{batch['id']}/file"
    first = client.get(url, headers=demo_org.headers())
    second = client.get(url, headers=demo_org.headers())
    assert first.content == second.content
    assert first.headers["etag"] == f'"{batch["sha256"]}"'
    assert first.headers["content-type"].startswith("text/plain")
    assert first.headers["content-disposition"] == f'attachment; filename="{batch["filename"]}"'
    assert re.fullmatch(r"professional-\d{4}-\d{2}-\d{2}-\d{9}\.x12", batch["filename"])
    db.commit()  # a fresh snapshot: see what the requests committed
    exports = db.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(exports) == 2
    read = client.get(f"/api/v1/claim-batches/{batch['id']}", headers=demo_org.headers())
    assert read.json()["status"] == "downloaded"


def test_the_primary_claims_encounters_are_billed_and_claims_batched(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = _batch(client, demo_org, db, "professional")
    db.commit()  # a fresh snapshot: see what the requests committed
    held = db.get(Claim, held_claim_id(db))
    assert held is not None
    assert held.status == "draft"  # the scrubber's hold: no batch takes it
    claims = db.exec(
        select(Claim).where(Claim.claim_type == "professional", Claim.id != held.id)
    ).all()
    assert {c.status for c in claims} == {"batched"}
    encounters = db.exec(
        select(Encounter).where(Encounter.kind == "medical", Encounter.id != held.encounter_id)
    ).all()
    assert {e.status for e in encounters} == {"billed"}
    again = client.post(
        "/api/v1/claim-batches",
        json={"trading_partner_id": batch["trading_partner_id"], "claim_type": "professional"},
        headers=demo_org.headers(),
    )
    assert again.status_code == 409  # nothing left to batch: no claim goes out twice


def test_a_cancelled_batch_frees_its_claims_and_never_reuses_its_numbers(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    first = _batch(client, demo_org, db, "professional")
    cancelled = client.post(
        f"/api/v1/claim-batches/{first['id']}/cancellation", headers=demo_org.headers()
    )
    assert cancelled.status_code == 200
    db.commit()  # a fresh snapshot: see what the requests committed
    professional = select(Claim).where(
        Claim.claim_type == "professional", Claim.id != held_claim_id(db)
    )
    assert {c.status for c in db.exec(professional)} == {"ready"}
    second = _batch(client, demo_org, db, "professional")
    assert second["interchange_control_number"] > first["interchange_control_number"]
    assert second["first_st_control_number"] > first["first_st_control_number"]
    submitted = client.post(
        f"/api/v1/claim-batches/{second['id']}/submission", headers=demo_org.headers()
    )
    assert submitted.json()["status"] == "submitted"
    late = client.post(
        f"/api/v1/claim-batches/{second['id']}/cancellation", headers=demo_org.headers()
    )
    assert late.status_code == 409


def test_a_claim_failing_the_scrubber_never_reaches_a_file(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    medicare = db.exec(select(Payer).where(Payer.edi_payer_id == "MCRIL")).one()
    medicare.timely_filing_days = 1  # the demo visit is weeks old: too late for this payer
    db.add(medicare)
    db.commit()
    batch = _batch(client, demo_org, db, "professional")
    assert batch["claim_count"] == 4
    db.commit()  # a fresh snapshot: see what the requests committed
    late = db.exec(select(Claim).where(Claim.payer_id == medicare.id)).one()
    assert late.status == "draft"
    assert [f["code"] for f in late.findings if f["severity"] == "error"] == ["timely-filing"]
    assert late.patient_control_number not in _file(client, demo_org, batch["id"])


def test_a_batch_that_fails_half_way_leaves_nothing_but_burned_numbers(
    client: TestClient, demo_org: Demo, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.auth.logic import Principal

    partner = _partner(db, demo_org)
    admin = db.exec(select(AuditEvent.user_id).where(AuditEvent.user_id.is_not(None))).first()  # type: ignore[union-attr]
    actor = Principal(str(admin), demo_org.organization_id, frozenset({Role.ADMIN}), "test")
    calls = {"n": 0}
    real_close = blobs.ChunkWriter.close

    def failing_close(self: blobs.ChunkWriter) -> None:
        calls["n"] += 1
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(blobs.ChunkWriter, "close", failing_close)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session, pytest.raises(RuntimeError):
        batches.build_claim_batch(
            session,
            actor,
            batches.BatchRequest(partner, "professional"),
            numbers_factory=factory,
            at=datetime.now(UTC),
            today=date(2026, 11, 28),
        )
    monkeypatch.setattr(blobs.ChunkWriter, "close", real_close)
    db.commit()  # a fresh snapshot: see what the requests committed
    assert db.exec(select(ClaimBatch)).all() == []
    assert db.exec(select(ClaimBatchMember)).all() == []
    held = held_claim_id(db)
    assert {c.status for c in db.exec(select(Claim).where(Claim.id != held))} == {"ready"}
    assert {e.status for e in db.exec(select(Encounter))} == {"ready"}
    assert _batch(client, demo_org, db, "professional")["claim_count"] == 5
    assert calls["n"] == 1


def test_the_database_keeps_the_claim_total_equal_to_its_lines(demo_org: Demo, db: Session) -> None:
    claim = db.exec(select(Claim).where(Claim.claim_type == "dental")).first()
    assert claim is not None
    with pytest.raises(sa.exc.DatabaseError, match="sum of its lines"), db.begin_nested():
        db.execute(sa.update(Claim).where(col(Claim.id) == claim.id).values(total_charge=1))
    db.execute(
        sa.text("UPDATE claim_line SET charge = charge + 10 WHERE claim_id = :c"), {"c": claim.id}
    )
    db.refresh(claim)
    lines = db.execute(
        sa.text("SELECT SUM(charge) FROM claim_line WHERE claim_id = :c"), {"c": claim.id}
    ).scalar_one()
    assert claim.total_charge == lines


def test_claims_list_and_read_with_lines_and_findings(client: TestClient, demo_org: Demo) -> None:
    listed = client.get("/api/v1/claims?claim_type=dental", headers=demo_org.headers())
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 2
    claim = client.get(f"/api/v1/claims/{items[0]['id']}", headers=demo_org.headers()).json()
    assert claim["status"] == "ready"
    assert claim["lines"][0]["line_control_number"].startswith(claim["patient_control_number"])
    assert claim["total_charge"] == f"{sum(float(ln['charge']) for ln in claim['lines']):.2f}"


def test_control_numbers_of_a_failed_batch_are_burned_on_postgresql(
    migrated_database_url: str,
) -> None:
    """Real commits (the suite's shared connection would fold the numbers' transaction into the
    batch's): the numbers are taken in a transaction of their own, so a batch rolled back
    afterwards leaves them used. SQLite takes them inside the batch's transaction instead."""
    from service.auth import logic as auth_logic
    from service.claims import control_numbers
    from service.db import make_engine, session_factory_for

    engine = make_engine(migrated_database_url)
    factory = session_factory_for(engine)
    with factory() as session:
        org, _, _ = auth_logic.create_organization(session, name="Numbers")
        session.commit()
        org_id = org.id
    taken = []
    for _ in range(3):
        with factory() as batch_session:  # a batch that fails after taking its numbers
            taken.append(control_numbers.take(batch_session, factory, org_id, "SENDER", 2))
            batch_session.rollback()
    engine.dispose()
    if engine.dialect.name == "postgresql":
        assert [(n.interchange, n.first_transaction_set) for n in taken] == [(1, 1), (2, 3), (3, 5)]
    else:
        assert [(n.interchange, n.first_transaction_set) for n in taken] == [(1, 1)] * 3
