"""A billing clerk works a denial in Chromium (takes it, notes a call, sets a follow-up date,
writes it off) and reads the A/R aging chart; axe-core finds no serious violation on the money
pages with data on them. The site and browser are test_browser.py's fixtures."""

import re

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import Session

from service.db import make_engine
from tests.remittance.helpers import X12, ack_999, denied, load_batch, remit_835
from tests.web.test_browser import (
    AXE,
    Site,
    _serious_violations,
    _sign_in_fresh,
    browser,
    page,
    site,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "page", "site"]  # fixtures, shared with test_browser.py

MONEY_PAGES = (
    "/app/billing/denials",
    "/app/billing/balances",
    "/app/billing/statements",
    "/app/billing/aging",
    "/app/billing/month-end",
)


@pytest.fixture(scope="module")
def denied_claim(site: Site) -> str:
    """The demo's professional claims batched and accepted (999), the first denied by an 835
    (CO 50 per line), through the API as a clearinghouse would answer; its control number."""
    headers = {"Authorization": f"Bearer {site.admin_key}"}
    partners = httpx.get(f"{site.base_url}/api/v1/trading-partners", headers=headers).json()
    made = httpx.post(
        f"{site.base_url}/api/v1/claim-batches",
        json={"trading_partner_id": partners["items"][0]["id"], "claim_type": "professional"},
        headers=headers,
        timeout=60,
    )
    assert made.status_code == 201, made.text
    engine = make_engine(site.database_url)
    with Session(engine) as db:
        batch = load_batch(db, made.json()["id"])
    engine.dispose()
    first = batch.claims[0]
    for text in (ack_999(batch), remit_835([denied(first)])):
        posted = httpx.post(
            f"{site.base_url}/api/v1/remittance-files",
            content=text.encode(),
            headers={**headers, **X12},
            timeout=60,
        )
        assert posted.status_code == 201, posted.text
    return first.pcn


def denial_item(page: Page, pcn: str, reason: str) -> Locator:
    """The claim's first item on the denials page, naming `reason`, pinned by its id (the
    queue's order changes as items are worked)."""
    expect(page.get_by_role("heading", name="Denials to work", level=1)).to_be_visible()
    item = page.get_by_role("article", name=re.compile(rf"^Claim {pcn}\b")).first
    expect(item).to_contain_text(reason)
    item_id = item.get_attribute("id")
    assert item_id is not None
    return page.locator(f"#{item_id}")


def note_a_follow_up(item: Locator, on: str, note: str) -> None:
    """A follow-up date and a note saved on a denial item the clerk owns."""
    item.get_by_label("Follow up on").fill(on)
    item.get_by_label("Note", exact=True).fill(note)
    item.get_by_role("button", name="Save").click()
    expect(item).to_contain_text(f"follow up on {on}")
    expect(item.locator("details")).to_contain_text(note)


def test_a_clerk_works_a_denial_and_reads_the_aging_chart(
    page: Page, site: Site, denied_claim: str
) -> None:
    _sign_in_fresh(page, site, "billing clerk")
    page.get_by_role("link", name="Billing desk").click()
    page.get_by_role("link", name="Denials to work").click()
    item = denial_item(page, denied_claim, "CARC 50")
    item_id = item.get_attribute("id")

    take = item.get_by_role("button", name="Take this denial")
    take.focus()
    page.keyboard.press("Enter")  # by keyboard
    expect(item.get_by_role("button", name="Take this denial")).to_have_count(0)
    expect(item.locator("dl")).to_contain_text("Demo biller")  # the owner now
    note_a_follow_up(item, "2026-12-20", "Called the payer: no appeal rights")
    page.get_by_label("Show").select_option("mine")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f"#{item_id}")).to_be_visible()

    item.get_by_label("Write-off reason").select_option("denial")
    item.get_by_role("button", name=re.compile(r"^Write off \$")).click()
    expect(page.locator(f"#{item_id}")).to_have_count(0)  # done: out of the queue to work
    page.goto("/app/billing/denials?status=all")
    expect(page.locator(f"#{item_id}")).to_contain_text("Written off")

    page.get_by_role("link", name="A/R aging").click()
    chart = page.get_by_role("img", name="A/R aging by payer as of ")
    expect(chart).to_be_visible()
    expect(chart.locator("rect").first).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Total")


def test_the_money_pages_pass_axe_core_with_data_on_them(
    browser: Browser, site: Site, denied_claim: str
) -> None:
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it from the npm registry")
    context = browser.new_context(base_url=site.base_url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sign_in_fresh(page, site, "billing clerk")
    seen = {}
    for path in MONEY_PAGES:
        response = page.goto(path)
        assert response is not None, path
        assert response.status == 200, path
        seen[path] = _serious_violations(page)
    patient = page.goto("/app/billing/balances")
    assert patient is not None
    page.locator("table a").first.click()
    seen["patient balance"] = _serious_violations(page)
    context.close()
    assert seen == {name: [] for name in seen}
