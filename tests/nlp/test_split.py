"""The held-out split: deterministic, stratified, and sticky when replies are added to the corpus."""

from __future__ import annotations

import json
from pathlib import Path

from feedbackbot.nlp.data import load_corpus, split_heldout
from feedbackbot.nlp.evaluation import corpus_split
from feedbackbot.nlp.train import TrainConfig, make_splits

ROOT = Path(__file__).resolve().parents[2]
THEMES = ["praise", "updates_and_information", "contact_and_response", "court_and_witness_care"]


def _reply(n: int) -> dict[str, object]:
    return {
        "id": f"t-{n:04d}", "text": f"reply number {n}", "themes": [THEMES[n % 4]],
        "sentiment": ["positive", "negative", "neutral"][n % 3], "risk": "none", "risk_categories": [],
        "requests": [], "language": "en", "touchpoint": "six_week_checkin",
    }


def _write(path: Path, replies: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in replies), encoding="utf-8")


def test_adding_replies_never_moves_an_old_one_across_the_split(tmp_path: Path) -> None:
    corpus, split = tmp_path / "corpus", tmp_path / "split"
    corpus.mkdir()
    _write(corpus / "a.jsonl", [_reply(n) for n in range(200)])
    config = TrainConfig(corpus=corpus, split_dir=split)
    first = make_splits(config, lambda _: None)
    held_before = {e.id for e in first.held}
    assert 30 <= len(held_before) <= 50  # about a fifth

    _write(corpus / "b.jsonl", [_reply(n) for n in range(200, 300)])
    second = make_splits(config, lambda _: None)
    held_after = {e.id for e in second.held}
    assert held_before <= held_after
    assert not held_before & {e.id for e in second.train}
    new_held = held_after - held_before
    assert 10 <= len(new_held) <= 30  # the new replies are split too, about a fifth of them
    # Evaluation reads the recorded split: every reply not trained on is held-out.
    _, held = corpus_split(corpus, split)
    assert {e.id for e in held} == held_after

    # Without the sticky rule the same corpus would have been re-cut: many old replies change side.
    examples, _ = load_corpus(corpus)
    _, recut = split_heldout(examples)
    assert len(held_before - recut) > 5


def test_the_shipped_split_is_the_recorded_one() -> None:
    examples, problems = load_corpus(ROOT / "data" / "corpus")
    assert not problems
    recorded = (ROOT / "data" / "split" / "heldout_ids.txt").read_text(encoding="utf-8").split()
    train = (ROOT / "data" / "split" / "train_ids.txt").read_text(encoding="utf-8").split()
    assert {e.id for e in examples} == set(recorded) | set(train)
    assert not set(recorded) & set(train)
