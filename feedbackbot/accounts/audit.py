"""The append-only audit log: write one entry, and search entries for the admin page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..store.db import Database
from ..store.tables import AuditEntry
from .staff import StaffUser


def add_entry(s: AsyncSession, *, at: datetime, user: StaffUser | None, action: str,
              object_type: str | None = None, object_id: str | int | None = None, outcome: str = "ok",
              client_address: str | None = None, detail: Mapping[str, Any] | None = None,
              username: str | None = None) -> None:
    """Add one audit entry to the session's transaction (there is no code path that changes or deletes one)."""
    s.add(AuditEntry(at=at, user_id=user.id if user else None, username=user.username if user else username,
                     role=user.role if user else None, action=action[:64], object_type=object_type,
                     object_id=None if object_id is None else str(object_id)[:64], outcome=outcome[:16],
                     client_address=client_address, detail=dict(detail or {})))


@dataclass(frozen=True)
class AuditQuery:
    """What the admin searches for; every field optional."""

    username: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def search(db: Database, query: AuditQuery, *, limit: int, offset: int) -> tuple[Sequence[AuditEntry], int]:
    """Matching entries, newest first, one page of them, and how many match in all."""
    conditions: list[Any] = []
    if query.username:
        conditions.append(col(AuditEntry.username) == query.username.strip().lower())
    if query.action:
        conditions.append(col(AuditEntry.action).startswith(query.action.strip()))
    if query.object_type:
        conditions.append(col(AuditEntry.object_type) == query.object_type.strip())
    if query.object_id:
        conditions.append(col(AuditEntry.object_id) == query.object_id.strip())
    if query.outcome:
        conditions.append(col(AuditEntry.outcome) == query.outcome.strip())
    if query.since:
        conditions.append(col(AuditEntry.at) >= query.since)
    if query.until:
        conditions.append(col(AuditEntry.at) < query.until)
    async with db.session() as s:
        rows = (await s.exec(select(AuditEntry).where(*conditions)
                             .order_by(col(AuditEntry.id).desc()).limit(limit).offset(offset))).all()
        total = (await s.exec(select(func.count()).select_from(AuditEntry).where(*conditions))).one()
    return rows, int(total)
