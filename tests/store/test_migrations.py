"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL, from nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from feedbackbot.cli import main
from feedbackbot.store import tables  # noqa: F401
from feedbackbot.store.db import Database
from feedbackbot.store.migrate import current_revision, head_revision


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    async def check() -> tuple[list[Any], str | None]:
        db = Database(database_url)
        try:
            async with db.engine.connect() as conn:
                diff = await conn.run_sync(_diff)
            return diff, await current_revision(db)
        finally:
            await db.dispose()

    diff, revision = asyncio.run(check())
    assert diff == [], "tables.py changed without a migration: run alembic revision --autogenerate"
    assert revision == head_revision()


def test_migrate_command_creates_a_new_sqlite_database(tmp_path: Path, monkeypatch: Any,
                                                       capsys: Any) -> None:
    target = tmp_path / "fresh" / "feedbackbot.db"
    monkeypatch.setenv("FEEDBACKBOT_DATABASE_URL", f"sqlite:///{target}")
    assert main(["migrate"]) == 0
    assert target.exists()
    assert f"database is at schema {head_revision()}" in capsys.readouterr().out
    assert main(["migrate"]) == 0, "migrating an up-to-date database is a no-op"
