"""The desks of the web pages and the roles that may use each (DESIGN.md's role table)."""

from dataclasses import dataclass

from service.auth.roles import Role


@dataclass(frozen=True)
class Desk:
    name: str
    path: str | None  # None: not built yet (issue 26 builds the billing desk first)
    roles: frozenset[str]
    about: str


# Claims are read by admin, biller, coder and auditor (integration clients have no password).
BILLING_ROLES = frozenset({Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR, Role.INTEGRATION})
ADMIN_ROLES = frozenset({Role.ADMIN})

DESKS = (
    Desk(
        "Billing desk",
        "/app/billing/claims",
        BILLING_ROLES,
        "Claims needing attention: scrubber findings and rejections to fix.",
    ),
    Desk(
        "Lab bench",
        None,
        frozenset({Role.ADMIN, Role.LAB, Role.FRONT_DESK, Role.CODER, Role.AUDITOR}),
        "Specimens, worklists and results (pages to come; the API has them).",
    ),
    Desk(
        "Front desk",
        None,
        frozenset({Role.ADMIN, Role.FRONT_DESK}),
        "Patients and coverages (pages to come; the API has them).",
    ),
    Desk(
        "Coding",
        None,
        frozenset({Role.ADMIN, Role.CODER}),
        "Encounters to code (pages to come; the API has them).",
    ),
    Desk(
        "Administration",
        "/app/admin/users",
        ADMIN_ROLES,
        "Staff accounts: create them, reset passwords, change roles; your two-step sign-in.",
    ),
)


def desks_for(roles: frozenset[str]) -> list[Desk]:
    return [desk for desk in DESKS if desk.roles & roles]


@dataclass(frozen=True)
class Page:
    title: str
    path: str


# The billing desk's pages, in the order of the sub-navigation (templates/billing_nav.html);
# a new billing page adds itself here.
BILLING_PAGES = (
    Page("Claims needing attention", "/app/billing/claims"),
    Page("Ready claims", "/app/billing/ready"),
    Page("Batches", "/app/billing/batches"),
    Page("Upload a remittance", "/app/billing/remittances"),
    Page("Unmatched remittance lines", "/app/billing/unmatched"),
    Page("Denials to work", "/app/billing/denials"),
    Page("Patient balances", "/app/billing/balances"),
    Page("Statements", "/app/billing/statements"),
    Page("A/R aging", "/app/billing/aging"),
    Page("Month-end", "/app/billing/month-end"),
)
