"""The conversation layer: store what victims send, run the pure engine, persist its events in one transaction."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row, update
from sqlalchemy.ext.asyncio import AsyncConnection
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
from .store import direct, rows
from .store.db import Database
from .store.tables import (
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
T = TypeVar("T")

#: Channels the victim's own device reads from us (no provider to push through).
PULL_CHANNELS = frozenset({Channel.WEB.value})
NO_SURVEY_REPLY_EVERY = timedelta(hours=24)
#: Channels where a turn's messages go as one (an invitation by email is one email, not three).
ONE_MESSAGE_PER_TURN = frozenset({Channel.EMAIL.value})


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


@dataclass(frozen=True)
class Inbound:
    """A stored inbound message as the conversation reads it."""

    id: int
    channel: str
    address: str
    provider_id: str | None
    text: str
    media: list[dict[str, str]]


@dataclass(frozen=True)
class InvitationRef:
    """What a turn needs of the survey's invitation."""

    touchpoint: str | None
    status: str | None


class SurveyFields(Protocol):
    """What a turn reads of a survey session (an ORM row or a SurveyRef)."""

    @property
    def id(self) -> int | None: ...
    @property
    def invitation_id(self) -> int | None: ...
    @property
    def contact_id(self) -> int: ...
    @property
    def case_id(self) -> int | None: ...
    @property
    def flow_id(self) -> str: ...
    @property
    def flow_version(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def last_inbound_at(self) -> datetime | None: ...
    @property
    def ended_at(self) -> datetime | None: ...


class ContactFields(Protocol):
    """What a turn reads of a contact (an ORM row or a ContactRef)."""

    @property
    def id(self) -> int | None: ...
    @property
    def language(self) -> str: ...
    @property
    def opted_out_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class SurveyRef:
    """A survey session read with SQLAlchemy Core on the reply path."""

    id: int | None
    invitation_id: int | None
    contact_id: int
    case_id: int | None
    flow_id: str
    flow_version: int
    channel: str
    address: str
    version: int
    last_inbound_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class ContactRef:
    """A contact read with SQLAlchemy Core on the reply path."""

    id: int | None
    language: str
    opted_out_at: datetime | None


def _inbound_row(inbound: InboundMessage) -> dict[str, Any]:
    """The columns of a stored inbound message, waiting to be processed."""
    return {"direction": "in", "channel": inbound.channel.value, "address": str(inbound.address),
            "contact_id": None, "session_id": None, "provider_id": inbound.provider_id, "text": inbound.text,
            "quick_replies": [], "media": _media(inbound), "step_id": None, "purpose": "reply",
            "status": "received", "error_code": None, "error_reason": None, "attempts": 0, "next_attempt_at": None,
            "claimed_at": None, "in_reply_to": None, "created_at": inbound.received_at,
            "updated_at": inbound.received_at, "sent_at": None, "delivered_at": None}


def _media(inbound: InboundMessage) -> list[dict[str, str]]:
    """Each media item's type, and where the provider keeps it when it said."""
    refs = inbound.media_refs + ("",) * (len(inbound.media_types) - len(inbound.media_refs))
    return [{"type": kind, "ref": ref} if ref else {"type": kind} for kind, ref in zip(inbound.media_types, refs,
                                                                                        strict=False)]


def _inbound(row: Row[*tuple[Any, ...]]) -> Inbound:
    return Inbound(int(row.id), row.channel, row.address, row.provider_id, row.text, list(row.media or []))


def _outbound_values(channel: str, address: str, contact_id: int | None, text: str, purpose: str, now: datetime,
                     session_id: int | None = None, step_id: str | None = None,
                     quick_replies: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """The columns of a message to a victim: queued for the outbox, or already "sent" on a pull channel."""
    pull = channel in PULL_CHANNELS
    return {"direction": "out", "channel": channel, "address": address, "contact_id": contact_id,
            "session_id": session_id, "provider_id": None, "text": text, "quick_replies": list(quick_replies),
            "media": [], "step_id": step_id, "purpose": purpose, "status": "sent" if pull else "queued",
            "error_code": None, "error_reason": None, "attempts": 0, "next_attempt_at": None if pull else now,
            "claimed_at": None, "in_reply_to": None, "created_at": now, "updated_at": now,
            "sent_at": now if pull else None, "delivered_at": None}


def _joined(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A turn's messages as one: paragraphs in order, with the last one's step, purpose and choices."""
    joined = dict(rows[-1])
    joined["text"] = "\n\n".join(row["text"] for row in rows)
    return joined


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
        #: Set by the app: routes a classified reply to officers and queues, in the caller's transaction.
        self.route: Callable[[AsyncSession, FeedbackItem, datetime], Awaitable[object]] | None = None

    # --- inbound ---------------------------------------------------------------------------------

    async def receive(self, inbound: InboundMessage) -> Received:
        """Commit an inbound message before anything else; a repeat of the same provider id is not stored again."""
        row = _inbound_row(inbound)
        async with self.db.session() as s:
            conn = await s.connection()
            new_id = await rows.insert_unless_duplicate(conn, rows.MESSAGES, row, ("channel", "provider_id"))
            if new_id is not None:
                return Received(new_id, True)
            # A repeat (or a concurrent delivery of the same message, which stored it first).
            existing = (await direct.run(conn, rows.MESSAGE_ID_BY_PROVIDER, {
                "channel": row["channel"], "provider_id": row["provider_id"]})).scalar_one()
            return Received(int(existing), False)

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

    async def reply_in_one_turn(self, inbound: InboundMessage, reading: Classification | None,
                                read_back: Callable[[AsyncConnection, int], Awaitable[T]]) -> tuple[Received, T]:
        """Store a reply, carry it out and read the answer back, all in one transaction.

        For channels whose HTTP response is the acknowledgement (the web chat): the victim hears back only
        once everything is committed, and one transaction instead of three keeps a reply cheap. ``reading``
        is the reply's classification, made before the transaction so the model never holds a lock. If
        anything goes wrong the reply is stored on its own first and processed the usual way, so a failure
        in a survey step never loses what the victim wrote.
        """
        address = str(inbound.address)
        lock = self._lock(address)
        new_id: int | None = None
        try:
            async with lock:
                now = self.clock.now()
                async with self.db.session() as s:
                    conn = await s.connection()
                    new_id = await rows.insert_unless_duplicate(conn, rows.MESSAGES, _inbound_row(inbound),
                                                                ("channel", "provider_id"))
                    if new_id is not None and reading is not None:
                        self._classified[new_id] = reading
                    received = Received(new_id, True) if new_id is not None else Received(int((await conn.execute(
                        rows.MESSAGE_ID_BY_PROVIDER, {"channel": inbound.channel.value,
                                                      "provider_id": inbound.provider_id})).scalar_one()), False)
                    while True:
                        pending = (await direct.run(conn, rows.PENDING_FROM, {"address": address})).all()
                        if not pending:
                            break
                        await self._process(s, _inbound(pending[0]), now)
                        if len(pending) == 1:
                            break
                    answer = await read_back(conn, received.message_id)
            return received, answer
        except Exception as exc:
            if new_id is not None:
                # Rolled back: that id may be given to another message, which must not get this reading.
                self._classified.pop(new_id, None)
            if not isinstance(exc, StaleSession):
                log.exception("a reply from %s could not be carried out in one turn; storing it first",
                              inbound.channel.value)
            received = await self.receive(inbound)
            if received.new and reading is not None:
                self._classified[received.message_id] = reading
            await self.process_pending(address)
            async with self.db.session() as s:
                return received, await read_back(await s.connection(), received.message_id)
        finally:
            if not lock.locked() and self._locks.get(address) is lock:
                del self._locks[address]

    async def read_reply(self, text: str) -> Classification | None:
        """Classify a reply's words before it is stored, if it has any; None when there is nothing to read."""
        if self.classify is None or not needs_reading(text):
            return None
        try:
            return await self.classify(text)
        except Exception:
            log.exception("classifying a reply on arrival failed; left for the worker")
            return None

    async def process_pending(self, address: str,
                              between: Callable[[], Awaitable[None]] | None = None) -> list[int]:
        """Process every stored, unprocessed message from ``address`` in order; returns the outbound ids made.

        ``between`` is awaited before each message after the first (a victim who sent ten messages in a burst
        does not hold the server for all ten at once).
        """
        created: list[int] = []
        lock = self._lock(address)
        async with lock:
            more = await self._process_next_with_retry(address, created)
            while more:
                if between is not None:
                    await between()
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
        whose process stopped in between. The usual path runs SQLAlchemy Core statements (a reply is about
        eight of them); the ORM is used only on the rare paths.

        A reply with words that nobody has read yet (a victim's second message in a burst, or one left by a
        restart) is read by the classifier first, outside the transaction, and the transaction begun again:
        the model takes 10-50 ms in its own process, and a transaction waiting for it would hold SQLite's
        one connection, and with it every webhook's acknowledgement.
        """
        read_first = False
        while True:
            now = self.clock.now()
            async with self.db.session() as s:
                conn = await s.connection()
                pending = (await direct.run(conn, rows.PENDING_FROM, {"address": address})).all()
                if not pending:
                    return False
                msg = _inbound(pending[0])
                if read_first or not self._unread(msg):
                    try:
                        made = await self._process(s, msg, now)
                    except StaleSession as stale:
                        stale.message_id = msg.id
                        raise
                    created.extend(made)
                    return len(pending) > 1
            # Nothing was written in that transaction: read the words, then carry the reply out.
            read_first = True
            await self.classify_on_arrival(msg.id, msg.text)

    def _unread(self, msg: Inbound) -> bool:
        """Whether a reply has words for the classifier that it has not read yet."""
        return self.classify is not None and msg.id not in self._classified and needs_reading(msg.text)

    async def _process(self, s: AsyncSession, msg: Inbound, now: datetime) -> list[int]:
        conn = await s.connection()
        # The active survey, its contact and its invitation in one query.
        found = (await direct.run(conn, rows.ACTIVE_SURVEY_AT, {"address": msg.address})).first()
        if found is None or found.opted_out_at is not None:
            known = await self._contact_for(s, msg.address, found.contact_id if found is not None else None)
            await direct.run(conn, rows.UPDATE_MESSAGE, {"message_id": msg.id, "status": "processed",
                                                         "contact_id": known.id if known else None,
                                                         "updated_at": now})
            if known is not None and msg.channel != Channel.WEB.value:
                await self._touch_address(s, msg.address, now)
            return await self._outside_survey(s, msg, known, now)
        survey = SurveyRef(id=found.id, invitation_id=found.invitation_id, contact_id=found.contact_id,
                           case_id=found.case_id, flow_id=found.flow_id, flow_version=found.flow_version,
                           channel=found.channel, address=found.address, version=found.version,
                           last_inbound_at=now, ended_at=found.ended_at)
        contact = ContactRef(id=found.contact_id, language=found.language, opted_out_at=None)
        invitation = InvitationRef(found.touchpoint, found.invitation_status) if found.invitation_id else None
        await direct.run(conn, rows.UPDATE_MESSAGE, {"message_id": msg.id, "status": "processed",
                                                     "contact_id": contact.id, "session_id": survey.id,
                                                     "updated_at": now})
        if msg.channel != Channel.WEB.value:
            await self._touch_address(s, msg.address, now)
        flow = await self.flows.get(s, survey.flow_id, survey.flow_version)
        state = engine.SessionState.from_json(found.state)
        if msg.media and not msg.text.strip():
            return await self._media_only(s, msg, survey, contact, flow, state, now)
        sprint = engine.resume(flow, self.phrases, state, engine.MessageResume(msg.text, now))
        reading = await self._reading(msg)
        if reading is not None and reading.risk == "urgent":
            sprint = self._safety_turn(sprint, msg.text, reading)
        return await self._apply(s, survey, contact, sprint, now, inbound=msg, reading=reading,
                                 invitation=invitation)

    async def _reading(self, msg: Inbound) -> Classification | None:
        """The classification made before this turn's transaction, if any (never made inside it: see
        ``_process_next``). Without one the feedback item waits for the classification worker, which also
        sends safety guidance if the reply turns out to be urgent."""
        return self._classified.pop(msg.id or 0, None)

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

    async def _media_only(self, s: AsyncSession, msg: Inbound, survey: SurveyRef, contact: ContactRef,
                          flow: Flow, state: engine.SessionState, now: datetime) -> list[int]:
        """A voice note, photo or sticker: kept for a person, and the victim told typed replies are easiest."""
        kinds = ", ".join(m.get("type", "attachment") for m in msg.media)
        s.add(FeedbackItem(contact_id=contact.id, case_id=survey.case_id, session_id=survey.id, message_id=msg.id,
                           step_id=state.step, prompted=False, text=f"[{kinds}]", classification={},
                           created_at=now))
        await s.exec(update(SurveySession).where(col(SurveySession.id) == survey.id).values(last_inbound_at=now))
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

    async def _route(self, s: AsyncSession, item: FeedbackItem, now: datetime) -> None:
        """Hand a reply classified on arrival to the router, in this turn's transaction (the worker routes the rest)."""
        if self.route is not None and item.status == "classified":
            await self.route(s, item, now)

    async def _contact_for(self, s: AsyncSession, address: str, contact_id: int | None) -> Contact | None:
        if contact_id is not None:
            return await s.get(Contact, contact_id)
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

    async def _outside_survey(self, s: AsyncSession, msg: Inbound, contact: Contact | None,
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
            item = feedback_item(reading, now, contact_id=contact.id if contact else None, case_id=case_id,
                                 message_id=msg.id, prompted=False, text=msg.text)
            s.add(item)
            if item.status == "classified":
                await s.flush()
                await self._route(s, item, now)
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

    async def _may_send_no_survey(self, s: AsyncSession, msg: Inbound, now: datetime) -> bool:
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
            return await self._apply(s, survey, contact, sprint, now, inbound=None)

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
        return Message(**_outbound_values(channel, address, contact_id, text, purpose, now, session_id, step_id,
                                          quick_replies))

    async def _apply(self, s: AsyncSession, survey: SurveyFields, contact: ContactFields, sprint: engine.Sprint,
                     now: datetime, *, inbound: Inbound | None, reading: Classification | None = None,
                     invitation: InvitationRef | None = None) -> list[int]:
        """Carry out the engine's events and move the session on, in the caller's transaction.

        The session row is updated only if it is still at the version read (else StaleSession, and the whole
        transaction is retried); everything here is SQLAlchemy Core, so pending ORM changes are flushed first.
        """
        if s.new or s.dirty or s.deleted:
            await s.flush()
        conn = await s.connection()
        if invitation is None and survey.invitation_id is not None:
            found = (await direct.run(conn, rows.INVITATION_FACTS, {"invitation_id": survey.invitation_id})).first()
            invitation = InvitationRef(found.touchpoint, found.status) if found is not None else None
        touchpoint = invitation.touchpoint if invitation is not None else None
        invitation_status: str | None = None
        out: list[dict[str, Any]] = []
        ended_at = survey.ended_at
        for event in sprint.events:
            if isinstance(event, engine.MsgCreated):
                row = _outbound_values(survey.channel, survey.address, contact.id, event.text, event.purpose, now,
                                       survey.id, event.step_id,
                                       [{"text": q.text, "label": q.label} for q in event.quick_replies])
                # Threading: our answer replies to the victim's message (email In-Reply-To).
                row["in_reply_to"] = inbound.provider_id if inbound is not None else None
                out.append(row)
            elif isinstance(event, engine.AnswerSaved):
                await rows.insert_returning_id(conn, rows.ANSWERS, {
                    "session_id": survey.id or 0, "contact_id": contact.id or 0, "case_id": survey.case_id,
                    "message_id": inbound.id if inbound else None, "flow_id": survey.flow_id,
                    "flow_version": survey.flow_version, "step_id": event.step_id, "kind": event.kind,
                    "value": event.value, "value_num": event.number, "skipped": event.skipped, "created_at": now})
            elif isinstance(event, engine.FeedbackReceived):
                item = feedback_item(reading, now, contact_id=contact.id, case_id=survey.case_id,
                                     session_id=survey.id, message_id=inbound.id if inbound else None,
                                     step_id=event.step_id, touchpoint=touchpoint, prompted=event.prompted,
                                     text=event.text)
                item.id = await rows.insert_returning_id(conn, rows.FEEDBACK, item)
                await self._route(s, item, now)
            elif isinstance(event, engine.OptedOut):
                await self._opt_out(s, contact, survey.channel, now, except_session=survey.id)
            elif isinstance(event, engine.LanguageChanged):
                await direct.run(conn, rows.UPDATE_CONTACT, {"contact_id": contact.id, "language": event.language,
                                                             "updated_at": now})
            elif isinstance(event, engine.RunEnded):
                ended_at = now
                if invitation is not None:
                    invitation_status = {"completed": "completed", "expired": "expired"}.get(event.status,
                                                                                            event.status)
        state = sprint.state
        result = await direct.run(conn, rows.UPDATE_SURVEY_AT_VERSION, {
            "survey_id": survey.id, "at_version": survey.version, "state": state.to_json(), "status": state.status,
            "current_step": state.step, "language": state.language, "reminder_at": state.reminder_at,
            "expires_at": state.expires_at, "updated_at": now, "ended_at": ended_at,
            "last_inbound_at": survey.last_inbound_at, "version": survey.version + 1})
        if result.rowcount != 1:
            raise StaleSession(str(survey.id))
        if invitation is not None and invitation_status is None and state.status == engine.ACTIVE \
                and inbound is not None and invitation.status == "sent":
            invitation_status = "started"
        if invitation_status is not None and survey.invitation_id is not None:
            await direct.run(conn, rows.UPDATE_INVITATION, {"invitation_id": survey.invitation_id,
                                                            "status": invitation_status})
        if survey.channel in ONE_MESSAGE_PER_TURN and len(out) > 1:
            out = [_joined(out)]
        made = [await rows.insert_returning_id(conn, rows.MESSAGES, row) for row in out]
        if any(row["status"] == "queued" for row in out):
            self.outbox_ready.set()
        return made

    async def _opt_out(self, s: AsyncSession, contact: ContactFields, channel: str, now: datetime,
                       except_session: int | None = None) -> None:
        """Honour STOP at once and for good, on every channel: end surveys, cancel invitations and sends."""
        if isinstance(contact, Contact):
            contact.opted_out_at = now
            contact.opted_out_channel = channel
            contact.updated_at = now
        else:
            await s.exec(update(Contact).where(col(Contact.id) == contact.id).values(
                opted_out_at=now, opted_out_channel=channel, updated_at=now))
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
