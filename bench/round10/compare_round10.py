"""Round 10's one held-out confirmation: round 9's comparison and rule, unchanged (bench/round10/RULE.md).

Usage (from the root of branch classifier-2026.11.10, whose split holds the grown held-out replies):
    python bench/round10/compare_round10.py SHIPPED_DIR NAME=WEIGHTS_DIR [NAME=WEIGHTS_DIR ...]

Both sets of weights run with this tree's glossary and safety net (v5) on the grown held-out split.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("compare_round9", HERE.parent / "round9" / "compare_round9.py")
assert _spec is not None and _spec.loader is not None
round9 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(round9)

if __name__ == "__main__":
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(round9.round8.main(Path(sys.argv[1]), [(a.split("=", 1)[0], Path(a.split("=", 1)[1]))
                                                    for a in sys.argv[2:]], round9.rule))
