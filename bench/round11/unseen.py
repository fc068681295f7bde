"""Round 11: two sets of weights on replies neither has seen — the round-10 writers' training replies.

Usage: python bench/round11/unseen.py [--held-out] SPLIT_DIR WEIGHTS_A WEIGHTS_B FILE.jsonl ...

SPLIT_DIR is the grown split of branch classifier-2026.11.10 (its training ids pick the replies;
with --held-out, its held-out ids: the 97 replies that split adds to main's held-out); the files
are that branch's round-10 corpus files. For each weights directory: urgent replies
found and false urgent alarms (model and net), in all and English / other languages. No reply
text is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from feedbackbot.nlp.data import Example, read_jsonl
from feedbackbot.nlp.evaluation import read_split
from feedbackbot.nlp.model import load_classifier


def main(split_dir: Path, weights: list[Path], files: list[Path], held_out: bool = False) -> int:
    """Print, for each weights directory, urgent found and false alarms on the files' training replies."""
    split = read_split(split_dir)
    if split is None:
        print(f"no recorded split in {split_dir}", file=sys.stderr)
        return 1
    replies: list[Example] = []
    for path in files:
        examples, _ = read_jsonl(path, strict=False)
        replies += [e for e in examples if e.id in split[1 if held_out else 0]]
    urgent = [e.risk == "urgent" for e in replies]
    english = [e.language == "en" for e in replies]
    for wdir in weights:
        clf = load_classifier(wdir)
        flagged = [c.risk == "urgent" for c in clf.classify([e.text for e in replies])]
        for name, keep in (("all", [True] * len(replies)), ("en", english), ("other", [not x for x in english])):
            found = sum(f and u and k for f, u, k in zip(flagged, urgent, keep, strict=True))
            alarms = sum(f and not u and k for f, u, k in zip(flagged, urgent, keep, strict=True))
            n_urgent = sum(u and k for u, k in zip(urgent, keep, strict=True))
            n_other = sum(k and not u for u, k in zip(urgent, keep, strict=True))
            print(f"{clf.model_version} {name}: urgent found {found}/{n_urgent}, false alarms {alarms}/{n_other}")
    return 0


if __name__ == "__main__":
    a = [x for x in sys.argv[1:] if x != "--held-out"]
    if len(a) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(a[0]), [Path(a[1]), Path(a[2])], [Path(x) for x in a[3:]], "--held-out" in sys.argv[1:]))
