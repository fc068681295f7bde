"""Staff users: create, list, disable and set passwords (every change ends the user's sessions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..clock import Clock
from ..store.db import Database
from ..store.tables import User, UserSession
from .passwords import Passwords, check_policy
from .staff import REF, ROLES, USERNAME, StaffUser


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class NewUser:
    """What an administrator gives to add someone."""

    username: str
    role: str
    display_name: str
    email: str | None = None
    officer_ref: str | None = None
    supervisor_ref: str | None = None
    teams: tuple[str, ...] = ()


def _clean(new: NewUser) -> NewUser:
    username = new.username.strip().lower()
    if not USERNAME.match(username):
        raise UserError("the username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if new.role not in ROLES:
        raise UserError(f"the role must be one of {', '.join(ROLES)}")
    name = new.display_name.strip()
    if not name or len(name) > 200:
        raise UserError("the display name must be 1-200 characters")
    email = (new.email or "").strip() or None
    if email is not None and ("@" not in email or len(email) > 320 or any(c.isspace() for c in email)):
        raise UserError("the email address does not look right")
    refs = []
    for label, value in (("officer ref", new.officer_ref), ("supervisor ref", new.supervisor_ref)):
        value = (value or "").strip() or None
        if value is not None and not REF.match(value):
            raise UserError(f"the {label} must be letters, digits, '.', '_', '/' or '-' (at most 64)")
        refs.append(value)
    teams = tuple(dict.fromkeys(t.strip() for t in new.teams if t.strip()))
    for team in teams:
        if not REF.match(team):
            raise UserError(f"the team queue id {team!r} must be letters, digits, '.', '_', '/' or '-'")
    if new.role in ("officer", "supervisor") and refs[0] is None and not teams:
        raise UserError("an officer or supervisor needs an officer ref or at least one team queue")
    return NewUser(username, new.role, name, email, refs[0], refs[1], teams)


class Users:
    """The users table, with passwords checked against the policy and hashed with Argon2id."""

    def __init__(self, db: Database, clock: Clock, passwords: Passwords) -> None:
        self.db = db
        self.clock = clock
        self.passwords = passwords

    async def create(self, new: NewUser, password: str) -> StaffUser:
        """Add a user; UserError if the username or officer ref is taken or a field is wrong."""
        new = _clean(new)
        check_policy(password, username=new.username)
        encoded = await self.passwords.hash(password)
        now = self.clock.now()
        row = User(username=new.username, display_name=new.display_name, email=new.email, role=new.role,
                   officer_ref=new.officer_ref, supervisor_ref=new.supervisor_ref, teams=list(new.teams),
                   password_hash=encoded, active=True, failed_logins=0, password_changed_at=now,
                   created_at=now, updated_at=now)
        try:
            async with self.db.session() as s:
                taken = (await s.exec(select(User.id).where(User.username == new.username))).first()
                if taken is not None:
                    raise UserError(f"the username {new.username} is already taken")
                if new.officer_ref is not None:
                    ref_taken = (await s.exec(select(User.id).where(User.officer_ref == new.officer_ref))).first()
                    if ref_taken is not None:
                        raise UserError(f"another user already has officer ref {new.officer_ref}")
                s.add(row)
                await s.flush()
        except IntegrityError:
            raise UserError("the username or officer ref is already taken") from None
        return StaffUser.from_row(row)

    async def all(self) -> Sequence[User]:
        """Every user, by username."""
        async with self.db.session() as s:
            return (await s.exec(select(User).order_by(col(User.username)))).all()

    async def get(self, username: str) -> User | None:
        """A user by username (case-insensitive), or None."""
        async with self.db.session() as s:
            return (await s.exec(select(User).where(User.username == username.strip().lower()))).first()

    async def by_id(self, user_id: int) -> User | None:
        """A user by id, or None."""
        async with self.db.session() as s:
            return await s.get(User, user_id)

    async def disable(self, username: str) -> User:
        """Stop a user signing in, and end their sessions now."""
        now = self.clock.now()
        async with self.db.session() as s:
            row = await self._row(s, username)
            row.active = False
            row.updated_at = now
            await end_user_sessions(s, row.id or 0, "disabled", now)
            return row

    async def set_password(self, username: str, password: str) -> User:
        """Set a new password (policy checked), clear any lock, and end the user's sessions."""
        now = self.clock.now()
        async with self.db.session() as s:
            row = await self._row(s, username)
        check_policy(password, username=row.username)
        encoded = await self.passwords.hash(password)
        async with self.db.session() as s:
            row = await self._row(s, username)
            row.password_hash = encoded
            row.password_changed_at = now
            row.failed_logins = 0
            row.locked_until = None
            row.updated_at = now
            await end_user_sessions(s, row.id or 0, "password_changed", now)
            return row

    async def _row(self, s: AsyncSession, username: str) -> User:
        row = (await s.exec(select(User).where(User.username == username.strip().lower()))).first()
        if row is None:
            raise UserError(f"there is no user called {username.strip().lower()}")
        return row


async def end_user_sessions(s: AsyncSession, user_id: int, reason: str, now: object) -> None:
    """End every open session of a user (password change, disabling)."""
    await s.exec(update(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
                 .values(ended_at=now, ended_reason=reason))
