"""The Administration desk and an admin's two-step sign-in in a real browser (Chromium through
Playwright against `backoffice serve`, the fixtures of test_browser.py), with axe-core on each
of their pages."""
# ruff: noqa: F811 - the fixtures imported from test_browser.py are parameters here

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.test_browser import (  # noqa: F401 - fixtures
    AXE,
    NEW_PASSWORD,
    Site,
    _serious_violations,
    _sign_in,
    _sign_in_fresh,
    browser,
    page,
    site,
)

pytestmark = pytest.mark.browser


def _code(secret: str, steps_ahead: int) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps_ahead))


def test_an_admin_creates_a_staff_account_on_the_page(page: Page, site: Site) -> None:
    _sign_in_fresh(page, site, "admin")
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
    page.locator("#new-name").fill("Robin Clerk")
    page.locator("#new-username").fill("robin.clerk")
    page.get_by_role("group", name="Roles", exact=True).get_by_label("biller").check()
    page.get_by_role("button", name="Create the account").click()
    shown = page.locator("#one-time-password")
    expect(shown).to_be_visible()
    password = shown.inner_text()
    assert len(password) >= 12
    page.reload()  # a reload re-asks nothing and shows the password no more
    expect(page.locator("#one-time-password")).to_have_count(0)


def test_two_step_sign_in_from_enrolment_to_the_code_and_off(page: Page, site: Site) -> None:
    _sign_in_fresh(page, site, "admin")
    page.goto("/app/account/two-step")
    page.get_by_role("button", name="Set up two-step sign-in").click()
    secret = page.locator("#secret").inner_text()
    expect(page.locator("#otpauth-uri")).to_contain_text("otpauth://totp/")
    page.get_by_label("The code your app shows").fill(_code(secret, 0))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Two-step sign-in is on")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, site.usernames["admin"], NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/app/sign-in/code$"))
    page.get_by_label("Code").fill(_code(secret, 1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your desks")).to_be_visible()

    page.goto("/app/account/two-step")
    page.get_by_label("A current code").fill(_code(secret, 2))
    page.get_by_role("button", name="Turn two-step sign-in off").click()
    expect(page.get_by_text("Two-step sign-in is off")).to_be_visible()


def test_the_admin_pages_pass_axe_core(browser: Browser, site: Site) -> None:
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it from the npm registry")
    context = browser.new_context(base_url=site.base_url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen: dict[str, list[dict[str, object]]] = {}
    _sign_in_fresh(page, site, "admin")
    page.goto("/app/admin/users")
    seen["staff accounts"] = _serious_violations(page)
    page.goto("/app/account/two-step")
    page.get_by_role("button", name="Set up two-step sign-in").click()
    seen["two-step enrolment"] = _serious_violations(page)
    secret = page.locator("#secret").inner_text()
    page.get_by_label("The code your app shows").fill(_code(secret, 0))
    page.get_by_role("button", name="Turn two-step sign-in on").click()
    seen["two-step on"] = _serious_violations(page)
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, site.usernames["admin"], NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/app/sign-in/code$"))
    seen["sign-in code"] = _serious_violations(page)
    page.get_by_label("Code").fill(_code(secret, 1))
    page.get_by_role("button", name="Sign in").click()
    page.goto("/app/account/two-step")
    page.get_by_label("A current code").fill(_code(secret, 2))
    page.get_by_role("button", name="Turn two-step sign-in off").click()
    context.close()
    assert seen == {name: [] for name in seen}
