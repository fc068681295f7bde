"""The database handle: one async engine, SQLite (WAL) by default or PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from .checkpoint import BACKSTOP_PAGES, WAL_SIZE_LIMIT, Checkpointer
from .writer_lock import WriterLock


def async_url(url: str) -> str:
    """Turn a plain ``sqlite:///`` or ``postgresql://`` URL into its asyncio driver form."""
    parsed = make_url(url)
    if parsed.drivername in {"sqlite", "sqlite+aiosqlite"}:
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if parsed.drivername in {"postgresql", "postgres", "postgresql+asyncpg"}:
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}; use sqlite:/// or postgresql://")


def is_sqlite(url: str) -> bool:
    """Whether the URL names an SQLite database."""
    return make_url(url).drivername.startswith("sqlite")


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


class Database:
    """Owns the engine; hands out short transactions. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.sqlite:
            path = sqlite_path(url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            # One connection: SQLite has one writer; queueing in-process beats lock contention.
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60, async_creator=self._connect_sqlite)
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        self.checkpointer: Checkpointer | None = None
        if self.sqlite:
            path = sqlite_path(url)
            self.checkpointer = Checkpointer(path) if path is not None else None
            _configure_sqlite(self.engine, self.checkpointer)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def _connect_sqlite(self) -> aiosqlite.Connection:
        """An aiosqlite connection that runs the statements of a write transaction inline (see below)."""
        args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        database, options = args[0], {**kwargs, "check_same_thread": False}
        return await _InlineSqliteConnection(lambda: sqlite3.connect(database, **options), 64)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection (and stop the SQLite checkpointer after a last checkpoint)."""
        await self.engine.dispose()
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)


#: How long a connection waits for another one's write lock (SQLite's busy timeout).
BUSY_TIMEOUT_MS = 10_000
_CURSOR_WORK = frozenset({"execute", "executemany", "fetchone", "fetchmany", "fetchall"})
_ENDS_TRANSACTION = ("COMMIT", "END", "ROLLBACK")
_THREAD, _INLINE, _BEGIN = "thread", "inline", "begin"


class _InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite, except that the work of a transaction runs on the event loop's own thread.

    aiosqlite hands every call to its worker thread and waits to be woken: about four round trips per
    statement (cursor, execute, fetch, close), over a hundred per victim's reply, and under load they were
    most of the time a reply took (docs/performance.md). Here, in WAL mode only:

    * ``BEGIN IMMEDIATE`` (every transaction's first statement, see ``_on_begin``) is first tried inline
      (the connection's busy timeout is off); only if another connection holds the write lock does it go
      to the worker thread to wait for it (up to ``BUSY_TIMEOUT_MS``), so the event loop never sleeps on a
      lock;
    * once the transaction is open this connection holds SQLite's write lock, and in WAL mode nothing it
      does then waits for another connection: statements, fetches and COMMIT run inline (with
      ``synchronous=NORMAL`` a commit only appends to the WAL; copying the WAL back into the database, which
      fsyncs, is the ``Checkpointer``'s work on a thread of its own);
    * making and closing cursors, and the pool's rollback when no transaction is open, are no-ops;
    * everything else (connecting, PRAGMAs, ROLLBACK of an open transaction, closing) takes the thread.

    Same statements in the same order on the same connection; only the thread that runs them differs.
    """

    inline = False
    #: The writers' turnstile shared with other processes (file databases in WAL mode; see WriterLock).
    writer: WriterLock | None = None

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        connection = self._connection
        where = _where(connection, fn, args) if self.inline and self._running and connection is not None else _THREAD
        if where == _INLINE:
            result = fn(*args, **kwargs)
            self._hand_on(connection)
            return result
        if where == _BEGIN and connection is not None:
            writer = self.writer
            if writer is None or writer.try_acquire():
                try:
                    return fn(*args, **kwargs)
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                        self._hand_on(connection)
                        raise
            # Another connection is writing: wait for the turnstile, then SQLite's lock, on the worker thread.
            return await super()._execute(_waiting, connection, writer, fn, args, kwargs)  # type: ignore[no-untyped-call]
        try:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            self._hand_on(connection)

    def _hand_on(self, connection: sqlite3.Connection | None) -> None:
        """Release the writers' turnstile once the transaction has ended (committed or rolled back)."""
        if self.writer is not None and self.writer.held and (connection is None or not connection.in_transaction):
            self.writer.release()

    async def close(self) -> None:
        """Close the connection and the turnstile's file."""
        try:
            await super().close()
        finally:
            if self.writer is not None:
                self.writer.close()


def _waiting(connection: sqlite3.Connection, writer: WriterLock | None, fn: Callable[..., Any],
             args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Take the turnstile, then run ``fn`` with the busy timeout on (on the worker thread: it may wait)."""
    if writer is not None:
        writer.acquire(BUSY_TIMEOUT_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return fn(*args, **kwargs)
    except BaseException:
        if writer is not None and not connection.in_transaction:
            writer.release()
        raise
    finally:
        connection.execute("PRAGMA busy_timeout=0")


def _where(connection: sqlite3.Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """Which thread runs one aiosqlite call (see _InlineSqliteConnection)."""
    owner, name = getattr(fn, "__self__", None), getattr(fn, "__name__", "")
    if owner is connection:
        if name == "cursor" or (name == "rollback" and not connection.in_transaction):
            return _INLINE
        return _INLINE if name == "commit" else _THREAD
    if not isinstance(owner, sqlite3.Cursor):
        return _THREAD
    if name == "close":
        return _INLINE
    if name not in _CURSOR_WORK:
        return _THREAD
    verb = str(args[0]).lstrip()[:8].upper() if name == "execute" and args else ""
    if not connection.in_transaction:
        return _BEGIN if verb.startswith("BEGIN") else _THREAD
    return _THREAD if verb.startswith(_ENDS_TRANSACTION) else _INLINE


def _configure_sqlite(engine: AsyncEngine, checkpointer: Checkpointer | None) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        mode = cursor.fetchone()
        wal = mode is not None and str(mode[0]).lower() == "wal"
        driver = getattr(dbapi_connection, "driver_connection", None)
        if isinstance(driver, _InlineSqliteConnection) and wal:
            driver.inline = True
            if checkpointer is not None:  # a file, not :memory:
                driver.writer = WriterLock(checkpointer.database)
            cursor.execute("PRAGMA busy_timeout=0")  # BEGIN waits on the worker thread instead (_waiting)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal and checkpointer is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            checkpointer.start()
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
