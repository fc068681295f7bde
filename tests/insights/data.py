"""Small fixed data sets for the board's figures: victims, surveys, answers, replies and work items."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from feedbackbot.store.db import Database
from feedbackbot.store.tables import (
    Answer,
    Case,
    Contact,
    FeedbackItem,
    Invitation,
    JourneyEvent,
    SurveySession,
    WorkItem,
)

DAY = datetime(2026, 7, 14, 10, 0, tzinfo=UTC)  # inside 2026Q3
_ids = itertools.count(1)


@dataclass
class Victim:
    """One victim surveyed once, and what they did."""

    touchpoint: str = "after_attendance"
    channel: str = "tel"
    crime_type: str = "burglary"
    area: str = "Birmingham"
    demographics: dict[str, str] = field(default_factory=dict)
    replied: bool = True
    completed: bool = True
    opted_out: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    replies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    work: list[dict[str, Any]] = field(default_factory=list)
    name: str = "Sarah Jones"
    officer: str = "PC Daniel Okafor"
    at: datetime = DAY


def tags(*themes: str, sentiment: str = "negative", risk: str = "none", requests: tuple[str, ...] = (),
         categories: tuple[str, ...] = ()) -> dict[str, Any]:
    """A classification as the classifier stores it."""
    return {"themes": list(themes), "sentiment": sentiment, "risk": risk, "risk_categories": list(categories),
            "requests": list(requests), "language": "en", "needs_human_read": False, "scores": {}, "cues": [],
            "model_version": "test"}


async def add_victims(db: Database, victims: list[Victim]) -> None:
    """Store the victims with their invitations, sessions, answers, replies and work items."""
    async with db.session() as s:
        for v in victims:
            n = next(_ids)
            at = v.at
            sent = at + timedelta(hours=2)
            contact = Contact(external_ref=f"T-{n}", display_name=v.name, preferred_channel=v.channel,
                              demographics=v.demographics, created_at=at, updated_at=at,
                              opted_out_at=sent + timedelta(minutes=5) if v.opted_out else None)
            case = Case(reference=f"20/{700000 + n}/26", crime_type=v.crime_type, area=v.area,
                        officer_name=v.officer, created_at=at, updated_at=at)
            s.add_all([contact, case])
            await s.flush()
            event = JourneyEvent(event_key=f"t-{n}", source="test", touchpoint=v.touchpoint, case_id=case.id or 0,
                                 contact_id=contact.id or 0, occurred_at=at, received_at=at, outcome="invited")
            s.add(event)
            await s.flush()
            inv = Invitation(token=f"tok{n}", journey_event_id=event.id or 0, contact_id=contact.id or 0,
                             case_id=case.id or 0, touchpoint=v.touchpoint, flow_id=v.touchpoint,
                             channel=v.channel, address=f"{v.channel}:+447700900{n:03d}", status="sent",
                             send_after=sent, sent_at=sent, created_at=at)
            s.add(inv)
            await s.flush()
            status = "opted_out" if v.opted_out else ("completed" if v.completed else "expired")
            session = SurveySession(invitation_id=inv.id, contact_id=contact.id or 0, case_id=case.id,
                                    flow_id=v.touchpoint, flow_version=1, channel=v.channel, address=inv.address,
                                    status=status, started_at=sent, updated_at=sent,
                                    last_inbound_at=sent + timedelta(minutes=3) if v.replied else None)
            s.add(session)
            await s.flush()
            for step, value in v.answers.items():
                number = float(value) if value.isdigit() else None
                kind = "scale" if step == "q_overall" else ("choice" if step in {"q_wait", "q_updated",
                                                                                 "q_witness_care"} else "yes_no")
                s.add(Answer(session_id=session.id or 0, contact_id=contact.id or 0, case_id=case.id,
                             flow_id=v.touchpoint, flow_version=1, step_id=step, kind=kind, value=value,
                             value_num=number, created_at=sent))
            for text, classification in v.replies:
                item = FeedbackItem(contact_id=contact.id, case_id=case.id, session_id=session.id,
                                    step_id="q_comment", touchpoint=v.touchpoint, text=text, status="classified",
                                    classification=classification, model_version="test", created_at=sent,
                                    classified_at=sent)
                s.add(item)
                await s.flush()
                for spec in v.work:
                    s.add(WorkItem(feedback_item_id=item.id or 0, case_id=case.id, contact_id=contact.id,
                                   session_id=session.id, touchpoint=v.touchpoint, rule_id="test",
                                   target_kind=spec.get("kind", "queue"), target_ref=spec.get("ref", "control_room"),
                                   priority=spec.get("priority", "normal"), status=spec.get("status", "new"),
                                   sla_minutes=spec.get("sla", 60),
                                   due_at=sent + timedelta(minutes=spec.get("sla", 60)),
                                   acknowledged_at=(sent + timedelta(minutes=spec["ack"])) if "ack" in spec else None,
                                   resolved_at=(sent + timedelta(minutes=spec["resolve"])) if "resolve" in spec
                                   else None, outcome=spec.get("outcome"), created_at=sent, updated_at=sent))
