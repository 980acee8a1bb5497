"""Opaque, time-ordered ids: sortable, so that cursors can page by id."""

import itertools
import os
import threading
import time

_lock = threading.Lock()
_last_millis = 0
_sequence = itertools.count()
# The random parts come from os.urandom 256 ids at a time: one system call per id was a twentieth
# of posting an 835 (some 30,000 ids for 10,000 claims). Still the kernel's CSPRNG, each byte
# used once; a forked child drops what its parent had drawn (else both would hand it out).
_RANDOM_BYTES = 8 * 256
_random = b""
_taken = 0


def _forget_random() -> None:
    global _random, _taken
    _random, _taken = b"", 0


os.register_at_fork(after_in_child=_forget_random)


def new_id() -> str:
    """48 bits of milliseconds, a 16-bit sequence, 64 random bits: 32 hex digits.

    The sequence keeps ids made in the same millisecond by this process in creation order.
    """
    global _last_millis, _sequence, _random, _taken
    with _lock:
        millis = max(time.time_ns() // 1_000_000, _last_millis)
        if millis != _last_millis:
            _last_millis, _sequence = millis, itertools.count()
        seq = next(_sequence)
        if seq > 0xFFFF:  # more than 65,536 ids in one millisecond: borrow the next one
            _last_millis, _sequence = millis + 1, itertools.count(1)
            millis, seq = millis + 1, 0
        if _taken == len(_random):
            _random, _taken = os.urandom(_RANDOM_BYTES), 0
        random = _random[_taken : _taken + 8]
        _taken += 8
    return f"{millis:012x}{seq:04x}{random.hex()}"
