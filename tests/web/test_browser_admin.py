"""The Administration desk and an admin's two-step sign-in in a real browser (Chromium through
Playwright against `backoffice serve`, the fixtures of test_browser.py), with axe-core on each
of their pages."""
# ruff: noqa: F811 - the fixtures imported from test_browser.py are parameters here

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from service.db import make_engine
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


class Authenticator:
    """An authenticator app: each code of a later 30-second step than the last one given (the
    service takes a code once, within one step of its clock), waiting for the clock if needed."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last: int | None = None

    def code(self) -> str:
        now = self.totp.timecode(datetime.now(UTC))
        step = now if self.last is None else max(self.last + 1, now)
        while step > self.totp.timecode(datetime.now(UTC)) + 1:
            time.sleep(1)
        self.last = step
        return self.totp.generate_otp(step)


@pytest.fixture
def two_step_off(site: Site) -> Iterator[None]:
    """Whatever a test leaves, the demo admin signs in with a password alone afterwards."""
    yield
    engine = make_engine(site.database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE app_user SET totp_secret = NULL, totp_enabled_at = NULL, "
                "totp_last_step = NULL WHERE username = :username"
            ),
            {"username": site.usernames["admin"]},
        )
    engine.dispose()


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


@pytest.mark.usefixtures("two_step_off")
def test_two_step_sign_in_from_enrolment_to_the_code_and_off(page: Page, site: Site) -> None:
    _sign_in_fresh(page, site, "admin")
    page.goto("/app/account/two-step")
    page.get_by_role("button", name="Set up two-step sign-in").click()
    app = Authenticator(page.locator("#secret").inner_text())
    expect(page.locator("#otpauth-uri")).to_contain_text("otpauth://totp/")
    page.get_by_label("The code your app shows").fill(app.code())
    page.keyboard.press("Enter")
    expect(page.get_by_text("Two-step sign-in is on")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, site.usernames["admin"], NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/app/sign-in/code$"))
    page.get_by_label("Code").fill(app.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your desks")).to_be_visible()

    page.goto("/app/account/two-step")
    page.get_by_label("A current code").fill(app.code())
    page.get_by_role("button", name="Turn two-step sign-in off").click()
    expect(page.get_by_text("Two-step sign-in is off")).to_be_visible()


@pytest.mark.usefixtures("two_step_off")
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
    app = Authenticator(page.locator("#secret").inner_text())
    page.get_by_label("The code your app shows").fill(app.code())
    page.get_by_role("button", name="Turn two-step sign-in on").click()
    seen["two-step on"] = _serious_violations(page)
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, site.usernames["admin"], NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/app/sign-in/code$"))
    seen["sign-in code"] = _serious_violations(page)
    page.get_by_label("Code").fill(app.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your desks")).to_be_visible()
    context.close()
    assert seen == {name: [] for name in seen}
