"""Who may see a work item: admin all; officers their own and their teams' queues; supervisors also their officers'."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_, true
from sqlmodel import col, select

from ..accounts.staff import ADMIN, OFFICER, SUPERVISOR, StaffUser
from ..store.tables import User, WorkItem


def visible_clause(user: StaffUser) -> Any:
    """A WHERE clause on ``work_items`` that keeps exactly the items this user may see."""
    if user.role == ADMIN:
        return true()
    if user.role not in (OFFICER, SUPERVISOR):
        return false()
    parts: list[Any] = []
    if user.officer_ref:
        parts.append(and_(col(WorkItem.target_kind) == "officer", col(WorkItem.target_ref) == user.officer_ref))
    if user.teams:
        parts.append(and_(col(WorkItem.target_kind) == "queue", col(WorkItem.target_ref).in_(list(user.teams))))
    if user.role == SUPERVISOR and user.officer_ref:
        supervised = select(User.officer_ref).where(User.supervisor_ref == user.officer_ref,
                                                    col(User.officer_ref).is_not(None))
        parts.append(and_(col(WorkItem.target_kind) == "officer", col(WorkItem.target_ref).in_(supervised)))
    return or_(*parts) if parts else false()
