"""Classifier speed: load time, single-reply latency (p50, p99), batch throughput, and the FLOP-bound ratio.

Run: .venv/bin/python bench/classify.py [--write]   (--write updates the "## Classifier" section of
docs/performance.md). Replies are the corpus texts in data/corpus, so lengths are realistic.

FLOP-bound estimate. all-MiniLM-L6-v2 has 6 layers, hidden size d = 384, feed-forward 4d. Per
token and layer, the dense work is q, k, v and output projections (4 d^2 multiply-adds) and the
feed-forward (8 d^2), so 12 d^2 MACs = 24 d^2 FLOPs; attention scores and the weighted sum add
4 L d FLOPs per token for a sequence of L tokens. A batch therefore needs
    FLOPs = 6 * sum over sequences of (24 d^2 L_pad + 4 L_pad^2 d)
with L_pad the padded length the encoder actually ran (its own batches of similar length, counted on
what it reads: a non-English reply with its English glosses appended). The machine's bound is measured, not
quoted: the best of several float32 1024x1024 matrix multiplications through torch on the same
threads. The ratio reported is achieved FLOP/s divided by that bound (1.0 = running at the
speed of a large matmul; tokenisation, small matrices, softmax, the heads and the safety net
keep real work below it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
SECTION = "## Classifier"
LAYERS, HIDDEN = 6, 384


def corpus_texts(limit: int) -> list[str]:
    texts: list[str] = []
    for path in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                texts.append(obj["text"])
    # A fixed, spread-out sample so every language and length is in it.
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


def load_seconds() -> float:
    """Seconds from a fresh interpreter's start to a loaded classifier (imports included)."""
    code = (
        "import time; t = time.perf_counter(); from feedbackbot.nlp import load_classifier; "
        "c = load_classifier(); c.classify(['ok']); print(time.perf_counter() - t)"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    import torch

    a = torch.randn(n, n)
    b = torch.randn(n, n)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(3):
            a @ b
        for _ in range(repeats):
            t = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def encoder_flops(padded_lengths: list[int]) -> float:
    return float(LAYERS * sum(24 * HIDDEN**2 * n + 4 * n * n * HIDDEN for n in padded_lengths))


def padded_lengths(tokens: list[int], batch_size: int) -> list[int]:
    """The lengths the encoder runs: its own batches of similar length, each padded to its longest."""
    from feedbackbot.nlp.encoder import length_groups

    out: list[int] = []
    for group in length_groups(tokens, batch_size):
        out += [max(tokens[i] for i in group)] * len(group)
    return out


def encoder_inputs(texts: list[str]) -> list[str]:
    """What the encoder reads of each reply: non-English replies carry appended English glosses."""
    from feedbackbot.nlp.gloss import encoder_text
    from feedbackbot.nlp.language import detect_language

    return [encoder_text(t, detect_language(t)) for t in texts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", type=int, default=300, help="replies timed one at a time")
    parser.add_argument("--batch", type=int, default=1000, help="replies in the throughput run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()

    import torch

    from feedbackbot.nlp import load_classifier

    load_before = os.getloadavg()[0]
    load = load_seconds()
    clf = load_classifier()
    clf.batch_size = args.batch_size
    threads = torch.get_num_threads()
    single_texts = corpus_texts(args.single)
    batch_texts = corpus_texts(args.batch)
    for t in single_texts[:20]:
        clf.classify([t])
    lat = []
    for t in single_texts:
        start = time.perf_counter()
        clf.classify([t])
        lat.append((time.perf_counter() - start) * 1000)
    lat.sort()
    p50 = lat[len(lat) // 2]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    clf.classify(batch_texts[:64])
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        clf.classify(batch_texts)
        runs.append(time.perf_counter() - start)
    batch_s = min(runs)
    throughput = len(batch_texts) / batch_s
    tokens = clf.encoder.count_tokens(encoder_inputs(batch_texts))
    single_tokens = clf.encoder.count_tokens(encoder_inputs(single_texts))
    peak = matmul_gflops()
    batch_flops = encoder_flops(padded_lengths(tokens, args.batch_size))
    batch_ratio = batch_flops / batch_s / 1e9 / peak
    single_flops_p50 = encoder_flops([sorted(single_tokens)[len(single_tokens) // 2]])
    single_ratio = single_flops_p50 / (p50 / 1000) / 1e9 / peak
    rows = [
        ("model", clf.model_version),
        ("machine", f"{platform.machine()}, {threads} torch threads, torch {torch.__version__}"),
        ("load average before / after (other processes)", f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"),
        ("load (fresh process, imports included)", f"{load:.2f} s  (target < 10 s)"),
        ("single reply p50", f"{p50:.1f} ms  (target < 25 ms)"),
        ("single reply p99", f"{p99:.1f} ms"),
        (f"batch throughput ({len(batch_texts)} replies, batches of {args.batch_size})",
         f"{throughput:.0f} replies/s  (target >= 150)"),
        ("mean tokens per reply (as the encoder reads it, glosses included)", f"{statistics.mean(tokens):.1f}"),
        ("measured matmul bound", f"{peak:.1f} GFLOP/s (float32 1024x1024)"),
        ("batch: encoder GFLOP/s, ratio to bound", f"{batch_flops / batch_s / 1e9:.1f}, {batch_ratio:.2f}"),
        ("single p50: ratio to bound", f"{single_ratio:.2f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    ok = load < 10 and p50 < 25 and throughput >= 150
    if args.write:
        write_section(rows)
    return 0 if ok else 1


def write_section(rows: list[tuple[str, str]]) -> None:
    table = "\n".join(["| measure | figure |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
    body = f"""{SECTION}

Measured by `.venv/bin/python bench/classify.py --write` on this 2-core CPU, with corpus replies
(every language and length). Single-reply latency covers the whole `classify` call: tokenising,
the encoder, the heads, language detection and the safety net. The FLOP-bound ratio divides the
encoder's FLOPs (6 layers x (24 d^2 L + 4 L^2 d) per sequence, d = 384, L the padded length) per
second by the speed of a float32 1024x1024 matmul measured on the same threads; see the
docstring of `bench/classify.py`. Other processes on the machine move these figures by tens of
per cent: compare runs on a quiet machine.

{table}
"""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    start = text.find(SECTION + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        # Replace the introduction and the table; notes written after the table stay.
        nxt = text.find("\n## ", start + len(SECTION))
        end = len(text) if nxt == -1 else nxt + 1
        table_at = text.find("| measure | figure |", start, end)
        if table_at != -1:
            lines_end = table_at
            while lines_end < end and text.startswith("|", lines_end):
                newline = text.find("\n", lines_end, end)
                lines_end = end if newline == -1 else newline + 1
            end = lines_end
        text = text[:start] + body + text[end:]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
