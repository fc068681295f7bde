"""Staff accounts: users and roles, Argon2id passwords, sessions, login throttling and the audit log."""

from __future__ import annotations

from ..clock import Clock
from ..settings import Settings
from ..store.db import Database
from .passwords import PasswordPolicyError, Passwords, check_policy
from .sessions import ActiveSession, Sessions
from .signin import SIGN_IN_REFUSED, SignedIn, SignIn
from .staff import ADMIN, BOARD, CASEWORK_ROLES, OFFICER, ROLES, SUPERVISOR, StaffUser
from .throttle import Throttle
from .users import NewUser, UserError, Users

__all__ = [
    "ADMIN", "BOARD", "CASEWORK_ROLES", "OFFICER", "ROLES", "SIGN_IN_REFUSED", "SUPERVISOR", "Accounts",
    "ActiveSession", "NewUser", "PasswordPolicyError", "Passwords", "Sessions", "SignIn", "SignedIn",
    "StaffUser", "Throttle", "UserError", "Users", "check_policy",
]


class Accounts:
    """The accounts services, built once per app (or per CLI command) over one database."""

    def __init__(self, db: Database, settings: Settings, clock: Clock, passwords: Passwords | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.passwords = passwords or Passwords()
        self.users = Users(db, clock, self.passwords)
        self.sessions = Sessions(db, clock, settings)
        self.throttle = Throttle(settings)
        self.sign_in = SignIn(db, clock, self.passwords, self.sessions, self.throttle)
