"""Work items as the router leaves them: a victim, their case, their reply (classified) and one item per target."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feedbackbot.store.db import Database
from feedbackbot.store.tables import Case, Contact, ContactAddress, FeedbackItem, Message, WorkItem, WorkItemEvent

_numbers = itertools.count(1)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
HOSTILE = f"{SCRIPT} {IMG} {FORMULA}"


@dataclass(frozen=True)
class Seeded:
    """The rows made for one reply."""

    item_id: int
    feedback_id: int
    contact_id: int
    message_id: int
    case_id: int
    address: str


async def seed_item(db: Database, now: datetime, *, text: str = "Nobody called me back after the visit",
                    target_kind: str = "queue", target_ref: str = "control_room", channel: str = "sms",
                    risk: str = "none", cues: tuple[dict[str, Any], ...] = (), themes: tuple[str, ...] = (),
                    priority: str = "normal", due_in: timedelta | None = timedelta(minutes=15),
                    opted_out: bool = False, touchpoint: str = "after_attendance",
                    language: str = "en") -> Seeded:
    """Store a victim's classified reply and a work item for one target, as the router would."""
    n = next(_numbers)
    path = f"+4477009{n:05d}" if channel in ("sms", "whatsapp") else f"victim{n}@example.org"
    address = f"{channel}:{path}"
    async with db.session() as s:
        contact = Contact(external_ref=f"V-{n}-{now.timestamp():.0f}", language=language, consent=True,
                          preferred_channel=channel, allowed_channels=[channel], contact_preferences={},
                          demographics={}, opted_out_at=now if opted_out else None, created_at=now,
                          updated_at=now)
        case = Case(reference=f"20/{n:06d}/26-{now.timestamp():.0f}", crime_type="burglary", area="Coventry",
                    officer_in_case="PC100", officer_name="PC Daniel Okafor", team="coventry_response",
                    sensitive_flags=[], created_at=now, updated_at=now)
        s.add(contact)
        s.add(case)
        await s.flush()
        s.add(ContactAddress(contact_id=contact.id or 0, channel=channel, path=path, created_at=now))
        inbound = Message(direction="in", channel=channel, address=address, contact_id=contact.id,
                          provider_id=f"SM{n:010d}", text=text, status="processed", quick_replies=[], media=[],
                          created_at=now, updated_at=now)
        s.add(inbound)
        await s.flush()
        feedback = FeedbackItem(contact_id=contact.id, case_id=case.id, message_id=inbound.id, touchpoint=touchpoint,
                                prompted=False, text=text, status="classified",
                                classification={"themes": list(themes), "sentiment": "negative", "risk": risk,
                                                "risk_categories": [c["category"] for c in cues],
                                                "requests": [], "language": "en", "needs_human_read": False,
                                                "scores": {}, "cues": list(cues), "model_version": "keywords"},
                                model_version="keywords", created_at=now, classified_at=now)
        s.add(feedback)
        await s.flush()
        item = WorkItem(feedback_item_id=feedback.id or 0, case_id=case.id, contact_id=contact.id,
                        touchpoint=touchpoint, rule_id="urgent_risk" if risk == "urgent" else "test_rule",
                        priority=priority, target_kind=target_kind, target_ref=target_ref, status="new",
                        sla_minutes=15, due_at=now + due_in if due_in is not None else None,
                        created_at=now, updated_at=now)
        s.add(item)
        await s.flush()
        s.add(WorkItemEvent(work_item_id=item.id or 0, at=now, kind="created", detail={"rule": item.rule_id}))
        return Seeded(item.id or 0, feedback.id or 0, contact.id or 0, inbound.id or 0, case.id or 0, address)


async def rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a plain SQL query (the same on SQLite and PostgreSQL)."""
    from sqlalchemy import text

    async with db.session() as s:
        result = await s.exec(text(sql).bindparams(**params))  # type: ignore[call-overload]
        return [tuple(r) for r in result.all()]
