"""Bring any database to the current schema with alembic, programmatically."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from .db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An alembic Config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(db: Database) -> None:
    """Apply every pending migration (a new database is created from nothing)."""
    async with db.engine.connect() as conn:
        await conn.run_sync(_upgrade, db.url)
        await conn.commit()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def migrate_url(url: str) -> None:
    """Synchronous entry point for the ``feedbackbot migrate`` command."""

    async def run() -> None:
        db = Database(url)
        try:
            await migrate(db)
        finally:
            await db.dispose()

    asyncio.run(run())
