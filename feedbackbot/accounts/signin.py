"""Signing in: throttled, constant-time whether or not the account exists, a fresh session every time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from ..clock import Clock
from ..store.db import Database
from ..store.tables import User
from .audit import add_entry
from .passwords import Passwords
from .sessions import Sessions
from .staff import StaffUser
from .throttle import Throttle

#: The one message for every refusal: wrong password, unknown user, disabled account or a lock.
SIGN_IN_REFUSED = ("That username and password did not work, or sign-in is paused after too many attempts. "
                   "Check them and try again in a few minutes, or ask an administrator.")


@dataclass(frozen=True)
class SignedIn:
    """A successful sign-in: the cookie token and the session's CSRF token."""

    user: StaffUser
    token: str
    csrf_token: str


class SignIn:
    """Checks a username and password and, when they are right, starts a new session."""

    def __init__(self, db: Database, clock: Clock, passwords: Passwords, sessions: Sessions,
                 throttle: Throttle) -> None:
        self.db = db
        self.clock = clock
        self.passwords = passwords
        self.sessions = sessions
        self.throttle = throttle

    async def attempt(self, username: str, password: str, *, client_address: str | None,
                      user_agent: str | None, previous_token: str | None = None) -> SignedIn | None:
        """A new session for the right password; None (and a recorded failure) for anything else.

        The password is always verified against a hash (a dummy one when there is no such active user),
        so the time taken does not tell whether an account exists. The previous session of this browser,
        if any, is ended: every sign-in gets a new session id.
        """
        name = username.strip().lower()[:64]
        now = self.clock.now()
        async with self.db.session() as s:
            row = (await s.exec(select(User).where(User.username == name))).first() if name else None
            locked = await self.throttle.locked(s, name, client_address, now)
        live = row is not None and row.active
        encoded = row.password_hash if live and row is not None else await self.passwords.dummy_hash()
        matches = await self.passwords.verify(encoded, password[:1024])
        ok = matches and live and not locked and bool(password)
        async with self.db.session() as s:
            self.throttle.record(s, name, client_address, ok, now)
            user = await s.get(User, row.id) if row is not None else None
            if previous_token:
                await self.sessions.end_in(s, previous_token, "replaced", now)
            if not ok or user is None:
                reason = "locked" if locked else ("disabled" if row is not None and not live else "bad_password")
                if user is not None:
                    user.failed_logins += 1
                    if await self.throttle.locked(s, name, client_address, now):
                        user.locked_until = self.throttle.lock_ends(now)
                    user.updated_at = now
                add_entry(s, at=now, user=None, username=user.username if user else None, action="login",
                          outcome="failed", client_address=client_address,
                          detail={"reason": reason if user is not None else "unknown_user"})
                return None
            if self.passwords.needs_rehash(user.password_hash):
                user.password_hash = await self.passwords.hash(password)
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            user.updated_at = now
            assert user.id is not None
            token, session = self.sessions.start(s, user.id, now, client_address=client_address,
                                                 user_agent=user_agent)
            staff = StaffUser.from_row(user)
            add_entry(s, at=now, user=staff, action="login", client_address=client_address)
            return SignedIn(staff, token, session.csrf_token)
