"""What the billing desk's pages show, read through the claims capability's own queries."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from service import display_names, org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import logic as claim_logic
from service.claims.models import Claim
from service.claims.schemas import ClaimFilters
from service.claims.states import ClaimStatus
from service.paging import Page, fetch_page

PAGE_SIZE = 50

# Claims a clerk must act on: drafts the scrubber held back, and claims a payer or the
# clearinghouse rejected (999/277CA).
ATTENTION = (ClaimStatus.DRAFT, ClaimStatus.REJECTED)


@dataclass(frozen=True)
class FindingRow:
    severity: str
    message: str
    where: str  # the field to fix, in words
    code: str


@dataclass(frozen=True)
class ClaimRow:
    claim_id: str
    patient_control_number: str
    status: str
    patient: str
    payer: str
    encounter_id: str
    date_of_service: date
    total_charge: str
    scrubbed_at: str  # the organization's wall clock
    findings: list[FindingRow]


def field_in_words(pointer: str) -> str:
    """A finding's JSON Pointer as a clerk reads it: /lines/1/units -> "line 2, units"."""
    words: list[str] = []
    parts = [p for p in pointer.strip("/").split("/") if p]
    for part in parts:
        if part.isdigit() and words:
            words[-1] = f"{words[-1].removesuffix('s')} {int(part) + 1}"
        else:
            words.append(part.replace("_", " "))
    return ", ".join(words) if words else "the claim as a whole"


def _local(session: Session, organization_id: str, at: datetime | None) -> str:
    if at is None:
        return "not scrubbed yet"
    return org_clock.local_time(session, organization_id, at).strftime("%Y-%m-%d %H:%M %Z")


def claims_needing_attention(
    session: Session, actor: Principal, status: ClaimStatus, cursor: str | None
) -> Page[ClaimRow]:
    """One page of claims in `status`, oldest first (a work queue), each with its findings in
    words. Showing patients is a read of their data: audited like GET /api/v1/claims."""
    query = claim_logic.claims_query(actor, ClaimFilters(status=status))
    page: Page[Any] = fetch_page(session, query, Claim.id, limit=PAGE_SIZE, cursor=cursor)
    claims: list[Claim] = list(page.items)
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="claim",
        rows=[(c.id, c.patient_id) for c in claims],
        detail="web page: claims needing attention",
    )
    return Page(items=claim_rows(session, actor, claims), next_cursor=page.next_cursor)


def claim_rows(session: Session, actor: Principal, claims: list[Claim]) -> list[ClaimRow]:
    """The claims as the desk shows them (the caller audits the read)."""
    patients = display_names.patients(session, (c.patient_id for c in claims))
    payers = display_names.payers(session, (c.payer_id for c in claims))
    rows = []
    for claim in claims:
        patient = patients.get(claim.patient_id)
        rows.append(
            ClaimRow(
                claim_id=claim.id,
                patient_control_number=claim.patient_control_number,
                status=claim.status,
                patient=f"{patient.name} (MRN {patient.mrn})" if patient else "",
                payer=payers.get(claim.payer_id, ""),
                encounter_id=claim.encounter_id,
                date_of_service=claim.date_of_service,
                total_charge=f"{claim.total_charge:.2f}",
                scrubbed_at=_local(session, actor.organization_id, claim.scrubbed_at),
                findings=[
                    FindingRow(
                        f.get("severity", ""),
                        f.get("message", ""),
                        field_in_words(f.get("field", "")),
                        f.get("code", ""),
                    )
                    for f in claim.findings
                ],
            )
        )
    return rows


def local_now(session: Session, organization_id: str) -> str:
    return _local(session, organization_id, datetime.now(UTC))
