"""Rows the routing tests start from: staff accounts, a case, and a victim's reply waiting for the worker."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from feedbackbot.app import Services
from feedbackbot.store.tables import Case, FeedbackItem, Notification, User, WorkItem, WorkItemEvent

#: Hostile victim text: it must never reach a notice.
VICTIM_TEXT = ('Jane Victim-Smith here <script>x</script> "><img src=x onerror=alert(1)> he is outside now, '
               'call me on 07700 900123 =HYPERLINK("http://evil.example","click")')


async def add_officer(services: Services, ref: str, *, supervisor: str | None = None, email: str | None = None,
                      teams: list[str] | None = None, role: str = "officer", active: bool = True) -> int:
    """A staff account with an officer ref (the password hash is irrelevant here)."""
    now = services.clock.now()
    async with services.db.session() as s:
        user = User(username=ref.lower(), display_name=f"Officer {ref}", email=email, role=role, officer_ref=ref,
                    supervisor_ref=supervisor, teams=teams or [], password_hash="not-a-real-hash", active=active,
                    password_changed_at=now, created_at=now, updated_at=now)
        s.add(user)
        await s.flush()
        assert user.id is not None
        return user.id


async def add_case(services: Services, reference: str, *, officer: str | None = None, team: str | None = None,
                   crime_type: str = "burglary", flags: list[str] | None = None) -> int:
    """A case as the records system would have sent it."""
    now = services.clock.now()
    async with services.db.session() as s:
        case = Case(reference=reference, crime_type=crime_type, area="north", officer_in_case=officer, team=team,
                    sensitive_flags=flags or [], created_at=now, updated_at=now)
        s.add(case)
        await s.flush()
        assert case.id is not None
        return case.id


async def add_reply(services: Services, text: str, case_id: int | None, *, touchpoint: str | None = None) -> int:
    """A reply stored while the classifier could not run: pending, for the classification worker."""
    async with services.db.session() as s:
        item = FeedbackItem(case_id=case_id, text=text, touchpoint=touchpoint, classification={},
                            created_at=services.clock.now())
        s.add(item)
        await s.flush()
        assert item.id is not None
        return item.id


async def items_for(services: Services, feedback_id: int) -> list[WorkItem]:
    """The work items of a reply, by id."""
    async with services.db.session() as s:
        return list((await s.exec(select(WorkItem).where(WorkItem.feedback_item_id == feedback_id)
                                  .order_by(col(WorkItem.id)))).all())


async def events_for(services: Services, work_item_id: int) -> list[WorkItemEvent]:
    """A work item's history, oldest first."""
    async with services.db.session() as s:
        return list((await s.exec(select(WorkItemEvent).where(WorkItemEvent.work_item_id == work_item_id)
                                  .order_by(col(WorkItemEvent.id)))).all())


async def notifications(services: Services) -> list[Notification]:
    """Every notification row, oldest first."""
    async with services.db.session() as s:
        return list((await s.exec(select(Notification).order_by(col(Notification.id)))).all())


async def acknowledge(services: Services, work_item_id: int, at: datetime) -> None:
    """Someone acknowledges an item (what the inbox does; here straight on the row)."""
    async with services.db.session() as s:
        item = await s.get(WorkItem, work_item_id)
        assert item is not None
        item.status, item.acknowledged_at, item.updated_at = "acknowledged", at, at
