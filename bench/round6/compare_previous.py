"""Round 6's one held-out confirmation: new weights beside 2026.11.5, each as it ships, on the same held-out replies.

Usage (from the repository root):
    python bench/round6/compare_previous.py NEW_WEIGHTS_DIR PREVIOUS_WEIGHTS_DIR PREVIOUS_COMMIT

The new weights run with this tree's glossary and safety net. The previous weights run twice: as
they shipped (the glossary and safety net of PREVIOUS_COMMIT, read with `git show`, since its
adapters were fitted on that glossary's input) and with this tree's net, which separates what the
new weights did from what the net did. Prints each one's headline figures, risk confusion matrix
and figures by language, the TF-IDF baseline's, and the ship rule (docs/classifier.md, "Round 6").
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import feedbackbot.nlp.model as model_module
from feedbackbot.nlp.baseline import TfidfBaseline
from feedbackbot.nlp.evaluation import corpus_split, gold_labels, predicted_labels
from feedbackbot.nlp.metrics import Report, evaluate_labels, format_by_group, headline
from feedbackbot.nlp.model import load_classifier
from feedbackbot.nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("urgent_recall", "urgent_precision", "safeguarding_or_urgent_recall", "themes_micro_f1", "themes_macro_f1",
        "sentiment_accuracy", "requests_micro_f1")


def _module_at(commit: str, path: str, name: str) -> types.ModuleType:
    """A module's source as it was at ``commit``, loaded under another name."""
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    return module


def _confusion(report: Report) -> str:
    levels = ("none", "safeguarding", "urgent")
    rows = [f"{'gold, predicted':<16}" + "".join(f"{x:>14}" for x in levels)]
    for g in levels:
        rows.append(f"{g:<16}" + "".join(f"{report.risk_confusion.get(g, {}).get(p, 0):>14}" for p in levels))
    return "\n".join(rows)


def main(new_dir: Path, old_dir: Path, old_commit: str) -> int:
    """Evaluate the weights on the held-out split and print the comparison and the ship rule."""
    tax = load_taxonomy()
    train, held = corpus_split(ROOT / "data" / "corpus", ROOT / "data" / "split")
    gold = gold_labels(held)
    langs = [e.language for e in held]
    old_gloss = _module_at(old_commit, "feedbackbot/nlp/gloss.py", "round6_previous_gloss")
    old_safety = _module_at(old_commit, "feedbackbot/nlp/safety.py", "round6_previous_safety")
    now_gloss, now_scan = model_module.__dict__["encoder_text"], model_module.__dict__["scan"]
    runs = (("new", new_dir, now_gloss, now_scan), ("prev", old_dir, old_gloss.encoder_text, old_safety.scan),
            ("prev+net", old_dir, old_gloss.encoder_text, now_scan))
    figures: dict[str, dict[str, float]] = {}
    for name, wdir, gloss, scan in runs:
        setattr(model_module, "encoder_text", gloss)  # noqa: B010 (the model module reads these at call time)
        setattr(model_module, "scan", scan)  # noqa: B010
        try:
            clf = load_classifier(wdir)
            pred = predicted_labels(clf, held)
        finally:
            setattr(model_module, "encoder_text", now_gloss)  # noqa: B010
            setattr(model_module, "scan", now_scan)  # noqa: B010
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
    new, old, bl = figures["new"], figures["prev"], figures["baseline"]
    rule = {
        "urgent recall >= 2026.11.5's": new["urgent_recall"] >= old["urgent_recall"],
        "urgent precision >= 0.70": new["urgent_precision"] >= 0.70,
        "any-risk recall >= 0.90": new["safeguarding_or_urgent_recall"] >= 0.90,
        "sentiment >= 0.80": new["sentiment_accuracy"] >= 0.80,
        "requests >= 0.70": new["requests_micro_f1"] >= 0.70,
        "themes macro >= 0.65": new["themes_macro_f1"] >= 0.65,
        "themes micro >= 2026.11.5's": new["themes_micro_f1"] >= old["themes_micro_f1"],
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
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
