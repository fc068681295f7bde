"""Staff sessions: a random 256-bit token in the cookie, only its SHA-256 stored; idle and absolute expiry."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..clock import Clock
from ..settings import Settings
from ..store.db import Database
from ..store.tables import User, UserSession
from .staff import StaffUser

#: A session's last-seen time is written at most this often (idle expiry is measured in minutes).
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    """What the table stores for a cookie token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ActiveSession:
    """A signed-in browser: who, and the CSRF token its forms must carry."""

    session_id: int
    user: StaffUser
    csrf_token: str


class Sessions:
    """Starts, finds (ending idle ones) and ends staff sessions."""

    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.lifetime = timedelta(hours=settings.session_max_hours)

    def start(self, s: AsyncSession, user_id: int, now: datetime, *, client_address: str | None,
              user_agent: str | None) -> tuple[str, UserSession]:
        """Add a new session to the transaction; returns the cookie token (never stored) and the row."""
        token = secrets.token_urlsafe(32)
        row = UserSession(token_hash=token_hash(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                          created_at=now, last_seen_at=now, expires_at=now + self.lifetime,
                          client_address=client_address, user_agent=(user_agent or "")[:300] or None)
        s.add(row)
        return token, row

    async def find(self, token: str) -> ActiveSession | None:
        """The live session for a cookie token; an idle or expired one is ended and None returned."""
        if not token or len(token) > 200:
            return None
        now = self.clock.now()
        async with self.db.session() as s:
            found = (await s.exec(select(UserSession, User).join(User, col(User.id) == UserSession.user_id)
                                  .where(UserSession.token_hash == token_hash(token)))).first()
            if found is None:
                return None
            row, user = found
            if row.ended_at is not None:
                return None
            if not user.active:
                row.ended_at, row.ended_reason = now, "disabled"
                return None
            if now - row.last_seen_at >= self.idle:
                row.ended_at, row.ended_reason = now, "idle"
                return None
            if now >= row.expires_at:
                row.ended_at, row.ended_reason = now, "expired"
                return None
            if now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now
            assert row.id is not None
            return ActiveSession(row.id, StaffUser.from_row(user), row.csrf_token)

    async def end(self, token: str, reason: str) -> int | None:
        """End the session of a cookie token (sign-out); returns its user id, if it was live."""
        now = self.clock.now()
        async with self.db.session() as s:
            return await self.end_in(s, token, reason, now)

    async def end_in(self, s: AsyncSession, token: str, reason: str, now: datetime) -> int | None:
        """End a session inside an open transaction."""
        row = (await s.exec(select(UserSession).where(UserSession.token_hash == token_hash(token)))).first()
        if row is None or row.ended_at is not None:
            return None
        await s.exec(update(UserSession).where(col(UserSession.id) == row.id)
                     .values(ended_at=now, ended_reason=reason))
        return row.user_id
