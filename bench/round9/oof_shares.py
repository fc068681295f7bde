"""Round 9 probe: urgent recall on out-of-fold halves for lexical risk shares beyond 0.6 (training replies only).

Run from the repository root on round 8's data/oof (before round 9's training) for the committed
.out file; on a later data/oof it measures that round's folds instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from feedbackbot.nlp import cutoffs
from feedbackbot.nlp.cutoffs import RiskRule, compare_rules, net_raises_to_urgent
from feedbackbot.nlp.data import Example, load_corpus
from feedbackbot.nlp.folds import OutOfFold, fold_file
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.model import URGENT_SCORES, urgent_scores
from feedbackbot.nlp.riskhead import out_of_fold_risk
from feedbackbot.nlp.taxonomy import load_taxonomy, risk_rank

OutOfFoldReplies = tuple[OutOfFold, list[Example], list[str], np.ndarray, np.ndarray, np.ndarray]


def out_of_fold_replies() -> OutOfFoldReplies:
    """data/oof pooled, with its training replies, their languages, gold urgent, English, and the net's urgent."""
    pooled = OutOfFold.pool([OutOfFold.read(fold_file(Path("data/oof"), k)) for k in range(4)])
    examples, _ = load_corpus(Path("data/corpus"))
    by_id = {e.id: e for e in examples}
    ex = [by_id[i] for i in pooled.ids]
    langs = [detect_language(e.text) for e in ex]
    gold = np.array([risk_rank(e.risk) >= 2 for e in ex])
    english = np.array([la == "en" for la in langs])
    return pooled, ex, langs, gold, english, net_raises_to_urgent([e.text for e in ex], langs)


def main() -> None:
    """Print each rule's mean recall/precision on 25 halvings, with shares 0.0 .. 1.0."""
    pooled, ex, langs, gold, english, net = out_of_fold_replies()
    tax = load_taxonomy()
    lexical = out_of_fold_risk(ex, langs, [int(f) for f in pooled.fold])
    scores = {kind: urgent_scores(pooled.encoder, tax, kind) for kind in URGENT_SCORES}
    scores["lexical"] = lexical[:, 0]
    cutoffs.URGENT_RULES = tuple(RiskRule(s, pl, share) for share in (0.0, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0)
                                 for pl in (False, True) for s in ("risk", "mean"))
    got = compare_rules(scores, gold, english, net, cutoffs.URGENT_PRECISION_GOAL)
    print(f"{len(ex)} out-of-fold replies, {int(gold.sum())} urgent")
    for rule, res in got.items():
        print(f"{rule.name:40s} recall {res.recall:.3f} precision {res.precision:.3f} other {res.recall_other:.3f}/"
              f"{res.precision_other:.3f} with net {res.recall_with_net:.3f}/{res.precision_with_net:.3f}")


if __name__ == "__main__":
    main()
