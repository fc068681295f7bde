"""Round 10: bench/round9/preflight.py twice — with safety net v4 (the v5 rules left out) and with v5.

Usage (from the root of branch classifier-2026.11.10, whose corpus and split hold round 10's replies):
    python bench/round10/preflight_nets.py FILE.jsonl ...

The new writers' training replies, read by nobody when v5 was fixed, are the net's first unseen
test. The v4 run drops the rules whose id ends in "_v5" from ``scan``'s default rule set for the
run only. No reply text is printed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from feedbackbot.nlp import safety

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("preflight", HERE.parent / "round9" / "preflight.py")
assert _spec is not None and _spec.loader is not None
preflight = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(preflight)


def main(files: list[Path]) -> int:
    """The round-9 preflight with net v4, then with net v5."""
    v4 = tuple(r for r in safety.RULES if not r.id.endswith("_v5"))
    defaults = safety.scan.__defaults__
    print(f"== net v4 ({len(v4)} rules)")
    safety.scan.__defaults__ = (v4, None)
    try:
        status: int = preflight.main(files)
    finally:
        safety.scan.__defaults__ = defaults
    print(f"== net v5 ({len(safety.RULES)} rules)")
    return status or int(preflight.main(files))


if __name__ == "__main__":
    sys.exit(main([Path(a) for a in sys.argv[1:]]))
