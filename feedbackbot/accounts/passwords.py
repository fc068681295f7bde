"""Argon2id password hashing (off the event loop) and the password policy."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024


class PasswordPolicyError(ValueError):
    """A password that does not meet the policy; the message says which rule."""


def check_policy(password: str, *, username: str | None = None) -> None:
    """Raise PasswordPolicyError unless the password is 12 to 1024 characters and not the username."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"the password must be at most {MAX_LENGTH} characters long")
    if not password.strip():
        raise PasswordPolicyError("the password must not be only spaces")
    if username is not None and password.strip().lower() == username.strip().lower():
        raise PasswordPolicyError("the password must not be the username")


class Passwords:
    """Hashes with Argon2id (RFC 9106 low-memory parameters) and verifies in a worker thread.

    ``dummy_hash`` is verified when the username is unknown or disabled, so a sign-in takes the same
    time whether or not the account exists.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher(type=Type.ID)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        """An Argon2id hash string (salt and parameters included)."""
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, encoded: str, password: str) -> bool:
        """Whether the password matches; a malformed stored hash never matches."""
        return await asyncio.to_thread(self._verify, encoded, password)

    def _verify(self, encoded: str, password: str) -> bool:
        try:
            return self.hasher.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, encoded: str) -> bool:
        """Whether a stored hash was made with older parameters."""
        try:
            return self.hasher.check_needs_rehash(encoded)
        except InvalidHashError:
            return True

    async def dummy_hash(self) -> str:
        """A hash of a random password, made once, to verify against when there is no account."""
        if self._dummy is None:
            import secrets

            self._dummy = await self.hash(secrets.token_urlsafe(24))
        return self._dummy
