"""A turnstile for SQLite writers in several processes: a file lock taken before BEGIN, handed on at once."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path

#: How often a waiting writer looks at the lock again (seconds).
POLL_SECONDS = 0.0005


class WriterLock:
    """An exclusive ``flock`` on ``<database>-writer.lock``, held from BEGIN until COMMIT or ROLLBACK.

    SQLite lets one connection write at a time; a second one that finds the lock taken sleeps and tries
    again (1, 2, 5, 10 ms... up to its busy timeout), so it can keep missing the short gaps between the
    other's transactions: with a worker process carrying out survey turns back to back, a web process's
    acknowledgements waited seconds. Here a waiting writer looks again every half millisecond, so writers
    take turns with no long sleeps in between. Every connection the product makes
    takes this lock before ``BEGIN IMMEDIATE``; SQLite's own lock stays the authority for anyone else.
    """

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer.lock")
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.held = False

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting; whether it is now held."""
        if not self.held:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self.held = True
        return True

    def acquire(self, timeout: float) -> None:
        """Take the lock, waiting up to ``timeout`` seconds (call this off the event loop).

        It looks again every half millisecond rather than blocking in ``flock``, so that a writer that never
        lets go (a bug, a hung process) ends in "database is locked", as SQLite's busy timeout would.
        """
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked (another process held the write turn)")
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        """Hand the lock on."""
        if self.held:
            self.held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release the lock and close the file."""
        if self._fd >= 0:
            self.release()
            os.close(self._fd)
            self._fd = -1
