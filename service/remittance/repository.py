"""Reads of remittance files for the routes: the file list, the claims a file answered, and an
835's unmatched queue (what matched nothing of ours)."""

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from service.filters import Filter, apply_filters
from service.paging import Page, Sort, fetch_page
from service.remittance.models import (
    Acknowledgement,
    ClaimPosting,
    LinePosting,
    PostedAdjustment,
    ProviderAdjustment,
    RemittanceFile,
    RemittancePayment,
)

FILE_FILTERS = (Filter("kind", RemittanceFile.kind),)


def list_files(
    session: Session,
    organization_id: str,
    *,
    kind: str | None,
    limit: int,
    cursor: str | None,
    sort: Sort,
) -> Page[RemittanceFile]:
    query = select(RemittanceFile).where(RemittanceFile.organization_id == organization_id)
    query = apply_filters(query, {"kind": kind}, FILE_FILTERS)
    return fetch_page(session, query, RemittanceFile.id, limit=limit, cursor=cursor, sort=sort)


def claim_ids_in_file(session: Session, file_id: str) -> set[str]:
    """Claims of ours the file answered: posted by an 835 or acknowledged by a 999/277CA."""
    posted = select(ClaimPosting.claim_id).where(ClaimPosting.file_id == file_id)
    acknowledged = select(Acknowledgement.claim_id).where(Acknowledgement.file_id == file_id)
    return {c for c in session.exec(posted).all() if c} | {
        c for c in session.exec(acknowledged).all() if c
    }


@dataclass(frozen=True)
class FilePostings:
    """An 835's postings, in id order: claims, their lines, and adjustments by line (the key
    None holds claim-level adjustments)."""

    postings: list[ClaimPosting]
    lines: list[LinePosting]
    adjustments: dict[str | None, list[PostedAdjustment]]


def file_postings(session: Session, file_id: str) -> FilePostings:
    postings = list(
        session.exec(
            select(ClaimPosting)
            .where(ClaimPosting.file_id == file_id)
            .order_by(col(ClaimPosting.id))
        )
    )
    ids = [p.id for p in postings]
    adjustments: dict[str | None, list[PostedAdjustment]] = defaultdict(list)
    if not ids:
        return FilePostings(postings, [], adjustments)
    lines = list(
        session.exec(
            select(LinePosting)
            .where(col(LinePosting.claim_posting_id).in_(ids))
            .order_by(col(LinePosting.id))
        )
    )
    for a in session.exec(
        select(PostedAdjustment)
        .where(col(PostedAdjustment.claim_posting_id).in_(ids))
        .order_by(col(PostedAdjustment.id))
    ):
        adjustments[a.line_posting_id].append(a)
    return FilePostings(postings, lines, adjustments)


def unmatched_provider_adjustments(session: Session, file_id: str) -> list[ProviderAdjustment]:
    """PLB adjustments whose reference names no claim of ours."""
    return list(
        session.exec(
            select(ProviderAdjustment)
            .join(
                RemittancePayment, col(RemittancePayment.id) == col(ProviderAdjustment.payment_id)
            )
            .where(
                RemittancePayment.file_id == file_id,
                col(ProviderAdjustment.claim_id).is_(None),
                ProviderAdjustment.reference != "",
            )
            .order_by(col(ProviderAdjustment.id))
        )
    )
