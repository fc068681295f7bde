"""The scheduler: sends due invitations, reminders and expiries, and finishes inbound work a crash interrupted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from ..channels.base import ChannelRegistry
from ..clock import Clock
from ..conversation import Conversation
from ..foreground import Foreground
from ..settings import Settings
from ..store.db import Database
from ..store.tables import Invitation, Message, SurveySession

log = logging.getLogger(__name__)
BATCH = 200
#: An inbound message still unprocessed after this long was interrupted (a crash, a restart).
RECOVER_AFTER = timedelta(seconds=10)


class Scheduler:
    """Polls the database for due work; ``wake()`` makes it look at once (for example after a new event)."""

    def __init__(self, db: Database, conversation: Conversation, channels: ChannelRegistry, settings: Settings,
                 clock: Clock) -> None:
        self.db = db
        self.conversation = conversation
        self.channels = channels
        self.settings = settings
        self.clock = clock
        self.tz = ZoneInfo(settings.timezone)
        self._wake = asyncio.Event()
        #: Further due work run on each pass (the classification of pending feedback, say).
        self.extra_work: list[Callable[[], Awaitable[int]]] = []
        #: Each survey turn the scheduler carries out waits for a moment when no request is being answered.
        self.foreground = Foreground()
        #: Whether an address's unprocessed replies are already queued in this process (the Inbox's).
        self.queued_here: Callable[[str], bool] = lambda address: False

    def wake(self) -> None:
        """Look for due work now rather than at the next poll."""
        self._wake.set()

    def _quiet_now(self) -> bool:
        local = self.clock.now().astimezone(self.tz).time().replace(tzinfo=None)
        return self.settings.quiet_hours.contains(local)

    async def run_once(self, *, recover_all: bool = False) -> int:
        """Do every piece of due work once; return how many things were done."""
        done = await self.recover_inbound(everything=recover_all)
        now = self.clock.now()
        quiet = self._quiet_now()
        channels = [c.value for c in self.channels.channels]
        async with self.db.session() as s:
            invitations = [] if quiet else (await s.exec(select(Invitation.id).where(
                Invitation.status == "scheduled", col(Invitation.send_after) <= now,
                col(Invitation.channel).in_(channels),
            ).order_by(col(Invitation.send_after)).limit(BATCH))).all()
            reminders = [] if quiet else (await s.exec(select(SurveySession.id).where(
                SurveySession.status == "active", col(SurveySession.reminder_at) <= now,
            ).limit(BATCH))).all()
            expiries = (await s.exec(select(SurveySession.id).where(
                SurveySession.status == "active", col(SurveySession.expires_at) <= now,
            ).limit(BATCH))).all()
        for invitation_id in invitations:
            if invitation_id is not None:
                await self._guard(self.conversation.start_invitation(invitation_id), "invitation", invitation_id)
                done += 1
        for session_id in reminders:
            if session_id is not None:
                await self._guard(self.conversation.timeout(session_id, "reminder"), "reminder", session_id)
                done += 1
        for session_id in expiries:
            if session_id is not None:
                await self._guard(self.conversation.timeout(session_id, "expiry"), "expiry", session_id)
                done += 1
        for work in self.extra_work:
            try:
                await self.foreground.quiet()
                try:
                    done += await work()
                finally:
                    self.foreground.done()
            except Exception:
                log.exception("scheduler: %s failed; will retry", getattr(work, "__qualname__", "work"))
        return done

    async def recover_inbound(self, *, everything: bool = False) -> int:
        """Process inbound messages that were stored but never processed (the process stopped in between)."""
        cutoff = self.clock.now() - (timedelta(0) if everything else RECOVER_AFTER)
        async with self.db.session() as s:
            addresses = (await s.exec(select(Message.address).where(
                Message.direction == "in", Message.status == "received", col(Message.created_at) <= cutoff,
            ).distinct().limit(BATCH))).all()
        done = 0
        for address in addresses:
            if self.queued_here(address):  # a burst still being worked through, not an interrupted turn
                continue
            await self._guard(self.conversation.process_pending(address, between=self.foreground.quiet), "inbound", 0)
            done += 1
        return done

    async def _guard(self, work: Awaitable[object], what: str, ident: int) -> None:
        try:
            await self.foreground.quiet()
            try:
                await work
            finally:
                self.foreground.done()
        except Exception:
            # Logged with ids only; the row stays due and is tried again on the next pass.
            log.exception("scheduler: %s %s failed; will retry", what, ident)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; survives errors, which are logged by id."""
        first = True
        while not stop.is_set():
            try:
                await self.run_once(recover_all=first)
                first = False
            except Exception:
                log.exception("scheduler pass failed; retrying")
            self._wake.clear()
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waits, timeout=self.settings.worker_poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
