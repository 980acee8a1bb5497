"""A Core statement compiled once per dialect and run on the driver's own cursor.

For the few statements every request runs (the key check, a record read by id, the read audit
rows: service/api/fast_reads.py): SQLAlchemy's execution of a cached statement (execution
context, events, result object) took several times as long as the database's answer. The
statement is still written in Core and compiled by SQLAlchemy; parameters and results go
through the column types' own bind and result processors, so values come back as they would
from `connection.execute` (datetimes with their zone, JSON decoded, booleans).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

Processor = Callable[[Any], Any] | None


class Compiled:
    """One statement for one dialect: its SQL text, parameter order and value processors."""

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)  # an SQLCompiler
        self.sql = compiled.string
        self.names: list[str] | None = (
            list(compiled.positiontup or []) if dialect.positional else None
        )
        self.binds: dict[str, Callable[[Any], Any]] = dict(compiled._bind_processors)
        # Literal values in the statement (`param == "identifier"`) are parameters too.
        self.defaults: dict[str, Any] = {k: b.value for k, b in compiled.binds.items()}
        columns = list(getattr(statement, "selected_columns", []))
        # A row read by attribute, as Core's rows are (`row.organization_id`).
        self.row: Any = namedtuple("Row", [c.key for c in columns]) if columns else None
        self.results: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]
        self.processes_results = any(p is not None for p in self.results)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        binds = self.binds
        if not self.defaults.keys() <= values.keys():
            values = {**self.defaults, **values}
        if self.names is None:
            return {k: binds[k](v) if k in binds else v for k, v in values.items()}
        return [binds[k](values[k]) if k in binds else values[k] for k in self.names]

    def first(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        cursor.execute(self.sql, self.parameters(values))
        found = cursor.fetchone()
        if found is None or self.row is None:
            return None
        if self.processes_results:
            found = [v if p is None else p(v) for p, v in zip(self.results, found, strict=True)]
        return self.row._make(found)

    def all(self, cursor: Any, values: Mapping[str, Any]) -> list[Any]:
        cursor.execute(self.sql, self.parameters(values))
        found = cursor.fetchall()
        if self.processes_results:
            found = [[v if p is None else p(v) for p, v in zip(self.results, r, strict=True)]
                     for r in found]  # fmt: skip
        return [self.row._make(r) for r in found]

    def run(self, cursor: Any, values: Mapping[str, Any]) -> None:
        cursor.execute(self.sql, self.parameters(values))

    def many(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        cursor.executemany(self.sql, [self.parameters(r) for r in rows])


class Statements:
    """Compiled statements of one database, compiled on first use, and cursors to run them."""

    def __init__(self, bind: Engine | sa.Connection) -> None:
        # A Connection is the tests' one transaction on PostgreSQL (tests/conftest.py), which
        # the sessions of the app share through savepoints: cursors go into it the same way.
        self.bind = bind
        self.engine = bind.engine
        self._compiled: dict[int, tuple[sa.ClauseElement, Compiled]] = {}

    def __getitem__(self, statement: sa.ClauseElement) -> Compiled:
        found = self._compiled.get(id(statement))
        if found is None or found[0] is not statement:
            found = (statement, Compiled(statement, self.engine.dialect))
            self._compiled[id(statement)] = found
        return found[1]

    @contextmanager
    def cursor(self, *, write: bool = False) -> Iterator[Any]:
        """A cursor on a pooled connection. `write`: one transaction, committed at the end
        (SQLite's takes the write lock at BEGIN, as service/db.py does for every write).
        Otherwise each statement runs on its own (autocommit; one INSERT commits itself): on
        PostgreSQL a transaction around two SELECTs cost two more round trips (BEGIN,
        ROLLBACK) than the SELECTs themselves."""
        if isinstance(self.bind, sa.Connection):
            with self._in_savepoint(self.bind) as cursor:
                yield cursor
            return
        dialect = self.engine.dialect
        connection = self.engine.raw_connection()
        driver = connection.driver_connection
        switch = not write and dialect.name != "sqlite"  # the pool's SQLite ones autocommit
        cursor = None
        try:
            if switch:
                driver.autocommit = True  # type: ignore[union-attr]
            cursor = connection.cursor()
            if write and dialect.name == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            if write:
                connection.commit()
        except dialect.loaded_dbapi.Error as exc:
            self._end_failed(connection, cursor, exc)
            # SQLAlchemy's own error classes, as `connection.execute` raises them.
            raise sa.exc.DBAPIError.instance(
                None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
            ) from exc
        except BaseException as exc:
            self._end_failed(connection, cursor, exc)
            raise
        finally:
            if cursor is not None:
                cursor.close()
            if switch and connection.is_valid:
                try:
                    driver.autocommit = False  # type: ignore[union-attr]  # as the pool lent it
                except Exception:
                    connection.invalidate()
            connection.close()  # back to the pool (a no-op once invalidated)

    @contextmanager
    def _in_savepoint(self, connection: sa.Connection) -> Iterator[Any]:
        dialect = self.engine.dialect
        with connection.begin_nested():
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                yield cursor
            except dialect.loaded_dbapi.Error as exc:
                raise sa.exc.DBAPIError.instance(
                    None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
                ) from exc
            finally:
                cursor.close()

    def _end_failed(self, connection: Any, cursor: Any, exc: BaseException) -> None:
        """Rolls back (on SQLite the write lock is held until then), and drops a connection
        that is lost or cannot roll back instead of pooling it."""
        try:
            connection.rollback()
        except Exception:
            connection.invalidate()
            return
        dialect = self.engine.dialect
        error: Any = exc
        if isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
            error, connection.dbapi_connection, cursor
        ):
            connection.invalidate()
