"""SQLite under the server: the write-ahead log is copied back off the event loop; a second writer waits its turn."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from feedbackbot.store.db import Database


def _rows_in_the_database_file(path: Path) -> int:
    """Rows the database file itself holds, ignoring whatever is still only in the write-ahead log."""
    check = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return int(check.execute("SELECT count(*) FROM blobs").fetchone()[0])
    except sqlite3.DatabaseError:  # no table yet, or caught half-way through a checkpoint
        return -1
    finally:
        check.close()


async def test_the_write_ahead_log_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite:///{path}")
    try:
        async with db.session() as s:
            await s.exec(text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)"))  # type: ignore[call-overload]
        for _ in range(2000):  # ~4,000 pages: SQLite's own backstop would copy nothing back before 8,000
            async with db.session() as s:
                await s.exec(text("INSERT INTO blobs (body) VALUES (randomblob(4000))"))  # type: ignore[call-overload]
        for _ in range(200):  # the checkpointer looks every half second, on its own thread
            if _rows_in_the_database_file(path) == 2000:
                break
            await asyncio.sleep(0.05)
        assert _rows_in_the_database_file(path) == 2000
        assert db.checkpointer is not None and db.checkpointer.checkpoints >= 1
        # The rows can reach the file before that checkpoint has marked the log as copied back; the next
        # rounds (the log stays over its limit, so one comes every half second) show one that started after it.
        seen = db.checkpointer.checkpoints
        for _ in range(100):
            if db.checkpointer.checkpoints > seen + 1:
                break
            await asyncio.sleep(0.05)
        wal = db.checkpointer.wal
        assert wal.stat().st_size > 4 * 1024 * 1024
        # Once it has all been copied back, the next write starts the log again from the top and cuts the
        # file back to its size limit: a burst does not leave a large log behind.
        async with db.session() as s:
            await s.exec(text("INSERT INTO blobs (body) VALUES (randomblob(10))"))  # type: ignore[call-overload]
        assert wal.stat().st_size <= 4 * 1024 * 1024
    finally:
        await db.dispose()


@pytest.fixture
async def two_writers(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """Two handles on one SQLite file, as two processes would have, with a table ``notes``."""
    url = f"sqlite:///{tmp_path / 'two.db'}"
    first, second = Database(url), Database(url)
    await _run(first, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


async def _run(db: Database, sql: str) -> None:
    async with db.session() as s:
        await s.exec(text(sql))  # type: ignore[call-overload]


async def test_a_second_writer_waits_for_the_first_and_then_commits(two_writers: tuple[Database, Database]) -> None:
    first, second = two_writers
    holding, release = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with first.session() as s:
            await s.exec(text("INSERT INTO notes (body) VALUES ('first')"))  # type: ignore[call-overload]
            holding.set()
            await release.wait()

    task = asyncio.create_task(slow_writer())
    await holding.wait()
    waiting = asyncio.create_task(_run(second, "INSERT INTO notes (body) VALUES ('second')"))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # blocked on the lock, on aiosqlite's thread: the loop still runs this test
    release.set()
    await asyncio.wait_for(asyncio.gather(task, waiting), timeout=10)
    async with second.session() as s:
        rows = (await s.exec(text("SELECT body FROM notes ORDER BY id"))).all()  # type: ignore[call-overload]
    assert [r[0] for r in rows] == ["first", "second"]


async def test_a_failed_transaction_hands_the_write_turn_on(two_writers: tuple[Database, Database]) -> None:
    first, second = two_writers
    with pytest.raises(Exception, match="NOT NULL"):
        await _run(first, "INSERT INTO notes (body) VALUES (NULL)")
    # The other process's writer is not left waiting for a turn the failed transaction never handed on.
    await asyncio.wait_for(_run(second, "INSERT INTO notes (body) VALUES ('after')"), timeout=10)
