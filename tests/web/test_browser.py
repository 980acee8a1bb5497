"""The pages in a real browser: Debian's Chromium driven by Playwright against a real
`backoffice serve` on a free port, with the demo organization (nothing downloaded at run time).

Marked `browser`: `pytest -m browser` runs only these, `-m "not browser"` skips them."""

import os
import re
import shutil
import subprocess  # nosec B404 - runs our own CLI
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect, sync_playwright

from service.db import make_engine
from service.records import utcnow
from service.settings import REPO_ROOT
from tests.conftest import ON_POSTGRES, _worker, create_pg_database
from tests.hardening.servers import BIN, migrate, running, service_env

# A loaded CI machine can take longer than Playwright's 5 s to finish a navigation.
expect.set_options(timeout=15_000)

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEW_PASSWORD = "a long password of my own"
_SIGN_IN_LINE = re.compile(r"^\s+(admin|billing clerk|lab technologist): (\S+) / (\S+)$")


@dataclass
class Site:
    base_url: str
    database_url: str
    admin_key: str
    usernames: dict[str, str]  # who -> username
    first_passwords: dict[str, str]  # who -> the one-time password `backoffice demo` printed

    def one_time_password(self, who: str) -> str:
        """A fresh one-time password for one test, from the admin API (tests stay independent)."""
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        users = httpx.get(f"{self.base_url}/api/v1/users?limit=200", headers=headers).json()
        [user] = [u for u in users["items"] if u["username"] == self.usernames[who]]
        response = httpx.post(
            f"{self.base_url}/api/v1/users/{user['id']}/password-reset",
            json={},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        password: str = response.json()["one_time_password"]
        return password


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("browser")
    if ON_POSTGRES:
        url = create_pg_database(f"bo_browser_{_worker()}")
    else:
        url = f"sqlite:///{data_dir / 'browser.sqlite3'}"
    migrate(url, data_dir)
    demo = subprocess.run(  # nosec B603 - fixed argv
        [str(BIN / "backoffice"), "demo"],
        env=service_env(url, data_dir),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = demo.stdout.strip().splitlines()
    found = [m.groups() for m in map(_SIGN_IN_LINE.match, lines) if m]
    assert len(found) == 3, demo.stdout
    with running(url, data_dir) as server:
        yield Site(
            server.base_url,
            url,
            admin_key=lines[-1],
            usernames={who: username for who, username, _ in found},
            first_passwords={who: password for who, _, password in found},
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=site.base_url)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def _sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/app/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _sign_in_fresh(page: Page, site: Site, who: str) -> None:
    """Signs in with a fresh one-time password and sets an own password, as a new user does."""
    _sign_in_and_choose_a_password(page, site, who, site.one_time_password(who))


def _sign_in_and_choose_a_password(page: Page, site: Site, who: str, otp: str) -> None:
    """Signs in with a one-time password and sets an own password, as a new user does."""
    _sign_in(page, site.usernames[who], otp)
    expect(page).to_have_url(re.compile(r"/app/password$"))
    page.get_by_label("Current password").fill(otp)
    page.get_by_label("New password (at least 12 characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(re.compile(r"/app/$"))


def test_the_demo_biller_signs_in_with_the_printed_password_and_must_change_it(
    page: Page, site: Site
) -> None:
    _sign_in(page, site.usernames["billing clerk"], "not the password")
    expect(page.get_by_role("alert")).to_have_text("The username or password is not right.")

    otp = site.first_passwords["billing clerk"]
    _sign_in(page, site.usernames["billing clerk"], otp)
    expect(page).to_have_url(re.compile(r"/app/password$"))
    page.goto("/app/")  # nothing else opens before the change
    expect(page).to_have_url(re.compile(r"/app/password$"))
    page.get_by_label("Current password").fill(otp)
    page.get_by_label("New password (at least 12 characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.keyboard.press("Enter")  # a keyboard user submits the form
    expect(page).to_have_url(re.compile(r"/app/$"))
    expect(page.get_by_role("heading", name="Your desks")).to_be_visible()
    expect(page.get_by_role("link", name="Billing desk")).to_be_visible()


def test_sign_out_ends_the_session(page: Page, site: Site) -> None:
    _sign_in_fresh(page, site, "billing clerk")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/app/sign-in$"))
    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/app/sign-in$"))


def test_an_idle_session_signs_out_by_itself(page: Page, site: Site) -> None:
    _sign_in_fresh(page, site, "admin")
    engine = make_engine(site.database_url)
    with engine.begin() as connection:  # 16 minutes idle: past the default 15
        connection.execute(
            sa.text("UPDATE web_session SET last_seen_at = :at WHERE ended_at IS NULL"),
            {"at": utcnow() - timedelta(minutes=16)},
        )
    engine.dispose()
    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/app/sign-in$"))


def test_a_form_post_without_the_csrf_token_is_refused(page: Page, site: Site) -> None:
    _sign_in_fresh(page, site, "billing clerk")
    # The browser's own cookies, a form post whose token was taken out.
    response = page.request.post("/app/sign-out", form={"other": "x"})
    assert response.status == 403
    page.goto("/app/")
    expect(page.get_by_role("heading", name="Your desks")).to_be_visible()  # still signed in


def test_the_lab_technologist_gets_403_on_the_billing_desk(page: Page, site: Site) -> None:
    _sign_in_fresh(page, site, "lab technologist")
    expect(page.get_by_role("link", name="Billing desk")).to_have_count(0)
    response = page.goto("/app/billing/claims")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_the_billing_desk_shows_a_claim_held_by_the_scrubber(page: Page, site: Site) -> None:
    headers = {"Authorization": f"Bearer {site.admin_key}"}
    claims = httpx.get(f"{site.base_url}/api/v1/claims?status=ready", headers=headers).json()
    claim = claims["items"][0]
    encounter = httpx.get(
        f"{site.base_url}/api/v1/encounters/{claim['encounter_id']}", headers=headers
    ).json()
    provider_url = f"{site.base_url}/api/v1/providers/{encounter['billing_provider_id']}"
    provider = httpx.get(provider_url, headers=headers).json()
    address = {**provider["address"], "postal_code": provider["address"]["postal_code"][:5]}
    assert httpx.patch(provider_url, json={"address": address}, headers=headers).is_success
    scrubbed = httpx.post(f"{site.base_url}/api/v1/claims/{claim['id']}/scrub", headers=headers)
    assert scrubbed.json()["status"] == "draft"

    _sign_in_fresh(page, site, "billing clerk")
    page.get_by_role("link", name="Billing desk").click()
    expect(page.get_by_role("heading", name="Claims needing attention")).to_be_visible()
    held = page.get_by_role("article", name=f"Claim {claim['patient_control_number']}")
    expect(held).to_contain_text("needs a street address with a 9-digit ZIP code")
    expect(held).to_contain_text("billing provider, address")
    expect(held).to_contain_text(claim["encounter_id"])


AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' '))}));
}"""


def _serious_violations(page: Page) -> list[dict[str, object]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = page.evaluate(_AXE_RUN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_every_page_passes_axe_core_with_no_serious_violation(browser: Browser, site: Site) -> None:
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it from the npm registry")
    # axe is injected as a script, which the pages' CSP forbids (rightly): bypassed here only.
    context = browser.new_context(base_url=site.base_url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen: dict[str, list[dict[str, object]]] = {}
    page.goto("/app/sign-in")
    seen["sign-in"] = _serious_violations(page)
    otp = site.one_time_password("billing clerk")
    _sign_in(page, site.usernames["billing clerk"], otp)
    seen["password"] = _serious_violations(page)
    page.get_by_label("Current password").fill(otp)
    page.get_by_label("New password (at least 12 characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(re.compile(r"/app/$"))
    seen["home"] = _serious_violations(page)
    page.goto("/app/billing/claims")
    seen["billing claims"] = _serious_violations(page)
    headers = {"Authorization": f"Bearer {site.admin_key}"}
    [claim] = httpx.get(f"{site.base_url}/api/v1/claims?limit=1", headers=headers).json()["items"]
    for path in (f"claims/{claim['id']}", "ready", "batches", "remittances", "unmatched"):
        page.goto(f"/app/billing/{path}")
        seen[path] = _serious_violations(page)
    for money_page in ("denials", "balances", "statements", "aging", "month-end"):
        page.goto(f"/app/billing/{money_page}")
        seen[f"billing {money_page}"] = _serious_violations(page)
    context.close()
    refused = browser.new_context(base_url=site.base_url, bypass_csp=True)
    page = refused.new_page()
    _sign_in_fresh(page, site, "lab technologist")
    page.goto("/app/billing/claims")
    seen["refused"] = _serious_violations(page)
    refused.close()
    assert seen == {name: [] for name in seen}
