"""Fresh, migrated databases for each test: SQLite files copied from a template, PostgreSQL databases cloned."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from feedbackbot.store.db import Database
from feedbackbot.store.migrate import migrate

_counter = itertools.count()


def postgres_admin_url() -> str:
    """The server the test command started; tests that need PostgreSQL fail loudly without it."""
    url = os.environ.get("FEEDBACKBOT_TEST_POSTGRES_URL")
    if not url:
        raise RuntimeError("FEEDBACKBOT_TEST_POSTGRES_URL is not set: run the tests with `make test`, which "
                           "starts PostgreSQL (or set it to a server you started)")
    return url


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate(db)
    finally:
        await db.dispose()


class SqliteTemplates:
    """One migrated SQLite file per test session, copied for each test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template: Path | None = None

    def fresh(self, target: Path) -> str:
        """A migrated database at ``target``."""
        if self.template is None:
            self.template = self.folder / "template.db"
            asyncio.run(_migrate(f"sqlite:///{self.template}"))
        shutil.copy(self.template, target)
        return f"sqlite:///{target}"


class PostgresTemplates:
    """A migrated template database, cloned per test with CREATE DATABASE … TEMPLATE."""

    def __init__(self) -> None:
        self.admin = postgres_admin_url()
        self.template = f"fb_template_{uuid.uuid4().hex[:8]}"
        self.ready = False

    async def _exec(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def fresh(self) -> str:
        """A new, migrated database's URL."""
        if not self.ready:
            asyncio.run(self._exec(f'CREATE DATABASE "{self.template}"'))
            asyncio.run(_migrate(_with_database(self.admin, self.template)))
            self.ready = True
        name = f"fb_test_{os.getpid()}_{next(_counter)}"
        asyncio.run(self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return _with_database(self.admin, name)

    def drop(self, url: str) -> None:
        """Remove a test database."""
        name = url.rpartition("/")[2]
        asyncio.run(self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Remove the template."""
        if self.ready:
            asyncio.run(self._exec(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
