"""The shipped rules, tried on a table of replies and cases (tests/routing/cases.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from feedbackbot.routing import load_rules
from feedbackbot.routing.cli import StaticDirectory
from feedbackbot.routing.plan import CaseFacts, plan
from feedbackbot.routing.rules import Facts
from feedbackbot.routing.sla import DEFAULT_CALENDAR
from feedbackbot.settings import Settings

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8"))
RULES = load_rules(Settings().routing_file)
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_shipped_rules(case: dict[str, Any]) -> None:
    facts = Facts.from_classification(case["tags"], flags=case["case"].get("flags", []))
    directory = StaticDirectory("PC1", "PS9")
    case_facts = CaseFacts(case["case"].get("officer_in_case"), case["case"].get("team"))
    decided = await plan(RULES, facts, case_facts, directory, now=NOW, calendar=DEFAULT_CALENDAR)
    got = sorted(f"{d.kind} {d.ref} {d.rule.id} {d.spec.purpose} {d.spec.priority}" for d in decided.decisions)
    assert got == sorted(case["targets"])


async def test_merged_target_records_the_weaker_rules() -> None:
    facts = Facts.from_classification({"risk": "urgent", "requests": ["callback"], "themes": ["praise"]})
    decided = await plan(RULES, facts, CaseFacts("PC1"), StaticDirectory("PC1", "PS9"), now=NOW,
                         calendar=DEFAULT_CALENDAR)
    officer = next(d for d in decided.decisions if d.key == ("officer", "PC1"))
    assert officer.rule.id == "victim_requests"
    assert set(officer.also_matched) == {"urgent_risk", "praise"}


async def test_due_times_and_escalation_targets_of_the_shipped_rules() -> None:
    facts = Facts.from_classification({"risk": "urgent", "requests": ["complaint"]})
    decided = await plan(RULES, facts, CaseFacts("PC1"), StaticDirectory("PC1", "PS9"), now=NOW,
                         calendar=DEFAULT_CALENDAR)
    by_ref = {d.ref: d for d in decided.decisions}
    assert by_ref["control_room"].due_at == datetime(2026, 3, 10, 10, 15, tzinfo=UTC)
    assert by_ref["control_room"].escalate_to == ("queue", "duty_inspector")
    # Two working days of ten hours from Tuesday 10:00 GMT: Thursday 10:00.
    assert by_ref["professional_standards"].due_at == datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert by_ref["professional_standards"].escalate_to is None
    assert by_ref["PC1"].due_at is None and by_ref["PC1"].escalate_to is None


@pytest.mark.parametrize(("when", "tags", "fires"), [
    ("themes: {all: [praise, respect_and_empathy]}", {"themes": ["praise"]}, False),
    ("themes: {all: [praise, respect_and_empathy]}", {"themes": ["praise", "respect_and_empathy"]}, True),
    ("themes: {any: [praise], not: [discrimination_and_fairness]}",
     {"themes": ["praise", "discrimination_and_fairness"]}, False),
    ("sentiment: {not: [positive]}", {"sentiment": "neutral"}, True),
    ("touchpoint: [after_court]\n      crime_type: [burglary]", {}, True),
    ("area: [south]", {}, False),
    ("risk: [safeguarding, urgent]", {"risk": "none"}, False),
])
async def test_any_all_not(when: str, tags: dict[str, Any], fires: bool) -> None:
    from feedbackbot.routing import parse_rules

    source = f"""spec: 1
default_queue: q
queues:
  - id: q
    name: Q
rules:
  - id: r
    when:
      {when}
    targets:
      - to: queue
        queue: q
        sla: 1 hour
"""
    rules = parse_rules(source, "t.yaml")
    facts = Facts.from_classification(tags, touchpoint="after_court", crime_type="burglary", area="north")
    assert bool(rules.matching(facts)) is fires
