"""The board insights service: measures, refresher and reader built once, and the periodic refresh job."""

from __future__ import annotations

import time
from datetime import datetime

from ..clock import Clock
from ..flows.library import FlowLibrary
from ..settings import Settings
from ..store.db import Database
from .config import Measure, load_measures
from .filters import Filters
from .query import Dashboard, Insights
from .refresh import Refresher


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

    async def refresh(self, *, full: bool = False) -> int:
        """Bring the pre-aggregated tables up to date now."""
        days = await self.refresher.refresh(self.clock.now(), full=full)
        self._last_refresh = time.monotonic()
        return days

    async def run_once(self) -> int:
        """The scheduler's hook: refresh when the interval has passed (returns 0: never a reason to loop again)."""
        if time.monotonic() - self._last_refresh >= self.settings.insights_refresh_seconds:
            await self.refresh()
        return 0

    async def dashboard(self, filters: Filters, now: datetime | None = None) -> Dashboard:
        """Every figure for the filters (the tables are built first if they never have been)."""
        async with self.db.session() as s:
            board = await self.reader.dashboard(s, filters, now or self.clock.now())
        if board.refreshed_at is None:
            await self.refresh()
            async with self.db.session() as s:
                board = await self.reader.dashboard(s, filters, now or self.clock.now())
        return board
