"""A realistic year of surveys for the demo and the benchmarks: invitations, answers, replies and actions, in bulk.

Seasonal volume (more crime reported in summer and December), satisfaction that dips in winter and differs
a little by crime type, touchpoint and group, and three emerging themes (court delays, interpreters and 101
waits) so the dashboard shows what it is for. Replies reuse the labelled corpus in data/corpus when it is
there (a small built-in set otherwise); the board only ever sees them redacted.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, func, insert, select

from ..flows.model import Flow
from ..store.db import Database
from ..store.tables import (
    Answer,
    Case,
    Contact,
    FeedbackItem,
    Invitation,
    JourneyEvent,
    Message,
    SurveySession,
    WorkItem,
)
from .refresh import run

if TYPE_CHECKING:
    from ..app import Services

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"
AREAS = (("Birmingham", 34), ("Coventry", 12), ("Wolverhampton", 10), ("Walsall", 9), ("Sandwell", 11),
         ("Dudley", 10), ("Solihull", 7), ("Birmingham East", 7))
CRIMES = (("burglary", 16), ("theft from a motor vehicle", 14), ("criminal damage", 12), ("assault", 16),
          ("robbery", 6), ("shoplifting", 8), ("hate crime", 5), ("fraud", 9), ("harassment", 8),
          ("vehicle theft", 6))
CRIME_MOOD = {"hate crime": -0.12, "fraud": -0.08, "burglary": -0.03, "robbery": 0.02, "assault": 0.0}
TOUCHPOINTS = (("after_101_call", 22), ("after_attendance", 22), ("crime_recorded", 18), ("case_filed", 16),
               ("six_week_checkin", 12), ("suspect_charged", 6), ("after_court", 4))
TOUCHPOINT_MOOD = {"case_filed": -0.18, "after_101_call": -0.04, "after_court": 0.03, "suspect_charged": 0.06}
CHANNELS = (("tel", 52), ("whatsapp", 21), ("mailto", 11), ("web", 11), ("telegram", 5))
REPLY_RATE = {"tel": 0.5, "whatsapp": 0.62, "mailto": 0.33, "web": 0.58, "telegram": 0.6}
GENDERS = (("female", 51), ("male", 47), ("non-binary", 2))
AGES = (("16-24", 14), ("25-34", 21), ("35-44", 20), ("45-54", 18), ("55-64", 14), ("65+", 13))
ETHNICITIES = (("White", 58), ("Asian", 23), ("Black", 9), ("Mixed", 5), ("Other", 5))
GROUP_MOOD = {"Asian": -0.06, "Black": -0.09, "Mixed": -0.03, "16-24": -0.05, "65+": 0.04}
FIRST = ("Sarah", "James", "Amira", "Tom", "Priya", "Daniel", "Kasia", "Mohammed", "Grace", "Liam", "Aisha",
         "Oliver", "Fatima", "Jack", "Chloe", "Imran", "Zofia", "Harpreet", "Emily", "Kwame")
LAST = ("Jones", "Khan", "Smith", "Hussain", "Patel", "Okafor", "Nowak", "Williams", "Begum", "Taylor",
        "Ahmed", "Brown", "Singh", "Evans", "Mensah", "Walker", "Ali", "Kaur", "Wilson", "Clarke")
RANKS = ("PC", "PC", "DC", "PCSO", "DS")
#: Themes that grow over the year: (theme, how many times more likely by the last month).
EMERGING = {"court_and_witness_care": 3.5, "accessibility_and_language": 2.5, "contact_and_response": 2.0}
OUTCOMES = {
    "updates_and_information": ("Officer rang the victim, explained where the investigation is and agreed "
                                "fortnightly updates by text.", "Update sent; the victim now has the "
                                "investigator's direct line."),
    "contact_and_response": ("Call-back made the same day; the 101 wait was raised with Force Contact.",
                             "Apologised for the wait and arranged a visit at a time that suits the victim."),
    "investigation_and_outcome": ("Supervisor reviewed the case and explained the decision in a visit.",
                                  "CCTV enquiries re-opened after the victim's information."),
    "support_and_referral": ("Referred to Victim Support with the victim's agreement.",
                             "Referral made to the local IDVA service."),
    "court_and_witness_care": ("Witness Care confirmed the new trial date and arranged a pre-trial visit.",
                               "Special measures application discussed with the CPS."),
    "accessibility_and_language": ("Interpreter booked for the next contact.",
                                   "Information re-sent in Polish and in easy-read format."),
    "respect_and_empathy": ("Feedback discussed with the officer and their supervisor.",
                            "Apology given; learning shared with the team."),
    "compensation_and_property": ("Property released and returned to the victim.",
                                  "Criminal Injuries Compensation information sent."),
    "victim_personal_statement": ("VPS taken and passed to the CPS before the hearing.",
                                  "Officer explained how the VPS will be used."),
    "discrimination_and_fairness": ("Passed to Professional Standards; the victim was kept informed.",
                                    "Reviewed as a hate crime; the victim was told the outcome of the review."),
    "restorative_justice": ("Referred to the restorative justice service.",
                            "Victim told about restorative justice options."),
    "praise": ("Thanks passed on to the officer and recorded for recognition.",
               "Compliment shared with the team and their supervisor."),
}
FALLBACK_REPLIES = (
    ("Nobody has called me back about the burglary and it has been three weeks", ["updates_and_information"],
     "negative"),
    ("The officer who came was kind and took time to explain everything", ["respect_and_empathy", "praise"],
     "positive"),
    ("Waited over forty minutes on 101 before anyone answered", ["contact_and_response"], "negative"),
    ("I was never told about Victim Support until I asked", ["support_and_referral"], "negative"),
    ("The court date has been moved twice and no one told me why", ["court_and_witness_care"], "negative"),
    ("I needed an interpreter and had to use my son instead", ["accessibility_and_language"], "negative"),
    ("Thank you to PC Smith, she was brilliant with my mum", ["praise"], "positive"),
    ("They filed it without checking the CCTV I told them about", ["investigation_and_outcome"], "negative"),
)


@dataclass(frozen=True)
class Reply:
    """A labelled free-text reply the generator can reuse."""

    text: str
    themes: tuple[str, ...]
    sentiment: str
    risk: str = "none"
    risk_categories: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()


def load_replies(folder: Path = CORPUS) -> list[Reply]:
    """English labelled replies from the corpus (or the fallback set when it is not installed)."""
    out: list[Reply] = []
    for path in sorted(folder.glob("en_*.jsonl")) if folder.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            if len(d["text"].split()) >= 4:
                out.append(Reply(d["text"], tuple(d["themes"]), d["sentiment"], d["risk"],
                                 tuple(d["risk_categories"]), tuple(d["requests"])))
    return out or [Reply(t, tuple(th), s) for t, th, s in FALLBACK_REPLIES]


def _pick(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]


@dataclass
class _Ids:
    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


TABLES: tuple[type[Any], ...] = (Contact, Case, JourneyEvent, Invitation, SurveySession, Message, Answer,
                                 FeedbackItem, WorkItem)
#: How long before "now" the newest generated reply is (no row is dated in the future).
REPLY_WINDOW = timedelta(hours=11)
#: Channels whose provider sends delivery reports (SMS and WhatsApp through Twilio).
REPORTED_CHANNELS = ("tel", "whatsapp")


class DemoYear:
    """Generates the rows; ``write`` inserts them in bulk (executemany in chunks, one transaction per chunk)."""

    def __init__(self, flows: dict[str, Flow], *, now: datetime, days: int = 365, per_day: float = 16.0,
                 seed: int = 2026, replies: list[Reply] | None = None) -> None:
        self.flows = flows
        self.now = now.astimezone(UTC)
        self.days = days
        self.per_day = per_day
        self.rng = random.Random(seed)
        self.replies = replies if replies is not None else load_replies()
        self.by_theme: dict[str, list[Reply]] = {}
        for reply in self.replies:
            for theme in reply.themes:
                self.by_theme.setdefault(theme, []).append(reply)
        self.safe = [r for r in self.replies if r.risk == "none"]
        self.risky = [r for r in self.replies if r.risk != "none"]
        self.questions = {fid: [s for s in f.steps.values() if s.type == "question"] for fid, f in flows.items()}
        self.counts: dict[str, int] = {}

    async def write(self, db: Database, *, chunk: int = 5000) -> dict[str, int]:
        """Insert a year of rows after whatever is in the database; returns rows written per table."""
        ids = _Ids()
        async with db.session() as s:
            for model in TABLES:
                table: Table = model.__table__
                top = (await run(s, select(func.max(table.c.id)))).scalar()
                ids.next[table.name] = int(top or 0) + 1
        buffers: dict[str, list[dict[str, Any]]] = {m.__tablename__: [] for m in TABLES}
        tables = {m.__tablename__: m.__table__ for m in TABLES}
        order = [m.__tablename__ for m in TABLES]
        self.counts = dict.fromkeys(order, 0)

        async def flush(upto: int) -> None:
            async with db.session() as s:
                for name in order[:upto]:
                    rows = buffers[name]
                    if rows:
                        await run(s, insert(tables[name]), rows)
                        self.counts[name] += len(rows)
                        buffers[name] = []

        for table_name, row in self._rows(ids):
            buffers[table_name].append(row)
            if len(buffers[table_name]) >= chunk:
                await flush(len(order))
        await flush(len(order))
        if not db.sqlite:
            async with db.session() as s:
                for name in order:
                    await run(s, (f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                         f"COALESCE((SELECT MAX(id) FROM {name}), 1))"))
        return dict(self.counts)

    # --- generation ------------------------------------------------------------------------------------------

    def _volume(self, day: datetime) -> int:
        season = 1 + 0.18 * math.sin((day.timetuple().tm_yday - 100) / 365 * 2 * math.pi)
        season += 0.12 if day.month == 12 else 0.0
        weekday = 0.8 if day.weekday() >= 5 else 1.05
        mean = self.per_day * season * weekday
        return max(0, int(self.rng.gauss(mean, math.sqrt(mean))))

    def _rows(self, ids: _Ids) -> Iterator[tuple[str, dict[str, Any]]]:
        start = (self.now - timedelta(days=self.days)).replace(hour=0, minute=0, second=0, microsecond=0)
        for d in range(self.days):
            day = start + timedelta(days=d)
            progress = d / max(1, self.days - 1)
            for _ in range(self._volume(day)):
                at = day + timedelta(minutes=self.rng.randint(8 * 60, 21 * 60))
                if at >= self.now - timedelta(hours=2):
                    continue
                yield from self._victim(ids, at, progress)

    def _victim(self, ids: _Ids, at: datetime, progress: float) -> Iterator[tuple[str, dict[str, Any]]]:
        rng = self.rng
        contact_id, case_id = ids.take("contacts"), ids.take("cases")
        event_id, invitation_id = ids.take("journey_events"), ids.take("invitations")
        touchpoint = _pick(rng, TOUCHPOINTS)
        channel = _pick(rng, CHANNELS)
        crime = _pick(rng, CRIMES)
        area = _pick(rng, AREAS)
        demographics: dict[str, str] = {}
        if rng.random() < 0.72:
            demographics["gender"] = _pick(rng, GENDERS)
        if rng.random() < 0.7:
            demographics["age_band"] = _pick(rng, AGES)
        if rng.random() < 0.62:
            demographics["ethnicity"] = _pick(rng, ETHNICITIES)
        if rng.random() < 0.55:
            demographics["disability"] = "yes" if rng.random() < 0.16 else "no"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        officer = f"{rng.choice(RANKS)} {rng.choice(FIRST)} {rng.choice(LAST)}"
        reference = f"20/{case_id:06d}/{at:%y}"
        address = {"tel": "tel:+447700900", "whatsapp": "whatsapp:+447700900", "telegram": "telegram:",
                   "mailto": "mailto:victim", "web": "web:"}[channel] + f"{contact_id:06d}"
        winter = 1 if at.month in (11, 12, 1, 2) else 0
        mood = 0.7 - 0.06 * winter + CRIME_MOOD.get(crime, 0) + TOUCHPOINT_MOOD.get(touchpoint, 0)
        mood += sum(GROUP_MOOD.get(v, 0) for v in demographics.values())
        informed_penalty = 0.1 if demographics.get("disability") == "yes" else 0.0
        happy = rng.random() < mood
        sent = at + timedelta(hours=rng.choice((2, 20, 26)))
        # Replies (which can come up to ten hours after the send) and their answers are all in the past.
        replied = sent < self.now - REPLY_WINDOW and rng.random() < REPLY_RATE[channel]
        opted = sent < self.now and rng.random() < 0.03
        yield "contacts", {"id": contact_id, "external_ref": f"RMS-{contact_id}", "display_name": name,
                           "language": "en", "consent": True, "safe_to_contact": True, "preferred_channel": channel,
                           "allowed_channels": [channel], "contact_preferences": {}, "demographics": demographics,
                           "opted_out_at": sent + timedelta(minutes=5) if opted else None,
                           "opted_out_channel": channel if opted else None, "is_test": False,
                           "created_at": at, "updated_at": at}
        yield "cases", {"id": case_id, "reference": reference, "crime_type": crime, "area": area,
                        "officer_in_case": f"OIC{case_id % 400:04d}", "officer_name": officer,
                        "team": f"{area} Response", "sensitive_flags": [], "created_at": at, "updated_at": at}
        yield "journey_events", {"id": event_id, "event_key": f"demo-year-{event_id}", "source": "demo-year",
                                 "touchpoint": touchpoint, "case_id": case_id, "contact_id": contact_id,
                                 "occurred_at": at, "received_at": at, "outcome": "invited", "outcome_reason": None}
        status = "completed" if replied and not opted else ("sent" if sent < self.now else "scheduled")
        if opted:
            status = "opted_out"
        yield "invitations", {"id": invitation_id, "token": f"demo{invitation_id:010d}", "journey_event_id": event_id,
                              "contact_id": contact_id, "case_id": case_id, "touchpoint": touchpoint,
                              "flow_id": touchpoint, "channel": channel, "address": address, "language": "en",
                              "status": status, "status_reason": None, "send_after": sent,
                              "sent_at": sent if sent < self.now else None, "created_at": at}
        if sent >= self.now:
            return
        session_id = ids.take("survey_sessions")
        finished = rng.random() < 0.8
        last_in = sent + timedelta(minutes=rng.randint(3, 600)) if replied else None
        session_status = "opted_out" if opted else ("completed" if replied and finished else
                                                    ("expired" if sent < self.now - timedelta(days=7) else "active"))
        yield "survey_sessions", {"id": session_id, "invitation_id": invitation_id, "contact_id": contact_id,
                                  "case_id": case_id, "flow_id": touchpoint, "flow_version": 1, "channel": channel,
                                  "address": address, "language": "en", "status": session_status,
                                  "current_step": None, "state": {}, "version": 1, "started_at": sent,
                                  "updated_at": last_in or sent, "last_inbound_at": last_in, "reminder_at": None,
                                  "expires_at": None, "ended_at": last_in if session_status != "active" else None}
        if channel in REPORTED_CHANNELS:
            yield "messages", self._invitation_message(ids, session_id, contact_id, channel, address, sent, replied)
        if not replied or opted:
            return
        assert last_in is not None
        when = last_in
        for step in self.questions.get(touchpoint, []):
            when += timedelta(seconds=rng.randint(20, 200))
            if step.kind == "text":
                if rng.random() < (0.55 if not happy else 0.3):
                    yield from self._feedback(ids, contact_id, case_id, session_id, touchpoint, step.id, when,
                                              happy, progress, channel)
                continue
            if rng.random() < 0.05:
                continue
            good = rng.random() < ((0.88 if happy else 0.3) - (informed_penalty if "next" in step.id or
                                                               "updated" in step.id else 0))
            value, number = self._answer(step, good)
            yield "answers", {"id": ids.take("answers"), "session_id": session_id, "contact_id": contact_id,
                              "case_id": case_id, "message_id": None, "flow_id": touchpoint, "flow_version": 1,
                              "step_id": step.id, "kind": step.kind, "value": value, "value_num": number,
                              "skipped": False, "created_at": when}

    @staticmethod
    def _invitation_message(ids: _Ids, session_id: int, contact_id: int, channel: str, address: str, sent: datetime,
                            replied: bool) -> dict[str, Any]:
        """The invitation as sent, with its delivery report: about one in twelve unanswered sends is not delivered."""
        message_id = ids.take("messages")
        delivered = replied or message_id % 12 != 0
        return {"id": message_id, "direction": "out", "channel": channel, "address": address,
                "contact_id": contact_id, "session_id": session_id, "provider_id": f"demo-{message_id}",
                "text": "Survey invitation", "quick_replies": [], "media": [], "step_id": None,
                "purpose": "message", "status": "delivered" if delivered else "undelivered",
                "error_code": None if delivered else "30003", "error_reason": None, "attempts": 1,
                "next_attempt_at": None, "claimed_at": None, "in_reply_to": None, "created_at": sent,
                "updated_at": sent + timedelta(seconds=20), "sent_at": sent,
                "delivered_at": sent + timedelta(seconds=20) if delivered else None}

    def _answer(self, step: Any, good: bool) -> tuple[str, float | None]:
        rng = self.rng
        if step.kind == "scale":
            n = rng.choice((4, 5, 5)) if good else rng.choice((1, 2, 2, 3, 3))
            return str(n), float(n)
        if step.kind == "yes_no":
            return ("yes", 1.0) if good else ("no", 0.0)
        options = [o.id for o in step.options]
        half = max(1, len(options) // 2)
        pick = rng.choice(options[:half] if good else options[half:] or options)
        return pick, None

    def _feedback(self, ids: _Ids, contact_id: int, case_id: int, session_id: int, touchpoint: str, step_id: str,
                  when: datetime, happy: bool, progress: float, channel: str) -> Iterator[tuple[str, dict[str, Any]]]:
        rng = self.rng
        if self.risky and rng.random() < 0.02:
            reply = rng.choice(self.risky)
        else:
            themes = list(self.by_theme) or [""]
            weights = [1 + (EMERGING.get(t, 1) - 1) * progress ** 2 for t in themes]
            theme = rng.choices(themes, weights=weights)[0]
            pool = [r for r in self.by_theme.get(theme, self.safe) if r.risk == "none"] or self.safe
            wanted = "positive" if happy else "negative"
            matching = [r for r in pool if r.sentiment == wanted]
            reply = rng.choice(matching or pool)
        item_id = ids.take("feedback_items")
        classification = {"themes": list(reply.themes), "sentiment": reply.sentiment, "risk": reply.risk,
                          "risk_categories": list(reply.risk_categories), "requests": list(reply.requests),
                          "language": "en", "needs_human_read": False, "scores": {}, "cues": [],
                          "model_version": "demo-year"}
        yield "feedback_items", {"id": item_id, "contact_id": contact_id, "case_id": case_id,
                                 "session_id": session_id, "message_id": None, "step_id": step_id,
                                 "touchpoint": touchpoint, "prompted": True, "text": reply.text,
                                 "status": "classified", "classification": classification,
                                 "model_version": "demo-year", "created_at": when, "classified_at": when}
        actionable = reply.risk != "none" or reply.requests or (reply.sentiment == "negative" and rng.random() < 0.3)
        if actionable:
            yield "work_items", self._work_item(ids, item_id, contact_id, case_id, session_id, touchpoint, when, reply)

    def _work_item(self, ids: _Ids, item_id: int, contact_id: int, case_id: int, session_id: int, touchpoint: str,
                   when: datetime, reply: Reply) -> dict[str, Any]:
        rng = self.rng
        if reply.risk == "urgent":
            kind, ref, priority, sla = "queue", "control_room", "urgent", 15
        elif reply.risk == "safeguarding":
            kind, ref, priority, sla = "queue", "safeguarding", "high", 240
        elif "complaint" in reply.requests:
            kind, ref, priority, sla = "queue", "professional_standards", "normal", 7200
        else:
            kind, ref, priority, sla = "officer", f"OIC{case_id % 400:04d}", "normal", 2880
        due = when + timedelta(minutes=sla)
        ack = when + timedelta(minutes=sla * rng.uniform(0.1, 1.4))
        resolved = ack + timedelta(minutes=sla * rng.uniform(0.05, 1.1))
        status = "resolved" if resolved < self.now else ("acknowledged" if ack < self.now else "new")
        theme = reply.themes[0] if reply.themes else "updates_and_information"
        outcome = rng.choice(OUTCOMES.get(theme, OUTCOMES["updates_and_information"])) if status == "resolved" else None
        return {"id": ids.take("work_items"), "feedback_item_id": item_id, "case_id": case_id,
                "contact_id": contact_id, "session_id": session_id, "touchpoint": touchpoint,
                "rule_id": f"demo-{ref}", "purpose": "action", "priority": priority, "target_kind": kind,
                "target_ref": ref, "owner_user_id": None, "status": status, "sla_minutes": sla,
                "working_hours": False, "due_at": due, "escalation_level": 0, "escalated_at": None,
                "escalate_to_kind": None, "escalate_to_ref": None, "reassigned_to_id": None,
                "acknowledged_at": ack if ack < self.now else None, "acknowledged_by": None,
                "resolved_at": resolved if status == "resolved" else None, "resolved_by": None, "outcome": outcome,
                "version": 1, "created_at": when, "updated_at": max(when, min(self.now - REPLY_WINDOW, resolved))}


async def seed_demo_year(services: Services) -> list[str]:
    """Fill a year of survey history once (a second run finds it) and bring the board's figures up to date."""
    db = services.db
    async with db.session() as s:
        done = (await run(s, ("SELECT 1 FROM journey_events WHERE source = 'demo-year' LIMIT 1"))).first()
    if done is None:
        flows = {fid: services.flows.latest(fid) for fid in services.flows.current}
        await DemoYear(flows, now=services.clock.now()).write(db)
    await services.insights.refresh(full=True)
    base = services.settings.public_url.rstrip("/")
    return [f"\n  Board dashboard with a year of demo surveys (sign in as the board user):\n    {base}/board"]
