"""REST routes: claims (/api/v1/claims) and claim batches (/api/v1/claim-batches)."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from service import blobs, display_names, org_clock
from service.api import tags
from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.roles import Role
from service.claims import batch_skips, batches, corrections, logic, repository, verbs
from service.claims.models import Claim, ClaimBatchChunk
from service.claims.schemas import (
    BatchCreate,
    BatchCreated,
    BatchFilters,
    BatchPage,
    BatchRead,
    ClaimCreate,
    ClaimFilters,
    ClaimLineRead,
    ClaimPage,
    ClaimPatch,
    ClaimRead,
    ClaimSummary,
    SkippedClaimRead,
)
from service.db import SessionDep
from service.errors import FieldError
from service.paging import CREATED, SortKey, by_creation, fetch_page, parse_sort

claims = APIRouter(prefix="/api/v1/claims", tags=[tags.CLAIMS])
claim_batches = APIRouter(prefix="/api/v1/claim-batches", tags=[tags.CLAIMS])

# DESIGN.md: claims and batches: admin and biller rw; coder and auditor r; integration claims r.
ClaimReader = Annotated[
    Principal, allow(Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR, Role.INTEGRATION)
]
BatchReader = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR)]
Biller = Annotated[Principal, allow(Role.ADMIN, Role.BILLER)]


def claim_read(session: Session, claim: Claim) -> ClaimRead:
    lines = [
        ClaimLineRead.model_validate(
            {
                **line.model_dump(),
                "origin": {"service_line_id": line.service_line_id, **(line.origin or {})},
            }
        )
        for line in logic.lines_of(session, claim.id)
    ]
    correction = corrections.correction_of(session, claim.id)
    return ClaimRead.model_validate(
        {
            **claim.model_dump(),
            "lines": lines,
            "findings": claim.findings,
            "replaced_by_claim_id": correction.id if correction else None,
        }
    )


def _local_today(session: Session, user: Principal) -> date:
    return org_clock.local_date(session, user.organization_id, datetime.now(UTC))


@claims.post(
    "",
    summary="Build a claim for an encounter's coverage",
    status_code=201,
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
def create_claim(
    data: ClaimCreate, session: SessionDep, user: Biller, response: Response
) -> ClaimRead:
    """Builds the claim from the encounter (primary coverage unless told) and scrubs it."""
    claim = logic.build_claim(
        session,
        user,
        data.encounter_id,
        coverage_id=data.coverage_id,
        today=_local_today(session, user),
    )
    response.headers["Location"] = f"{claims.prefix}/{claim.id}"
    return claim_read(session, claim)


@claims.get("", summary="List claims", responses=problem_responses(401, 403, 422))
def list_claims(
    session: SessionDep,
    user: ClaimReader,
    paging: Paging,
    filters: Annotated[ClaimFilters, Query()],
) -> ClaimPage:
    """Newest first by default; `sort` by created_at, date_of_service, patient_control_number
    or total_charge (`-` for descending). Rows carry the patient's name and MRN, the payer's
    and the provider's names."""
    page = fetch_page(
        session,
        logic.claims_query(user, filters),
        Claim.id,
        limit=paging.limit,
        cursor=paging.cursor,
        sort=parse_sort(paging.sort, CLAIM_SORTS, "-created_at"),
    )
    audit.record_many(
        session,
        user,
        action="query",
        resource_type="claim",
        rows=[(c.id, c.patient_id) for c in page.items],
    )
    return ClaimPage(items=_summaries(session, page.items), next_cursor=page.next_cursor)


CLAIM_SORTS = {
    "created_at": CREATED,
    "date_of_service": SortKey(Claim.date_of_service, date.fromisoformat, date.isoformat),
    "patient_control_number": SortKey(Claim.patient_control_number),
    "total_charge": SortKey(Claim.total_charge, Decimal),
}


def _summaries(session: Session, claims: Sequence[Claim]) -> list[ClaimSummary]:
    patients = display_names.patients(session, (c.patient_id for c in claims))
    payers = display_names.payers(session, (c.payer_id for c in claims))
    providers = display_names.encounter_providers(session, (c.encounter_id for c in claims))
    rows = []
    for claim in claims:
        row = ClaimSummary.model_validate(claim)
        patient = patients.get(claim.patient_id)
        row.patient_name, row.patient_mrn = (patient.name, patient.mrn) if patient else (None, None)
        row.payer_name = payers.get(claim.payer_id)
        row.provider_name = providers.get(claim.encounter_id)
        rows.append(row)
    return rows


@claims.get(
    "/by-pcn/{pcn}",
    summary="Read a claim by its patient control number",
    responses=problem_responses(401, 403, 404, 422),
)
def read_claim_by_pcn(
    pcn: Annotated[str, Path(min_length=1, max_length=20)], session: SessionDep, user: ClaimReader
) -> ClaimRead:
    """The claim with patient control number `pcn` (CLM01, as the 835 and payers echo it)."""
    return claim_read(session, logic.get_claim_by_pcn(session, user, pcn))


@claims.get(
    "/{claim_id}",
    summary="Read a claim with its lines and findings",
    responses=problem_responses(401, 403, 404),
)
def read_claim(claim_id: str, session: SessionDep, user: ClaimReader) -> ClaimRead:
    return claim_read(session, logic.get_claim(session, user, claim_id))


@claims.post(
    "/{claim_id}/scrub", summary="Scrub a claim again", responses=problem_responses(401, 403, 404)
)
def scrub_claim(claim_id: str, session: SessionDep, user: Biller) -> ClaimRead:
    """Runs the scrubber again: errors block batching, warnings do not."""
    claim = logic.get_claim(session, user, claim_id, audit_read=False)
    logic.scrub_claim(session, user, claim, today=_local_today(session, user))
    return claim_read(session, claim)


@claims.post(
    "/{claim_id}/correction",
    summary="Correct a rejected claim (back to ready)",
    responses=problem_responses(401, 403, 404, 409),
)
def correct_claim(claim_id: str, session: SessionDep, user: Biller) -> ClaimRead:
    """A rejected claim, once its data is fixed, is scrubbed back to ready for a new batch."""
    claim = logic.correct_claim(session, user, claim_id, today=_local_today(session, user))
    return claim_read(session, claim)


@claims.patch(
    "/{claim_id}",
    summary="Set a claim's payer claim number",
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
def update_claim(claim_id: str, data: ClaimPatch, session: SessionDep, user: Biller) -> ClaimRead:
    """Enter the payer's claim number of a sent original claim (when no 835 brought it)."""
    claim = corrections.enter_payer_claim_number(session, user, claim_id, data.payer_claim_number)
    return claim_read(session, claim)


@claims.post(
    "/{claim_id}/replacement",
    summary="Build a replacement claim (frequency 7)",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409),
)
def replace_claim(
    claim_id: str, session: SessionDep, user: Biller, response: Response
) -> ClaimRead:
    """A replacement claim (frequency 7, REF*F8 = the payer's claim number) from the
    encounter's current coding; the original turns `replaced` when it is submitted."""
    claim = corrections.create_correction(
        session, user, claim_id, "7", today=_local_today(session, user)
    )
    response.headers["Location"] = f"{claims.prefix}/{claim.id}"
    return claim_read(session, claim)


@claims.post(
    "/{claim_id}/void",
    summary="Build a void claim (frequency 8)",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409),
)
def void_claim(claim_id: str, session: SessionDep, user: Biller, response: Response) -> ClaimRead:
    """A void claim (frequency 8, REF*F8) carrying the original's lines; the original turns
    `voided` when it is submitted."""
    claim = corrections.create_correction(
        session, user, claim_id, "8", today=_local_today(session, user)
    )
    response.headers["Location"] = f"{claims.prefix}/{claim.id}"
    return claim_read(session, claim)


@claims.post(
    "/{claim_id}/cancellation",
    summary="Cancel a replacement or void not yet sent",
    responses=problem_responses(401, 403, 404, 409),
)
def cancel_correction(claim_id: str, session: SessionDep, user: Biller) -> ClaimRead:
    """A replacement or void still in draft or ready is cancelled for good; another one of the
    same original can then be made. 409 for an original claim or one already batched (cancel
    its batch first)."""
    claim = corrections.cancel_correction(session, user, claim_id)
    return claim_read(session, claim)


@claims.post(
    "/{claim_id}/release",
    summary="Release a forwarded secondary claim",
    responses=problem_responses(401, 403, 404, 409),
)
def release_claim(claim_id: str, session: SessionDep, user: Biller) -> ClaimRead:
    """A secondary claim held in `forwarded` (the primary payer crossed it over) that the
    secondary payer did not receive: sent on (scrubbed back to ready); 409 when not
    forwarded."""
    claim = logic.release_claim(session, user, claim_id, today=_local_today(session, user))
    return claim_read(session, claim)


@claims.post(
    "/{claim_id}/rebuild",
    summary="Rebuild a claim from its re-coded encounter",
    responses=problem_responses(401, 403, 404, 409),
)
def rebuild_claim(claim_id: str, session: SessionDep, user: Biller) -> ClaimRead:
    """A claim built before its encounter was re-coded takes the current coding (draft, ready
    or rejected claims only) and is scrubbed again."""
    claim = logic.rebuild_claim(session, user, claim_id, today=_local_today(session, user))
    return claim_read(session, claim)


@claim_batches.post(
    "",
    summary="Build a claim batch (837P or 837D file)",
    status_code=201,
    responses=problem_responses(400, 401, 403, 409, 415, 422),
)
def create_batch(
    data: BatchCreate, request: Request, session: SessionDep, user: Biller, response: Response
) -> BatchCreated:
    """Scrubs and batches every ready claim of the type (or those listed) into one file. With
    `claim_ids`, `skipped` names each listed claim left out and why; when none is left, the 409
    lists them."""
    try:
        batch = batches.build_claim_batch(
            session,
            user,
            batches.BatchRequest(data.trading_partner_id, data.claim_type, data.claim_ids),
            numbers_factory=request.app.state.session_factory,
            at=datetime.now(UTC),
            today=_local_today(session, user),
        )
    except batches.NoClaimsReady as refused:
        if not data.claim_ids:
            raise
        skipped = batch_skips.skipped_claims(session, user, data.claim_type, data.claim_ids, None)
        index = {claim_id: i for i, claim_id in reversed(list(enumerate(data.claim_ids)))}
        raise batches.NoClaimsReady(
            refused.detail,
            errors=[FieldError(f"/claim_ids/{index[s.claim_id]}", s.reason) for s in skipped],
        ) from None
    response.headers["Location"] = f"{claim_batches.prefix}/{batch.id}"
    answer = BatchCreated.model_validate(batch)
    if data.claim_ids:
        skipped = batch_skips.skipped_claims(
            session, user, data.claim_type, data.claim_ids, batch.id
        )
        answer.skipped = [SkippedClaimRead(claim_id=s.claim_id, reason=s.reason) for s in skipped]
    return answer


@claim_batches.get("", summary="List claim batches", responses=problem_responses(401, 403, 422))
def list_batches(
    session: SessionDep,
    user: BatchReader,
    paging: Paging,
    filters: Annotated[BatchFilters, Query()],
) -> BatchPage:
    page = repository.list_batches(
        session,
        user.organization_id,
        status=filters.status,
        claim_type=filters.claim_type,
        limit=paging.limit,
        cursor=paging.cursor,
        sort=by_creation(paging.sort, "-created_at"),
    )
    return BatchPage(
        items=[BatchRead.model_validate(b) for b in page.items], next_cursor=page.next_cursor
    )


@claim_batches.get(
    "/{batch_id}", summary="Read a claim batch", responses=problem_responses(401, 403, 404)
)
def read_batch(batch_id: str, session: SessionDep, user: BatchReader) -> BatchRead:
    return BatchRead.model_validate(verbs.get_batch(session, user, batch_id))


@claim_batches.get(
    "/{batch_id}/file",
    summary="Download a claim batch's X12 file",
    responses={
        **problem_responses(401, 403, 404),
        200: {"content": {"text/plain": {}}, "description": "the X12 file"},
    },
    response_class=StreamingResponse,
)
def download_batch(
    batch_id: str, request: Request, session: SessionDep, user: Biller
) -> StreamingResponse:
    """The X12 file, byte-identical on every download; ETag is its SHA-256. Audited."""
    batch = verbs.get_batch(session, user, batch_id)
    verbs.record_download(session, user, batch)
    headers = blobs.download_headers(batch.filename, batch.sha256, batch.size_bytes)
    return StreamingResponse(
        blobs.stream(request.app.state.session_factory, ClaimBatchChunk, "batch_id", batch.id),
        media_type="text/plain",
        headers=headers,
    )


@claim_batches.post(
    "/{batch_id}/submission",
    summary="Mark a claim batch as sent to the clearinghouse",
    responses=problem_responses(401, 403, 404, 409),
)
def mark_submitted(batch_id: str, session: SessionDep, user: Biller) -> BatchRead:
    """The clerk sent the file to the clearinghouse: the batch and its claims are submitted."""
    return BatchRead.model_validate(
        verbs.submit_batch(session, user, batch_id, at=datetime.now(UTC))
    )


@claim_batches.post(
    "/{batch_id}/cancellation",
    summary="Cancel a claim batch not yet submitted",
    responses=problem_responses(401, 403, 404, 409),
)
def cancel_batch(batch_id: str, session: SessionDep, user: Biller) -> BatchRead:
    """Before submission: its claims return to ready; its control numbers are never reused."""
    return BatchRead.model_validate(
        verbs.cancel_batch(session, user, batch_id, at=datetime.now(UTC))
    )


ROUTERS = [claims, claim_batches]
