"""The ``classify``, ``evaluate`` and ``train`` commands, added to the main ``feedbackbot`` parser."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from feedbackbot.nlp.types import Classifier

DEFAULT_CORPUS = Path("data/corpus")
DEFAULT_SPLIT = Path("data/split")
DEFAULT_OOF = Path("data/oof")
DEFAULT_CACHE = Path("var/train")
BATCH_SIZE = 64


@contextmanager
def _open_in(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdin
    else:
        with open(path, encoding="utf-8") as fh:
            yield fh


@contextmanager
def _open_out(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
    else:
        with open(path, "w", encoding="utf-8") as fh:
            yield fh


def _at_least(low: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {raw!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value

    return parse


def _load(args: argparse.Namespace) -> Classifier:
    if getattr(args, "keyword_stand_in", False):
        from feedbackbot.nlp.keyword import KeywordClassifier

        return KeywordClassifier()
    from feedbackbot.nlp.model import load_classifier

    return load_classifier()


def classify_stream(
    classifier: Classifier, src: IO[str], dst: IO[str], err: IO[str], batch_size: int = BATCH_SIZE
) -> tuple[int, int]:
    """Classify JSONL replies from ``src`` into ``dst``; return (classified, skipped).

    Each input line needs ``id`` and ``text``. A line that is not JSON, or lacks them, is
    reported on ``err`` with its line number and skipped; the rest are still classified.
    Output lines carry the same ``id`` and the tags, never the reply text.
    """
    done = skipped = 0
    batch: list[tuple[Any, str]] = []

    def flush() -> None:
        nonlocal done
        if not batch:
            return
        results = classifier.classify([text for _, text in batch])
        for (rid, _), result in zip(batch, results, strict=True):
            dst.write(json.dumps({"id": rid, **result.to_json()}, ensure_ascii=False) + "\n")
        done += len(batch)
        batch.clear()

    for n, line in enumerate(src, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            err.write(f"line {n}: not valid JSON ({exc.msg}); skipped\n")
            skipped += 1
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or "id" not in obj:
            err.write(f"line {n}: needs an object with 'id' and a string 'text'; skipped\n")
            skipped += 1
            continue
        if not isinstance(obj["id"], str | int):
            err.write(f"line {n}: 'id' must be a string or a number; skipped\n")
            skipped += 1
            continue
        batch.append((obj["id"], obj["text"]))
        if len(batch) >= batch_size:
            flush()
    flush()
    return done, skipped


def _cmd_classify(args: argparse.Namespace) -> int:
    classifier = _load(args)
    with _open_in(args.input) as src, _open_out(args.output) as dst:
        done, skipped = classify_stream(classifier, src, dst, sys.stderr, args.batch_size)
    sys.stderr.write(f"classified {done} replies, skipped {skipped} bad lines ({classifier.model_version})\n")
    return 1 if skipped else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from feedbackbot.nlp.evaluation import evaluate_file

    classifier = _load(args)
    text, ok = evaluate_file(
        classifier,
        Path(args.file) if args.file else None,
        corpus=Path(args.corpus),
        split_dir=Path(args.split),
        as_json=args.json,
    )
    print(text)
    return 0 if ok else 1


def _cmd_train(args: argparse.Namespace) -> int:
    from feedbackbot.nlp.train import TrainConfig, train

    config = TrainConfig(
        corpus=Path(args.corpus),
        out_dir=Path(args.out) if args.out else None,
        split_dir=Path(args.split),
        oof_dir=Path(args.oof_dir),
        cache_dir=Path(args.cache_dir),
        seed=args.seed,
        epochs=args.epochs,
        folds=args.folds,
        threads=args.threads,
        jobs=args.jobs,
    )
    if args.part:
        from feedbackbot.nlp.train import part_names, run_part

        if args.part not in part_names(config):
            print(f"train: --part must be one of {', '.join(part_names(config))}, not {args.part!r}", file=sys.stderr)
            return 2
        run_part(config, args.part, log=lambda msg: print(f"[{args.part}] {msg}", file=sys.stderr, flush=True))
        return 0
    report_text, ok = train(config, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(report_text)
    return 0 if ok else 1


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``classify``, ``evaluate`` and ``train``; each sets ``func(args) -> int`` (the exit status)."""
    p = subparsers.add_parser(
        "classify",
        help="tag free-text replies (JSONL in, JSONL out)",
        description="Read JSONL replies with 'id' and 'text'; write one JSONL object per reply with the same id "
        "and themes, sentiment, risk, risk_categories, requests, language, scores, cues and model_version. "
        "Bad lines are reported on stderr by line number and skipped; the exit status is 1 if any were.",
    )
    p.add_argument("--input", metavar="FILE", help="JSONL to read (default: stdin)")
    p.add_argument("--output", metavar="FILE", help="JSONL to write (default: stdout)")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="replies per model call (default: %(default)s)")
    p.add_argument("--keyword-stand-in", action="store_true", help="use the keyword stand-in, not the model")
    p.set_defaults(func=_cmd_classify)

    p = subparsers.add_parser(
        "evaluate",
        help="held-out figures for the shipped model and the TF-IDF baseline",
        description="Per-label precision, recall and F1, micro and macro F1 per group, the risk confusion "
        "matrix and the target figures, for the shipped model beside a TF-IDF + logistic-regression "
        "baseline trained on the training split. FILE is labelled JSONL like data/corpus; without it, "
        "the project's held-out split is used. Exit status 1 if a target is missed.",
    )
    p.add_argument("file", nargs="?", metavar="FILE.jsonl", help="labelled replies (default: the held-out split)")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="labelled corpus directory (default: %(default)s)")
    p.add_argument("--split", default=str(DEFAULT_SPLIT), help="where the split ids live (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--keyword-stand-in", action="store_true", help="evaluate the keyword stand-in instead")
    p.set_defaults(func=_cmd_evaluate)

    p = subparsers.add_parser(
        "train",
        help="reproduce the shipped weights from data/ and print held-out figures",
        description="Split the corpus (deterministic, stratified); fine-tune the encoder's adapters and heads "
        "with fixed seeds once per fold of the training split (each scoring the fold it left out) and once "
        "on the whole training split; choose every cut-off on the pooled out-of-fold predictions; write the "
        "weights and the split ids, and print held-out figures beside the baseline. Finished trainings are "
        "cached (--oof-dir, --cache-dir) and reused while the data and recipe are unchanged.",
    )
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="labelled corpus directory (default: %(default)s)")
    p.add_argument("--split", default=str(DEFAULT_SPLIT), help="where to write the split ids (default: %(default)s)")
    p.add_argument("--out", help="weights directory (default: the package's feedbackbot/nlp/weights)")
    p.add_argument("--seed", type=int, default=20261101, help="random seed (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the shipped recipe's)")
    p.add_argument("--folds", type=_at_least(2), default=4, help="out-of-fold trainings (default: %(default)s)")
    p.add_argument("--threads", type=_at_least(1), default=1,
                   help="threads per training; the weights depend on it (default: %(default)s)")
    p.add_argument("--jobs", type=_at_least(1), default=2,
                   help="trainings run at once, each in its own process (default: %(default)s)")
    p.add_argument("--oof-dir", default=str(DEFAULT_OOF),
                   help="where each fold's out-of-fold probabilities are cached (default: %(default)s)")
    p.add_argument("--cache-dir", default=str(DEFAULT_CACHE),
                   help="where the final fit's tensors are cached (default: %(default)s)")
    p.add_argument("--part", metavar="PART",
                   help="run one training only (final, fold-0, fold-1, ...) and cache it; used by train itself")
    p.set_defaults(func=_cmd_train)


def main(argv: list[str] | None = None) -> int:
    """Run the three commands on their own (``python -m feedbackbot.nlp.cli``)."""
    parser = argparse.ArgumentParser(prog="feedbackbot")
    sub = parser.add_subparsers(dest="command", required=True)
    add_commands(sub)
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())
