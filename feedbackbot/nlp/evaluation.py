"""Held-out evaluation of a classifier beside the TF-IDF baseline, as ``feedbackbot evaluate`` prints it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from feedbackbot.nlp.baseline import TfidfBaseline
from feedbackbot.nlp.data import CorpusError, Example, load_corpus, read_jsonl, split_heldout
from feedbackbot.nlp.metrics import Labels, Report, evaluate_labels, format_report, headline, missed_targets
from feedbackbot.nlp.taxonomy import load_taxonomy
from feedbackbot.nlp.types import Classifier


def gold_labels(examples: Sequence[Example]) -> Labels:
    """The gold labels of ``examples`` in the metrics' shape."""
    return Labels(
        [e.themes for e in examples],
        [e.sentiment for e in examples],
        [e.risk for e in examples],
        [e.risk_categories for e in examples],
        [e.requests for e in examples],
    )


def predicted_labels(classifier: Classifier, examples: Sequence[Example]) -> Labels:
    """Run ``classifier`` over ``examples`` and collect its labels."""
    results = classifier.classify([e.text for e in examples])
    return Labels(
        [r.themes for r in results],
        [r.sentiment for r in results],
        [r.risk for r in results],
        [r.risk_categories for r in results],
        [r.requests for r in results],
    )


def read_split(split_dir: Path) -> tuple[set[str], set[str]] | None:
    """The (train, held-out) ids that ``feedbackbot train`` recorded, if it has."""
    train, held = split_dir / "train_ids.txt", split_dir / "heldout_ids.txt"
    if not (train.is_file() and held.is_file()):
        return None

    def ids(path: Path) -> set[str]:
        return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}

    return ids(train), ids(held)


def write_split(split_dir: Path, train: set[str], held: set[str]) -> None:
    """Record the split, one id a line, so later evaluation never scores a reply trained on."""
    split_dir.mkdir(parents=True, exist_ok=True)
    (split_dir / "train_ids.txt").write_text("".join(f"{i}\n" for i in sorted(train)), encoding="utf-8")
    (split_dir / "heldout_ids.txt").write_text("".join(f"{i}\n" for i in sorted(held)), encoding="utf-8")


def corpus_split(corpus: Path, split_dir: Path) -> tuple[list[Example], list[Example]]:
    """(train, held-out) examples. With a recorded split, held-out is every reply not trained on."""
    examples, _ = load_corpus(corpus)
    recorded = read_split(split_dir)
    if recorded is None:
        train_ids, _ = split_heldout(examples)
    else:
        train_ids = recorded[0]
    return [e for e in examples if e.id in train_ids], [e for e in examples if e.id not in train_ids]


def evaluate_examples(
    classifier: Classifier, examples: Sequence[Example], baseline_train: Sequence[Example]
) -> tuple[Report, Report]:
    """Figures for ``classifier`` and for a baseline fitted on ``baseline_train``, on ``examples``."""
    tax = load_taxonomy()
    gold = gold_labels(examples)
    model = evaluate_labels(gold, predicted_labels(classifier, examples), tax)
    base = TfidfBaseline(tax).fit(baseline_train)
    baseline = evaluate_labels(gold, base.predict([e.text for e in examples]), tax)
    return model, baseline


def evaluate_file(
    classifier: Classifier, file: Path | None, corpus: Path, split_dir: Path, as_json: bool = False
) -> tuple[str, bool]:
    """Evaluate on ``file`` (or the held-out split); return the printed text and whether targets are met."""
    train, held = corpus_split(corpus, split_dir)
    problems: list[str] = []
    if file is None:
        examples = held
        source = f"held-out split of {corpus}"
    else:
        examples, problems = read_jsonl(file)
        source = str(file)
        trained = {e.id for e in train} & {e.id for e in examples}
        if trained:
            problems.append(f"warning: {len(trained)} replies in {file} are in the training split")
    if not examples:
        raise CorpusError(f"no labelled replies to evaluate in {source}")
    model, baseline = evaluate_examples(classifier, examples, train)
    ok = not missed_targets(model)
    if as_json:
        payload = {
            "source": source,
            "model_version": classifier.model_version,
            "model": model.to_json(),
            "baseline": baseline.to_json(),
            "headline": {"model": headline(model), "baseline": headline(baseline)},
            "problems": problems,
        }
        return json.dumps(payload, indent=2), ok
    text = "\n".join(
        [
            f"source: {source}",
            f"model: {classifier.model_version}   baseline: {TfidfBaseline.version}",
            *problems,
            format_report(model, baseline),
        ]
    )
    return text, ok
