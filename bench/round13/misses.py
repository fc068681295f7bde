"""Round 13: training replies the shipped model never trained on and missed with net v5, and v6's false alarms.

Usage (from main's root, with round 12's branch checked out at R12, e.g. /work/r12):
    python bench/round13/misses.py R12                  # the misses, by id and language
    python bench/round13/misses.py --false-alarms R12   # net v5 and v6 alone on all of R12's training replies

The first form reads the round-10 and round-12 writers' files (en_19, en_20, ml_23 to ml_29) in R12's
corpus, keeps the replies R12's split puts in training, and lists the urgent ones that the shipped model
with net v5 does not flag urgent, with whether v6 now catches each. The second form counts, over every
training reply of R12's split, the replies whose gold risk is not urgent that the net alone raises to
urgent, with v5 (the rules whose id ends in "_v6" left out) and with v6, and names the v6 rules that
raise them. No reply text is printed.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from feedbackbot.nlp import safety
from feedbackbot.nlp.data import Example, read_jsonl
from feedbackbot.nlp.evaluation import read_split
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.model import load_classifier

NEW_WRITERS = ("en_19", "en_20", "ml_23", "ml_24", "ml_25", "ml_26", "ml_27", "ml_28", "ml_29")
V5 = tuple(r for r in safety.RULES if not r.id.endswith("_v6"))


def training_replies(r12: Path, names: tuple[str, ...] | None) -> list[Example]:
    """R12's training replies from the named corpus files (all files when ``names`` is None)."""
    split = read_split(r12 / "data" / "split")
    if split is None:
        raise SystemExit(f"no recorded split in {r12 / 'data' / 'split'}")
    paths = sorted((r12 / "data" / "corpus").glob("*.jsonl"))
    out: list[Example] = []
    for path in paths:
        if names is None or path.stem in names:
            examples, _ = read_jsonl(path, strict=False)
            out += [e for e in examples if e.id in split[0]]
    return out


def urgent_by(rules: tuple[safety.SafetyRule, ...], text: str, language: str) -> list[str]:
    """Ids of the rules in ``rules`` that raise ``text`` to urgent."""
    return [c.rule for c in safety.scan(text, rules, language) if c.level == "urgent"]


def misses(r12: Path) -> None:
    """Urgent training replies of the new writers that the shipped model with net v5 misses."""
    replies = [e for e in training_replies(r12, NEW_WRITERS) if e.risk == "urgent"]
    clf = load_classifier()
    defaults = safety.scan.__defaults__
    safety.scan.__defaults__ = (V5, None)
    try:
        got = clf.classify([e.text for e in replies])
    finally:
        safety.scan.__defaults__ = defaults
    missed = [(e, c) for e, c in zip(replies, got, strict=True) if c.risk != "urgent"]
    print(f"{clf.model_version} with net v5: {len(replies) - len(missed)}/{len(replies)} urgent training replies found")
    caught = 0
    for e, c in missed:
        v6 = [r for r in urgent_by(safety.RULES, e.text, c.language) if r.endswith("_v6")]
        caught += bool(v6)
        print(f"  missed {e.id} ({e.language}, tagged {c.risk}){' -> v6: ' + ', '.join(v6) if v6 else ''}")
    print(f"v6 catches {caught} of the {len(missed)} misses")


def false_alarms(r12: Path) -> None:
    """Non-urgent training replies the net alone raises to urgent, v5 beside v6."""
    replies = [e for e in training_replies(r12, None) if e.risk != "urgent"]
    v5 = v6 = 0
    fired: Counter[str] = Counter()
    for e in replies:
        language = detect_language(e.text)
        old = urgent_by(V5, e.text, language)
        new = urgent_by(safety.RULES, e.text, language)
        v5 += bool(old)
        v6 += bool(new)
        if new and not old:
            fired.update(r for r in new if r.endswith("_v6"))
    print(f"{len(replies)} training replies whose gold risk is not urgent: net v5 raises {v5} to urgent, "
          f"net v6 raises {v6} ({v6 - v5:+d})")
    for rule, n in fired.most_common():
        print(f"  {rule}: {n}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--false-alarms":
        false_alarms(Path(args[1]))
    elif len(args) == 1:
        misses(Path(args[0]))
    else:
        sys.exit(__doc__)
