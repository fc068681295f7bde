"""Which targets a reply goes to: rules that fire, targets resolved from the case, one per target, strongest wins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .rules import Facts, RoutingRules, Rule, TargetSpec, priority_rank
from .sla import WorkingCalendar, due_time


@dataclass(frozen=True)
class Officer:
    """A staff member as routing needs them: officer ref, user id, email and their supervisor's ref."""

    ref: str
    user_id: int | None
    email: str | None
    supervisor_ref: str | None


class Directory(Protocol):
    """Finds an active officer by officer ref (the collar number in ``cases.officer_in_case``)."""

    async def officer(self, ref: str) -> Officer | None:
        """The officer, or None when nobody active has that ref."""
        ...


@dataclass(frozen=True)
class CaseFacts:
    """The case fields targets are resolved from."""

    officer_in_case: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Decision:
    """One target a reply goes to, and why."""

    rule: Rule
    spec: TargetSpec
    kind: str
    ref: str
    owner: Officer | None
    reasons: tuple[str, ...]
    fallback_reason: str | None
    due_at: datetime | None
    escalate_to: tuple[str, str] | None
    also_matched: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """The target: ``("officer", ref)`` or ``("queue", id)``."""
        return (self.kind, self.ref)


@dataclass(frozen=True)
class Skipped:
    """A target a rule named that could not be found and had nowhere to fall back to (inform/recognition)."""

    rule: Rule
    spec: TargetSpec
    reason: str


@dataclass(frozen=True)
class Plan:
    """Every decision for one reply, one per target, and the targets that were skipped."""

    decisions: tuple[Decision, ...]
    skipped: tuple[Skipped, ...]
    fired: tuple[tuple[Rule, tuple[str, ...]], ...]


def _strength(decision: Decision) -> tuple[bool, datetime | None, int]:
    return (decision.due_at is None, decision.due_at, -priority_rank(decision.spec.priority))


async def _resolve(spec: TargetSpec, case: CaseFacts, directory: Directory,
                   ) -> tuple[str, str, Officer | None] | str:
    """The target as (kind, ref, officer) or, when it cannot be found, the reason."""
    if spec.kind == "queue":
        assert spec.queue is not None
        return ("queue", spec.queue, None)
    if spec.kind == "team":
        return ("queue", case.team, None) if case.team else "the case names no team"
    if not case.officer_in_case:
        return "the case has no officer in case"
    officer = await directory.officer(case.officer_in_case)
    if officer is None:
        return f"officer in case {case.officer_in_case} has no active account"
    if spec.kind == "officer_in_case":
        return ("officer", officer.ref, officer)
    if not officer.supervisor_ref:
        return f"officer in case {officer.ref} has no supervisor recorded"
    supervisor = await directory.officer(officer.supervisor_ref)
    if supervisor is None:
        return f"supervisor {officer.supervisor_ref} has no active account"
    return ("officer", supervisor.ref, supervisor)


async def escalation_target(rules: RoutingRules, rule_escalate_to: str | None, kind: str, ref: str,
                            owner: Officer | None, directory: Directory,
                            fallback: str | None = None) -> tuple[str, str] | None:
    """Where an item goes if its SLA passes unacknowledged (None: nowhere).

    ``"supervisor"`` (the default for an officer) is the owner's supervisor, or the fallback queue when
    they have none; a queue target escalates to the rule's queue, else to its own ``escalate_to``.
    """
    if rule_escalate_to not in (None, "supervisor"):
        return ("queue", str(rule_escalate_to)) if (kind, ref) != ("queue", rule_escalate_to) else None
    if kind == "officer":
        supervisor = await directory.officer(owner.supervisor_ref) if owner and owner.supervisor_ref else None
        if supervisor is not None:
            return ("officer", supervisor.ref)
        queue = fallback or rules.default_queue
        return ("queue", queue)
    spec = rules.queues.get(ref)
    return ("queue", spec.escalate_to) if spec is not None and spec.escalate_to else None


async def plan(rules: RoutingRules, facts: Facts, case: CaseFacts, directory: Directory, *, now: datetime,
               calendar: WorkingCalendar) -> Plan:
    """Decide the targets of one reply (no database writes): every firing rule, then one item per target.

    When a target cannot be found, the target's ``fallback`` queue takes it, or the file's default queue
    for an action; an inform or recognition target without a fallback is skipped (and reported).
    """
    fired = rules.matching(facts)
    candidates: list[Decision] = []
    skipped: list[Skipped] = []
    for rule, reasons in fired:
        for spec in rule.targets:
            resolved = await _resolve(spec, case, directory)
            fallback_reason: str | None = None
            if isinstance(resolved, str):
                queue = spec.fallback or (rules.default_queue if spec.purpose == "action" else None)
                if queue is None:
                    skipped.append(Skipped(rule, spec, resolved))
                    continue
                fallback_reason = f"{resolved}: sent to the {queue} queue instead"
                resolved = ("queue", queue, None)
            kind, ref, owner = resolved
            due = (due_time(now, spec.sla.minutes, working_hours=spec.sla.working_hours, calendar=calendar)
                   if spec.sla is not None else None)
            escalate = (await escalation_target(rules, rule.escalate_to, kind, ref, owner, directory, spec.fallback)
                        if due is not None else None)
            if escalate == (kind, ref):
                escalate = None
            candidates.append(Decision(rule, spec, kind, ref, owner, tuple(reasons), fallback_reason, due, escalate))
    best: dict[tuple[str, str], Decision] = {}
    others: dict[tuple[str, str], list[str]] = {}
    for decision in candidates:
        current = best.get(decision.key)
        if current is None:
            best[decision.key] = decision
            continue
        if _strength(decision) < _strength(current):
            best[decision.key], decision = decision, current
        others.setdefault(decision.key, []).append(decision.rule.id)
    decisions = tuple(
        Decision(d.rule, d.spec, d.kind, d.ref, d.owner, d.reasons, d.fallback_reason, d.due_at, d.escalate_to,
                 tuple(r for r in others.get(d.key, []) if r != d.rule.id))
        for d in best.values()
    )
    return Plan(decisions, tuple(skipped), tuple((r, tuple(reasons)) for r, reasons in fired))
