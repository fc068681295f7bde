"""Round 10: training replies that the shipped model (out of fold, at its cut-offs) and the safety net both miss.

Prints ids and counts only (never reply text): the urgent replies missed, per language, and the
net's false alarms on training replies whose gold risk is not urgent. Run from the repository root
on the data/oof of the shipped model's training."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from feedbackbot.nlp.model import urgent_scores
from feedbackbot.nlp.riskhead import out_of_fold_risk
from feedbackbot.nlp.taxonomy import load_taxonomy

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("oof_shares", HERE.parent / "round9" / "oof_shares.py")
assert _spec is not None and _spec.loader is not None
round9 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(round9)


def main() -> None:
    """Misses of model and net together, and the net's urgent false alarms, on the training replies."""
    pooled, ex, langs, gold, english, net = round9.out_of_fold_replies()
    t = json.loads(Path("feedbackbot/nlp/weights/minilm-heads.json").read_text())["thresholds"]
    share = float(t["urgent_lexical"])
    lexical = out_of_fold_risk(ex, langs, [int(f) for f in pooled.fold])[:, 0]
    score = (1.0 - share) * urgent_scores(pooled.encoder, load_taxonomy(), t["urgent_score"]) + share * lexical
    model = np.where(english, score >= t["urgent"], score >= t["urgent_other"])
    missed = gold & ~model & ~net
    print(f"{len(ex)} training replies, {int(gold.sum())} urgent; model out of fold finds {int((model & gold).sum())}, "
          f"with the net {int(((model | net) & gold).sum())}")
    by_lang = Counter(la for la, m in zip(langs, missed, strict=True) if m)
    print(f"missed by both: {int(missed.sum())} ({dict(sorted(by_lang.items()))})")
    print("ids: " + " ".join(e.id for e, m in zip(ex, missed, strict=True) if m))
    print(f"net raises to urgent {int((net & ~gold).sum())} replies whose gold risk is not urgent "
          f"({int((net & ~gold & ~model).sum())} of them not flagged by the model)")
    if "--new" in sys.argv:
        print("ids (net false alarms): " + " ".join(e.id for e, n, g in zip(ex, net, gold, strict=True) if n and not g))


if __name__ == "__main__":
    main()
