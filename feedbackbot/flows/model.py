"""The parsed form of a survey flow: frozen steps with per-language text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

StepType = Literal["message", "question", "end"]
QuestionKind = Literal["yes_no", "choice", "scale", "number", "text"]
QUESTION_KINDS: tuple[QuestionKind, ...] = ("yes_no", "choice", "scale", "number", "text")
STEP_TYPES: tuple[StepType, ...] = ("message", "question", "end")
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Text:
    """Text in several languages; English is the fallback."""

    by_language: Mapping[str, str]

    def get(self, language: str) -> str:
        """The text in ``language``, or English when there is none."""
        return self.by_language.get(language) or self.by_language.get(DEFAULT_LANGUAGE, "")

    def has(self, language: str) -> bool:
        """Whether this text was written in ``language`` (not a fallback)."""
        return bool(self.by_language.get(language))


@dataclass(frozen=True)
class Option:
    """One numbered option of a choice question."""

    id: str
    text: Text
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Branch:
    """Go to ``next`` when the answer matches ``when`` (see docs/flows.md for the forms)."""

    when: str
    next: str
    line: int = 0


@dataclass(frozen=True)
class Step:
    """A step of a flow: a message, a question or an end."""

    id: str
    type: StepType
    text: Text
    next: str | None = None
    kind: QuestionKind | None = None
    options: tuple[Option, ...] = ()
    branches: tuple[Branch, ...] = ()
    reask: Text | None = None
    min: int = 1
    max: int = 5
    line: int = 0

    @property
    def is_question(self) -> bool:
        """Whether the step waits for the victim's answer."""
        return self.type == "question"


@dataclass(frozen=True)
class Timed:
    """A reminder or an expiry: after how long, and what to say."""

    after: timedelta
    text: Text


@dataclass(frozen=True)
class Flow:
    """A survey flow at one version."""

    id: str
    version: int
    name: str
    start: str
    steps: Mapping[str, Step]
    touchpoint: str | None = None
    description: str = ""
    reminder: Timed | None = None
    expiry: Timed | None = None
    source_name: str = "<memory>"

    def step(self, step_id: str) -> Step:
        """The step with this id (KeyError when the flow has none; a validated flow never asks)."""
        return self.steps[step_id]

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language any text of this flow is written in, English first."""
        found: set[str] = set()
        for step in self.steps.values():
            found.update(k for k, v in step.text.by_language.items() if v)
        others = sorted(found - {DEFAULT_LANGUAGE})
        return (DEFAULT_LANGUAGE, *others)
