"""Billing page timing (issue 26: each billing page at most 200 ms p95 with 10,000 claims in the
database). The claims are mixed as a clinic's are: drafts held by the scrubber with findings,
rejected, ready, submitted, and the rest answered by an 835 (paid, or denied with CO 50); a
statement run then bills the patients the 835 left owing. A biller signs in through the sign-in
form; then every page of `desks.BILLING_PAGES` (read at run time, so a page added there is
measured too), and the record pages behind them (DETAIL_PAGES: the oldest claim held with a
finding, the largest batch, the largest 835 posted, the statement run, the patient with the most
ledger entries), is fetched `--repeat` times through an in-process client (the whole app:
session check, role guard, queries, audit rows, template). Each page's CPU time per request (the
whole process's) is printed beside its wall times, and the load average: on a shared machine p95
measures the scheduler as much as the page. The floor, in the same run: the bare SELECT of the
rows the page shows (FLOORS, by page).

    .venv/bin/python bench/bench_billing_pages.py [--postgres URL] [--claims 10000] [--repeat 40]
        [--page /app/billing/claims ...]
"""

import argparse
import os
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient  # noqa: TID251 - a client, as in tests/
from seed import answer_835, fresh, seed, submit_all
from sqlmodel import Session, col, select

from service import uploads
from service.auth import people
from service.auth.models import AppUser, role_set
from service.claims.models import Claim
from service.db import make_engine, session_factory_for
from service.ledger import statements
from service.main import create_app
from service.remittance import files
from service.settings import Settings
from service.web import desks

TARGET_P95_MS = 200.0
PASSWORD = "bench biller password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

FINDING = {
    "code": "billing-provider-zip",
    "severity": "error",
    "message": "The billing provider's ZIP code must have 9 digits.",
    "field": "/billing_provider/address/postal_code",
}
REJECTION = {
    "code": "277CA-A7",
    "severity": "error",
    "message": "Rejected by the payer: subscriber not found.",
    "field": "/subscriber/member_id",
}

# The bare SELECT of each page's rows (what the page must show at the least), by path; the
# claim page's path is given its claim's id at run time (CLAIM_PAGE).
_PAGE_OF_CLAIMS = (
    "SELECT * FROM claim WHERE organization_id = :org AND status = '{status}' ORDER BY id LIMIT 51"
)
CLAIM_PAGE = "/app/billing/claims/{claim_id}"
FLOORS: dict[str, list[str]] = {
    "/app/billing/claims": [
        _PAGE_OF_CLAIMS.format(status="draft"),
        _PAGE_OF_CLAIMS.format(status="rejected"),
    ],
    "/app/billing/ready": [_PAGE_OF_CLAIMS.format(status="ready")],
    "/app/billing/batches": [
        "SELECT * FROM claim_batch WHERE organization_id = :org ORDER BY created_at DESC LIMIT 26"
    ],
    # A form and nothing else: the floor is one round trip to the database.
    "/app/billing/remittances": ["SELECT id FROM organization WHERE id = :org"],
    "/app/billing/unmatched": [
        "SELECT * FROM remittance_file WHERE organization_id = :org ORDER BY id DESC LIMIT 20",
        "SELECT * FROM claim_posting WHERE organization_id = :org AND NOT matched LIMIT 51",
    ],
    "/app/billing/denials": [
        "SELECT * FROM denial_item WHERE organization_id = :org ORDER BY id LIMIT 51"
    ],
    "/app/billing/balances": [
        "SELECT patient_id, sum(insurance_amount), sum(patient_amount) FROM ledger_entry"
        " WHERE organization_id = :org GROUP BY patient_id"
        " ORDER BY sum(insurance_amount) + sum(patient_amount) DESC LIMIT 51"
    ],
    "/app/billing/statements": [
        "SELECT * FROM statement_run WHERE organization_id = :org"
        " ORDER BY run_date DESC, created_at DESC LIMIT 50"
    ],
    "/app/billing/aging": [
        "SELECT payer_id, sum(insurance_amount) FROM ledger_entry"
        " WHERE organization_id = :org GROUP BY payer_id"
    ],
    "/app/billing/month-end": [
        "SELECT kind, sum(insurance_amount), sum(patient_amount) FROM ledger_entry"
        " WHERE organization_id = :org GROUP BY kind"
    ],
    CLAIM_PAGE: ["SELECT * FROM claim WHERE organization_id = :org AND id = :claim_id"],
}
# The pages of one record behind the desk pages, their ids found at run time (_record_ids);
# a long record shows one page of its rows (a batch 100 claims, an 835 50, a run 100).
DETAIL_PAGES: dict[str, list[str]] = {
    CLAIM_PAGE: FLOORS[CLAIM_PAGE],
    "/app/billing/batches/{batch_id}": [
        "SELECT claim.* FROM claim_batch_member m JOIN claim ON claim.id = m.claim_id"
        " WHERE m.batch_id = :batch_id ORDER BY m.claim_id LIMIT 101"
    ],
    "/app/billing/remittances/{file_id}": [
        "SELECT * FROM claim_posting WHERE file_id = :file_id ORDER BY id LIMIT 51"
    ],
    "/app/billing/statements/{run_id}": [
        "SELECT * FROM statement WHERE run_id = :run_id ORDER BY id LIMIT 101"
    ],
    "/app/billing/balances/{patient_id}": [
        "SELECT * FROM ledger_entry WHERE organization_id = :org AND patient_id = :patient_id"
    ],
}
FLOORS.update(DETAIL_PAGES)


@dataclass
class PageTiming:
    path: str
    p50_ms: float
    p95_ms: float
    cpu_ms: float  # median CPU time per request (the whole process's)
    floor_p95_ms: float
    load: float  # the 1-minute load average when the page was measured


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _set_status(session: Session, ids: list[str], status: str, finding: dict[str, str]) -> None:
    for start in range(0, len(ids), 500):
        session.execute(
            sa.update(Claim)
            .where(col(Claim.id).in_(ids[start : start + 500]))
            .values(status=status, findings=[finding], scrubbed_at=datetime.now(UTC))
        )


def _populate(url: str, count: int) -> str:
    """`count` claims of one organization in the mix above, and a statement run over the
    balances the 835 left its patients; the organization's id."""
    engine = make_engine(url)
    factory = session_factory_for(engine)
    seeded = seed(factory, count)
    org = seeded.organization_id
    with factory() as session:
        ids = list(
            session.exec(
                select(Claim.id)
                .where(Claim.organization_id == org, Claim.status == "ready")
                .order_by(col(Claim.id))
            ).all()
        )
        n = len(ids)
        # 20% drafts with a finding, 5% rejected, 10% left ready, 65% sent: of these 30% of
        # all paid, 10% denied, 25% still submitted.
        _set_status(session, ids[: n * 20 // 100], "draft", FINDING)
        _set_status(session, ids[n * 20 // 100 : n * 25 // 100], "rejected", REJECTION)
        session.commit()
        sent = ids[n * 35 // 100 :]
        pcns, lines = submit_all(session, factory, seeded, only=sent)
        answered = sent[: len(sent) * 40 // 65]
        denied = frozenset(answered[: len(answered) // 4])
        text = answer_835({c: lines[c] for c in answered}, pcns, denied)
        with uploads.from_bytes(text.encode()) as received:
            files.upload(
                session, seeded.actor, received, filename="bench.835", at=datetime.now(UTC)
            )
        session.commit()
        statements.run_statements(
            session, seeded.actor, threshold=Decimal("0.01"), quiet_days=0, at=datetime.now(UTC)
        )
        session.commit()
    engine.dispose()
    return org


def _biller_password(url: str, org: str) -> str:
    """A one-time password for the organization's biller; answers the username."""
    engine = make_engine(url)
    with session_factory_for(engine)() as session:
        users = session.exec(select(AppUser).where(AppUser.organization_id == org)).all()
        biller = next(u for u in users if u.kind == "person" and "biller" in role_set(u.roles))
        _, once = people.issue_one_time_password(
            session, org, biller.id, username="bench-biller", at=datetime.now(UTC)
        )
        session.commit()
    engine.dispose()
    return once


def _csrf(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, page[:500]
    return found.group(1)


def _sign_in(client: TestClient, once: str) -> None:
    """Through the pages, as a person would: the one-time password, then one of their own."""
    token = _csrf(client.get("/app/sign-in").text)
    signed = client.post(
        "/app/sign-in",
        data={"username": "bench-biller", "password": once, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    token = _csrf(client.get("/app/password").text)
    changed = client.post(
        "/app/password",
        data={
            "csrf_token": token,
            "current_password": once,
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text


def _largest(session: Session, table: str, parent: str, where: str, org: str) -> str:
    """The `parent` id with the most rows of `table` (its largest record), among `where`."""
    found = session.execute(
        sa.text(
            f"SELECT {parent} FROM {table} WHERE {where} GROUP BY {parent}"  # nosec B608 - ours
            f" ORDER BY count(*) DESC, {parent} LIMIT 1"
        ),
        {"org": org},
    ).scalar_one()
    return str(found)


def _record_ids(url: str, org: str) -> dict[str, str]:
    """The records DETAIL_PAGES open: the oldest claim held with a finding (the claim page a
    clerk opens first), the largest batch and 835, the latest statement run, the patient with
    the most ledger entries."""
    engine = make_engine(url)
    with session_factory_for(engine)() as session:
        claim_id = session.exec(
            select(Claim.id)
            .where(Claim.organization_id == org, Claim.status == "draft")
            .order_by(col(Claim.id))
        ).first()
        assert claim_id is not None
        batch_id = _largest(
            session,
            "claim_batch_member",
            "batch_id",
            "batch_id IN (SELECT id FROM claim_batch WHERE organization_id = :org)",
            org,
        )
        file_id = _largest(session, "claim_posting", "file_id", "organization_id = :org", org)
        run_id = _largest(session, "statement", "run_id", "organization_id = :org", org)
        patient_id = _largest(session, "ledger_entry", "patient_id", "organization_id = :org", org)
    engine.dispose()
    return {
        "claim_id": claim_id,
        "batch_id": batch_id,
        "file_id": file_id,
        "run_id": run_id,
        "patient_id": patient_id,
    }


def _time_page(client: TestClient, path: str, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU times of `repeat` fetches, in ms."""
    for _ in range(2):  # warm: templates compiled, statements cached
        assert client.get(path).status_code == 200, path
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        times.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - started_cpu))
        assert response.status_code == 200, (path, response.text[:300])
    return times, cpu


def _time_floor(url: str, floor: list[str], params: dict[str, str], repeat: int) -> list[float]:
    engine = make_engine(url)
    queries = [sa.text(sql) for sql in floor]
    times = []
    with engine.connect() as connection:
        for i in range(repeat + 2):
            started = time.perf_counter()
            for query in queries:
                connection.execute(query, params).all()
            if i >= 2:
                times.append(1000 * (time.perf_counter() - started))
    engine.dispose()
    return times


def run(
    url: str, count: int, repeat: int, data_dir: Path, only: list[str] | None = None
) -> list[PageTiming]:
    url = fresh(url, "bench_billing_pages")
    org = _populate(url, count)
    once = _biller_password(url, org)
    params = {"org": org} | _record_ids(url, org)
    settings = Settings(database_url=url, data_dir=data_dir, outbox_worker=False)
    app = create_app(settings)
    timings = []
    pages = [page.path for page in desks.BILLING_PAGES] + list(DETAIL_PAGES)
    with TestClient(app) as client:
        _sign_in(client, once)
        for pattern in pages:
            if only and pattern not in only:
                continue
            times, cpu = _time_page(client, pattern.format(**params), repeat)
            floor = _time_floor(url, FLOORS[pattern], params, repeat)
            timings.append(
                PageTiming(
                    pattern,
                    statistics.median(times),
                    _percentile(times, 95),
                    statistics.median(cpu),
                    _percentile(floor, 95),
                    os.getloadavg()[0],
                )
            )
    app.state.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", help="PostgreSQL URL (a database bench_billing_pages is made)"
    )
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--page", action="append", help="only this page (repeatable)")
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        print(
            "| database | page | claims | p95 ms | p50 ms | CPU ms (p50) | target p95 ms | "
            "floor (bare SELECT) p95 ms | ratio p95/floor | load avg |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, url in targets:
            for t in run(url, args.claims, args.repeat, Path(tmp), args.page):
                verdict = "met" if t.p95_ms <= TARGET_P95_MS else "MISSED"
                print(
                    f"| {name} | {t.path} | {args.claims:,} | {t.p95_ms:.1f} | {t.p50_ms:.1f} | "
                    f"{t.cpu_ms:.1f} | {TARGET_P95_MS:.0f} ({verdict}) | {t.floor_p95_ms:.2f} | "
                    f"{t.p95_ms / t.floor_p95_ms:.0f}x | {t.load:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
