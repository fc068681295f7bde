"""Word and character n-gram heads for themes and requests, blended with the encoder's probabilities."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

LEXICAL_WEIGHTS_FILE = "lexical-heads.safetensors"
LEXICAL_VOCAB_FILE = "lexical-vocabulary.json"
GROUPS = ("themes", "requests")

FloatArray = npt.NDArray[np.float32]
_WORD = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")


def word_ngrams(text: str) -> Iterator[str]:
    """Lower-cased word 1- and 2-grams, as scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2))`` makes them."""
    tokens = _WORD.findall(text.lower())
    yield from tokens
    for a, b in itertools.pairwise(tokens):
        yield f"{a} {b}"


def char_ngrams(text: str) -> Iterator[str]:
    """Character 2- to 5-grams inside space-padded words, as scikit-learn's ``char_wb`` analyzer makes them."""
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(2, 6):
            offset = 0
            yield padded[offset : offset + n]
            while offset + n < len(padded):
                offset += 1
                yield padded[offset : offset + n]
            if offset == 0:
                break


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3, dtype=np.float32)
    return words, chars


@dataclass
class LexicalHeads:
    """TF-IDF over word 1-2-grams and character 2-5-grams, one logistic regression per label.

    The encoder reads English only; these heads read the reply's own words in any language and
    script, so they carry what the glossary does not. Their probabilities are blended with the
    encoder's (``blend``: the lexical share per group, tuned on validation) before the cut-offs.

    Example:
        >>> heads = LexicalHeads.fit(["he never called", "great officer"] * 3,
        ...                          {"themes": [("contact",), ("praise",)] * 3, "requests": [(), ()] * 3},
        ...                          {"themes": ("contact", "praise"), "requests": ("callback",)})
        >>> heads.probabilities(["officer was great"])["themes"].shape
        (1, 2)
    """

    words_vocab: list[str]
    chars_vocab: list[str]
    words_idf: FloatArray
    chars_idf: FloatArray
    coef: dict[str, FloatArray]
    intercept: dict[str, FloatArray]
    blend: dict[str, float] = field(default_factory=dict)

    @property
    def groups(self) -> tuple[str, ...]:
        """The label groups these heads score (``GROUPS`` for themes and requests)."""
        return tuple(self.coef)

    def __post_init__(self) -> None:
        n_words = len(self.words_vocab)
        self._index = ({t: i for i, t in enumerate(self.words_vocab)},
                       {t: n_words + i for i, t in enumerate(self.chars_vocab)})
        self._idf = np.concatenate([self.words_idf, self.chars_idf]).astype(np.float32)

    def _features(self, text: str) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """The reply's TF-IDF row (sublinear tf, each half L2-normalised), as column indices and values."""
        cols: list[int] = []
        vals: list[float] = []
        for grams, index in ((word_ngrams(text), self._index[0]), (char_ngrams(text), self._index[1])):
            counts = Counter(index[g] for g in grams if g in index)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            v = (1.0 + np.log(tf)) * self._idf[idx]
            v /= np.sqrt(np.sum(v * v))
            cols.extend(idx.tolist())
            vals.extend(v.tolist())
        return np.asarray(cols, dtype=np.int64), np.asarray(vals, dtype=np.float32)

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        rows: dict[str, Sequence[Sequence[str]]],
        labels: dict[str, Sequence[str]],
        seed: int = 0,
    ) -> LexicalHeads:
        """Fit the vocabularies and one balanced logistic regression (C = 10) per label of each group of ``labels``."""
        from scipy.sparse import csr_matrix, hstack  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

        words, chars = _vectorizers()
        x = csr_matrix(hstack([words.fit_transform(texts), chars.fit_transform(texts)]))
        coef: dict[str, FloatArray] = {}
        intercept: dict[str, FloatArray] = {}
        for group in labels:
            w = np.zeros((len(labels[group]), x.shape[1]), dtype=np.float32)
            b = np.zeros(len(labels[group]), dtype=np.float32)
            for j, label in enumerate(labels[group]):
                y = np.array([label in r for r in rows[group]])
                if y.all() or not y.any():
                    b[j] = 20.0 if y.all() else -20.0
                    continue
                lr = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced", random_state=seed).fit(x, y)
                w[j] = lr.coef_[0]
                b[j] = lr.intercept_[0]
            coef[group], intercept[group] = w, b
        return cls(
            [t for t, _ in sorted(words.vocabulary_.items(), key=lambda kv: kv[1])],
            [t for t, _ in sorted(chars.vocabulary_.items(), key=lambda kv: kv[1])],
            np.asarray(words.idf_, dtype=np.float32),
            np.asarray(chars.idf_, dtype=np.float32),
            coef,
            intercept,
        )

    def probabilities(self, texts: Sequence[str]) -> dict[str, FloatArray]:
        """Each group's per-label probabilities, one row per text (no scikit-learn needed)."""
        rows = [self._features(t) for t in texts]
        out: dict[str, FloatArray] = {}
        for group in self.groups:
            w = self.coef[group]
            z = np.array([w[:, cols] @ vals for cols, vals in rows], dtype=np.float32).reshape(len(texts), w.shape[0])
            z += self.intercept[group]
            out[group] = np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float32)
        return out

    def blended(self, texts: Sequence[str], encoder_p: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """``encoder_p`` with each group mixed in at its ``blend`` share."""
        lex = self.probabilities(texts)
        return {
            g: np.asarray((1.0 - self.blend.get(g, 0.0)) * encoder_p[g] + self.blend.get(g, 0.0) * lex[g],
                          dtype=np.float32)
            for g in self.groups
        }

    def tensors(self) -> dict[str, FloatArray]:
        """The arrays to save (safetensors, no pickle)."""
        out = {"words.idf": self.words_idf, "chars.idf": self.chars_idf}
        for group in self.groups:
            out[f"{group}.coef"] = self.coef[group]
            out[f"{group}.intercept"] = self.intercept[group]
        return out

    def save(self, weights_dir: Path, files: tuple[str, str] = (LEXICAL_WEIGHTS_FILE, LEXICAL_VOCAB_FILE)) -> None:
        """Write the arrays and the two vocabularies beside the encoder's weights (``files``: their names)."""
        from safetensors.numpy import save_file

        save_file(self.tensors(), str(weights_dir / files[0]))
        (weights_dir / files[0]).chmod(0o644)
        vocab = {"words": self.words_vocab, "chars": self.chars_vocab}
        (weights_dir / files[1]).write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, weights_dir: Path, blend: dict[str, float],
             files: tuple[str, str] = (LEXICAL_WEIGHTS_FILE, LEXICAL_VOCAB_FILE)) -> LexicalHeads:
        """Read what ``save`` wrote; ``blend`` comes from the model's JSON."""
        from safetensors.numpy import load_file

        t = load_file(str(weights_dir / files[0]))
        vocab = json.loads((weights_dir / files[1]).read_text(encoding="utf-8"))
        groups = [k.removesuffix(".coef") for k in t if k.endswith(".coef")]
        groups.sort(key=lambda g: (GROUPS.index(g) if g in GROUPS else len(GROUPS), g))
        return cls(
            list(vocab["words"]),
            list(vocab["chars"]),
            np.asarray(t["words.idf"], dtype=np.float32),
            np.asarray(t["chars.idf"], dtype=np.float32),
            {g: np.asarray(t[f"{g}.coef"], dtype=np.float32) for g in groups},
            {g: np.asarray(t[f"{g}.intercept"], dtype=np.float32) for g in groups},
            {g: float(blend.get(g, 0.0)) for g in groups},
        )
