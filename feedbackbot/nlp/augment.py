"""Buried-risk augmentation: in training, an urgent reply read after another reply's ordinary feedback."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from feedbackbot.nlp.data import Example

#: A partner must say something (a one-word "thanks" buries nothing).
MIN_PARTNER_WORDS = 6


def partners_by_language(examples: Sequence[Example], languages: Sequence[str]) -> dict[str, list[int]]:
    """Indices of the replies that can bury an urgent one: no risk, at least ``MIN_PARTNER_WORDS`` words."""
    out: dict[str, list[int]] = defaultdict(list)
    for i, (e, lang) in enumerate(zip(examples, languages, strict=True)):
        if e.risk == "none" and len(e.text.split()) >= MIN_PARTNER_WORDS:
            out[lang].append(i)
    return dict(out)


def buried_pairs(examples: Sequence[Example], languages: Sequence[str], share: float, seed: int) -> dict[int, int]:
    """For one epoch: urgent reply index -> the ordinary reply (same language) written before it.

    Out-of-fold misses were mostly self-harm said after thanks or a complaint in a longer reply:
    mean pooling over the whole reply dilutes it. So each urgent reply is, with probability
    ``share``, read as "<another reply's ordinary feedback> <the urgent reply>" for that epoch,
    keeping its risk level and categories. The draw depends only on ``seed`` (fixed per epoch),
    so training stays reproducible.
    """
    if share <= 0.0:
        return {}
    rng = random.Random(seed)
    partners = partners_by_language(examples, languages)
    out: dict[int, int] = {}
    for i, (e, lang) in enumerate(zip(examples, languages, strict=True)):
        if e.risk != "urgent":
            continue
        draw = rng.random()
        pool = partners.get(lang, [])
        pick = rng.randrange(len(pool)) if pool else -1
        if draw < share and pick >= 0:
            out[i] = pool[pick]
    return out


def buried_text(partner: str, urgent: str) -> str:
    """The two replies as one message: the ordinary feedback first, then the urgent words."""
    return f"{partner.rstrip()} {urgent.lstrip()}"
