"""The lexical risk head: scored out of fold, saved beside the weights, and used by the risk decision it is given."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from feedbackbot.nlp.data import Example
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.model import META_FILE, Thresholds, decide, load_classifier, packaged_weights_dir, read_meta
from feedbackbot.nlp.riskhead import (
    RISK_COLUMNS,
    RISK_LEXICAL_FILES,
    fit_risk_head,
    glossed,
    out_of_fold_risk,
    risk_rows,
    urgent_lexical,
)
from feedbackbot.nlp.train import TrainConfig, make_splits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def training_replies() -> list[Example]:
    config = TrainConfig(corpus=ROOT / "data" / "corpus", split_dir=ROOT / "data" / "split")
    return make_splits(config, lambda _: None, record=False).train


def test_out_of_fold_scores_come_from_a_head_that_never_saw_the_reply(training_replies: list[Example]) -> None:
    replies = training_replies[:400]
    langs = [detect_language(e.text) for e in replies]
    folds = [i % 2 for i in range(len(replies))]
    oof = out_of_fold_risk(replies, langs, folds)
    assert oof.shape == (len(replies), len(RISK_COLUMNS))
    fold_one = [i for i in range(len(replies)) if folds[i] == 1]
    head = fit_risk_head([replies[i] for i in range(len(replies)) if folds[i] == 0],
                         [langs[i] for i in range(len(replies)) if folds[i] == 0])
    again = head.probabilities(glossed([replies[i].text for i in fold_one], [langs[i] for i in fold_one]))["risk"]
    assert np.allclose(oof[fold_one], again, atol=1e-6)
    # Urgent is also "any risk": a reply's P(any risk) is learnt from urgent and safeguarding replies alike.
    urgent = np.array([e.risk == "urgent" for e in replies])
    assert oof[urgent, 0].mean() > oof[~urgent, 0].mean()
    # Danger now and self-harm are learnt apart: each column scores its own replies above the other kind.
    danger = np.array(["immediate_danger" in e.risk_categories for e in replies])
    harm = np.array(["self_harm" in e.risk_categories for e in replies])
    d, h = RISK_COLUMNS.index("immediate_danger"), RISK_COLUMNS.index("self_harm")
    assert oof[danger & ~harm, d].mean() > oof[harm & ~danger, d].mean()
    assert oof[harm & ~danger, h].mean() > oof[danger & ~harm, h].mean()


def test_the_heads_urgent_score_is_the_mean_of_urgent_and_the_likelier_part() -> None:
    # Columns: urgent, any risk, danger now, self-harm.
    scores = np.array([[0.9, 0.95, 0.1, 0.8], [0.2, 0.6, 0.6, 0.1], [0.1, 0.2, 0.05, 0.05]], dtype=np.float32)
    assert np.allclose(urgent_lexical(scores), [0.85, 0.4, 0.075])
    # A head saved before round 11 (urgent and any risk only) gives its P(urgent) as it is.
    assert np.allclose(urgent_lexical(scores[:, :2]), [0.9, 0.2, 0.1])


def test_a_reply_carries_the_heads_labels_its_risk_and_categories_give(training_replies: list[Example]) -> None:
    by_kind: dict[tuple[str, tuple[str, ...]], Example] = {}
    for e in training_replies:
        by_kind.setdefault((e.risk, tuple(sorted(e.risk_categories))), e)
    rows = dict(zip(by_kind, risk_rows(list(by_kind.values())), strict=True))
    assert rows[("none", ())] == ()
    assert rows[("urgent", ("self_harm",))] == ("urgent", "any_risk", "self_harm")
    assert rows[("urgent", ("immediate_danger",))] == ("urgent", "any_risk", "immediate_danger")
    assert rows[("safeguarding", ("ongoing_abuse",))] == ("any_risk",)


def test_weights_with_a_lexical_risk_head_use_it_for_the_risk_decision(
        training_replies: list[Example], tmp_path: Path) -> None:
    weights = tmp_path / "weights"
    shutil.copytree(packaged_weights_dir(), weights)
    meta = read_meta(weights)
    base = Thresholds.from_json(meta["thresholds"])
    fit_risk_head(training_replies, [detect_language(e.text) for e in training_replies]).save(
        weights, RISK_LEXICAL_FILES)
    # The head alone decides urgent (share 1) at a cut-off no reply reaches: nothing is urgent by the model.
    meta["thresholds"] = replace(base, urgent_lexical=1.0, urgent=1.01, urgent_other=1.01).to_json()
    meta["risk_lexical"] = {"columns": list(RISK_COLUMNS)}
    (weights / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    clf = load_classifier(weights)
    texts = ["the officer was polite and kept me updated", "proszę przyjechać, on jest teraz pod drzwiami"]
    p = clf.probabilities(texts)
    assert p.lexical_risk is not None and p.lexical_risk.shape == (2, len(RISK_COLUMNS))
    head = urgent_lexical(p.lexical_risk)
    assert head[1] > head[0]
    assert all(c.risk != "urgent" or c.cues for c in clf.classify(texts))  # only the net could raise them
    # With the cut-off between the two replies' lexical scores, the head's score is what decides.
    mid = float(head.mean())
    by_head = replace(base, urgent_lexical=1.0, urgent=mid, urgent_other=mid)
    assert [decide(p, i, by_head, clf.taxonomy).risk == "urgent" for i in range(2)] == [False, True]
    assert decide(p, 1, replace(by_head, urgent_lexical=0.0, urgent_score="risk", urgent=1.01, urgent_other=1.01),
                  clf.taxonomy).risk != "urgent"
    # Weights that give the head a share but do not carry it are refused with a clear message.
    (weights / RISK_LEXICAL_FILES[0]).unlink()
    del meta["risk_lexical"]
    (weights / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match=r"lexical risk head a share of 1\.0, but it gave no scores"):
        load_classifier(weights).classify(texts[:1])
