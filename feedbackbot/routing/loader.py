"""Read a routing file into RoutingRules, naming file, line and rule for every mistake found."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..nlp.taxonomy import load_taxonomy
from ..yamlnodes import Node, convert
from .rules import (
    FIELDS,
    MULTI_FIELDS,
    PRIORITIES,
    PURPOSES,
    TARGET_KINDS,
    Condition,
    QueueSpec,
    RoutingRules,
    Rule,
    Sla,
    TargetSpec,
)

SPEC_VERSION = 1
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SLA = re.compile(r"^\s*(\d+)\s*(working\s+)?(minutes?|mins?|m|hours?|h|days?|d)\s*$", re.IGNORECASE)
_TOP_KEYS = ("spec", "default_queue", "queues", "rules")
_QUEUE_KEYS = ("id", "name", "email", "escalate_to")
_RULE_KEYS = ("id", "description", "when", "targets", "escalate_to")
_TARGET_KEYS = ("to", "queue", "sla", "purpose", "priority", "fallback")
_CONDITION_KEYS = ("any", "all", "not")


@dataclass(frozen=True)
class RoutingProblem:
    """One mistake in a routing file."""

    file: str
    line: int
    rule: str | None
    message: str

    def __str__(self) -> str:
        where = f"rule '{self.rule}': " if self.rule else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class RoutingError(ValueError):
    """A routing file has mistakes; ``problems`` lists each with file, line and rule."""

    def __init__(self, problems: list[RoutingProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_sla(text: object, working_day_minutes: int) -> Sla | None:
    """``"15 minutes"``, ``"4 hours"``, ``"2 working days"`` or ``"8 working hours"``; None if malformed.

    A working day is as long as the configured working hours (600 minutes for 08:00-18:00).

    Example:
        >>> parse_sla("2 working days", 600)
        Sla(minutes=1200, working_hours=True, text='2 working days')
    """
    if isinstance(text, bool) or not isinstance(text, str | int):
        return None
    if isinstance(text, int):
        return Sla(text, False, f"{text} minutes") if text > 0 else None
    match = _SLA.match(text)
    if not match:
        return None
    amount, working, unit = int(match.group(1)), bool(match.group(2)), match.group(3).lower()[0]
    if amount <= 0:
        return None
    day = working_day_minutes if working else 24 * 60
    minutes = amount * {"m": 1, "h": 60, "d": day}[unit]
    return Sla(minutes, working, " ".join(text.split()))


def _labels() -> dict[str, tuple[str, ...]]:
    taxonomy = load_taxonomy()
    return {
        "risk": taxonomy.risk_levels,
        "sentiment": taxonomy.sentiments,
        "risk_categories": taxonomy.risk_categories,
        "themes": taxonomy.themes,
        "requests": taxonomy.requests,
    }


class _Checker:
    def __init__(self, file: str, working_day_minutes: int) -> None:
        self.file = file
        self.working_day_minutes = working_day_minutes
        self.problems: list[RoutingProblem] = []
        self.labels = _labels()

    def add(self, line: int, rule: str | None, message: str) -> None:
        self.problems.append(RoutingProblem(self.file, line, rule, message))

    def keys(self, node: Node, allowed: tuple[str, ...], rule: str | None, what: str) -> None:
        for key, child in node.children.items():
            if key not in allowed:
                self.add(child.line, rule, f"unknown key '{key}' in {what} (allowed: {', '.join(allowed)})")

    def strings(self, node: Node, rule: str | None, what: str) -> tuple[str, ...]:
        values = node.items if isinstance(node.value, list) else [node]
        out: list[str] = []
        for item in values:
            if not isinstance(item.value, str) or not item.value.strip():
                self.add(item.line, rule, f"{what} must be a name or a list of names")
                continue
            out.append(item.value.strip())
        return tuple(out)

    def condition(self, name: str, node: Node, rule: str) -> Condition | None:
        if name not in FIELDS:
            self.add(node.line, rule, f"unknown condition '{name}' (allowed: {', '.join(FIELDS)})")
            return None
        parts: dict[str, tuple[str, ...]] = {"any": (), "all": (), "not": ()}
        if isinstance(node.value, dict):
            self.keys(node, _CONDITION_KEYS, rule, f"condition '{name}'")
            for key in _CONDITION_KEYS:
                if key in node.children:
                    parts[key] = self.strings(node.children[key], rule, f"'{name}: {key}'")
            if name not in MULTI_FIELDS and parts["all"]:
                self.add(node.children["all"].line, rule,
                         f"'{name}' holds one value, so 'all' cannot apply (use 'any' or 'not')")
        else:
            parts["any"] = self.strings(node, rule, f"'{name}'")
        known = self.labels.get(name)
        if known is not None:
            for values in parts.values():
                for value in values:
                    if value not in known:
                        self.add(node.line, rule, f"unknown {name} label '{value}' (known: {', '.join(known)})")
        if not any(parts.values()):
            self.add(node.line, rule, f"condition '{name}' names no values")
            return None
        return Condition(name, parts["any"], parts["all"], parts["not"])

    def target(self, node: Node, rule: str, queues: dict[str, QueueSpec]) -> TargetSpec | None:
        if not isinstance(node.value, dict):
            self.add(node.line, rule, "each target must be a mapping with at least 'to'")
            return None
        self.keys(node, _TARGET_KEYS, rule, "a target")
        kind = node.value.get("to")
        if kind not in TARGET_KINDS:
            line = node.children["to"].line if "to" in node.children else node.line
            self.add(line, rule, f"unknown target kind {kind!r} (known: {', '.join(TARGET_KINDS)})")
            return None
        queue = node.value.get("queue")
        if kind == "queue":
            if queue not in queues:
                line = node.children["queue"].line if "queue" in node.children else node.line
                self.add(line, rule, f"unknown queue {queue!r} (declared: {', '.join(queues)})")
                return None
        elif queue is not None:
            self.add(node.children["queue"].line, rule, f"'queue' is only for 'to: queue', not 'to: {kind}'")
        sla: Sla | None = None
        if "sla" in node.children:
            sla = parse_sla(node.value["sla"], self.working_day_minutes)
            if sla is None:
                self.add(node.children["sla"].line, rule,
                         f"bad SLA {node.value['sla']!r} (write e.g. '15 minutes', '4 hours', '2 working days')")
        purpose = node.value.get("purpose", "action")
        if purpose not in PURPOSES:
            self.add(node.children["purpose"].line, rule,
                     f"unknown purpose {purpose!r} (known: {', '.join(PURPOSES)})")
            purpose = "action"
        if purpose == "action" and sla is None and "sla" not in node.children:
            self.add(node.line, rule, "an action target needs an 'sla'")
        priority = node.value.get("priority", "normal")
        if priority not in PRIORITIES:
            self.add(node.children["priority"].line, rule,
                     f"unknown priority {priority!r} (known: {', '.join(PRIORITIES)})")
            priority = "normal"
        fallback = node.value.get("fallback")
        if fallback is not None and fallback not in queues:
            self.add(node.children["fallback"].line, rule,
                     f"unknown fallback queue {fallback!r} (declared: {', '.join(queues)})")
            fallback = None
        return TargetSpec(str(kind), str(queue) if kind == "queue" else None, sla, str(purpose), str(priority),
                          fallback, node.line)

    def rule(self, node: Node, queues: dict[str, QueueSpec]) -> Rule | None:
        if not isinstance(node.value, dict):
            self.add(node.line, None, "each rule must be a mapping with id, when and targets")
            return None
        rid = node.value.get("id")
        if not isinstance(rid, str) or not _ID.match(rid):
            self.add(node.line, None, "rule needs an id in lower_snake_case")
            return None
        self.keys(node, _RULE_KEYS, rid, "a rule")
        conditions: list[Condition] = []
        when = node.children.get("when")
        if when is not None:
            if not isinstance(when.value, dict):
                self.add(when.line, rid, "'when' must be a mapping of conditions")
            else:
                for name, child in when.children.items():
                    condition = self.condition(name, child, rid)
                    if condition is not None:
                        conditions.append(condition)
        targets: list[TargetSpec] = []
        targets_node = node.children.get("targets")
        if targets_node is None or not isinstance(targets_node.value, list) or not targets_node.items:
            self.add(targets_node.line if targets_node else node.line, rid, "'targets' must be a non-empty list")
        else:
            for item in targets_node.items:
                target = self.target(item, rid, queues)
                if target is not None:
                    targets.append(target)
        escalate = node.value.get("escalate_to")
        if escalate is not None and escalate != "supervisor" and escalate not in queues:
            self.add(node.children["escalate_to"].line, rid,
                     f"escalate_to must be 'supervisor' or a declared queue, got {escalate!r}")
            escalate = None
        return Rule(rid, str(node.value.get("description") or ""), tuple(conditions), tuple(targets),
                    str(escalate) if escalate is not None else None, node.line)

    def queues(self, node: Node | None) -> dict[str, QueueSpec]:
        queues: dict[str, QueueSpec] = {}
        if node is None or not isinstance(node.value, list) or not node.items:
            self.add(node.line if node else 1, None, "'queues' must be a non-empty list")
            return queues
        escalations: list[tuple[str, str, int]] = []
        for item in node.items:
            if not isinstance(item.value, dict):
                self.add(item.line, None, "each queue must be a mapping with id and name")
                continue
            qid = item.value.get("id")
            if not isinstance(qid, str) or not _ID.match(qid):
                self.add(item.line, None, "queue needs an id in lower_snake_case")
                continue
            self.keys(item, _QUEUE_KEYS, None, f"queue '{qid}'")
            if qid in queues:
                self.add(item.line, None, f"queue id '{qid}' is used twice")
                continue
            name = item.value.get("name")
            if not isinstance(name, str) or not name.strip():
                self.add(item.line, None, f"queue '{qid}' needs a name")
                name = qid
            email = item.value.get("email")
            if email is not None and (not isinstance(email, str) or "@" not in email):
                self.add(item.children["email"].line, None, f"queue '{qid}' email must be an email address")
                email = None
            escalate = item.value.get("escalate_to")
            if escalate is not None:
                escalations.append((qid, str(escalate), item.children["escalate_to"].line))
            queues[qid] = QueueSpec(qid, name.strip(), email, str(escalate) if escalate is not None else None)
        for qid, target, line in escalations:
            if target not in queues or target == qid:
                self.add(line, None, f"queue '{qid}' escalates to unknown queue '{target}'"
                         if target != qid else f"queue '{qid}' cannot escalate to itself")
        return queues


def parse_rules(source: str, file: str, *, working_day_minutes: int = 600) -> RoutingRules:
    """Parse and check routing YAML; raise RoutingError listing every problem found."""
    checker = _Checker(file, working_day_minutes)
    try:
        document = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise RoutingError([RoutingProblem(file, line, None, f"not valid YAML: {problem}")]) from None
    if document is None or not isinstance(document, yaml.MappingNode):
        raise RoutingError([RoutingProblem(file, 1, None, "a routing file must be a YAML mapping (spec, queues, "
                                                          "rules…)")])
    root = convert(document)
    checker.keys(root, _TOP_KEYS, None, "the routing file")
    if root.value.get("spec") != SPEC_VERSION:
        checker.add(root.children["spec"].line if "spec" in root.children else 1, None,
                    f"spec must be {SPEC_VERSION}, got {root.value.get('spec')!r}")
    queues = checker.queues(root.children.get("queues"))
    default = root.value.get("default_queue")
    if default not in queues:
        checker.add(root.children["default_queue"].line if "default_queue" in root.children else 1, None,
                    f"default_queue must name a declared queue, got {default!r}")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    rules_node = root.children.get("rules")
    if rules_node is None or not isinstance(rules_node.value, list):
        checker.add(rules_node.line if rules_node else 1, None, "'rules' must be a list")
    else:
        for item in rules_node.items:
            rule = checker.rule(item, queues)
            if rule is None:
                continue
            if rule.id in seen:
                checker.add(rule.line, rule.id, f"rule id '{rule.id}' is used twice (first on line {seen[rule.id]})")
                continue
            seen[rule.id] = rule.line
            rules.append(rule)
    if checker.problems:
        raise RoutingError(sorted(checker.problems, key=lambda p: (p.line, p.message)))
    return RoutingRules(queues, str(default), tuple(rules), file)


def load_rules(path: Path, *, working_day_minutes: int = 600) -> RoutingRules:
    """Read, parse and check one routing file."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RoutingError([RoutingProblem(str(path), 1, None, f"cannot read: {exc}")]) from None
    return parse_rules(source, str(path), working_day_minutes=working_day_minutes)
