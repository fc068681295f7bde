"""A lexical risk head: word and character n-grams of the glossed reply, scoring urgent and any risk."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedbackbot.nlp.data import Example
from feedbackbot.nlp.gloss import encoder_text
from feedbackbot.nlp.lexical import FloatArray, LexicalHeads

RISK_GROUP = "risk"
RISK_COLUMNS = ("urgent", "any_risk")
RISK_LEXICAL_FILES = ("lexical-risk.safetensors", "lexical-risk-vocabulary.json")


def risk_rows(examples: Sequence[Example]) -> list[tuple[str, ...]]:
    """Each reply's risk as the head's two labels: urgent is also any risk."""
    return [("urgent", "any_risk") if e.risk == "urgent" else ("any_risk",) if e.risk == "safeguarding" else ()
            for e in examples]


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
    """P(urgent) and P(any risk) for each reply from a head fitted on the other folds' replies (n x 2).

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
