"""Due times in UK working hours: evenings, weekends and England-and-Wales bank holidays do not count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedbackbot.routing.sla import CalendarError, WorkingCalendar, due_time


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    # Within the day (GMT in March, before the clocks change).
    (utc(2026, 3, 10, 10, 0), 120, utc(2026, 3, 10, 12, 0)),
    # An evening reply starts the clock next morning at 08:00.
    (utc(2026, 3, 10, 20, 0), 60, utc(2026, 3, 11, 9, 0)),
    # Friday 17:00 plus two working hours: one on Friday, one on Monday from 08:00.
    (utc(2026, 3, 13, 17, 0), 120, utc(2026, 3, 16, 9, 0)),
    # A Saturday reply waits for Monday.
    (utc(2026, 3, 14, 11, 0), 30, utc(2026, 3, 16, 8, 30)),
    # Two working days from Christmas Eve 16:00: Christmas, Boxing Day (Saturday), Sunday and the Boxing Day
    # holiday on Monday 28th are skipped; 2 h on the 24th, 10 h on the 29th, 8 h on the 30th.
    (utc(2026, 12, 24, 16, 0), 1200, utc(2026, 12, 30, 16, 0)),
    # Maundy Thursday 17:00 BST (16:00 UTC): one hour that day, Good Friday and Easter Monday skipped.
    (utc(2026, 4, 2, 16, 0), 120, utc(2026, 4, 7, 8, 0)),
    # The late-summer bank holiday (Monday 31 August 2026).
    (utc(2026, 8, 28, 16, 0), 120, utc(2026, 9, 1, 8, 0)),
    # Exactly the end of the working day.
    (utc(2026, 3, 10, 8, 0), 600, utc(2026, 3, 10, 18, 0)),
    # Across the clocks going forward (Sunday 29 March 2026): Monday opens at 08:00 BST = 07:00 UTC.
    (utc(2026, 3, 27, 17, 30), 60, utc(2026, 3, 30, 7, 30)),
])
def test_working_hours(start: datetime, minutes: int, due: datetime) -> None:
    assert due_time(start, minutes, working_hours=True) == due


def test_clock_minutes_ignore_the_calendar() -> None:
    assert due_time(utc(2026, 12, 25, 23, 50), 15, working_hours=False) == utc(2026, 12, 26, 0, 5)


def test_another_calendar() -> None:
    seven_days = WorkingCalendar.parse("mon-sun", "07:00-19:00", "Europe/London", "none")
    assert due_time(utc(2026, 12, 25, 18, 0), 120, working_hours=True, calendar=seven_days) \
        == utc(2026, 12, 26, 8, 0)
    scotland = WorkingCalendar.parse("mon-fri", "09:00-17:00", "Europe/London", "scotland")
    # 2 January is a bank holiday in Scotland, not in England.
    assert due_time(utc(2026, 1, 1, 12, 0), 60, working_hours=True, calendar=scotland) == utc(2026, 1, 5, 10, 0)
    assert scotland.day_minutes == 480


@pytest.mark.parametrize(("days", "hours", "zone", "region", "message"), [
    ("mon-funday", "08:00-18:00", "Europe/London", "england-and-wales",
     "working days must look like mon-fri or mon,tue,wed; got 'mon-funday'"),
    ("fri-mon", "08:00-18:00", "Europe/London", "england-and-wales", "working days must run forwards (mon-fri), "
                                                                     "got 'fri-mon'"),
    ("mon-fri", "18:00-08:00", "Europe/London", "england-and-wales",
     "working hours must look like 08:00-18:00 (start before end), got '18:00-08:00'"),
    ("mon-fri", "08:00-18:00", "Mars/Olympus", "england-and-wales", "unknown time zone 'Mars/Olympus'"),
    ("mon-fri", "08:00-18:00", "Europe/London", "wessex",
     "bank holidays must be one of england-and-wales, scotland, northern-ireland, none, got 'wessex'"),
])
def test_calendar_mistakes(days: str, hours: str, zone: str, region: str, message: str) -> None:
    with pytest.raises(CalendarError) as caught:
        WorkingCalendar.parse(days, hours, zone, region)
    assert str(caught.value) == message
