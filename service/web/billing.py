"""What the billing desk's pages show, read through the claims capability's own queries."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

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


def _local(zone: tzinfo, at: datetime | None) -> str:
    if at is None:
        return "not scrubbed yet"
    # As org_clock.local_time, with the zone looked up once per page rather than per row.
    local = at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M %Z")


# What a claim's row shows: read as these columns, not whole Claim objects (a page of 50 claims
# each with its lines' JSON and X12 fields loaded for nothing).
SHOWN = (
    Claim.id,
    Claim.patient_control_number,
    Claim.status,
    Claim.patient_id,
    Claim.payer_id,
    Claim.encounter_id,
    Claim.date_of_service,
    Claim.total_charge,
    Claim.scrubbed_at,
    Claim.findings,
)


def claims_needing_attention(
    session: Session, actor: Principal, cursors: Sequence[tuple[ClaimStatus, str | None]]
) -> list[Page[ClaimRow]]:
    """One page per (status, cursor) of the claims in that status, oldest first (a work
    queue), each with its findings in words. Showing patients is a read of their data: one
    audit event per claim shown, as GET /api/v1/claims audits (written in one INSERT)."""
    pages: list[Page[Any]] = []
    for status, cursor in cursors:
        # The claims API's own filter (organization, status), over the shown columns only.
        where = claim_logic.claims_query(actor, ClaimFilters(status=status)).whereclause
        query: Any = sa.select(*(col(c) for c in SHOWN)).where(where)
        pages.append(fetch_page(session, query, Claim.id, limit=PAGE_SIZE, cursor=cursor))
    shown = [c for page in pages for c in page.items]
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="claim",
        rows=[(c.id, c.patient_id) for c in shown],
        detail="web page: claims needing attention",
    )
    rows = iter(claim_rows(session, actor, shown))
    return [
        Page(items=[next(rows) for _ in page.items], next_cursor=page.next_cursor) for page in pages
    ]


def claim_rows(session: Session, actor: Principal, claims: Sequence[Any]) -> list[ClaimRow]:
    """The claims (Claim objects, or rows of SHOWN) as the desk shows them (the caller audits
    the read); names read once for the whole page, times on the clinic's clock."""
    patients = display_names.patients(session, (c.patient_id for c in claims))
    payers = display_names.payers(session, (c.payer_id for c in claims))
    zone = org_clock.zone(session, actor.organization_id)
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
                scrubbed_at=_local(zone, claim.scrubbed_at),
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
    return _local(org_clock.zone(session, organization_id), datetime.now(UTC))
