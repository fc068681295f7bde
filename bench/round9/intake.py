"""Round 9 intake: new writers' files checked and placed in data/corpus, duplicates dropped unread.

Usage (from the repository root): python bench/round9/intake.py SRC.jsonl=corpus_name.jsonl ...

A new reply is dropped, without being read, if its text is already in the corpus or earlier in the
new files word for word (case and spacing aside), or if it is within cosine 0.85 of a corpus reply
on character 3-grams (TF-IDF). Prints the counts and the ids dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from feedbackbot.nlp.data import load_corpus, read_jsonl

NEAR = 0.85


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def main(pairs: list[tuple[Path, str]]) -> int:
    """Check, deduplicate and write each new file into data/corpus."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    corpus, problems = load_corpus(Path("data/corpus"))
    if problems:
        print("\n".join(problems))
        return 1
    seen = {_norm(e.text) for e in corpus}
    ids = {e.id for e in corpus}
    vec = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), sublinear_tf=True)
    old = vec.fit_transform([e.text for e in corpus])
    for src, name in pairs:
        _, errors = read_jsonl(src, strict=False)
        if errors:
            print(f"{src}: {errors}")
            return 1
        rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
        sims = (vec.transform([r["text"] for r in rows]) @ old.T).max(axis=1).toarray().ravel()
        kept, dropped = [], []
        for row, sim in zip(rows, np.asarray(sims), strict=True):
            if _norm(row["text"]) in seen or row["id"] in ids:
                dropped.append((row["id"], "exact duplicate or id taken"))
            elif sim > NEAR:
                dropped.append((row["id"], f"cosine {sim:.2f} to a corpus reply"))
            else:
                kept.append(row)
                seen.add(_norm(row["text"]))
                ids.add(row["id"])
        out = Path("data/corpus") / name
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
        print(f"{src} -> {out}: {len(kept)} kept, {len(dropped)} dropped {dropped}")
    return 0


if __name__ == "__main__":
    sys.exit(main([(Path(a.split("=", 1)[0]), a.split("=", 1)[1]) for a in sys.argv[1:]]))
