"""Read survey flow YAML into a Flow, checking it and naming file, line and step for every mistake."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from ..sms import count_segments, non_gsm_characters
from ..yamlnodes import Node as _Node
from ..yamlnodes import convert as _convert
from .model import (
    DEFAULT_LANGUAGE,
    QUESTION_KINDS,
    STEP_TYPES,
    Branch,
    Flow,
    Option,
    Step,
    Text,
    Timed,
)
from .render import PLACEHOLDERS, SAMPLE_CONTEXT, placeholder_names, render_prompt, render_text

SPEC_VERSION = 1
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_COMPARISON = re.compile(r"^(<=|>=|==|<|>)\s*-?\d+(\.\d+)?$|^-?\d+\s*-\s*-?\d+$")
_TOP_KEYS = {"spec", "id", "version", "name", "description", "touchpoint", "reminder", "expiry", "start", "steps"}
_STEP_KEYS = {"id", "type", "kind", "text", "next", "options", "branches", "reask", "min", "max"}


@dataclass(frozen=True)
class FlowProblem:
    """One mistake in a flow file."""

    file: str
    line: int
    step: str | None
    message: str

    def __str__(self) -> str:
        where = f"step '{self.step}': " if self.step else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class FlowError(ValueError):
    """A flow file has mistakes; ``problems`` lists each with file, line and step."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_duration(text: Any) -> timedelta | None:
    """``"30m"``, ``"4h"`` or ``"2d"`` as a timedelta; None if malformed."""
    match = _DURATION.match(str(text))
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


class _Checker:
    def __init__(self, file: str, max_segments: int) -> None:
        self.file = file
        self.max_segments = max_segments
        self.problems: list[FlowProblem] = []

    def add(self, line: int, step: str | None, message: str) -> None:
        self.problems.append(FlowProblem(self.file, line, step, message))

    def text(self, node: _Node | None, step: str | None, what: str, line: int) -> Text:
        if node is None:
            self.add(line, step, f"{what} is missing (it needs English text under 'en')")
            return Text({})
        if isinstance(node.value, str):
            node = _Node({DEFAULT_LANGUAGE: node.value}, node.line, {DEFAULT_LANGUAGE: _Node(node.value, node.line)})
        if not isinstance(node.value, dict):
            self.add(node.line, step, f"{what} must be a mapping of language codes to text")
            return Text({})
        texts: dict[str, str] = {}
        for lang, child in node.children.items():
            if not isinstance(child.value, str) or not child.value.strip():
                self.add(child.line, step, f"{what} in '{lang}' must be non-empty text")
                continue
            try:
                names = placeholder_names(child.value)
            except ValueError as exc:
                self.add(child.line, step, f"{what} in '{lang}': {exc}")
                continue
            for name in names:
                if name not in PLACEHOLDERS:
                    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                    self.add(child.line, step, f"{what} in '{lang}' uses unknown placeholder {{{name}}} "
                                               f"(known: {known})")
            texts[lang] = child.value
        if DEFAULT_LANGUAGE not in node.children:
            self.add(node.line, step, f"{what} has no English text ('en' is required as the fallback)")
        return Text(texts)


def _options(checker: _Checker, node: _Node | None, step_id: str, line: int) -> tuple[Option, ...]:
    if node is None or not isinstance(node.value, list) or len(node.items) < 2:
        checker.add(node.line if node else line, step_id, "a choice question needs at least two options")
        return ()
    options: list[Option] = []
    seen: set[str] = set()
    for item in node.items:
        oid = item.children.get("id")
        if oid is None or not isinstance(oid.value, str) or not _ID.match(oid.value):
            checker.add(item.line, step_id, "each option needs an id in lower_snake_case")
            continue
        if oid.value in seen:
            checker.add(oid.line, step_id, f"option id '{oid.value}' is used twice")
        seen.add(oid.value)
        text = checker.text(item.children.get("text"), step_id, f"option '{oid.value}' text", item.line)
        synonyms: dict[str, tuple[str, ...]] = {}
        syn = item.children.get("synonyms")
        if syn is not None:
            if isinstance(syn.value, list):
                synonyms["en"] = tuple(str(s) for s in syn.value)
            elif isinstance(syn.value, dict):
                for lang, words in syn.value.items():
                    if not isinstance(words, list):
                        checker.add(syn.children[lang].line, step_id, "synonyms must be a list per language")
                        continue
                    synonyms[str(lang)] = tuple(str(w) for w in words)
            else:
                checker.add(syn.line, step_id, "synonyms must be a list, or lists per language")
        options.append(Option(oid.value, text, synonyms))
    return tuple(options)


def _check_synonym_clashes(checker: _Checker, step: Step) -> None:
    owner: dict[tuple[str, str], str] = {}
    for option in step.options:
        words: set[tuple[str, str]] = set()
        for lang, text in option.text.by_language.items():
            words.add((lang, text.strip().casefold()))
        for lang, syns in option.synonyms.items():
            words.update((lang, s.strip().casefold()) for s in syns)
        for key in words:
            other = owner.get(key)
            if other is not None and other != option.id:
                checker.add(step.line, step.id, f"'{key[1]}' ({key[0]}) would mean both option '{other}' "
                                                f"and option '{option.id}'")
            owner[key] = option.id


def _branches(checker: _Checker, node: _Node | None, step_id: str, kind: str | None) -> tuple[Branch, ...]:
    if node is None:
        return ()
    if not isinstance(node.value, list):
        checker.add(node.line, step_id, "branches must be a list of {when, next}")
        return ()
    out: list[Branch] = []
    for item in node.items:
        when, nxt = item.children.get("when"), item.children.get("next")
        if when is None or nxt is None or not isinstance(nxt.value, str):
            checker.add(item.line, step_id, "each branch needs 'when' and 'next'")
            continue
        when_text = str(when.value).strip() if not isinstance(when.value, bool) else ("yes" if when.value else "no")
        out.append(Branch(when_text, nxt.value, item.line))
    return tuple(out)


def _check_branch_conditions(checker: _Checker, step: Step) -> None:
    option_ids = {o.id for o in step.options}
    for branch in step.branches:
        when = branch.when
        if when == "skipped":
            continue
        ok = {
            "yes_no": when in {"yes", "no"},
            "choice": when in option_ids,
            "scale": bool(_COMPARISON.match(when)),
            "number": bool(_COMPARISON.match(when)),
            "text": False,
        }.get(step.kind or "", False)
        if not ok:
            expected = {
                "yes_no": "'yes', 'no' or 'skipped'",
                "choice": "an option id (" + ", ".join(sorted(option_ids)) + ") or 'skipped'",
                "scale": "a comparison such as '<= 2', '>= 4', '3-4' or 'skipped'",
                "number": "a comparison such as '<= 2', '>= 4', '3-4' or 'skipped'",
                "text": "'skipped' (a free-text answer has no other condition)",
            }.get(step.kind or "", "a condition")
            checker.add(branch.line, step.id, f"branch condition '{when}' does not fit a {step.kind} question; "
                                              f"expected {expected}")


def _parse_step(checker: _Checker, node: _Node) -> Step | None:
    if not isinstance(node.value, dict):
        checker.add(node.line, None, "each step must be a mapping with at least id and type")
        return None
    sid_node = node.children.get("id")
    sid = sid_node.value if sid_node is not None else None
    if not isinstance(sid, str) or not _ID.match(sid):
        checker.add(node.line, None, "step needs an id in lower_snake_case (letters, digits, underscores)")
        return None
    for key, child in node.children.items():
        if key not in _STEP_KEYS:
            checker.add(child.line, sid, f"unknown key '{key}' (allowed: {', '.join(sorted(_STEP_KEYS))})")
    type_node = node.children.get("type")
    stype = type_node.value if type_node is not None else None
    if stype not in STEP_TYPES:
        checker.add(type_node.line if type_node else node.line, sid,
                    f"type must be one of {', '.join(STEP_TYPES)}, got {stype!r}")
        return None
    kind = None
    if stype == "question":
        kind_node = node.children.get("kind")
        kind = kind_node.value if kind_node is not None else None
        if kind not in QUESTION_KINDS:
            checker.add(kind_node.line if kind_node else node.line, sid,
                        f"question kind must be one of {', '.join(QUESTION_KINDS)}, got {kind!r}")
            return None
    elif "kind" in node.children:
        checker.add(node.children["kind"].line, sid, f"a {stype} step has no kind")
    text = checker.text(node.children.get("text"), sid, "text", node.line)
    reask_node = node.children.get("reask")
    reask = checker.text(reask_node, sid, "reask", node.line) if reask_node is not None else None
    next_node = node.children.get("next")
    nxt = next_node.value if next_node is not None else None
    if nxt is not None and not isinstance(nxt, str):
        checker.add(next_node.line if next_node else node.line, sid, "next must be a step id")
        nxt = None
    if stype == "end" and nxt is not None:
        checker.add(next_node.line if next_node else node.line, sid, "an end step has no next")
        nxt = None
    if stype != "end" and nxt is None:
        checker.add(node.line, sid, f"a {stype} step needs 'next' (the step that follows)")
    options = _options(checker, node.children.get("options"), sid, node.line) if kind == "choice" else ()
    if kind != "choice" and "options" in node.children:
        checker.add(node.children["options"].line, sid, "only a choice question has options")
    low, high = 1, 5
    for key in ("min", "max"):
        bound = node.children.get(key)
        if bound is None:
            continue
        if kind != "scale" or not isinstance(bound.value, int) or isinstance(bound.value, bool):
            checker.add(bound.line, sid, f"'{key}' is a whole number, and only for scale questions")
            continue
        if key == "min":
            low = bound.value
        else:
            high = bound.value
    if kind == "scale" and not low < high:
        checker.add(node.line, sid, f"scale min ({low}) must be below max ({high})")
    branches = _branches(checker, node.children.get("branches"), sid, kind)
    if branches and stype != "question":
        checker.add(node.children["branches"].line, sid, "only a question has branches")
    step = Step(sid, stype, text, nxt, kind, options, branches, reask, low, high, node.line)
    if kind in {"choice", "yes_no", "scale", "number", "text"}:
        _check_branch_conditions(checker, step)
    if kind == "choice":
        _check_synonym_clashes(checker, step)
    return step


def _timed(checker: _Checker, node: _Node | None, what: str) -> Timed | None:
    if node is None:
        return None
    if not isinstance(node.value, dict):
        checker.add(node.line, None, f"{what} must be a mapping with 'after' and 'text'")
        return None
    after_node = node.children.get("after")
    after = parse_duration(after_node.value) if after_node is not None else None
    if after is None or after <= timedelta(0):
        checker.add(after_node.line if after_node else node.line, None,
                    f"{what} 'after' must be a duration such as 30m, 24h or 3d")
        after = timedelta(days=1)
    text = checker.text(node.children.get("text"), None, f"{what} text", node.line)
    return Timed(after, text)


def _successors(step: Step) -> list[str]:
    out = [b.next for b in step.branches]
    if step.next is not None:
        out.append(step.next)
    return out


def _check_graph(checker: _Checker, steps: Mapping[str, Step], start: str) -> None:
    for step in steps.values():
        for target in _successors(step):
            if target not in steps:
                checker.add(step.line, step.id, f"goes to unknown step '{target}'")
    if start not in steps:
        return
    reachable: set[str] = set()
    todo = [start]
    while todo:
        sid = todo.pop()
        if sid in reachable or sid not in steps:
            continue
        reachable.add(sid)
        todo.extend(_successors(steps[sid]))
    for step in steps.values():
        if step.id not in reachable:
            checker.add(step.line, step.id, f"cannot be reached from the start step '{start}'")
    # Steps from which some path reaches an end step; a loop without one traps the victim.
    can_end = {s.id for s in steps.values() if s.type == "end"}
    changed = True
    while changed:
        changed = False
        for step in steps.values():
            if step.id not in can_end and any(t in can_end for t in _successors(step)):
                can_end.add(step.id)
                changed = True
    if not any(s.type == "end" for s in steps.values()):
        checker.add(1, None, "the flow has no end step")
        return
    for sid in sorted(reachable - can_end, key=lambda s: steps[s].line):
        checker.add(steps[sid].line, sid, "is in a loop with no way out: no path from here reaches an end step")
    # A cycle of message steps alone would send messages forever without waiting for the victim.
    for step in steps.values():
        seen: set[str] = set()
        current: Step | None = step
        while current is not None and current.type == "message" and current.next in steps:
            if current.id in seen:
                checker.add(step.line, step.id, "is in a loop of message steps that never waits for a reply")
                break
            seen.add(current.id)
            current = steps.get(current.next or "")


def _check_sms_budget(checker: _Checker, flow: Flow, context: Mapping[str, str]) -> None:
    def check(text: str, line: int, step: str | None, lang: str, what: str) -> None:
        count = count_segments(text)
        if lang == DEFAULT_LANGUAGE and count.encoding != "GSM-7":
            chars = " ".join(repr(c) for c in non_gsm_characters(text))
            checker.add(line, step, f"{what} in 'en' has characters outside GSM-7 ({chars}); they make the SMS "
                                    "cost twice as much: use plain quotes and dashes")
        if count.segments > checker.max_segments:
            checker.add(line, step, f"{what} in '{lang}' is {count.segments} SMS segments ({count.encoding}, "
                                    f"{count.units} characters); at most {checker.max_segments} allowed")

    for step in flow.steps.values():
        for lang in step.text.by_language:
            check(render_prompt(step, lang, context), step.line, step.id, lang, "the message")
        if step.reask is not None:
            for lang in step.reask.by_language:
                check(render_text(step.reask, lang, context), step.line, step.id, lang, "the re-ask")
    for what, timed in (("reminder", flow.reminder), ("expiry", flow.expiry)):
        if timed is not None:
            for lang in timed.text.by_language:
                check(render_text(timed.text, lang, context), 1, None, lang, f"the {what}")


def parse_flow(source: str, file: str, *, max_segments: int = 2,
               context: Mapping[str, str] = SAMPLE_CONTEXT) -> Flow:
    """Parse and check flow YAML; raise FlowError listing every problem found."""
    checker = _Checker(file, max_segments)
    try:
        document = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise FlowError([FlowProblem(file, line, None, f"not valid YAML: {problem}")]) from None
    if document is None or not isinstance(document, yaml.MappingNode):
        raise FlowError([FlowProblem(file, 1, None, "a flow file must be a YAML mapping (spec, id, steps…)")])
    root = _convert(document)
    for key, child in root.children.items():
        if key not in _TOP_KEYS:
            checker.add(child.line, None, f"unknown key '{key}' (allowed: {', '.join(sorted(_TOP_KEYS))})")
    spec = root.value.get("spec")
    if spec != SPEC_VERSION:
        checker.add(root.children["spec"].line if "spec" in root.children else 1, None,
                    f"spec must be {SPEC_VERSION}, got {spec!r}")
    flow_id = root.value.get("id")
    if not isinstance(flow_id, str) or not _ID.match(flow_id):
        checker.add(root.children["id"].line if "id" in root.children else 1, None,
                    "id must be lower_snake_case")
        flow_id = "invalid"
    elif Path(file).suffix in {".yaml", ".yml"} and Path(file).stem != flow_id:
        checker.add(root.children["id"].line, None, f"id '{flow_id}' must match the file name '{Path(file).stem}'")
    version = root.value.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        checker.add(root.children["version"].line if "version" in root.children else 1, None,
                    "version must be a whole number from 1 up")
        version = 1
    name = root.value.get("name")
    if not isinstance(name, str) or not name.strip():
        checker.add(1, None, "name is required")
        name = flow_id
    reminder = _timed(checker, root.children.get("reminder"), "reminder")
    expiry = _timed(checker, root.children.get("expiry"), "expiry")
    if expiry is None:
        checker.add(1, None, "expiry is required: say when the survey closes and what the last message is")
    steps_node = root.children.get("steps")
    steps: dict[str, Step] = {}
    if steps_node is None or not isinstance(steps_node.value, list) or not steps_node.items:
        checker.add(steps_node.line if steps_node else 1, None, "steps must be a non-empty list")
    else:
        for item in steps_node.items:
            step = _parse_step(checker, item)
            if step is None:
                continue
            if step.id in steps:
                checker.add(step.line, step.id, f"step id '{step.id}' is used twice (first on line "
                                                f"{steps[step.id].line})")
                continue
            steps[step.id] = step
    start_node = root.children.get("start")
    first = next(iter(steps), "")
    start = start_node.value if start_node is not None else first
    if steps and start not in steps:
        checker.add(start_node.line if start_node else 1, None, f"start names unknown step '{start}'")
    _check_graph(checker, steps, str(start))
    touchpoint = root.value.get("touchpoint")
    flow = Flow(
        id=flow_id,
        version=int(version),
        name=str(name),
        start=str(start),
        steps=steps,
        touchpoint=str(touchpoint) if touchpoint else None,
        description=str(root.value.get("description") or ""),
        reminder=reminder,
        expiry=expiry,
        source_name=file,
    )
    _check_sms_budget(checker, flow, context)
    if checker.problems:
        raise FlowError(sorted(checker.problems, key=lambda p: (p.line, p.message)))
    return flow


@dataclass(frozen=True)
class FlowSource:
    """A flow file's text, parsed flow and content hash."""

    flow: Flow
    source: str
    sha256: str
    path: Path


def load_flow_file(path: Path, *, max_segments: int = 2, context: Mapping[str, str] = SAMPLE_CONTEXT) -> FlowSource:
    """Read, parse and check one flow file."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([FlowProblem(str(path), 1, None, f"cannot read: {exc}")]) from None
    flow = parse_flow(source, str(path), max_segments=max_segments, context=context)
    return FlowSource(flow, source, hashlib.sha256(source.encode("utf-8")).hexdigest(), path)


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """Every .yaml/.yml file named, or inside a named folder, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"}))
        else:
            found.append(path)
    return found


def load_flows(
    folder: Path, *, max_segments: int = 2, context: Mapping[str, str] = SAMPLE_CONTEXT
) -> dict[str, FlowSource]:
    """Load every flow in ``folder``; raise FlowError with every problem in every file."""
    problems: list[FlowProblem] = []
    flows: dict[str, FlowSource] = {}
    for path in flow_files([folder]):
        try:
            loaded = load_flow_file(path, max_segments=max_segments, context=context)
        except FlowError as exc:
            problems.extend(exc.problems)
            continue
        if loaded.flow.id in flows:
            problems.append(FlowProblem(str(path), 1, None, f"flow id '{loaded.flow.id}' is also used by "
                                                           f"{flows[loaded.flow.id].path}"))
            continue
        flows[loaded.flow.id] = loaded
    if problems:
        raise FlowError(problems)
    return flows
