"""Staff notices about a work item: which to queue, and their words (a link, queue, rule, priority, due time only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from ..settings import Settings
from ..store.tables import Notification, WorkItem
from .rules import RoutingRules

#: Kinds of notice: a new item, an escalated one, and the on-duty supervisor's urgent alert and its repeats.
NEW_ITEM, ESCALATED, URGENT, URGENT_REPEAT = "new_item", "escalated", "urgent", "urgent_repeat"
#: Kinds that stop once someone acknowledges the item.
UNTIL_ACKNOWLEDGED = frozenset({URGENT, URGENT_REPEAT})


@dataclass(frozen=True)
class Notice:
    """What a notice says: a subject, plain text, and the JSON a webhook receives."""

    subject: str
    text: str
    payload: dict[str, object]


def item_link(settings: Settings, work_item_id: int) -> str:
    """Where staff open the item (after signing in)."""
    return f"{settings.public_url.rstrip('/')}/inbox/items/{work_item_id}"


def target_name(rules: RoutingRules, kind: str, ref: str) -> str:
    """A queue's name, or "officer <ref>"."""
    if kind == "queue":
        spec = rules.queues.get(ref)
        return spec.name if spec is not None else f"{ref} queue"
    return f"officer {ref}"


def compose(item: WorkItem, kind: str, rules: RoutingRules, settings: Settings) -> Notice:
    """The notice for one work item; it names no victim and quotes nothing they wrote.

    Example: ``Urgent: new item for Force control room (rule urgent_risk), due 10:15 10 Mar 2026``.
    """
    assert item.id is not None
    where = target_name(rules, item.target_kind, item.target_ref)
    due = ""
    if item.due_at is not None:
        local = item.due_at.astimezone(ZoneInfo(settings.timezone))
        due = local.strftime("%H:%M %d %b %Y")
    what = {NEW_ITEM: "New item", ESCALATED: "Escalated item", URGENT: "URGENT item",
            URGENT_REPEAT: "URGENT item still not acknowledged"}.get(kind, "Item")
    subject = f"{what} for {where} (rule {item.rule_id}, priority {item.priority})"
    lines = [
        f"{what} for {where}.",
        f"Rule: {item.rule_id}. Purpose: {item.purpose}. Priority: {item.priority}.",
        f"Due: {due}." if due else "No deadline.",
        f"Open it here (sign-in needed): {item_link(settings, item.id)}",
    ]
    payload: dict[str, object] = {
        "kind": kind, "work_item_id": item.id, "link": item_link(settings, item.id), "target": where,
        "rule": item.rule_id, "purpose": item.purpose, "priority": item.priority,
        "due_at": item.due_at.isoformat() if item.due_at else None,
    }
    return Notice(subject, "\n".join(lines), payload)


def queue_notices(s: AsyncSession, item: WorkItem, *, email: str | None, kind: str, settings: Settings,
                  now: datetime, sequence: int = 0, urgent_alerts: bool = True) -> list[Notification]:
    """Queue the notices a new or escalated item needs: an email to its owner or queue, and for an urgent item
    (unless ``urgent_alerts`` is false) an SMS and a webhook call to the on-duty supervisor (where configured)."""
    assert item.id is not None
    rows: list[Notification] = []
    if email:
        rows.append(Notification(work_item_id=item.id, channel="email", recipient=email, kind=kind,
                                 next_attempt_at=now, created_at=now))
    if urgent_alerts and item.priority == "urgent" and item.status == "new":
        rows.extend(urgent_notices(item.id, settings, now, URGENT, sequence))
    for row in rows:
        s.add(row)
    return rows


def urgent_notices(work_item_id: int, settings: Settings, now: datetime, kind: str,
                   sequence: int) -> list[Notification]:
    """The on-duty supervisor's SMS and webhook notices for an urgent item (repeated until acknowledged)."""
    rows: list[Notification] = []
    if settings.oncall_sms_number:
        rows.append(Notification(work_item_id=work_item_id, channel="sms", recipient=settings.oncall_sms_number,
                                 kind=kind, sequence=sequence, next_attempt_at=now, created_at=now))
    if settings.notify_webhook_url:
        rows.append(Notification(work_item_id=work_item_id, channel="webhook",
                                 recipient=settings.notify_webhook_url, kind=kind, sequence=sequence,
                                 next_attempt_at=now, created_at=now))
    return rows
