"""The measures file (prompts/insights.yaml): which survey answers make satisfaction and the Victims' Code figures."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..flows.model import Flow

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


class InsightsConfigError(ValueError):
    """The measures file has a mistake; the message names the file, line and measure."""


@dataclass(frozen=True)
class Question:
    """One survey question feeding a measure, and which of its answers count as positive."""

    flow_id: str
    step_id: str
    kind: str
    positive: tuple[str, ...] = ()
    positive_at_least: float = 4.0


@dataclass(frozen=True)
class Measure:
    """A share of victims answering positively (and, for scales, a mean) over one or more questions."""

    id: str
    label: str
    kind: str
    questions: tuple[Question, ...]
    code: str | None = None
    positive_at_least: float = 4.0


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping (as ``__line__``)."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    data: dict[str, Any] = dict(loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]
    data["__line__"] = node.start_mark.line + 1
    return data


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def load_measures(path: Path, flows: Mapping[str, Flow]) -> tuple[Measure, ...]:
    """Read and check the measures file against the shipped flows; raise InsightsConfigError on any mistake."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - a SafeLoader
    except (OSError, yaml.YAMLError) as exc:
        raise InsightsConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("measures"), list):
        raise InsightsConfigError(f"{path}: line 1: expected a mapping with a `measures` list")
    measures: list[Measure] = []
    seen: set[str] = set()
    for raw in data["measures"]:
        line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
        where = f"{path}: line {line}"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("label"), str):
            raise InsightsConfigError(f"{where}: a measure needs an `id` and a `label`")
        mid = raw["id"]
        where = f"{where}: measure {mid}"
        if not _ID.fullmatch(mid):
            raise InsightsConfigError(f"{where}: an id is lower-case letters, digits and _ only")
        if mid in seen:
            raise InsightsConfigError(f"{where}: the id is used twice")
        seen.add(mid)
        kind = raw.get("kind", "answer")
        if kind not in {"scale", "answer"}:
            raise InsightsConfigError(f"{where}: kind must be scale or answer, got {kind!r}")
        threshold = float(raw.get("positive_at_least", 4))
        questions = tuple(_question(q, path, mid, flows, threshold) for q in raw.get("questions") or [])
        if not questions:
            raise InsightsConfigError(f"{where}: list at least one question")
        if kind == "scale" and any(q.kind != "scale" for q in questions):
            raise InsightsConfigError(f"{where}: a scale measure may only use scale questions")
        measures.append(Measure(mid, raw["label"], kind, questions, raw.get("code"), threshold))
    return tuple(measures)


def _question(raw: Any, path: Path, mid: str, flows: Mapping[str, Flow], threshold: float) -> Question:
    line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
    where = f"{path}: line {line}: measure {mid}"
    if not isinstance(raw, dict) or not isinstance(raw.get("flow"), str) or not isinstance(raw.get("step"), str):
        raise InsightsConfigError(f"{where}: a question needs `flow` and `step`")
    flow = flows.get(raw["flow"])
    if flow is None:
        raise InsightsConfigError(f"{where}: no flow {raw['flow']!r} in prompts/flows")
    step = flow.steps.get(raw["step"])
    if step is None or step.type != "question" or step.kind in (None, "text"):
        raise InsightsConfigError(f"{where}: {raw['flow']} has no rating question {raw['step']!r}")
    kind = str(step.kind)
    positive = tuple(str(p) for p in raw.get("positive") or ())
    if kind == "choice":
        options = {o.id for o in step.options}
        if not positive or not set(positive) <= options:
            raise InsightsConfigError(f"{where}: {raw['step']} is a choice; `positive` must list some of "
                                      f"{', '.join(sorted(options))}")
    elif kind == "yes_no":
        positive = positive or ("yes",)
    return Question(raw["flow"], raw["step"], kind, positive, float(raw.get("positive_at_least", threshold)))
