"""The router: turns a classified reply into work items, their "created" events and notices, in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..settings import Settings
from ..store.tables import Case, FeedbackItem, User, WorkItem, WorkItemEvent
from .notify import NEW_ITEM, queue_notices
from .plan import CaseFacts, Decision, Officer, Plan, plan
from .rules import Facts, RoutingRules
from .sla import WorkingCalendar


class SessionDirectory:
    """Officers looked up in the ``users`` table through the caller's session (active accounts only)."""

    def __init__(self, s: AsyncSession) -> None:
        self.s = s
        self._cache: dict[str, Officer | None] = {}

    async def officer(self, ref: str) -> Officer | None:
        """The active user whose officer_ref is ``ref``."""
        if ref not in self._cache:
            user = (await self.s.exec(select(User).where(User.officer_ref == ref, col(User.active).is_(True)))).first()
            self._cache[ref] = (Officer(ref, user.id, user.email, user.supervisor_ref) if user is not None
                                else None)
        return self._cache[ref]


def facts_for(item: FeedbackItem, case: Case | None) -> tuple[Facts, CaseFacts]:
    """What the rules see of a stored reply and its case."""
    facts = Facts.from_classification(
        item.classification, touchpoint=item.touchpoint, crime_type=case.crime_type if case else None,
        area=case.area if case else None, flags=list(case.sensitive_flags) if case else [])
    return facts, CaseFacts(case.officer_in_case if case else None, case.team if case else None)


class Router:
    """Routes classified replies by the rules in one routing file.

    ``route`` is called inside the transaction that stores a reply's classification: it adds one work
    item per target (never two for the same target), a ``created`` event on each naming the rule that
    fired and why, and the queued notices; it does not commit.

    Example (in a transaction, after ``s.flush()`` gave ``item`` its id)::

        items = await services.router.route(s, item, now=clock.now())
    """

    def __init__(self, rules: RoutingRules, settings: Settings, calendar: WorkingCalendar) -> None:
        self.rules = rules
        self.settings = settings
        self.calendar = calendar

    async def plan_for(self, s: AsyncSession, item: FeedbackItem, *, now: datetime) -> Plan:
        """The decisions for a stored reply, without writing anything."""
        case = await s.get(Case, item.case_id) if item.case_id is not None else None
        facts, case_facts = facts_for(item, case)
        return await plan(self.rules, facts, case_facts, SessionDirectory(s), now=now, calendar=self.calendar)

    async def route(self, s: AsyncSession, item: FeedbackItem, *, now: datetime) -> list[WorkItem]:
        """Add the work items, events and notices for one classified reply; returns the new items."""
        assert item.id is not None, "route() needs a flushed FeedbackItem"
        if not item.classification:
            return []
        existing = (await s.exec(select(WorkItem.id).where(WorkItem.feedback_item_id == item.id).limit(1))).first()
        if existing is not None:
            return []
        decided = await self.plan_for(s, item, now=now)
        made: list[tuple[WorkItem, Decision]] = []
        for decision in decided.decisions:
            work = self._work_item(item, decision, now)
            s.add(work)
            made.append((work, decision))
        if not made:
            return []
        await s.flush()
        for work, decision in made:
            s.add(WorkItemEvent(work_item_id=work.id or 0, at=now, kind="created", detail=self._why(decision)))
            email = decision.owner.email if decision.owner is not None else self._queue_email(decision.ref)
            queue_notices(s, work, email=email, kind=NEW_ITEM, settings=self.settings, now=now)
        return [work for work, _ in made]

    def _queue_email(self, ref: str) -> str | None:
        spec = self.rules.queues.get(ref)
        return spec.email if spec is not None else None

    @staticmethod
    def _work_item(item: FeedbackItem, d: Decision, now: datetime) -> WorkItem:
        sla = d.spec.sla
        return WorkItem(
            feedback_item_id=item.id or 0, case_id=item.case_id, contact_id=item.contact_id,
            session_id=item.session_id, touchpoint=item.touchpoint, rule_id=d.rule.id, purpose=d.spec.purpose,
            priority=d.spec.priority, target_kind=d.kind, target_ref=d.ref,
            owner_user_id=d.owner.user_id if d.owner is not None else None, status="new",
            sla_minutes=sla.minutes if sla else None, working_hours=sla.working_hours if sla else False,
            due_at=d.due_at, escalate_to_kind=d.escalate_to[0] if d.escalate_to else None,
            escalate_to_ref=d.escalate_to[1] if d.escalate_to else None, created_at=now, updated_at=now)

    @staticmethod
    def _why(d: Decision) -> dict[str, object]:
        return {
            "rule": d.rule.id, "reasons": list(d.reasons), "target": d.spec.kind,
            "sla": d.spec.sla.text if d.spec.sla else None, "fallback": d.fallback_reason,
            "also_matched": list(d.also_matched),
        }
