"""Routing: rules as data, the router that turns classified replies into work items, SLA, escalation, notices."""

from __future__ import annotations

from ..settings import Settings, SettingsError
from .loader import RoutingError, RoutingProblem, load_rules, parse_rules
from .router import Router
from .rules import QueueSpec, RoutingRules
from .sla import CalendarError, WorkingCalendar, due_time

__all__ = [
    "QueueSpec",
    "Router",
    "RoutingError",
    "RoutingProblem",
    "RoutingRules",
    "WorkingCalendar",
    "build_router",
    "calendar_from",
    "due_time",
    "load_rules",
    "parse_rules",
]


def calendar_from(settings: Settings) -> WorkingCalendar:
    """The working calendar the settings describe (raises SettingsError naming the variable)."""
    try:
        return WorkingCalendar.parse(settings.working_days, settings.working_hours, settings.timezone,
                                     settings.bank_holidays)
    except CalendarError as exc:
        raise SettingsError(f"FEEDBACKBOT_WORKING_DAYS / WORKING_HOURS / BANK_HOLIDAYS: {exc}") from None


def build_router(settings: Settings) -> Router:
    """Load the routing file named by the settings; raises RoutingError listing every mistake."""
    calendar = calendar_from(settings)
    rules = load_rules(settings.routing_file, working_day_minutes=calendar.day_minutes)
    return Router(rules, settings, calendar)
