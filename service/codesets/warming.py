"""Keep the typeahead off the database and off index builds: the versions in force, cached, and
their search indexes built before a request needs them (issue 21).

`IndexWarmer.refresh` reads every code-set version, builds the index of each searchable set's
version in force around today, and only then publishes the versions to `VersionCache`, which
the code routes read instead of querying the versions on every keystroke. The service runs one
refresh at start-up (before it accepts requests) and then one every `interval` seconds in a
thread, so a version imported through any replica is seen by every replica within a minute,
with its index already built. The cache is per app: with no warmer running (tests, scripts)
it reads the versions on every request, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

from sqlmodel import Session

from service.codesets import logic
from service.codesets.logic import VersionInfo

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
# Past this age (the warmer stopped or fails) the cache reads the versions itself again.
STALE_SECONDS = 60.0


class VersionCache:
    """The code-set versions as last published, by system."""

    def __init__(self, max_age: float = 0.0, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._versions: dict[str, list[VersionInfo]] | None = None
        self._published_at = 0.0

    def publish(self, versions: Sequence[VersionInfo]) -> None:
        by_system = {
            system: list(group) for system, group in groupby(versions, key=lambda v: v.system)
        }
        with self._lock:
            self._versions, self._published_at = by_system, self._clock()

    def cached(self, system: str) -> list[VersionInfo] | None:
        """The versions as published, None when there are none fresh enough."""
        with self._lock:
            fresh = self._clock() - self._published_at <= self.max_age
            cached = self._versions if fresh else None
        return None if cached is None else cached.get(system, [])

    def versions(self, session: Session, system: str) -> list[VersionInfo]:
        with self._lock:
            fresh = self._clock() - self._published_at <= self.max_age
            cached = self._versions if fresh else None
        if cached is not None:
            return cached.get(system, [])
        return logic.list_versions(session, system)


def days_around(today: date) -> list[date]:
    """Every organization's local date is within a day of UTC's."""
    return [today - timedelta(days=1), today, today + timedelta(days=1)]


class IndexWarmer:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        cache: VersionCache,
        *,
        interval: float = REFRESH_SECONDS,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self._session_factory = session_factory
        self._cache = cache
        self._interval = interval
        self._today = today
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> int:
        """One pass: build what is missing, then publish. Returns the indexes in force."""
        with self._session_factory() as session:
            versions = logic.list_versions(session)
            built = set()
            for system, group in groupby(versions, key=lambda v: v.system):
                if system not in logic.SYSTEMS or not logic.SYSTEMS[system].searchable:
                    continue
                of_system = list(group)
                for day in days_around(self._today()):
                    if day < of_system[0].effective_from:
                        continue
                    version = logic.version_in_force(session, system, day, of_system).version
                    if version.id not in built:
                        logic.index_for(session, version)
                        built.add(version.id)
        self._cache.publish(versions)
        return len(built)

    def start(self) -> None:
        self._cache.max_age = max(self._cache.max_age, STALE_SECONDS)
        self._thread = threading.Thread(target=self._run, name="code-index-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.refresh()
            except Exception:  # the database may be away for a while; the next pass retries
                log.warning("code-set index refresh failed", exc_info=True)
