"""Routing rules as values: queues, conditions on a reply and its case, targets with an SLA, and matching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Who a rule can send a reply to.
TARGET_KINDS: tuple[str, ...] = ("officer_in_case", "supervisor", "team", "queue")
PURPOSES: tuple[str, ...] = ("action", "inform", "recognition")
#: Lowest first; a stronger rule has a higher priority.
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
#: Fields a rule can test, and whether each holds one value (risk) or several (themes).
SINGLE_FIELDS: tuple[str, ...] = ("risk", "sentiment", "touchpoint", "crime_type", "area")
MULTI_FIELDS: tuple[str, ...] = ("risk_categories", "themes", "requests", "flags")
FIELDS: tuple[str, ...] = SINGLE_FIELDS + MULTI_FIELDS


@dataclass(frozen=True)
class QueueSpec:
    """A team queue: its id (``target_ref`` of its items), name, notification email and escalation queue."""

    id: str
    name: str
    email: str | None = None
    escalate_to: str | None = None


@dataclass(frozen=True)
class Condition:
    """A test on one field: any of these values, all of them, none of them (each optional; all must hold).

    Example:
        >>> Condition("themes", any_of=("praise",), none_of=("respect_and_empathy",)).test(("praise",))
        True
    """

    field: str
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()

    def test(self, values: Sequence[str]) -> bool:
        """Whether the reply's values for this field meet the condition."""
        have = set(values)
        if self.any_of and not have.intersection(self.any_of):
            return False
        if self.all_of and not have.issuperset(self.all_of):
            return False
        return not have.intersection(self.none_of)

    def describe(self) -> str:
        """The condition in words, as ``routing explain`` shows it."""
        parts = []
        if self.any_of:
            parts.append(f"{self.field} is any of {', '.join(self.any_of)}")
        if self.all_of:
            parts.append(f"{self.field} has all of {', '.join(self.all_of)}")
        if self.none_of:
            parts.append(f"{self.field} has none of {', '.join(self.none_of)}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Sla:
    """How long a target has: ``minutes`` of clock time, or of working time when ``working_hours``."""

    minutes: int
    working_hours: bool
    text: str


@dataclass(frozen=True)
class TargetSpec:
    """One target of a rule: who, by when, why, how pressing, and where it goes if who cannot be found."""

    kind: str
    queue: str | None
    sla: Sla | None
    purpose: str
    priority: str
    fallback: str | None
    line: int


@dataclass(frozen=True)
class Rule:
    """A routing rule: when every condition holds, the reply goes to each target.

    ``escalate_to`` is ``"supervisor"`` or a queue id; None means the target queue's own escalation
    queue (for a queue) or the officer's supervisor (for an officer).
    """

    id: str
    description: str
    conditions: tuple[Condition, ...]
    targets: tuple[TargetSpec, ...]
    escalate_to: str | None
    line: int


@dataclass(frozen=True)
class Facts:
    """What a rule can see about one reply: its tags and its case."""

    risk: str = "none"
    sentiment: str = "neutral"
    touchpoint: str | None = None
    crime_type: str | None = None
    area: str | None = None
    risk_categories: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    def values(self, name: str) -> tuple[str, ...]:
        """The reply's values for a field (a one-valued field gives zero or one)."""
        value = getattr(self, name)
        if isinstance(value, tuple):
            return value
        return (value,) if value else ()

    @classmethod
    def from_classification(cls, tags: Mapping[str, object], **case: object) -> Facts:
        """Facts from a stored classification (``FeedbackItem.classification``) and case fields."""

        def strings(key: str) -> tuple[str, ...]:
            raw = tags.get(key)
            return tuple(str(v) for v in raw) if isinstance(raw, list | tuple) else ()

        flags = case.get("flags")
        return cls(
            risk=str(tags.get("risk") or "none"),
            sentiment=str(tags.get("sentiment") or "neutral"),
            touchpoint=_text(case.get("touchpoint")),
            crime_type=_text(case.get("crime_type")),
            area=_text(case.get("area")),
            risk_categories=strings("risk_categories"),
            themes=strings("themes"),
            requests=strings("requests"),
            flags=tuple(str(f) for f in flags) if isinstance(flags, list | tuple) else (),
        )


def _text(value: object) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class RoutingRules:
    """A whole routing file: queues by id, the default queue, and the rules in file order."""

    queues: Mapping[str, QueueSpec]
    default_queue: str
    rules: tuple[Rule, ...]
    source: str = ""

    def matching(self, facts: Facts) -> list[tuple[Rule, list[str]]]:
        """Every rule that fires for these facts, in file order, each with the reasons it fired."""
        fired: list[tuple[Rule, list[str]]] = []
        for rule in self.rules:
            if all(c.test(facts.values(c.field)) for c in rule.conditions):
                fired.append((rule, [c.describe() for c in rule.conditions] or ["the rule has no conditions"]))
        return fired


def priority_rank(priority: str) -> int:
    """Order priorities: low < normal < high < urgent."""
    return PRIORITIES.index(priority)
