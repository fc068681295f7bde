"""Copies SQLite's write-ahead log into the database file on a thread of its own, off the event loop."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: How often the checkpointer looks at the write-ahead log (seconds).
INTERVAL = 0.5
#: The log's size, in bytes, from which it is copied back (256 pages of 4 KiB).
THRESHOLD_BYTES = 1 << 20
#: Connections still checkpoint for themselves once the log holds this many pages (SQLite's own
#: ``wal_autocheckpoint``): a backstop should the checkpointer fall behind, never the usual path.
BACKSTOP_PAGES = 8_000
#: After a burst the log is cut back to this size once it starts again from the top (``journal_size_limit``).
WAL_SIZE_LIMIT = 4 << 20


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` from its own connection whenever the log has grown.

    By default SQLite checkpoints inside the COMMIT that takes the log past 1,000 pages: copying pages and
    fsyncing the database file on the event loop's thread, a few milliseconds during which no victim is
    answered. Here the serving connections leave that to this thread (their ``wal_autocheckpoint`` is only a
    backstop). A passive checkpoint never waits for a lock and never blocks a writer; once it has copied the
    whole log, the next writer starts the log again from the top, so the file does not grow.
    """

    def __init__(self, database: Path, *, interval: float = INTERVAL, threshold: int = THRESHOLD_BYTES) -> None:
        self.database = database
        self.wal = database.with_name(database.name + "-wal")
        self.interval = interval
        self.threshold = threshold
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop the thread after a last checkpoint, and wait for it."""
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        self._stop.clear()  # a connection made after this (the engine can be used again) starts it anew

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                if self._due() or (stopping and self.wal.exists()):
                    if connection is None:
                        connection = sqlite3.connect(self.database, isolation_level=None)
                        connection.execute("PRAGMA busy_timeout=0")
                    self._checkpoint(connection)
                if stopping:
                    return
        finally:
            if connection is not None:
                connection.close()

    def _due(self) -> bool:
        try:
            return self.wal.stat().st_size >= self.threshold
        except FileNotFoundError:
            return False

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # the next round tries again; the backstop keeps the log bounded
            log.warning("write-ahead log checkpoint failed: %s", exc)
