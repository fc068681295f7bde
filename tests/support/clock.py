"""A clock the tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ManualClock:
    """Starts at a fixed moment; ``advance`` moves it on."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 10, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The current test time."""
        return self._now

    def advance(self, **kwargs: float) -> datetime:
        """Move time on by a timedelta's keyword arguments."""
        self._now += timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to a moment."""
        self._now = when
