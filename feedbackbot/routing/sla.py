"""Due times: clock minutes, or working minutes in UK working hours that skip weekends and bank holidays."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")
#: Bank-holiday calendars by the ``holidays`` package's UK subdivision codes.
REGIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR", "none": ""}


class CalendarError(ValueError):
    """Working days, hours, time zone or bank-holiday region are malformed; the message says which."""


@cache
def _bank_holidays(subdivision: str) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=subdivision)


@dataclass(frozen=True)
class WorkingCalendar:
    """When the force works: weekdays (0 = Monday), daily hours, time zone and bank-holiday region.

    Example:
        >>> cal = WorkingCalendar.parse("mon-fri", "08:00-18:00", "Europe/London", "england-and-wales")
        >>> cal.day_minutes
        600
    """

    weekdays: frozenset[int]
    start: time
    end: time
    timezone: str
    region: str

    @classmethod
    def parse(cls, days: str, hours: str, timezone: str, region: str) -> WorkingCalendar:
        """Read ``"mon-fri"`` (or ``"mon,tue,thu"``), ``"08:00-18:00"``, a zone name and a region."""
        weekdays: set[int] = set()
        for part in (p.strip().lower() for p in days.split(",")):
            first, _, last = part.partition("-")
            if first not in _DAYS or (last and last not in _DAYS):
                raise CalendarError(f"working days must look like mon-fri or mon,tue,wed; got {days!r}")
            a, b = _DAYS.index(first), _DAYS.index(last or first)
            if b < a:
                raise CalendarError(f"working days must run forwards (mon-fri), got {part!r}")
            weekdays.update(range(a, b + 1))
        match = _HOURS.match(hours)
        try:
            start, end = (time.fromisoformat(match.group(i).zfill(5)) for i in (1, 2)) if match else (None, None)
        except ValueError:
            start = end = None
        if start is None or end is None or not start < end:
            raise CalendarError(f"working hours must look like 08:00-18:00 (start before end), got {hours!r}")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"unknown time zone {timezone!r}") from None
        if region not in REGIONS:
            raise CalendarError(f"bank holidays must be one of {', '.join(REGIONS)}, got {region!r}")
        return cls(frozenset(weekdays), start, end, timezone, region)

    @property
    def day_minutes(self) -> int:
        """How many minutes a working day has."""
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def is_working_day(self, day: date) -> bool:
        """A working weekday that is not a bank holiday."""
        subdivision = REGIONS[self.region]
        return day.weekday() in self.weekdays and not (subdivision and day in _bank_holidays(subdivision))

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` of working time after ``start`` (UTC in, UTC out)."""
        zone = ZoneInfo(self.timezone)
        local = start.astimezone(zone)
        left = timedelta(minutes=minutes)
        day = local.date()
        for _ in range(3660):  # ten years of days: an SLA never needs more
            if self.is_working_day(day):
                opens = datetime.combine(day, self.start, zone)
                closes = datetime.combine(day, self.end, zone)
                begin = max(local, opens)
                if begin < closes:
                    if left <= closes - begin:
                        return (begin + left).astimezone(UTC)
                    left -= closes - begin
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), zone)
        raise CalendarError("no working time in the next ten years: check the working days")


DEFAULT_CALENDAR = WorkingCalendar.parse("mon-fri", "08:00-18:00", "Europe/London", "england-and-wales")


def due_time(start: datetime, minutes: int, *, working_hours: bool,
             calendar: WorkingCalendar = DEFAULT_CALENDAR) -> datetime:
    """When an item started at ``start`` with an SLA of ``minutes`` is due.

    Clock minutes unless ``working_hours``, when only the calendar's working time counts (by default
    Monday to Friday 08:00-18:00 Europe/London, without England-and-Wales bank holidays).

    Example:
        >>> friday_5pm = datetime(2026, 12, 18, 17, 0, tzinfo=UTC)
        >>> due_time(friday_5pm, 120, working_hours=True).isoformat()
        '2026-12-21T09:00:00+00:00'
    """
    if not working_hours:
        return start + timedelta(minutes=minutes)
    return calendar.add_working_minutes(start, minutes)
