"""Inbox queries: one page of visible items with filters, counts per target by GROUP BY, all indexed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select

from ..accounts.staff import StaffUser
from ..store.db import Database
from ..store.tables import Case, FeedbackItem, WorkItem
from .visibility import visible_clause

OPEN_STATES: tuple[str, ...] = ("new", "acknowledged", "in_progress")
ALL_STATES: tuple[str, ...] = (*OPEN_STATES, "resolved", "reassigned")
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")
PAGE_SIZE = 50
EXCERPT = 140


@dataclass(frozen=True)
class InboxFilter:
    """What the officer narrowed the inbox to; state ``open`` means new, acknowledged or in progress."""

    state: str = "open"
    queue: str | None = None  # "queue:<id>" or "officer:<ref>"
    priority: str | None = None
    overdue: bool = False
    touchpoint: str | None = None
    page: int = 1

    def states(self) -> tuple[str, ...]:
        """The states this filter keeps."""
        if self.state == "all":
            return ALL_STATES
        if self.state in ALL_STATES:
            return (self.state,)
        return OPEN_STATES


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox (an excerpt of the reply, never the contact's identity)."""

    id: int
    status: str
    priority: str
    purpose: str
    target_kind: str
    target_ref: str
    rule_id: str
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    touchpoint: str | None
    case_reference: str | None
    excerpt: str
    risk: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class TargetCount:
    """Open items for one target (me, or one of my queues), and how many are overdue."""

    target_kind: str
    target_ref: str
    open: int
    overdue: int


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox."""

    rows: Sequence[InboxRow]
    total: int
    page: int
    pages: int
    counts: Sequence[TargetCount] = field(default_factory=tuple)


def _priority_order() -> Any:
    return case({p: i for i, p in enumerate(PRIORITIES)}, value=col(WorkItem.priority), else_=len(PRIORITIES))


async def inbox_page(db: Database, user: StaffUser, wanted: InboxFilter, now: datetime) -> InboxPage:
    """The filtered, paginated list (soonest due first) and the per-target open counts."""
    where: list[Any] = [visible_clause(user), col(WorkItem.status).in_(wanted.states())]
    if wanted.queue:
        kind, _, ref = wanted.queue.partition(":")
        where += [col(WorkItem.target_kind) == kind, col(WorkItem.target_ref) == ref]
    if wanted.priority:
        where.append(col(WorkItem.priority) == wanted.priority)
    if wanted.overdue:
        where += [col(WorkItem.due_at) < now, col(WorkItem.status).in_(OPEN_STATES)]
    if wanted.touchpoint:
        where.append(col(WorkItem.touchpoint) == wanted.touchpoint)
    page = max(1, wanted.page)
    async with db.session() as s:
        total = int((await s.exec(select(func.count()).select_from(WorkItem).where(*where))).one())
        ids = (await s.exec(select(WorkItem.id).where(*where).order_by(
            col(WorkItem.due_at).is_(None), col(WorkItem.due_at), _priority_order(), col(WorkItem.id),
        ).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))).all()
        found = (await s.exec(
            select(WorkItem, FeedbackItem.text, FeedbackItem.classification, Case.reference)
            .join(FeedbackItem, col(FeedbackItem.id) == WorkItem.feedback_item_id)
            .outerjoin(Case, col(Case.id) == WorkItem.case_id)
            .where(col(WorkItem.id).in_(list(ids))))).all() if ids else []
        counts = (await s.exec(
            select(WorkItem.target_kind, WorkItem.target_ref, func.count(),
                   func.sum(case((col(WorkItem.due_at) < now, 1), else_=0)))
            .where(visible_clause(user), col(WorkItem.status).in_(OPEN_STATES))
            .group_by(col(WorkItem.target_kind), col(WorkItem.target_ref))
            .order_by(col(WorkItem.target_kind), col(WorkItem.target_ref)))).all()
    by_id = {item.id: (item, text, tags, ref) for item, text, tags, ref in found}
    rows = [_row(*by_id[i], now) for i in ids if i in by_id]
    return InboxPage(rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                     counts=[TargetCount(k, r, int(n), int(o or 0)) for k, r, n, o in counts])


def _row(item: WorkItem, text: str, tags: Mapping[str, Any], reference: str | None, now: datetime) -> InboxRow:
    assert item.id is not None
    flat = " ".join(text.split())
    excerpt = flat if len(flat) <= EXCERPT else flat[:EXCERPT - 1].rstrip() + "…"
    return InboxRow(id=item.id, status=item.status, priority=item.priority, purpose=item.purpose,
                    target_kind=item.target_kind, target_ref=item.target_ref, rule_id=item.rule_id,
                    due_at=item.due_at, overdue=is_overdue(item, now), created_at=item.created_at,
                    touchpoint=item.touchpoint, case_reference=reference, excerpt=excerpt,
                    risk=str(tags.get("risk") or "none"), themes=tuple(str(t) for t in tags.get("themes") or ()))


def is_overdue(item: WorkItem, now: datetime) -> bool:
    """An open item past its due time."""
    return item.status in OPEN_STATES and item.due_at is not None and item.due_at < now
