"""The demo's held claim: a second billing provider, Springfield Family Medicine — Westside,
entered with a 5-digit ZIP, so Omar Haddad's visit billed by it waits as a draft with the
scrubber's `billing-provider-address` finding (2010AA N403 needs ZIP+4) for a clerk to fix."""

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from service.directory import logic as directory
from service.directory.models import Payer, Provider
from service.directory.schemas import ProviderCreate
from service.patients.models import Coverage, Patient

if TYPE_CHECKING:  # clinic imports this module
    from service.demo.clinic import _Seeder

HELD_MRN = "D-1006"
WESTSIDE_NAME = "Springfield Family Medicine — Westside"


def seed_westside(
    seeder: "_Seeder",
    npi: Callable[[str], str],
    city: dict[str, str],
    patient: Callable[..., Patient],
    coverage: Callable[..., Coverage],
    acme: Payer,
) -> tuple[Provider, Patient, Coverage]:
    """The Westside provider, Omar Haddad and his Acme coverage (found again on a re-run)."""
    westside = seeder.one(
        directory.PROVIDERS,
        Provider.npi == npi("190000004"),
        ProviderCreate(
            npi=npi("190000004"),
            kind="organization",
            organization_name=WESTSIDE_NAME,
            taxonomy="207Q00000X",
            tax_id="371234568",
            # Five digits where the 837 wants nine: the finding the clerk fixes.
            address={"line1": "2200 Wabash Ave", "postal_code": "62704", **city},
            phone="217-555-0160",
        ),
    )
    omar = patient(
        HELD_MRN,
        family_name="Haddad",
        given_name="Omar",
        birth_date=date(1975, 6, 21),
        sex="M",
        address={"line1": "88 Maple Ct", "postal_code": "62704", **city},
    )
    omar_cov = coverage(omar, acme, "ACM777000222", group_number="GRP-4410")
    return westside, omar, omar_cov
