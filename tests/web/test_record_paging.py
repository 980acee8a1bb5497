"""The billing desk's long records a page at a time (issue 26: each billing page in at most
200 ms p95 with 10,000 claims): a batch 100 claims a page, a posted 835 50, a statement run 100,
with links to the next and previous pages, the whole record's figures on every page, only the
patients shown audited, and a cursor not issued here refused with a 4xx page."""

import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from service.audit.models import AuditEvent
from service.claims.models import Claim, ClaimBatch, ClaimBatchMember
from service.ids import new_id
from service.ledger.models import Statement, StatementRun
from service.remittance.models import ClaimPosting, RemittanceFile
from tests.factories import make_tenant
from tests.web import test_billing_money
from tests.web.test_billing_money import Desk, _sign_in

# The demo clinic with a batch, its 999 and an 835 (test_billing_money's desk).
engine = test_billing_money.engine
desk = test_billing_money.desk

_NEXT = re.compile(r'href="([^"]+\?after=[^"]+)" rel="next">Next (\d+) (\w+)<')
_PREVIOUS = re.compile(r'href="([^"]+\?before=[^"]+)" rel="prev">Previous (\d+) (\w+)<')
_CLAIM_LINKS = re.compile(r'<a href="/app/billing/claims/([0-9a-f]+)">')
_STATEMENT_PDFS = re.compile(r'href="/app/billing/statement-files/([0-9a-f]+)\.pdf"')


def _row(db: Session, model: Any, row_id: str) -> dict[str, Any]:
    table = model.__table__
    return dict(db.execute(sa.select(table).where(table.c.id == row_id)).mappings().one())


def _copies(db: Session, model: Any, row_id: str, count: int, **vary: Any) -> list[str]:
    """`count` copies of a stored row with new ids; `vary` maps a column to a function of the
    copy's number (for the columns a unique constraint covers)."""
    row = _row(db, model, row_id)
    made = []
    for n in range(count):
        copy = row | {"id": new_id()} | {k: f(n) for k, f in vary.items()}
        db.execute(sa.insert(model.__table__), [copy])
        made.append(copy["id"])
    return made


def _grow_batch(db: Session, desk: Desk, total: int) -> list[str]:
    """The desk's batch with `total` claims (copies of its first), its count and total charge
    as a batch build sets them; the claim ids in id order."""
    first = desk.batch.claims[0]
    member = db.exec(
        select(ClaimBatchMember).where(
            ClaimBatchMember.batch_id == desk.batch.id, ClaimBatchMember.claim_id == first.id
        )
    ).one()
    for claim_id in _copies(
        db,
        Claim,
        first.id,
        total - len(desk.batch.claims),
        patient_control_number=lambda n: f"PAGED{n:05d}",
    ):
        db.add(
            ClaimBatchMember(
                batch_id=desk.batch.id,
                claim_id=claim_id,
                st_control_number=member.st_control_number,
                pending=False,
            )
        )
    db.flush()
    ids = list(
        db.exec(
            select(ClaimBatchMember.claim_id)
            .where(ClaimBatchMember.batch_id == desk.batch.id)
            .order_by(col(ClaimBatchMember.claim_id))
        ).all()
    )
    charge = db.exec(select(func.sum(Claim.total_charge)).where(col(Claim.id).in_(ids))).one()
    batch = db.get(ClaimBatch, desk.batch.id)
    assert batch is not None
    batch.claim_count, batch.total_charge = len(ids), charge
    db.commit()
    return ids


def _statement_run(client: TestClient, desk: Desk) -> str:
    """Signs the billing clerk in and runs the day's statements; the run's page."""
    token = _sign_in(client, desk, "billing clerk")
    made = client.post(
        "/app/billing/statements",
        data={"csrf_token": token, "threshold": "0", "quiet_days": "30"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"])


def _audited(db: Session, detail: str) -> list[str]:
    db.commit()  # a fresh snapshot
    found = db.exec(select(AuditEvent.resource_id).where(AuditEvent.detail == detail)).all()
    return [resource_id or "" for resource_id in found]


def test_a_batch_shows_100_claims_a_page_with_the_whole_batch_figures(
    client: TestClient, db: Session, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")
    ids = _grow_batch(db, desk, 130)
    path = f"/app/billing/batches/{desk.batch.id}"

    first = client.get(path)

    assert first.status_code == 200, first.text
    assert _CLAIM_LINKS.findall(first.text) == ids[:100]
    assert "Claims in the batch: 1 to 100 of 130" in first.text
    assert "<dt>Claims</dt><dd>130</dd>" in first.text
    assert _PREVIOUS.search(first.text) is None
    found = _NEXT.search(first.text)
    assert found is not None
    assert found.group(2, 3) == ("100", "claims")
    # Only the claims shown are audited reads of their patients.
    assert sorted(_audited(db, f"web page: claims of batch {desk.batch.id}")) == ids[:100]

    second = client.get(found.group(1))

    assert second.status_code == 200
    assert _CLAIM_LINKS.findall(second.text) == ids[100:]
    assert "Claims in the batch: 101 to 130 of 130" in second.text
    assert _NEXT.search(second.text) is None
    back = _PREVIOUS.search(second.text)
    assert back is not None
    again = client.get(back.group(1))
    assert _CLAIM_LINKS.findall(again.text) == ids[:100]


def test_a_small_batch_is_one_page_without_links(
    client: TestClient, db: Session, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")

    page = client.get(f"/app/billing/batches/{desk.batch.id}")

    assert page.status_code == 200
    assert len(_CLAIM_LINKS.findall(page.text)) == len(desk.batch.claims)
    assert 'class="pager"' not in page.text


def test_a_posted_835_shows_50_claims_a_page_with_the_whole_file_totals(
    client: TestClient, db: Session, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")
    file_id = db.exec(
        select(RemittanceFile.id).where(
            RemittanceFile.organization_id == desk.result.organization_id,
            RemittanceFile.kind == "835",
        )
    ).one()
    posting = db.exec(select(ClaimPosting).where(ClaimPosting.file_id == file_id)).first()
    assert posting is not None
    _copies(db, ClaimPosting, posting.id, 58)
    db.commit()
    postings = db.exec(
        select(ClaimPosting).where(ClaimPosting.file_id == file_id).order_by(col(ClaimPosting.id))
    ).all()
    assert len(postings) == 60
    paid = sum((Decimal(p.paid) for p in postings), Decimal(0))
    path = f"/app/billing/remittances/{file_id}"

    first = client.get(path)

    assert first.status_code == 200, first.text
    assert "Per claim: 1 to 50 of 60" in first.text
    assert f"<dt>Paid to the claims</dt><dd>${paid:,.2f}</dd>" in first.text
    assert len(re.findall(r"<tr>\s*<td>", first.text)) == 50
    found = _NEXT.search(first.text)
    assert found is not None
    assert found.group(2, 3) == ("50", "claims")
    # Each claim of ours shown is an audited read of its patient, once.
    audited = _audited(db, f"web page: postings of remittance file {file_id}")
    assert sorted(audited) == sorted({p.claim_id for p in postings[:50] if p.claim_id})

    second = client.get(found.group(1))

    assert second.status_code == 200
    assert "Per claim: 51 to 60 of 60" in second.text
    assert len(re.findall(r"<tr>\s*<td>", second.text)) == 10
    assert f"<dd>${paid:,.2f}</dd>" in second.text
    assert _NEXT.search(second.text) is None
    assert _PREVIOUS.search(second.text) is not None


def test_a_statement_run_shows_100_statements_a_page(
    client: TestClient, db: Session, desk: Desk
) -> None:
    path = _statement_run(client, desk)
    run_id = path.rsplit("/", 1)[1]
    statement = db.exec(select(Statement).where(Statement.run_id == run_id)).first()
    assert statement is not None
    _copies(db, Statement, statement.id, 120 - _run_size(db, run_id))
    run = db.get(StatementRun, run_id)
    assert run is not None
    run.statement_count = 120
    db.commit()
    ids = list(
        db.exec(
            select(Statement.id).where(Statement.run_id == run_id).order_by(col(Statement.id))
        ).all()
    )

    first = client.get(path)

    assert first.status_code == 200, first.text
    assert _STATEMENT_PDFS.findall(first.text) == ids[:100]
    assert "Statements of the run: 1 to 100 of 120" in first.text
    found = _NEXT.search(first.text)
    assert found is not None
    assert found.group(2, 3) == ("100", "statements")
    assert len(_audited(db, f"web page: statement run {run_id}")) == 100

    second = client.get(found.group(1))

    assert second.status_code == 200
    assert _STATEMENT_PDFS.findall(second.text) == ids[100:]
    assert "101 to 120 of 120" in second.text
    assert _PREVIOUS.search(second.text) is not None


def _run_size(db: Session, run_id: str) -> int:
    return db.exec(select(func.count()).where(Statement.run_id == run_id)).one()


def _record_paths(db: Session, desk: Desk) -> list[str]:
    file_id = db.exec(
        select(RemittanceFile.id).where(
            RemittanceFile.organization_id == desk.result.organization_id,
            RemittanceFile.kind == "835",
        )
    ).one()
    return [f"/app/billing/batches/{desk.batch.id}", f"/app/billing/remittances/{file_id}"]


@pytest.mark.parametrize(
    "query",
    [
        "after=not-a-cursor!",
        "before=%00%01",
        "after=YQ&before=YQ",  # both ways at once
        "after=" + "x" * 300,
    ],
)
def test_a_cursor_not_issued_here_is_a_4xx_page_not_a_500(
    client: TestClient, db: Session, desk: Desk, query: str
) -> None:
    paths = [*_record_paths(db, desk), _statement_run(client, desk)]

    for path in paths:
        response = client.get(f"{path}?{query}")
        assert 400 <= response.status_code < 500, (path, response.status_code)


def test_another_organizations_records_are_still_404(
    client: TestClient, db: Session, desk: Desk
) -> None:
    run_id = _statement_run(client, desk).rsplit("/", 1)[1]
    _, file_path = _record_paths(db, desk)
    elsewhere = make_tenant(db, "Elsewhere clinic").organization_id
    [batch] = _copies(db, ClaimBatch, desk.batch.id, 1, organization_id=lambda n: elsewhere)
    file_id = file_path.rsplit("/", 1)[1]
    [remittance] = _copies(db, RemittanceFile, file_id, 1, organization_id=lambda n: elsewhere)
    [run] = _copies(db, StatementRun, run_id, 1, organization_id=lambda n: elsewhere)
    db.commit()

    for path in (
        f"/app/billing/batches/{batch}",
        f"/app/billing/remittances/{remittance}",
        f"/app/billing/statements/{run}",
        f"/app/billing/statements/{run}?after=YQ",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert 'role="alert"' in response.text
