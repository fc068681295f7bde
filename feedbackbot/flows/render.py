"""Turn a step into the words a victim sees: placeholders filled, choices numbered."""

from __future__ import annotations

import string
from collections.abc import Mapping

from .model import Step, Text

#: Placeholders a flow may use, with the fallback when the case does not say.
PLACEHOLDERS: Mapping[str, str] = {
    "force_name": "the police",
    "officer_name": "the officer in your case",
    "case_reference": "your case",
    "crime_type": "the crime you reported",
    "area": "your area",
}

#: Longest realistic values, used by the validator to check the SMS budget.
SAMPLE_CONTEXT: Mapping[str, str] = {
    "force_name": "West Midlands Police",
    "officer_name": "the officer in your case",
    "case_reference": "20/123456/25",
    "crime_type": "theft of a motor vehicle",
    "area": "Wolverhampton",
}

_FORMATTER = string.Formatter()


def placeholder_names(text: str) -> list[str]:
    """The placeholder names used in ``text``; ValueError if its braces are malformed."""
    names: list[str] = []
    for _literal, name, spec, conversion in _FORMATTER.parse(text):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"placeholder {{{name}}} must be a plain name like {{officer_name}}")
        names.append(name)
    return names


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown placeholder stays visible; the validator reports it


def fill(text: str, context: Mapping[str, str]) -> str:
    """Fill placeholders from ``context``, falling back to the documented defaults."""
    values = _Values({name: (context.get(name) or default) for name, default in PLACEHOLDERS.items()})
    try:
        return text.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return text  # malformed braces: the validator reports them; never fail a conversation over it


def render_text(text: Text, language: str, context: Mapping[str, str]) -> str:
    """A text in the victim's language (English fallback) with placeholders filled."""
    return fill(text.get(language), context)


def render_prompt(step: Step, language: str, context: Mapping[str, str]) -> str:
    """What the victim is sent for a step; choice questions list their numbered options."""
    body = render_text(step.text, language, context)
    if step.kind == "choice" and step.options:
        lines = [f"{i} {render_text(o.text, language, context)}" for i, o in enumerate(step.options, 1)]
        body = body + "\n" + "\n".join(lines)
    return body
