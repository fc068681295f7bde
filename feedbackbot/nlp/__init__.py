"""Tag every free-text reply: themes, sentiment, risk (with a safety net) and requests, plus its language."""

from __future__ import annotations

from feedbackbot.nlp.keyword import KeywordClassifier
from feedbackbot.nlp.model import TransformerClassifier, load_classifier
from feedbackbot.nlp.types import Classification, Classifier, SafetyCue

__all__ = [
    "Classification",
    "Classifier",
    "KeywordClassifier",
    "SafetyCue",
    "TransformerClassifier",
    "load_classifier",
]
