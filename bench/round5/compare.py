"""Round 5's one held-out confirmation: new weights beside 2026.11.1 on the same held-out replies, and the ship rule.

Usage (from the repository root):
    python bench/round5/compare.py NEW_WEIGHTS_DIR BASELINE_WEIGHTS_DIR

Both models run with this tree's safety net and glossary. Prints each model's headline figures,
its risk confusion matrix and figures by language, the TF-IDF baseline's, then every condition
of the ship rule (docs/classifier.md, "Round 5") with whether it holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

from feedbackbot.nlp.baseline import TfidfBaseline
from feedbackbot.nlp.evaluation import corpus_split, gold_labels, predicted_labels
from feedbackbot.nlp.metrics import Report, evaluate_labels, format_by_group, headline
from feedbackbot.nlp.model import load_classifier
from feedbackbot.nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("urgent_recall", "urgent_precision", "safeguarding_or_urgent_recall", "themes_micro_f1", "themes_macro_f1",
        "sentiment_accuracy", "requests_micro_f1")


def _confusion(report: Report) -> str:
    levels = ("none", "safeguarding", "urgent")
    rows = [f"{'gold, predicted':<16}" + "".join(f"{x:>14}" for x in levels)]
    for g in levels:
        rows.append(f"{g:<16}" + "".join(f"{report.risk_confusion.get(g, {}).get(p, 0):>14}" for p in levels))
    return "\n".join(rows)


def main(new_dir: Path, old_dir: Path) -> int:
    """Evaluate both weights on the held-out split and print the comparison and the ship rule."""
    tax = load_taxonomy()
    train, held = corpus_split(ROOT / "data" / "corpus", ROOT / "data" / "split")
    gold = gold_labels(held)
    langs = [e.language for e in held]
    figures: dict[str, dict[str, float]] = {}
    for name, wdir in (("new", new_dir), ("2026.11.1", old_dir)):
        clf = load_classifier(wdir)
        pred = predicted_labels(clf, held)
        report = evaluate_labels(gold, pred, tax)
        figures[name] = headline(report)
        print(f"== {name}: {clf.model_version} on {len(held)} held-out replies")
        print(_confusion(report))
        print(format_by_group(gold, pred, langs, tax))
        print()
    base = evaluate_labels(gold, TfidfBaseline(tax, seed=0).fit(train).predict([e.text for e in held]), tax)
    figures["baseline"] = headline(base)
    print(f"{'figure':<32}" + "".join(f"{k:>12}" for k in figures))
    for key in KEYS:
        print(f"{key:<32}" + "".join(f"{figures[k][key]:>12.3f}" for k in figures))
    new, old, bl = figures["new"], figures["2026.11.1"], figures["baseline"]
    rule = {
        "urgent recall >= 2026.11.1's": new["urgent_recall"] >= old["urgent_recall"],
        "urgent precision >= 0.70": new["urgent_precision"] >= 0.70,
        "any-risk recall >= 0.90": new["safeguarding_or_urgent_recall"] >= 0.90,
        "sentiment >= 0.80": new["sentiment_accuracy"] >= 0.80,
        "requests >= 0.70": new["requests_micro_f1"] >= 0.70,
        "themes macro >= 0.65": new["themes_macro_f1"] >= 0.65,
        "themes micro >= 2026.11.1's": new["themes_micro_f1"] >= old["themes_micro_f1"],
        "beats the baseline on every group": all(
            new[k] > bl[k] for k in ("themes_micro_f1", "themes_macro_f1", "sentiment_accuracy", "requests_micro_f1",
                                     "safeguarding_or_urgent_recall", "urgent_recall")),
    }
    print("\n== ship rule")
    for cond, ok in rule.items():
        print(f"{'ok  ' if ok else 'MISS'} {cond}")
    print("SHIP" if all(rule.values()) else "DO NOT SHIP")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
