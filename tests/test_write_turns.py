"""SQLite's write lock taken in arrival order within a process (service/db.py WriteTurns)."""

import threading
import time

import pytest
import sqlalchemy as sa

from service.db import WriteTurns


def test_waiting_writers_get_their_turn_in_the_order_they_asked() -> None:
    turns = WriteTurns()
    turns.acquire()  # the first writer holds it
    order: list[int] = []
    threads = []

    def writer(n: int) -> None:
        turns.acquire()
        order.append(n)

    for n in range(8):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 5
        while len(turns._waiting) <= n and time.monotonic() < deadline:  # queued, in order
            time.sleep(0.001)
    for _ in range(8):
        turns.release()  # each release hands the turn to the next in line
        time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=5)
    assert order == list(range(8))
    turns.release()
    turns.acquire()  # free again: taken at once
    turns.release()


def test_a_writer_that_waits_too_long_gives_up_as_the_busy_timeout_would() -> None:
    turns = WriteTurns(timeout=0.05)
    turns.acquire()
    with pytest.raises(sa.exc.OperationalError):
        turns.acquire()
    assert not turns._waiting  # it left the line
    turns.release()
    turns.acquire()
    turns.release()
