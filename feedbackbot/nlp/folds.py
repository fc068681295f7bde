"""Out-of-fold predictions over the training split: what k trainings said about the replies each left out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feedbackbot.nlp.data import Example
from feedbackbot.nlp.gloss import encoder_text
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.lexical import GROUPS as LEXICAL_GROUPS
from feedbackbot.nlp.model import FloatArray, Probabilities

ENCODER_GROUPS = ("themes", "sentiment", "risk", "risk_categories", "requests")
FIT_CODE_VERSION = "2026.11.4-folds-1"


def fold_file(oof_dir: Path, fold: int) -> Path:
    """Where fold ``fold``'s out-of-fold probabilities are cached."""
    return oof_dir / f"fold-{fold}.safetensors"


def fingerprint(recipe: Mapping[str, Any], train_set: Sequence[Example], folds: Mapping[str, int]) -> str:
    """SHA-256 over the fitting recipe, every training reply (text, what the encoder reads, labels) and its fold.

    A cached fold is reused only when its fingerprint matches: any change to the corpus's
    training replies, the split, the fold assignment, the recipe, or how a reply is glossed for
    the encoder (the glossary, the language detector) makes it stale.
    """
    h = hashlib.sha256()
    h.update(json.dumps({"code": FIT_CODE_VERSION, "recipe": dict(recipe)}, sort_keys=True, default=str).encode())
    for e in sorted(train_set, key=lambda x: x.id):
        read = encoder_text(e.text, detect_language(e.text))
        row = [e.id, e.text, read, e.themes, e.sentiment, e.risk, e.risk_categories, e.requests, folds[e.id]]
        h.update(json.dumps(row, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass(frozen=True)
class OutOfFold:
    """Probabilities for training replies from the fold models that did not see them.

    ``encoder`` holds the adapted encoder's heads (no lexical blend); ``lexical`` the lexical
    heads' themes and requests, fitted on the same fold's training replies.
    """

    ids: tuple[str, ...]
    fold: FloatArray
    encoder: Probabilities
    lexical: dict[str, FloatArray]

    def save(self, path: Path, fold_fingerprint: str) -> None:
        """Write the arrays (safetensors, no pickle) with the ids and fingerprint as metadata."""
        from safetensors.numpy import save_file

        arrays = {f"encoder.{g}": np.ascontiguousarray(getattr(self.encoder, g)) for g in ENCODER_GROUPS}
        arrays.update({f"lexical.{g}": np.ascontiguousarray(self.lexical[g]) for g in LEXICAL_GROUPS})
        arrays["fold"] = np.ascontiguousarray(self.fold)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_file(arrays, str(tmp), metadata={"fingerprint": fold_fingerprint, "ids": json.dumps(self.ids)})
        tmp.chmod(0o644)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, expected_fingerprint: str) -> OutOfFold | None:
        """The cached fold, or None when it is missing or was made from other data or another recipe."""
        from safetensors import safe_open

        if not path.is_file():
            return None
        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
        if meta.get("fingerprint") != expected_fingerprint:
            return None
        return cls.read(path)

    @classmethod
    def read(cls, path: Path) -> OutOfFold:
        """The fold file as it is, whatever data or recipe made it (for analyses of a committed ``data/oof``)."""
        from safetensors import safe_open
        from safetensors.numpy import load_file

        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
        t = load_file(str(path))
        return cls(
            tuple(json.loads(meta["ids"])),
            np.asarray(t["fold"], dtype=np.float32),
            Probabilities(*(np.asarray(t[f"encoder.{g}"], dtype=np.float32) for g in ENCODER_GROUPS)),
            {g: np.asarray(t[f"lexical.{g}"], dtype=np.float32) for g in LEXICAL_GROUPS},
        )

    @classmethod
    def pool(cls, parts: Sequence[OutOfFold]) -> OutOfFold:
        """All folds' rows together, ordered by reply id."""
        ids = [i for p in parts for i in p.ids]
        order = np.argsort(np.array(ids, dtype=object), kind="stable")

        def cat(arrays: Sequence[FloatArray]) -> FloatArray:
            return np.asarray(np.concatenate(arrays)[order], dtype=np.float32)

        return cls(
            tuple(ids[i] for i in order),
            cat([p.fold for p in parts]),
            Probabilities(*(cat([getattr(p.encoder, g) for p in parts]) for g in ENCODER_GROUPS)),
            {g: cat([p.lexical[g] for p in parts]) for g in LEXICAL_GROUPS},
        )
