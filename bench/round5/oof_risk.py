"""Out-of-fold look at the urgent scores: average precision by language group, encoder and lexical risk head.

Usage (from the repository root, after ``feedbackbot train`` has filled data/oof for this corpus):
    python bench/round5/oof_risk.py

Training replies only (held-out replies take no part). Prints, for English and for the other
languages, the average precision of urgent against the rest for the encoder's scores, for the
lexical risk head reading the raw reply and the glossed reply (both fitted per fold), and for
blends; then the safety net's urgent recall and false alarms on the same replies (optimistic for
replies its rules were written from).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score  # type: ignore[import-untyped]

from feedbackbot.nlp.cutoffs import net_raises_to_urgent
from feedbackbot.nlp.data import Example, assign_folds
from feedbackbot.nlp.folds import OutOfFold, fingerprint, fold_file
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.lexical import LexicalHeads
from feedbackbot.nlp.model import urgent_scores
from feedbackbot.nlp.riskhead import RISK_COLUMNS, RISK_GROUP, out_of_fold_risk, risk_rows
from feedbackbot.nlp.taxonomy import load_taxonomy
from feedbackbot.nlp.train import TrainConfig, make_splits

ROOT = Path(__file__).resolve().parents[2]


def _raw_oof(examples: list[Example], folds: list[int]) -> np.ndarray:
    out = np.zeros(len(examples), dtype=np.float32)
    for k in sorted(set(folds)):
        fit = [e for e, f in zip(examples, folds, strict=True) if f != k]
        left = [i for i, f in enumerate(folds) if f == k]
        head = LexicalHeads.fit([e.text for e in fit], {RISK_GROUP: risk_rows(fit)}, {RISK_GROUP: RISK_COLUMNS})
        out[left] = head.probabilities([examples[i].text for i in left])[RISK_GROUP][:, 0]
    return out


def main() -> None:
    """Print the table."""
    config = TrainConfig(corpus=ROOT / "data" / "corpus", split_dir=ROOT / "data" / "split",
                         oof_dir=ROOT / "data" / "oof")
    train = make_splits(config, lambda _: None, record=False).train
    fp = fingerprint(config.recipe(), train, assign_folds(train, config.folds))
    parts = [OutOfFold.load(fold_file(config.oof_dir, k), fp) for k in range(config.folds)]
    if any(p is None for p in parts):
        raise SystemExit("data/oof does not match data/corpus: run `feedbackbot train` first")
    oof = OutOfFold.pool([p for p in parts if p is not None])
    by_id = {e.id: e for e in train}
    examples = [by_id[i] for i in oof.ids]
    langs = [detect_language(e.text) for e in examples]
    folds = [int(f) for f in oof.fold]
    tax = load_taxonomy()
    gold = np.array([e.risk == "urgent" for e in examples])
    english = np.array([lang == "en" for lang in langs])
    glossed = out_of_fold_risk(examples, langs, folds)[:, 0]
    scores = {f"encoder {k}": urgent_scores(oof.encoder, tax, k) for k in ("risk", "categories", "mean")}
    scores["lexical, raw reply"] = _raw_oof(examples, folds)
    scores["lexical, glossed reply"] = glossed
    for share in (0.2, 0.4, 0.6):
        scores[f"mean + {share} lexical (glossed)"] = (1 - share) * scores["encoder mean"] + share * glossed
    print(f"{len(examples)} training replies out of fold, {int(gold.sum())} urgent "
          f"({int(gold[english].sum())} English, {int(gold[~english].sum())} other)")
    print(f"{'urgent score':<34}{'AP all':>9}{'English':>9}{'other':>9}")
    for name, s in scores.items():
        cells = [average_precision_score(gold[m], s[m]) for m in (np.ones_like(gold), english, ~english)]
        print(f"{name:<34}" + "".join(f"{c:>9.3f}" for c in cells))
    net = net_raises_to_urgent([e.text for e in examples], langs)
    for name, m in (("English", english), ("other", ~english)):
        print(f"safety net alone, {name}: urgent recall {int((net & gold & m).sum())}/{int((gold & m).sum())}, "
              f"false urgent {int((net & ~gold & m).sum())}/{int((~gold & m).sum())}")


if __name__ == "__main__":
    main()
