"""The TF-IDF + logistic-regression baseline, trained on the same split the model is."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import KFold  # type: ignore[import-untyped]

from feedbackbot.nlp.data import Example
from feedbackbot.nlp.metrics import Labels
from feedbackbot.nlp.taxonomy import Taxonomy, load_taxonomy

BASELINE_VERSION = "tfidf-logreg-1"
_THRESHOLDS = np.round(np.arange(0.1, 0.91, 0.05), 2)


def best_threshold(probs: np.ndarray, gold: np.ndarray) -> float:
    """The cut-off on ``probs`` that gives the best F1 against boolean ``gold`` (ties: the lowest)."""
    best, best_f1 = 0.5, -1.0
    for t in _THRESHOLDS:
        pred = probs >= t
        tp = float(np.sum(pred & gold))
        f1 = 2 * tp / (float(np.sum(pred)) + float(np.sum(gold))) if (np.any(pred) or np.any(gold)) else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    return best


class TfidfBaseline:
    """Word 1-2-gram and character 2-5-gram TF-IDF, one logistic regression per label.

    Multi-label groups get one-vs-rest models whose cut-offs are tuned on 5-fold
    out-of-fold predictions over the training split; sentiment and risk level take the
    most probable class. No safety net: this is the plain text-classification baseline.
    """

    version = BASELINE_VERSION

    def __init__(self, taxonomy: Taxonomy | None = None, seed: int = 0) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.seed = seed
        self._words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        self._multi: dict[str, list[tuple[LogisticRegression | None, float, bool]]] = {}
        self._single: dict[str, LogisticRegression] = {}

    def _x(self, texts: Sequence[str], fit: bool = False) -> csr_matrix:
        if fit:
            return csr_matrix(hstack([self._words.fit_transform(texts), self._chars.fit_transform(texts)]))
        return csr_matrix(hstack([self._words.transform(texts), self._chars.transform(texts)]))

    def _lr(self) -> LogisticRegression:
        return LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced", random_state=self.seed)

    def fit(self, examples: Sequence[Example]) -> TfidfBaseline:
        """Fit on labelled replies (sorted by id first, so the folds do not depend on their order)."""
        examples = sorted(examples, key=lambda e: e.id)
        tax = self.taxonomy
        x = self._x([e.text for e in examples], fit=True)
        groups = {
            "themes": (tax.themes, [e.themes for e in examples]),
            "risk_categories": (tax.risk_categories, [e.risk_categories for e in examples]),
            "requests": (tax.requests, [e.requests for e in examples]),
        }
        folds = list(KFold(5, shuffle=True, random_state=self.seed).split(np.arange(len(examples))))
        for name, (labels, gold) in groups.items():
            heads: list[tuple[LogisticRegression | None, float, bool]] = []
            for label in labels:
                y = np.array([label in g for g in gold])
                if y.all() or not y.any():
                    heads.append((None, 0.5, bool(y.all())))
                    continue
                oof = np.zeros(len(y))
                for a, b in folds:
                    if y[a].all() or not y[a].any():
                        oof[b] = float(y[a].mean())
                        continue
                    oof[b] = self._lr().fit(x[a], y[a]).predict_proba(x[b])[:, 1]
                heads.append((self._lr().fit(x, y), best_threshold(oof, y), False))
            self._multi[name] = heads
        for name, ys in (("sentiment", [e.sentiment for e in examples]), ("risk", [e.risk for e in examples])):
            self._single[name] = self._lr().fit(x, ys)
        return self

    def predict(self, texts: Sequence[str]) -> Labels:
        """Predict the four groups for ``texts``."""
        tax = self.taxonomy
        x = self._x(texts)
        out: dict[str, list[tuple[str, ...]]] = {}
        for name, labels in (("themes", tax.themes), ("risk_categories", tax.risk_categories),
                             ("requests", tax.requests)):
            cols = []
            for model, threshold, constant in self._multi[name]:
                cols.append(model.predict_proba(x)[:, 1] >= threshold if model else np.full(len(texts), constant))
            out[name] = [tuple(lab for lab, c in zip(labels, row, strict=True) if c) for row in np.array(cols).T]
        sentiment = [str(s) for s in self._single["sentiment"].predict(x)]
        risk = [str(r) for r in self._single["risk"].predict(x)]
        cats = [c if r != "none" else () for c, r in zip(out["risk_categories"], risk, strict=True)]
        return Labels(out["themes"], sentiment, risk, cats, out["requests"])
