"""The billing clerk's day in Chromium (issue 26's "Done means"): sign in, fix a claim the
scrubber held, batch it and download the 837 (pyx12 judges it), upload the demo 835 with the
file picker (dry run, then post) and see the payment posted. The server, the browser and the
demo organization are the fixtures of test_browser.py (one server for this module)."""

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session

from service import org_clock
from service.auth import repository as auth_repository
from service.db import make_engine, session_factory_for
from service.demo import remittances as remittance_demo
from tests.claims.x12_check import assert_valid_837
from tests.web import test_browser
from tests.web.test_browser import Site, _sign_in_fresh

pytestmark = pytest.mark.browser

site = test_browser.site
browser = test_browser.browser
page = test_browser.page


def _hold_a_professional_claim(site: Site) -> dict[str, str]:
    """A ready professional claim the demo 835 pays, its billing provider's ZIP cut to 5
    digits and scrubbed again through the API: the scrubber holds it (billing-provider-address)."""
    headers = {"Authorization": f"Bearer {site.admin_key}"}
    api = site.base_url + "/api/v1"
    claims = httpx.get(f"{api}/claims?status=ready&claim_type=professional", headers=headers)
    # Not Siobhán O'Connor's: the demo 835 denies hers, and this test wants a payment.
    claim: dict[str, str] = next(
        c
        for c in claims.json()["items"]
        if httpx.get(f"{api}/patients/{c['patient_id']}", headers=headers).json()["mrn"]
        != remittance_demo.DENIED_MRN
    )
    encounter = httpx.get(f"{api}/encounters/{claim['encounter_id']}", headers=headers).json()
    provider_url = f"{api}/providers/{encounter['billing_provider_id']}"
    provider = httpx.get(provider_url, headers=headers).json()
    address = {**provider["address"], "postal_code": provider["address"]["postal_code"][:5]}
    assert httpx.patch(provider_url, json={"address": address}, headers=headers).is_success
    scrubbed = httpx.post(f"{api}/claims/{claim['id']}/scrub", headers=headers)
    assert scrubbed.json()["status"] == "draft"
    return claim


def _demo_835(site: Site, folder: Path, pcn: str) -> Path:
    """`backoffice demo --remittances`'s files for the batches there are, written in process
    (the command would also reset the demo people's passwords); the 835 paying the claim."""
    engine = make_engine(site.database_url)
    try:
        factory = session_factory_for(engine)
        with Session(engine) as session:
            demo = auth_repository.get_organization_by_name(session, "demo")
            assert demo is not None
            organization_id = demo.id
            paths, _ = remittance_demo.write_demo_remittances(
                session,
                organization_id,
                folder,
                numbers_factory=factory,
                now=datetime.now(UTC),
                local_today=lambda: org_clock.local_date(
                    session, organization_id, datetime.now(UTC)
                ),
            )
            session.commit()
    finally:
        engine.dispose()
    return next(p for p in paths if p.name.startswith("835-") and f"CLP*{pcn}*" in p.read_text())


def _desk_nav(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Billing desk").get_by_role("link", name=name)


def _upload_and_post(page: Page, remit: Path, pcn: str) -> None:
    """The 835 chosen with the file picker, dry run, then posted: the claim shows paid."""
    _desk_nav(page, "Upload a remittance").click()
    page.get_by_label("X12 file (835, 999 or 277CA)").set_input_files(str(remit))
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name="Dry run: what this 835 would post")).to_be_visible()
    expect(page.get_by_role("table", name="Per claim")).to_contain_text(pcn)
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("heading", name="835 posted")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=pcn)
    expect(row).to_contain_text(re.compile(r"paid|partially_paid"))


def test_a_billing_clerk_goes_from_a_finding_to_a_posted_payment(
    page: Page, site: Site, tmp_path: Path
) -> None:
    claim = _hold_a_professional_claim(site)
    pcn = claim["patient_control_number"]
    _sign_in_fresh(page, site, "billing clerk")

    # The finding, fixed in the form it names, and the claim scrubbed again.
    page.get_by_role("link", name="Billing desk").click()
    page.get_by_role("link", name=f"Fix claim {pcn}").click()
    expect(page.get_by_role("heading", name=f"Claim {pcn}")).to_be_visible()
    page.get_by_label("ZIP code (9 digits)").fill("627011111")
    page.get_by_role("button", name="Save and scrub again").click()
    expect(page.get_by_role("status")).to_contain_text("it has left the queue")

    # Ready claims by payer: tick the claim, build the batch, download its 837.
    _desk_nav(page, "Ready claims").click()
    page.get_by_label(f"Batch claim {pcn}").check()
    page.get_by_role("button", name="Build batch of the ticked claims").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Batch 837P of "))).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^Download the 837 file")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".x12") or download.suggested_filename
    x12 = Path(download.path()).read_text(encoding="ascii")
    assert f"CLM*{pcn}*" in x12
    assert_valid_837(x12)

    # The payer's 835 for that batch, uploaded with the file picker: dry run, then post.
    remit = _demo_835(site, tmp_path / "remits", pcn)
    _upload_and_post(page, remit, pcn)

    # The same file again is refused, with a clear message.
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("X12 file (835, 999 or 277CA)").set_input_files(str(remit))
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("alert")).to_contain_text("it is not posted twice")
