"""Out-of-fold cut-offs: stratified folds, a stale cache never reused, and the shipped cut-offs reproduced."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from feedbackbot.nlp import folds as folds_module
from feedbackbot.nlp.cutoffs import decide_from_oof
from feedbackbot.nlp.data import assign_folds
from feedbackbot.nlp.folds import OutOfFold, fingerprint, fold_file
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.model import Probabilities, packaged_weights_dir, read_meta
from feedbackbot.nlp.train import TrainConfig, make_splits

ROOT = Path(__file__).resolve().parents[2]


def _config() -> TrainConfig:
    return TrainConfig(corpus=ROOT / "data" / "corpus", split_dir=ROOT / "data" / "split",
                       oof_dir=ROOT / "data" / "oof")


def test_folds_are_balanced_stratified_and_do_not_depend_on_order() -> None:
    train = make_splits(_config(), lambda _: None, record=False).train
    folds = assign_folds(train, 4)
    sizes = Counter(folds.values())
    assert sorted(sizes) == [0, 1, 2, 3] and max(sizes.values()) - min(sizes.values()) <= 1
    shuffled = list(train)
    random.Random(7).shuffle(shuffled)
    assert assign_folds(shuffled, 4) == folds
    per_label: dict[str, Counter[int]] = {}
    for e in train:
        for label in e.labels():
            per_label.setdefault(label, Counter())[folds[e.id]] += 1
    for label, counts in per_label.items():
        total = sum(counts.values())
        # Each fold holds its quarter of every label, give or take a few replies.
        assert all(abs(counts[k] - total / 4) <= max(3, 0.15 * total) for k in range(4)), (label, counts)
    with pytest.raises(ValueError, match="at least 2 folds"):
        assign_folds(train, 1)


def test_a_stale_fold_cache_is_not_reused(tmp_path: Path) -> None:
    train = make_splits(_config(), lambda _: None, record=False).train[:40]
    folds = assign_folds(train, 2)
    fp = fingerprint(TrainConfig().recipe(), train, folds)
    rows = np.arange(6, dtype=np.float32).reshape(2, 3)
    oof = OutOfFold(("a", "b"), np.zeros(2, dtype=np.float32), Probabilities(rows, rows, rows, rows, rows),
                    {"themes": rows, "requests": rows})
    oof.save(fold_file(tmp_path, 0), fp)
    again = OutOfFold.load(fold_file(tmp_path, 0), fp)
    assert again is not None and again.ids == ("a", "b") and np.array_equal(again.encoder.risk, rows)
    relabelled = [replace(train[0], risk="urgent" if train[0].risk != "urgent" else "none"), *train[1:]]
    assert fingerprint(TrainConfig().recipe(), relabelled, folds) != fp
    assert fingerprint(TrainConfig(epochs=3).recipe(), train, folds) != fp
    assert fingerprint(TrainConfig(jobs=1).recipe(), train, folds) == fp  # how many run at once changes nothing
    assert OutOfFold.load(fold_file(tmp_path, 0), "another") is None
    assert OutOfFold.load(fold_file(tmp_path, 1), fp) is None


def test_a_new_glossary_makes_the_fold_cache_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder reads the glossed reply, so a glossary change must retrain the folds."""
    train = make_splits(_config(), lambda _: None, record=False).train[:40]
    folds = assign_folds(train, 2)
    fp = fingerprint(TrainConfig().recipe(), train, folds)
    monkeypatch.setattr(folds_module, "encoder_text", lambda text, language: f"{text} (in English: help)")
    assert fingerprint(TrainConfig().recipe(), train, folds) != fp


def test_the_shipped_cut_offs_come_from_the_cached_out_of_fold_predictions() -> None:
    meta = read_meta(packaged_weights_dir())
    if "out_of_fold" not in meta:
        pytest.skip(f"{meta['version']} predates out-of-fold cut-offs (its cut-offs came from a validation part)")
    config = _config()
    train = make_splits(config, lambda _: None, record=False).train
    fp = fingerprint(config.recipe(), train, assign_folds(train, config.folds))
    parts = [OutOfFold.load(fold_file(config.oof_dir, k), fp) for k in range(config.folds)]
    assert all(p is not None for p in parts), "data/oof does not match data/corpus: run `feedbackbot train`"
    oof = OutOfFold.pool([p for p in parts if p is not None])
    assert set(oof.ids) == {e.id for e in train}
    by_id = {e.id: e for e in train}
    examples = [by_id[i] for i in oof.ids]
    decisions = decide_from_oof(oof, examples, [detect_language(e.text) for e in examples], lambda _: None)
    assert decisions.thresholds.to_json() == meta["thresholds"]
    assert decisions.blend == meta["lexical"]["blend"]


def test_train_names_a_bad_part_instead_of_failing_later() -> None:
    done = subprocess.run([sys.executable, "-m", "feedbackbot.nlp.cli", "train", "--part", "fold-9"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 2
    assert "--part must be one of final, fold-0, fold-1, fold-2, fold-3" in done.stderr
    assert "Traceback" not in done.stderr
