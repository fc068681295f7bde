"""The notice dispatcher: sends queued ``notifications`` rows, retries with backoff, keeps failures with a reason."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import col, select

from ..clock import Clock
from ..settings import Settings
from ..store.db import Database
from ..store.tables import Notification, WorkItem
from .notify import UNTIL_ACKNOWLEDGED, compose
from .rules import RoutingRules
from .senders import EmailSender, Sender, Sent, SmsSender, WebhookSender

log = logging.getLogger(__name__)
BATCH = 50
#: A claimed notice whose sender never reported back (the process died) is tried again after this.
LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """30 s, 60 s, 120 s … capped at an hour, times a random 0.5–1 so retries spread out."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling * (0.5 + rng.random() / 2))


class NotificationDispatcher:
    """Claims due notices (a lease on ``next_attempt_at``, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends them
    outside any transaction, then records sent, retry-at or failed with the reason.

    An urgent alert whose item has been acknowledged meanwhile is not sent (status ``cancelled``).
    """

    def __init__(self, db: Database, rules: RoutingRules, settings: Settings, clock: Clock,
                 senders: Mapping[str, Sender] | None = None, rng: random.Random | None = None) -> None:
        self.db = db
        self.rules = rules
        self.settings = settings
        self.clock = clock
        self.senders: Mapping[str, Sender] = senders or {
            "email": EmailSender(settings), "sms": SmsSender(settings), "webhook": WebhookSender(settings)}
        self.rng = rng or random.Random()

    async def run_once(self) -> int:
        """Send every due notice once; returns how many were tried."""
        now = self.clock.now()
        claimed: list[tuple[Notification, WorkItem]] = []
        async with self.db.session() as s:
            query = (select(Notification, WorkItem).join(WorkItem, col(WorkItem.id) == Notification.work_item_id)
                     .where(Notification.status == "queued", col(Notification.next_attempt_at) <= now)
                     .order_by(col(Notification.next_attempt_at), col(Notification.id)).limit(BATCH))
            if not self.db.sqlite:
                query = query.with_for_update(skip_locked=True, of=Notification)
            for row, item in (await s.exec(query)).all():
                if row.kind in UNTIL_ACKNOWLEDGED and item.status != "new":
                    row.status, row.error_reason = "cancelled", f"item {item.status} before the alert was sent"
                    continue
                row.attempts += 1
                row.next_attempt_at = now + LEASE
                claimed.append((row, item))
        for row, item in claimed:
            sender = self.senders.get(row.channel)
            notice = compose(item, row.kind, self.rules, self.settings)
            if sender is None:
                result = Sent(False, f"no sender for channel {row.channel!r}", True)
            else:
                try:
                    result = await sender.send(row.recipient, notice, timestamp=int(now.timestamp()))
                except Exception as exc:  # a bug in a sender must not stop the others
                    log.exception("notification %s: sender failed", row.id)
                    result = Sent(False, f"sender error ({type(exc).__name__})")
            await self._record(row.id or 0, result, self.clock.now())
        return len(claimed)

    async def _record(self, notification_id: int, result: Sent, now: datetime) -> None:
        async with self.db.session() as s:
            row = await s.get(Notification, notification_id)
            if row is None:
                return
            if result.ok:
                row.status, row.sent_at, row.error_reason, row.next_attempt_at = "sent", now, None, None
                log.info("notification %s sent by %s", row.id, row.channel)
                return
            row.error_reason = (result.reason or "failed")[:500]
            if result.permanent or row.attempts >= self.settings.notify_max_attempts:
                row.status, row.next_attempt_at = "failed", None
                log.warning("notification %s failed for good: %s", row.id, row.error_reason)
            else:
                row.next_attempt_at = now + backoff(row.attempts, self.rng)
                log.info("notification %s will be retried: %s", row.id, row.error_reason)

    async def close(self) -> None:
        """Close every sender's connections."""
        for sender in self.senders.values():
            await sender.close()
