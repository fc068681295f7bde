"""Round 9's one held-out confirmation: round 8's comparison (paired bootstrap) under bench/round9/RULE.md.

Usage (from the repository root):
    python bench/round9/compare_round9.py SHIPPED_DIR NAME=WEIGHTS_DIR [NAME=WEIGHTS_DIR ...]
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("round8_compare", HERE.parent / "round8" / "compare_candidates.py")
assert _spec is not None and _spec.loader is not None
round8 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(round8)


def rule(new: dict[str, float], shipped: dict[str, float], baseline: dict[str, float],
         themes_interval: tuple[float, float, float]) -> dict[str, bool]:
    """bench/round9/RULE.md, rules 1-5."""
    checks: dict[str, bool] = round8.rule(new, shipped, baseline, themes_interval)
    del checks["1. urgent recall > the shipped model's"]
    return {
        "1. urgent recall >= the shipped model's": new["urgent_recall"] >= shipped["urgent_recall"],
        **checks,
        "5. urgent recall or themes micro higher than the shipped model's": (
            new["urgent_recall"] > shipped["urgent_recall"] or new["themes_micro_f1"] > shipped["themes_micro_f1"]),
    }


if __name__ == "__main__":
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(round8.main(Path(sys.argv[1]), [(a.split("=", 1)[0], Path(a.split("=", 1)[1])) for a in sys.argv[2:]],
                         rule))
