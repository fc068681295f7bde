"""Round 9: the shipped model on the new writers' training replies, before anyone reads them.

Usage (from the repository root, after the split is extended): python bench/round9/preflight.py FILE.jsonl ...

For each new corpus file, only the replies the recorded split puts in training: how many urgent
ones the shipped model (with the safety net) flags urgent, and how many of the others it flags
urgent (false alarms), by language; then the same for the safety net alone (its rules by
themselves, as rounds 5-8 reported it). No reply text is printed.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from feedbackbot.nlp.cutoffs import net_raises_to_urgent
from feedbackbot.nlp.data import Example, read_jsonl
from feedbackbot.nlp.evaluation import read_split
from feedbackbot.nlp.model import load_classifier


def main(files: list[Path]) -> int:
    """Print urgent found and false alarms per file and language."""
    split = read_split(Path("data/split"))
    if split is None:
        print("no recorded split in data/split", file=sys.stderr)
        return 1
    train_ids = split[0]
    clf = load_classifier()
    print(f"shipped model {clf.model_version}")
    for path in files:
        examples, _ = read_jsonl(path, strict=False)
        mine = [e for e in examples if e.id in train_ids]
        got = clf.classify([e.text for e in mine])
        _report(path.name, "model and net", mine, [c.risk == "urgent" for c in got])
        net = net_raises_to_urgent([e.text for e in mine], [c.language for c in got])
        _report(path.name, "net alone", mine, [bool(x) for x in net])
    return 0


def _report(name: str, what: str, mine: list[Example], flagged: list[bool]) -> None:
    """One file's urgent found and false alarms, by language and in all."""
    count: Counter[tuple[str, str]] = Counter()
    for e, hit in zip(mine, flagged, strict=True):
        gold = "urgent" if e.risk == "urgent" else "other"
        count[(e.language, gold)] += 1
        if hit:
            count[(e.language, gold + " flagged")] += 1
    for lang in sorted({k[0] for k in count}):
        print(f"{name} {what} {lang}: urgent found {count[(lang, 'urgent flagged')]}/{count[(lang, 'urgent')]}, "
              f"false alarms {count[(lang, 'other flagged')]}/{count[(lang, 'other')]}")
    tot = {k: sum(v for (_, g), v in count.items() if g == k) for k in
           ("urgent", "urgent flagged", "other", "other flagged")}
    print(f"{name} {what} all: urgent found {tot['urgent flagged']}/{tot['urgent']}, "
          f"false alarms {tot['other flagged']}/{tot['other']} ({len(mine)} training replies)")


if __name__ == "__main__":
    sys.exit(main([Path(a) for a in sys.argv[1:]]))
