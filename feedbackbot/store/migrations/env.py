"""Alembic environment: runs on the connection handed over by feedbackbot.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from feedbackbot.store import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `feedbackbot migrate`, which supplies the connection")
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
