"""``feedbackbot routing check`` and ``feedbackbot routing explain``: validate the rules, or try a reply on them."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from ..nlp.types import Classification, Classifier
from ..settings import Settings, SettingsError, load_settings
from . import calendar_from
from .loader import RoutingError, load_rules
from .notify import target_name
from .plan import CaseFacts, Officer, Plan, plan
from .rules import Facts, RoutingRules


class StaticDirectory:
    """The officers named on the command line: the officer in case and, optionally, their supervisor."""

    def __init__(self, officer_in_case: str | None, supervisor: str | None) -> None:
        self.officers: dict[str, Officer] = {}
        if officer_in_case:
            self.officers[officer_in_case] = Officer(officer_in_case, None, None, supervisor)
        if supervisor:
            self.officers[supervisor] = Officer(supervisor, None, None, None)

    async def officer(self, ref: str) -> Officer | None:
        """The officer if named on the command line."""
        return self.officers.get(ref)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"feedbackbot: settings: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _classifier(settings: Settings) -> Classifier:
    if settings.classifier == "keywords":
        from ..nlp.keyword import KeywordClassifier

        return KeywordClassifier()
    from ..nlp.model import load_classifier

    return load_classifier(threads=1)


def _check(args: argparse.Namespace) -> int:
    settings = _settings()
    path = Path(args.path) if args.path else settings.routing_file
    try:
        rules = load_rules(path, working_day_minutes=calendar_from(settings).day_minutes)
    except (RoutingError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{path}: ok ({len(rules.queues)} queues, {len(rules.rules)} rules)")
    return 0


def print_plan(out: IO[str], reading: Classification, decided: Plan, rules: RoutingRules, timezone: str) -> None:
    """What ``explain`` prints: the tags, each rule that fired and why, and each target with its SLA."""
    zone = ZoneInfo(timezone)
    out.write(f"tags ({reading.model_version}):\n")
    out.write(f"  risk: {reading.risk}" + (f" ({', '.join(reading.risk_categories)})" if reading.risk_categories
                                           else "") + "\n")
    out.write(f"  sentiment: {reading.sentiment}\n")
    out.write(f"  themes: {', '.join(reading.themes) or '-'}\n")
    out.write(f"  requests: {', '.join(reading.requests) or '-'}\n")
    for cue in reading.cues:
        out.write(f"  safety cue {cue.rule}: {cue.category} ({cue.level})\n")
    if not decided.fired:
        out.write("no rule fired: insights only, no work item\n")
        return
    out.write("rules fired:\n")
    for rule, reasons in decided.fired:
        out.write(f"  {rule.id} (line {rule.line}): {'; '.join(reasons)}\n")
    out.write("targets:\n")
    for d in decided.decisions:
        deadline = (f"SLA {d.spec.sla.text}, due {d.due_at.astimezone(zone).strftime('%a %d %b %Y %H:%M %Z')}"
                    if d.spec.sla and d.due_at else "no SLA")
        out.write(f"  {target_name(rules, d.kind, d.ref)} [{d.kind} {d.ref}]: {d.spec.purpose}, "
                  f"priority {d.spec.priority}, {deadline} — rule {d.rule.id}\n")
        if d.fallback_reason:
            out.write(f"    fallback: {d.fallback_reason}\n")
        if d.also_matched:
            out.write(f"    also matched (weaker, merged): {', '.join(d.also_matched)}\n")
        if d.escalate_to:
            out.write(f"    escalates to {target_name(rules, *d.escalate_to)} if not acknowledged by then\n")
    for skipped in decided.skipped:
        out.write(f"  skipped {skipped.spec.kind} ({skipped.spec.purpose}) of rule {skipped.rule.id}: "
                  f"{skipped.reason}\n")


def _explain(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        calendar = calendar_from(settings)
        rules = load_rules(Path(args.rules) if args.rules else settings.routing_file,
                           working_day_minutes=calendar.day_minutes)
    except (RoutingError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        now = datetime.fromisoformat(args.at).astimezone(UTC) if args.at else datetime.now(UTC)
    except ValueError:
        print(f"--at must be an ISO date and time, got {args.at!r}", file=sys.stderr)
        return 2
    [reading] = _classifier(settings).classify([args.text])
    facts = Facts.from_classification(reading.to_json(), touchpoint=args.touchpoint, crime_type=args.crime_type,
                                      area=args.area, flags=args.flag)
    directory = StaticDirectory(args.officer_in_case, args.supervisor)
    decided = asyncio.run(plan(rules, facts, CaseFacts(args.officer_in_case, args.team), directory, now=now,
                               calendar=calendar))
    print_plan(sys.stdout, reading, decided, rules, settings.timezone)
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``routing check`` and ``routing explain``; each sets ``func(args) -> int`` (the exit status)."""
    routing = subparsers.add_parser("routing", help="check the routing rules, or see where a reply would go")
    sub = routing.add_subparsers(dest="routing_command", required=True)
    check = sub.add_parser("check", help="check a routing file (default: prompts/routing.yaml)")
    check.add_argument("path", nargs="?", help="the routing file")
    check.set_defaults(func=_check)
    explain = sub.add_parser("explain", help="classify a reply and show the rules that fire and the targets",
                             description="Nothing is stored. Officers are taken as known accounts; name the "
                                         "supervisor with --supervisor to see supervisor targets resolved.")
    explain.add_argument("text", help="the reply to try")
    explain.add_argument("--touchpoint", help="the journey touchpoint the reply answers (e.g. after_attendance)")
    explain.add_argument("--crime-type", help="the case's crime type")
    explain.add_argument("--area", help="the case's area")
    explain.add_argument("--flag", action="append", default=[], help="a case flag (repeat for more)")
    explain.add_argument("--officer-in-case", help="the case's officer ref")
    explain.add_argument("--supervisor", help="the officer in case's supervisor's officer ref")
    explain.add_argument("--team", help="the case's team (its queue id)")
    explain.add_argument("--at", help="when the reply arrives (ISO, default now), for due times")
    explain.add_argument("--rules", help="a routing file other than the configured one")
    explain.set_defaults(func=_explain)
