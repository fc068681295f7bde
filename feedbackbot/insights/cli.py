"""The ``feedbackbot board-pack`` and ``feedbackbot insights-refresh`` commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def _board_pack(args: argparse.Namespace) -> int:
    from ..app import build_services, prepare_database
    from ..cli import _settings_or_exit
    from .filters import FilterError, Filters
    from .pack_pdf import build_pack_pdf, quarter_label

    try:
        filters = Filters.for_quarter(args.quarter)
    except FilterError as exc:
        print(f"feedbackbot board-pack: {exc}", file=sys.stderr)
        return 2
    settings = _settings_or_exit()

    async def run() -> bytes:
        services = build_services(settings, classifier=_no_classifier)
        try:
            await prepare_database(services)
            if args.refresh:
                await services.insights.refresh()
            board = await services.insights.dashboard(filters)
            return build_pack_pdf(board, quarter_label(args.quarter.upper()), settings.force_name,
                                  services.clock.now())
        finally:
            await services.db.dispose()

    body = asyncio.run(run())
    out = Path(args.output)
    try:
        out.write_bytes(body)
    except OSError as exc:
        print(f"feedbackbot board-pack: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"board pack for {args.quarter.upper()} written to {out} ({len(body):,} bytes)")
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from ..app import build_services, prepare_database
    from ..cli import _settings_or_exit

    settings = _settings_or_exit()

    async def run() -> int:
        services = build_services(settings, classifier=_no_classifier)
        try:
            await prepare_database(services)
            return await services.insights.refresh(full=args.full)
        finally:
            await services.db.dispose()

    days = asyncio.run(run())
    print("board figures rebuilt in full" if days < 0 else f"board figures brought up to date ({days} days rebuilt)")
    return 0


def _no_classifier() -> Any:
    from ..nlp import KeywordClassifier

    return KeywordClassifier()


def add_commands(sub: Any) -> None:
    """Register the board's commands on the main parser."""
    pack = sub.add_parser("board-pack", help="write the quarterly board pack as a PDF")
    pack.add_argument("--quarter", required=True, help="a calendar quarter such as 2026Q3")
    pack.add_argument("--output", required=True, help="the PDF file to write")
    pack.add_argument("--refresh", action="store_true", help="bring the figures up to date first")
    pack.set_defaults(func=_board_pack)
    refresh = sub.add_parser("insights-refresh", help="bring the board's pre-aggregated figures up to date")
    refresh.add_argument("--full", action="store_true", help="rebuild every day, not only those changed")
    refresh.set_defaults(func=_refresh)
