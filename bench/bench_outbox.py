"""Outbox benchmark: events per second from the outbox to a webhook receiver on loopback,
beside a floor measured in the same run, and the delivery latency of a running worker.

    .venv/bin/python bench/bench_outbox.py [--postgres URL] [--events 2000]

Throughput: N events committed, then one worker (`run_once` rounds, as `backoffice serve`
runs them) fans them out, leases, signs, POSTs and records each one. The floor is the work
that cannot be avoided: inserting the same N delivery rows with plain SQL, plus N POSTs of the
same body to the same receiver with the same httpx client. Latency: a DeliveryWorker thread
(poll 0.1 s) while events are committed one at a time; occurred_at -> delivered_at.
"""

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import sqlalchemy as sa
from seed import fresh
from sqlmodel import Session, select

from service.auth import logic as auth_logic
from service.db import SessionFactory, make_engine, session_factory_for, session_scope
from service.ids import new_id
from service.outbox import events, worker
from service.outbox.models import OutboxEvent, Subscription, SubscriptionDelivery


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def _emit(factory: SessionFactory, organization_id: str, count: int) -> None:
    with session_scope(factory) as session:
        for n in range(count):
            events.emit(session, organization_id, "specimen.rejected", f"{n:032d}",
                        reason="hemolyzed")  # fmt: skip


def _throughput(factory: SessionFactory, organization_id: str, count: int) -> float:
    _emit(factory, organization_id, count)
    started = time.perf_counter()
    with httpx.Client(timeout=10) as http:
        while True:
            worker.run_once(factory, http, worker="bench", allow_private=True)
            with factory() as session:
                left = session.exec(
                    select(sa.func.count())
                    .select_from(SubscriptionDelivery)
                    .where(SubscriptionDelivery.status == "pending")
                ).one()
                fanned = session.exec(
                    select(sa.func.count())
                    .select_from(OutboxEvent)
                    .where(
                        OutboxEvent.fanned_out_at.is_(None)  # type: ignore[union-attr]
                    )
                ).one()
            if not left and not fanned:
                break
    return time.perf_counter() - started


FLOOR_TABLE = (
    "CREATE TABLE bench_floor (id VARCHAR(32) PRIMARY KEY, organization_id VARCHAR(32), "
    "status VARCHAR(20), at VARCHAR(40))"
)


def _floor(factory: SessionFactory, organization_id: str, url: str, count: int) -> float:
    """Insert N rows like the delivery rows, then POST N bodies: no outbox around them."""
    body = b'{"id":"x","type":"specimen.rejected","resource":{"type":"Specimen","id":"0"}}'
    table = sa.table("bench_floor", sa.column("id"), sa.column("organization_id"),
                     sa.column("status"), sa.column("at"))  # fmt: skip
    with session_scope(factory) as session:
        session.execute(sa.text(FLOOR_TABLE))
    started = time.perf_counter()
    with session_scope(factory) as session:
        session.execute(sa.insert(table), [
            {"id": new_id(), "organization_id": organization_id, "status": "pending",
             "at": datetime.now(UTC).isoformat()} for _ in range(count)
        ])  # fmt: skip
    with httpx.Client(timeout=10) as http:
        for _ in range(count):
            http.post(url, content=body, headers={"Content-Type": "application/json"})
    return time.perf_counter() - started


def _latency(factory: SessionFactory, organization_id: str, count: int) -> list[float]:
    running = worker.DeliveryWorker(factory, poll_seconds=0.1, allow_private=True).start()
    try:
        ids = []
        for n in range(count):
            with session_scope(factory) as session:
                ids.append(events.emit(session, organization_id, "claim.rejected",
                                       f"{n:032d}").id)  # fmt: skip
            time.sleep(0.02)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with factory() as session:
                rows = session.exec(
                    select(SubscriptionDelivery, OutboxEvent)
                    .join(OutboxEvent, OutboxEvent.id == SubscriptionDelivery.event_id)  # type: ignore[arg-type]
                    .where(
                        SubscriptionDelivery.status == "delivered",
                        OutboxEvent.event_type == "claim.rejected",
                    )
                ).all()
            if len(rows) >= count:
                break
            time.sleep(0.1)
    finally:
        running.stop()
    return sorted(
        ((d.delivered_at - e.occurred_at).total_seconds() for d, e in rows if d.delivered_at)
    )


def run(url: str, count: int, label: str) -> None:
    url = fresh(url, "bench_outbox", code_sets=False)
    engine = make_engine(url)
    factory = session_factory_for(engine)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        with session_scope(factory) as session:
            org, _, _ = auth_logic.create_organization(session, name="Bench clinic")
            organization_id = org.id
            hook_events = "specimen.rejected,claim.rejected"
            session.add(Subscription(organization_id=org.id, kind="webhook", url=hook,
                                     events=hook_events, secret="s" * 32))  # fmt: skip
        seconds = _throughput(factory, organization_id, count)
        floor = _floor(factory, organization_id, hook, count)
        latencies = _latency(factory, organization_id, 50)
        with Session(engine) as session:
            sent = session.exec(
                select(sa.func.count())
                .select_from(SubscriptionDelivery)
                .where(SubscriptionDelivery.status == "delivered")
            ).one()
    finally:
        server.shutdown()
        engine.dispose()
    print(f"[{label}] {count} events through the outbox: {seconds:.2f} s, "
          f"{count / seconds:.0f} events/s; floor (insert {count} rows + {count} POSTs) "
          f"{floor:.2f} s, {count / floor:.0f}/s; ratio {seconds / floor:.2f}x")  # fmt: skip
    if latencies:
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        print(f"[{label}] delivery latency, worker polling every 0.1 s: median "
              f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
              f"({len(latencies)} events); delivered in all: {sent}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL (a database is made)")
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args.events, "sqlite")
    if args.postgres:
        run(args.postgres, args.events, "postgresql")


if __name__ == "__main__":
    main()
