"""The labelled corpus: reading and checking JSONL replies, and the deterministic held-out split."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from feedbackbot.nlp.taxonomy import Taxonomy, load_taxonomy

HELDOUT_FRACTION = 0.2
SPLIT_VERSION = 1


@dataclass(frozen=True)
class Example:
    """One labelled reply from the corpus."""

    id: str
    text: str
    themes: tuple[str, ...]
    sentiment: str
    risk: str
    risk_categories: tuple[str, ...]
    requests: tuple[str, ...]
    language: str
    touchpoint: str

    def labels(self) -> list[str]:
        """Every label this reply carries, prefixed by group, for stratifying and counting."""
        out = [f"theme:{t}" for t in self.themes]
        out.append(f"sentiment:{self.sentiment}")
        out.append(f"risk:{self.risk}")
        out += [f"risk_category:{c}" for c in self.risk_categories]
        out += [f"request:{r}" for r in self.requests]
        out.append(f"language:{self.language}")
        return out


class CorpusError(ValueError):
    """A corpus line that cannot be used, naming the file and line."""


def _tuple(value: object, where: str, field: str, allowed: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CorpusError(f"{where}: {field!r} must be a list of strings")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise CorpusError(f"{where}: unknown {field} {bad}")
    return tuple(dict.fromkeys(value))


def parse_example(obj: object, where: str, taxonomy: Taxonomy | None = None) -> Example:
    """Check one decoded JSON object against the taxonomy and build an ``Example``."""
    tax = taxonomy or load_taxonomy()
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    for key in ("id", "text", "sentiment", "risk"):
        if not isinstance(obj.get(key), str):
            raise CorpusError(f"{where}: missing or non-string {key!r}")
    if obj["sentiment"] not in tax.sentiments:
        raise CorpusError(f"{where}: unknown sentiment {obj['sentiment']!r}")
    if obj["risk"] not in tax.risk_levels:
        raise CorpusError(f"{where}: unknown risk {obj['risk']!r}")
    categories = _tuple(obj.get("risk_categories", []), where, "risk_categories", tax.risk_categories)
    if obj["risk"] == "none" and categories:
        raise CorpusError(f"{where}: risk 'none' with categories {list(categories)}")
    return Example(
        id=str(obj["id"]),
        text=str(obj["text"]),
        themes=_tuple(obj.get("themes", []), where, "themes", tax.themes),
        sentiment=str(obj["sentiment"]),
        risk=str(obj["risk"]),
        risk_categories=categories,
        requests=_tuple(obj.get("requests", []), where, "requests", tax.requests),
        language=str(obj.get("language") or "en"),
        touchpoint=str(obj.get("touchpoint") or ""),
    )


def read_jsonl(path: Path, strict: bool = False) -> tuple[list[Example], list[str]]:
    """Read labelled examples from one JSONL file; return them and the problems found.

    A bad line is reported ("file:line: reason") and skipped unless ``strict``, where it raises.
    """
    examples: list[Example] = []
    problems: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                examples.append(parse_example(json.loads(line), where))
            except (json.JSONDecodeError, CorpusError) as exc:
                msg = str(exc) if isinstance(exc, CorpusError) else f"{where}: not JSON ({exc.msg})"
                if strict:
                    raise CorpusError(msg) from exc
                problems.append(msg)
    return examples, problems


def load_corpus(corpus_dir: Path) -> tuple[list[Example], list[str]]:
    """Read every ``*.jsonl`` under ``corpus_dir`` (sorted by name); later duplicate ids are reported and dropped."""
    examples: list[Example] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in sorted(corpus_dir.glob("*.jsonl")):
        got, bad = read_jsonl(path)
        problems += bad
        for ex in got:
            if ex.id in seen:
                problems.append(f"{path}: duplicate id {ex.id!r} dropped")
                continue
            seen.add(ex.id)
            examples.append(ex)
    return examples, problems


def stable_hash(text: str) -> int:
    """A hash of a reply id that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def split_heldout(examples: Iterable[Example], fraction: float = HELDOUT_FRACTION) -> tuple[set[str], set[str]]:
    """Deterministic, stratified held-out split: returns (train ids, held-out ids).

    Each reply is put in the stratum of its rarest label (counted over the whole corpus,
    ties broken by name), so every label, including each language, has its own quota.
    Within a stratum replies are ordered by a SHA-256 hash of their id and every
    ``1/fraction``-th one is held out. Any label left with no held-out reply then moves its
    lowest-hash reply to held-out. The same corpus always gives the same split.
    """
    items = sorted(examples, key=lambda e: e.id)
    counts: Counter[str] = Counter(label for ex in items for label in ex.labels())
    strata: dict[str, list[Example]] = defaultdict(list)
    for ex in items:
        key = min(ex.labels(), key=lambda lab: (counts[lab], lab))
        strata[key].append(ex)
    held: set[str] = set()
    for key in sorted(strata):
        members = sorted(strata[key], key=lambda e: (stable_hash(e.id), e.id))
        for i, ex in enumerate(members):
            if int((i + 1) * fraction) > int(i * fraction):
                held.add(ex.id)
    for label in sorted(counts):
        having = sorted((e for e in items if label in e.labels()), key=lambda e: (stable_hash(e.id), e.id))
        if len(having) >= 2 and not any(e.id in held for e in having):
            held.add(having[0].id)
    train = {e.id for e in items} - held
    return train, held


def extend_split(
    examples: Sequence[Example], recorded: tuple[set[str], set[str]] | None
) -> tuple[set[str], set[str]]:
    """The recorded split kept as it is, with replies it has never seen split among themselves.

    ``split_heldout`` places a reply by its position among the hashes of its stratum, so adding
    replies to the corpus would move hundreds of old ones across the line, and replies the
    training side was read from (to write the safety net's rules) would turn up in held-out.
    So a reply keeps the side it was first given; the new replies are split by the same rule
    (stratified, SHA-256 of the id) as a group of their own. Without a recorded split this is
    ``split_heldout``.
    """
    if recorded is None:
        return split_heldout(examples)
    known_train, known_held = recorded
    train = {e.id for e in examples if e.id in known_train}
    held = {e.id for e in examples if e.id in known_held}
    new_train, new_held = split_heldout([e for e in examples if e.id not in train and e.id not in held])
    return train | new_train, held | new_held


def label_counts(examples: Iterable[Example]) -> Counter[str]:
    """How many replies carry each label."""
    return Counter(label for ex in examples for label in ex.labels())


def assign_folds(examples: Sequence[Example], k: int) -> dict[str, int]:
    """Deterministic, stratified k-fold assignment: reply id -> fold number (0 .. k-1).

    Replies are grouped by their rarest label as in ``split_heldout`` (counts over ``examples``);
    within a group they are ordered by the SHA-256 of their id and dealt to the folds in turn,
    one running count across groups, so every fold gets its share of each rare label and folds
    differ in size by at most one reply.
    """
    if k < 2:
        raise ValueError(f"k-fold needs at least 2 folds, not {k}")
    items = sorted(examples, key=lambda e: e.id)
    counts: Counter[str] = Counter(label for ex in items for label in ex.labels())
    strata: dict[str, list[Example]] = defaultdict(list)
    for ex in items:
        strata[min(ex.labels(), key=lambda lab: (counts[lab], lab))].append(ex)
    folds: dict[str, int] = {}
    dealt = 0
    for key in sorted(strata):
        for ex in sorted(strata[key], key=lambda e: (stable_hash(e.id), e.id)):
            folds[ex.id] = dealt % k
            dealt += 1
    return folds
