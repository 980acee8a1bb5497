"""Uploads stream in (issue 14, finding 8): per-kind limits refuse a file while it arrives and
keep nothing; claims are posted a page at a time, across pages as within one."""

import gc
import hashlib
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from service import uploads
from service.auth.logic import Principal
from service.auth.models import ApiKey
from service.auth.roles import Role
from service.db import SessionFactory
from service.remittance import files, posting
from service.remittance.models import ClaimPosting, RemittanceFile, RemittanceFileChunk
from service.settings import Settings
from tests.claims.conftest import Demo
from tests.remittance.helpers import (
    X12,
    ack_999,
    claim_status,
    make_batch,
    paid_in_full,
    partially_paid,
    remit_835,
    upload,
)

X12_LIMIT = 64 * 1024
CSV_LIMIT = 16 * 1024


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # remittance_claims_per_page=1: every claim of an 835 posted on a page of its own.
    return Settings(database_url="sqlite://", data_dir=tmp_path, max_body_bytes=64 * 1024,
                    max_x12_upload_bytes=X12_LIMIT, max_csv_upload_bytes=CSV_LIMIT,
                    remittance_claims_per_page=1)  # fmt: skip


def _stored_files(db: Session) -> tuple[int, int]:
    db.commit()  # a fresh snapshot
    files = db.exec(select(func.count()).select_from(RemittanceFile)).one()
    chunks = db.exec(select(func.count()).select_from(RemittanceFileChunk)).one()
    return files, chunks


def _padded(text: str, size: int) -> bytes:
    """A valid file made longer with line breaks between segments (which X12 readers skip)."""
    return text.replace("~", "~\n" * (size // text.count("~") + 1)).encode()


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_an_x12_file_over_its_kinds_limit_is_413_and_nothing_is_kept(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    body = _padded(ack_999(batch), X12_LIMIT + 1)
    assert len(body) > X12_LIMIT
    headers = {**demo_org.headers(), **X12}
    for content in (body, _pieces(body, 4096)):  # with a Content-Length, then chunked
        response = client.post("/api/v1/remittance-files", content=content, headers=headers)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "X12 file" in response.json()["detail"]
    assert _stored_files(db) == (0, 0)
    # The same file under the limit goes in, sent in pieces of every size.
    fits = ack_999(batch).encode()
    response = client.post("/api/v1/remittance-files", content=_pieces(fits, 7), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["size_bytes"] == len(fits)
    assert _stored_files(db)[0] == 1


def test_a_csv_over_its_kinds_limit_is_413_though_an_x12_file_may_be_larger(
    client: TestClient, demo_org: Demo
) -> None:
    header = b"accession,test_code,component_code,value,unit\n"
    body = header + b"A1,GLU,GLU,5,mg/dL\n" * (CSV_LIMIT // 18)
    assert CSV_LIMIT < len(body) < X12_LIMIT
    response = client.post(
        "/api/v1/result-imports",
        content=_pieces(body, 1000),
        headers={**demo_org.headers(), "Content-Type": "text/csv"},
    )
    assert response.status_code == 413, response.text
    assert "CSV" in response.json()["detail"]


def test_a_nul_byte_in_an_upload_is_refused_like_everywhere_else(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    body = ack_999(batch).encode().replace(b"~", b"~\x00", 1)
    response = client.post(
        "/api/v1/remittance-files", content=body, headers={**demo_org.headers(), **X12}
    )
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["detail"]
    assert _stored_files(db) == (0, 0)


def test_claims_post_a_page_at_a_time_and_a_reversal_finds_a_posting_of_an_earlier_page(
    app: FastAPI, client: TestClient, demo_org: Demo, db: Session
) -> None:
    assert app.state.remittance_holding == files.Holding(claims_per_page=1)  # the settings'
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, ack_999(batch))
    target, *_, largest = sorted(batch.claims, key=lambda c: c.charge)
    # Paid, reversed and paid again in one file: each step on a page of its own.
    steps = [paid_in_full(target), paid_in_full(target, status="22"), partially_paid(target),
             paid_in_full(largest)]  # fmt: skip
    result = upload(client, demo_org, remit_835(steps, trace="EFT9"))["result"]

    assert result["claims"] == 4
    assert result["claims_matched"] == 4
    assert result["reversals"] == 1
    assert result["reversals_without_posting"] == []
    assert claim_status(db, target.id) == "partially_paid"
    postings = db.exec(
        select(ClaimPosting)
        .where(ClaimPosting.claim_id == target.id)
        .order_by(col(ClaimPosting.posted_at), col(ClaimPosting.id))
    ).all()
    first = next(p for p in postings if p.status_code == "1")
    reversal = next(p for p in postings if p.status_code == "22")
    assert first.reversed_by == reversal.id  # written by a later page, as an UPDATE
    assert reversal.reverses == first.id
    assert claim_status(db, largest.id) == "paid"


def test_a_form_upload_streams_the_file_field_and_is_the_same_file_as_the_raw_body(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    text = ack_999(batch)
    form = client.post(
        "/api/v1/remittance-files",
        files={"file": ("ack.999", text.encode(), "application/octet-stream")},
        data={"note": "other fields are ignored"},
        headers=demo_org.headers(),
    )
    assert form.status_code == 201, form.text
    assert form.json()["filename"] == "ack.999"
    assert form.json()["size_bytes"] == len(text.encode())
    raw = client.post(
        "/api/v1/remittance-files", content=text.encode(), headers={**demo_org.headers(), **X12}
    )
    assert raw.status_code == 200  # the same bytes: recognised, not applied twice
    assert raw.json()["id"] == form.json()["id"]


def test_a_form_without_the_file_field_or_over_the_limit_is_refused(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    no_file = client.post(
        "/api/v1/remittance-files",
        files={"upload": ("x.835", b"ISA", "text/plain")},
        headers=demo_org.headers(),
    )
    assert no_file.status_code == 422, no_file.text
    assert '"file"' in no_file.json()["detail"]
    too_big = client.post(
        "/api/v1/result-imports",
        files={"file": ("r.csv", b"accession,test_code,value\n" + b"A,B,1\n" * CSV_LIMIT)},
        headers=demo_org.headers(),
    )
    assert too_big.status_code == 413, too_big.text
    assert _stored_files(db) == (0, 0)


def test_the_upload_routes_document_a_file_picker(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/remittance-files", "/api/v1/result-imports"):
        form = paths[path]["post"]["requestBody"]["content"]["multipart/form-data"]
        assert form["schema"]["properties"]["file"] == {"type": "string", "format": "binary"}


class _CountedReads(uploads.UploadedFile):
    """A received file that counts how often it is read through as text."""

    reads = 0

    def text_chunks(self, what: str) -> Iterator[str]:
        self.reads += 1
        return super().text_chunks(what)


def _received(raw: bytes) -> _CountedReads:
    spool = tempfile.SpooledTemporaryFile(max_size=uploads.SPOOL_BYTES)  # noqa: SIM115 - returned open
    spool.write(raw)
    return _CountedReads(spool, len(raw), hashlib.sha256(raw).hexdigest())


def _admin(db: Session, demo: Demo) -> Principal:
    """The caller the demo's admin key stands for (the upload's logic, called as a job would)."""
    user_id, key_id = db.exec(
        select(ApiKey.user_id, ApiKey.key_id).where(ApiKey.organization_id == demo.organization_id)
    ).first() or ("", "")
    assert user_id
    return Principal(user_id, demo.organization_id, frozenset({Role.ADMIN}), key_id)


@pytest.mark.parametrize("keep_bytes", [files.KEEP_CLAIMS_BYTES, 0])
def test_a_small_835_is_read_once_a_larger_one_streams_twice_and_both_post_the_same(
    client: TestClient,
    demo_org: Demo,
    db: Session,
    session_factory: SessionFactory,
    keep_bytes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Settings remittance_keep_claims_bytes (0: every file "too big") and _claims_per_page.
    holding = files.Holding(keep_claims_bytes=keep_bytes, claims_per_page=2)
    caches: list[int] = []  # SQLite's page cache setting while the claims are posted
    post_835 = posting.post_835

    def posting_835(session: Session, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if session.get_bind().dialect.name == "sqlite":
            caches.append(session.execute(text("PRAGMA cache_size")).scalar_one())
        return post_835(session, *args, **kwargs)

    monkeypatch.setattr(posting, "post_835", posting_835)
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, ack_999(batch))
    target, *_, largest = sorted(batch.claims, key=lambda c: c.charge)
    steps = [paid_in_full(target), paid_in_full(target, status="22"), partially_paid(target),
             paid_in_full(largest)]  # fmt: skip
    assert gc.isenabled()
    actor = _admin(db, demo_org)
    db.commit()  # its snapshot ends: the upload below writes from a session of its own
    received = _received(remit_835(steps, trace="EFT8").encode())
    with session_factory() as session, received:
        sqlite = session.get_bind().dialect.name == "sqlite"
        if sqlite:  # as a request does (service/db.py)
            session.connection(execution_options={"sqlite_immediate": True})
            before = session.execute(text("PRAGMA cache_size")).scalar_one()
        stored = files.upload(
            session, actor, received, filename=None, at=datetime.now(UTC), holding=holding
        )
        if sqlite:  # a bigger page cache while a kept file posts; the connection's own after
            kept = -files.POSTING_CACHE_KIB
            assert caches == [kept if keep_bytes else before]
            assert session.execute(text("PRAGMA cache_size")).scalar_one() == before != kept
        session.commit()
    result = stored.file.result
    assert result is not None

    # Read through as text: the envelope's kind, the check, and (streamed) the posting.
    assert received.reads == (2 if keep_bytes else 3)
    assert gc.isenabled()  # paused while a kept file is applied, on again afterwards
    assert (result["claims"], result["claims_matched"], result["reversals"]) == (4, 4, 1)
    assert result["reversals_without_posting"] == []
    assert claim_status(db, target.id) == "partially_paid"
    assert claim_status(db, largest.id) == "paid"
    statuses = db.exec(
        select(ClaimPosting.status_code, ClaimPosting.status_after)
        .where(ClaimPosting.claim_id == target.id)
        .order_by(col(ClaimPosting.posted_at), col(ClaimPosting.id))
    ).all()
    assert [tuple(s) for s in statuses] == [("1", "paid"), ("22", "submitted"),
                                            ("1", "partially_paid")]  # fmt: skip


def test_the_collector_stays_paused_until_the_last_of_overlapping_uploads_ends() -> None:
    """Two bounded uploads in two threads of one process: the first to end must not switch
    the collector on under the other (the pause is process-wide)."""
    first, second = files._cycle_collection_paused(True), files._cycle_collection_paused(True)
    assert gc.isenabled()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first upload ends, the second still runs
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
    with files._cycle_collection_paused(False):  # a streamed (bigger) file leaves it on
        assert gc.isenabled()
