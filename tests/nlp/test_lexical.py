"""The lexical heads read a reply exactly as scikit-learn's TF-IDF vectorizers do, without scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from feedbackbot.nlp.data import load_corpus
from feedbackbot.nlp.lexical import LexicalHeads
from feedbackbot.nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]


def test_features_match_scikit_learn_in_every_language(tmp_path: Path) -> None:
    examples, _ = load_corpus(ROOT / "data" / "corpus")
    fit, other = examples[::3], [e for i, e in enumerate(examples) if i % 3]
    tax = load_taxonomy()
    heads = LexicalHeads.fit([e.text for e in fit], {"themes": [e.themes for e in fit],
                                                    "requests": [e.requests for e in fit]},
                             {"themes": tax.themes, "requests": tax.requests})
    heads.save(tmp_path)
    loaded = LexicalHeads.load(tmp_path, {"themes": 0.3})
    texts = [e.text for e in other] + ["", "  ", "ok", "😂😂", "ਉਹ ਹੁਣੇ   ਘਰ\nਅੰਦਰ"]
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32, vocabulary=loaded.words_vocab)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32,
                            vocabulary=loaded.chars_vocab)
    words.idf_, chars.idf_ = loaded.words_idf, loaded.chars_idf
    x = csr_matrix(hstack([words.transform(texts), chars.transform(texts)]))
    ours = loaded.probabilities(texts)
    for group in ("themes", "requests"):
        theirs = 1.0 / (1.0 + np.exp(-(np.asarray(x @ loaded.coef[group].T) + loaded.intercept[group])))
        assert ours[group].shape == theirs.shape
        assert float(np.abs(ours[group] - theirs).max()) < 1e-5
    assert loaded.blend == {"themes": 0.3, "requests": 0.0}
