"""REST routes: remittance files (999, 277CA, 835 uploads) and an 835's unmatched queue, a
claim's adjudication and acknowledgements. Denials: denial_routes; reports: report_routes."""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from service import blobs, org_clock, uploads
from service.api import tags
from service.api.deps import Paging
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import repository as claim_repository
from service.db import SessionDep
from service.errors import DomainError
from service.paging import by_creation
from service.remittance import (
    acks,
    denial_routes,
    files,
    report_routes,
    repository,
)
from service.remittance.adjudication import AdjustmentValue, adjudication_of
from service.remittance.models import (
    LinePosting,
    PostedAdjustment,
    RemittanceFile,
    RemittanceFileChunk,
)
from service.remittance.route_roles import Biller, ClaimReader, Reader
from service.remittance.schemas import (
    AcknowledgementRead,
    AdjudicationPartRead,
    AdjudicationRead,
    AdjustmentRead,
    LinePostingRead,
    RemittanceFileFilters,
    RemittanceFilePage,
    RemittanceFileRead,
    UnmatchedClaimRead,
    UnmatchedLineRead,
    UnmatchedProviderAdjustmentRead,
    UnmatchedRead,
)
from service.remittance.x12 import codes

remittance_files = APIRouter(prefix="/api/v1/remittance-files", tags=[tags.REMITTANCE])
claim_remittances = APIRouter(prefix="/api/v1/claims", tags=[tags.REMITTANCE])

X12_TYPES = ("text/plain", "application/edi-x12", "application/x12")


class UnsupportedUpload(DomainError):
    code = "unsupported-media-type"
    status = 415


def _read(file: RemittanceFile, *, duplicate: bool = False) -> RemittanceFileRead:
    return RemittanceFileRead.model_validate(
        {**file.model_dump(), "result": file.result, "duplicate": duplicate}
    )


@remittance_files.post(
    "",
    summary="Upload an 835, 999 or 277CA file",
    status_code=201,
    responses={
        **problem_responses(401, 403, 404, 409, 413, 415, 422),
        200: {"model": RemittanceFileRead, "description": "the same file was uploaded before"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                **dict.fromkeys(X12_TYPES[:2], uploads.RAW_FILE),
                **uploads.FORM_BODY,
            },
        }
    },
)
async def upload_file(
    request: Request,
    session: SessionDep,
    user: Biller,
    response: Response,
    filename: Annotated[str | None, Query(max_length=200)] = None,
    dry_run: Annotated[bool, Query()] = False,
) -> RemittanceFileRead:
    """Upload a 999, 277CA or 835 as the raw body (`Content-Type: text/plain` or
    `application/edi-x12`), or as the `file` field of a form (`curl -F file=@remit.835`).
    The kind comes from the envelope. A malformed or unbalanced file is
    refused whole (422, with the segment and element of each problem). The same bytes again
    answer 200 with the first upload's result and change nothing. An 835's non-financial
    defects (a missing PER*BL, a bad date) do not refuse it: `result.warnings` lists them.
    `?dry_run=true` answers 200 with what would post and stores nothing, not even the file."""
    content_type = request.headers.get("content-type", "")
    if uploads.media_type(content_type) not in (*X12_TYPES, uploads.MULTIPART):
        raise UnsupportedUpload(
            "Send the X12 file as text/plain or application/edi-x12, or as the form field "
            '"file" (multipart/form-data).'
        )
    received = await uploads.receive(
        request.stream(),
        content_type=content_type,
        limit=uploads.limits(request.app).x12,
        what="X12 file",
    )
    try:
        # In a worker thread: on PostgreSQL the insert can wait for a concurrent upload of the
        # same bytes to commit, and that commit needs the event loop this request would block.
        upload = await run_in_threadpool(
            files.upload,
            session,
            user,
            received,
            filename=filename or received.filename,
            at=datetime.now(UTC),
            dry_run=dry_run,
            holding=request.app.state.remittance_holding,
        )
    finally:
        received.close()
    if upload.dry_run:
        response.status_code = 200
        return RemittanceFileRead.model_validate(
            {**upload.file.model_dump(), "result": upload.file.result, "dry_run": True}
        )
    response.headers["Location"] = f"{remittance_files.prefix}/{upload.file.id}"
    if not upload.created:
        response.status_code = 200
    return _read(upload.file, duplicate=not upload.created)


@remittance_files.get(
    "", summary="List uploaded 835, 999 and 277CA files", responses=problem_responses(401, 403, 422)
)
def list_files(
    session: SessionDep,
    user: Reader,
    paging: Paging,
    filters: Annotated[RemittanceFileFilters, Query()],
) -> RemittanceFilePage:
    page = repository.list_files(
        session,
        user.organization_id,
        kind=filters.kind,
        limit=paging.limit,
        cursor=paging.cursor,
        sort=by_creation(paging.sort, "-created_at"),
    )
    return RemittanceFilePage(items=[_read(f) for f in page.items], next_cursor=page.next_cursor)


@remittance_files.get(
    "/{file_id}",
    summary="Read an uploaded file and what it posted",
    responses=problem_responses(401, 403, 404),
)
def read_file(file_id: str, session: SessionDep, user: Reader) -> RemittanceFileRead:
    found = files.get_file(session, user, file_id)
    audit.record(
        session, user, action="read", resource_type="remittance_file", resource_id=found.id
    )
    return _read(found)


@remittance_files.get(
    "/{file_id}/file",
    summary="Download an uploaded file as received",
    responses={
        **problem_responses(401, 403, 404),
        200: {"content": {"text/plain": {}}, "description": "the file as uploaded"},
    },
    response_class=StreamingResponse,
)
def download_file(
    file_id: str, request: Request, session: SessionDep, user: Biller
) -> StreamingResponse:
    """The uploaded bytes, unchanged (ETag = SHA-256). Audited."""
    found = files.get_file(session, user, file_id)
    audit.record(
        session, user, action="export", resource_type="remittance_file", resource_id=found.id
    )
    # 835s and 277CAs name patients: one export row per claim of ours the file answered, under
    # its patient, so that the patient's accounting of disclosures lists the download.
    audit.record_many(
        session,
        user,
        action="disclose",  # the file's own row is the "export"
        resource_type="claim",
        rows=_claims_in_file(session, found.id),
        detail=f"in remittance file {found.id}",
    )
    return StreamingResponse(
        blobs.stream(request.app.state.session_factory, RemittanceFileChunk, "file_id", found.id),
        media_type="text/plain",
        headers=blobs.download_headers(
            _file_name(session, user, found), found.sha256, found.size_bytes
        ),
    )


def _file_name(session: Session, user: Principal, found: RemittanceFile) -> str:
    """`835-2026-12-06-PAYERID-000000123.x12`: kind, the local day it was received, and the
    sender's ISA06 and ISA13, which is how the payer and the clearinghouse name it too."""
    day = org_clock.local_date(session, user.organization_id, found.created_at)
    sender = "".join(c for c in found.sender_id if c.isalnum()) or "SENDER"
    number = "".join(c for c in found.interchange_control_number if c.isalnum())
    return f"{found.kind}-{day.isoformat()}-{sender}-{number}.x12"


def _claims_in_file(session: Session, file_id: str) -> list[tuple[str, str]]:
    claim_ids = repository.claim_ids_in_file(session, file_id)
    return sorted(claim_repository.patient_ids(session, claim_ids))


def _adjustment(a: AdjustmentValue | PostedAdjustment) -> AdjustmentRead:
    group = a.group if isinstance(a, AdjustmentValue) else a.group_code
    return AdjustmentRead(
        group=group,
        group_words=codes.words(codes.ADJUSTMENT_GROUPS, group),
        reason=a.reason,
        amount=Decimal(a.amount),
        quantity=a.quantity,
    )


def _line(line: LinePosting, adjustments: list[PostedAdjustment]) -> LinePostingRead:
    return LinePostingRead.model_validate(
        {**line.model_dump(), "adjustments": [_adjustment(a) for a in adjustments]}
    )


@remittance_files.get(
    "/{file_id}/unmatched",
    summary="List an 835's claims and lines that matched nothing",
    responses=problem_responses(401, 403, 404),
)
def unmatched(file_id: str, session: SessionDep, user: Reader) -> UnmatchedRead:
    """The work queue of an 835: claims (CLP01) and lines (SVC) that matched nothing of ours,
    and PLB adjustments whose reference names no claim of ours. They are posted and kept,
    never dropped."""
    found = files.get_file(session, user, file_id)
    read = repository.file_postings(session, found.id)
    postings, lines, adjustments = read.postings, read.lines, read.adjustments
    by_id = {p.id: p for p in postings}
    lines_of: dict[str, list[LinePosting]] = defaultdict(list)
    for line in lines:
        lines_of[line.claim_posting_id].append(line)
    claims_out = [
        UnmatchedClaimRead(
            posting_id=p.id,
            patient_control_number=p.patient_control_number,
            payer_claim_number=p.payer_claim_number,
            status_code=p.status_code,
            charge=p.charge,
            paid=p.paid,
            patient_responsibility=p.patient_responsibility,
            payment_date=p.payment_date,
            lines=[_line(ln, adjustments[ln.id]) for ln in lines_of[p.id]],
        )
        for p in postings
        if not p.matched
    ]
    lines_out = [
        UnmatchedLineRead.model_validate(
            {
                **_line(ln, adjustments[ln.id]).model_dump(),
                "claim_id": by_id[ln.claim_posting_id].claim_id,
                "patient_control_number": by_id[ln.claim_posting_id].patient_control_number,
                "payer_claim_number": by_id[ln.claim_posting_id].payer_claim_number,
            }
        )
        for ln in lines
        if ln.claim_line_id is None and by_id[ln.claim_posting_id].matched
    ]
    audit.record(
        session,
        user,
        action="read",
        resource_type="remittance_file",
        resource_id=found.id,
        detail="unmatched queue",
    )
    plb = [
        UnmatchedProviderAdjustmentRead(
            payment_id=p.payment_id, reason=p.reason, reference=p.reference, amount=p.amount
        )
        for p in repository.unmatched_provider_adjustments(session, found.id)
    ]
    return UnmatchedRead(
        file_id=found.id, claims=claims_out, lines=lines_out, provider_adjustments=plb
    )


def _claim(session: Session, user: Principal, claim_id: str) -> claim_repository.Claim:
    """The claim, its read audited (404 for another organization's)."""
    claim = claim_repository.require_claim(session, user.organization_id, claim_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
    )
    return claim


@claim_remittances.get(
    "/{claim_id}/adjudication",
    summary="Read what the payers paid and adjusted on a claim",
    responses=problem_responses(401, 403, 404),
)
def claim_adjudication(claim_id: str, session: SessionDep, user: ClaimReader) -> AdjudicationRead:
    """The payer's decision on the claim: its active 835 postings combined (a split claim's
    CLPs together, each also under `postings`); 404 before any 835."""
    claim = _claim(session, user, claim_id)
    found = adjudication_of(session, user.organization_id, claim.id)
    if found is None:
        raise claim_repository.ClaimNotFound(f"Claim {claim.id} has no 835 posting yet.")
    return AdjudicationRead(
        claim_id=found.claim_id,
        status_code=found.status_code,
        status_words=found.status_words,
        claim_status=found.claim_status,
        charge=found.charge,
        paid=found.paid,
        patient_responsibility=found.patient_responsibility,
        payer_claim_number=found.payer_claim_number,
        payment_date=found.payment_date,
        trace_number=found.trace_number,
        payer_name=found.payer_name,
        payer_identifier=found.payer_identifier,
        adjustments=[_adjustment(a) for a in found.adjustments],
        lines=[
            LinePostingRead(
                claim_line_id=ln.claim_line_id,
                match_method=ln.match_method,
                line_control_number=ln.line_control_number,
                procedure_code=ln.procedure_code,
                modifiers=list(ln.modifiers),
                service_date=ln.service_date,
                charge=ln.charge,
                paid=ln.paid,
                units=ln.units,
                remark_codes=list(ln.remark_codes),
                adjustments=[_adjustment(a) for a in ln.adjustments],
            )
            for ln in found.lines
        ],
        remark_codes=list(found.remark_codes),
        postings=[
            AdjudicationPartRead(
                posting_id=p.posting_id,
                status_code=p.status_code,
                status_words=p.status_words,
                charge=p.charge,
                paid=p.paid,
                patient_responsibility=p.patient_responsibility,
                payer_claim_number=p.payer_claim_number,
                payment_date=p.payment_date,
                trace_number=p.trace_number,
                remark_codes=list(p.remark_codes),
            )
            for p in found.postings
        ],
    )


@claim_remittances.get(
    "/{claim_id}/acknowledgements",
    summary="List a claim's 999 and 277CA acknowledgements",
    responses=problem_responses(401, 403, 404),
)
def claim_acknowledgements(
    claim_id: str, session: SessionDep, user: ClaimReader
) -> list[AcknowledgementRead]:
    """999 and 277CA answers for the claim, oldest first, with their codes in plain words."""
    claim = _claim(session, user, claim_id)
    return [
        AcknowledgementRead.model_validate(a)
        for a in acks.acknowledgements_of(session, user.organization_id, claim.id)
    ]


ROUTERS = [
    remittance_files,
    claim_remittances,
    denial_routes.denial_queue,
    report_routes.remittance_reports,
]
