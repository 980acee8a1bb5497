"""Issue 26's "Done means" from the demo data alone, in Chromium: the billing clerk signs in with
the password `backoffice demo` printed, fixes the ZIP of the claim the scrubber holds (Omar
Haddad's), batches Acme and downloads the 837 (pyx12 judges it), uploads the demo 835 with the
file picker (dry run, then post), sees a payment posted and works the denial the 835 carries
(Siobhán O'Connor's). Nothing is faked through the API. The server, the browser and the demo
organization are the fixtures of test_browser.py (one server for this module)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from service.claims.models import Claim
from service.db import make_engine
from service.demo.remittances import DENIED_MRN
from service.demo.westside import HELD_MRN
from service.patients.models import Patient
from tests.claims.x12_check import assert_valid_837
from tests.web import test_browser
from tests.web.test_browser import Site, _sign_in_and_choose_a_password
from tests.web.test_browser_billing_flow import _demo_835, _desk_nav, _upload_and_post
from tests.web.test_browser_denials import denial_item, note_a_follow_up

pytestmark = pytest.mark.browser

site = test_browser.site
browser = test_browser.browser
page = test_browser.page


def _pcn(site: Site, mrn: str) -> str:
    """The patient control number of the demo patient's (only) claim."""
    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            [pcn] = session.exec(
                select(Claim.patient_control_number)
                .join(Patient, col(Patient.id) == Claim.patient_id)
                .where(Patient.mrn == mrn)
            ).all()
    finally:
        engine.dispose()
    return pcn


def test_a_new_clerk_fixes_batches_posts_and_works_a_denial_from_the_demo_data(
    page: Page, site: Site, tmp_path: Path
) -> None:
    held, denied = _pcn(site, HELD_MRN), _pcn(site, DENIED_MRN)

    # Signed in with the password `backoffice demo` printed, changed at once.
    printed = site.first_passwords["billing clerk"]
    _sign_in_and_choose_a_password(page, site, "billing clerk", printed)

    # The claims needing attention: Haddad's, held for Westside's 5-digit ZIP.
    page.get_by_role("link", name="Billing desk").click()
    expect(page.get_by_role("heading", name="Claims needing attention")).to_be_visible()
    article = page.get_by_role("article", name=f"Claim {held}")
    expect(article).to_contain_text("needs a street address with a 9-digit ZIP code")
    page.get_by_role("link", name=f"Fix claim {held}").click()
    expect(page.get_by_role("heading", name=f"Claim {held}")).to_be_visible()
    zip_code = page.get_by_label("ZIP code (9 digits)")
    expect(zip_code).to_have_value("62704")
    zip_code.fill("627041234")
    page.get_by_role("button", name="Save and scrub again").click()
    expect(page.get_by_role("status")).to_contain_text("it has left the queue")

    # Ready claims by payer: all of Acme's (an 837P and an 837D); the 837P downloaded.
    _desk_nav(page, "Ready claims").click()
    expect(page.get_by_label(f"Batch claim {held}")).to_be_visible()  # ready now
    page.get_by_role("button", name=re.compile(r"^Batch all \d+ of Acme Health Plan$")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Batch 837[PD] of "))).to_be_visible()
    page.get_by_role("link", name="All batches").click()
    professional = page.get_by_role("row").filter(has_text="837P")
    with page.expect_download() as download_info:
        professional.get_by_role("link", name=re.compile(r"^Download ")).click()
    x12 = Path(download_info.value.path()).read_text(encoding="ascii")
    assert f"CLM*{held}*" in x12
    assert f"CLM*{denied}*" in x12
    assert_valid_837(x12)

    # The demo 835 answering that batch, uploaded with the file picker: dry run, then post.
    remit = _demo_835(site, tmp_path / "remits", held)
    assert f"CLP*{denied}*4*" in remit.read_text(encoding="ascii")  # the denial rides along
    _upload_and_post(page, remit, held)
    expect(page.get_by_role("row").filter(has_text=denied)).to_contain_text("denied")

    # O'Connor's denial in the queue: taken, a note and a follow-up date.
    _desk_nav(page, "Denials to work").click()
    item = denial_item(page, denied, "CARC 16")
    expect(item).to_contain_text("RARC N290")  # the payer's remark: what the claim lacks
    item.get_by_role("button", name="Take this denial").click()
    expect(item.locator("dl")).to_contain_text("Demo biller")  # the owner now
    note_a_follow_up(item, "2026-12-20", "Rendering NPI added; resubmit after review")
