"""The reply path's Core statements, run straight on SQLite's own connection inside a transaction.

SQLAlchemy spends more time preparing each execution (compiled-cache lookup, parameter processing, an
execution context, a cursor wrapper, a result object, a greenlet hop) than SQLite spends running one of
these small statements: under load that machinery was about a third of the event loop's time
(docs/performance.md). ``run`` compiles a statement once per set of parameter names, with SQLAlchemy's own
SQL text and the column types' own bind and result processors, and then executes it with the ``sqlite3``
connection that already holds the transaction (``db._InlineSqliteConnection`` runs a transaction's work on
the event loop's thread). So the SQL, the values stored and the values read back are exactly SQLAlchemy's;
only the bookkeeping around them is skipped.

Anywhere else (PostgreSQL, no transaction open, a statement it does not know how to prepare) it is plain
``conn.execute``. A statement that fails on the direct path is run once more through SQLAlchemy, which raises
the error as SQLAlchemy's usual exception (a failed SQLite statement changes nothing, so running it again is
safe).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any]


class Rows(Protocol):
    """What callers use of a statement's result (SQLAlchemy's ``CursorResult`` has the same)."""

    @property
    def rowcount(self) -> int: ...
    def all(self) -> Sequence[Any]: ...
    def first(self) -> Any: ...
    def scalar_one(self) -> Any: ...
    def scalar_one_or_none(self) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...


class DirectResult:
    """Rows read on the direct path, with the few methods of SQLAlchemy's result that callers use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        """Every row."""
        return self._rows

    def first(self) -> Any:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        """The only row's first column; an error unless there is exactly one row."""
        if len(self._rows) != 1:
            raise LookupError(f"expected exactly one row, got {len(self._rows)}")
        return self._rows[0][0]

    def scalar_one_or_none(self) -> Any:
        """The only row's first column, or None when there is no row."""
        if len(self._rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self._rows)}")
        return self._rows[0][0] if self._rows else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


@dataclass(frozen=True)
class Prepared:
    """One statement compiled for SQLite with one set of parameter names."""

    sql: str
    #: For each ``?`` in order: the parameter's name, the value when the statement itself fixes it, and the
    #: column type's bind processor.
    binds: tuple[tuple[str, Any, bool, Processor | None], ...]
    #: None for a statement that returns no rows; else how to make each row.
    row: Callable[..., Any] | None
    results: tuple[Processor | None, ...]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional values for one execution."""
        values = []
        for name, fixed, from_params, process in self.binds:
            value = params[name] if from_params else fixed
            values.append(process(value) if process is not None else value)
        return values

    def run(self, raw: sqlite3.Connection, params: Mapping[str, Any]) -> DirectResult:
        """Execute on the raw connection and read every row."""
        cursor = raw.execute(self.sql, self.arguments(params))
        try:
            if self.row is None:
                return DirectResult([], cursor.rowcount)
            make, results = self.row, self.results
            rows = [make(*(p(v) if p is not None else v for p, v in zip(results, r, strict=True)))
                    for r in cursor.fetchall()]
            return DirectResult(rows, cursor.rowcount)
        finally:
            cursor.close()


class NotPrepared(Exception):
    """A statement the direct path does not handle; it goes through SQLAlchemy."""


def prepare(statement: Executable, names: frozenset[str], dialect: Dialect) -> Prepared:
    """Compile ``statement`` once for ``dialect`` (qmark parameters) and work out its processors."""
    if not isinstance(statement, Select | UpdateBase):
        raise NotPrepared(type(statement).__name__)
    compiled = statement.compile(dialect=dialect, column_keys=sorted(names))
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None or compiled.literal_execute_params \
            or compiled.post_compile_params:
        raise NotPrepared("statement needs per-execution rendering")
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise NotPrepared("columns with defaults computed at execution")
    binds = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in names:
            binds.append((name, None, True, process))
        elif bind.callable is None and not bind.required:
            binds.append((name, bind.value, False, process))
        else:
            raise NotPrepared(f"parameter {name!r} not given")
    columns = list(statement.exported_columns) if isinstance(statement, Select) or compiled.effective_returning \
        else []
    if not columns:
        return Prepared(compiled.string, tuple(binds), None, ())
    keys = [column.key if column.key else f"column_{i}" for i, column in enumerate(columns)]
    row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    return Prepared(compiled.string, tuple(binds), row, results)


_PREPARED: dict[tuple[int, frozenset[str]], Prepared | None] = {}
#: Statements are module-level constants, so the cache stays small; this bounds it if one is not.
_MOST_PREPARED = 512


def _raw_sqlite(conn: AsyncConnection) -> sqlite3.Connection | None:
    """SQLite's own connection, when this one runs its transaction inline on the event loop; else None."""
    sync = conn.sync_connection
    if sync is None or conn.dialect.name != "sqlite":
        return None
    driver = getattr(sync.connection, "driver_connection", None)
    raw = getattr(driver, "_connection", None)
    if not getattr(driver, "inline", False) or not isinstance(raw, sqlite3.Connection) or not raw.in_transaction:
        return None
    return raw


async def run(conn: AsyncConnection, statement: Executable, params: Mapping[str, Any]) -> Rows:
    """Execute one Core statement with named parameters, on the direct path when it can (see module doc)."""
    raw = _raw_sqlite(conn)
    if raw is None:
        return await conn.execute(statement, dict(params))
    key = (id(statement), frozenset(params))
    if key in _PREPARED:
        prepared = _PREPARED[key]
    else:
        try:
            prepared = prepare(statement, key[1], conn.dialect)
        except NotPrepared:
            prepared = None
        if len(_PREPARED) < _MOST_PREPARED:
            # Keyed by id(): the statement is kept alive so that its id is never another object's.
            _KEEP.append(statement)
            _PREPARED[key] = prepared
    if prepared is None:
        return await conn.execute(statement, dict(params))
    try:
        return prepared.run(raw, params)
    except sqlite3.Error:
        return await conn.execute(statement, dict(params))


#: Statements whose ids key ``_PREPARED`` (kept alive so an id is never reused by another object).
_KEEP: list[Executable] = []
