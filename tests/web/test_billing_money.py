"""The billing desk's money pages on the demo organization: denials to work, patient balances
and statements, A/R aging with its chart, the month-end summary; refusals by role and CSRF."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service import org_clock
from service.audit.models import AuditEvent
from service.auth import logic as auth_logic
from service.auth.logic import Principal
from service.auth.roles import Role
from service.auth.schemas import UserCreate
from service.claims.models import Claim
from service.demo import clinic as demo
from service.demo.clinic import DemoResult
from service.ledger import logic as ledger_logic
from service.ledger.models import LedgerEntry
from service.remittance.models import DenialItem
from service.remittance.reports import bucket
from service.web import money
from tests.claims.conftest import Demo
from tests.remittance.helpers import (
    Batch,
    ack_999,
    denied,
    make_batch,
    partially_paid,
    remit_835,
    upload,
)
from tests.web.signin import NEW_PASSWORD, csrf_of, submit_sign_in

MONEY_PAGES = (
    "/app/billing/denials",
    "/app/billing/balances",
    "/app/billing/statements",
    "/app/billing/aging",
    "/app/billing/month-end",
)


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@dataclass
class Desk:
    result: DemoResult
    batch: Batch

    @property
    def demo(self) -> Demo:
        return Demo(self.result.organization_id, self.result.admin_key)


@pytest.fixture
def desk(client: TestClient, db: Session) -> Desk:
    """The demo clinic with its claims batched, acknowledged and answered by an 835: the first
    claim denied (CO 50, one item per line), the second partially paid (patient owes)."""
    result = demo.seed(db)
    db.commit()
    found = Desk(result, make_batch(client, Demo(result.organization_id, result.admin_key), db))
    upload(client, found.demo, ack_999(found.batch))
    first, second = found.batch.claims[:2]
    upload(client, found.demo, remit_835([denied(first), partially_paid(second)]))
    db.commit()
    return found


def _set_own_password(client: TestClient, otp: str) -> str:
    token = csrf_of(client.get("/app/password").text)
    changed = client.post(
        "/app/password",
        data={
            "csrf_token": token,
            "current_password": otp,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    return token


def _sign_in(client: TestClient, desk: Desk, who: str) -> str:
    """Signs in as the demo's `who` (admin, billing clerk, lab technologist); the CSRF token."""
    found = next(s for s in desk.result.sign_ins if s.who == who)
    assert found.one_time_password is not None
    assert submit_sign_in(client, found.username, found.one_time_password).status_code == 303
    return _set_own_password(client, found.one_time_password)


def _sign_in_as_role(client: TestClient, db: Session, desk: Desk, role: str) -> str:
    """A new person of the demo clinic with only `role`, signed in."""
    user = auth_logic.create_user(
        db, desk.result.organization_id, UserCreate(name=f"{role} person", roles=[role])
    )
    db.commit()
    reset = client.post(
        f"/api/v1/users/{user.id}/password-reset",
        json={"username": f"{role}-{user.id[:6]}"},
        headers=desk.demo.headers(),
    )
    assert reset.status_code == 200, reset.text
    otp = reset.json()["one_time_password"]
    assert submit_sign_in(client, f"{role}-{user.id[:6]}", otp).status_code == 303
    return _set_own_password(client, otp)


def _items(db: Session, desk: Desk) -> list[DenialItem]:
    db.commit()  # a fresh snapshot
    found = db.exec(
        select(DenialItem)
        .where(DenialItem.organization_id == desk.result.organization_id)
        .order_by(col(DenialItem.id))
    ).all()
    for item in found:
        db.refresh(item)
    return list(found)


def _clerk_id(db: Session, desk: Desk) -> str:
    username = next(s.username for s in desk.result.sign_ins if s.who == "billing clerk")
    return next(
        u.id
        for u in auth_logic.list_users(
            db, desk.result.organization_id, limit=200, cursor=None
        ).items
        if u.username == username
    )


# --- denials ---------------------------------------------------------------------------------


def test_the_denial_queue_shows_each_denied_line_with_its_reason_and_audits_it(
    client: TestClient, db: Session, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")
    claim = desk.batch.claims[0]

    page = client.get("/app/billing/denials")

    assert page.status_code == 200, page.text
    items = _items(db, desk)
    assert len(items) == len(claim.lines)
    text = page.text
    assert f"Claim {claim.pcn}" in text
    assert "CO 50" in text
    assert "Not medically necessary: appeal with clinical documentation." in text
    assert "RARC N115" in text
    for item in items:
        assert f'id="item-{item.id}"' in text
        assert f'<td class="num">${Decimal(item.amount):,.2f}</td>' in text
    assert "Denials to work" in text
    assert 'aria-current="page"' in text
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_type == "denial_item", AuditEvent.action == "query"
        )
    ).all()
    assert {e.resource_id for e in events} == {i.id for i in items}
    assert {e.patient_id for e in events} == {claim.patient_id}


def test_a_clerk_takes_a_denial_notes_a_follow_up_and_writes_it_off(
    client: TestClient, db: Session, desk: Desk
) -> None:
    token = _sign_in(client, desk, "billing clerk")
    item = _items(db, desk)[0]
    base = f"/app/billing/denials/{item.id}"

    taken = client.post(f"{base}/take", data={"csrf_token": token}, follow_redirects=False)
    assert taken.status_code == 303, taken.text
    assert taken.headers["location"] == f"/app/billing/denials?show=all#item-{item.id}"
    clerk = _clerk_id(db, desk)
    saved = client.post(
        base,
        data={
            "csrf_token": token,
            "owner_id": clerk,
            "follow_up_date": "2026-12-20",
            "status": "in_progress",
            "note": "called the payer: no appeal rights",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    mine = client.get("/app/billing/denials?show=mine")
    assert f'id="item-{item.id}"' in mine.text
    assert "called the payer: no appeal rights" in mine.text
    written = client.post(
        f"{base}/write-off",
        data={"csrf_token": token, "reason": "denial", "note": "not worth appealing"},
        follow_redirects=False,
    )
    assert written.status_code == 303, written.text

    [found] = [i for i in _items(db, desk) if i.id == item.id]
    assert found.owner_id == clerk
    assert found.follow_up_date == date(2026, 12, 20)
    assert found.status == "written_off"
    assert [e["action"] for e in found.history] == [
        "opened",
        "assigned",
        "follow_up",
        "status",
        "note",
        "written_off",
    ]
    entry = db.get(LedgerEntry, found.write_off_entry_id)
    assert entry is not None
    assert entry.kind == "write_off"
    updates = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_type == "denial_item",
            AuditEvent.action == "update",
            AuditEvent.resource_id == item.id,
        )
    ).all()
    assert len(updates) == 3
    # Done ones leave the "still to work" queue and show with all.
    assert f'id="item-{item.id}"' not in client.get("/app/billing/denials").text
    assert "Written off" in client.get("/app/billing/denials?status=all").text


def test_unassigned_and_mine_split_the_queue(client: TestClient, db: Session, desk: Desk) -> None:
    token = _sign_in(client, desk, "billing clerk")
    first, second, *_ = _items(db, desk)
    client.post(f"/app/billing/denials/{first.id}/take", data={"csrf_token": token})

    mine = client.get("/app/billing/denials?show=mine").text
    unassigned = client.get("/app/billing/denials?show=unassigned").text

    assert f'id="item-{first.id}"' in mine
    assert f'id="item-{second.id}"' not in mine
    assert f'id="item-{second.id}"' in unassigned
    assert f'id="item-{first.id}"' not in unassigned


def test_a_denial_form_without_its_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, db: Session, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")
    item = _items(db, desk)[0]

    response = client.post(f"/app/billing/denials/{item.id}/take", data={"csrf_token": "forged"})

    assert response.status_code == 403
    assert _items(db, desk)[0].owner_id is None


def test_a_refused_resubmission_says_why_and_writes_nothing(
    client: TestClient, db: Session, desk: Desk
) -> None:
    """The encounter is billed, not reopened and corrected: no replacement yet (409)."""
    token = _sign_in(client, desk, "billing clerk")
    item = _items(db, desk)[0]
    claims_before = len(db.exec(select(Claim.id)).all())

    response = client.post(
        f"/app/billing/denials/{item.id}/replacement", data={"csrf_token": token}
    )

    assert response.status_code == 409, response.text
    assert 'role="alert"' in response.text
    assert "reopen the encounter" in response.text
    assert _items(db, desk)[0].status == "open"
    assert len(db.exec(select(Claim.id)).all()) == claims_before


def test_an_invalid_follow_up_date_is_a_422_on_the_page(
    client: TestClient, db: Session, desk: Desk
) -> None:
    token = _sign_in(client, desk, "billing clerk")
    item = _items(db, desk)[0]

    response = client.post(
        f"/app/billing/denials/{item.id}",
        data={"csrf_token": token, "follow_up_date": "next tuesday", "note": "x"},
    )

    assert response.status_code == 422
    assert "follow_up_date" in response.text
    found = _items(db, desk)[0]
    assert found.follow_up_date is None
    assert found.notes is None


def test_a_coder_reads_the_denials_but_may_not_work_them(
    client: TestClient, db: Session, desk: Desk
) -> None:
    token = _sign_in_as_role(client, db, desk, Role.CODER)
    item = _items(db, desk)[0]

    page = client.get("/app/billing/denials")
    taken = client.post(f"/app/billing/denials/{item.id}/take", data={"csrf_token": token})

    assert page.status_code == 200
    assert "Take this denial" not in page.text
    assert taken.status_code == 403
    assert _items(db, desk)[0].owner_id is None


@pytest.mark.parametrize("path", MONEY_PAGES)
def test_the_lab_technologist_may_see_no_money_page(
    client: TestClient, desk: Desk, path: str
) -> None:
    _sign_in(client, desk, "lab technologist")
    response = client.get(path)
    assert response.status_code == 403
    assert "Not allowed" in response.text


@pytest.mark.parametrize("path", MONEY_PAGES[1:])
def test_a_coder_may_not_see_the_ledger_pages(
    client: TestClient, db: Session, desk: Desk, path: str
) -> None:
    _sign_in_as_role(client, db, desk, Role.CODER)
    assert client.get(path).status_code == 403


def test_the_money_pages_send_a_signed_out_browser_to_sign_in(
    client: TestClient, desk: Desk
) -> None:
    for path in MONEY_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/app/sign-in"


# --- balances and statements -----------------------------------------------------------------


def test_balances_list_patients_who_owe_and_the_lines_behind_a_balance(
    client: TestClient, db: Session, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")
    denied_claim, partial = desk.batch.claims[:2]

    page = client.get("/app/billing/balances?sort=age")

    assert page.status_code == 200, page.text
    assert f'href="/app/billing/balances/{partial.patient_id}"' in page.text
    assert f'href="/app/billing/balances/{denied_claim.patient_id}"' in page.text
    assert client.get("/app/billing/balances?sort=amount").status_code == 200
    assert client.get("/app/billing/balances?sort=nonsense").status_code == 422
    account = client.get(f"/app/billing/balances/{partial.patient_id}")
    assert account.status_code == 200
    assert "Patient responsibility" in account.text
    assert "transfer" in account.text  # the PR deductible moved to the patient
    db.commit()
    reads = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_type == "patient_ledger",
            AuditEvent.action == "read",
            AuditEvent.patient_id == partial.patient_id,
        )
    ).all()
    assert len(reads) == 1
    listed = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_type == "patient_balance", AuditEvent.action == "query"
        )
    ).all()
    assert partial.patient_id in {e.patient_id for e in listed}


def test_each_balance_row_is_the_ledgers_balance_of_that_patient_in_both_orders(
    db: Session, desk: Desk
) -> None:
    """The page's rows are summed, sorted and paged by the database: each equals the patient's
    balance as GET /api/v1/patients/{id}/balance sums it, biggest (or oldest) first."""
    actor = Principal(
        _clerk_id(db, desk), desk.result.organization_id, frozenset({"biller"}), "test"
    )
    by_amount, more = money.balances(db, actor, sort="amount", page=0)
    assert not more
    assert by_amount
    for row in by_amount:
        found = ledger_logic.balance(db, actor, row.patient_id)
        assert (row.insurance, row.patient, row.credit, row.total) == (
            found["insurance"],
            found["patient"],
            found["credit"],
            found["total"],
        )
    assert [r.total for r in by_amount] == sorted((r.total for r in by_amount), reverse=True)
    by_age, _ = money.balances(db, actor, sort="age", page=0)
    assert {r.patient_id for r in by_age} == {r.patient_id for r in by_amount}
    oldest = [r.oldest or date.max for r in by_age]
    assert oldest == sorted(oldest)


def test_another_clinics_patient_is_a_404_page(client: TestClient, desk: Desk) -> None:
    _sign_in(client, desk, "billing clerk")
    response = client.get("/app/billing/balances/0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert 'role="alert"' in response.text


def test_a_statement_run_is_made_listed_and_downloaded(
    client: TestClient, db: Session, desk: Desk
) -> None:
    token = _sign_in(client, desk, "billing clerk")

    made = client.post(
        "/app/billing/statements",
        data={"csrf_token": token, "threshold": "0", "quiet_days": "30"},
        follow_redirects=False,
    )

    assert made.status_code == 303, made.text
    run_page = client.get(made.headers["location"])
    assert run_page.status_code == 200
    pdf_links = re.findall(r'href="(/app/billing/statement-files/[0-9a-f]+\.pdf)"', run_page.text)
    assert pdf_links
    pdf = client.get(pdf_links[0])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    listing = client.get(f"{made.headers['location']}/list.csv")
    assert listing.status_code == 200
    assert listing.text.startswith("statement_id,patient_id,mrn")
    runs = client.get("/app/billing/statements")
    assert made.headers["location"] in runs.text
    again = client.post(
        "/app/billing/statements",
        data={"csrf_token": token, "threshold": "0", "quiet_days": "30"},
        follow_redirects=False,
    )
    assert again.headers["location"] == made.headers["location"]  # the day's run, not another


def test_a_statement_run_with_a_bad_threshold_is_refused_on_the_page(
    client: TestClient, db: Session, desk: Desk
) -> None:
    token = _sign_in(client, desk, "billing clerk")
    for threshold, days in (("lots", "30"), ("-1", "30"), ("5", "x")):
        response = client.post(
            "/app/billing/statements",
            data={"csrf_token": token, "threshold": threshold, "quiet_days": days},
        )
        assert response.status_code == 422, (threshold, days)
        assert 'role="alert"' in response.text
    assert "No statement run yet." in client.get("/app/billing/statements").text


# --- aging and month-end ---------------------------------------------------------------------


def test_the_aging_page_draws_a_bar_per_payer_and_patients_with_the_numbers_beside(
    client: TestClient, db: Session, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")

    page = client.get("/app/billing/aging")

    assert page.status_code == 200, page.text
    text = page.text
    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in text
    assert "<script" not in text
    assert "Patient responsibility" in text
    assert text.count("<rect ") >= 2  # segments of at least two bars, plus the legend
    # Each segment names its bar, its bucket and its amount.
    served = desk.batch.claims[1].lines[0].service_date
    today = org_clock.local_date(db, desk.result.organization_id, datetime.now(UTC))
    words = money.BUCKET_WORDS[bucket((today - served).days)]
    assert re.search(rf"<title>[^<]+, {words} days: \$[0-9,]+\.\d\d</title>", text)
    assert '<th scope="col" class="num">over 120 days</th>' in text
    assert "<tfoot>" in text


def test_the_aging_page_as_of_a_day_before_any_charge_is_empty_and_a_bad_day_is_422(
    client: TestClient, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")
    assert (
        "Nothing is owed as of 2000-01-01."
        in client.get("/app/billing/aging?as_of=2000-01-01").text
    )
    bad = client.get("/app/billing/aging?as_of=yesterday")
    assert bad.status_code == 422
    assert "is not a date" in bad.text


def test_the_month_end_page_shows_the_months_figures_that_add_up(
    client: TestClient, desk: Desk
) -> None:
    _sign_in(client, desk, "billing clerk")

    page = client.get("/app/billing/month-end")

    assert page.status_code == 200, page.text
    assert "Charges" in page.text
    assert "A/R at the end" in page.text
    difference = re.search(
        r'start \+ charges - payments - adjustments - end</th><td class="num">([^<]+)</td>',
        page.text,
    )
    assert difference is not None
    assert difference.group(1) == "0.00"
    assert '<label for="month">Month</label>' in page.text
    old = client.get("/app/billing/month-end?month=2001-02")
    assert old.status_code == 200
    assert "Month-end summary, 2001-02" in old.text
    for bad in ("2026-13", "26-01", "1899-12"):
        refused = client.get(f"/app/billing/month-end?month={bad}")
        assert refused.status_code == 422, bad
        assert "is not a month" in refused.text
