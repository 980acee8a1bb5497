"""API keys verified a moment ago, kept for the typeahead (issue 21): a keystroke answered from
memory in tens of microseconds should not wait for a database read of its key every time.

Only callers that passed the full quick check (`authenticate_quickly`: key found, secret right,
key not revoked, user active, neither the key nor the address blocked) are kept, by the SHA-256
of the whole Authorization header and the client address, with what that check read (user,
organization, roles, time zone). Revocation is bounded twice:

- `recheck` (a thread, every `RECHECK_SECONDS`) reads each kept key again with the same single
  statement and drops it when it is revoked, its user deactivated, its roles, organization or
  time zone changed, or it or the address blocked: a revoked key is refused by every process
  within about a second;
- an entry that no recheck confirmed within `TTL_SECONDS` is not used (the thread stopped, the
  database is away): the next request runs the full check. Never more than five seconds.

Off (ttl 0) until the service's lifespan starts the recheck thread, so scripts and tests that
build the app without serving it check every request against the database, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from service.auth import keys, repository, throttle
from service.auth.logic import Caller, key_id_of
from service.auth.models import role_set
from service.records import utcnow

log = logging.getLogger(__name__)

TTL_SECONDS = 5.0
RECHECK_SECONDS = 1.0
IDLE_SECONDS = 60.0  # a key not used for this long is forgotten (and no longer rechecked)
MAX_ENTRIES = 10_000


@dataclass
class _Entry:
    caller: Caller
    key_id: str
    secret_hash: str  # the secret's SHA-256, as the database keeps it
    address: str
    confirmed_at: float  # when the database last said yes
    used_at: float


def _digest(authorization: str, address: str) -> bytes:
    return hashlib.sha256(f"{address}\n{authorization}".encode()).digest()


class VerifiedKeys:
    def __init__(self, ttl: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[bytes, _Entry] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, authorization: str | None, address: str) -> Caller | None:
        """The caller of a key verified within the TTL, else None (run the full check)."""
        if not self.ttl or not authorization:
            return None
        digest = _digest(authorization, address)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or now - entry.confirmed_at > self.ttl:
                return None
            entry.used_at = now
            return entry.caller

    def put(self, authorization: str | None, address: str, caller: Caller) -> None:
        """Keep a caller that `authenticate_quickly` has just let in (an API key, not a token)."""
        key_id = key_id_of(authorization)
        parts = keys.split_key((authorization or "").partition(" ")[2].strip())
        if not self.ttl or not authorization or key_id is None or parts is None:
            return
        now = self._clock()
        entry = _Entry(caller, key_id, keys.hash_secret(parts[1]), address, now, now)
        with self._lock:
            if len(self._entries) < MAX_ENTRIES:
                self._entries[_digest(authorization, address)] = entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def recheck(self, session_factory: Callable[[], Session]) -> int:
        """Read every kept key again (one statement each); drop the idle and every one whose
        verdict changed. Returns how many are kept."""
        now = self._clock()
        with self._lock:
            entries = list(self._entries.items())
        dropped = [d for d, e in entries if now - e.used_at > IDLE_SECONDS]
        confirmed: list[bytes] = []
        with session_factory() as session:
            session.info["read_only"] = True
            connection = session.connection()
            at = utcnow()
            for digest, entry in entries:
                if digest in dropped:
                    continue
                scopes = throttle.scopes(entry.key_id, entry.address)
                found = repository.get_caller(connection, entry.key_id, scopes, at)
                principal = entry.caller.principal
                same = (
                    found is not None
                    and found.usable
                    and not found.blocked
                    and hmac.compare_digest(found.secret_hash, entry.secret_hash)
                    and found.user_id == principal.user_id
                    and found.organization_id == principal.organization_id
                    and role_set(found.roles) == principal.roles
                    and found.time_zone == entry.caller.time_zone
                )
                (confirmed if same else dropped).append(digest)
        with self._lock:
            for digest in dropped:
                self._entries.pop(digest, None)
            for digest in confirmed:
                if digest in self._entries:
                    self._entries[digest].confirmed_at = now
            return len(self._entries)

    def start(self, session_factory: Callable[[], Session], ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(session_factory,), name="verified-key-recheck", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.ttl = 0.0
        with self._lock:
            self._entries.clear()

    def _run(self, session_factory: Callable[[], Session]) -> None:
        while not self._stop.wait(RECHECK_SECONDS):
            try:
                self.recheck(session_factory)
            except Exception:  # the database may be away: entries age out after the TTL
                log.warning("verified key recheck failed", exc_info=True)
