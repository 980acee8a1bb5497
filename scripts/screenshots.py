"""`make screenshots`: pictures for the README under docs/screenshots/, taken with Debian's
Chromium (Playwright, nothing downloaded) from a real `backoffice serve` on a throwaway SQLite
database with the demo organization: /docs, the sign-in page, the desks and the billing desk's
pages as the demo billing clerk sees them (a held claim's fix form among them), and the
specimen labels (rendered by scripts/label_pictures.py with made-up patients). Not part of
`make test`.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]
"""

import os
import re
import socket
import subprocess  # nosec B404 - runs our own CLI
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEW_PASSWORD = "screenshots only, thrown away"  # nosec B105 - a throwaway demo database
_BILLER = re.compile(r"^\s+billing clerk: (\S+) / (\S+)$")


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    env |= {
        "BACKOFFICE_DATABASE_URL": database_url,
        "BACKOFFICE_DATA_DIR": str(data_dir),
        "BACKOFFICE_LOG_LEVEL": "WARNING",
    }
    return env


def _cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(  # nosec B603 - fixed argv
        [str(BIN / "backoffice"), *argv], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@contextmanager
def _serving(env: dict[str, str]) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(  # nosec B603 - fixed argv
        [str(BIN / "backoffice"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise TimeoutError("backoffice serve did not become ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _shoot(page: Page, out: Path, name: str, *, full_page: bool = True) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    sys.stdout.write(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}\n")


def _upload_remittances(base: str, folder: Path, key: str) -> None:
    """The demo's 999s, 277CAs and 835s, posted with the demo admin's key."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/edi-x12"}
    for kind in ("999", "277ca", "835"):
        for path in sorted(folder.glob(f"{kind}-*.x12")):
            response = httpx.post(
                f"{base}/api/v1/remittance-files?filename={path.name}",
                content=path.read_bytes(),
                headers=headers,
                timeout=120,
            )
            response.raise_for_status()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # nosec B603 - our own script
        [sys.executable, str(ROOT / "scripts" / "label_pictures.py"), str(out)], check=True
    )
    with tempfile.TemporaryDirectory() as data:
        env = _env(f"sqlite:///{Path(data) / 'screenshots.sqlite3'}", Path(data))
        _cli(env, "migrate")
        # The demo's claims batched and answered (999, 277CA, 835): the money pages have data.
        remittances = Path(data) / "remittances"
        demo = _cli(env, "demo", "--remittances", "--folder", str(remittances))
        [(username, password)] = [m.groups() for m in map(_BILLER.match, demo.splitlines()) if m]
        with _serving(env) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            tab = page.new_page()
            tab.goto("/docs")
            tab.wait_for_selector(".opblock-tag", timeout=60_000)
            _shoot(tab, out, "docs", full_page=False)
            tab.goto("/app/sign-in")
            _shoot(tab, out, "app-sign-in")
            tab.get_by_label("Username").fill(username)
            tab.get_by_label("Password").fill(password)
            tab.get_by_role("button", name="Sign in").click()
            tab.get_by_label("Current password").fill(password)
            tab.get_by_label("New password (at least 12 characters)").fill(NEW_PASSWORD)
            tab.get_by_label("New password again").fill(NEW_PASSWORD)
            tab.get_by_role("button", name="Change password").click()
            tab.wait_for_url("**/app/")
            _shoot(tab, out, "app-desks")
            tab.goto("/app/billing/claims")
            _shoot(tab, out, "app-billing-claims")
            # Omar Haddad's claim, held for its billing provider's 5-digit ZIP: the fix form.
            tab.get_by_role("link", name=re.compile(r"^Fix claim ")).first.click()
            tab.wait_for_url("**/app/billing/claims/*")
            _shoot(tab, out, "app-billing-claim")
            for path in ("ready", "batches", "remittances", "unmatched"):  # issue 26's flow
                tab.goto(f"/app/billing/{path}")
                _shoot(tab, out, f"app-billing-{path}")
            _upload_remittances(base, remittances, demo.strip().splitlines()[-1])
            tab.goto("/app/billing/statements")
            tab.get_by_role("button", name="Run statements").click()  # a run to list
            for money_page in ("denials", "balances", "statements", "aging", "month-end"):
                tab.goto(f"/app/billing/{money_page}")
                _shoot(tab, out, f"app-billing-{money_page}")
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
