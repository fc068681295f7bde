"""Frozen value types for a classified reply and the protocol every classifier meets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SafetyCue:
    """One safety-net rule that fired: which rule, what it means, and the words that made it fire.

    ``span`` is (start, end) into the reply text and ``text`` is the matched words, so an
    officer can see why the reply was raised.
    """

    rule: str
    category: str
    level: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Classification:
    """Every tag the system gives one free-text reply, with the model version that gave it.

    ``scores`` holds the model's probability for each label, keyed ``group:label``
    (``theme:praise``, ``sentiment:negative``, ``risk:urgent``, ``risk_category:self_harm``,
    ``request:callback``). ``cues`` are the safety-net rules that fired; they can only have
    raised ``risk``, never lowered it.
    """

    themes: tuple[str, ...]
    sentiment: str
    risk: str
    risk_categories: tuple[str, ...]
    requests: tuple[str, ...]
    language: str
    needs_human_read: bool
    scores: Mapping[str, float]
    cues: tuple[SafetyCue, ...]
    model_version: str

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict of the tags (as written by ``feedbackbot classify``)."""
        return {
            "themes": list(self.themes),
            "sentiment": self.sentiment,
            "risk": self.risk,
            "risk_categories": list(self.risk_categories),
            "requests": list(self.requests),
            "language": self.language,
            "needs_human_read": self.needs_human_read,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "cues": [
                {"rule": c.rule, "category": c.category, "level": c.level, "text": c.text, "span": list(c.span)}
                for c in self.cues
            ],
            "model_version": self.model_version,
        }


@runtime_checkable
class Classifier(Protocol):
    """Tags replies; sync and CPU-bound, so callers on an event loop run it in an executor."""

    model_version: str

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Classify each text, in order."""
        ...
