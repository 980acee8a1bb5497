"""Engine, the per-request session (one transaction per request) and session_scope() for jobs."""

import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing, contextmanager
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool

from service.settings import Settings

# Stable constraint names, so that Alembic migrations can ALTER and drop them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

SessionFactory = Callable[[], Session]
SQLITE_BUSY_SECONDS = 30.0  # how long a write waits for SQLite's write lock before a 503
P = ParamSpec("P")
T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (below): pysqlite's own transaction handling breaks
    # SAVEPOINT and cannot start a write transaction up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000:.0f}")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # A write transaction takes the write lock at BEGIN: two writers queue (busy_timeout)
    # instead of one failing with "database is locked" when it upgrades from reading.
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    # The pool keeps as many connections as requests run at once in a process (16 kept-alive
    # clients in the benchmark): a connection made past pool_size is closed when returned, so
    # the next burst connects again (SQLite: opening the file and the PRAGMAs, a fifth of a
    # patient read's time under load before this).
    if url.startswith("sqlite"):
        pool: dict[str, Any] = {"pool_size": 24, "max_overflow": 16}
        if ":memory:" in url or url in ("sqlite://", "sqlite+pysqlite://"):
            pool = {}  # one connection per thread (SingletonThreadPool): no overflow setting
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **pool)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = sa.create_engine(url, pool_size=16, max_overflow=8)
    _ping_idle_connections(engine)
    return engine


# A pooled connection unused for this long is tried (SELECT 1) before it is lent again.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED = "returned_at"  # connection record info: when it was last returned to the pool


def _ping_idle_connections(engine: Engine) -> None:
    """pool_pre_ping, but only for connections that sat idle: a server restarted or a
    connection dropped while idle is found before a request uses it. SQLAlchemy's pre-ping
    tries every connection on every checkout, a round trip each time: under load, one of the
    three or four of a PostgreSQL read. A connection that dies while in use still fails its
    request (503) and has the pool recycle every connection older than it."""
    dialect = engine.dialect

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED, 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise sa.exc.InvalidatePoolError() from exc  # the pool connects anew
            raise

    sa.event.listen(engine, "connect", returned)  # fresh: nothing to try
    sa.event.listen(engine, "checkin", returned)
    sa.event.listen(engine, "checkout", checkout)


def engine_for(settings: Settings) -> Engine:
    url = settings.effective_database_url
    if url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(url)


def session_factory_for(engine: Engine) -> SessionFactory:
    return lambda: Session(engine, expire_on_commit=False)


def _committed(session: Session) -> Iterator[Session]:
    """Yields the session, then commits; rolls back on any error."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def session_scope(factory: SessionFactory) -> Iterator[Session]:
    """A transaction for a job or CLI command: commits on success, rolls back on error."""
    with factory() as session:
        yield from _committed(session)


class WriteTurns:
    """The request write transactions of one process take SQLite's write lock in the order they
    asked for it.

    Without this, 16 concurrent writers all ran BEGIN IMMEDIATE and the losers slept in SQLite's
    busy handler (1, 2, 5, ... up to 100 ms a sleep, retried), which is not first come, first
    served: a PATCH under load waited seconds at p99 while others went through in milliseconds.
    Here they queue on a lock handed over in arrival order; SQLite's lock then only arbitrates
    between processes and the few other writers (read audit batches, jobs).
    """

    def __init__(self, timeout: float = SQLITE_BUSY_SECONDS) -> None:
        self.timeout = timeout
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=self.timeout):
            return  # handed over by release()
        with self._guard:
            if turn in self._waiting:  # not handed over: give up, as the busy timeout would
                self._waiting.remove(turn)
                raise sa.exc.OperationalError(
                    "BEGIN IMMEDIATE", {}, TimeoutError("database is locked (no write turn)")
                )
        # handed over just as the wait timed out: the turn is ours

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()  # the next in line holds it now
            else:
                self._held = False


@contextmanager
def write_session(state: Any) -> Iterator[Session]:
    """A request's write transaction (app.state's session factory): commits on leaving, rolls
    back on an error. On SQLite it holds the process's write turn throughout."""
    factory: SessionFactory = state.session_factory
    turns: WriteTurns | None = getattr(state, "write_turns", None)
    with factory() as session:
        # SQLite: a write transaction takes the write lock at BEGIN (IMMEDIATE). A transaction
        # that reads first and upgrades to write after another process committed gets
        # SQLITE_BUSY at once, without waiting (busy_timeout does not apply): under load
        # (bench/load.py, two workers) requests answered 503. Reads of patient data do not come
        # here (get_audited_read_session).
        if session.get_bind().dialect.name != "sqlite":
            turns = None
        if turns is not None:
            turns.acquire()
        try:
            if turns is not None:
                session.connection(execution_options={"sqlite_immediate": True})
            yield from _committed(session)
        finally:
            if turns is not None:
                turns.release()


def get_session(request: Request) -> Iterator[Session]:
    with write_session(request.app.state) as session:
        yield session


# scope="function" commits before the response is sent, so a failed commit is never a 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@sa.event.listens_for(Session, "before_flush")
def _refuse_writes(session: Session, *_args: Any) -> None:
    if session.info.get("read_only"):
        raise RuntimeError("A read-only session was asked to write; use SessionDep.")


def open_read_session(request: Request) -> Session:
    """A session that refuses writes, for a route that opens one only when it needs it (end it
    with run_read). Opening it does no I/O: the first query begins the transaction."""
    factory: SessionFactory = request.app.state.session_factory
    session = factory()
    session.info["read_only"] = True
    return session


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """For routes that only read (and write no audit row, e.g. code search): no write lock.

    On SQLite these never queue behind writers or each other (WAL readers read the last commit
    at once); under load, waiting for BEGIN IMMEDIATE cost code search seconds of p99.
    Async, because opening a session does no I/O (the first query begins the transaction).
    """
    session = open_read_session(request)
    try:
        yield session
    finally:
        if session.in_transaction():  # ending it is I/O (a rollback): not on the event loop
            await run_in_threadpool(session.close)
        else:
            session.close()  # run_read closed it already: nothing left but bookkeeping


async def run_read(
    session: Session,
    work: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`work(session, ...)` in one worker thread, which also ends the read transaction.

    For async read routes: a sync route costs FastAPI a thread hop for the route, one for
    validating its response and one for closing the session; each hop is a thread wake-up and
    a GIL hand-over, which under load cost more than the work itself.
    """

    def work_and_close() -> T:
        with closing(session):
            return work(session, *args, **kwargs)

    return await run_in_threadpool(work_and_close)


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]

# session.info key: the audit rows (column values) of an audited read session, written by
# app.state.read_audit after the read transaction ends (service/audit/logic.py).
DEFERRED_AUDIT = "deferred_audit"


async def get_audited_read_session(request: Request) -> AsyncIterator[Session]:
    """For routes that read patient data and write nothing but their audit rows.

    The read runs without the write lock (on SQLite, WAL readers never queue behind writers or
    each other); the audit rows it records wait in `session.info` and, once the read transaction
    is over, are committed by app.state.read_audit in a short transaction of their own, which
    also carries the rows of the reads that finish meanwhile (group commit). This happens before
    the response is sent (run_audited_read, or here: scope="function"): no response leaves
    before its audit rows are durable, and a failed audit write fails the request. Any other
    write on this session is refused. Async, as get_read_session: no thread hop of its own.
    """
    factory: SessionFactory = request.app.state.session_factory
    session = factory()
    session.info["read_only"] = True
    session.info[DEFERRED_AUDIT] = []
    try:
        yield session
    except BaseException:
        session.info[DEFERRED_AUDIT].clear()  # the read failed: it read nothing to record
        if session.in_transaction():
            await run_in_threadpool(session.close)
        raise
    if session.in_transaction() or session.info[DEFERRED_AUDIT]:
        await run_in_threadpool(finish_audited_read, request, session)


def finish_audited_read(request: Request, session: Session) -> None:
    """Ends the read transaction, then commits its audit rows (blocking I/O: a worker thread)."""
    rows: list[dict[str, Any]] = session.info[DEFERRED_AUDIT]
    session.close()
    if rows:
        batch = list(rows)
        rows.clear()
        request.app.state.read_audit.write(batch)


async def run_audited_read(
    request: Request,
    session: Session,
    work: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`work(session, ...)`, the end of the read and its audit rows in one worker thread (see
    run_read: each thread hop costs more than the read itself under load)."""

    def work_and_finish() -> T:
        try:
            result = work(session, *args, **kwargs)
        except BaseException:
            session.info[DEFERRED_AUDIT].clear()
            session.close()
            raise
        finish_audited_read(request, session)
        return result

    return await run_in_threadpool(work_and_finish)


AuditedReadSessionDep = Annotated[Session, Depends(get_audited_read_session, scope="function")]
