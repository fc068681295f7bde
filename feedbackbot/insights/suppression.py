"""Small-number suppression: figures built from fewer than N victims are withheld, with secondary suppression.

Rules (docs/insights.md "Suppression"):

* a count of victims (or of replies or work items) from 1 to N-1 is withheld; 0 is shown;
* a rate is shown only when its base (the victims asked) is at least N and both the victims counted and
  those not counted are 0 or at least N (otherwise the withheld count could be worked back from it);
* a mean (of a 1-5 rating) is shown only when at least N victims answered;
* a gap to the force-wide figure is shown only when the group's own figure is shown;
* secondary suppression: in a column with a shown total, when one cell is withheld — or the withheld
  cells add up to fewer than N — the next smallest cells are withheld too, or else the total, so that no
  withheld figure can be recovered by subtraction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One figure as shown: its value, or withheld. ``base`` is the number of victims behind it."""

    value: float | None
    base: int
    withheld: bool = False
    kind: str = "count"  # count | rate | mean | gap

    def text(self, threshold: int) -> str:
        """What pages and exports show."""
        if self.withheld:
            return f"fewer than {threshold}"
        if self.kind == "na":
            return "n/a"
        if self.value is None:
            return "no replies"
        if self.kind == "rate":
            return f"{self.value * 100:.0f}%"
        if self.kind == "gap":
            return f"{self.value * 100:+.0f} pts"
        if self.kind == "mean":
            return f"{self.value:.1f}"
        if self.kind == "change":
            return f"{self.value:+,.0f}"
        if self.kind == "minutes":
            return _duration(self.value)
        return f"{int(self.value):,}"

    @property
    def shown(self) -> bool:
        """Whether the figure is shown (not withheld and not empty)."""
        return not self.withheld and self.value is not None


def _duration(minutes: float) -> str:
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


class Suppressor:
    """Applies the rules for one threshold N."""

    def __init__(self, threshold: int) -> None:
        if threshold < 1:
            raise ValueError("the suppression threshold must be at least 1")
        self.n = threshold

    def small(self, count: int) -> bool:
        """Whether a count is withheld on its own (1 to N-1)."""
        return 0 < count < self.n

    def count(self, count: int) -> Figure:
        """A count of victims, replies or items."""
        return Figure(float(count), count, self.small(count))

    def rate(self, numerator: int, denominator: int) -> Figure:
        """A share of victims; withheld when it could reveal a small count or its complement."""
        if denominator <= 0:
            return Figure(None, 0, False, "rate")
        withheld = denominator < self.n or self.small(numerator) or self.small(denominator - numerator)
        return Figure(numerator / denominator, denominator, withheld, "rate")

    def mean(self, total: float, answered: int) -> Figure:
        """A mean rating."""
        if answered <= 0:
            return Figure(None, 0, False, "mean")
        return Figure(total / answered, answered, answered < self.n, "mean")

    def minutes(self, total: float, items: int) -> Figure:
        """A mean time in minutes over work items."""
        if items <= 0:
            return Figure(None, 0, False, "minutes")
        return Figure(total / items, items, items < self.n, "minutes")

    def gap(self, group: Figure, overall: Figure) -> Figure:
        """The difference between a group's rate and the force-wide rate, in percentage points."""
        if not group.shown or not overall.shown or group.value is None or overall.value is None:
            return Figure(None, group.base, group.withheld or overall.withheld, "gap")
        return Figure(group.value - overall.value, group.base, False, "gap")

    def change(self, current: Figure, previous: Figure) -> Figure:
        """The difference between two counts; withheld when either is."""
        if current.withheld or previous.withheld or current.value is None or previous.value is None:
            return Figure(None, current.base, True, "change")
        return Figure(current.value - previous.value, current.base, False, "change")

    def column(self, counts: Sequence[int], total: int | None = None) -> tuple[list[Figure], Figure | None]:
        """A column of counts with its total, after primary and secondary suppression."""
        withheld = [self.small(c) for c in counts]
        total_withheld = total is not None and self.small(total)
        if total is not None and not total_withheld:
            while any(withheld):
                hidden = sum(c for c, w in zip(counts, withheld, strict=True) if w)
                if sum(withheld) >= 2 and hidden >= self.n:
                    break
                candidates = [i for i, (c, w) in enumerate(zip(counts, withheld, strict=True)) if not w and c > 0]
                if not candidates:
                    total_withheld = True
                    break
                withheld[min(candidates, key=lambda i: counts[i])] = True
        figures = [Figure(float(c), c, w) for c, w in zip(counts, withheld, strict=True)]
        total_figure = None if total is None else Figure(float(total), total, total_withheld)
        return figures, total_figure
