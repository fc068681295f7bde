"""A small deterministic stand-in classifier with documented trigger words, for tests that skip the model."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.safety import NET_VERSION, apply_safety_net, scan
from feedbackbot.nlp.taxonomy import load_taxonomy, max_risk
from feedbackbot.nlp.types import Classification

KEYWORD_MODEL_VERSION = f"keyword-stand-in-1+net-{NET_VERSION}"

#: Trigger words (case-insensitive, matched as whole words or phrases) for each label.
THEME_TRIGGERS: Mapping[str, tuple[str, ...]] = {
    "updates_and_information": ("update", "updates", "no news", "heard nothing", "kept informed", "what happens next"),
    "respect_and_empathy": ("rude", "dismissive", "listened", "believed me", "kind"),
    "contact_and_response": ("101", "999", "on hold", "took hours", "waited"),
    "investigation_and_outcome": ("cctv", "evidence", "no further action", "nfa", "charged", "arrested"),
    "support_and_referral": ("victim support", "idva", "isva", "counselling", "referral"),
    "victim_personal_statement": ("personal statement", "vps"),
    "court_and_witness_care": ("court", "trial", "witness care"),
    "accessibility_and_language": ("interpreter", "translator", "deaf", "wheelchair"),
    "compensation_and_property": ("compensation", "property", "cica"),
    "restorative_justice": ("restorative",),
    "discrimination_and_fairness": ("racist", "discriminated", "discrimination", "hate crime"),
    "praise": ("thank", "thanks", "brilliant", "excellent", "well done"),
}
REQUEST_TRIGGERS: Mapping[str, tuple[str, ...]] = {
    "callback": ("call me", "ring me", "call back", "callback"),
    "complaint": ("complain", "complaint"),
    "withdraw_support": ("withdraw", "drop the case", "drop the charges"),
    "new_information": ("new information", "i remembered", "new evidence"),
    "stop_contact": ("stop messaging", "stop texting", "don't contact", "do not contact", "unsubscribe"),
}
#: Risk triggers on top of the safety net, as (phrase, level, category).
RISK_TRIGGERS: tuple[tuple[str, str, str], ...] = (
    ("outside now", "urgent", "immediate_danger"),
    ("end it all", "urgent", "self_harm"),
    ("keeps calling", "safeguarding", "ongoing_abuse"),
)
POSITIVE_WORDS: tuple[str, ...] = ("thank", "thanks", "great", "brilliant", "excellent", "happy", "helpful", "kind")
NEGATIVE_WORDS: tuple[str, ...] = (
    "useless", "rude", "nothing", "never", "complain", "complaint", "angry", "disappointed", "waited", "terrible",
)


def _compile(phrases: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


class KeywordClassifier:
    """Tags replies by trigger words alone; the safety net runs as it does beside the real model.

    Triggers (whole words, any case): ``THEME_TRIGGERS``, ``REQUEST_TRIGGERS``,
    ``RISK_TRIGGERS`` ("outside now" → urgent/immediate_danger, "end it all" → urgent/self_harm,
    "keeps calling" → safeguarding/ongoing_abuse) and, for sentiment, ``POSITIVE_WORDS`` and
    ``NEGATIVE_WORDS`` (both → mixed, neither → neutral). Scores are 1.0 for a label given.

    Example:
        >>> c = KeywordClassifier().classify(["he's outside now, please call me"])[0]
        >>> (c.risk, c.risk_categories, c.requests)
        ('urgent', ('immediate_danger',), ('callback',))
    """

    model_version = KEYWORD_MODEL_VERSION

    def __init__(self) -> None:
        self._themes = {k: _compile(v) for k, v in THEME_TRIGGERS.items()}
        self._requests = {k: _compile(v) for k, v in REQUEST_TRIGGERS.items()}
        self._risk = [(_compile([p]), level, cat) for p, level, cat in RISK_TRIGGERS]
        self._pos = _compile(POSITIVE_WORDS)
        self._neg = _compile(NEGATIVE_WORDS)
        self._taxonomy = load_taxonomy()

    def _one(self, text: str) -> Classification:
        themes = tuple(k for k, rx in self._themes.items() if rx.search(text))
        requests = tuple(k for k, rx in self._requests.items() if rx.search(text))
        pos, neg = bool(self._pos.search(text)), bool(self._neg.search(text))
        sentiment = "mixed" if pos and neg else "positive" if pos else "negative" if neg else "neutral"
        risk = "none"
        cats: tuple[str, ...] = ()
        for rx, level, cat in self._risk:
            if rx.search(text):
                risk = max_risk(risk, level)
                cats = cats if cat in cats else (*cats, cat)
        language = detect_language(text)
        cues = scan(text, language=language)
        risk, cats = apply_safety_net(risk, cats, cues)
        tax = self._taxonomy
        scores: dict[str, float] = {}
        scores.update({f"theme:{t}": float(t in themes) for t in tax.themes})
        scores.update({f"sentiment:{s}": float(s == sentiment) for s in tax.sentiments})
        scores.update({f"risk:{r}": float(r == risk) for r in tax.risk_levels})
        scores.update({f"risk_category:{c}": float(c in cats) for c in tax.risk_categories})
        scores.update({f"request:{q}": float(q in requests) for q in tax.requests})
        return Classification(
            themes=themes,
            sentiment=sentiment,
            risk=risk,
            risk_categories=cats,
            requests=requests,
            language=language,
            needs_human_read=language != "en",
            scores=scores,
            cues=cues,
            model_version=self.model_version,
        )

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Classify each text, in order."""
        return [self._one(t) for t in texts]
