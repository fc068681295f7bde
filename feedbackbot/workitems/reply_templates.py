"""Force-approved replies to victims (prompts/reply_templates.yaml), checked with file and line named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..flows.render import placeholder_names

#: What a reply template may say, filled from the case and the officer who sends it.
TEMPLATE_PLACEHOLDERS: Mapping[str, str] = {
    "force_name": "the police",
    "officer_name": "the officer dealing with your feedback",
    "case_reference": "your case",
    "crime_type": "the crime you reported",
    "area": "your area",
}
MAX_LENGTH = 640


class TemplateError(ValueError):
    """A reply template file has a mistake; each problem names the file, line and template."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ReplyTemplate:
    """One approved reply, in one or more languages (English always)."""

    id: str
    name: str
    texts: Mapping[str, str]

    def render(self, language: str, context: Mapping[str, str]) -> str:
        """The text in the victim's language (English otherwise) with placeholders filled."""
        text = self.texts.get(language) or self.texts["en"]
        values = {k: (context.get(k) or default) for k, default in TEMPLATE_PLACEHOLDERS.items()}
        return text.format_map(values)


def load_reply_templates(path: Path) -> dict[str, ReplyTemplate]:
    """Read and check the templates; TemplateError lists every problem with file and line."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise TemplateError([f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    problems: list[str] = []
    templates: dict[str, ReplyTemplate] = {}
    entries = _templates_node(root)
    if entries is None:
        raise TemplateError([f"{path}:1: expected a mapping with a 'templates:' list"])
    for node in entries.value:
        line = node.start_mark.line + 1
        data = yaml.safe_load(yaml.serialize(node))
        where = f"{path}:{line}"
        if not isinstance(data, dict):
            problems.append(f"{where}: each template must be a mapping with id, name and text")
            continue
        tid, name, text = data.get("id"), data.get("name"), data.get("text")
        where = f"{where}: template {tid!r}"
        if not isinstance(tid, str) or not tid.replace("_", "").isalnum():
            problems.append(f"{where}: id must be letters, digits and underscores")
            continue
        if tid in templates:
            problems.append(f"{where}: the id is used twice")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: name is missing")
        texts = {"en": text} if isinstance(text, str) else text
        if not isinstance(texts, dict) or not isinstance(texts.get("en"), str):
            problems.append(f"{where}: text must be a string or a mapping of language to text with 'en'")
            continue
        for language, body in texts.items():
            if not isinstance(body, str) or not body.strip():
                problems.append(f"{where}: text for {language} is empty")
                continue
            if len(body) > MAX_LENGTH:
                problems.append(f"{where}: text for {language} is longer than {MAX_LENGTH} characters")
            try:
                names = placeholder_names(body)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
                continue
            for unknown in sorted(set(names) - set(TEMPLATE_PLACEHOLDERS)):
                problems.append(f"{where}: unknown placeholder {{{unknown}}} in {language}; use one of "
                                f"{', '.join('{' + k + '}' for k in TEMPLATE_PLACEHOLDERS)}")
        templates[tid] = ReplyTemplate(tid, str(name).strip(), {str(k): str(v) for k, v in texts.items()})
    if problems:
        raise TemplateError(problems)
    return templates


def _templates_node(root: yaml.Node | None) -> yaml.SequenceNode | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "templates" and isinstance(value, yaml.SequenceNode):
            return value
    return None
