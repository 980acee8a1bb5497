"""The claim scrubber: the coding edits again, plus what a payer refuses a claim for.

Its last check builds the claim exactly as the 837 writer will, so a claim that passes never
fails in the writer (pyx12, the independent judge, is too slow for the request path)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from service.claims import duplicates, payer_rules
from service.claims.models import Claim
from service.claims.timely_filing import timely_filing
from service.claims.x12 import model as x12
from service.claims.x12_input import ClaimRow, Directory, Refs, claim_input, claim_row
from service.coding import edits
from service.coding.edits import Finding
from service.identifiers import npi_is_valid


@dataclass(frozen=True)
class _Visit:
    kind: str
    diagnoses: list[str]
    date_of_service: date
    place_of_service: str


def scrub(session: Session, claim: Claim, *, today: date) -> list[Finding]:
    """One claim as it stands in the session (changes not yet flushed included)."""
    row = claim_row(claim)
    return scrub_page(session, [row], today=today)[row.id]


def scrub_page(
    session: Session,
    claims: Sequence[ClaimRow],
    *,
    today: date,
    directory: Directory | None = None,
) -> dict[str, list[Finding]]:
    """The findings of each claim; the page's references are read once for all of them."""
    refs = Refs(session, claims, directory)
    titles = payer_rules.titles_for(session)
    billed = duplicates.Billed(session, claims, refs)
    return {claim.id: _scrub(session, claim, refs, today, titles, billed) for claim in claims}


def _scrub(
    session: Session,
    claim: ClaimRow,
    refs: Refs,
    today: date,
    titles: payer_rules.Titles,
    billed: duplicates.Billed,
) -> list[Finding]:
    lines = refs.lines[claim.id]
    kind = "medical" if claim.claim_type == "professional" else "dental"
    visit = _Visit(kind, list(claim.diagnoses), claim.date_of_service, claim.place_of_service)
    found = edits.check_encounter(session, visit, lines, refs.patients.get(claim.patient_id))
    found += _claim_checks(claim, refs, today)
    found += payer_rules.payer_findings(claim, refs, titles)
    found += billed.findings(claim, refs)
    if not any(f.severity == "error" for f in found):
        try:
            claim_input(claim, refs).check_kind("P" if kind == "medical" else "D")
        except (x12.X12InputError, KeyError) as error:
            found.append(Finding("x12-invalid", "error", "/", str(error)))
    return found


def _claim_checks(claim: ClaimRow, refs: Refs, today: date) -> list[Finding]:
    found: list[Finding] = []

    def error(code: str, field: str, message: str) -> None:
        found.append(Finding(code, "error", field, message))

    encounter = refs.encounters[claim.encounter_id]
    coverage = refs.coverages.get(claim.coverage_id)
    payer = refs.directory.payers.get(claim.payer_id)
    patient = refs.patients.get(claim.patient_id)
    if claim.coding_version != encounter.coding_version:
        error(
            "coding-stale",
            "/lines",
            f"Encounter {encounter.id} was re-coded after this claim was built: rebuild the "
            f"claim from its current coding (POST /api/v1/claims/{claim.id}/rebuild).",
        )
    if claim.date_of_service > today:
        error("date-in-future", "/date_of_service", "The date of service is in the future.")
    for i, line in enumerate(refs.lines[claim.id]):
        if line.service_date > today:
            error("date-in-future", f"/lines/{i}/service_date", "A line's date is in the future.")
        if line.charge <= 0:
            error("charge-not-positive", f"/lines/{i}/charge", "A line's charge must be above 0.")
    if payer is None or not payer.edi_payer_id:
        error("payer-missing", "/payer_id", "The claim names no payer with an EDI payer id.")
    else:
        prior = refs.prior.get(claim.id)
        found += timely_filing(
            payer.name, payer.timely_filing_days, claim.date_of_service, prior, today
        )
    if coverage is None or not coverage.member_id:
        error("subscriber-missing", "/coverage_id", "The coverage has no member id.")
    elif coverage.end_date and coverage.end_date < claim.date_of_service:
        error(
            "coverage-ended",
            "/coverage_id",
            f"The coverage ended {coverage.end_date}, before the date of service.",
        )
    elif coverage.start_date > claim.date_of_service:
        error(
            "coverage-not-started",
            "/coverage_id",
            f"The coverage starts {coverage.start_date}, after the date of service.",
        )
    if patient is not None and not patient.address:
        error("patient-address-missing", "/patient_id", "The patient has no address (N3/N4).")
    billing = refs.directory.providers.get(encounter.billing_provider_id)
    if billing is None:
        error("billing-provider-missing", "/billing_provider_id", "No billing provider.")
    else:
        address = billing.address or {}
        if not address.get("line1") or len(address.get("postal_code", "")) != 9:
            error(
                "billing-provider-address",
                "/billing_provider/address",
                "The billing provider needs a street address with a 9-digit ZIP code.",
            )
        if not billing.tax_id:
            error(
                "billing-provider-tax-id",
                "/billing_provider/tax_id",
                "The billing provider needs its tax id (EIN) for REF*EI.",
            )
    for role in ("billing", "rendering", "referring"):
        provider = refs.directory.providers.get(getattr(encounter, f"{role}_provider_id") or "")
        if provider is not None and not npi_is_valid(provider.npi):
            error(
                "npi-check-digit",
                f"/{role}_provider/npi",
                f"The {role} provider's NPI fails its check digit.",
            )
    if claim.payer_responsibility != "P" and claim.id not in refs.prior:
        error(
            "primary-adjudication-missing",
            "/coverage_id",
            "The secondary claim has no posted primary adjudication: post the primary payer's "
            "835 first (the claim carries it in 2320/2330/2430).",
        )
    if claim.frequency in ("7", "8") and not claim.payer_claim_number:
        error(
            "payer-claim-number-missing",
            "/payer_claim_number",
            "A replacement (7) or void (8) carries the payer's claim number (REF*F8).",
        )
    return found
