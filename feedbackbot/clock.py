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
