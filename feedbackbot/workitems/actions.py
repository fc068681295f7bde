"""What officers do with a work item, each in one transaction with its history and audit rows.

Every change that moves an item on (acknowledge, start, reassign, reply, resolve, correct) is an
``UPDATE … WHERE version = <the version the officer saw>``: when two officers act at once, the second
gets :class:`Conflict` and nothing of theirs is written (the page shows their words back to them).
Notes only add to the history, so they never conflict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..accounts.audit import add_entry
from ..accounts.staff import REF, StaffUser
from ..clock import Clock
from ..conversation import PULL_CHANNELS, case_context
from ..nlp.taxonomy import load_taxonomy
from ..settings import Settings
from ..store.db import Database
from ..store.tables import (
    Case,
    ClassificationCorrection,
    Contact,
    FeedbackItem,
    Message,
    Notification,
    User,
    WorkItem,
    WorkItemEvent,
)
from .detail import TAG_FIELDS, effective_tags
from .queries import OPEN_STATES
from .reply_templates import ReplyTemplate
from .visibility import visible_clause

MAX_NOTE = 4000


class ItemNotFound(LookupError):
    """No such item, or not one this user may see (the page answers 404 either way)."""


class ActionRefused(ValueError):
    """The action does not apply to the item as it is (the message says why, in plain words)."""


class Conflict(RuntimeError):
    """Someone else changed the item after this officer loaded it."""


CONFLICT_MESSAGE = ("Someone else changed this item while you had it open, so your change was not saved. "
                    "Check the item as it is now and try again; your words are kept in the form below.")


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (for the audit log)."""

    user: StaffUser
    client_address: str | None


class WorkItemActions:
    """Acknowledge, start, note, reassign, reply, resolve and correct: history, audit and notifications."""

    def __init__(self, db: Database, settings: Settings, clock: Clock,
                 templates: Callable[[], Mapping[str, ReplyTemplate]],
                 queues: Callable[[], Mapping[str, tuple[str, str | None]]],
                 outbox_ready: asyncio.Event | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.templates = templates
        #: queue id → (name, notification email)
        self.queues = queues
        self.outbox_ready = outbox_ready

    # --- the actions ------------------------------------------------------------------------------

    async def acknowledge(self, actor: Actor, item_id: int, version: int) -> WorkItem:
        """Tell everyone someone has picked the item up (new → acknowledged)."""
        now = self.clock.now()
        async with self.db.session() as s:
            item = await self._item(s, actor, item_id, version)
            if item.status != "new":
                raise ActionRefused(f"This item is {item.status.replace('_', ' ')}, so it cannot be acknowledged.")
            await self._update(s, item, version, now, status="acknowledged", acknowledged_at=now,
                               acknowledged_by=actor.user.id, owner_user_id=item.owner_user_id or actor.user.id)
            self._record(s, actor, item, "acknowledged", now)
            return item

    async def start(self, actor: Actor, item_id: int, version: int) -> WorkItem:
        """Mark the item as being worked on (new or acknowledged → in progress)."""
        now = self.clock.now()
        async with self.db.session() as s:
            item = await self._item(s, actor, item_id, version)
            if item.status not in ("new", "acknowledged"):
                raise ActionRefused(f"This item is {item.status.replace('_', ' ')}, so it cannot be started.")
            values: dict[str, Any] = {"status": "in_progress", "owner_user_id": actor.user.id}
            if item.acknowledged_at is None:
                values.update(acknowledged_at=now, acknowledged_by=actor.user.id)
            await self._update(s, item, version, now, **values)
            self._record(s, actor, item, "started", now)
            return item

    async def note(self, actor: Actor, item_id: int, text: str) -> WorkItem:
        """Add a note to the history (never conflicts: it changes nothing else)."""
        body = text.strip()
        if not body:
            raise ActionRefused("Write the note before adding it.")
        if len(body) > MAX_NOTE:
            raise ActionRefused(f"A note can be at most {MAX_NOTE} characters.")
        now = self.clock.now()
        async with self.db.session() as s:
            item = await self._item(s, actor, item_id)
            if item.status == "reassigned":
                raise ActionRefused("This item was passed on; add notes to the new item.")
            self._record(s, actor, item, "note", now, note=body, audit_detail={"length": len(body)})
            return item

    async def reassign(self, actor: Actor, item_id: int, version: int, target: str, reason: str) -> WorkItem:
        """Pass the item to another officer or queue: the old item is closed as reassigned, a new one opened."""
        why = reason.strip()
        if not why:
            raise ActionRefused("Say why you are passing this item on.")
        if len(why) > MAX_NOTE:
            raise ActionRefused(f"The reason can be at most {MAX_NOTE} characters.")
        kind, _, ref = target.strip().partition(":")
        if kind not in ("officer", "queue") or not REF.match(ref):
            raise ActionRefused("Choose an officer or a queue to pass this item to.")
        now = self.clock.now()
        async with self.db.session() as s:
            item = await self._item(s, actor, item_id, version)
            if item.status not in OPEN_STATES:
                raise ActionRefused(f"This item is {item.status.replace('_', ' ')}, so it cannot be passed on.")
            if (item.target_kind, item.target_ref) == (kind, ref):
                raise ActionRefused("The item is already with that officer or queue.")
            recipient = await self._recipient(s, kind, ref)
            taken = (await s.exec(select(WorkItem.id).where(
                WorkItem.feedback_item_id == item.feedback_item_id, WorkItem.target_kind == kind,
                WorkItem.target_ref == ref))).first()
            if taken is not None:
                raise ActionRefused("That officer or queue already has an item for this reply.")
            new = WorkItem(feedback_item_id=item.feedback_item_id, case_id=item.case_id, contact_id=item.contact_id,
                           session_id=item.session_id, touchpoint=item.touchpoint, rule_id=item.rule_id,
                           purpose=item.purpose, priority=item.priority, target_kind=kind, target_ref=ref,
                           status="new", sla_minutes=item.sla_minutes, working_hours=item.working_hours,
                           due_at=item.due_at, created_at=now, updated_at=now)
            s.add(new)
            try:
                await s.flush()
            except IntegrityError:
                raise Conflict(CONFLICT_MESSAGE) from None
            assert new.id is not None
            await self._update(s, item, version, now, status="reassigned", reassigned_to_id=new.id)
            detail = {"to_kind": kind, "to_ref": ref, "new_item_id": new.id}
            self._record(s, actor, item, "reassigned", now, note=why, detail=detail, audit_detail=detail)
            s.add(WorkItemEvent(work_item_id=new.id, at=now, user_id=actor.user.id, kind="created",
                                note=why, detail={"reassigned_from": item.id}))
            if recipient:
                s.add(Notification(work_item_id=new.id, channel="email", recipient=recipient, kind="reassigned",
                                   status="queued", next_attempt_at=now, created_at=now))
            return new

    async def reply(self, actor: Actor, item_id: int, version: int, template_id: str) -> WorkItem:
        """Send the victim an approved reply through the channel they used (refused if they opted out)."""
        template = self.templates().get(template_id)
        if template is None:
            raise ActionRefused("Choose one of the approved replies.")
        now = self.clock.now()
        async with self.db.session() as s:
            item = await self._item(s, actor, item_id, version)
            if item.status == "reassigned":
                raise ActionRefused("This item was passed on; reply from the new item.")
            feedback = await s.get(FeedbackItem, item.feedback_item_id)
            assert feedback is not None
            inbound = await s.get(Message, feedback.message_id) if feedback.message_id is not None else None
            contact = await s.get(Contact, feedback.contact_id) if feedback.contact_id is not None else None
            if inbound is None or contact is None:
                raise ActionRefused("This reply did not come through a channel we can answer on.")
            if contact.opted_out_at is not None:
                raise ActionRefused("The victim has asked for no more messages (they opted out), so no reply "
                                    "can be sent.")
            case = await s.get(Case, item.case_id) if item.case_id is not None else None
            context = {**case_context(case, self.settings), "officer_name": actor.user.display_name}
            text = template.render(contact.language or "en", context)
            await self._update(s, item, version, now)
            pull = inbound.channel in PULL_CHANNELS
            message = Message(direction="out", channel=inbound.channel, address=inbound.address,
                              contact_id=contact.id, session_id=feedback.session_id or inbound.session_id,
                              text=text, purpose="officer_reply", quick_replies=[], media=[],
                              status="sent" if pull else "queued", next_attempt_at=None if pull else now,
                              in_reply_to=inbound.provider_id, created_at=now, updated_at=now,
                              sent_at=now if pull else None)
            s.add(message)
            await s.flush()
            detail = {"template": template.id, "channel": inbound.channel, "message_id": message.id}
            self._record(s, actor, item, "replied", now, detail=detail, audit_detail=detail)
        if self.outbox_ready is not None:
            self.outbox_ready.set()
        return item

    async def resolve(self, actor: Actor, item_id: int, version: int, outcome: str) -> WorkItem:
        """Close the item with what was done, written for the board ("you said, we did")."""
        words = outcome.strip()
        if len(words) < 10:
            raise ActionRefused("Write what was done (at least a short sentence); the board sees it as "
                                "\"you said, we did\".")
        if len(words) > MAX_NOTE:
            raise ActionRefused(f"The outcome can be at most {MAX_NOTE} characters.")
        now = self.clock.now()
        async with self.db.session() as s:
            item = await self._item(s, actor, item_id, version)
            if item.status not in OPEN_STATES:
                raise ActionRefused(f"This item is {item.status.replace('_', ' ')}, so it cannot be resolved.")
            await self._update(s, item, version, now, status="resolved", resolved_at=now,
                               resolved_by=actor.user.id, outcome=words)
            self._record(s, actor, item, "resolved", now, note=words)
            return item

    async def correct(self, actor: Actor, item_id: int, version: int, after: Mapping[str, Any],
                      note: str) -> WorkItem:
        """Store an officer's correction of the reply's tags (kept for retraining; the item shows it)."""
        tags = _checked_tags(after)
        now = self.clock.now()
        async with self.db.session() as s:
            item = await self._item(s, actor, item_id, version)
            feedback = await s.get(FeedbackItem, item.feedback_item_id)
            assert feedback is not None
            earlier = (await s.exec(select(ClassificationCorrection).where(
                ClassificationCorrection.feedback_item_id == feedback.id,
            ).order_by(col(ClassificationCorrection.id)))).all()
            before = effective_tags(feedback.classification, earlier)
            if before == tags:
                raise ActionRefused("Those are the tags it already has; change at least one.")
            await self._update(s, item, version, now)
            s.add(ClassificationCorrection(feedback_item_id=feedback.id or 0, work_item_id=item.id,
                                           user_id=actor.user.id, at=now, before=before, after=tags,
                                           note=note.strip()[:MAX_NOTE] or None))
            changed = sorted(k for k in TAG_FIELDS if before.get(k) != tags.get(k))
            self._record(s, actor, item, "corrected", now, note=note.strip()[:MAX_NOTE] or None,
                         detail={"changed": changed, "before": before, "after": tags},
                         audit_detail={"changed": changed})
            return item

    # --- helpers ----------------------------------------------------------------------------------

    async def _item(self, s: AsyncSession, actor: Actor, item_id: int, version: int | None = None) -> WorkItem:
        """The item if this user may see it; Conflict if it moved on since the officer's page was drawn."""
        item = (await s.exec(select(WorkItem).where(WorkItem.id == item_id, visible_clause(actor.user)))).first()
        if item is None:
            raise ItemNotFound(item_id)
        if version is not None and item.version != version:
            raise Conflict(CONFLICT_MESSAGE)
        return item

    async def _update(self, s: AsyncSession, item: WorkItem, version: int, now: datetime, **values: Any) -> None:
        result = await s.exec(update(WorkItem).where(col(WorkItem.id) == item.id, col(WorkItem.version) == version)
                              .values(version=version + 1, updated_at=now, **values)
                              .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Conflict(CONFLICT_MESSAGE)
        for key, value in {"version": version + 1, "updated_at": now, **values}.items():
            setattr(item, key, value)

    def _record(self, s: AsyncSession, actor: Actor, item: WorkItem, kind: str, now: datetime, *,
                note: str | None = None, detail: dict[str, Any] | None = None,
                audit_detail: dict[str, Any] | None = None) -> None:
        s.add(WorkItemEvent(work_item_id=item.id or 0, at=now, user_id=actor.user.id, kind=kind, note=note,
                            detail=dict(detail or {})))
        add_entry(s, at=now, user=actor.user, action=f"work_item.{kind}", object_type="work_item",
                  object_id=item.id, client_address=actor.client_address, detail=audit_detail)

    async def _recipient(self, s: AsyncSession, kind: str, ref: str) -> str | None:
        """Who to email about a reassigned item; ActionRefused if the target does not exist."""
        if kind == "officer":
            user = (await s.exec(select(User).where(User.officer_ref == ref, col(User.active).is_(True)))).first()
            if user is None or user.role not in ("officer", "supervisor", "admin"):
                raise ActionRefused(f"There is no active officer with reference {ref}.")
            return user.email
        known = self.queues()
        if ref in known:
            return known[ref][1]
        teams = (await s.exec(select(User.teams).where(col(User.active).is_(True)))).all()
        if any(ref in (t or []) for t in teams):
            return None
        raise ActionRefused(f"There is no queue called {ref}.")


def _checked_tags(after: Mapping[str, Any]) -> dict[str, Any]:
    """Tags from the correction form, checked against the taxonomy."""
    taxonomy = load_taxonomy()
    risk, sentiment = str(after.get("risk") or ""), str(after.get("sentiment") or "")
    if risk not in taxonomy.risk_levels:
        raise ActionRefused("Choose a risk level.")
    if sentiment not in taxonomy.sentiments:
        raise ActionRefused("Choose a sentiment.")

    def many(name: str, allowed: tuple[str, ...]) -> list[str]:
        values = [str(v) for v in after.get(name) or ()]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ActionRefused(f"Unknown {name.replace('_', ' ')}: {', '.join(bad)}.")
        return [v for v in allowed if v in values]

    categories = many("risk_categories", taxonomy.risk_categories)
    if risk == "none" and categories:
        raise ActionRefused("A reply with no risk cannot have risk categories.")
    return {"risk": risk, "risk_categories": categories, "sentiment": sentiment,
            "themes": many("themes", taxonomy.themes), "requests": many("requests", taxonomy.requests)}
