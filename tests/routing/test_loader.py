"""Every mistake in a routing file is reported with file, line and rule, in words an administrator can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedbackbot.cli import main
from feedbackbot.routing import RoutingError, load_rules, parse_rules
from feedbackbot.routing.loader import parse_sla
from feedbackbot.routing.rules import Sla

BROKEN = Path(__file__).parent / "data" / "broken.yaml"
TAXONOMY_RISK = "none, safeguarding, urgent"
THEMES = ("updates_and_information, respect_and_empathy, contact_and_response, investigation_and_outcome, "
          "support_and_referral, victim_personal_statement, court_and_witness_care, accessibility_and_language, "
          "compensation_and_property, restorative_justice, discrimination_and_fairness, praise")


def test_every_mistake_with_file_line_and_rule() -> None:
    with pytest.raises(RoutingError) as caught:
        load_rules(BROKEN)
    f = str(BROKEN)
    assert [str(p) for p in caught.value.problems] == [
        f"{f}:2: default_queue must name a declared queue, got 'nowhere'",
        f"{f}:3: unknown key 'colour' in the routing file (allowed: spec, default_queue, queues, rules)",
        f"{f}:7: queue 'control_room' escalates to unknown queue 'duty'",
        f"{f}:8: unknown key 'pager' in queue 'control_room' (allowed: id, name, email, escalate_to)",
        f"{f}:9: queue id 'control_room' is used twice",
        f"{f}:14: rule 'urgent': unknown risk label 'extreme' (known: {TAXONOMY_RISK})",
        f"{f}:15: rule 'urgent': unknown themes label 'prase' (known: {THEMES})",
        f"{f}:16: rule 'urgent': unknown condition 'mood' (allowed: risk, sentiment, touchpoint, crime_type, area, "
        "risk_categories, themes, requests, flags)",
        f"{f}:17: rule 'urgent': 'sentiment' holds one value, so 'all' cannot apply (use 'any' or 'not')",
        f"{f}:20: rule 'urgent': unknown queue 'control_rom' (declared: control_room)",
        f"{f}:22: rule 'urgent': unknown target kind 'sergeant' (known: officer_in_case, supervisor, team, queue)",
        f"{f}:24: rule 'urgent': bad SLA 'soon' (write e.g. '15 minutes', '4 hours', '2 working days')",
        f"{f}:25: rule 'urgent': unknown purpose 'blame' (known: action, inform, recognition)",
        f"{f}:26: rule 'urgent': unknown priority 'top' (known: low, normal, high, urgent)",
        f"{f}:27: rule 'urgent': unknown key 'colour' in a target (allowed: to, queue, sla, purpose, priority, "
        "fallback)",
        f"{f}:28: rule 'urgent': rule id 'urgent' is used twice (first on line 12)",
        f"{f}:30: rule 'urgent': an action target needs an 'sla'",
        f"{f}:31: rule needs an id in lower_snake_case",
        f"{f}:33: rule 'no_targets': 'targets' must be a non-empty list",
        f"{f}:34: rule 'no_targets': escalate_to must be 'supervisor' or a declared queue, got 'the_moon'",
    ]


@pytest.mark.parametrize(("source", "message"), [
    ("spec: [1\n", "t.yaml:2: not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("- a\n", "t.yaml:1: a routing file must be a YAML mapping (spec, queues, rules…)"),
    ("spec: 2\ndefault_queue: q\nqueues: [{id: q, name: Q}]\nrules: []\n", "t.yaml:1: spec must be 1, got 2"),
    ("spec: 1\ndefault_queue: q\nqueues: []\nrules: []\n", "t.yaml:3: 'queues' must be a non-empty list"),
])
def test_file_level_mistakes(source: str, message: str) -> None:
    with pytest.raises(RoutingError) as caught:
        parse_rules(source, "t.yaml")
    assert message in [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("text", "sla"), [
    ("15 minutes", Sla(15, False, "15 minutes")),
    ("4 hours", Sla(240, False, "4 hours")),
    ("2 working days", Sla(1200, True, "2 working days")),
    ("8 working hours", Sla(480, True, "8 working hours")),
    ("3d", Sla(4320, False, "3d")),
    (30, Sla(30, False, "30 minutes")),
    ("0 minutes", None), ("soon", None), (True, None), ("-5 minutes", None),
])
def test_sla_wording(text: object, sla: Sla | None) -> None:
    assert parse_sla(text, 600) == sla


def test_check_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routing", "check"]) == 0
    assert "ok (5 queues, 7 rules)" in capsys.readouterr().out
    assert main(["routing", "check", str(BROKEN)]) == 1
    err = capsys.readouterr().err
    assert f"{BROKEN}:20: rule 'urgent': unknown queue 'control_rom' (declared: control_room)" in err
    assert "Traceback" not in err
