"""REST routes: remittance files (999, 277CA, 835 uploads), unmatched queue, claim adjudication
and acknowledgements, denials work queue, bookkeeping reports (JSON, CSV, XLSX)."""

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, select

from service import blobs, org_clock, uploads
from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.roles import Role
from service.claims import repository as claim_repository
from service.db import SessionDep
from service.directory.models import Payer
from service.errors import DomainError, InvalidInput
from service.paging import by_creation, fetch_page
from service.patients.models import Patient
from service.remittance import acks, denials, export, files, reports
from service.remittance.adjudication import AdjustmentValue, adjudication_of
from service.remittance.models import (
    Acknowledgement,
    ClaimPosting,
    LinePosting,
    PostedAdjustment,
    ProviderAdjustment,
    RemittanceFile,
    RemittanceFileChunk,
    RemittancePayment,
)
from service.remittance.models import DenialItem as DenialWorkItem
from service.remittance.schemas import (
    AcknowledgementRead,
    AdjudicationPartRead,
    AdjudicationRead,
    AdjustmentRead,
    DenialAppeal,
    DenialFilters,
    DenialGroupCode,
    DenialQueue,
    DenialWorkFilters,
    DenialWorkItemPage,
    DenialWorkItemRead,
    DenialWorkItemUpdate,
    DenialWriteOff,
    LinePostingRead,
    QueryDate,
    RemittanceFileFilters,
    RemittanceFilePage,
    RemittanceFileRead,
    UnmatchedClaimRead,
    UnmatchedLineRead,
    UnmatchedProviderAdjustmentRead,
    UnmatchedRead,
)
from service.remittance.x12 import codes

remittance_files = APIRouter(prefix="/api/v1/remittance-files", tags=["remittances"])
claim_remittances = APIRouter(prefix="/api/v1/claims", tags=["remittances"])
denial_queue = APIRouter(prefix="/api/v1/denials", tags=["remittances"])
remittance_reports = APIRouter(prefix="/api/v1/remittance-reports", tags=["remittances"])

# DESIGN.md: remittances: admin and biller rw; coder and auditor r; integration claims r.
Reader = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR)]
ClaimReader = Annotated[
    Principal, allow(Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR, Role.INTEGRATION)
]
Biller = Annotated[Principal, allow(Role.ADMIN, Role.BILLER)]

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


@remittance_files.get("", responses=problem_responses(401, 403, 422))
def list_files(
    session: SessionDep,
    user: Reader,
    paging: Paging,
    filters: Annotated[RemittanceFileFilters, Query()],
) -> RemittanceFilePage:
    query = select(RemittanceFile).where(RemittanceFile.organization_id == user.organization_id)
    if filters.kind:
        query = query.where(RemittanceFile.kind == filters.kind)
    page = fetch_page(
        session,
        query,
        RemittanceFile.id,
        limit=paging.limit,
        cursor=paging.cursor,
        sort=by_creation(paging.sort, "-created_at"),
    )
    return RemittanceFilePage(items=[_read(f) for f in page.items], next_cursor=page.next_cursor)


@remittance_files.get("/{file_id}", responses=problem_responses(401, 403, 404))
def read_file(file_id: str, session: SessionDep, user: Reader) -> RemittanceFileRead:
    found = files.get_file(session, user, file_id)
    audit.record(
        session, user, action="read", resource_type="remittance_file", resource_id=found.id
    )
    return _read(found)


@remittance_files.get(
    "/{file_id}/file",
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
    posted = select(ClaimPosting.claim_id).where(ClaimPosting.file_id == file_id)
    acknowledged = select(Acknowledgement.claim_id).where(Acknowledgement.file_id == file_id)
    claim_ids = {c for c in session.exec(posted).all() if c} | {
        c for c in session.exec(acknowledged).all() if c
    }
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


@remittance_files.get("/{file_id}/unmatched", responses=problem_responses(401, 403, 404))
def unmatched(file_id: str, session: SessionDep, user: Reader) -> UnmatchedRead:
    """The work queue of an 835: claims (CLP01) and lines (SVC) that matched nothing of ours,
    and PLB adjustments whose reference names no claim of ours. They are posted and kept,
    never dropped."""
    found = files.get_file(session, user, file_id)
    postings = list(
        session.exec(
            select(ClaimPosting)
            .where(ClaimPosting.file_id == found.id)
            .order_by(col(ClaimPosting.id))
        )
    )
    by_id = {p.id: p for p in postings}
    lines = (
        list(
            session.exec(
                select(LinePosting)
                .where(col(LinePosting.claim_posting_id).in_(list(by_id)))
                .order_by(col(LinePosting.id))
            )
        )
        if by_id
        else []
    )
    adjustments: dict[str | None, list[PostedAdjustment]] = defaultdict(list)
    if by_id:
        for a in session.exec(
            select(PostedAdjustment)
            .where(col(PostedAdjustment.claim_posting_id).in_(list(by_id)))
            .order_by(col(PostedAdjustment.id))
        ):
            adjustments[a.line_posting_id].append(a)
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
        for p in session.exec(
            select(ProviderAdjustment)
            .join(
                RemittancePayment, col(RemittancePayment.id) == col(ProviderAdjustment.payment_id)
            )
            .where(
                RemittancePayment.file_id == found.id,
                col(ProviderAdjustment.claim_id).is_(None),
                ProviderAdjustment.reference != "",
            )
            .order_by(col(ProviderAdjustment.id))
        )
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


@claim_remittances.get("/{claim_id}/adjudication", responses=problem_responses(401, 403, 404))
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


@claim_remittances.get("/{claim_id}/acknowledgements", responses=problem_responses(401, 403, 404))
def claim_acknowledgements(
    claim_id: str, session: SessionDep, user: ClaimReader
) -> list[AcknowledgementRead]:
    """999 and 277CA answers for the claim, oldest first, with their codes in plain words."""
    claim = _claim(session, user, claim_id)
    return [
        AcknowledgementRead.model_validate(a)
        for a in acks.acknowledgements_of(session, user.organization_id, claim.id)
    ]


@denial_queue.get("", responses=problem_responses(401, 403, 422))
def list_denials(
    session: SessionDep, user: Reader, filters: Annotated[DenialFilters, Query()]
) -> DenialQueue:
    """Denied and partially paid lines grouped by CARC (and RARC), with a suggested action."""
    groups = denials.denials(
        session,
        user.organization_id,
        payer_id=filters.payer_id,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    audit.record_many(
        session,
        user,
        action="query",
        resource_type="claim",
        rows=claim_repository.patient_ids(
            session, {i["claim_id"] for g in groups for i in g["items"]}
        ),
        detail="denials queue",
    )
    return DenialQueue.model_validate({"items": groups})


def _work_items(
    session: Session, user: Principal, items: list[DenialWorkItem]
) -> list[DenialWorkItemRead]:
    """Items with the words a biller reads: names, CARC/RARC text, age, the claims routes."""
    today = _today(session, user)
    patients = {
        p.id: p
        for p in session.exec(
            select(Patient).where(col(Patient.id).in_(sorted({i.patient_id for i in items})))
        )
    }
    payers = {
        p.id: p.name
        for p in session.exec(
            select(Payer).where(col(Payer.id).in_(sorted({i.payer_id for i in items})))
        )
    }
    texts: dict[tuple[str, str], str | None] = {}

    def text(system: str, code: str) -> DenialGroupCode:
        if (system, code) not in texts:
            texts[system, code] = denials.code_text(session, system, code, today)
        return DenialGroupCode(code=code, text=texts[system, code])

    out = []
    for item in items:
        patient = patients.get(item.patient_id)
        name = " ".join(filter(None, (patient.given_name, patient.family_name))) if patient else ""
        claim = f"/api/v1/claims/{item.claim_id}"
        out.append(
            DenialWorkItemRead.model_validate(
                {
                    **item.model_dump(),
                    "patient_name": name,
                    "payer_name": payers.get(item.payer_id, ""),
                    "group_words": codes.words(codes.ADJUSTMENT_GROUPS, item.group_code),
                    "reason": text("carc", item.reason),
                    "remark_codes": [text("rarc", r) for r in item.remark_codes],
                    "age_days": (today - item.denied_date).days,
                    "suggested_action": denials.suggested_action(item.group_code, item.reason),
                    "links": {
                        "replacement": f"POST {claim}/replacement",
                        "void": f"POST {claim}/void",
                        "adjudication": f"GET {claim}/adjudication",
                        "write_off": f"POST /api/v1/denials/items/{item.id}/write-off",
                        "appeal": f"POST /api/v1/denials/items/{item.id}/appeal",
                    },
                }
            )
        )
    return out


def _audit_items(
    session: Session, user: Principal, items: list[DenialWorkItem], action: str, detail: str
) -> None:
    audit.record_many(
        session,
        user,
        action=action,
        resource_type="denial_item",
        rows=[(i.id, i.patient_id) for i in items],
        detail=detail,
    )


@denial_queue.get("/items", responses=problem_responses(401, 403, 422))
def list_denial_items(
    session: SessionDep,
    user: Reader,
    paging: Paging,
    filters: Annotated[DenialWorkFilters, Query()],
) -> DenialWorkItemPage:
    """The denial work queue, one item per denied line (or claim) and CARC, oldest first:
    CARC/RARC text, patient and payer, amount, age, owner, follow-up date, status."""
    items = denials.list_items(
        session,
        user.organization_id,
        statuses=filters.status,
        owner_id=filters.owner_id,
        payer_id=filters.payer_id,
        follow_up_by=filters.follow_up_by,
        limit=paging.limit + 1,
        after=paging.cursor,
    )
    more = len(items) > paging.limit
    items = items[: paging.limit]
    _audit_items(session, user, items, "query", "denial work queue")
    return DenialWorkItemPage(
        items=_work_items(session, user, items), next_cursor=items[-1].id if more else None
    )


@denial_queue.get("/items/{item_id}", responses=problem_responses(401, 403, 404))
def read_denial_item(item_id: str, session: SessionDep, user: Reader) -> DenialWorkItemRead:
    item = denials.get_item(session, user, item_id)
    _audit_items(session, user, [item], "read", "")
    return _work_items(session, user, [item])[0]


@denial_queue.patch("/items/{item_id}", responses=problem_responses(400, 401, 403, 404, 409, 422))
def update_denial_item(
    item_id: str, body: DenialWorkItemUpdate, session: SessionDep, user: Biller
) -> DenialWorkItemRead:
    """Owner, follow-up date, status (open, in_progress, resubmitted, appealed, closed) and a
    note; each change joins the item's history."""
    item = denials.update_item(
        session, user, item_id, body.model_dump(exclude_unset=True), at=datetime.now(UTC)
    )
    _audit_items(session, user, [item], "update", "denial item")
    return _work_items(session, user, [item])[0]


@denial_queue.post(
    "/items/{item_id}/appeal", responses=problem_responses(400, 401, 403, 404, 409, 422)
)
def appeal_denial_item(
    item_id: str, body: DenialAppeal, session: SessionDep, user: Biller
) -> DenialWorkItemRead:
    """Marks the item appealed (the appeal itself goes to the payer outside this service)."""
    item = denials.appeal(session, user, item_id, note=body.note, at=datetime.now(UTC))
    _audit_items(session, user, [item], "update", "denial appealed")
    return _work_items(session, user, [item])[0]


@denial_queue.post(
    "/items/{item_id}/write-off", responses=problem_responses(400, 401, 403, 404, 409, 422)
)
def write_off_denial_item(
    item_id: str, body: DenialWriteOff, session: SessionDep, user: Biller
) -> DenialWorkItemRead:
    """Gives the denied amount up: a write_off entry on the patient ledger (insurance side of
    the encounter, no more than insurance still owes), and the item written_off."""
    item = denials.write_off(
        session, user, item_id, reason=body.reason, note=body.note, at=datetime.now(UTC)
    )
    _audit_items(session, user, [item], "update", "denial written off")
    return _work_items(session, user, [item])[0]


Format = Literal["json", "csv", "xlsx"]
XLSX = export.XLSX


def _respond(
    session: Session, user: Principal, table: reports.Table, name: str, fmt: Format
) -> Any:
    audit.record(
        session,
        user,
        action="export" if fmt != "json" else "query",
        resource_type="remittance_report",
        detail=f"{name} {fmt} {table.params}",
    )
    if fmt == "json":
        return export.to_json(table)
    body, media, filename = export.download(table, name, fmt, _today(session, user))
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(401, 403, 422),
    200: {
        "description": "the report (JSON, or CSV/XLSX with ?format=)",
        "content": {"application/json": {}, "text/csv": {}, XLSX: {}},
    },
}


def _today(session: Session, user: Principal) -> date:
    return org_clock.local_date(session, user.organization_id, datetime.now(UTC))


@remittance_reports.get("/balances", responses=_REPORT_RESPONSES)
def balances_report(
    session: SessionDep,
    user: Reader,
    by: Annotated[Literal["payer", "patient"], Query()] = "payer",
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """Charges, payments, adjustments, patient responsibility and what payers still owe."""
    return _respond(
        session, user, reports.balances(session, user.organization_id, by=by), "balances", format
    )


@remittance_reports.get("/aging", responses=_REPORT_RESPONSES)
def aging_report(
    session: SessionDep,
    user: Reader,
    by: Annotated[Literal["payer", "patient"], Query()] = "payer",
    as_of: Annotated[
        QueryDate | None, Query(description="default: today in the organization's zone")
    ] = None,
    basis: Annotated[Literal["service", "submission"], Query()] = "service",
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """A/R in buckets 0-30, 31-60, 61-90, 91-120, 120+ days from the date of service (or of
    first submission); by payer what payers owe, by patient what patients owe."""
    day = as_of or _today(session, user)
    table = reports.aging(
        session,
        user.organization_id,
        by=by,
        as_of=day,
        basis=basis,
        local_date=lambda at: org_clock.local_date(session, user.organization_id, at),
    )
    return _respond(session, user, table, "aging", format)


@remittance_reports.get("/deposits", responses=_REPORT_RESPONSES)
def deposits_report(
    session: SessionDep,
    user: Reader,
    date_from: QueryDate | None = None,
    date_to: QueryDate | None = None,
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """One row per 835 payment (TRN02 trace number, BPR amount and date): bank reconciliation."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("date_from is after date_to.")
    table = reports.deposits(session, user.organization_id, date_from=date_from, date_to=date_to)
    return _respond(session, user, table, "deposits", format)


@remittance_reports.get("/batches", responses=_REPORT_RESPONSES)
def batches_report(
    session: SessionDep, user: Reader, format: Annotated[Format, Query()] = "json"
) -> Any:
    """Per claim batch: billed, paid, adjusted, patient responsibility, outstanding."""
    return _respond(
        session, user, reports.batch_totals(session, user.organization_id), "batches", format
    )


ROUTERS = [remittance_files, claim_remittances, denial_queue, remittance_reports]
