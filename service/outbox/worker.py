"""The delivery worker: runs beside the API in each `backoffice serve` process (a thread), or
alone as `backoffice worker`. Any number of them may share a database."""

import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy.exc import OperationalError

from service.db import SessionFactory, session_scope
from service.outbox import delivery, logic

log = logging.getLogger(__name__)
RECORD_TRIES = 5
CLAIM_LIMIT = 50  # deliveries leased per round: sent one by one, recorded together


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def run_once(
    factory: SessionFactory, client: httpx.Client, *, worker: str, allow_private: bool
) -> int:
    """Fan out new events, then send what is due. Returns the deliveries attempted.

    Each step commits on its own: a crash after the lease is taken leaves a lease that runs
    out (another worker then sends it); a crash after sending but before recording sends it
    again later, with the same X-Backoffice-Event-Id, so at least once and never lost."""
    with factory() as session:
        if not logic.has_work(session, at=datetime.now(UTC)):
            return 0
    with session_scope(factory) as session:
        logic.fan_out(session, at=datetime.now(UTC))
    with session_scope(factory) as session:
        due = logic.claim_due(session, worker=worker, at=datetime.now(UTC), limit=CLAIM_LIMIT)
    sent = []
    for item in due:
        now = datetime.now(UTC)
        outcome = delivery.send(
            client, item, timestamp=int(now.timestamp()), allow_private=allow_private
        )
        sent.append((item, outcome, now))
    if sent:
        _record(factory, sent)
    return len(due)


def _record(
    factory: SessionFactory, sent: list[tuple[logic.Due, delivery.Outcome, datetime]]
) -> None:
    """The round's outcomes in one transaction (one commit, not one per delivery), tried a few
    times: a delivery sent but not recorded is sent again once its lease runs out, and a busy
    database is no reason for that."""
    for attempt in range(RECORD_TRIES):
        try:
            with session_scope(factory) as session:
                logic.record_delivered(
                    session,
                    [(i.delivery_id, o.status_code or 200, at) for i, o, at in sent if o.ok],
                )
                for item, outcome, at in sent:
                    if not outcome.ok:
                        logic.record_failed(
                            session,
                            item.delivery_id,
                            error=outcome.error,
                            status_code=outcome.status_code,
                            at=at,
                        )
            return
        except OperationalError:
            if attempt == RECORD_TRIES - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


class DeliveryWorker:
    """A daemon thread polling every `poll_seconds` (at once again while work remains)."""

    def __init__(
        self, factory: SessionFactory, *, poll_seconds: float, allow_private: bool
    ) -> None:
        self.factory, self.poll_seconds, self.allow_private = factory, poll_seconds, allow_private
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="outbox-delivery", daemon=True)

    def start(self) -> "DeliveryWorker":
        self.thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    def run(self) -> None:
        worker = worker_name()
        with httpx.Client(timeout=delivery.TIMEOUT, follow_redirects=False) as client:
            while not self.stopping.is_set():
                try:
                    busy = run_once(
                        self.factory, client, worker=worker, allow_private=self.allow_private
                    )
                except Exception:  # a database hiccup must not end the thread
                    log.exception("outbox delivery round failed; retrying")
                    busy = 0
                if not busy:
                    self.stopping.wait(self.poll_seconds)
