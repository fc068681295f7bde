"""Journey touchpoints: which flow each one sends, after what delay, and who may be surveyed."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from ..settings import QuietHours
from .loader import FlowError, FlowProblem, parse_duration

#: The force's journey map (see docs/flows.md); a touchpoint is only live when touchpoints.yaml gives it a flow.
KNOWN_TOUCHPOINTS = (
    "after_101_call",
    "after_attendance",
    "crime_recorded",
    "case_filed",
    "suspect_charged",
    "after_court",
    "six_week_checkin",
)


@dataclass(frozen=True)
class Touchpoint:
    """A live touchpoint: the flow it sends and how long after the event."""

    id: str
    flow_id: str
    delay: timedelta


def load_touchpoints(path: Path, flow_ids: Collection[str]) -> dict[str, Touchpoint]:
    """Read ``touchpoints.yaml``; every touchpoint must name a known flow and a duration."""
    problems: list[FlowProblem] = []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise FlowError([FlowProblem(str(path), 1, None, f"cannot read touchpoints: {exc}")]) from None
    if not isinstance(data, dict):
        raise FlowError([FlowProblem(str(path), 1, None, "expected a mapping of touchpoint ids")])
    touchpoints: dict[str, Touchpoint] = {}
    for tid, spec in data.items():
        if tid not in KNOWN_TOUCHPOINTS:
            problems.append(FlowProblem(str(path), 1, None, f"unknown touchpoint '{tid}' "
                                                             f"(known: {', '.join(KNOWN_TOUCHPOINTS)})"))
            continue
        if not isinstance(spec, dict) or "flow" not in spec:
            problems.append(FlowProblem(str(path), 1, None, f"touchpoint '{tid}' needs a flow"))
            continue
        if spec["flow"] not in flow_ids:
            problems.append(FlowProblem(str(path), 1, None, f"touchpoint '{tid}' names unknown flow "
                                                             f"'{spec['flow']}'"))
            continue
        delay = parse_duration(spec.get("delay", "0m")) if spec.get("delay") not in (0, "0") else timedelta(0)
        if delay is None:
            problems.append(FlowProblem(str(path), 1, None, f"touchpoint '{tid}' delay must look like 30m, 2h or 1d"))
            continue
        touchpoints[str(tid)] = Touchpoint(str(tid), str(spec["flow"]), delay)
    if problems:
        raise FlowError(problems)
    return touchpoints


def after_quiet_hours(when: datetime, quiet: QuietHours, tz: ZoneInfo) -> datetime:
    """The first moment at or after ``when`` that is outside quiet hours (in the force's local time)."""
    local = when.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return when
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end = end + timedelta(days=1)
    # Re-localise so a clock change overnight still lands on the wall-clock end of quiet hours.
    end = end.replace(tzinfo=None).replace(tzinfo=tz)
    return end.astimezone(when.tzinfo)


@dataclass(frozen=True)
class EligibilityFacts:
    """What the decision to survey depends on, gathered by the caller."""

    consent: bool
    opted_out: bool
    case_flags: Collection[str]
    safe_to_contact: bool
    last_invited_at: datetime | None
    has_address: bool


def not_eligible_reason(facts: EligibilityFacts, *, now: datetime, interval: timedelta,
                        sensitive_flags: Collection[str]) -> str | None:
    """Why this victim must not be surveyed now, or None when they may be.

    >>> not_eligible_reason(EligibilityFacts(True, False, ["domestic_abuse"], False, None, True),
    ...     now=datetime(2026, 1, 1), interval=timedelta(days=28), sensitive_flags={"domestic_abuse"})
    'sensitive_case_not_safe_to_contact'
    """
    if not facts.consent:
        return "no_consent"
    if facts.opted_out:
        return "opted_out"
    if set(facts.case_flags) & set(sensitive_flags) and not facts.safe_to_contact:
        return "sensitive_case_not_safe_to_contact"
    if not facts.has_address:
        return "no_address_for_channel"
    if facts.last_invited_at is not None and now - facts.last_invited_at < interval:
        return "surveyed_recently"
    return None


REASON_TEXT: Mapping[str, str] = {
    "no_consent": "the victim has not consented to surveys",
    "opted_out": "the victim has opted out of surveys",
    "sensitive_case_not_safe_to_contact": "a sensitive case without a safe-to-contact flag",
    "no_address_for_channel": "no address for the preferred channel",
    "surveyed_recently": "the victim was surveyed within the survey interval",
}
