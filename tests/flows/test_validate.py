"""`feedbackbot flows validate` names file, line and step for every mistake, and passes the shipped flows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from feedbackbot.cli import main
from feedbackbot.settings import DEFAULT_PROMPTS_DIR

GOOD = """\
spec: 1
id: {id}
version: 1
name: Test flow
expiry:
  after: 3d
  text:
    en: "This survey has closed."
steps:
  - id: intro
    type: message
    text:
      en: "Hello from {{force_name}}. Reply STOP to stop."
    next: q_rating
  - id: q_rating
    type: question
    kind: scale
    text:
      en: "How did we do? Reply 1 to 5."
    branches:
      - when: "<= 2"
        next: q_why
    next: end
  - id: q_why
    type: question
    kind: text
    text:
      en: "What could we have done better?"
    next: end
  - id: end
    type: end
    text:
      en: "Thank you."
"""


def write(tmp_path: Path, body: str, name: str = "sample") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["flows", "validate", str(path)])
    return code, capsys.readouterr().out.strip().splitlines()


def test_shipped_flows_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = validate(DEFAULT_PROMPTS_DIR / "flows", capsys)
    assert code == 0, lines
    assert len(lines) >= 4 and all(": ok (" in line for line in lines)


def test_a_good_flow_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.format(id="sample"))
    code, lines = validate(path, capsys)
    assert code == 0
    assert lines == [f"{path}: ok (sample v1, 4 steps, 2 questions, languages en)"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("    next: end\n  - id: q_why", "    next: the_end\n  - id: q_why",
                     "{file}:15: step 'q_rating': goes to unknown step 'the_end'", id="branch-to-nowhere"),
        pytest.param("        next: q_why\n", "        next: end\n",
                     "{file}:24: step 'q_why': cannot be reached from the start step 'intro'", id="unreachable"),
        pytest.param('    next: end\n  - id: q_why\n    type: question\n    kind: text\n    text:\n'
                     '      en: "What could we have done better?"\n    next: end',
                     '    next: q_why\n  - id: q_why\n    type: question\n    kind: text\n    text:\n'
                     '      en: "What could we have done better?"\n    next: q_rating',
                     "{file}:15: step 'q_rating': is in a loop with no way out: no path from here reaches an end "
                     "step", id="loop-without-exit"),
        pytest.param('      en: "Thank you."', '      pl: "Dziękujemy."',
                     "{file}:32: step 'end': text has no English text ('en' is required as the fallback)",
                     id="missing-english"),
        pytest.param("{force_name}", "{officer_nmae}",
                     "{file}:13: step 'intro': text in 'en' uses unknown placeholder {{officer_nmae}} (known: "
                     "{{force_name}}, {{officer_name}}, {{case_reference}}, {{crime_type}}, {{area}})",
                     id="bad-placeholder"),
        pytest.param("kind: scale", "kind: slider",
                     "{file}:17: step 'q_rating': question kind must be one of yes_no, choice, scale, number, text, "
                     "got 'slider'", id="unknown-kind"),
        pytest.param('when: "<= 2"', 'when: "maybe"',
                     "{file}:21: step 'q_rating': branch condition 'maybe' does not fit a scale question; expected a "
                     "comparison such as '<= 2', '>= 4', '3-4' or 'skipped'", id="bad-branch-condition"),
        pytest.param("  - id: q_why", "  - id: q_rating",
                     "{file}:24: step 'q_rating': step id 'q_rating' is used twice (first on line 15)",
                     id="duplicate-id"),
        pytest.param("How did we do? Reply 1 to 5.", "How did we do? Reply 1 to 5 ’please’.",
                     "{file}:15: step 'q_rating': the message in 'en' has characters outside GSM-7 ('’'); they make "
                     "the SMS cost twice as much: use plain quotes and dashes", id="curly-quote"),
        pytest.param("What could we have done better?", "What could we have done better? " + "Tell us more. " * 22,
                     "{file}:24: step 'q_why': the message in 'en' is 3 SMS segments (GSM-7, 340 characters); at "
                     "most 2 allowed", id="too-many-segments"),
        pytest.param("    next: q_rating\n", "    next: q_rating\n    colour: blue\n",
                     "{file}:15: step 'intro': unknown key 'colour' (allowed: branches, id, kind, max, min, next, "
                     "options, reask, text, type)", id="unknown-key"),
    ],
)
def test_mistakes_are_named_by_file_line_and_step(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str,
                                                  new: str, expected: str) -> None:
    source = GOOD.format(id="sample")
    assert old in source, f"fixture text {old!r} not found"
    path = write(tmp_path, source.replace(old, new, 1))
    code, lines = validate(path, capsys)
    assert code == 1
    assert expected.format(file=path) in lines, lines


def test_yaml_syntax_error_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.format(id="sample").replace("    type: end", "    type: [end"))
    code, lines = validate(path, capsys)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(f"{path}:") and "not valid YAML" in lines[0]


def test_id_must_match_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.format(id="other"), name="sample")
    code, lines = validate(path, capsys)
    assert code == 1
    assert f"{path}:2: id 'other' must match the file name 'sample'" in lines


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = GOOD.format(id="sample").replace("next: end\n  - id: q_why", "next: nowhere\n  - id: q_why")
    broken = broken.replace('      en: "Thank you."', '      cy: "Diolch."')
    code, lines = validate(write(tmp_path, broken), capsys)
    assert code == 1
    assert len(lines) >= 2
    assert any("unknown step 'nowhere'" in line for line in lines)
    assert any("step 'end': text has no English text" in line for line in lines)


def test_choice_synonym_meaning_two_options_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = GOOD.format(id="sample").replace("""    kind: text
    text:
      en: "What could we have done better?"
""", """    kind: choice
    text:
      en: "How would you like us to contact you?"
    options:
      - id: phone
        text: {en: Phone}
        synonyms: {en: [call, ring]}
      - id: sms
        text: {en: Text message}
        synonyms: {en: [txt, ring]}
""")
    code, lines = validate(write(tmp_path, flow), capsys)
    assert code == 1
    assert any("'ring' (en) would mean both option 'phone' and option 'sms'" in line for line in lines), lines
