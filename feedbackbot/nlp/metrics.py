"""Held-out figures: per-label precision/recall/F1, micro/macro F1 per group, the risk confusion matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from feedbackbot.nlp.taxonomy import Taxonomy


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 for one label, with the support (gold count)."""

    precision: float
    recall: float
    f1: float
    support: int


def prf(tp: int, fp: int, fn: int) -> PRF:
    """Precision, recall and F1 from counts (0 when undefined)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(p, r, f, tp + fn)


@dataclass(frozen=True)
class GroupReport:
    """Figures for one label group (themes, sentiment, risk_level, risk_categories, requests)."""

    per_label: Mapping[str, PRF]
    micro_f1: float
    macro_f1: float
    accuracy: float | None = None


@dataclass(frozen=True)
class Report:
    """All held-out figures for one classifier, including the risk-specific targets."""

    n: int
    groups: Mapping[str, GroupReport]
    risk_confusion: Mapping[str, Mapping[str, int]]
    urgent: PRF
    safeguarding_or_urgent: PRF
    extra: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict of the report."""

        def p(x: PRF) -> dict[str, float | int]:
            return {"precision": round(x.precision, 4), "recall": round(x.recall, 4), "f1": round(x.f1, 4),
                    "support": x.support}

        return {
            "n": self.n,
            "groups": {
                name: {
                    "micro_f1": round(g.micro_f1, 4),
                    "macro_f1": round(g.macro_f1, 4),
                    **({"accuracy": round(g.accuracy, 4)} if g.accuracy is not None else {}),
                    "per_label": {k: p(v) for k, v in g.per_label.items()},
                }
                for name, g in self.groups.items()
            },
            "risk_confusion": {k: dict(v) for k, v in self.risk_confusion.items()},
            "urgent": p(self.urgent),
            "safeguarding_or_urgent": p(self.safeguarding_or_urgent),
        }


def multilabel_report(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], labels: Sequence[str]
) -> GroupReport:
    """Per-label and micro/macro figures for a multi-label group."""
    per: dict[str, PRF] = {}
    tp_all = fp_all = fn_all = 0
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if label in g and label in p)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if label not in g and label in p)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if label in g and label not in p)
        per[label] = prf(tp, fp, fn)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    present = [v for v in per.values() if v.support]
    macro = sum(v.f1 for v in present) / len(present) if present else 0.0
    return GroupReport(per, prf(tp_all, fp_all, fn_all).f1, macro)


def single_label_report(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> GroupReport:
    """Per-label figures, accuracy and macro F1 for a one-of-n group."""
    group = multilabel_report([[g] for g in gold], [[p] for p in pred], labels)
    acc = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / len(gold) if gold else 0.0
    return GroupReport(group.per_label, acc, group.macro_f1, acc)


@dataclass(frozen=True)
class Labels:
    """The four groups of labels for a batch of replies, gold or predicted."""

    themes: list[tuple[str, ...]]
    sentiment: list[str]
    risk: list[str]
    risk_categories: list[tuple[str, ...]]
    requests: list[tuple[str, ...]]


def evaluate_labels(gold: Labels, pred: Labels, taxonomy: Taxonomy) -> Report:
    """Compare predicted labels with gold ones."""
    groups = {
        "themes": multilabel_report(gold.themes, pred.themes, taxonomy.themes),
        "sentiment": single_label_report(gold.sentiment, pred.sentiment, taxonomy.sentiments),
        "risk_level": single_label_report(gold.risk, pred.risk, taxonomy.risk_levels),
        "risk_categories": multilabel_report(gold.risk_categories, pred.risk_categories, taxonomy.risk_categories),
        "requests": multilabel_report(gold.requests, pred.requests, taxonomy.requests),
    }
    confusion = {g: {p: 0 for p in taxonomy.risk_levels} for g in taxonomy.risk_levels}
    for g, p in zip(gold.risk, pred.risk, strict=True):
        confusion[g][p] += 1
    urgent = groups["risk_level"].per_label["urgent"]
    tp = sum(1 for g, p in zip(gold.risk, pred.risk, strict=True) if g != "none" and p != "none")
    fp = sum(1 for g, p in zip(gold.risk, pred.risk, strict=True) if g == "none" and p != "none")
    fn = sum(1 for g, p in zip(gold.risk, pred.risk, strict=True) if g != "none" and p == "none")
    return Report(len(gold.risk), groups, confusion, urgent, prf(tp, fp, fn))


TARGETS: Mapping[str, float] = {
    "urgent_recall": 0.95,
    "urgent_precision": 0.70,
    "safeguarding_or_urgent_recall": 0.90,
    "themes_micro_f1": 0.75,
    "themes_macro_f1": 0.65,
    "sentiment_accuracy": 0.80,
    "requests_micro_f1": 0.70,
}


def headline(report: Report) -> dict[str, float]:
    """The figures the issue sets targets for, keyed as in ``TARGETS``."""
    return {
        "urgent_recall": report.urgent.recall,
        "urgent_precision": report.urgent.precision,
        "safeguarding_or_urgent_recall": report.safeguarding_or_urgent.recall,
        "themes_micro_f1": report.groups["themes"].micro_f1,
        "themes_macro_f1": report.groups["themes"].macro_f1,
        "sentiment_accuracy": report.groups["sentiment"].accuracy or 0.0,
        "requests_micro_f1": report.groups["requests"].micro_f1,
    }


def missed_targets(report: Report) -> list[str]:
    """Targets the report does not reach, as readable lines (empty when all are met)."""
    got = headline(report)
    return [f"{k} = {got[k]:.3f} < {v:.2f}" for k, v in TARGETS.items() if got[k] < v]


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def format_confusion(report: Report, corner: str = "") -> str:
    """The risk confusion matrix as text: rows gold, columns predicted, ``corner`` in the top-left cell."""
    levels = list(report.risk_confusion)
    rows = [f"{corner:<14}" + "".join(f"{p:>14}" for p in levels)]
    for g in levels:
        rows.append(f"{g:<14}" + "".join(f"{report.risk_confusion[g].get(p, 0):>14}" for p in levels))
    return "\n".join(rows)


def format_report(model: Report, baseline: Report | None = None, model_name: str = "model",
                  baseline_name: str = "baseline") -> str:
    """A plain-text table of every figure, with the baseline's beside the model's when given."""
    lines: list[str] = [f"held-out replies: {model.n}", ""]
    head = f"{'label':<38}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}"
    if baseline is not None:
        head += f"   | {'base P':>7}{'base R':>7}{'base F1':>8}"
    for name, group in model.groups.items():
        lines.append(f"== {name}")
        lines.append(head)
        for label, s in group.per_label.items():
            row = f"{label:<38}{_fmt(s.precision):>7}{_fmt(s.recall):>7}{_fmt(s.f1):>7}{s.support:>6}"
            if baseline is not None:
                b = baseline.groups[name].per_label[label]
                row += f"   | {_fmt(b.precision):>7}{_fmt(b.recall):>7}{_fmt(b.f1):>8}"
            lines.append(row)
        summary = f"  micro-F1 {_fmt(group.micro_f1)}  macro-F1 {_fmt(group.macro_f1)}"
        if group.accuracy is not None:
            summary += f"  accuracy {_fmt(group.accuracy)}"
        if baseline is not None:
            bg = baseline.groups[name]
            summary += f"   | {baseline_name}: micro-F1 {_fmt(bg.micro_f1)}  macro-F1 {_fmt(bg.macro_f1)}"
            if bg.accuracy is not None:
                summary += f"  accuracy {_fmt(bg.accuracy)}"
        lines += [summary, ""]
    for title, rep in ((model_name, model), (baseline_name, baseline)):
        if rep is None:
            continue
        lines.append(f"== risk confusion matrix ({title}; rows gold, columns predicted)")
        lines += [format_confusion(rep), ""]
    lines.append("== targets")
    got = headline(model)
    base = headline(baseline) if baseline is not None else None
    for key, target in TARGETS.items():
        mark = "ok " if got[key] >= target else "MISS"
        row = f"{mark} {key:<34}{_fmt(got[key]):>7}  (target {target:.2f})"
        if base is not None:
            row += f"   {baseline_name} {_fmt(base[key])}"
        lines.append(row)
    return "\n".join(lines)


def subset(labels: Labels, keep: Sequence[int]) -> Labels:
    """The rows ``keep`` of a batch of labels."""
    return Labels(
        [labels.themes[i] for i in keep],
        [labels.sentiment[i] for i in keep],
        [labels.risk[i] for i in keep],
        [labels.risk_categories[i] for i in keep],
        [labels.requests[i] for i in keep],
    )


def format_by_group(
    gold: Labels, pred: Labels, groups: Sequence[str], taxonomy: Taxonomy, title: str = "language"
) -> str:
    """Headline figures for each value of ``groups`` (one per reply), e.g. per language."""
    keys = ["themes_micro_f1", "sentiment_accuracy", "requests_micro_f1", "urgent_recall",
            "safeguarding_or_urgent_recall"]
    short = ["themes F1", "sent acc", "req F1", "urg R", "risk R"]
    lines = [f"== by {title}", f"{title:<10}{'n':>6}" + "".join(f"{k:>11}" for k in short)]
    for value in sorted(set(groups)):
        keep = [i for i, g in enumerate(groups) if g == value]
        got = headline(evaluate_labels(subset(gold, keep), subset(pred, keep), taxonomy))
        urgent_n = sum(1 for i in keep if gold.risk[i] == "urgent")
        risk_n = sum(1 for i in keep if gold.risk[i] != "none")
        cells = []
        for k in keys:
            empty = (k == "urgent_recall" and not urgent_n) or (k == "safeguarding_or_urgent_recall" and not risk_n)
            cells.append(f"{'-':>11}" if empty else f"{got[k]:>11.3f}")
        lines.append(f"{value:<10}{len(keep):>6}" + "".join(cells))
    return "\n".join(lines)
