"""Round 8 out of fold: two fold files over the same training replies (same fold), side by side.

Usage (from the repository root):
    python bench/round8/oof_compare.py bench/round8/round7-fold-0.safetensors bench/round8/buried-fold-0.safetensors

Round 8 compared round 7's first fold (`data/oof/fold-0.safetensors` on the branch
classifier-2026.11.7, copied here) with the first fold of a training with buried-risk augmentation
(`TrainConfig(buried_risk=0.5)`, stopped after that fold); output in `bench/round8/oof_compare.out`.
For each file: urgent average precision of the encoder's urgent
score ("mean" of P(urgent) and the larger urgent category), the same on replies of 25 words or more,
sentiment accuracy, and themes micro-F1 at lexical share 0.6 with best-F1 cut-offs tuned on one half
of the replies and scored on the other (25 random halvings both ways). Training replies only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
from sklearn.metrics import average_precision_score  # type: ignore[import-untyped]

from feedbackbot.nlp.cutoffs import _halvings, per_label_cutoffs
from feedbackbot.nlp.data import load_corpus
from feedbackbot.nlp.folds import ENCODER_GROUPS
from feedbackbot.nlp.model import Probabilities, urgent_scores
from feedbackbot.nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]
LONG_WORDS = 25


def read_fold(path: Path) -> tuple[list[str], Probabilities, np.ndarray]:
    """A fold file's reply ids, encoder probabilities and lexical theme probabilities."""
    with safe_open(str(path), framework="numpy") as fh:
        meta = fh.metadata() or {}
    t = load_file(str(path))
    probabilities = Probabilities(*(t[f"encoder.{g}"] for g in ENCODER_GROUPS))
    return list(json.loads(meta["ids"])), probabilities, t["lexical.themes"]


def main(files: list[Path]) -> int:
    """Print the figures for each fold file."""
    tax = load_taxonomy()
    examples, _ = load_corpus(ROOT / "data" / "corpus")
    by_id = {e.id: e for e in examples}
    folds = [read_fold(f) for f in files]
    if any(ids != folds[0][0] for ids, _, _ in folds):
        print("the fold files cover different replies: not comparable", file=sys.stderr)
        return 1
    ex = [by_id[i] for i in folds[0][0]]
    urgent = np.array([e.risk == "urgent" for e in ex])
    long = np.array([len(e.text.split()) >= LONG_WORDS for e in ex])
    sentiment = np.array([tax.sentiments.index(e.sentiment) for e in ex])
    themes = np.array([[t in e.themes for t in tax.themes] for e in ex])
    halves = _halvings(len(ex), 25, 0)
    print(f"{len(ex)} training replies out of fold, {int(urgent.sum())} urgent, "
          f"{int(long.sum())} of {LONG_WORDS}+ words")
    for path, (_, p, lexical_themes) in zip(files, folds, strict=True):
        score = urgent_scores(p, tax, "mean")
        mixed = 0.4 * p.themes + 0.6 * lexical_themes
        f1s = []
        for tune, test in halves:
            pred = mixed[test] >= np.array(per_label_cutoffs(mixed[tune], themes[tune]))
            tp = float(np.sum(pred & themes[test]))
            f1s.append(2 * tp / max(1.0, float(pred.sum() + themes[test].sum())))
        print(f"== {path}\n  urgent AP {average_precision_score(urgent, score):.4f}; "
              f"on long replies {average_precision_score(urgent[long], score[long]):.4f}\n"
              f"  sentiment accuracy {np.mean(np.argmax(p.sentiment, axis=1) == sentiment):.4f}\n"
              f"  themes micro-F1 on halves {np.mean(f1s):.4f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main([Path(a) for a in sys.argv[1:]]))
