"""Opaque, time-ordered ids: sortable, so that cursors can page by id."""

import itertools
import secrets
import threading
import time

_lock = threading.Lock()
_last_millis = 0
_sequence = itertools.count()


def new_id() -> str:
    """48 bits of milliseconds, a 16-bit sequence, 64 random bits: 32 hex digits.

    The sequence keeps ids made in the same millisecond by this process in creation order.
    """
    global _last_millis, _sequence
    with _lock:
        millis = max(time.time_ns() // 1_000_000, _last_millis)
        if millis != _last_millis:
            _last_millis, _sequence = millis, itertools.count()
        seq = next(_sequence)
        if seq > 0xFFFF:  # more than 65,536 ids in one millisecond: borrow the next one
            _last_millis, _sequence = millis + 1, itertools.count(1)
            millis, seq = millis + 1, 0
    return f"{millis:012x}{seq:04x}{secrets.token_hex(8)}"
