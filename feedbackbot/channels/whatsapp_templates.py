"""WhatsApp templates: which approved Twilio Content Template carries which survey message, read from YAML.

WhatsApp lets a business write first, or again more than 24 hours after the victim's last message, only
with a template that WhatsApp has approved. ``prompts/whatsapp_templates.yaml`` says which template (its
Content SID, ``HX…``) stands for which message, per flow and language, and where each of its variables
comes from::

    spec: 1
    templates:
      - flow: after_attendance      # a flow id, or "*" for every flow
        step: intro                 # the step whose message this template carries...
        language: en
        content_sid: HX0123456789abcdef0123456789abcdef
        variables: {"1": force_name}
        buttons: [START, STOP]      # the ids of the template's quick-reply buttons, if it has any
      - flow: "*"
        purpose: reminder           # ...or the kind of message (reminder, expiry) for messages of no step
        language: en
        content_sid: HXfedcba9876543210fedcba9876543210
        variables: {"1": force_name}

A button id is what the victim's press sends back to us as their reply, so each must be a keyword the
engine understands (START, STOP, SKIP, HELP) or, on a choice question, a choice number (``"1"``…). Every
mistake is reported with the file, the line and what is wrong, at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..flows.keywords import parse_keyword
from ..flows.model import Flow

SPEC_VERSION = 1
ANY_FLOW = "*"
#: Where a template variable's value can come from.
VARIABLE_SOURCES = ("force_name", "text")
#: ``choice_1``, ``choice_2``… : the label of a choice question's option.
_CHOICE_SOURCE = re.compile(r"^choice_([1-9][0-9]?)$")
#: Messages that belong to no step, which a template can carry by purpose.
PURPOSES = frozenset({"reminder", "expiry", "help", "opted_in", "no_survey", "reask", "language_menu",
                      "language_changed"})
_CONTENT_SID = re.compile(r"^HX[0-9a-f]{32}$")
_VARIABLE_KEY = re.compile(r"^[1-9][0-9]?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_ENTRY_KEYS = {"flow", "step", "purpose", "language", "content_sid", "variables", "buttons"}


@dataclass(frozen=True)
class TemplateProblem:
    """One mistake in the templates file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class TemplateError(ValueError):
    """The templates file has mistakes; ``problems`` names the file and line of each."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Template:
    """One approved template and what fills its variables.

    ``variables`` maps the template's variable numbers to sources: ``force_name``, ``text`` (the whole
    message as the flow words it) or ``choice_N`` (the label of option N of a choice question).
    """

    flow: str
    language: str
    content_sid: str
    step: str | None = None
    purpose: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    buttons: tuple[str, ...] = ()
    line: int = 0

    def values(self, *, force_name: str, text: str, choices: Sequence[str]) -> dict[str, str] | None:
        """The template's variables for one message; None when the message lacks a choice the template shows."""
        out: dict[str, str] = {}
        for key, source in self.variables.items():
            if source == "force_name":
                out[key] = force_name
            elif source == "text":
                out[key] = text
            else:
                match = _CHOICE_SOURCE.match(source)
                index = int(match.group(1)) - 1 if match else len(choices)
                if index >= len(choices) or not choices[index].strip():
                    return None
                out[key] = choices[index]
        return out


@dataclass(frozen=True)
class Templates:
    """Every configured template, found by flow, step or purpose, and language."""

    entries: tuple[Template, ...] = ()
    source: str = "<none>"

    def find(self, *, flow: str | None, step: str | None, purpose: str, language: str) -> Template | None:
        """The template for a message: its flow's step, else its flow's purpose, else any flow's purpose."""
        candidates = [t for t in self.entries if t.language == language]
        if flow is not None and step is not None:
            for t in candidates:
                if t.flow == flow and t.step == step:
                    return t
        for wanted in (flow, ANY_FLOW):
            for t in candidates:
                if wanted is not None and t.flow == wanted and t.purpose == purpose:
                    return t
        return None

    def __len__(self) -> int:
        return len(self.entries)


@dataclass
class _Node:
    value: Any
    line: int
    children: dict[str, _Node] = field(default_factory=dict)
    items: list[_Node] = field(default_factory=list)
    #: A scalar as written (YAML 1.1 reads YES, no and on as booleans; ids and codes are text here).
    raw: str | None = None


def _convert(node: yaml.Node) -> _Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = _Node({}, line)
        for key_node, value_node in node.value:
            child = _convert(value_node)
            out.children[str(key_node.value)] = child
            out.value[str(key_node.value)] = child.value
        return out
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(n) for n in node.value]
        return _Node([i.value for i in items], line, items=items)
    loader = yaml.SafeLoader("")
    try:
        return _Node(loader.construct_object(node, deep=True), line, raw=str(node.value))
    finally:
        loader.dispose()


class _Checker:
    def __init__(self, file: str, flows: Mapping[str, Flow] | None) -> None:
        self.file = file
        self.flows = flows
        self.problems: list[TemplateProblem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(TemplateProblem(self.file, line, message))

    def text(self, entry: _Node, key: str, *, required: bool = True) -> str | None:
        node = entry.children.get(key)
        if node is None:
            if required:
                self.add(entry.line, f"template needs '{key}'")
            return None
        if node.raw is None or not node.raw.strip():
            self.add(node.line, f"'{key}' must be text")
            return None
        return node.raw.strip()

    def entry(self, node: _Node) -> Template | None:
        if not isinstance(node.value, dict):
            self.add(node.line, "each template must be a mapping with flow, language and content_sid")
            return None
        before = len(self.problems)
        for key in node.children:
            if key not in _ENTRY_KEYS:
                self.add(node.children[key].line, f"unknown key '{key}' (known: {', '.join(sorted(_ENTRY_KEYS))})")
        flow_id = self.text(node, "flow")
        language = self.text(node, "language")
        sid = self.text(node, "content_sid")
        step_id = self.text(node, "step", required=False)
        purpose = self.text(node, "purpose", required=False)
        if language is not None and not _LANGUAGE.match(language):
            self.add(node.children["language"].line, f"language {language!r} is not a code such as en, pl or ur")
        if sid is not None and not _CONTENT_SID.match(sid):
            self.add(node.children["content_sid"].line,
                     f"content_sid {sid!r} is not a Twilio Content SID (HX and 32 hex digits)")
        if (step_id is None) == (purpose is None):
            self.add(node.line, "template needs exactly one of 'step' (a step id) or 'purpose' "
                                f"({', '.join(sorted(PURPOSES))})")
        if purpose is not None and purpose not in PURPOSES:
            self.add(node.children["purpose"].line,
                     f"unknown purpose {purpose!r} (known: {', '.join(sorted(PURPOSES))})")
        if step_id is not None and flow_id == ANY_FLOW:
            self.add(node.children["step"].line, "a template for a step must name its flow, not '*'")
        flow = self._flow(node, flow_id)
        step = None
        if flow is not None and step_id is not None:
            step = flow.steps.get(step_id)
            if step is None:
                self.add(node.children["step"].line, f"flow '{flow.id}' has no step '{step_id}'")
        variables = self._variables(node, step)
        buttons = self._buttons(node, step, step_id)
        if len(self.problems) > before or flow_id is None or language is None or sid is None:
            return None
        return Template(flow=flow_id, language=language, content_sid=sid, step=step_id, purpose=purpose,
                        variables=variables, buttons=buttons, line=node.line)

    def _flow(self, node: _Node, flow_id: str | None) -> Flow | None:
        if flow_id is None or flow_id == ANY_FLOW or self.flows is None:
            return None
        flow = self.flows.get(flow_id)
        if flow is None:
            self.add(node.children["flow"].line,
                     f"unknown flow '{flow_id}' (known: {', '.join(sorted(self.flows))}, or '*')")
        return flow

    def _variables(self, node: _Node, step: Any) -> dict[str, str]:
        child = node.children.get("variables")
        if child is None:
            return {}
        if not isinstance(child.value, dict):
            self.add(child.line, "'variables' must map variable numbers to sources, e.g. {\"1\": force_name}")
            return {}
        out: dict[str, str] = {}
        options = len(step.options) if step is not None else None
        for key, value_node in child.children.items():
            source = value_node.raw if value_node.raw is not None else str(value_node.value)
            if not _VARIABLE_KEY.match(key):
                self.add(value_node.line, f"variable {key!r} must be a number such as \"1\"")
            match = _CHOICE_SOURCE.match(source)
            if source not in VARIABLE_SOURCES and match is None:
                self.add(value_node.line, f"variable {key} comes from unknown source {source!r} "
                                          f"(known: {', '.join(VARIABLE_SOURCES)}, choice_1, choice_2…)")
            elif match is not None and options is not None and int(match.group(1)) > options:
                self.add(value_node.line, f"variable {key}: the step has only {options} options")
            out[key] = source
        return out

    def _buttons(self, node: _Node, step: Any, step_id: str | None) -> tuple[str, ...]:
        child = node.children.get("buttons")
        if child is None:
            return ()
        if not isinstance(child.value, list) or not child.items:
            self.add(child.line, "'buttons' must list the ids of the template's quick-reply buttons")
            return ()
        ids: list[str] = []
        # Without the flows to hand (a unit check), any choice number will do.
        options = len(step.options) if step is not None else 0 if self.flows is not None else 99
        for item in child.items:
            button = (item.raw if item.raw is not None else str(item.value)).strip()
            is_choice = button.isdigit() and 1 <= int(button) <= options
            if parse_keyword(button) is None and not is_choice:
                where = f"step '{step_id}'" if step_id else "this message"
                self.add(item.line, f"button id {button!r} means nothing to the survey: use a keyword (START, STOP, "
                                    f"SKIP, HELP) or a choice number of {where}")
            if button in ids:
                self.add(item.line, f"button id {button!r} is listed twice")
            ids.append(button)
        return tuple(ids)


def parse_templates(source: str, file: str, flows: Mapping[str, Flow] | None = None) -> Templates:
    """Parse and check a templates file's text; TemplateError lists every mistake with its line."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TemplateError([TemplateProblem(file, mark.line + 1 if mark else 1, f"not valid YAML: {exc}")]) from None
    if root is None:
        return Templates((), file)
    tree = _convert(root)
    checker = _Checker(file, flows)
    if not isinstance(tree.value, dict):
        raise TemplateError([TemplateProblem(file, tree.line, "expected a mapping with 'spec' and 'templates'")])
    for key in tree.children:
        if key not in {"spec", "templates"}:
            checker.add(tree.children[key].line, f"unknown key '{key}' (known: spec, templates)")
    spec = tree.children.get("spec")
    if spec is None or spec.value != SPEC_VERSION:
        checker.add(spec.line if spec else tree.line, f"'spec' must be {SPEC_VERSION}")
    listed = tree.children.get("templates")
    entries: list[Template] = []
    if listed is not None and listed.value is not None and not isinstance(listed.value, list):
        checker.add(listed.line, "'templates' must be a list")
    elif listed is not None and listed.value is not None:
        seen: dict[tuple[str, str | None, str | None, str], int] = {}
        for item in listed.items:
            template = checker.entry(item)
            if template is None:
                continue
            carried = (template.flow, template.step, template.purpose, template.language)
            if carried in seen:
                checker.add(item.line, f"another template (line {seen[carried]}) already carries this message "
                                       f"in '{template.language}'")
                continue
            seen[carried] = item.line
            entries.append(template)
    if checker.problems:
        raise TemplateError(checker.problems)
    return Templates(tuple(entries), file)


def load_templates(path: Path, flows: Mapping[str, Flow] | None = None) -> Templates:
    """Read and check the templates file; a missing file means no templates (free text only, in the window)."""
    if not path.exists():
        return Templates((), str(path))
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError([TemplateProblem(str(path), 1, f"cannot read: {exc}")]) from None
    return parse_templates(source, str(path), flows)


def uncovered_openings(templates: Templates, flows: Mapping[str, Flow]) -> list[str]:
    """Flows and languages whose first message has no template, so a WhatsApp invitation cannot be sent."""
    missing: list[str] = []
    for flow in flows.values():
        for language in flow.languages:
            if templates.find(flow=flow.id, step=flow.start, purpose="message", language=language) is None:
                missing.append(f"{flow.id} ({language})")
    return missing
