"""Opaque, time-ordered ids: sortable, so that cursors can page by id."""

import itertools
import os
import threading
import time

_lock = threading.Lock()
_last_millis = 0
_prefix = ""  # _last_millis in hex, 12 digits
_sequence = itertools.count()
# The random parts come from os.urandom 256 ids at a time, in hex: one system call (and one
# conversion) per id was a twentieth of posting an 835 (some 150,000 ids for 10,000 claims).
# Still the kernel's CSPRNG, each byte used once; a forked child drops what its parent had
# drawn (else both would hand it out).
_RANDOM_IDS = 256
_random = ""
_taken = 0


def _forget_random() -> None:
    global _random, _taken
    _random, _taken = "", 0


os.register_at_fork(after_in_child=_forget_random)


def new_id() -> str:
    """48 bits of milliseconds, a 16-bit sequence, 64 random bits: 32 hex digits.

    The sequence keeps ids made in the same millisecond by this process in creation order.
    """
    global _last_millis, _prefix, _sequence, _random, _taken
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis > _last_millis:
            _last_millis, _prefix, _sequence = millis, f"{millis:012x}", itertools.count()
        seq = next(_sequence)
        if seq > 0xFFFF:  # more than 65,536 ids in one millisecond: borrow the next one
            _last_millis += 1
            _prefix, _sequence = f"{_last_millis:012x}", itertools.count(1)
            seq = 0
        if _taken == len(_random):
            _random, _taken = os.urandom(8 * _RANDOM_IDS).hex(), 0
        random = _random[_taken : _taken + 16]
        _taken += 16
        return f"{_prefix}{seq:04x}{random}"
