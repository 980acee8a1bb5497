"""Uploading an inbound X12 file: recognised by its SHA-256, parsed, checked, then applied.

The whole upload is one transaction: the file row, its bytes, the acknowledgements or the
postings and every status they move. A malformed or unbalanced file raises before anything
is written, and any later failure rolls everything back, so nothing is ever half posted.
The same bytes sent twice at once: the unique (organization, SHA-256) index lets one upload in,
and the other answers as a later duplicate would, with the first one's result.
An 835's non-financial defects (remit835's warnings) do not refuse it: they are listed in the
result. A dry run applies the file inside a savepoint that is rolled back: the result shows
what would post, and nothing is stored, not even the file.
"""

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service import blobs
from service.audit import logic as audit
from service.auth.logic import Principal
from service.errors import InvalidInput
from service.remittance import acks, posting
from service.remittance.errors import (
    RemittanceFileBeingUploaded,
    RemittanceFileMalformed,
    RemittanceFileNotFound,
    RemittanceUnbalanced,
)
from service.remittance.models import RemittanceFile, RemittanceFileChunk
from service.remittance.x12.ack277ca import Ack277CA, parse_277ca
from service.remittance.x12.ack999 import Ack999, parse_999
from service.remittance.x12.advice835 import ClaimPayment, Payment, Remittance835
from service.remittance.x12.balance import BalanceError, claim_errors, transaction_errors
from service.remittance.x12.detect import Kind, detect
from service.remittance.x12.remit835 import read_835
from service.uploads import UploadedFile
from service.x12.tokens import Problem, X12ParseError

SHOWN_ERRORS = 100  # balancing errors an answer lists (RemittanceUnbalanced shows 100)
# An 835 up to this size keeps its claims from the check for posting (a parsed claim takes
# about 17 times its bytes: 4 MiB, some 70 MB at most); a larger one is read a second time,
# as a stream, so that memory stays flat whatever the size (bench/bench_upload_memory.py).
KEEP_CLAIMS_BYTES = 4 * 2**20
# SQLite's page cache while such a file is posted (see _sqlite_page_cache): at most 64 MiB.
POSTING_CACHE_KIB = 64 * 1024


@dataclass(frozen=True)
class Holding:
    """What posting an 835 holds in memory, from the settings (remittance_keep_claims_bytes,
    remittance_claims_per_page): a deployment with little memory lowers them, at some speed."""

    keep_claims_bytes: int = KEEP_CLAIMS_BYTES
    claims_per_page: int = posting.CLAIM_PAGE


@dataclass(frozen=True)
class Upload:
    file: RemittanceFile
    created: bool  # False: the same bytes were uploaded before; that earlier result stands
    dry_run: bool = False  # True: `file` and its result were rolled back, nothing is stored
    peeked: Any = None  # what a dry run's `peek` read before the rollback


Parsed = Ack999 | Ack277CA | Remittance835


def parse(upload: UploadedFile, holding: Holding = Holding()) -> tuple[Kind, Parsed]:
    """The kind from the envelope, then the strict parse (and 835 balancing), reading the
    upload back a chunk at a time."""
    try:
        kind = detect(upload.text_chunks("file"))
        parsed: Parsed
        if kind is Kind.ACK_999:
            parsed = parse_999(upload.text_chunks("file"))
        elif kind is Kind.ACK_277CA:
            parsed = parse_277ca(upload.text_chunks("file"))
        else:
            parsed = _check_835(upload, _keeps_claims(upload, holding))
    except X12ParseError as error:
        raise RemittanceFileMalformed.from_parse_error(error) from None
    return kind, parsed


def _keeps_claims(upload: UploadedFile, holding: Holding) -> bool:
    return upload.size <= holding.keep_claims_bytes


def _check_835(upload: UploadedFile, keep: bool) -> Remittance835:
    """Reads the whole 835 and balances each claim as it comes, keeping the payments, and
    their claims when the file is small enough (else they are read again, a page at a time,
    when posting)."""
    warnings: list[Problem] = []
    envelope, items = read_835(upload.text_chunks("file"), warnings)
    payments: list[Payment] = []
    errors: list[BalanceError] = []  # the first SHOWN_ERRORS; a file of errors is counted
    broken = 0
    for _, payment, claim in items:
        if claim is not None:
            found = claim_errors(payment, claim)
            if keep:
                payment.claims.append(claim)
        else:
            found = transaction_errors(payment)
            payments.append(payment)
        broken += len(found)
        errors.extend(found[: SHOWN_ERRORS - len(errors)])
    if errors:
        raise RemittanceUnbalanced.from_errors(errors, total=broken)
    return Remittance835(envelope, payments, tuple(warnings))


def find_by_digest(session: Session, organization_id: str, digest: str) -> RemittanceFile | None:
    return session.exec(
        select(RemittanceFile).where(
            RemittanceFile.organization_id == organization_id, RemittanceFile.sha256 == digest
        )
    ).first()


def upload(
    session: Session,
    actor: Principal,
    upload: UploadedFile,
    *,
    filename: str | None,
    at: datetime,
    dry_run: bool = False,
    holding: Holding = Holding(),
    peek: Callable[[Session, str], Any] | None = None,
) -> Upload:
    """Stores and applies a 999, 277CA or 835; the same bytes again return the first result.
    dry_run: applies it in a savepoint rolled back afterwards (see the module); `peek(session,
    file_id)` may read the rows it would write (a page's per-claim preview) before that."""
    bounded = _keeps_claims(upload, holding)
    with _cycle_collection_paused(bounded), _sqlite_page_cache(session, bounded):
        return _upload(
            session,
            actor,
            upload,
            filename=filename,
            at=at,
            dry_run=dry_run,
            holding=holding,
            peek=peek,
        )


_paused_lock = threading.Lock()
_pausers = 0  # uploads in this process that paused the collector and have not ended


@contextmanager
def _cycle_collection_paused(pause: bool) -> Iterator[None]:
    """Python's cycle collector off while a file of bounded size (keep_claims_bytes) is
    applied: the claims it keeps and the rows it builds all live until the end, and every
    full collection they trigger walks the whole heap again (a third of the CPU of posting a
    3,000-claim 835 went there). Reference counting still frees what is not a cycle; the
    collector runs again once the last such upload of the process ends (a count, so that one
    upload ending does not switch it on under another). The switch is process-wide: requests
    running meanwhile keep reference counting, and their cycles wait for the collector for at
    most the length of one bounded upload. Left on for a bigger file, which streams."""
    global _pausers
    if not pause:
        yield
        return
    with _paused_lock:
        if _pausers == 0 and not gc.isenabled():  # switched off by someone else: theirs
            pause = False
        else:
            _pausers += 1
            gc.disable()
    try:
        yield
    finally:
        if pause:
            with _paused_lock:
                _pausers -= 1
                if _pausers == 0:
                    gc.enable()


@contextmanager
def _sqlite_page_cache(session: Session, bounded: bool) -> Iterator[None]:
    """On SQLite, a page cache of POSTING_CACHE_KIB for the upload of a file of bounded size,
    then the connection's own again. Posting writes tens of MB of table and index pages in one
    transaction (10,000 claims: some 140,000 rows); with the default 2 MB cache the pager
    writes dirty pages out to the WAL mid-transaction and writes the same index pages again
    each time they change (a tenth of posting's CPU). Pages are only taken as the transaction
    touches them, and the cap bounds them; a bigger file, which streams, keeps the default."""
    if not bounded or session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = {-POSTING_CACHE_KIB:d}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {before:d}")


def _upload(
    session: Session,
    actor: Principal,
    upload: UploadedFile,
    *,
    filename: str | None,
    at: datetime,
    dry_run: bool,
    holding: Holding,
    peek: Callable[[Session, str], Any] | None,
) -> Upload:
    if upload.is_blank():
        raise InvalidInput("The request body is empty; send the X12 file as the body.")
    digest = upload.sha256
    earlier = find_by_digest(session, actor.organization_id, digest)
    if earlier is not None:
        return _duplicate(session, actor, earlier, at=at)
    kind, parsed = parse(upload, holding)
    if dry_run:
        return _dry_run(
            session, actor, upload, digest, filename, kind, parsed, holding, at=at, peek=peek
        )
    envelope = parsed.envelope
    stored = RemittanceFile(
        organization_id=actor.organization_id,
        kind=kind.value,
        sha256=digest,
        size_bytes=upload.size,
        filename=(filename or None) and filename[:200],
        sender_id=envelope.sender_id[:15],
        interchange_control_number=envelope.control_number[:9],
        uploaded_by=actor.user_id,
    )
    if not _insert_first(session, stored):
        winner = _stored_concurrently(session, actor.organization_id, digest)
        return _duplicate(session, actor, winner, at=at)
    chunks = blobs.ChunkWriter(session, RemittanceFileChunk, "file_id", stored.id)
    for piece in upload.chunks(blobs.CHUNK_BYTES):
        chunks.write(piece)
    chunks.close()
    if isinstance(parsed, Ack999):
        result = acks.apply_999(session, actor, stored.id, parsed, at=at)
    elif isinstance(parsed, Ack277CA):
        result = acks.apply_277ca(session, actor, stored.id, parsed, at=at)
    else:
        result = _post(session, actor, stored.id, upload, parsed, holding, at=at)
    stored.result = result
    session.add(stored)
    session.flush()
    audit.record(
        session,
        actor,
        action="create",
        resource_type="remittance_file",
        resource_id=stored.id,
        detail=f"{kind.value} ISA13 {envelope.control_number}, sha256 {digest[:12]}",
        at=at,
    )
    return Upload(stored, created=True)


def _post(
    session: Session,
    actor: Principal,
    file_id: str,
    upload: UploadedFile,
    parsed: Remittance835,
    holding: Holding,
    *,
    at: datetime,
) -> dict[str, Any]:
    """Posts the 835's claims, those parse kept or else read from the upload again as a
    stream, and lists its non-financial defects."""
    claims: Iterable[tuple[int, ClaimPayment]]
    if _keeps_claims(upload, holding):
        claims = ((i, claim) for i, pay in enumerate(parsed.payments) for claim in pay.claims)
    else:
        _, items = read_835(upload.text_chunks("file"))
        claims = ((index, claim) for index, _, claim in items if claim is not None)
    result = posting.post_835(
        session, actor, file_id, parsed.payments, claims, at=at, page=holding.claims_per_page
    )
    result["warnings"] = [str(p) for p in parsed.warnings[:SHOWN_ERRORS]]
    return result


def _dry_run(
    session: Session,
    actor: Principal,
    upload: UploadedFile,
    digest: str,
    filename: str | None,
    kind: Kind,
    parsed: Parsed,
    holding: Holding,
    *,
    at: datetime,
    peek: Callable[[Session, str], Any] | None,
) -> Upload:
    """The upload's own steps (its bytes aside) in a savepoint that is always rolled back."""
    savepoint = session.begin_nested()
    try:
        stored = RemittanceFile(
            organization_id=actor.organization_id,
            kind=kind.value,
            sha256=digest,
            size_bytes=upload.size,
            filename=(filename or None) and filename[:200],
            sender_id=parsed.envelope.sender_id[:15],
            interchange_control_number=parsed.envelope.control_number[:9],
            uploaded_by=actor.user_id,
        )
        session.add(stored)
        session.flush()
        if isinstance(parsed, Ack999):
            result = acks.apply_999(session, actor, stored.id, parsed, at=at)
        elif isinstance(parsed, Ack277CA):
            result = acks.apply_277ca(session, actor, stored.id, parsed, at=at)
        else:
            result = _post(session, actor, stored.id, upload, parsed, holding, at=at)
        shown = RemittanceFile.model_validate({**stored.model_dump(), "result": result})
        session.flush()
        peeked = peek(session, stored.id) if peek is not None else None
    finally:
        savepoint.rollback()
    audit.record(
        session,
        actor,
        action="read",
        resource_type="remittance_file",
        detail=f"dry run of {kind.value} ISA13 {parsed.envelope.control_number}, "
        f"sha256 {digest[:12]}: nothing stored",
        at=at,
    )
    return Upload(shown, created=False, dry_run=True, peeked=peeked)


def _duplicate(
    session: Session, actor: Principal, earlier: RemittanceFile, *, at: datetime
) -> Upload:
    audit.record(
        session,
        actor,
        action="read",
        resource_type="remittance_file",
        resource_id=earlier.id,
        detail="the same file uploaded again: not applied twice",
        at=at,
    )
    return Upload(earlier, created=False)


def _insert_first(session: Session, stored: RemittanceFile) -> bool:
    """Inserts the file row; False when a concurrent upload of the same bytes committed first.

    Both passed the SHA-256 lookup; the unique (organization_id, sha256) index makes this INSERT
    wait for the other transaction and fail once it commits. The savepoint keeps ours usable.
    """
    try:
        with session.begin_nested():
            session.add(stored)
    except IntegrityError:
        return False
    return True


def _stored_concurrently(session: Session, organization_id: str, digest: str) -> RemittanceFile:
    # READ COMMITTED (the default): this new statement sees the row the other upload committed.
    winner = find_by_digest(session, organization_id, digest)
    if winner is None:
        raise RemittanceFileBeingUploaded(
            f"The same file (sha256 {digest[:12]}) was stored by a concurrent upload "
            "that this request cannot read yet: retry to get its result."
        )
    return winner


def get_file(session: Session, actor: Principal, file_id: str) -> RemittanceFile:
    found = session.get(RemittanceFile, file_id)
    if found is None or found.organization_id != actor.organization_id:
        raise RemittanceFileNotFound(f"No remittance file {file_id}.")
    return found
