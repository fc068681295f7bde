"""A lexical risk head: word and character n-grams of the glossed reply, scoring urgent and any risk."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedbackbot.nlp.data import Example
from feedbackbot.nlp.gloss import encoder_text
from feedbackbot.nlp.lexical import FloatArray, LexicalHeads

RISK_GROUP = "risk"
# Urgent is two things whose words share little (danger now, self-harm): the head also learns each
# apart, and its urgent score is the mean of P(urgent) and the likelier of the two.
URGENT_PARTS = ("immediate_danger", "self_harm")
RISK_COLUMNS = ("urgent", "any_risk", *URGENT_PARTS)
RISK_LEXICAL_FILES = ("lexical-risk.safetensors", "lexical-risk-vocabulary.json")


def risk_rows(examples: Sequence[Example]) -> list[tuple[str, ...]]:
    """Each reply's risk as the head's labels: urgent is also any risk; danger and self-harm as labelled."""
    rows = []
    for e in examples:
        level = ("urgent", "any_risk") if e.risk == "urgent" else ("any_risk",) if e.risk == "safeguarding" else ()
        rows.append(level + tuple(c for c in URGENT_PARTS if c in e.risk_categories))
    return rows


def urgent_lexical(scores: FloatArray) -> FloatArray:
    """The head's urgent score from its columns: mean(P(urgent), max(P(danger), P(self-harm))).

    A head saved with only the first two columns (before round 11) gives its P(urgent) as it is.
    """
    if scores.shape[1] < len(RISK_COLUMNS):
        return np.asarray(scores[:, 0], dtype=np.float32)
    parts = scores[:, [RISK_COLUMNS.index(c) for c in URGENT_PARTS]].max(axis=1)
    return np.asarray((scores[:, 0] + parts) / 2.0, dtype=np.float32)


def glossed(texts: Sequence[str], languages: Sequence[str]) -> list[str]:
    """The text the head reads: the reply with the glossary's English words appended, as the encoder reads it.

    Glosses let a danger word learnt in one language count in another; character n-grams of the
    reply's own words keep what the glossary does not know.
    """
    return [encoder_text(t, lang) for t, lang in zip(texts, languages, strict=True)]


def fit_risk_head(examples: Sequence[Example], languages: Sequence[str], seed: int = 0) -> LexicalHeads:
    """TF-IDF word 1-2-grams and character 2-5-grams, one balanced logistic regression per column."""
    return LexicalHeads.fit(glossed([e.text for e in examples], languages), {RISK_GROUP: risk_rows(examples)},
                            {RISK_GROUP: RISK_COLUMNS}, seed=seed)


def out_of_fold_risk(examples: Sequence[Example], languages: Sequence[str], folds: Sequence[int]) -> FloatArray:
    """Each column of ``RISK_COLUMNS`` for each reply, from a head fitted on the other folds' replies.

    The head takes seconds to fit, so unlike the encoder it is refitted here rather than cached.
    """
    fold = np.asarray(folds, dtype=np.int64)
    out = np.zeros((len(examples), len(RISK_COLUMNS)), dtype=np.float32)
    for k in sorted(set(fold.tolist())):
        fit = [i for i in range(len(examples)) if fold[i] != k]
        left = [i for i in range(len(examples)) if fold[i] == k]
        head = fit_risk_head([examples[i] for i in fit], [languages[i] for i in fit])
        out[left] = head.probabilities(glossed([examples[i].text for i in left], [languages[i] for i in left]))[
            RISK_GROUP]
    return out
