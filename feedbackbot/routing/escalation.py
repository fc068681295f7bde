"""The escalation worker: items still new past their due time go up a level; urgent alerts repeat until acknowledged."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..clock import Clock
from ..store.db import Database
from ..store.tables import Notification, WorkItem, WorkItemEvent
from .notify import ESCALATED, UNTIL_ACKNOWLEDGED, URGENT_REPEAT, queue_notices, urgent_notices
from .plan import escalation_target
from .router import Router, SessionDirectory
from .sla import due_time

log = logging.getLogger(__name__)
BATCH = 100


class EscalationWorker:
    """Runs on every scheduler pass; all its state is in ``work_items`` and ``notifications``, so restarts are safe.

    An item escalates once: it gets ``escalated_at``, its ``escalation_level`` goes up by one, an
    ``escalated`` event, and its escalation target a new item (or, when that target already has an item
    for the same reply, an ``escalated`` event on that one) with a ``created`` event linking back and a
    notice. An urgent item that nobody has acknowledged gets its SMS and webhook alert again every
    ``urgent_repeat_minutes``.
    """

    def __init__(self, db: Database, router: Router, clock: Clock) -> None:
        self.db = db
        self.router = router
        self.clock = clock

    async def run_once(self) -> int:
        """Escalate what is overdue and repeat urgent alerts; returns how many things were done."""
        return await self.escalate_overdue() + await self.repeat_urgent()

    async def escalate_overdue(self) -> int:
        """Escalate every new, overdue, not yet escalated item that has somewhere to go."""
        now = self.clock.now()
        async with self.db.session() as s:
            query = select(WorkItem).where(
                WorkItem.status == "new", col(WorkItem.due_at) <= now, col(WorkItem.escalated_at).is_(None),
                col(WorkItem.escalate_to_kind).is_not(None)).order_by(col(WorkItem.due_at)).limit(BATCH)
            if not self.db.sqlite:
                query = query.with_for_update(skip_locked=True)
            items = list((await s.exec(query)).all())
            for item in items:
                await self._escalate(s, item, now)
        return len(items)

    async def _escalate(self, s: AsyncSession, item: WorkItem, now: datetime) -> None:
        kind, ref = item.escalate_to_kind or "queue", item.escalate_to_ref or ""
        item.escalated_at, item.escalation_level, item.updated_at = now, item.escalation_level + 1, now
        item.version += 1
        directory = SessionDirectory(s)
        existing = (await s.exec(select(WorkItem).where(
            WorkItem.feedback_item_id == item.feedback_item_id, WorkItem.target_kind == kind,
            WorkItem.target_ref == ref))).first()
        owner = await directory.officer(ref) if kind == "officer" else None
        email = owner.email if owner is not None else self._queue_email(ref)
        if existing is not None:
            target = existing
            s.add(WorkItemEvent(work_item_id=existing.id or 0, at=now, kind="escalated",
                                detail={"from_item": item.id, "reason": "SLA passed unacknowledged",
                                        "level": item.escalation_level}))
        else:
            due = (due_time(now, item.sla_minutes, working_hours=item.working_hours, calendar=self.router.calendar)
                   if item.sla_minutes else None)
            onward = await escalation_target(self.router.rules, None, kind, ref, owner, directory)
            target = WorkItem(
                feedback_item_id=item.feedback_item_id, case_id=item.case_id, contact_id=item.contact_id,
                session_id=item.session_id, touchpoint=item.touchpoint, rule_id=item.rule_id, purpose="action",
                priority=item.priority, target_kind=kind, target_ref=ref,
                owner_user_id=owner.user_id if owner is not None else None, status="new",
                sla_minutes=item.sla_minutes, working_hours=item.working_hours, due_at=due,
                escalate_to_kind=onward[0] if onward and onward != (kind, ref) else None,
                escalate_to_ref=onward[1] if onward and onward != (kind, ref) else None,
                created_at=now, updated_at=now)
            s.add(target)
            await s.flush()
            s.add(WorkItemEvent(work_item_id=target.id or 0, at=now, kind="created",
                                detail={"rule": item.rule_id, "escalated_from": item.id,
                                        "reasons": [f"item {item.id} was not acknowledged by its due time"],
                                        "level": item.escalation_level}))
        s.add(WorkItemEvent(work_item_id=item.id or 0, at=now, kind="escalated",
                            detail={"to_item": target.id, "target_kind": kind, "target_ref": ref,
                                    "level": item.escalation_level}))
        # An item that already existed has its own urgent alerts running; only a new one starts them.
        queue_notices(s, target, email=email, kind=ESCALATED, settings=self.router.settings, now=now,
                      urgent_alerts=existing is None)
        log.info("escalated work item %s to %s %s (item %s)", item.id, kind, ref, target.id)

    def _queue_email(self, ref: str) -> str | None:
        spec = self.router.rules.queues.get(ref)
        return spec.email if spec is not None else None

    async def repeat_urgent(self) -> int:
        """Queue the next SMS/webhook alert for urgent items still new once the last one is old enough.

        Safe with several worker processes: on PostgreSQL the items are claimed ``FOR UPDATE SKIP LOCKED``,
        and on both databases a unique index on (item, channel, round) refuses a second copy of a round, in
        which case that item is left to the worker that got there first.
        """
        settings = self.router.settings
        if not (settings.oncall_sms_number or settings.notify_webhook_url) or settings.urgent_repeat_minutes <= 0:
            return 0
        now = self.clock.now()
        cutoff = now - timedelta(minutes=settings.urgent_repeat_minutes)
        queued = 0
        async with self.db.session() as s:
            last = (select(Notification.work_item_id, func.max(Notification.sequence).label("seq"),
                           func.max(Notification.created_at).label("at"))
                    .where(col(Notification.kind).in_(UNTIL_ACKNOWLEDGED))
                    .group_by(col(Notification.work_item_id)).subquery())
            query = (select(WorkItem.id, last.c.seq).join(last, last.c.work_item_id == WorkItem.id)
                     .where(WorkItem.status == "new", WorkItem.priority == "urgent", last.c.at <= cutoff)
                     .order_by(col(WorkItem.id)).limit(BATCH))
            if not self.db.sqlite:
                query = query.with_for_update(skip_locked=True, of=WorkItem)
            rows = (await s.exec(query)).all()
            for work_item_id, sequence in rows:
                try:
                    async with s.begin_nested():
                        for row in urgent_notices(work_item_id or 0, settings, now, URGENT_REPEAT, int(sequence) + 1):
                            s.add(row)
                        s.add(WorkItemEvent(work_item_id=work_item_id or 0, at=now, kind="alert_repeated",
                                            detail={"sequence": int(sequence) + 1}))
                except IntegrityError:
                    log.info("urgent alert %s for work item %s was already queued by another worker",
                             int(sequence) + 1, work_item_id)
                    continue
                queued += 1
        return queued
