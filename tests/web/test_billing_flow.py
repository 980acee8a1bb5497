"""The billing desk from a finding to money, with a TestClient on the demo organization: fix a
claim and scrub it again, batch the ready claims and download the 837, upload a remittance
(dry run, then post), the batches with their acknowledgements, the unmatched lines."""

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from service import org_clock
from service.claims.models import Claim, ClaimBatch
from service.demo import remittances as remittance_demo
from service.demo.clinic import DemoResult
from service.demo.westside import WESTSIDE_NAME
from service.directory.models import Payer, Provider
from service.remittance.models import RemittanceFile
from tests.claims.x12_check import assert_valid_837
from tests.factories import Tenant
from tests.web import test_billing
from tests.web.signin import csrf_of, signed_in
from tests.web.test_billing import _held_claim, _sign_in

# The demo organization on the code sets' database, as the claims page's tests have it.
engine = test_billing.engine
demo_org = test_billing.demo_org

_DIGEST = re.compile(r'name="digest" value="([0-9a-f]{64})"')


def _fresh(db: Session) -> None:
    """Ends the test session's transaction (on SQLite an open read would keep the pages'
    writer waiting, and hold an old snapshot) and forgets what it read."""
    db.commit()
    db.expire_all()


def _token(client: TestClient) -> str:
    return csrf_of(client.get("/app/").text)


def _acme(db: Session, result: DemoResult) -> str:
    """Acme's payer id, by its EDI id: the first ready claim of an unordered SELECT may be
    Medicare's (PostgreSQL returns rows in no promised order)."""
    payer = db.exec(
        select(Payer).where(
            Payer.organization_id == result.organization_id, Payer.edi_payer_id == "ACME01"
        )
    ).one()
    _fresh(db)
    return payer.id


def _fix_form(zip_code: str, token: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "fix": "billing_provider/address",
        "line1": "100 Clinic Rd",
        "line2": "",
        "city": "Springfield",
        "state": "IL",
        "postal_code": zip_code,
    }


def test_a_clerk_fixes_the_field_a_finding_names_and_the_claim_turns_ready(
    client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    claim = _held_claim(db, demo_org)
    _sign_in(client, demo_org, "billing clerk")
    token = _token(client)
    assert f'href="/app/billing/claims/{claim.id}"' in client.get("/app/billing/claims").text
    page = client.get(f"/app/billing/claims/{claim.id}")
    assert page.status_code == 200
    assert f"Fix: Billing provider: {WESTSIDE_NAME}" in page.text
    assert 'for="fix-4-postal_code">ZIP code (9 digits)</label>' in page.text
    assert 'value="62704"' in page.text  # the field as it is now

    refused = client.post(f"/app/billing/claims/{claim.id}/fix", data=_fix_form("6270", token))
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    _fresh(db)
    assert db.get(Claim, claim.id).status == "draft"  # type: ignore[union-attr]

    fixed = client.post(
        f"/app/billing/claims/{claim.id}/fix",
        data=_fix_form("627011111", token),
        follow_redirects=False,
    )
    assert fixed.status_code == 303, fixed.text
    _fresh(db)
    assert db.get(Claim, claim.id).status == "ready"  # type: ignore[union-attr]
    billing = db.exec(
        select(Provider).where(
            Provider.organization_id == demo_org.organization_id,
            Provider.organization_name == WESTSIDE_NAME,
        )
    ).one()
    assert billing.address is not None
    assert billing.address["postal_code"] == "627011111"
    shown = client.get(f"/app/billing/claims/{claim.id}").text
    assert "it has left the queue" in shown
    assert "Held by the scrubber (0)" in client.get("/app/billing/claims").text


def test_fixing_needs_the_csrf_token_and_a_role_that_may_write(
    app: FastAPI, client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    claim = _held_claim(db, demo_org)
    _sign_in(client, demo_org, "billing clerk")
    no_token = client.post(
        f"/app/billing/claims/{claim.id}/fix", data=_fix_form("627011111", "forged")
    )
    assert no_token.status_code == 403
    scrub = client.post(f"/app/billing/claims/{claim.id}/scrub", data={"csrf_token": "x"})
    assert scrub.status_code == 403
    _fresh(db)
    assert db.get(Claim, claim.id).status == "draft"  # type: ignore[union-attr]

    with TestClient(app, raise_server_exceptions=False) as other:
        _sign_in(other, demo_org, "lab technologist")
        assert other.get(f"/app/billing/claims/{claim.id}").status_code == 403
        assert other.get("/app/billing/ready").status_code == 403
        assert other.get("/app/billing/batches").status_code == 403
        assert other.get("/app/billing/unmatched").status_code == 403
        assert other.get("/app/billing/remittances").status_code == 403


def test_scrub_again_keeps_a_claim_whose_finding_stands_in_the_queue(
    client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    claim = _held_claim(db, demo_org)
    _sign_in(client, demo_org, "billing clerk")
    scrubbed = client.post(
        f"/app/billing/claims/{claim.id}/scrub",
        data={"csrf_token": _token(client)},
        follow_redirects=False,
    )
    assert scrubbed.status_code == 303
    _fresh(db)
    assert db.get(Claim, claim.id).status == "draft"  # type: ignore[union-attr]


def _build_acme_batch(client: TestClient, db: Session, demo_org: DemoResult) -> str:
    token = _token(client)
    ready = client.get("/app/billing/ready")
    assert ready.status_code == 200
    assert "Acme Health Plan: " in ready.text
    partner = re.search(r'<option value="([0-9a-f]+)">demo', ready.text)
    assert partner is not None
    built = client.post(
        "/app/billing/batches",
        data={
            "csrf_token": token,
            "trading_partner_id": partner.group(1),
            "all_of_payer": _acme(db, demo_org),
        },
        follow_redirects=False,
    )
    assert built.status_code == 303, built.text
    return built.headers["location"]


def test_ready_claims_by_payer_make_a_batch_whose_837_downloads_and_passes_pyx12(
    client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    _sign_in(client, demo_org, "billing clerk")
    batch_page = _build_acme_batch(client, db, demo_org)
    page = client.get(batch_page)
    assert page.status_code == 200
    assert "Acme Health Plan" in page.text
    assert "no acknowledgement yet" in page.text
    _fresh(db)
    batch = db.exec(
        select(ClaimBatch).where(ClaimBatch.organization_id == demo_org.organization_id)
    ).all()
    # Acme has professional and dental claims: an 837P and an 837D.
    assert sorted(b.claim_type for b in batch) == ["dental", "professional"]
    professional = next(b for b in batch if b.claim_type == "professional")
    _fresh(db)
    download = client.get(f"/app/billing/batches/{professional.id}/file")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        f'attachment; filename="{professional.filename}"'
    )
    assert_valid_837(download.text)
    listed = client.get("/app/billing/batches").text
    assert "837P" in listed
    assert "837D" in listed
    zone = org_clock.zone(db, demo_org.organization_id)
    created = professional.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    assert created in listed  # the organization's wall clock
    _fresh(db)
    assert db.get(ClaimBatch, professional.id).status == "downloaded"  # type: ignore[union-attr]


def test_building_a_batch_is_refused_to_an_auditor_and_without_claims(
    app: FastAPI, client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    _sign_in(client, demo_org, "billing clerk")
    empty = client.post(
        "/app/billing/batches", data={"csrf_token": _token(client), "trading_partner_id": "x"}
    )
    assert empty.status_code == 422
    assert "Choose at least one claim" in empty.text
    forged = client.post(
        "/app/billing/batches", data={"csrf_token": "forged", "all_of_payer": _acme(db, demo_org)}
    )
    assert forged.status_code == 403
    assert db.exec(select(func.count()).select_from(ClaimBatch)).one() == 0


def _demo_files(db: Session, result: DemoResult, folder: Path, app: FastAPI) -> list[Path]:
    _fresh(db)
    paths, _ = remittance_demo.write_demo_remittances(
        db,
        result.organization_id,
        folder,
        numbers_factory=app.state.session_factory,
        now=datetime.now(UTC),
        local_today=lambda: org_clock.local_date(db, result.organization_id, datetime.now(UTC)),
    )
    db.commit()
    return paths


def _dry_run(client: TestClient, path: Path, token: str) -> object:
    return client.post(
        "/app/billing/remittances",
        data={"csrf_token": token},
        files={"file": (path.name, path.read_bytes(), "text/plain")},
    )


def test_an_835_is_dry_run_then_posted_from_the_kept_file_and_never_twice(
    app: FastAPI, client: TestClient, db: Session, demo_org: DemoResult, tmp_path: Path
) -> None:
    _sign_in(client, demo_org, "billing clerk")
    _build_acme_batch(client, db, demo_org)
    paths = _demo_files(db, demo_org, tmp_path / "remits", app)
    [remit] = [p for p in paths if p.name.startswith("835-") and "ACME01" in p.name][:1]
    token = _token(client)
    assert client.get("/app/billing/remittances").status_code == 200

    dry = _dry_run(client, remit, token)
    assert dry.status_code == 200, dry.text  # type: ignore[attr-defined]
    text = dry.text  # type: ignore[attr-defined]
    assert "Dry run: what this 835 would post" in text
    assert "Matched to our claims" in text
    assert "CO 45" in text  # the adjustments, per claim
    assert db.exec(select(func.count()).select_from(RemittanceFile)).one() == 0
    _fresh(db)

    digest = _DIGEST.search(text)
    assert digest is not None
    posted = client.post(
        "/app/billing/remittances/post",
        data={"csrf_token": token, "digest": digest.group(1)},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    page = client.get(posted.headers["location"])
    assert page.status_code == 200
    assert "835 posted" in page.text
    assert "paid" in page.text
    stored = db.exec(select(RemittanceFile)).one()
    assert stored.result is not None
    assert stored.result["claims_matched"] >= 1
    _fresh(db)

    again = _dry_run(client, remit, token)
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "it is not posted twice" in again.text  # type: ignore[attr-defined]
    gone = client.post(
        "/app/billing/remittances/post", data={"csrf_token": token, "digest": digest.group(1)}
    )
    assert gone.status_code == 422  # the kept file went with the posting
    assert db.exec(select(func.count()).select_from(RemittanceFile)).one() == 1


def test_a_999_and_277ca_show_on_the_batch(
    app: FastAPI, client: TestClient, db: Session, demo_org: DemoResult, tmp_path: Path
) -> None:
    _sign_in(client, demo_org, "billing clerk")
    batch_page = _build_acme_batch(client, db, demo_org)
    paths = _demo_files(db, demo_org, tmp_path / "remits", app)
    token = _token(client)
    batch_id = batch_page.rsplit("/", 1)[1]
    batch = db.get(ClaimBatch, batch_id)
    assert batch is not None
    icn = f"{batch.interchange_control_number:09d}"
    _fresh(db)
    for prefix in ("999-", "277ca-"):
        path = next(p for p in paths if p.name.startswith(prefix + icn))
        digest = _DIGEST.search(_dry_run(client, path, token).text)  # type: ignore[attr-defined]
        assert digest is not None
        posted = client.post(
            "/app/billing/remittances/post",
            data={"csrf_token": token, "digest": digest.group(1)},
            follow_redirects=False,
        )
        assert posted.status_code == 303
    page = client.get(batch_page).text
    assert "999: accepted" in page or "277CA: accepted" in page
    assert "accepted, 0 rejected" in client.get("/app/billing/batches").text


def test_a_bad_file_a_forged_form_and_an_auditor_are_refused(
    app: FastAPI, client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    _sign_in(client, demo_org, "billing clerk")
    token = _token(client)
    bad = client.post(
        "/app/billing/remittances",
        data={"csrf_token": token},
        files={"file": ("x.835", b"ISA*this is not X12~", "text/plain")},
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    forged = client.post(
        "/app/billing/remittances",
        data={"csrf_token": "forged"},
        files={"file": ("x.835", b"ISA*00~", "text/plain")},
    )
    assert forged.status_code == 403
    unknown = client.post(
        "/app/billing/remittances/post", data={"csrf_token": token, "digest": "../../etc"}
    )
    assert unknown.status_code == 422
    assert db.exec(select(func.count()).select_from(RemittanceFile)).one() == 0


def test_the_unmatched_page_lists_a_claim_the_835_did_not_match(
    app: FastAPI, client: TestClient, db: Session, demo_org: DemoResult, tmp_path: Path
) -> None:
    _sign_in(client, demo_org, "billing clerk")
    _build_acme_batch(client, db, demo_org)
    paths = _demo_files(db, demo_org, tmp_path / "remits", app)
    remit = next(p for p in paths if p.name.startswith("835-") and "ACME01" in p.name)
    claims = db.exec(
        select(Claim)
        .where(Claim.organization_id == demo_org.organization_id)
        .order_by(col(Claim.id))
    ).all()
    pcn = next(
        c.patient_control_number for c in claims if c.patient_control_number in remit.read_text()
    )
    _fresh(db)
    changed = remit.with_name("changed.835")
    changed.write_text(remit.read_text().replace(f"CLP*{pcn}*", "CLP*NOSUCHCLAIM*"))
    token = _token(client)
    digest = _DIGEST.search(_dry_run(client, changed, token).text)  # type: ignore[attr-defined]
    assert digest is not None
    client.post(
        "/app/billing/remittances/post", data={"csrf_token": token, "digest": digest.group(1)}
    )
    page = client.get("/app/billing/unmatched")
    assert page.status_code == 200
    assert "NOSUCHCLAIM" in page.text
    assert f"DEMO{pcn}" in page.text  # the payer's claim number, to find it by


def test_an_auditor_reads_the_pages_but_may_not_batch_or_upload(
    client: TestClient, tenant: Tenant
) -> None:
    token = signed_in(client, tenant, "auditor")
    for path in ("/app/billing/ready", "/app/billing/batches", "/app/billing/unmatched"):
        assert client.get(path).status_code == 200, path
    assert client.get("/app/billing/remittances").status_code == 403
    for path in ("claims", "batches", "remittances"):  # another organization's is not found
        missing = client.get(f"/app/billing/{path}/{'0' * 32}")
        assert missing.status_code == 404, path
        assert 'role="alert"' in missing.text
    refused = client.post("/app/billing/batches", data={"csrf_token": token, "all_of_payer": "x"})
    assert refused.status_code == 403
    assert "Allowed: admin, biller" in refused.text
