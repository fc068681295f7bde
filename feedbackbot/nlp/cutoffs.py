"""Every decision cut-off, chosen on out-of-fold predictions over the training split (never on held-out)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feedbackbot.nlp.baseline import best_threshold
from feedbackbot.nlp.data import Example
from feedbackbot.nlp.folds import OutOfFold
from feedbackbot.nlp.lexical import GROUPS as LEXICAL_GROUPS
from feedbackbot.nlp.lexical import LexicalHeads
from feedbackbot.nlp.model import Thresholds, urgent_scores
from feedbackbot.nlp.taxonomy import load_taxonomy, risk_rank

MODEL_SERIES = "minilm-heads-2026.11.4"
URGENT_RECALL_GOAL = 0.97
RISK_RECALL_GOAL = 0.93
_GRID = [round(float(x), 2) for x in np.arange(0.02, 0.951, 0.01)]
_BLENDS = [round(float(x), 1) for x in np.arange(0.0, 0.71, 0.1)]


@dataclass(frozen=True)
class Decisions:
    """The cut-offs and lexical shares, with a record of how they were chosen (stored in the weights' JSON)."""

    thresholds: Thresholds
    blend: dict[str, float]
    record: dict[str, Any] = field(default_factory=dict)


def _detect(pred: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    tp = float(np.sum(pred & gold))
    return (tp / float(np.sum(pred)) if np.any(pred) else 1.0, tp / float(np.sum(gold)) if np.any(gold) else 1.0)


def risk_cutoff(scores: np.ndarray, gold: np.ndarray, recall_goal: float) -> float:
    """The highest cut-off whose recall reaches ``recall_goal``, else the one with the best F2.

    The safety net is left out on purpose: its rules were written while reading the training
    split, so with it every cut-off would look better than it is on new replies.
    """
    if not np.any(gold):
        return 0.5
    reaching = [t for t in _GRID if _detect(scores >= t, gold)[1] >= recall_goal]
    if reaching:
        return max(reaching)

    def f2(t: float) -> float:
        p, r = _detect(scores >= t, gold)
        return 5 * p * r / (4 * p + r) if p + r else 0.0

    return max(_GRID, key=f2)


def per_label_cutoffs(probs: np.ndarray, gold: np.ndarray) -> tuple[float, ...]:
    """Best-F1 cut-off for each column (0.5 for a label no reply carries)."""
    return tuple(best_threshold(probs[:, j], gold[:, j]) if gold[:, j].any() else 0.5 for j in range(gold.shape[1]))


def choose_blend(encoder_p: np.ndarray, lexical_p: np.ndarray, gold: np.ndarray, seed: int = 0) -> float:
    """The lexical share whose per-label cut-offs, tuned on one half of the replies, score best on the other.

    Forty random halvings (seeded); the score is micro-F1 on the other half; ties go to the
    smaller share. Tuning and scoring on the same replies would favour whatever fits noise.
    """
    rng = np.random.default_rng(seed)
    n = len(gold)
    halves = []
    for _ in range(20):
        perm = rng.permutation(n)
        halves += [(perm[: n // 2], perm[n // 2 :]), (perm[n // 2 :], perm[: n // 2])]

    def score(a: float) -> float:
        p = (1.0 - a) * encoder_p + a * lexical_p
        total = 0.0
        for fit_idx, test_idx in halves:
            cuts = np.array(per_label_cutoffs(p[fit_idx], gold[fit_idx]))
            pred = p[test_idx] >= cuts
            tp = float(np.sum(pred & gold[test_idx]))
            total += 2 * tp / max(1.0, float(np.sum(pred)) + float(np.sum(gold[test_idx])))
        return total / len(halves)

    scores = {a: score(a) for a in _BLENDS}
    return max(_BLENDS, key=lambda a: (round(scores[a], 6), -a))


@dataclass(frozen=True)
class RiskRule:
    """How urgent is decided: which score (``Thresholds.urgent_score``) and whether English and other
    languages get cut-offs of their own."""

    score: str
    per_language: bool

    @property
    def name(self) -> str:
        """A short label for the printed comparison."""
        return f"{self.score}, {'per language group' if self.per_language else 'one cut-off'}"


URGENT_RULES = (RiskRule("risk", False), RiskRule("risk", True),
                RiskRule("categories", False), RiskRule("categories", True))


def _halvings(n: int, rounds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rounds):
        perm = rng.permutation(n)
        out += [(perm[: n // 2], perm[n // 2 :]), (perm[n // 2 :], perm[: n // 2])]
    return out


def _rule_cutoffs(score: np.ndarray, gold: np.ndarray, english: np.ndarray, per_language: bool,
                  goal: float) -> tuple[float, float]:
    """(English cut-off, other-language cut-off) for one rule on these replies."""
    if not per_language:
        cut = risk_cutoff(score, gold, goal)
        return cut, cut
    return risk_cutoff(score[english], gold[english], goal), risk_cutoff(score[~english], gold[~english], goal)


def compare_rules(
    scores: dict[str, np.ndarray], gold: np.ndarray, english: np.ndarray, goal: float, rounds: int = 50, seed: int = 0
) -> dict[RiskRule, tuple[float, float, float]]:
    """Each urgent rule's (recall, precision, F2), model alone, tuned on one half and scored on the other.

    The mean over ``rounds`` random halvings (both ways round): how well a cut-off chosen on
    about 1,150 replies carries over to 1,150 it was not chosen on.
    """
    out: dict[RiskRule, tuple[float, float, float]] = {}
    halves = _halvings(len(gold), rounds, seed)
    for rule in URGENT_RULES:
        s = scores[rule.score]
        got = []
        for tune, test in halves:
            cut_en, cut_other = _rule_cutoffs(s[tune], gold[tune], english[tune], rule.per_language, goal)
            pred = np.where(english[test], s[test] >= cut_en, s[test] >= cut_other)
            p, r = _detect(pred, gold[test])
            got.append((r, p, 5 * p * r / (4 * p + r) if p + r else 0.0))
        mean = np.mean(np.array(got), axis=0)
        out[rule] = (float(mean[0]), float(mean[1]), float(mean[2]))
    return out


def decide_from_oof(
    oof: OutOfFold, examples: Sequence[Example], languages: Sequence[str], log: Callable[[str], None] = print
) -> Decisions:
    """Lexical shares, per-label cut-offs and the risk rule from the pooled out-of-fold probabilities.

    - Lexical share per group: ``choose_blend`` (halvings of the out-of-fold replies).
    - Themes, requests, risk categories: each label's best-F1 cut-off over all out-of-fold replies.
    - Urgent: the rule of ``URGENT_RULES`` with the best F2 across halvings (``compare_rules``), its
      cut-off(s) then set on all out-of-fold replies: the highest at which the model alone finds
      ``URGENT_RECALL_GOAL`` of urgent replies.
    - Safeguarding (any risk): the highest cut-off on P(safeguarding) + P(urgent) that finds
      ``RISK_RECALL_GOAL`` of replies at any risk, for English and for other languages.
    The safety net takes no part (its rules were written from training replies).
    """
    tax = load_taxonomy()
    gold = {
        "themes": np.array([[t in e.themes for t in tax.themes] for e in examples]),
        "requests": np.array([[r in e.requests for r in tax.requests] for e in examples]),
        "risk_categories": np.array([[c in e.risk_categories for c in tax.risk_categories] for e in examples]),
    }
    blend = {g: choose_blend(getattr(oof.encoder, g), oof.lexical[g], gold[g]) for g in LEXICAL_GROUPS}
    log(f"lexical share chosen out of fold: {blend}")
    mixed = {g: (1.0 - blend[g]) * getattr(oof.encoder, g) + blend[g] * oof.lexical[g] for g in LEXICAL_GROUPS}
    level = np.array([risk_rank(e.risk) for e in examples])
    english = np.array([lang == "en" for lang in languages])
    scores = {kind: urgent_scores(oof.encoder, tax, kind) for kind in ("risk", "categories")}
    compared = compare_rules(scores, level >= 2, english, URGENT_RECALL_GOAL)
    for rule, (r, p, f2) in compared.items():
        log(f"urgent rule {rule.name}: recall {r:.3f}, precision {p:.3f}, F2 {f2:.3f} (out-of-fold halves)")
    rule = max(URGENT_RULES, key=lambda x: round(compared[x][2], 6))
    urgent_en, urgent_other = _rule_cutoffs(scores[rule.score], level >= 2, english, rule.per_language,
                                            URGENT_RECALL_GOAL)
    any_p = oof.encoder.risk[:, 1] + oof.encoder.risk[:, 2]
    thresholds = Thresholds(
        themes=per_label_cutoffs(mixed["themes"], gold["themes"]),
        risk_categories=per_label_cutoffs(oof.encoder.risk_categories, gold["risk_categories"]),
        requests=per_label_cutoffs(mixed["requests"], gold["requests"]),
        urgent=urgent_en,
        safeguarding=risk_cutoff(any_p[english], level[english] >= 1, RISK_RECALL_GOAL),
        urgent_other=urgent_other,
        safeguarding_other=risk_cutoff(any_p[~english], level[~english] >= 1, RISK_RECALL_GOAL),
        urgent_score=rule.score,
    )
    log(f"urgent: {rule.name}, cut-offs {urgent_en} (English) / {urgent_other} (other languages); "
        f"any risk: {thresholds.safeguarding} / {thresholds.safeguarding_other}")
    record = {
        "replies": len(examples),
        "urgent": int(np.sum(level >= 2)),
        "any_risk": int(np.sum(level >= 1)),
        "urgent_rule": {"score": rule.score, "per_language": rule.per_language},
        "urgent_rules_compared": {x.name: {"recall": round(v[0], 4), "precision": round(v[1], 4),
                                           "f2": round(v[2], 4)} for x, v in compared.items()},
    }
    return Decisions(thresholds, blend, record)


def weights_version(tensors: dict[str, np.ndarray], thresholds: Thresholds, lexical: LexicalHeads | None = None) -> str:
    """``minilm-heads-<series>+<first 10 hex of SHA-256 over the tensors, lexical heads and cut-offs>``."""
    h = hashlib.sha256()
    arrays = dict(tensors)
    if lexical is not None:
        arrays.update({f"lexical.{k}": v for k, v in lexical.tensors().items()})
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name], dtype=np.float32).tobytes())
    if lexical is not None:
        h.update(json.dumps([lexical.words_vocab, lexical.chars_vocab, lexical.blend], sort_keys=True).encode())
    h.update(json.dumps(thresholds.to_json(), sort_keys=True).encode())
    return f"{MODEL_SERIES}+{h.hexdigest()[:10]}"
