"""The board insights service: measures, refresher and reader built once, and the periodic refresh job."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime

from ..clock import Clock
from ..flows.library import FlowLibrary
from ..settings import Settings
from ..store.db import Database
from .config import Measure, load_measures
from .filters import Filters
from .query import Dashboard, Insights
from .refresh import WATERMARK, Refresher, run

#: Dashboards kept per process, keyed by filters and the facts' watermark (so a refresh makes them stale).
CACHE_SIZE = 64


class BoardInsights:
    """Figures for the board: refreshed from a watermark in the background, read per request."""

    def __init__(self, db: Database, flows: FlowLibrary, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.measures: tuple[Measure, ...] = load_measures(settings.prompts_dir / "insights.yaml",
                                                           {fid: flows.latest(fid) for fid in flows.current})
        self.refresher = Refresher(db, self.measures)
        self.reader = Insights(self.measures, settings.insights_min_victims, sqlite=db.sqlite)
        self._last_refresh = float("-inf")
        self._cache: OrderedDict[tuple[Filters, str, str, int], Dashboard] = OrderedDict()
        self._generation = 0

    async def refresh(self, *, full: bool = False) -> int:
        """Bring the pre-aggregated tables up to date now."""
        days = await self.refresher.refresh(self.clock.now(), full=full)
        self._last_refresh = time.monotonic()
        self._generation += 1
        return days

    async def run_once(self) -> int:
        """The scheduler's hook: refresh when the interval has passed (returns 0: never a reason to loop again)."""
        if time.monotonic() - self._last_refresh >= self.settings.insights_refresh_seconds:
            await self.refresh()
        return 0

    async def dashboard(self, filters: Filters, now: datetime | None = None, *, cached: bool = True) -> Dashboard:
        """Every figure for the filters (the tables are built first if they never have been).

        Figures read from the facts are kept until the next refresh; open and overdue items are read live.
        """
        now = now or self.clock.now()
        async with self.db.session() as s:
            sql = "SELECT refreshed_at FROM insight_watermarks WHERE name = :n"
            row = (await run(s, sql, {"n": WATERMARK})).first()
            if row is None:
                board = None
            else:
                key = (filters, str(row[0]), now.date().isoformat(), self._generation)
                board = self._cache.get(key) if cached else None
                if board is not None:
                    self._cache.move_to_end(key)
                    tables = {**board.tables, "open_items": await self.reader.open_items(s, filters, now)}
                    return replace(board, tables=tables)
                board = await self.reader.dashboard(s, filters, now)
        if board is None:
            await self.refresh()
            async with self.db.session() as s:
                board = await self.reader.dashboard(s, filters, now)
            return board
        self._cache[key] = board
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return board
