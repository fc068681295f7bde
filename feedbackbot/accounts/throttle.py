"""Login throttling: too many failures for one username, or from one client address, lock sign-in for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..settings import Settings
from ..store.tables import LoginAttempt


class Throttle:
    """Counts recent failed attempts in ``login_attempts``; a success clears the username's count."""

    def __init__(self, settings: Settings) -> None:
        self.window = timedelta(minutes=settings.login_lockout_minutes)
        self.max_user = settings.login_max_failures
        self.max_address = settings.login_max_failures_per_address

    async def locked(self, s: AsyncSession, username: str, client_address: str | None, now: datetime) -> bool:
        """Whether sign-in is refused for this username or this address right now."""
        since = now - self.window
        last_success = (await s.exec(select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, col(LoginAttempt.succeeded).is_(True),
            col(LoginAttempt.at) >= since))).one()
        start = max(since, last_success) if last_success is not None else since
        by_user = (await s.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == username, col(LoginAttempt.succeeded).is_(False),
            col(LoginAttempt.at) >= start))).one()
        if by_user >= self.max_user:
            return True
        if client_address is None:
            return False
        by_address = (await s.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.client_address == client_address, col(LoginAttempt.succeeded).is_(False),
            col(LoginAttempt.at) >= since))).one()
        return bool(by_address >= self.max_address)

    def record(self, s: AsyncSession, username: str, client_address: str | None, succeeded: bool,
               now: datetime) -> None:
        """Add the attempt to the transaction."""
        s.add(LoginAttempt(username=username[:64], client_address=client_address, succeeded=succeeded, at=now))

    def lock_ends(self, now: datetime) -> datetime:
        """When a lock that starts now ends."""
        return now + self.window
