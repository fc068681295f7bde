"""Round 8 out of fold: two sets of fold predictions over the same training replies and folds, side by side.

Usage (from the repository root, after `feedbackbot train` has written data/oof):
    mkdir -p /tmp/oof7 && git archive classifier-2026.11.7 data/oof | tar -x -C /tmp/oof7
    python bench/round8/oof_compare.py /tmp/oof7/data/oof data/oof

For each: urgent average precision of the encoder's urgent score alone ("mean" of P(urgent) and the
urgent categories) and with the lexical risk head at 0.4 (the shipped rule's share); urgent recall
at precision >= 0.78 with cut-offs tuned on one half and scored on the other (25 random halvings both
ways); themes and requests micro-F1 on halvings at lexical share 0.6; sentiment accuracy. Training
replies only: the held-out split is not read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
from sklearn.metrics import average_precision_score  # type: ignore[import-untyped]

from feedbackbot.nlp.cutoffs import _detect, _halvings, per_label_cutoffs, precision_cutoff
from feedbackbot.nlp.data import load_corpus
from feedbackbot.nlp.folds import ENCODER_GROUPS, OutOfFold
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.lexical import GROUPS as LEXICAL_GROUPS
from feedbackbot.nlp.model import Probabilities, urgent_scores
from feedbackbot.nlp.riskhead import out_of_fold_risk
from feedbackbot.nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]


def read_oof(oof_dir: Path) -> OutOfFold:
    """All folds in ``oof_dir``, pooled (the fingerprint is not checked: both sides are read as they are)."""
    parts = []
    for path in sorted(oof_dir.glob("fold-*.safetensors")):
        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
        t = load_file(str(path))
        parts.append(OutOfFold(tuple(json.loads(meta["ids"])), t["fold"],
                               Probabilities(*(t[f"encoder.{g}"] for g in ENCODER_GROUPS)),
                               {g: t[f"lexical.{g}"] for g in LEXICAL_GROUPS}))
    return OutOfFold.pool(parts)


def main(dirs: list[Path]) -> int:
    """Print the figures for each set of fold predictions."""
    tax = load_taxonomy()
    examples, _ = load_corpus(ROOT / "data" / "corpus")
    by_id = {e.id: e for e in examples}
    oofs = [read_oof(d) for d in dirs]
    if any(o.ids != oofs[0].ids or not np.array_equal(o.fold, oofs[0].fold) for o in oofs):
        print("the fold predictions cover different replies or folds: not comparable", file=sys.stderr)
        return 1
    ex = [by_id[i] for i in oofs[0].ids]
    languages = [detect_language(e.text) for e in ex]
    lexical_risk = out_of_fold_risk(ex, languages, [int(f) for f in oofs[0].fold])[:, 0]
    urgent = np.array([e.risk == "urgent" for e in ex])
    gold = {"themes": np.array([[t in e.themes for t in tax.themes] for e in ex]),
            "requests": np.array([[r in e.requests for r in tax.requests] for e in ex])}
    sentiment = np.array([tax.sentiments.index(e.sentiment) for e in ex])
    halves = _halvings(len(ex), 25, 0)
    print(f"{len(ex)} training replies out of fold, {int(urgent.sum())} urgent")
    for d, oof in zip(dirs, oofs, strict=True):
        score = urgent_scores(oof.encoder, tax, "mean")
        mixed = 0.6 * score + 0.4 * lexical_risk
        got = []
        for tune, test in halves:
            cut = precision_cutoff(mixed[tune], urgent[tune], 0.78)
            got.append(_detect(mixed[test] >= cut, urgent[test]))
        precision, recall = np.mean(np.array(got), axis=0)
        line = [f"urgent AP {average_precision_score(urgent, score):.4f} (with lexical {average_precision_score(urgent, mixed):.4f})",
                f"recall at 0.78 on halves {recall:.4f} (precision {precision:.4f})"]
        for g in LEXICAL_GROUPS:
            p = 0.4 * getattr(oof.encoder, g) + 0.6 * oof.lexical[g]
            f1s = []
            for tune, test in halves:
                pred = p[test] >= np.array(per_label_cutoffs(p[tune], gold[g][tune]))
                tp = float(np.sum(pred & gold[g][test]))
                f1s.append(2 * tp / max(1.0, float(pred.sum() + gold[g][test].sum())))
            line.append(f"{g} micro-F1 on halves {np.mean(f1s):.4f}")
        line.append(f"sentiment accuracy {np.mean(np.argmax(oof.encoder.sentiment, axis=1) == sentiment):.4f}")
        print(f"== {d}\n  " + "\n  ".join(line))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main([Path(a) for a in sys.argv[1:]]))
