"""Round 8's one held-out confirmation: candidate weights beside the shipped ones, with paired bootstrap intervals.

Usage (from the repository root):
    python bench/round8/compare_candidates.py SHIPPED_DIR NAME=WEIGHTS_DIR [NAME=WEIGHTS_DIR ...]

Every set of weights runs with this tree's glossary and safety net (rounds 6 to 8 share them) on the
held-out split. Prints each one's risk confusion matrix and figures by language, a table of headline
figures beside the TF-IDF baseline's, for each candidate the 95 % paired-bootstrap interval of its
difference from the shipped weights (2,000 resamples of the held-out replies, seed 0) for themes
micro-F1 and urgent recall, and the ship rule of bench/round8/RULE.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from feedbackbot.nlp.baseline import TfidfBaseline
from feedbackbot.nlp.evaluation import corpus_split, gold_labels, predicted_labels
from feedbackbot.nlp.metrics import Labels, evaluate_labels, format_by_group, format_confusion, headline
from feedbackbot.nlp.model import load_classifier
from feedbackbot.nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("urgent_recall", "urgent_precision", "safeguarding_or_urgent_recall", "themes_micro_f1", "themes_macro_f1",
        "sentiment_accuracy", "requests_micro_f1")
GROUP_HEADLINES = ("themes_micro_f1", "themes_macro_f1", "sentiment_accuracy", "requests_micro_f1",
                   "safeguarding_or_urgent_recall", "urgent_recall")
RESAMPLES = 2000


def _theme_counts(gold: Labels, pred: Labels) -> np.ndarray:
    """Per reply: (true positives, predicted, gold) theme counts, so micro-F1 of any resample is a sum."""
    return np.array([(len(set(g) & set(p)), len(p), len(g)) for g, p in zip(gold.themes, pred.themes, strict=True)],
                    dtype=np.float64)


def _urgent_hits(gold: Labels, pred: Labels) -> np.ndarray:
    """Per reply: 1 if urgent and found, 0 if urgent and missed, NaN if not urgent."""
    return np.array([(1.0 if p == "urgent" else 0.0) if g == "urgent" else np.nan
                     for g, p in zip(gold.risk, pred.risk, strict=True)])


def paired_interval(gold: Labels, new: Labels, old: Labels, seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Difference new - old (point, 2.5 %, 97.5 %) for themes micro-F1 and urgent recall over resampled replies."""
    rng = np.random.default_rng(seed)
    tn, to = _theme_counts(gold, new), _theme_counts(gold, old)
    un, uo = _urgent_hits(gold, new), _urgent_hits(gold, old)

    def micro(c: np.ndarray) -> float:
        tp, npred, ngold = c.sum(axis=0)
        return float(2 * tp / max(1.0, npred + ngold))

    def recall(h: np.ndarray) -> float:
        return float(np.nanmean(h))

    n = len(gold.risk)
    point = {"themes_micro_f1": micro(tn) - micro(to), "urgent_recall": recall(un) - recall(uo)}
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(RESAMPLES):
        idx = rng.integers(0, n, n)
        draws["themes_micro_f1"].append(micro(tn[idx]) - micro(to[idx]))
        draws["urgent_recall"].append(recall(un[idx]) - recall(uo[idx]))
    return {k: (point[k], float(np.percentile(draws[k], 2.5)), float(np.percentile(draws[k], 97.5))) for k in point}


def rule(new: dict[str, float], shipped: dict[str, float], baseline: dict[str, float],
         themes_interval: tuple[float, float, float]) -> dict[str, bool]:
    """bench/round8/RULE.md, rules 1-4."""
    return {
        "1. urgent recall > the shipped model's": new["urgent_recall"] > shipped["urgent_recall"],
        "1. urgent precision >= 0.70": new["urgent_precision"] >= 0.70,
        "2. any-risk recall >= 0.90": new["safeguarding_or_urgent_recall"] >= 0.90,
        "3. themes macro >= 0.65": new["themes_macro_f1"] >= 0.65,
        "3. sentiment >= 0.80": new["sentiment_accuracy"] >= 0.80,
        "3. requests >= 0.70": new["requests_micro_f1"] >= 0.70,
        "3. beats the baseline on every group": all(new[k] > baseline[k] for k in GROUP_HEADLINES),
        "4. themes micro not lower beyond noise (interval reaches 0)": themes_interval[2] >= 0.0,
    }


Rule = Callable[[dict[str, float], dict[str, float], dict[str, float], tuple[float, float, float]], dict[str, bool]]


def main(shipped_dir: Path, candidates: Sequence[tuple[str, Path]], ship_rule: Rule = rule) -> int:
    """Evaluate every set of weights on the held-out split and print the comparison and ``ship_rule``."""
    tax = load_taxonomy()
    train, held = corpus_split(ROOT / "data" / "corpus", ROOT / "data" / "split")
    gold = gold_labels(held)
    langs = [e.language for e in held]
    preds: dict[str, Labels] = {}
    figures: dict[str, dict[str, float]] = {}
    for name, wdir in (("shipped", shipped_dir), *candidates):
        clf = load_classifier(wdir)
        preds[name] = predicted_labels(clf, held)
        report = evaluate_labels(gold, preds[name], tax)
        figures[name] = headline(report)
        print(f"== {name}: {clf.model_version} on {len(held)} held-out replies")
        print(format_confusion(report, "gold, predicted"))
        print(format_by_group(gold, preds[name], langs, tax))
        print()
    base = evaluate_labels(gold, TfidfBaseline(tax, seed=0).fit(train).predict([e.text for e in held]), tax)
    figures["baseline"] = headline(base)
    print(f"{'figure':<32}" + "".join(f"{k:>12}" for k in figures))
    for key in KEYS:
        print(f"{key:<32}" + "".join(f"{figures[k][key]:>12.3f}" for k in figures))
    passing: list[str] = []
    for name, _ in candidates:
        got = paired_interval(gold, preds[name], preds["shipped"])
        print(f"\n== {name} - shipped, 95 % paired bootstrap ({RESAMPLES} resamples of {len(held)} replies)")
        for key, (point, lo, hi) in got.items():
            print(f"{key:<20} {point:+.3f}  [{lo:+.3f}, {hi:+.3f}]")
        checks = ship_rule(figures[name], figures["shipped"], figures["baseline"], got["themes_micro_f1"])
        print(f"== ship rule for {name}")
        for cond, ok in checks.items():
            print(f"{'ok  ' if ok else 'MISS'} {cond}")
        if all(checks.values()):
            passing.append(name)
    if passing:
        best = max(passing, key=lambda n: (figures[n]["urgent_recall"], figures[n]["themes_micro_f1"]))
        print(f"\nSHIP {best} (passing: {', '.join(passing)})")
    else:
        print("\nDO NOT SHIP: keep the shipped weights")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), [(a.split("=", 1)[0], Path(a.split("=", 1)[1])) for a in sys.argv[2:]]))
