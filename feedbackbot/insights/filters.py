"""The dashboard's filters: date range, touchpoint, channel, crime type, area and group, from a query string."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlencode

_QUARTER = re.compile(r"(\d{4})Q([1-4])")
DIMENSIONS = ("touchpoint", "channel", "crime_type", "area")
GROUP_KINDS = ("gender", "age_band", "ethnicity", "disability")
MAX_DAYS = 3 * 366


class FilterError(ValueError):
    """A filter value the dashboard cannot use; the message says which and why."""


@dataclass(frozen=True)
class Filters:
    """What the board asked to see. ``end`` is inclusive; ``group`` looks like ``ethnicity:Asian``."""

    start: date
    end: date
    touchpoint: str | None = None
    channel: str | None = None
    crime_type: str | None = None
    area: str | None = None
    group: str | None = None
    period: str = "month"

    @classmethod
    def default(cls, today: date) -> Filters:
        """The last twelve months up to today."""
        return cls(start=today - timedelta(days=364), end=today)

    @classmethod
    def for_quarter(cls, quarter: str) -> Filters:
        """A calendar quarter such as ``2026Q3``."""
        match = _QUARTER.fullmatch(quarter.strip().upper())
        if not match:
            raise FilterError(f"quarter must look like 2026Q3, got {quarter!r}")
        year, q = int(match.group(1)), int(match.group(2))
        start = date(year, 3 * q - 2, 1)
        end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
        return cls(start=start, end=end, period="month")

    @classmethod
    def parse(cls, query: Mapping[str, str], today: date) -> Filters:
        """Filters from a query string; blank values mean "all"."""
        base = cls.default(today)
        if query.get("quarter"):
            base = cls.for_quarter(query["quarter"])
        start = _day(query.get("from"), "from") or base.start
        end = _day(query.get("to"), "to") or base.end
        if end < start:
            raise FilterError("the 'to' date is before the 'from' date")
        if (end - start).days > MAX_DAYS:
            raise FilterError("choose a date range of at most three years")
        period = query.get("period") or "month"
        if period not in {"month", "week"}:
            raise FilterError("period must be month or week")
        values = {d: (query.get(d) or "").strip()[:100] or None for d in DIMENSIONS}
        group = (query.get("group") or "").strip()[:120] or None
        if group is not None:
            kind, sep, value = group.partition(":")
            if not sep or kind not in GROUP_KINDS or not value:
                raise FilterError("group must look like ethnicity:Asian (gender, age_band, ethnicity or disability)")
        return cls(start=start, end=end, group=group, period=period, **values)

    @property
    def group_kind(self) -> str:
        """The group kind the facts are read at (``all`` when no group is chosen)."""
        return self.group.partition(":")[0] if self.group else "all"

    @property
    def group_value(self) -> str:
        """The group value the facts are read at."""
        return self.group.partition(":")[2] if self.group else "all"

    @property
    def days(self) -> int:
        """How many days the range covers."""
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The same filters over the period of equal length just before."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def without_group(self) -> Filters:
        """The same filters force-wide (every group)."""
        return replace(self, group=None)

    def query_string(self) -> str:
        """The filters as a query string (for links to exports and the pack)."""
        pairs = [("from", self.start.isoformat()), ("to", self.end.isoformat()), ("period", self.period)]
        pairs += [(d, v) for d in (*DIMENSIONS, "group") if (v := getattr(self, d))]
        return urlencode(pairs)

    def describe(self) -> str:
        """A one-line description for page headings and export headers."""
        parts = [f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"]
        parts += [f"{d.replace('_', ' ')}: {v}" for d in (*DIMENSIONS, "group") if (v := getattr(self, d))]
        return "; ".join(parts)


def _day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FilterError(f"'{name}' must be a date like 2026-07-01") from None
