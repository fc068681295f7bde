"""Everything the item page shows, loaded only for a user who may see the item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from ..accounts.staff import StaffUser
from ..store.db import Database
from ..store.tables import (
    Case,
    ClassificationCorrection,
    Contact,
    FeedbackItem,
    Message,
    User,
    WorkItem,
    WorkItemEvent,
)
from .visibility import visible_clause

CONVERSATION_LIMIT = 200
TAG_FIELDS: tuple[str, ...] = ("risk", "risk_categories", "sentiment", "themes", "requests")


def effective_tags(classification: dict[str, Any], corrections: Sequence[ClassificationCorrection]) -> dict[str, Any]:
    """The tags as the latest correction left them (the model's own when nobody corrected them)."""
    tags = {k: classification.get(k) for k in TAG_FIELDS}
    if corrections:
        tags.update({k: v for k, v in corrections[-1].after.items() if k in TAG_FIELDS})
    return tags


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the item's history."""

    event: WorkItemEvent
    by: str | None


@dataclass(frozen=True)
class ItemView:
    """A work item with its reply, tags, case, conversation and history."""

    item: WorkItem
    feedback: FeedbackItem
    tags: dict[str, Any]
    corrected: bool
    cues: Sequence[dict[str, Any]]
    case: Case | None
    contact: Contact | None
    inbound: Message | None
    conversation: Sequence[Message]
    history: Sequence[HistoryEntry]

    @property
    def opted_out(self) -> bool:
        """Whether the victim asked for no more messages."""
        return self.contact is not None and self.contact.opted_out_at is not None

    @property
    def reply_channel(self) -> str | None:
        """The channel the victim used for this reply, if any."""
        return self.inbound.channel if self.inbound is not None else None


async def load_item(db: Database, user: StaffUser, item_id: int) -> ItemView | None:
    """The item for this user, or None when it does not exist or they may not see it."""
    async with db.session() as s:
        item = (await s.exec(select(WorkItem).where(WorkItem.id == item_id, visible_clause(user)))).first()
        if item is None:
            return None
        feedback = await s.get(FeedbackItem, item.feedback_item_id)
        assert feedback is not None
        corrections = (await s.exec(select(ClassificationCorrection).where(
            ClassificationCorrection.feedback_item_id == feedback.id,
        ).order_by(col(ClassificationCorrection.id)))).all()
        case = await s.get(Case, item.case_id) if item.case_id is not None else None
        contact = await s.get(Contact, feedback.contact_id) if feedback.contact_id is not None else None
        inbound = await s.get(Message, feedback.message_id) if feedback.message_id is not None else None
        session_id = feedback.session_id or (inbound.session_id if inbound is not None else None)
        if session_id is not None:
            conversation = (await s.exec(select(Message).where(
                Message.session_id == session_id, col(Message.status) != "cancelled",
            ).order_by(col(Message.id)).limit(CONVERSATION_LIMIT))).all()
        else:
            conversation = [inbound] if inbound is not None else []
        events = (await s.exec(select(WorkItemEvent, User.display_name)
                               .outerjoin(User, col(User.id) == WorkItemEvent.user_id)
                               .where(WorkItemEvent.work_item_id == item.id)
                               .order_by(col(WorkItemEvent.id)))).all()
    cues = [c for c in feedback.classification.get("cues") or [] if isinstance(c, dict)]
    return ItemView(item=item, feedback=feedback, tags=effective_tags(feedback.classification, corrections),
                    corrected=bool(corrections), cues=cues, case=case, contact=contact, inbound=inbound,
                    conversation=list(conversation), history=[HistoryEntry(e, n) for e, n in events])
