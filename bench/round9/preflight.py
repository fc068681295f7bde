"""Round 9: the shipped model on the new writers' training replies, before anyone reads them.

Usage (from the repository root, after the split is extended): python bench/round9/preflight.py FILE.jsonl ...

For each new corpus file, only the replies the recorded split puts in training: how many urgent
ones the shipped model (with the safety net) flags urgent, and how many of the others it flags
urgent (false alarms), by language. No reply text is printed.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from feedbackbot.nlp.data import read_jsonl
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
        count: Counter[tuple[str, str]] = Counter()
        for e, c in zip(mine, got, strict=True):
            gold = "urgent" if e.risk == "urgent" else "other"
            count[(e.language, gold)] += 1
            if c.risk == "urgent":
                count[(e.language, gold + " flagged")] += 1
        for lang in sorted({k[0] for k in count}):
            print(f"{path.name} {lang}: urgent found {count[(lang, 'urgent flagged')]}/{count[(lang, 'urgent')]}, "
                  f"false alarms {count[(lang, 'other flagged')]}/{count[(lang, 'other')]}")
        tot = {k: sum(v for (_, g), v in count.items() if g == k) for k in
               ("urgent", "urgent flagged", "other", "other flagged")}
        print(f"{path.name} all: urgent found {tot['urgent flagged']}/{tot['urgent']}, "
              f"false alarms {tot['other flagged']}/{tot['other']} ({len(mine)} of {len(examples)} in training)")
    return 0


if __name__ == "__main__":
    sys.exit(main([Path(a) for a in sys.argv[1:]]))
