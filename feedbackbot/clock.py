"""Time as a dependency: the product asks a Clock, so tests and benchmarks can set the hour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Something that knows the current time (always timezone-aware UTC)."""

    def now(self) -> datetime:
        """The current moment."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current moment, UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock stopped at one moment: figures and reports worked out "as of" a chosen time."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        """The chosen moment."""
        return self.moment
