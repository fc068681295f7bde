"""The WhatsApp templates file: read, found by flow and step or purpose, and every mistake named by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedbackbot.channels.whatsapp_templates import (
    TemplateError,
    Templates,
    load_templates,
    parse_templates,
    uncovered_openings,
)
from feedbackbot.flows.loader import load_flows
from feedbackbot.flows.model import Flow

ROOT = Path(__file__).resolve().parents[2]
SID = "HX" + "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    return {fid: loaded.flow for fid, loaded in load_flows(ROOT / "prompts" / "flows", max_segments=1000).items()}


def problems(source: str, flows: dict[str, Flow]) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        parse_templates(source, "t.yaml", flows)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_file_and_the_test_fixture_are_valid(flows: dict[str, Flow]) -> None:
    assert len(load_templates(ROOT / "prompts" / "whatsapp_templates.yaml", flows)) == 0
    fixture = load_templates(ROOT / "tests" / "fixtures" / "twilio" / "whatsapp_templates.yaml", flows)
    assert len(fixture) == 3
    assert load_templates(ROOT / "no-such-file.yaml", flows) == Templates((), str(ROOT / "no-such-file.yaml"))


def test_templates_are_found_by_step_then_purpose_then_any_flow(flows: dict[str, Flow]) -> None:
    templates = parse_templates(f"""spec: 1
templates:
  - {{flow: six_week_checkin, step: intro, language: en, content_sid: {SID}}}
  - {{flow: six_week_checkin, purpose: reminder, language: en, content_sid: HX{"1" * 32}}}
  - {{flow: "*", purpose: reminder, language: en, content_sid: HX{"2" * 32}}}
""", "t.yaml", flows)
    def sid(flow: str, step: str | None, purpose: str, language: str = "en") -> str | None:
        found = templates.find(flow=flow, step=step, purpose=purpose, language=language)
        return found.content_sid if found else None
    assert sid("six_week_checkin", "intro", "message") == SID
    assert sid("six_week_checkin", None, "reminder") == "HX" + "1" * 32
    assert sid("after_attendance", None, "reminder") == "HX" + "2" * 32
    assert sid("after_attendance", "intro", "message") is None
    assert sid("six_week_checkin", "intro", "message", language="pl") is None


def test_every_mistake_is_named_with_its_line(flows: dict[str, Flow]) -> None:
    found = problems(f"""spec: 1
templates:
  - flow: no_such_flow
    step: intro
    language: en
    content_sid: {SID}
  - flow: six_week_checkin
    step: q_nowhere
    language: en
    content_sid: {SID}
  - flow: six_week_checkin
    step: q_updated
    purpose: reminder
    language: english
    content_sid: HX12
    variables: {{"1": officer_name, "x": force_name, "2": choice_9}}
    buttons: ["1", "7", YES, "1"]
    colour: blue
""", flows)
    assert found == [
        "t.yaml:3: unknown flow 'no_such_flow' (known: after_101_call, after_attendance, after_court, case_filed, "
        "crime_recorded, six_week_checkin, suspect_charged, or '*')",
        "t.yaml:8: flow 'six_week_checkin' has no step 'q_nowhere'",
        "t.yaml:18: unknown key 'colour' (known: buttons, content_sid, flow, language, purpose, step, variables)",
        "t.yaml:14: language 'english' is not a code such as en, pl or ur",
        "t.yaml:15: content_sid 'HX12' is not a Twilio Content SID (HX and 32 hex digits)",
        "t.yaml:11: template needs exactly one of 'step' (a step id) or 'purpose' (expiry, help, language_changed, "
        "language_menu, no_survey, opted_in, reask, reminder)",
        "t.yaml:16: variable 1 comes from unknown source 'officer_name' (known: force_name, text, choice_1, choice_2…)",
        "t.yaml:16: variable 'x' must be a number such as \"1\"",
        "t.yaml:16: variable 2: the step has only 4 options",
        "t.yaml:17: button id '7' means nothing to the survey: use a keyword (START, STOP, SKIP, HELP) or a choice "
        "number of step 'q_updated'",
        "t.yaml:17: button id 'YES' means nothing to the survey: use a keyword (START, STOP, SKIP, HELP) or a "
        "choice number of step 'q_updated'",
        "t.yaml:17: button id '1' is listed twice",
    ]


def test_two_templates_for_one_message_and_other_shapes_are_refused(flows: dict[str, Flow]) -> None:
    twice = f"""spec: 1
templates:
  - {{flow: six_week_checkin, step: intro, language: en, content_sid: {SID}}}
  - {{flow: six_week_checkin, step: intro, language: en, content_sid: {SID}}}
"""
    assert problems(twice, flows) == ["t.yaml:4: another template (line 3) already carries this message in 'en'"]
    assert problems("spec: 2\ntemplates: []\n", flows) == ["t.yaml:1: 'spec' must be 1"]
    assert problems("spec: 1\ntemplates: {a: 1}\n", flows) == ["t.yaml:2: 'templates' must be a list"]
    assert problems("- just\n- a list\n", flows) == ["t.yaml:1: expected a mapping with 'spec' and 'templates'"]
    assert problems("spec: 1\ntemplates: [\n", flows)[0].startswith("t.yaml:3: not valid YAML")
    assert problems(f'spec: 1\ntemplates:\n  - {{flow: "*", step: intro, language: en, content_sid: {SID}}}\n',
                    flows) == ["t.yaml:3: a template for a step must name its flow, not '*'"]


def test_flows_whose_opening_has_no_template_are_listed(flows: dict[str, Flow]) -> None:
    templates = parse_templates(f"spec: 1\ntemplates:\n  - {{flow: six_week_checkin, step: intro, language: en, "
                                f"content_sid: {SID}}}\n", "t.yaml", flows)
    missing = uncovered_openings(templates, flows)
    assert "six_week_checkin (en)" not in missing
    assert "six_week_checkin (pl)" in missing and "after_attendance (en)" in missing
