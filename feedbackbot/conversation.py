"""The conversation layer: store what victims send, run the pure engine, persist its events in one transaction."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .clock import Clock
from .flows import engine
from .flows.answers import word_count
from .flows.keywords import Keyword, parse_keyword
from .flows.library import FlowLibrary
from .flows.model import Flow
from .flows.phrases import Phrases
from .flows.render import render_prompt, render_text
from .messages import Address, Channel, InboundMessage
from .nlp.types import Classification
from .settings import Settings
from .store.db import Database
from .store.tables import (
    Answer,
    Case,
    ChannelLink,
    Contact,
    ContactAddress,
    FeedbackItem,
    Invitation,
    Message,
    SurveySession,
)

log = logging.getLogger(__name__)

#: Channels the victim's own device reads from us (no provider to push through).
PULL_CHANNELS = frozenset({Channel.WEB.value})
NO_SURVEY_REPLY_EVERY = timedelta(hours=24)


PAUSED = "paused"


def needs_reading(text: str) -> bool:
    """Whether a reply has words worth classifying (not a bare number, yes/no or keyword)."""
    return word_count(text) >= 2 and parse_keyword(text) is None


def feedback_item(reading: Classification | None, now: datetime, **fields: Any) -> FeedbackItem:
    """A feedback row, already classified when its reading is known, else pending for the worker."""
    if reading is None:
        return FeedbackItem(classification={}, created_at=now, **fields)
    return FeedbackItem(classification=reading.to_json(), model_version=reading.model_version, status="classified",
                        classified_at=now, created_at=now, **fields)


class StaleSession(Exception):
    """Another process moved the session on first; the work is retried."""

    message_id: int | None = None


@dataclass(frozen=True)
class Received:
    """The outcome of storing an inbound message."""

    message_id: int
    new: bool


def case_context(case: Case | None, settings: Settings) -> dict[str, str]:
    """Placeholder values for a case (missing values fall back to the documented defaults)."""
    context = {"force_name": settings.force_name}
    if case is not None:
        context.update(
            officer_name=case.officer_name or "",
            case_reference=case.reference,
            crime_type=case.crime_type.replace("_", " "),
            area=case.area,
        )
    return context


class Conversation:
    """Turns inbound messages, invitations and timeouts into survey steps, safely and in order."""

    def __init__(self, db: Database, flows: FlowLibrary, phrases: Phrases, settings: Settings,
                 clock: Clock) -> None:
        self.db = db
        self.flows = flows
        self.phrases = phrases
        self.settings = settings
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self.outbox_ready = asyncio.Event()
        #: Set by the app: classifies one reply off the event loop (None: replies wait for the worker).
        self.classify: Callable[[str], Awaitable[Classification]] | None = None
        self._classified: dict[int, Classification] = {}

    # --- inbound ---------------------------------------------------------------------------------

    async def receive(self, inbound: InboundMessage) -> Received:
        """Commit an inbound message before anything else; a repeat of the same provider id is not stored again."""
        address = str(inbound.address)
        try:
            async with self.db.session() as s:
                existing = (await s.exec(select(Message.id).where(
                    Message.channel == inbound.channel.value, Message.provider_id == inbound.provider_id))).first()
                if existing is not None:
                    return Received(existing, False)
                row = Message(direction="in", channel=inbound.channel.value, address=address,
                              provider_id=inbound.provider_id, text=inbound.text, status="received",
                              quick_replies=[], media=[{"type": t} for t in inbound.media_types],
                              created_at=inbound.received_at, updated_at=inbound.received_at)
                s.add(row)
                await s.flush()
                assert row.id is not None
                return Received(row.id, True)
        except IntegrityError:
            # Two deliveries of one message raced; the other one stored it.
            async with self.db.session() as s:
                existing = (await s.exec(select(Message.id).where(
                    Message.channel == inbound.channel.value, Message.provider_id == inbound.provider_id))).first()
            if existing is None:
                raise
            return Received(existing, False)

    async def classify_on_arrival(self, message_id: int, text: str) -> None:
        """Read a reply's words before it is processed, so danger changes this very turn."""
        if self.classify is None or not needs_reading(text):
            return
        try:
            self._classified[message_id] = await self.classify(text)
        except Exception:
            # The feedback item stays pending and the classification worker tries again.
            log.exception("classifying message %s on arrival failed", message_id)

    def _lock(self, address: str) -> asyncio.Lock:
        lock = self._locks.get(address)
        if lock is None:
            lock = self._locks[address] = asyncio.Lock()
        return lock

    async def process_pending(self, address: str) -> list[int]:
        """Process every stored, unprocessed message from ``address`` in order; returns the outbound ids made."""
        created: list[int] = []
        lock = self._lock(address)
        async with lock:
            more = True
            while more:
                more = await self._process_next_with_retry(address, created)
        if not lock.locked() and self._locks.get(address) is lock:
            del self._locks[address]
        return created

    async def _process_next_with_retry(self, address: str, created: list[int]) -> bool:
        """Process the oldest unprocessed message from ``address``; whether another one is waiting."""
        message_id: int | None = None
        for attempt in range(5):
            try:
                return await self._process_next(address, created)
            except StaleSession as stale:
                message_id = stale.message_id
                await asyncio.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"message {message_id}: session kept changing underneath; left for the next pass")

    async def _process_next(self, address: str, created: list[int]) -> bool:
        """One transaction: find the oldest unprocessed message from ``address`` and carry it out.

        Reading the two oldest tells us, in the same transaction, whether another one is waiting, so the
        usual case (one reply) needs no further transaction to find the queue empty. A message stored after
        this transaction began is not missed: whoever stores a message calls ``process_pending`` for its
        address afterwards (waiting for this lock), and the scheduler's recovery pass picks up any message
        whose process stopped in between.
        """
        now = self.clock.now()
        async with self.db.session() as s:
            pending = (await s.exec(select(Message).where(
                Message.direction == "in", Message.address == address, Message.status == "received",
            ).order_by(col(Message.id)).limit(2))).all()
            if not pending:
                return False
            msg = pending[0]
            try:
                made = await self._process(s, msg, now)
            except StaleSession as stale:
                stale.message_id = msg.id
                raise
        created.extend(made)
        return len(pending) > 1

    async def _process(self, s: AsyncSession, msg: Message, now: datetime) -> list[int]:
        # The session, its contact and its invitation in one query; the gets below find them loaded.
        found = (await s.exec(
            select(SurveySession, Contact, Invitation)
            .join(Contact, col(Contact.id) == SurveySession.contact_id)
            .outerjoin(Invitation, col(Invitation.id) == SurveySession.invitation_id)
            .where(SurveySession.address == msg.address, SurveySession.status == engine.ACTIVE)
            .order_by(col(SurveySession.id).desc()).limit(1))).first()
        survey = found[0] if found is not None else None
        contact = await self._contact_for(s, msg.address, survey)
        msg.contact_id = contact.id if contact else None
        msg.status = "processed"
        msg.updated_at = now
        if contact is not None and msg.channel != Channel.WEB.value:
            await self._touch_address(s, msg.address, now)
        if survey is not None and contact is not None and contact.opted_out_at is None:
            msg.session_id = survey.id
            flow = await self.flows.get(s, survey.flow_id, survey.flow_version)
            state = engine.SessionState.from_json(survey.state)
            if msg.media and not msg.text.strip():
                return await self._media_only(s, msg, survey, contact, flow, state, now)
            sprint = engine.resume(flow, self.phrases, state, engine.MessageResume(msg.text, now))
            survey.last_inbound_at = now
            reading = await self._reading(msg)
            if reading is not None and reading.risk == "urgent":
                sprint = self._safety_turn(sprint, msg.text, reading)
            return await self._apply(s, survey, contact, sprint, now, inbound=msg, reading=reading)
        return await self._outside_survey(s, msg, contact, now)

    async def _reading(self, msg: Message) -> Classification | None:
        """The classification made on arrival, or one made now (after a restart lost it)."""
        reading = self._classified.pop(msg.id or 0, None)
        if reading is None and self.classify is not None and needs_reading(msg.text):
            try:
                reading = await self.classify(msg.text)
            except Exception:
                log.exception("classifying message %s failed; left for the worker", msg.id)
        return reading

    def _safety_turn(self, sprint: engine.Sprint, text: str, reading: Classification) -> engine.Sprint:
        """Danger now or self-harm: safety guidance instead of the next question, and the survey paused."""
        state = sprint.state
        events: list[engine.Event] = [e for e in sprint.events if not isinstance(e, engine.MsgCreated)]
        if not any(isinstance(e, engine.FeedbackReceived) for e in events):
            events.append(engine.FeedbackReceived(state.step, text.strip(), prompted=False))
        danger = "immediate_danger" in reading.risk_categories or "self_harm" not in reading.risk_categories
        key = "safety_danger" if danger else "safety_self_harm"
        events.append(engine.MsgCreated(self.phrases.say(key, state.language, state.context), "safety"))
        if state.status == engine.ACTIVE:
            state = replace(state, status=PAUSED, reminder_at=None, expires_at=None)
        return engine.Sprint(state, tuple(events))

    async def _media_only(self, s: AsyncSession, msg: Message, survey: SurveySession, contact: Contact,
                          flow: Flow, state: engine.SessionState, now: datetime) -> list[int]:
        """A voice note, photo or sticker: kept for a person, and the victim told typed replies are easiest."""
        kinds = ", ".join(m.get("type", "attachment") for m in msg.media)
        s.add(FeedbackItem(contact_id=contact.id, case_id=survey.case_id, session_id=survey.id, message_id=msg.id,
                           step_id=state.step, prompted=False, text=f"[{kinds}]", classification={},
                           created_at=now))
        survey.last_inbound_at = now
        context = dict(state.context)
        out = [self._outbound(survey.channel, survey.address, contact.id,
                              self.phrases.say("media_received", state.language, context), "media_received", now,
                              survey.id)]
        if state.step is not None and flow.step(state.step).is_question:
            step = flow.step(state.step)
            quick = [{"text": str(i), "label": render_text(o.text, state.language, context)}
                     for i, o in enumerate(step.options, 1)]
            out.append(self._outbound(survey.channel, survey.address, contact.id,
                                      render_prompt(step, state.language, context), "prompt", now, survey.id,
                                      step.id, quick))
        for row in out:
            s.add(row)
        await s.flush()
        self.outbox_ready.set()
        return [row.id for row in out if row.id is not None]

    async def _contact_for(self, s: AsyncSession, address: str, survey: SurveySession | None) -> Contact | None:
        if survey is not None:
            return await s.get(Contact, survey.contact_id)
        parsed = Address.parse(address)
        row = (await s.exec(select(ContactAddress).where(
            ContactAddress.channel == parsed.channel.value, ContactAddress.path == parsed.path))).first()
        if row is not None:
            return await s.get(Contact, row.contact_id)
        if parsed.channel == Channel.WEB:
            last = (await s.exec(select(SurveySession).where(SurveySession.address == address)
                                 .order_by(col(SurveySession.id).desc()).limit(1))).first()
            if last is not None:
                return await s.get(Contact, last.contact_id)
        return None

    async def _touch_address(self, s: AsyncSession, address: str, now: datetime) -> None:
        parsed = Address.parse(address)
        await s.exec(update(ContactAddress).where(
            col(ContactAddress.channel) == parsed.channel.value, col(ContactAddress.path) == parsed.path,
        ).values(last_inbound_at=now))

    async def _outside_survey(self, s: AsyncSession, msg: Message, contact: Contact | None,
                              now: datetime) -> list[int]:
        """A message with no survey running: keywords still work, and words are kept for a person."""
        keyword = parse_keyword(msg.text)
        language = contact.language if contact else "en"
        context = {"force_name": self.settings.force_name}
        out: list[Message] = []
        if keyword is Keyword.STOP:
            if contact is None:
                contact = await self._contact_from_stop(s, msg.address, now)
            if contact.opted_out_at is None:
                await self._opt_out(s, contact, msg.channel, now)
                out.append(self._outbound(msg.channel, msg.address, contact.id,
                                          self.phrases.say("opted_out", language, context), "opted_out", now))
        elif keyword is Keyword.START:
            if contact is not None and contact.opted_out_at is not None:
                contact.opted_out_at = None
                contact.opted_out_channel = None
                contact.updated_at = now
                out.append(self._outbound(msg.channel, msg.address, contact.id,
                                          self.phrases.say("opted_in", language, context), "opted_in", now))
        elif keyword is Keyword.HELP:
            out.append(self._outbound(msg.channel, msg.address, contact.id if contact else None,
                                      self.phrases.say("help", language, context), "help", now))
        elif msg.text.strip() or msg.media:
            case_id = await self._latest_case(s, contact)
            reading = await self._reading(msg)
            s.add(feedback_item(reading, now, contact_id=contact.id if contact else None, case_id=case_id,
                                message_id=msg.id, prompted=False, text=msg.text))
            if reading is not None and reading.risk == "urgent":
                # Whoever writes to us in danger hears what to do now, whatever else they chose.
                danger = "immediate_danger" in reading.risk_categories or "self_harm" not in reading.risk_categories
                key = "safety_danger" if danger else "safety_self_harm"
                out.append(self._outbound(msg.channel, msg.address, contact.id if contact else None,
                                          self.phrases.say(key, language, context), "safety", now))
            elif (contact is None or contact.opted_out_at is None) and await self._may_send_no_survey(s, msg, now):
                out.append(self._outbound(msg.channel, msg.address, contact.id if contact else None,
                                          self.phrases.say("no_survey", language, context), "no_survey", now))
        for row in out:
            s.add(row)
        await s.flush()
        return [row.id for row in out if row.id is not None]

    async def _contact_from_stop(self, s: AsyncSession, address: str, now: datetime) -> Contact:
        """Someone we do not know sent STOP: remember it so no future invitation reaches that address."""
        parsed = Address.parse(address)
        contact = Contact(consent=False, preferred_channel=parsed.channel.value, created_at=now, updated_at=now)
        s.add(contact)
        await s.flush()
        assert contact.id is not None
        s.add(ContactAddress(contact_id=contact.id, channel=parsed.channel.value, path=parsed.path, created_at=now))
        return contact

    async def _latest_case(self, s: AsyncSession, contact: Contact | None) -> int | None:
        if contact is None:
            return None
        return (await s.exec(select(Invitation.case_id).where(Invitation.contact_id == contact.id)
                             .order_by(col(Invitation.id).desc()).limit(1))).first()

    async def _may_send_no_survey(self, s: AsyncSession, msg: Message, now: datetime) -> bool:
        last = (await s.exec(select(Message.created_at).where(
            Message.direction == "out", Message.address == msg.address, Message.purpose == "no_survey",
        ).order_by(col(Message.id).desc()).limit(1))).first()
        return last is None or now - last >= NO_SURVEY_REPLY_EVERY

    # --- invitations and timeouts -----------------------------------------------------------------

    async def start_invitation(self, invitation_id: int) -> list[int]:
        """Start the survey of a due invitation (checking again that the victim may still be surveyed)."""
        now = self.clock.now()
        async with self.db.session() as s:
            query = select(Invitation).where(Invitation.id == invitation_id)
            if not self.db.sqlite:
                query = query.with_for_update(skip_locked=True)
            inv = (await s.exec(query)).first()
            if inv is None or inv.status != "scheduled":
                return []
            contact = await s.get(Contact, inv.contact_id)
            case = await s.get(Case, inv.case_id)
            assert contact is not None
            if contact.opted_out_at is not None or not contact.consent:
                inv.status, inv.status_reason = "cancelled", "opted_out" if contact.opted_out_at else "no_consent"
                return []
            if inv.channel == Channel.TELEGRAM.value and inv.address == "telegram:":
                return await self._invite_to_telegram(s, inv, contact, case, now)
            await self._supersede(s, inv.address, now)
            flow = self.flows.latest(inv.flow_id)
            sprint = engine.start(flow, self.phrases, language=inv.language or contact.language,
                                  context=case_context(case, self.settings), at=now)
            survey = SurveySession(invitation_id=inv.id, contact_id=contact.id or 0, case_id=inv.case_id,
                                   flow_id=flow.id, flow_version=flow.version, channel=inv.channel,
                                   address=inv.address, language=sprint.state.language, status=engine.ACTIVE,
                                   state={}, version=0, started_at=now, updated_at=now)
            s.add(survey)
            await s.flush()
            inv.status, inv.sent_at = "sent", now
            return await self._apply(s, survey, contact, sprint, now, inbound=None, new=True)

    async def _invite_to_telegram(self, s: AsyncSession, inv: Invitation, contact: Contact, case: Case | None,
                                  now: datetime) -> list[int]:
        """A bot cannot write first: send a single-use deep link by SMS or email; the survey starts on /start."""
        carrier = None
        for name in contact.allowed_channels or []:
            if name in {Channel.TELEGRAM.value, Channel.WEB.value}:
                continue
            row = (await s.exec(select(ContactAddress).where(
                ContactAddress.contact_id == contact.id, ContactAddress.channel == name,
                ContactAddress.status == "ok"))).first()
            if row is not None:
                carrier = Address(Channel(name), row.path)
                break
        if carrier is None or not self.settings.telegram_bot_username:
            inv.status, inv.status_reason = "undeliverable", "no SMS or email address to send the Telegram link to"
            return []
        token = secrets.token_urlsafe(24)
        s.add(ChannelLink(token=token, invitation_id=inv.id or 0, channel=Channel.TELEGRAM.value, created_at=now))
        link = f"https://t.me/{self.settings.telegram_bot_username}?start={token}"
        text = self.phrases.say("telegram_invite", inv.language or contact.language,
                                case_context(case, self.settings), link=link)
        message = self._outbound(carrier.channel.value, str(carrier), contact.id, text, "telegram_invite", now)
        s.add(message)
        inv.status, inv.sent_at = "awaiting_link", now
        await s.flush()
        self.outbox_ready.set()
        return [message.id] if message.id is not None else []

    async def _supersede(self, s: AsyncSession, address: str, now: datetime) -> None:
        await s.exec(update(SurveySession).where(
            col(SurveySession.address) == address, col(SurveySession.status) == engine.ACTIVE,
        ).values(status="superseded", ended_at=now, reminder_at=None, expires_at=None, updated_at=now,
                 version=SurveySession.version + 1))

    async def timeout(self, session_id: int, kind: str) -> list[int]:
        """Send a session's reminder (``kind="reminder"``) or close it (``kind="expiry"``) if still due."""
        now = self.clock.now()
        async with self.db.session() as s:
            survey = await s.get(SurveySession, session_id)
            if survey is None or survey.status != engine.ACTIVE:
                return []
            due = survey.reminder_at if kind == "reminder" else survey.expires_at
            if due is None or due > now:
                return []
            contact = await s.get(Contact, survey.contact_id)
            assert contact is not None
            flow = await self.flows.get(s, survey.flow_id, survey.flow_version)
            state = engine.SessionState.from_json(survey.state)
            resume: engine.Resume = engine.ReminderResume(now) if kind == "reminder" else engine.ExpiryResume(now)
            sprint = engine.resume(flow, self.phrases, state, resume)
            if kind == "reminder" and not sprint.events:
                sprint = engine.Sprint(replace(sprint.state, reminder_at=None), ())
            return await self._apply(s, survey, contact, sprint, now, inbound=None)

    # --- carrying out the engine's events ---------------------------------------------------------

    def _outbound(self, channel: str, address: str, contact_id: int | None, text: str, purpose: str,
                  now: datetime, session_id: int | None = None, step_id: str | None = None,
                  quick_replies: Sequence[dict[str, str]] = ()) -> Message:
        pull = channel in PULL_CHANNELS
        return Message(direction="out", channel=channel, address=address, contact_id=contact_id,
                       session_id=session_id, text=text, purpose=purpose, step_id=step_id,
                       quick_replies=list(quick_replies), media=[], status="sent" if pull else "queued",
                       next_attempt_at=None if pull else now, created_at=now, updated_at=now,
                       sent_at=now if pull else None)

    async def _apply(self, s: AsyncSession, survey: SurveySession, contact: Contact, sprint: engine.Sprint,
                     now: datetime, *, inbound: Message | None, new: bool = False,
                     reading: Classification | None = None) -> list[int]:
        out: list[Message] = []
        touchpoint = None
        if survey.invitation_id is not None:
            inv = await s.get(Invitation, survey.invitation_id)
            touchpoint = inv.touchpoint if inv else None
        else:
            inv = None
        for event in sprint.events:
            if isinstance(event, engine.MsgCreated):
                row = self._outbound(survey.channel, survey.address, contact.id, event.text, event.purpose, now,
                                     survey.id, event.step_id,
                                     [{"text": q.text, "label": q.label} for q in event.quick_replies])
                # Threading: our answer replies to the victim's message (email In-Reply-To).
                row.in_reply_to = inbound.provider_id if inbound is not None else None
                out.append(row)
            elif isinstance(event, engine.AnswerSaved):
                s.add(Answer(session_id=survey.id or 0, contact_id=contact.id or 0, case_id=survey.case_id,
                             message_id=inbound.id if inbound else None, flow_id=survey.flow_id,
                             flow_version=survey.flow_version, step_id=event.step_id, kind=event.kind,
                             value=event.value, value_num=event.number, skipped=event.skipped, created_at=now))
            elif isinstance(event, engine.FeedbackReceived):
                s.add(feedback_item(reading, now, contact_id=contact.id, case_id=survey.case_id,
                                    session_id=survey.id, message_id=inbound.id if inbound else None,
                                    step_id=event.step_id, touchpoint=touchpoint, prompted=event.prompted,
                                    text=event.text))
            elif isinstance(event, engine.OptedOut):
                await self._opt_out(s, contact, survey.channel, now, except_session=survey.id)
            elif isinstance(event, engine.LanguageChanged):
                contact.language = event.language
                contact.updated_at = now
            elif isinstance(event, engine.RunEnded):
                survey.ended_at = now
                if inv is not None:
                    inv.status = {"completed": "completed", "expired": "expired"}.get(event.status, event.status)
        state = sprint.state
        values: dict[str, Any] = {
            "state": state.to_json(), "status": state.status, "current_step": state.step,
            "language": state.language, "reminder_at": state.reminder_at, "expires_at": state.expires_at,
            "updated_at": now, "ended_at": survey.ended_at, "last_inbound_at": survey.last_inbound_at,
            "version": survey.version + 1,
        }
        if inv is not None and state.status == engine.ACTIVE and inbound is not None and inv.status == "sent":
            inv.status = "started"
        if new:
            for key, value in values.items():
                setattr(survey, key, value)
        else:
            s.expunge(survey)
            # The session object was just expunged, so there is nothing in memory to synchronise.
            result = await s.exec(update(SurveySession).where(
                col(SurveySession.id) == survey.id, col(SurveySession.version) == survey.version,
            ).values(**values).execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise StaleSession(str(survey.id))
        for row in out:
            s.add(row)
        await s.flush()
        if any(row.status == "queued" for row in out):
            self.outbox_ready.set()
        return [row.id for row in out if row.id is not None]

    async def _opt_out(self, s: AsyncSession, contact: Contact, channel: str, now: datetime,
                       except_session: int | None = None) -> None:
        """Honour STOP at once and for good, on every channel: end surveys, cancel invitations and sends."""
        contact.opted_out_at = now
        contact.opted_out_channel = channel
        contact.updated_at = now
        ended = update(SurveySession).where(
            col(SurveySession.contact_id) == contact.id, col(SurveySession.status) == engine.ACTIVE)
        if except_session is not None:
            ended = ended.where(col(SurveySession.id) != except_session)
        await s.exec(ended.values(status=engine.OPTED_OUT, ended_at=now, reminder_at=None, expires_at=None,
                                  updated_at=now, version=SurveySession.version + 1))
        await s.exec(update(Invitation).where(
            col(Invitation.contact_id) == contact.id, col(Invitation.status) == "scheduled",
        ).values(status="cancelled", status_reason="opted_out"))
        await s.exec(update(Message).where(
            col(Message.contact_id) == contact.id, col(Message.direction) == "out",
            col(Message.status).in_(["queued", "claimed"]),
        ).values(status="cancelled", error_reason="opted out", updated_at=now))
