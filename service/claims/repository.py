"""Reads of claims and claim batches, for the claims capability and the ones that ask about
claims (remittance, FHIR): plain rows or models, loaded a page of ids at a time."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.claims.models import Claim, ClaimBatchMember, ClaimLine
from service.claims.models import ClaimBatch as ClaimBatch  # a return type of these reads
from service.filters import Filter, apply_filters

__all__ = ["Claim", "ClaimBatch", "ClaimNotFound", "ClaimRef", "LineRef"]
from service.errors import NotFound
from service.paging import Page, Sort, fetch_page

PAGE = 500


class ClaimNotFound(NotFound):
    code = "claim-not-found"


@dataclass
class ClaimRef:
    id: str
    patient_id: str
    status: str


@dataclass(frozen=True)
class LineRef:
    id: str
    control: str  # REF*6R
    code: str
    service_date: date
    charge: Decimal


def _pages(values: Sequence[str]) -> Iterable[Sequence[str]]:
    return (values[i : i + PAGE] for i in range(0, len(values), PAGE))


def get_claim(session: Session, organization_id: str, claim_id: str) -> Claim | None:
    claim = session.get(Claim, claim_id)
    return claim if claim is not None and claim.organization_id == organization_id else None


def require_claim(session: Session, organization_id: str, claim_id: str) -> Claim:
    """A claim of the organization; another organization's id is 404 like a missing one."""
    claim = get_claim(session, organization_id, claim_id)
    if claim is None:
        raise ClaimNotFound(f"No claim {claim_id}.")
    return claim


def claims_by_id(session: Session, organization_id: str, ids: Iterable[str]) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for page in _pages(sorted(set(ids))):
        for claim in session.exec(
            select(Claim).where(Claim.organization_id == organization_id, col(Claim.id).in_(page))
        ):
            found[claim.id] = claim
    return found


def claims_by_control_number(
    session: Session, organization_id: str, pcns: Sequence[str]
) -> dict[str, ClaimRef]:
    """CLM01 -> the claim, as 835 CLP01 and 277CA TRN02 echo it."""
    found: dict[str, ClaimRef] = {}
    for page in _pages(sorted(set(pcns))):
        for claim_id, patient_id, pcn, status in session.execute(
            select(Claim.id, Claim.patient_id, Claim.patient_control_number, Claim.status).where(
                Claim.organization_id == organization_id,
                col(Claim.patient_control_number).in_(page),
            )
        ):
            found[pcn] = ClaimRef(claim_id, patient_id, status)
    return found


def lines_by_claim(session: Session, claim_ids: Sequence[str]) -> dict[str, list[LineRef]]:
    """Each claim's lines in position order."""
    found: dict[str, list[LineRef]] = {claim_id: [] for claim_id in claim_ids}
    for page in _pages(sorted(set(claim_ids))):
        for claim_id, line_id, control, code, service_date, charge in session.execute(
            sa.select(
                col(ClaimLine.claim_id),
                col(ClaimLine.id),
                col(ClaimLine.line_control_number),
                col(ClaimLine.code),
                col(ClaimLine.service_date),
                col(ClaimLine.charge),
            )
            .where(col(ClaimLine.claim_id).in_(page))
            .order_by(col(ClaimLine.claim_id), col(ClaimLine.position))
        ):
            found[claim_id].append(LineRef(line_id, control, code, service_date, Decimal(charge)))
    return found


def claims_and_lines_by_control_number(
    session: Session, organization_id: str, pcns: Sequence[str]
) -> tuple[dict[str, ClaimRef], dict[str, list[LineRef]]]:
    """claims_by_control_number and lines_by_claim of those claims, in one query a page (an
    835 page matches thousands of claims)."""
    claims: dict[str, ClaimRef] = {}
    lines: dict[str, list[LineRef]] = {}
    for page in _pages(sorted(set(pcns))):
        for row in session.execute(
            sa.select(
                col(Claim.id),
                col(Claim.patient_id),
                col(Claim.patient_control_number),
                col(Claim.status),
                col(ClaimLine.id),
                col(ClaimLine.line_control_number),
                col(ClaimLine.code),
                col(ClaimLine.service_date),
                col(ClaimLine.charge),
            )
            .outerjoin(ClaimLine, col(ClaimLine.claim_id) == col(Claim.id))
            .where(
                col(Claim.organization_id) == organization_id,
                col(Claim.patient_control_number).in_(page),
            )
            .order_by(col(Claim.id), col(ClaimLine.position))
        ):
            claim_id, patient_id, pcn, status, line_id, control, code, service_date, charge = row
            if pcn not in claims:
                claims[pcn] = ClaimRef(claim_id, patient_id, status)
                lines[claim_id] = []
            if line_id is not None:
                lines[claim_id].append(
                    LineRef(line_id, control, code, service_date, Decimal(charge))
                )
    return claims, lines


def patient_ids(session: Session, claim_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(claim id, patient id) pairs, for auditing reads of many claims."""
    rows: list[tuple[str, str]] = []
    for page in _pages(sorted(set(claim_ids))):
        rows += session.execute(select(Claim.id, Claim.patient_id).where(col(Claim.id).in_(page)))
    return rows


def claims_with_status(
    session: Session, organization_id: str, statuses: Iterable[str]
) -> list[Claim]:
    return list(
        session.exec(
            select(Claim)
            .where(Claim.organization_id == organization_id, col(Claim.status).in_(list(statuses)))
            .order_by(col(Claim.id))
        ).all()
    )


def batches_of(session: Session, organization_id: str) -> list[ClaimBatch]:
    return list(
        session.exec(
            select(ClaimBatch)
            .where(ClaimBatch.organization_id == organization_id)
            .order_by(col(ClaimBatch.id))
        ).all()
    )


BATCH_FILTERS = (Filter("status", ClaimBatch.status), Filter("claim_type", ClaimBatch.claim_type))


def list_batches(
    session: Session,
    organization_id: str,
    *,
    status: str | None,
    claim_type: str | None,
    limit: int,
    cursor: str | None,
    sort: Sort,
) -> Page[ClaimBatch]:
    query = select(ClaimBatch).where(ClaimBatch.organization_id == organization_id)
    query = apply_filters(query, {"status": status, "claim_type": claim_type}, BATCH_FILTERS)
    return fetch_page(session, query, ClaimBatch.id, limit=limit, cursor=cursor, sort=sort)


def batch_members(session: Session, organization_id: str) -> list[tuple[str, str]]:
    """(batch id, claim id) of every batch of the organization."""
    return list(
        session.execute(
            select(ClaimBatchMember.batch_id, ClaimBatchMember.claim_id)
            .join(ClaimBatch, col(ClaimBatch.id) == col(ClaimBatchMember.batch_id))
            .where(ClaimBatch.organization_id == organization_id)
        )
    )


def batches_by_group_control_number(
    session: Session, organization_id: str, group_control_number: int, claim_type: str | None
) -> list[ClaimBatch]:
    """GS06 (= ISA13 here) is unique per sender; a 999 names it in AK1."""
    query = select(ClaimBatch).where(
        ClaimBatch.organization_id == organization_id,
        ClaimBatch.interchange_control_number == group_control_number,
    )
    if claim_type:
        query = query.where(ClaimBatch.claim_type == claim_type)
    return list(session.exec(query).all())


def claims_in_sets(
    session: Session, batch_id: str, st_control_numbers: Iterable[int]
) -> list[tuple[str, str, str, int]]:
    """(claim id, patient id, CLM01, ST02) of the batch's claims in those transaction sets."""
    return list(
        session.execute(
            select(
                Claim.id,
                Claim.patient_id,
                Claim.patient_control_number,
                ClaimBatchMember.st_control_number,
            )
            .join(ClaimBatchMember, col(ClaimBatchMember.claim_id) == col(Claim.id))
            .where(
                ClaimBatchMember.batch_id == batch_id,
                col(ClaimBatchMember.st_control_number).in_(list(st_control_numbers)),
            )
        )
    )


def member_claim_ids(session: Session, batch_id: str) -> list[str]:
    return list(
        session.exec(
            select(ClaimBatchMember.claim_id).where(ClaimBatchMember.batch_id == batch_id)
        ).all()
    )


def lines_of(session: Session, claim_id: str) -> list[ClaimLine]:
    return list(
        session.exec(
            select(ClaimLine)
            .where(ClaimLine.claim_id == claim_id)
            .order_by(col(ClaimLine.position))
        ).all()
    )
