"""The label ids every free-text reply is tagged with, loaded from the packaged taxonomy.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

RISK_LEVEL_ORDER: tuple[str, ...] = ("none", "safeguarding", "urgent")


@dataclass(frozen=True)
class Taxonomy:
    """The four label groups: multi-label themes, one sentiment, one risk level, multi-label requests.

    Example:
        >>> t = load_taxonomy()
        >>> "praise" in t.themes and t.risk_levels == ("none", "safeguarding", "urgent")
        True
    """

    version: int
    themes: tuple[str, ...]
    sentiments: tuple[str, ...]
    risk_levels: tuple[str, ...]
    risk_categories: tuple[str, ...]
    requests: tuple[str, ...]
    descriptions: dict[str, str]


def _parse(raw: dict[str, Any]) -> Taxonomy:
    themes = raw["themes"]
    risk = raw["risk"]
    requests = raw["requests"]
    levels = tuple(risk["levels"])
    if levels != RISK_LEVEL_ORDER:
        raise ValueError(f"taxonomy.yaml: risk levels must be {RISK_LEVEL_ORDER}, got {levels}")
    descriptions: dict[str, str] = {}
    for name, body in themes.items():
        descriptions[name] = str(body["description"])
    for name, text in risk["levels"].items():
        descriptions[f"risk:{name}"] = str(text)
    for name, text in risk["categories"].items():
        descriptions[name] = str(text)
    for name, text in requests.items():
        descriptions[name] = str(text)
    return Taxonomy(
        version=int(raw["version"]),
        themes=tuple(themes),
        sentiments=tuple(raw["sentiment"]),
        risk_levels=levels,
        risk_categories=tuple(risk["categories"]),
        requests=tuple(requests),
        descriptions=descriptions,
    )


@cache
def load_taxonomy() -> Taxonomy:
    """Load the taxonomy shipped inside the package (a copy of the shared one, same ids)."""
    text = resources.files("feedbackbot.nlp").joinpath("taxonomy.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise ValueError("taxonomy.yaml: expected a mapping at the top level")
    return _parse(raw)


def risk_rank(level: str) -> int:
    """Order risk levels so that a rule can only raise one: none < safeguarding < urgent."""
    return RISK_LEVEL_ORDER.index(level)


def max_risk(a: str, b: str) -> str:
    """The higher of two risk levels."""
    return a if risk_rank(a) >= risk_rank(b) else b
