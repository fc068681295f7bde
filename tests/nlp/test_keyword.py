"""The keyword stand-in: its documented triggers, the safety net beside it, and the Classifier protocol."""

from __future__ import annotations

import pytest

from feedbackbot.nlp import Classification, Classifier, KeywordClassifier
from feedbackbot.nlp.safety import NET_VERSION


@pytest.fixture(scope="module")
def clf() -> KeywordClassifier:
    return KeywordClassifier()


def one(clf: KeywordClassifier, text: str) -> Classification:
    return clf.classify([text])[0]


def test_is_a_classifier(clf: KeywordClassifier) -> None:
    assert isinstance(clf, Classifier)
    assert clf.model_version == f"keyword-stand-in-1+net-{NET_VERSION}"  # the stand-in and the net it runs
    assert clf.classify([]) == []


@pytest.mark.parametrize(
    ("text", "risk", "category"),
    [
        ("someone is outside now", "urgent", "immediate_danger"),
        ("I just want to end it all", "urgent", "self_harm"),
        ("he keeps calling", "safeguarding", "ongoing_abuse"),
    ],
)
def test_risk_triggers(clf: KeywordClassifier, text: str, risk: str, category: str) -> None:
    c = one(clf, text)
    assert c.risk == risk
    assert category in c.risk_categories


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("please call me tomorrow", "callback"),
        ("I want to complain about the officer", "complaint"),
        ("I want to withdraw", "withdraw_support"),
        ("I have new information about the car", "new_information"),
        ("please stop texting me", "stop_contact"),
    ],
)
def test_request_triggers(clf: KeywordClassifier, text: str, wanted: str) -> None:
    assert wanted in one(clf, text).requests


def test_theme_and_sentiment_triggers(clf: KeywordClassifier) -> None:
    c = one(clf, "Thank you, PC Shah was brilliant")
    assert "praise" in c.themes
    assert c.sentiment == "positive"
    assert one(clf, "thanks but the 101 wait was terrible").sentiment == "mixed"
    assert one(clf, "ok").sentiment == "neutral"
    assert one(clf, "ok").risk == "none"


def test_safety_net_runs_beside_keywords(clf: KeywordClassifier) -> None:
    c = one(clf, "he's banging on the door")
    assert c.risk == "urgent"
    assert c.cues and c.cues[0].rule.startswith("en.")


def test_language_and_human_read(clf: KeywordClassifier) -> None:
    c = one(clf, "Nie czuję się bezpiecznie, on ciągle do mnie dzwoni")
    assert c.language == "pl"
    assert c.needs_human_read
    assert c.risk == "safeguarding"
    assert not one(clf, "thank you").needs_human_read


def test_scores_cover_every_label(clf: KeywordClassifier) -> None:
    c = one(clf, "call me")
    assert c.scores["request:callback"] == 1.0
    assert c.scores["theme:praise"] == 0.0
    assert len(c.scores) == 12 + 4 + 3 + 4 + 5
