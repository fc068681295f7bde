"""The outbox dispatcher: claims queued messages, sends them through their channel, records what happened.

Every send is a row written with the state change that caused it. The dispatcher marks a row ``sending``
(committed) before calling the provider, so a crash between the provider's answer and our record leaves a
``sending`` row behind; on the next pass the adapter is asked whether the provider has it
(:meth:`ChannelAdapter.check_sent`) and nothing is sent twice without that check. Transient failures are
retried with exponential backoff and jitter; permanent ones are kept with their reason for an
administrator, who can retry them (``feedbackbot outbox retry``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from ..channels.base import ChannelAdapter, ChannelRegistry
from ..clock import Clock
from ..messages import Address, Channel, OutboundMessage, QuickReply, SendResult
from ..settings import Settings
from ..store.db import Database
from ..store.rows import INVITATIONS, MESSAGES, SURVEYS, table
from ..store.tables import ContactAddress, Message

log = logging.getLogger(__name__)

BATCH = 100
#: A pass claims what the live channels' rate limits let go in about this long (at least HAND_OVER_BATCH,
#: at most BATCH rows): claiming a hundred rows that take ten seconds to send held the event loop for tens
#: of milliseconds in one step, and left rows claimed long before their turn.
CLAIM_SECONDS = 1.0
#: Rows (for different victims) marked "sending" in one transaction just before they go, then sent at once
#: within the channel's rate: a crash leaves at most these to check with the provider.
HAND_OVER_BATCH = 10
SEND_TIMEOUT = 30.0
#: A row still ``sending`` after this long was interrupted (a crash or a restart mid-send).
STALE_SENDING = timedelta(minutes=2)
BACKOFF_BASE = 5.0
BACKOFF_CAP = 3600.0

CHANNEL_NAMES = {Channel.SMS: "sms", Channel.WHATSAPP: "whatsapp", Channel.TELEGRAM: "telegram",
                 Channel.EMAIL: "email", Channel.WEB: "web"}

#: Delivery states in order; a report never moves a message backwards (a late ``sent`` after ``delivered``).
STATUS_RANK = {"queued": 0, "claimed": 1, "sending": 1, "unknown": 1, "sent": 2, "delivered": 3, "read": 4}
FAILED = frozenset({"failed", "undelivered"})


def may_move(current: str, new: str) -> bool:
    """Whether a delivery status may replace the current one."""
    if current == new or current in {"cancelled"}:
        return False
    if new in FAILED:
        return STATUS_RANK.get(current, 9) <= STATUS_RANK["sent"]
    if current in FAILED:
        return False
    return STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, 9)


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with full jitter: 5 s, 10 s, 20 s … capped at an hour, times a random 0.5–1."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=ceiling * (0.5 + rng.random() / 2))


_m, _s, _i, _a = MESSAGES.c, SURVEYS.c, INVITATIONS.c, table(ContactAddress).c
_HAND_OVER = (MESSAGES.update()
              .where(_m.id.in_(bindparam("ids", expanding=True)), _m.status == "claimed")
              .values(status="sending", updated_at=bindparam("updated_at")).returning(_m.id))
_RECORD = MESSAGES.update().where(_m.id == bindparam("message_id"), _m.status.in_(["sending", "unknown"]))
_SURVEYS_BY_ID = select(_s.id, _s.flow_id, _s.language, _s.invitation_id).where(
    _s.id.in_(bindparam("ids", expanding=True)))
_TOKENS_BY_ID = select(_i.id, _i.token).where(_i.id.in_(bindparam("ids", expanding=True)))
_LAST_INBOUND = select(_a.channel, _a.path, _a.last_inbound_at).where(_a.path.in_(bindparam("paths", expanding=True)))


@dataclass
class _Turn:
    """One claimed batch of a channel as it is worked through."""

    rows: list[Message]
    outbound: dict[int, OutboundMessage]
    #: Victims one of whose messages failed in this batch: their later messages wait.
    held: set[str] = field(default_factory=set)
    requeued: set[int] = field(default_factory=set)


class RateLimiter:
    """A token bucket per channel, so a burst of invitations never exceeds the provider's rate."""

    def __init__(self, per_second: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.per_second = per_second
        self.capacity = max(1.0, per_second)
        self.tokens = self.capacity
        self._sleep = sleep
        self._monotonic = monotonic or asyncio.get_running_loop().time
        self.updated = self._monotonic()

    async def take(self) -> None:
        """Wait until one send is allowed."""
        while True:
            now = self._monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await self._sleep((1 - self.tokens) / self.per_second)


OnOutcome = Callable[[Message, SendResult], Awaitable[None]]


class OutboxDispatcher:
    """Sends what the conversation queued. ``on_permanent`` carries out a permanent failure's consequences."""

    def __init__(self, db: Database, channels: ChannelRegistry, settings: Settings, clock: Clock,
                 on_permanent: OnOutcome | None = None, rng: random.Random | None = None) -> None:
        self.db = db
        self.channels = channels
        self.settings = settings
        self.clock = clock
        self.on_permanent = on_permanent
        self.rng = rng or random.Random()
        self._limiters: dict[Channel, RateLimiter] = {}
        self._paused: dict[Channel, datetime] = {}
        self.ready = asyncio.Event()

    def _limiter(self, channel: Channel) -> RateLimiter:
        limiter = self._limiters.get(channel)
        if limiter is None:
            limiter = self._limiters[channel] = RateLimiter(self.settings.rate_limit(CHANNEL_NAMES[channel]))
        return limiter

    async def run_once(self) -> int:
        """Recover interrupted sends, then claim and send what is due. Returns how many rows were handled."""
        handled = await self.recover_interrupted()
        claimed = await self._claim()
        if not claimed:
            return handled
        by_channel: dict[Channel, list[Message]] = {}
        for row in claimed:
            by_channel.setdefault(Channel(row.channel), []).append(row)
        await asyncio.gather(*(self._send_all(channel, rows) for channel, rows in by_channel.items()))
        return handled + len(claimed)

    async def _claim(self) -> list[Message]:
        now = self.clock.now()
        channels = [c.value for c in self.channels.channels if c != Channel.WEB]
        if not channels:
            return []
        # Never overtake an earlier message to the same victim that is waiting for a retry or being sent;
        # earlier ones that are due come in this same batch, in id order.
        earlier = aliased(Message)
        waiting_before = (
            select(earlier.id).where(
                earlier.direction == "out", earlier.address == Message.address, col(earlier.id) < Message.id,
                or_(col(earlier.status).in_(["claimed", "sending"]),
                    and_(col(earlier.status) == "queued", col(earlier.next_attempt_at) > now)),
            ).exists()
        )
        paused = [c.value for c, until in self._paused.items() if until > now]
        async with self.db.session() as s:
            query = select(Message).where(
                Message.direction == "out", Message.status == "queued", col(Message.next_attempt_at) <= now,
                col(Message.channel).in_(channels), col(Message.channel).not_in(paused), ~waiting_before,
            ).order_by(col(Message.id)).limit(self._claim_limit(channels))
            if not self.db.sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list((await s.exec(query)).all())
            for row in rows:
                row.status, row.claimed_at, row.updated_at = "claimed", now, now
                row.attempts += 1
        return rows

    def _claim_limit(self, channels: list[str]) -> int:
        """How many rows one pass claims: about CLAIM_SECONDS of sending on the given channels."""
        per_second = sum(self.settings.rate_limit(CHANNEL_NAMES[Channel(value)]) for value in channels)
        return max(HAND_OVER_BATCH, min(BATCH, math.ceil(per_second * CLAIM_SECONDS)))

    async def _send_all(self, channel: Channel, rows: list[Message]) -> None:
        """Send a claimed batch: handed over a few at a time, different victims at once, each victim in order."""
        adapter = self.channels.get(channel)
        assert adapter is not None
        limiter = self._limiter(channel)
        turn = _Turn(rows, await self._outbounds(rows))
        waiting = list(rows)
        while waiting:
            # Up to HAND_OVER_BATCH rows for different victims, each victim's earliest first: a crash then
            # leaves at most one message per victim whose fate must be asked of the provider.
            chunk: list[Message] = []
            later: list[Message] = []
            for row in waiting:
                if len(chunk) < HAND_OVER_BATCH and all(row.address != c.address for c in chunk):
                    if await self._may_go(channel, row, turn):
                        chunk.append(row)
                else:
                    later.append(row)
            waiting = later
            handed = await self._hand_over([row.id or 0 for row in chunk])
            # Rows not handed over were cancelled meanwhile (the victim opted out, say).
            await asyncio.gather(*(self._send_in_order(channel, adapter, limiter, [row], turn)
                                   for row in chunk if row.id in handed))

    async def _may_go(self, channel: Channel, row: Message, turn: _Turn) -> bool:
        """Whether a row may be sent now; if not (an earlier one failed, or the channel is paused), requeue it."""
        if row.id in turn.requeued:
            return False
        paused_until = self._paused.get(channel)
        if row.address in turn.held or (paused_until is not None and paused_until > self.clock.now()):
            # An earlier message to this victim failed, or the provider asked us to wait: never let a later
            # message overtake it.
            await self._requeue(row.id or 0, row.error_reason or "waiting for an earlier message", at=paused_until)
            turn.requeued.add(row.id or 0)
            return False
        return True

    async def _send_in_order(self, channel: Channel, adapter: ChannelAdapter, limiter: RateLimiter,
                             rows: list[Message], turn: _Turn) -> None:
        """One victim's messages of a batch, one after another."""
        for row in rows:
            if not await self._may_go(channel, row, turn):
                continue
            await limiter.take()
            if not await self._may_go(channel, row, turn):  # the channel may have been paused meanwhile
                continue
            try:
                result = await asyncio.wait_for(adapter.send(turn.outbound[row.id or 0]), SEND_TIMEOUT)
            except TimeoutError:
                result = SendResult(ok=False, error_code="timeout", error_reason=f"no answer in {SEND_TIMEOUT:.0f} s")
            except Exception as exc:  # an adapter bug must not lose the row: it is retried and visible
                log.exception("outbox: %s adapter raised on message %s", channel.value, row.id)
                result = SendResult(ok=False, error_code="adapter_error", error_reason=type(exc).__name__)
            if not result.ok:
                turn.held.add(row.address)
                paused_until = None
                if result.retry_after_seconds is not None:
                    # A provider's rate limit is per sender (a Telegram bot, a Twilio number): pause the channel.
                    paused_until = self._paused[channel] = (
                        self.clock.now() + timedelta(seconds=result.retry_after_seconds))
                # Put this victim's later messages back before the failure's consequences (an opt-out
                # cancels what is queued) are carried out.
                for later in turn.rows:
                    if later.address == row.address and (later.id or 0) > (row.id or 0) \
                            and later.id not in turn.requeued:
                        await self._requeue(later.id or 0, "waiting for an earlier message", at=paused_until)
                        turn.requeued.add(later.id or 0)
            await self._record(row, result)

    async def _hand_over(self, message_ids: list[int]) -> set[int]:
        """Mark claimed rows as being with the provider, committed before the provider is called."""
        if not message_ids:
            return set()
        async with self.db.session() as s:
            conn = await s.connection()
            handed = await conn.execute(_HAND_OVER, {"ids": message_ids, "updated_at": self.clock.now()})
            return {int(r[0]) for r in handed}

    async def _outbound(self, row: Message) -> OutboundMessage:
        """The value an adapter sends, with the survey details it may need."""
        return (await self._outbounds([row]))[row.id or 0]

    async def _outbounds(self, rows: list[Message]) -> dict[int, OutboundMessage]:
        """The values for a batch of rows, read in one transaction (three queries whatever the batch size)."""
        session_ids = sorted({r.session_id for r in rows if r.session_id is not None})
        addresses = {r.address: Address.parse(r.address) for r in rows}
        async with self.db.session() as s:
            conn = await s.connection()
            surveys = {r.id: r for r in await conn.execute(_SURVEYS_BY_ID, {"ids": session_ids})} \
                if session_ids else {}
            invitation_ids = sorted({r.invitation_id for r in surveys.values() if r.invitation_id is not None})
            tokens = {r.id: r.token for r in await conn.execute(_TOKENS_BY_ID, {"ids": invitation_ids})} \
                if invitation_ids else {}
            paths = sorted({a.path for a in addresses.values()})
            last_inbound = {(r.channel, r.path): r.last_inbound_at
                            for r in await conn.execute(_LAST_INBOUND, {"paths": paths})}
        made: dict[int, OutboundMessage] = {}
        for row in rows:
            survey = surveys.get(row.session_id) if row.session_id is not None else None
            address = addresses[row.address]
            made[row.id or 0] = OutboundMessage(
                id=row.id or 0, channel=Channel(row.channel), address=address, text=row.text,
                quick_replies=tuple(QuickReply(q["text"], q["label"]) for q in row.quick_replies),
                purpose=row.purpose, language=survey.language if survey is not None else "en",
                flow_id=survey.flow_id if survey is not None else None, step_id=row.step_id,
                session_id=row.session_id,
                invitation_token=tokens.get(survey.invitation_id) if survey is not None else None,
                last_inbound_at=last_inbound.get((address.channel.value, address.path)),
                in_reply_to=row.in_reply_to)
        return made

    async def record(self, message_id: int, result: SendResult) -> None:
        """Store the outcome of a send: sent, queued again with backoff, or failed with its reason."""
        async with self.db.session() as s:
            row = await s.get(Message, message_id)
        if row is not None:
            await self._record(row, result)

    async def _record(self, row: Message, result: SendResult) -> None:
        """Store a send's outcome in one statement, if the row is still ours (not cancelled meanwhile)."""
        now = self.clock.now()
        values: dict[str, object] = {"updated_at": now, "claimed_at": None, "error_code": result.error_code,
                                     "error_reason": result.error_reason}
        if result.ok:
            values.update(status=result.status if result.status in STATUS_RANK else "sent",
                          provider_id=result.provider_id or row.provider_id, sent_at=now)
        elif result.opted_out and row.purpose == "opted_out":
            # The provider confirmed the opt-out itself (Twilio answers STOP) and blocks ours: not a failure.
            values.update(status="cancelled", error_reason="the provider sent its own opt-out confirmation")
        elif result.permanent or row.attempts >= self.settings.outbox_max_attempts:
            values["status"] = "failed"
            if not result.permanent:
                values["error_reason"] = f"gave up after {row.attempts} attempts: {result.error_reason or ''}".strip()
        else:
            delay = backoff(row.attempts, self.rng)
            if result.retry_after_seconds is not None:
                delay = max(delay, timedelta(seconds=result.retry_after_seconds))
            values.update(status="queued", next_attempt_at=now + delay)
        async with self.db.session() as s:
            conn = await s.connection()
            updated = (await conn.execute(_RECORD, {"message_id": row.id, **values})).rowcount
        if not updated:
            return
        log.info("outbox: message %s %s%s", row.id, "sent" if result.ok else "failed",
                 f" ({result.error_code})" if result.error_code else "")
        if not result.ok and (result.permanent or result.opted_out or result.address_failed) \
                and self.on_permanent is not None:
            await self.on_permanent(row, result)

    async def recover_interrupted(self) -> int:
        """Settle rows left ``sending`` by a crash: ask the provider, never resend blindly."""
        cutoff = self.clock.now() - STALE_SENDING
        async with self.db.session() as s:
            # Claimed but never handed to the provider: nothing can have been sent.
            await s.exec(update(Message).where(
                col(Message.direction) == "out", col(Message.status) == "claimed", col(Message.claimed_at) <= cutoff,
            ).values(status="queued", claimed_at=None, attempts=Message.attempts - 1))
            stale = list((await s.exec(select(Message).where(
                Message.direction == "out", Message.status == "sending", col(Message.claimed_at) <= cutoff,
            ).limit(BATCH))).all())
        for row in stale:
            adapter = self.channels.get(Channel(row.channel))
            found: SendResult | None = None
            if adapter is not None:
                try:
                    found = await adapter.check_sent(await self._outbound(row))
                except Exception:
                    log.exception("outbox: checking message %s with the provider failed", row.id)
            if found is not None and found.ok:
                await self.record(row.id or 0, found)
            elif found is not None:
                await self._requeue(row.id or 0, "not found at the provider after an interrupted send")
                self.ready.set()
            else:
                await self._hold(row.id or 0)
        return len(stale)

    async def _requeue(self, message_id: int, reason: str | None, at: datetime | None = None) -> None:
        now = self.clock.now()
        async with self.db.session() as s:
            await s.exec(update(Message).where(col(Message.id) == message_id,
                                               col(Message.status).in_(["claimed", "sending"]))
                         .values(status="queued", next_attempt_at=at or now, claimed_at=None, error_reason=reason,
                                 attempts=Message.attempts - 1, updated_at=now))

    async def _hold(self, message_id: int) -> None:
        now = self.clock.now()
        async with self.db.session() as s:
            await s.exec(update(Message).where(col(Message.id) == message_id, col(Message.status) == "sending")
                         .values(status="unknown", claimed_at=None, updated_at=now,
                                 error_reason="interrupted while sending and the provider cannot say whether it "
                                              "arrived; check before retrying"))

    async def retry(self, message_id: int) -> bool:
        """An administrator's retry of a failed or held message."""
        now = self.clock.now()
        async with self.db.session() as s:
            result = await s.exec(update(Message).where(
                col(Message.id) == message_id, col(Message.direction) == "out",
                col(Message.status).in_(["failed", "unknown"]),
            ).values(status="queued", next_attempt_at=now, attempts=0, updated_at=now))
        self.ready.set()
        return bool(result.rowcount)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; errors are logged by id and the pass retried."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox pass failed; retrying")
            self.ready.clear()
            waits = [asyncio.ensure_future(self.ready.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waits, timeout=self.settings.outbox_poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()

