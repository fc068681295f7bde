"""Round 9 probe: variants of the lexical risk head judged on out-of-fold halves (training replies only).

Run from the repository root on round 8's data/oof (before round 9's training) for the committed
.out file; on a later data/oof it measures that round's folds instead."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from feedbackbot.nlp import cutoffs
from feedbackbot.nlp.cutoffs import RiskRule, compare_rules
from feedbackbot.nlp.data import Example
from feedbackbot.nlp.lexical import LexicalHeads
from feedbackbot.nlp.model import urgent_scores
from feedbackbot.nlp.riskhead import glossed
from feedbackbot.nlp.taxonomy import load_taxonomy

_spec = importlib.util.spec_from_file_location("oof_shares", Path(__file__).resolve().parent / "oof_shares.py")
assert _spec is not None and _spec.loader is not None
oof_shares = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oof_shares)

COLS = ("urgent", "any_risk", "danger", "self_harm")


def rows(examples: Sequence[Example]) -> list[tuple[str, ...]]:
    out = []
    for e in examples:
        r: list[str] = []
        if e.risk == "urgent":
            r.append("urgent")
            if "immediate_danger" in e.risk_categories:
                r.append("danger")
            if "self_harm" in e.risk_categories:
                r.append("self_harm")
        if e.risk != "none":
            r.append("any_risk")
        out.append(tuple(r))
    return out


def oof(ex: list[Example], texts: list[str], folds: np.ndarray) -> np.ndarray:
    out = np.zeros((len(ex), len(COLS)), dtype=np.float32)
    for k in range(4):
        fit = np.flatnonzero(folds != k)
        left = np.flatnonzero(folds == k)
        head = LexicalHeads.fit([texts[i] for i in fit], {"risk": rows([ex[i] for i in fit])}, {"risk": COLS})
        out[left] = head.probabilities([texts[i] for i in left])["risk"]
    return out


def main() -> None:
    """Print the mean recall/precision on 25 halvings of each variant (model alone, one cut-off)."""
    pooled, ex, langs, gold, english, net = oof_shares.out_of_fold_replies()
    folds = pooled.fold.astype(int)
    base = urgent_scores(pooled.encoder, load_taxonomy(), "risk")
    variants: dict[str, np.ndarray] = {}
    for c in [float(x) for x in sys.argv[1:]] or [10.0]:
        import sklearn.linear_model as lm  # type: ignore[import-untyped]  # LexicalHeads.fit imports from here
        real = lm.LogisticRegression

        def patched(*a: object, _c: float = c, _real: type = real, **kw: object) -> object:
            kw["C"] = _c
            return _real(*a, **kw)

        lm.LogisticRegression = patched
        p = oof(ex, glossed([e.text for e in ex], langs), folds)
        lm.LogisticRegression = real
        variants[f"C={c} urgent"] = p[:, 0]
        variants[f"C={c} max(danger,self_harm)"] = np.maximum(p[:, 2], p[:, 3])
        variants[f"C={c} mean(urgent,max)"] = (p[:, 0] + np.maximum(p[:, 2], p[:, 3])) / 2
    cutoffs.URGENT_RULES = tuple(RiskRule("risk", False, s) for s in (0.4, 0.6, 0.8))
    print(f"{len(ex)} out-of-fold replies, {int(gold.sum())} urgent")
    for name, lex in variants.items():
        got = compare_rules({"risk": base, "lexical": lex}, gold, english, net, cutoffs.URGENT_PRECISION_GOAL)
        for rule, res in got.items():
            print(f"{name:32s} {rule.name:28s} recall {res.recall:.3f} precision {res.precision:.3f} "
                  f"other {res.recall_other:.3f}/{res.precision_other:.3f}")


if __name__ == "__main__":
    main()
