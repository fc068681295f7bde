"""The urgent cut-off rule: the most urgent replies found at a precision floor, shared by language groups."""

from __future__ import annotations

import numpy as np
import pytest

from feedbackbot.nlp.cutoffs import (
    RiskRule,
    RuleResult,
    choose_any_share,
    choose_rule,
    joint_cutoffs,
    precision_cutoff,
)
from feedbackbot.nlp.model import Probabilities, Thresholds, decide
from feedbackbot.nlp.taxonomy import load_taxonomy


def _replies(urgent_scores: list[float], other_scores: list[float]) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array(urgent_scores + other_scores, dtype=np.float32)
    gold = np.array([True] * len(urgent_scores) + [False] * len(other_scores))
    return scores, gold


def test_the_cut_off_finds_the_most_urgent_replies_the_precision_floor_allows() -> None:
    # 10 urgent replies, 4 of them scored low; 20 others, 3 scored high.
    scores, gold = _replies([0.9] * 6 + [0.3] * 4, [0.95, 0.5, 0.35] + [0.05] * 17)
    cut = precision_cutoff(scores, gold, 0.75)
    flagged = scores >= cut
    assert float((flagged & gold).sum() / flagged.sum()) >= 0.75
    # Above 0.30 only 6 urgent are found; at 0.30 all 10 for 3 false alarms (precision 10/13 = 0.77).
    assert cut == 0.3
    # A stricter floor gives up the four low-scored urgent replies.
    assert precision_cutoff(scores, gold, 0.8) > 0.35
    # No urgent reply at all: a neutral cut-off rather than a crash.
    assert precision_cutoff(scores, np.zeros(len(gold), dtype=bool), 0.75) == 0.5


def test_a_group_the_model_reads_less_well_gets_its_own_lower_cut_off_under_one_floor() -> None:
    en_scores, en_gold = _replies([0.9] * 10, [0.4] * 2 + [0.02] * 28)
    other_scores, other_gold = _replies([0.3] * 6 + [0.9] * 2, [0.1] * 20)
    scores = np.concatenate([en_scores, other_scores])
    gold = np.concatenate([en_gold, other_gold])
    english = np.array([True] * len(en_scores) + [False] * len(other_scores))
    cut_en, cut_other = joint_cutoffs(scores, gold, english, 0.75)
    assert cut_other < 0.3 + 1e-9 < cut_en
    pred = np.where(english, scores >= cut_en, scores >= cut_other)
    assert (pred & gold).sum() == gold.sum()
    # Only one group present: both cut-offs are that group's single cut-off.
    assert joint_cutoffs(en_scores, en_gold, np.ones(len(en_scores), dtype=bool), 0.75) == (
        (precision_cutoff(en_scores, en_gold, 0.75),) * 2)


def test_a_rule_is_chosen_for_recall_only_while_its_precision_holds_and_ties_go_to_the_simpler() -> None:
    simple, richer, overfit = RiskRule("risk", False), RiskRule("categories", False), RiskRule("mean", True)

    def res(recall: float, precision: float) -> RuleResult:
        return RuleResult(recall, precision, recall, precision, recall, precision)

    assert choose_rule({simple: res(0.80, 0.75), richer: res(0.8004, 0.76), overfit: res(0.85, 0.70)}, 0.75) == simple
    assert choose_rule({simple: res(0.80, 0.75), richer: res(0.82, 0.74)}, 0.75) == richer
    assert choose_rule({simple: res(0.80, 0.60), richer: res(0.70, 0.65)}, 0.75) == richer


@pytest.mark.parametrize(("kind", "urgent"), [("risk", False), ("categories", True), ("mean", True)])
def test_the_urgent_score_named_in_the_weights_decides(kind: str, urgent: bool) -> None:
    tax = load_taxonomy()
    risk = np.array([[0.7, 0.2, 0.1]], dtype=np.float32)  # P(urgent) 0.1
    cats = np.array([[0.9, 0.1, 0.0, 0.0]], dtype=np.float32)  # P(immediate_danger) 0.9: mean 0.5
    p = Probabilities(np.zeros((1, len(tax.themes)), dtype=np.float32), np.array([[0.1, 0.7, 0.1, 0.1]], np.float32),
                      risk, cats, np.zeros((1, len(tax.requests)), dtype=np.float32))
    th = Thresholds((0.5,) * len(tax.themes), (0.5,) * len(tax.risk_categories), (0.5,) * len(tax.requests),
                    0.45, 0.9, 0.45, 0.9, kind)
    d = decide(p, 0, th, tax)
    assert (d.risk == "urgent") is urgent
    assert Thresholds.from_json(th.to_json()) == th
    with pytest.raises(ValueError, match="urgent_score must be one of risk, categories, mean"):
        Thresholds.from_json({**th.to_json(), "urgent_score": "max"})


def test_the_lexical_share_of_the_any_risk_score_is_kept_only_when_it_helps_on_halves() -> None:
    rng = np.random.default_rng(3)
    gold = rng.random(600) < 0.3
    english = rng.random(600) < 0.6
    # The encoder's score misses a third of the risky replies; the lexical score finds them.
    base = np.where(gold, rng.uniform(0.5, 1.0, 600), rng.uniform(0.0, 0.6, 600))
    base[gold & (rng.random(600) < 0.33)] = 0.05
    lexical = np.where(gold, rng.uniform(0.4, 1.0, 600), rng.uniform(0.0, 0.5, 600))
    share, f2 = choose_any_share(base, lexical, gold, english, rounds=5)
    assert share > 0 and f2[share] > f2[0.0]
    # A lexical score that is pure noise earns no share.
    share, _ = choose_any_share(np.where(gold, 0.9, 0.1), rng.random(600), gold, english, rounds=5)
    assert share == 0.0
