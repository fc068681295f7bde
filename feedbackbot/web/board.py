"""The board's pages: dashboard, CSV exports and the quarterly board pack (HTML and PDF), aggregates only."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from ..clock import Clock
from ..insights.charts import chart
from ..insights.export import table_csv, table_ids
from ..insights.filters import FilterError, Filters
from ..insights.pack_pdf import build_pack_pdf, quarter_label
from ..insights.query import Dashboard
from ..insights.service import BoardInsights
from .auth import audit, render_staff, require_role

BOARD_ROLES = ("board", "supervisor", "admin")
#: Page order of the dashboard's sections: (heading, table ids).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Survey reach", ("reach_touchpoint", "reach_channel")),
    ("Satisfaction", ("satisfaction_trend", "satisfaction_touchpoint", "satisfaction_crime_type",
                      "satisfaction_area", "ratings", "ratings_trend")),
    ("The Victims' Code as victims experience it", ("victims_code",)),
    ("Themes", ("themes",)),
    ("Risk and requests", ("risk_levels", "risk_categories", "requests", "sla", "open_items")),
    ("Disproportionality", ("equality_gender", "equality_age_band", "equality_ethnicity", "equality_disability")),
    ("You said, we did", ("you_said_we_did",)),
)


def last_complete_quarter(today: date) -> str:
    """The most recent quarter that has ended, as ``2026Q3``."""
    q = (today.month - 1) // 3
    return f"{today.year - 1}Q4" if q == 0 else f"{today.year}Q{q}"


class BoardPages:
    """Handlers for /board…; every page shows suppressed aggregates and redacted words only."""

    def __init__(self, insights: BoardInsights, clock: Clock, force_name: str) -> None:
        self.insights = insights
        self.clock = clock
        self.force_name = force_name

    def routes(self) -> list[web.RouteDef]:
        """The board's routes."""
        return [
            web.get("/board", self.dashboard, name="board"),
            web.get("/board/export/{table}.csv", self.export, name="board-export"),
            web.get("/board/pack", self.pack, name="board-pack"),
            web.get("/board/pack.pdf", self.pack_pdf, name="board-pack-pdf"),
        ]

    def _filters(self, request: web.Request) -> Filters:
        try:
            return Filters.parse(request.query, self.clock.now().date())
        except FilterError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None

    def _quarter(self, request: web.Request) -> tuple[str, Filters]:
        quarter = (request.query.get("quarter") or last_complete_quarter(self.clock.now().date())).upper()
        try:
            return quarter, Filters.for_quarter(quarter)
        except FilterError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None

    def _context(self, board: Dashboard) -> dict[str, object]:
        sections = [(title, [board.tables[t] for t in ids if t in board.tables]) for title, ids in SECTIONS]
        charts = {tid: chart(t, board.threshold) for tid, t in board.tables.items()}
        return {"board": board, "sections": sections, "charts": charts, "n": board.threshold,
                "query": board.filters.query_string()}

    @require_role(*BOARD_ROLES)
    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        """The dashboard for the filters in the query string."""
        filters = self._filters(request)
        board = await self.insights.dashboard(filters)
        await audit(request, "board.view", detail={"filters": filters.query_string()})
        return render_staff(request, "board/dashboard.html", {
            **self._context(board), "quarter": last_complete_quarter(self.clock.now().date())})

    @require_role(*BOARD_ROLES)
    async def export(self, request: web.Request) -> web.StreamResponse:
        """One table as CSV, with the same filters and suppression as the page."""
        filters = self._filters(request)
        board = await self.insights.dashboard(filters)
        table = request.match_info["table"]
        if table not in table_ids(board):
            raise web.HTTPNotFound(text=f"There is no table called {table!r}.")
        await audit(request, "board.export", object_type="board_table", object_id=table,
                    detail={"filters": filters.query_string()})
        name = f"board-{table}-{filters.start.isoformat()}-to-{filters.end.isoformat()}.csv"
        return web.Response(text=table_csv(board, table), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"',
                                     "Cache-Control": "no-store"})

    @require_role(*BOARD_ROLES)
    async def pack(self, request: web.Request) -> web.StreamResponse:
        """The printable board pack for a quarter."""
        quarter, filters = self._quarter(request)
        board = await self.insights.dashboard(filters)
        await audit(request, "board.pack", detail={"quarter": quarter, "format": "html"})
        return render_staff(request, "board/pack.html", {
            **self._context(board), "quarter": quarter, "quarter_label": quarter_label(quarter),
            "generated": self.clock.now()})

    @require_role(*BOARD_ROLES)
    async def pack_pdf(self, request: web.Request) -> web.StreamResponse:
        """The board pack for a quarter as a PDF."""
        quarter, filters = self._quarter(request)
        board = await self.insights.dashboard(filters)
        await audit(request, "board.pack", detail={"quarter": quarter, "format": "pdf"})
        body = build_pack_pdf(board, quarter_label(quarter), self.force_name, self.clock.now())
        return web.Response(body=body, content_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="board-pack-{quarter}.pdf"', "Cache-Control": "no-store"})
