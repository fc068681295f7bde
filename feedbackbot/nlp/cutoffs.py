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
from feedbackbot.nlp.model import URGENT_SCORES, Thresholds, any_risk_scores, urgent_scores
from feedbackbot.nlp.riskhead import out_of_fold_risk, urgent_lexical
from feedbackbot.nlp.safety import apply_safety_net, scan
from feedbackbot.nlp.taxonomy import load_taxonomy, risk_rank

MODEL_SERIES = "minilm-heads-2026.11.13"
# The model alone must reach this precision out of fold. It sits above the 0.70 floor because the
# safety net adds its own false alarms on replies its rules were not written from: on the 496
# round-6 training replies (read only after the net was last changed) it raised 0.026 of the other
# replies to urgent beyond what the model flagged, and found 0.056 more urgent ones. With those
# rates, 0.78 out of fold gives about 0.73 for the model and the net together (0.75 gave 0.71).
URGENT_PRECISION_GOAL = 0.78
PRECISION_SLACK = 0.02
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


def precision_cutoff(scores: np.ndarray, gold: np.ndarray, goal: float) -> float:
    """The cut-off with the highest recall whose precision reaches ``goal`` (ties: the higher cut-off).

    When no cut-off reaches ``goal``, the one with the best F2 (as ``risk_cutoff`` falls back).
    """
    if not np.any(gold):
        return 0.5
    flags, tp = _counts(scores, gold)
    grid = np.array(_GRID)
    return float(grid[_pick(flags, tp, int(np.sum(gold)), grid, goal)])


def _counts(scores: np.ndarray, gold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each cut-off of the grid: (replies flagged, urgent replies flagged)."""
    flagged = scores[None, :] >= np.array(_GRID)[:, None]
    return flagged.sum(axis=1).astype(np.int64), (flagged & gold[None, :]).sum(axis=1).astype(np.int64)


def _pick(flags: np.ndarray, tp: np.ndarray, total: int, tiebreak: np.ndarray, goal: float) -> tuple[int, ...]:
    """Index of the candidate with the most urgent replies found at precision >= ``goal`` (ties: the
    highest ``tiebreak``, i.e. the highest cut-offs); with none reaching ``goal``, the best F2."""
    recall = tp / max(1, total)
    precision = np.where(flags > 0, tp / np.maximum(flags, 1), 1.0)
    ok = precision >= goal
    if ok.any():
        main = np.where(ok, tp, -1).astype(np.float64)
    else:
        main = 5 * precision * recall / np.maximum(4 * precision + recall, 1e-12)
    best = main == main.max()
    index = np.unravel_index(int(np.argmax(np.where(best, tiebreak, -np.inf))), main.shape)
    return tuple(int(i) for i in index)


def joint_cutoffs(scores: np.ndarray, gold: np.ndarray, english: np.ndarray, goal: float) -> tuple[float, float]:
    """(English, other-language) cut-offs with the highest recall over all replies at precision >= ``goal``.

    The precision floor is on all replies together, so the two cut-offs share it: a language
    group whose scores separate urgent replies less well gets a cut-off that costs no more false
    alarms per urgent reply found than the other's. Ties go to the higher cut-offs (fewer flags).
    When only one group is present both cut-offs are that group's; when no pair reaches
    ``goal``, the pair with the best F2.
    """
    if english.all() or not english.any():
        cut = precision_cutoff(scores, gold, goal)
        return cut, cut
    n_en, tp_en = _counts(scores[english], gold[english])
    n_ot, tp_ot = _counts(scores[~english], gold[~english])
    grid = np.array(_GRID)
    i, j = _pick(n_en[:, None] + n_ot[None, :], tp_en[:, None] + tp_ot[None, :], int(np.sum(gold)),
                 grid[:, None] + grid[None, :], goal)
    return float(grid[i]), float(grid[j])


@dataclass(frozen=True)
class RiskRule:
    """How urgent is decided: which score (``Thresholds.urgent_score``) and whether English and other
    languages get cut-offs of their own (chosen together, under one precision floor)."""

    score: str
    per_language: bool
    lexical: float = 0.0

    @property
    def name(self) -> str:
        """A short label for the printed comparison."""
        lexical = f" + {self.lexical} lexical" if self.lexical else ""
        return f"{self.score}{lexical}, {'per language group' if self.per_language else 'one cut-off'}"


LEXICAL_SHARES = (0.0, 0.2, 0.4, 0.6, 0.8)
# The any-risk score's shares (round 11 widened only the urgent rule's grid).
ANY_RISK_SHARES = (0.0, 0.2, 0.4, 0.6)
# Simplest first: a later rule must find clearly more urgent replies on the halves to be chosen.
URGENT_RULES = tuple(RiskRule(score, per_language, share) for share in LEXICAL_SHARES
                     for per_language in (False, True) for score in ("risk", "categories", "mean"))
RECALL_TIE = 0.005


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
        cut = precision_cutoff(score, gold, goal)
        return cut, cut
    return joint_cutoffs(score, gold, english, goal)


@dataclass(frozen=True)
class RuleResult:
    """One urgent rule on the halves (means): the model alone, and with the safety net raising."""

    recall: float
    precision: float
    recall_other: float
    precision_other: float
    recall_with_net: float
    precision_with_net: float

    def to_json(self) -> dict[str, float]:
        """Rounded for the weights' JSON."""
        return {k: round(v, 4) for k, v in self.__dict__.items()}


def compare_rules(
    scores: dict[str, np.ndarray], gold: np.ndarray, english: np.ndarray, net_urgent: np.ndarray, goal: float,
    rounds: int = 25, seed: int = 0,
) -> dict[RiskRule, RuleResult]:
    """Each urgent rule tuned on one half of the out-of-fold replies and scored on the other.

    Means over ``rounds`` random halvings (both ways round) of recall and precision, for the
    model alone, for the non-English replies alone, and with the safety net (``net_urgent``:
    the net alone raises the reply to urgent) — the last is optimistic, since the net's rules
    were written while reading these training replies.
    """
    out: dict[RiskRule, RuleResult] = {}
    halves = _halvings(len(gold), rounds, seed)
    for rule in URGENT_RULES:
        s = scores[rule.score] if not rule.lexical else (
            (1.0 - rule.lexical) * scores[rule.score] + rule.lexical * scores["lexical"])
        got = []
        for tune, test in halves:
            cut_en, cut_other = _rule_cutoffs(s[tune], gold[tune], english[tune], rule.per_language, goal)
            pred = np.where(english[test], s[test] >= cut_en, s[test] >= cut_other)
            p, r = _detect(pred, gold[test])
            other = ~english[test]
            po, ro = _detect(pred[other], gold[test][other])
            pn, rn = _detect(pred | net_urgent[test], gold[test])
            got.append((r, p, ro, po, rn, pn))
        out[rule] = RuleResult(*(float(x) for x in np.mean(np.array(got), axis=0)))
    return out


def choose_rule(compared: dict[RiskRule, RuleResult], goal: float) -> RiskRule:
    """The rule that finds the most urgent replies on the halves, among those whose precision there
    stays within ``PRECISION_SLACK`` of ``goal`` (a rule that overfits its cut-offs falls short of it).
    Rules within ``RECALL_TIE`` of the best recall count as tied (differences that small are noise
    on a few hundred urgent replies) and the earliest, simplest of them is taken. If none holds its
    precision: the most precise."""
    rules = list(compared)
    holding = [r for r in rules if compared[r].precision >= goal - PRECISION_SLACK]
    if not holding:
        return max(rules, key=lambda r: round(compared[r].precision, 3))
    best = max(compared[r].recall for r in holding)
    return next(r for r in holding if compared[r].recall >= best - RECALL_TIE)


def choose_any_share(base: np.ndarray, lexical: np.ndarray, gold: np.ndarray, english: np.ndarray,
                     rounds: int = 25, seed: int = 0) -> tuple[float, dict[float, float]]:
    """The lexical risk head's share in the any-risk score, and each share's F2 on the halves.

    For each share, per-language-group cut-offs at ``RISK_RECALL_GOAL`` recall are set on one half
    and F2 is scored on the other; shares within ``RECALL_TIE`` of the best F2 count as tied and
    the smallest of them is taken.
    """
    halves = _halvings(len(gold), rounds, seed)
    f2: dict[float, float] = {}
    for share in ANY_RISK_SHARES:
        s = (1.0 - share) * base + share * lexical
        got = []
        for tune, test in halves:
            en_t, en_s = english[tune], english[test]
            cut_en = risk_cutoff(s[tune][en_t], gold[tune][en_t], RISK_RECALL_GOAL)
            cut_other = risk_cutoff(s[tune][~en_t], gold[tune][~en_t], RISK_RECALL_GOAL)
            p, r = _detect(np.where(en_s, s[test] >= cut_en, s[test] >= cut_other), gold[test])
            got.append(5 * p * r / (4 * p + r) if p + r else 0.0)
        f2[share] = float(np.mean(got))
    best = max(f2.values())
    return next(x for x in ANY_RISK_SHARES if f2[x] >= best - RECALL_TIE), f2


def net_raises_to_urgent(texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """Whether the safety net alone would make each reply urgent."""
    out = []
    for text, language in zip(texts, languages, strict=True):
        level, _ = apply_safety_net("none", (), scan(text, language=language))
        out.append(level == "urgent")
    return np.array(out, dtype=bool)


def decide_from_oof(
    oof: OutOfFold, examples: Sequence[Example], languages: Sequence[str], log: Callable[[str], None] = print
) -> Decisions:
    """Lexical shares, per-label cut-offs and the risk rule from the pooled out-of-fold probabilities.

    - Lexical share per group: ``choose_blend`` (halvings of the out-of-fold replies).
    - Themes, requests, risk categories: each label's best-F1 cut-off over all out-of-fold replies.
    - Urgent: the rule of ``URGENT_RULES`` (score, lexical risk head's share, one cut-off or one per
      language group) chosen by ``choose_rule`` on halvings (``compare_rules``), its cut-off(s) then
      set on all out-of-fold replies: the most urgent replies found by the model alone at precision
      >= ``URGENT_PRECISION_GOAL`` (a margin above the 0.70 floor). The lexical risk head's
      out-of-fold scores come from refitting it on the folds (``riskhead.out_of_fold_risk``).
    - Safeguarding (any risk): the lexical share of the any-risk score (``choose_any_share``), then
      the highest cut-off that finds ``RISK_RECALL_GOAL`` of replies at any risk, for English and
      for other languages.
    The safety net takes no part in any choice (its rules were written from training replies, so
    its recall on them is optimistic); its effect is only recorded.
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
    urgent = level >= 2
    english = np.array([lang == "en" for lang in languages])
    net = net_raises_to_urgent([e.text for e in examples], languages)
    lexical_risk = out_of_fold_risk(examples, languages, [int(f) for f in oof.fold])
    scores = {kind: urgent_scores(oof.encoder, tax, kind) for kind in URGENT_SCORES}
    scores["lexical"] = urgent_lexical(lexical_risk)
    goal = URGENT_PRECISION_GOAL
    compared = compare_rules(scores, urgent, english, net, goal)
    for rule, res in compared.items():
        log(f"urgent rule {rule.name}: model alone recall {res.recall:.3f}, precision {res.precision:.3f} "
            f"(other languages {res.recall_other:.3f} / {res.precision_other:.3f}); with the net "
            f"{res.recall_with_net:.3f} / {res.precision_with_net:.3f} (out-of-fold halves)")
    rule = choose_rule(compared, goal)
    chosen = (1.0 - rule.lexical) * scores[rule.score] + rule.lexical * scores["lexical"]
    urgent_en, urgent_other = _rule_cutoffs(chosen, urgent, english, rule.per_language, goal)
    pred = np.where(english, chosen >= urgent_en, chosen >= urgent_other)
    any_share, any_f2 = choose_any_share(any_risk_scores(oof.encoder, tax), lexical_risk[:, 1], level >= 1, english)
    log("any-risk score, lexical share: " + ", ".join(f"{k} F2 {v:.3f}" for k, v in any_f2.items())
        + f" (out-of-fold halves): {any_share}")
    any_p = (1.0 - any_share) * any_risk_scores(oof.encoder, tax) + any_share * lexical_risk[:, 1]
    thresholds = Thresholds(
        themes=per_label_cutoffs(mixed["themes"], gold["themes"]),
        risk_categories=per_label_cutoffs(oof.encoder.risk_categories, gold["risk_categories"]),
        requests=per_label_cutoffs(mixed["requests"], gold["requests"]),
        urgent=urgent_en,
        safeguarding=risk_cutoff(any_p[english], level[english] >= 1, RISK_RECALL_GOAL),
        urgent_other=urgent_other,
        safeguarding_other=risk_cutoff(any_p[~english], level[~english] >= 1, RISK_RECALL_GOAL),
        urgent_score=rule.score,
        urgent_lexical=rule.lexical,
        any_lexical=any_share,
    )

    def figures(keep: np.ndarray) -> dict[str, float]:
        p, r = _detect(pred[keep], urgent[keep])
        pn, rn = _detect((pred | net)[keep], urgent[keep])
        return {"recall": round(r, 4), "precision": round(p, 4), "recall_with_net": round(rn, 4),
                "precision_with_net": round(pn, 4)}

    at_cutoffs = {"all": figures(np.ones(len(urgent), dtype=bool)), "en": figures(english), "other": figures(~english)}
    log(f"urgent: {rule.name}, cut-offs {urgent_en} (English) / {urgent_other} (other languages); "
        f"any risk: {thresholds.safeguarding} / {thresholds.safeguarding_other}")
    for group, f in at_cutoffs.items():
        log(f"urgent out of fold ({group}): model alone recall {f['recall']:.3f}, precision {f['precision']:.3f}; "
            f"with the net {f['recall_with_net']:.3f} / {f['precision_with_net']:.3f} (optimistic)")
    record = {
        "replies": len(examples),
        "urgent": int(np.sum(urgent)),
        "any_risk": int(np.sum(level >= 1)),
        "urgent_precision_goal": goal,
        "urgent_rule": {"score": rule.score, "per_language": rule.per_language, "lexical": rule.lexical},
        "any_risk_lexical_f2": {str(k): round(v, 4) for k, v in any_f2.items()},
        "urgent_rules_compared": {x.name: v.to_json() for x, v in compared.items()},
        "urgent_at_cutoffs": at_cutoffs,
    }
    return Decisions(thresholds, blend, record)


def weights_version(tensors: dict[str, np.ndarray], thresholds: Thresholds, lexical: LexicalHeads | None = None,
                    risk_lexical: LexicalHeads | None = None) -> str:
    """``minilm-heads-<series>+<first 10 hex of SHA-256 over the tensors, lexical heads and cut-offs>``."""
    h = hashlib.sha256()
    arrays = dict(tensors)
    if lexical is not None:
        arrays.update({f"lexical.{k}": v for k, v in lexical.tensors().items()})
    if risk_lexical is not None:
        arrays.update({f"risk_lexical.{k}": v for k, v in risk_lexical.tensors().items()})
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name], dtype=np.float32).tobytes())
    if lexical is not None:
        h.update(json.dumps([lexical.words_vocab, lexical.chars_vocab, lexical.blend], sort_keys=True).encode())
    if risk_lexical is not None:
        h.update(json.dumps([risk_lexical.words_vocab, risk_lexical.chars_vocab], sort_keys=True).encode())
    h.update(json.dumps(thresholds.to_json(), sort_keys=True).encode())
    return f"{MODEL_SERIES}+{h.hexdigest()[:10]}"
