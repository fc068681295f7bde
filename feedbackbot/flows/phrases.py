"""Shared phrases (help, opt-out, re-asks, language menu) per language, loaded from prompts/phrases.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from .model import DEFAULT_LANGUAGE, Text
from .render import fill

REQUIRED = (
    "help",
    "opted_out",
    "opted_in",
    "reask_yes_no",
    "reask_choice",
    "reask_scale",
    "reask_number",
    "reask_text",
    "language_menu",
    "language_changed",
    "no_survey",
)


class PhrasesError(ValueError):
    """The phrases file is missing a phrase or its English text."""


@dataclass(frozen=True)
class Phrases:
    """Every shared phrase, each with per-language text and English fallback."""

    texts: Mapping[str, Text]

    def say(self, key: str, language: str, context: Mapping[str, str], **extra: object) -> str:
        """The phrase ``key`` in ``language`` with case placeholders and ``extra`` values filled."""
        template = self.texts[key].get(language)
        for name, value in extra.items():
            template = template.replace("{" + name + "}", str(value))
        return fill(template, context)

    @classmethod
    def load(cls, path: Path) -> Phrases:
        """Read and check ``phrases.yaml``."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise PhrasesError(f"{path}: expected a mapping of phrase names to texts")
        texts: dict[str, Text] = {}
        for key, value in data.items():
            if not isinstance(value, dict) or not value.get(DEFAULT_LANGUAGE):
                raise PhrasesError(f"{path}: phrase {key!r} needs English text under 'en'")
            texts[str(key)] = Text({str(k): str(v) for k, v in value.items()})
        missing = [k for k in REQUIRED if k not in texts]
        if missing:
            raise PhrasesError(f"{path}: missing phrases: {', '.join(missing)}")
        return cls(texts)
