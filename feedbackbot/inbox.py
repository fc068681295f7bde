"""What providers tell us, taken in safely: messages committed then processed, delivery reports, failures, links."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .channels.base import Accepted
from .clock import Clock
from .conversation import Conversation
from .flows import engine
from .foreground import Foreground
from .messages import Address, Channel, InboundMessage
from .settings import Settings
from .store import direct, rows
from .store.db import Database
from .store.tables import ChannelLink, Contact, ContactAddress, Invitation, Message, SurveySession
from .workers.outbox import may_move

log = logging.getLogger(__name__)

#: Replies whose survey turns are carried out at once after acknowledging providers' webhooks (their
#: free text read by the model side by side). The rest wait in arrival order, and each turn waits for a
#: moment when no request is being answered (``Foreground``), so a burst of webhooks is acknowledged at
#: full speed and worked through just after.
BACKGROUND_TURNS = 4
#: How often ``feedbackbot worker`` looks for replies that web processes stored (seconds), and how many it
#: takes at a time. ``serve`` carries out the turns of what it accepts itself, so it looks only as often as
#: its scheduler (``FEEDBACKBOT_WORKER_POLL_SECONDS``), for web processes that leave theirs to it.
PICK_UP_SECONDS = 0.1
PICK_UP_BATCH = 500


class Inbox:
    """The InboundSink every provider adapter hands its news to."""

    def __init__(self, db: Database, conversation: Conversation, settings: Settings, clock: Clock,
                 foreground: Foreground | None = None) -> None:
        self.db = db
        self.conversation = conversation
        self.settings = settings
        self.clock = clock
        self.foreground = foreground or Foreground()
        self.on_rescheduled: Callable[[], None] | None = None
        # Replies waiting for their turn: plain tuples in a queue worked by at most BACKGROUND_TURNS tasks
        # (a task per reply would keep thousands of coroutines alive through a burst, and Python's garbage
        # collector would walk every one of them, pausing the server).
        self._waiting: deque[tuple[int, str, str]] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._one_turn = asyncio.Lock()
        self._queued: Counter[str] = Counter()
        self._queued_ids: set[int] = set()
        self._picked_up_to: int | None = None  # the newest message id looked at; None before the first look
        #: Whether this process carries out the turns of the replies it accepts. A web process beside a
        #: ``feedbackbot worker`` only stores and acknowledges; the worker picks them up (``run_forever``).
        self.turns_here = settings.background_turns

    async def accept(self, inbound: InboundMessage) -> Accepted:
        """Commit the message (once per provider id), then process it in the background."""
        received = await self.conversation.receive(inbound)
        if received.new and self.turns_here:
            self.enqueue(received.message_id, str(inbound.address), inbound.text)
        return Accepted(received.message_id, received.new)

    def enqueue(self, message_id: int, address: str, text: str) -> bool:
        """Queue a stored reply for its survey turn (once); whether it was queued now."""
        if message_id in self._queued_ids:
            return False
        self._queued_ids.add(message_id)
        self._queued[address] += 1
        self._waiting.append((message_id, address, text))
        if len(self._workers) < BACKGROUND_TURNS:
            worker = asyncio.ensure_future(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        return True

    async def pick_up(self) -> int:
        """Queue the providers' replies stored since the last look and not yet carried out (another process
        took them). A reply stored out of id order (PostgreSQL hands ids out before commit) is left to the
        scheduler's recovery pass."""
        async with self.db.session() as s:
            conn = await s.connection()
            if self._picked_up_to is None:
                found = (await direct.run(conn, rows.RECEIVED_INBOUND_AT_START, {"limit": PICK_UP_BATCH})).all()
                self._picked_up_to = int((await direct.run(conn, rows.NEWEST_MESSAGE, {})).scalar_one() or 0)
            else:
                found = (await direct.run(conn, rows.RECEIVED_INBOUND, {"after": self._picked_up_to,
                                                                        "limit": PICK_UP_BATCH})).all()
                if len(found) == PICK_UP_BATCH:
                    self._picked_up_to = found[-1].id
                else:  # everything up to the newest message has been looked at
                    self._picked_up_to = int((await direct.run(conn, rows.NEWEST_MESSAGE, {})).scalar_one() or 0)
        return sum(self.enqueue(r.id, r.address, r.text) for r in found)

    async def run_forever(self, stop: asyncio.Event, every: float = PICK_UP_SECONDS) -> None:
        """Pick up replies other processes stored, every ``every`` seconds, until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.pick_up()
            except Exception:
                log.exception("picking up stored replies failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    def queued(self, address: str) -> bool:
        """Whether a reply from this address is waiting here for its survey turn."""
        return self._queued[address] > 0

    async def _work(self) -> None:
        """Carry out waiting replies' turns until none is left."""
        while self._waiting:
            message_id, address, text = self._waiting.popleft()
            try:
                await self.conversation.classify_on_arrival(message_id, text)  # the model: off the loop
                async with self._one_turn:  # turns on the loop one at a time, each in a quiet moment
                    await self.foreground.quiet()
                    try:
                        await self.conversation.process_pending(address, between=self.foreground.quiet)
                    finally:
                        self.foreground.done()
            except Exception as exc:
                # The message is committed; the scheduler's recovery pass processes it again.
                log.error("processing after accept failed: %s", type(exc).__name__)
            finally:
                self._queued_ids.discard(message_id)
                self._queued[address] -= 1
                if self._queued[address] <= 0:
                    del self._queued[address]

    async def drain(self) -> None:
        """Wait for processing already started (used at shutdown and by tests)."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    async def delivery_status(self, channel: Channel, provider_id: str, status: str, *, at: datetime,
                              error_code: str | None = None, error_reason: str | None = None) -> bool:
        """Record a provider's delivery report; statuses never move backwards."""
        async with self.db.session() as s:
            row = (await s.exec(select(Message).where(Message.channel == channel.value,
                                                      Message.provider_id == provider_id))).first()
            if row is None:
                return False
            if may_move(row.status, status):
                row.status, row.updated_at = status, at
                if status in {"delivered", "read"} and row.delivered_at is None:
                    row.delivered_at = at
                if error_code or error_reason:
                    row.error_code, row.error_reason = error_code, error_reason
        return True

    async def provider_opt_out(self, address: Address, reason: str) -> None:
        """The provider says the victim unsubscribed: honour it as a STOP, on every channel."""
        now = self.clock.now()
        async with self.db.session() as s:
            contact = await self._contact(s, address)
            if contact is None or contact.opted_out_at is not None:
                return
            await self.conversation._opt_out(s, contact, address.channel.value, now)
        log.info("contact opted out by provider (%s)", reason)

    async def address_failed(self, address: Address, reason: str) -> None:
        """Mark the address undeliverable and, where allowed, move unanswered surveys to the next channel."""
        now = self.clock.now()
        moved = False
        async with self.db.session() as s:
            await s.exec(update(ContactAddress).where(
                col(ContactAddress.channel) == address.channel.value, col(ContactAddress.path) == address.path,
            ).values(status="undeliverable", status_reason=reason[:300]))
            surveys = (await s.exec(select(SurveySession).where(
                SurveySession.address == str(address), SurveySession.status == engine.ACTIVE))).all()
            for survey in surveys:
                # No survey goes on to an address that cannot receive (no reminders into a blocked chat).
                survey.status, survey.ended_at, survey.updated_at = "undeliverable", now, now
                survey.reminder_at = survey.expires_at = None
                survey.version += 1
                await s.exec(update(Message).where(
                    col(Message.session_id) == survey.id, col(Message.status).in_(["queued", "claimed"]),
                ).values(status="cancelled", error_reason="address undeliverable", updated_at=now))
                inv = await s.get(Invitation, survey.invitation_id) if survey.invitation_id else None
                contact = await s.get(Contact, survey.contact_id)
                if inv is None or contact is None or survey.last_inbound_at is not None:
                    # A victim who answered and then blocked us has made a choice: no fallback.
                    continue
                target = await self._next_channel(s, contact, address) if self.settings.channel_fallback else None
                if target is None:
                    inv.status, inv.status_reason = "undeliverable", reason[:300]
                    continue
                inv.channel, inv.address = target.channel.value, str(target)
                inv.status, inv.send_after = "scheduled", now
                inv.status_reason = f"fell back from {address.channel.value}"
                moved = True
        if moved and self.on_rescheduled is not None:
            self.on_rescheduled()

    async def _next_channel(self, s: AsyncSession, contact: Contact, failed: Address) -> Address | None:
        agreed = list(contact.allowed_channels or [contact.preferred_channel])
        for name in agreed:
            if name == failed.channel.value or name == Channel.WEB.value:
                continue
            row = (await s.exec(select(ContactAddress).where(
                ContactAddress.contact_id == contact.id, ContactAddress.channel == name,
                ContactAddress.status == "ok"))).first()
            if row is not None:
                return Address(Channel(name), row.path)
        return None

    async def _contact(self, s: AsyncSession, address: Address) -> Contact | None:
        row = (await s.exec(select(ContactAddress).where(ContactAddress.channel == address.channel.value,
                                                         ContactAddress.path == address.path))).first()
        return await s.get(Contact, row.contact_id) if row is not None else None

    async def bind_link(self, token: str, address: Address) -> bool:
        """Bind a new address (a Telegram chat) to the invitation of a single-use link and start it there."""
        now = self.clock.now()
        async with self.db.session() as s:
            link = (await s.exec(select(ChannelLink).where(ChannelLink.token == token))).first()
            if link is None or link.used_at is not None or link.channel != address.channel.value:
                return False
            inv = await s.get(Invitation, link.invitation_id)
            if inv is None or inv.status not in {"awaiting_link", "scheduled", "sent"}:
                return False
            # Claim the link with a conditional update, so two deliveries of one /start bind it once.
            claimed = await s.exec(update(ChannelLink).where(
                col(ChannelLink.id) == link.id, col(ChannelLink.used_at).is_(None),
            ).values(used_at=now, bound_address=str(address)))
            if claimed.rowcount != 1:
                return False
            owner = (await s.exec(select(ContactAddress).where(ContactAddress.channel == address.channel.value,
                                                               ContactAddress.path == address.path))).first()
            if owner is None:
                s.add(ContactAddress(contact_id=inv.contact_id, channel=address.channel.value, path=address.path,
                                     created_at=now, last_inbound_at=now))
            elif owner.contact_id != inv.contact_id:
                log.warning("link %s: address already belongs to another contact; not rebinding", link.id)
                return False
            inv.channel, inv.address = address.channel.value, str(address)
            inv.status, inv.send_after = "scheduled", now
            invitation_id = inv.id or 0
        await self.conversation.start_invitation(invitation_id)
        return True
