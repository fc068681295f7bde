"""Round 14: models and safety nets on replies none of them has seen — counts only, no reply text.

Usage: python bench/round14/unseen_writers.py WEIGHTS_DIR [WEIGHTS_DIR ...] -- FILE.jsonl ...

For every reply in the files: urgent found and false urgent alarms, per language and in all, for each
weights directory with net v5 (the rules whose id ends in "_v6" left out) and with net v6, then for the
two nets alone (the reply's detected language, as in the product).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from feedbackbot.nlp import safety
from feedbackbot.nlp.data import Example, read_jsonl
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.model import load_classifier

V5 = tuple(r for r in safety.RULES if not r.id.endswith("_v6"))


def report(name: str, replies: Sequence[Example], flagged: Sequence[bool]) -> None:
    """One line per language and one for all: urgent found of urgent, false alarms of the rest."""
    count: Counter[tuple[str, str]] = Counter()
    for e, hit in zip(replies, flagged, strict=True):
        for lang in (e.language, "all"):
            gold = "urgent" if e.risk == "urgent" else "other"
            count[(lang, gold)] += 1
            count[(lang, gold + " flagged")] += hit
    for lang in sorted({k[0] for k in count}, key=lambda x: (x == "all", x)):
        print(f"{name} {lang}: urgent found {count[(lang, 'urgent flagged')]}/{count[(lang, 'urgent')]}, "
              f"false alarms {count[(lang, 'other flagged')]}/{count[(lang, 'other')]}")


def main(weights: list[Path], files: list[Path]) -> int:
    """Print the figures for each weights directory and net, then the nets alone."""
    replies: list[Example] = []
    for path in files:
        examples, errors = read_jsonl(path, strict=False)
        if errors:
            print(f"{path}: {len(errors)} bad lines skipped", file=sys.stderr)
        replies += examples
    texts = [e.text for e in replies]
    defaults = safety.scan.__defaults__
    for wdir in weights:
        clf = load_classifier(wdir)
        for net, rules in (("v5", V5), ("v6", safety.RULES)):
            safety.scan.__defaults__ = (rules, None)
            try:
                got = clf.classify(texts)
            finally:
                safety.scan.__defaults__ = defaults
            report(f"{clf.model_version.split('+net')[0]} with net {net}", replies, [c.risk == "urgent" for c in got])
    languages = [detect_language(t) for t in texts]
    for net, rules in (("v5", V5), ("v6", safety.RULES)):
        pairs = zip(texts, languages, strict=True)
        flagged = [any(c.level == "urgent" for c in safety.scan(t, rules, lang)) for t, lang in pairs]
        report(f"net {net} alone", replies, flagged)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--" not in args:
        sys.exit(__doc__)
    cut = args.index("--")
    sys.exit(main([Path(a) for a in args[:cut]], [Path(a) for a in args[cut + 1 :]]))
