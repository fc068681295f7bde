"""Board insights at scale: bulk-generate a year with N victims' replies, refresh the facts, then time the default
dashboard (p50/p95 over many loads, figures and page rendered) and the quarterly board pack, on SQLite and PostgreSQL.

    python bench/insights.py --replies 1000000     # both (PostgreSQL from FEEDBACKBOT_TEST_POSTGRES_URL)
    python bench/insights.py --replies 100000 --databases sqlite
    python bench/insights.py --existing sqlite:////tmp/kept.db   # a database already filled by an earlier run

"Cold" loads read every figure from the facts (nothing reused); "warm" loads reuse the figures read since the
last refresh and read only open and overdue items live.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from measure import percentile
from sqlalchemy import update

from feedbackbot.clock import FixedClock
from feedbackbot.flows.library import FlowLibrary
from feedbackbot.insights.charts import chart
from feedbackbot.insights.demo_year import DemoYear, load_replies
from feedbackbot.insights.filters import Filters
from feedbackbot.insights.pack_pdf import build_pack_pdf
from feedbackbot.insights.refresh import FACT_TABLES
from feedbackbot.insights.refresh import run as run_sql
from feedbackbot.insights.service import BoardInsights
from feedbackbot.settings import Settings
from feedbackbot.store.db import Database
from feedbackbot.store.migrate import migrate
from feedbackbot.store.tables import SurveySession
from feedbackbot.web.render import Pages

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
#: Filtered views timed (one or two filters; the date range alone too), each read cold.
FILTERED = (
    {"area": "Coventry"}, {"channel": "whatsapp"}, {"touchpoint": "after_attendance"}, {"crime_type": "burglary"},
    {"group": "ethnicity:Asian"}, {"from": "2026-03-10", "to": "2026-06-20"}, {"period": "week"},
    {"area": "Coventry", "channel": "whatsapp"}, {"crime_type": "burglary", "group": "gender:female"},
    {"touchpoint": "after_attendance", "area": "Birmingham"}, {"channel": "tel", "crime_type": "fraud"},
    {"group": "age_band:16-24", "area": "Walsall"},
)
#: Sessions touched (the newest) before timing a refresh with a little new.
TOUCHED = 200
#: Replies (answers plus free-text replies) per victim invited, as the generator makes them.
REPLIES_PER_INVITATION = 2.16


async def run(url: str, replies: int, loads: int, *, generate: bool = True) -> dict[str, float]:
    db = Database(url)
    settings = Settings(database_url=url)
    flows = FlowLibrary.from_folder(settings.flows_dir)
    out: dict[str, float] = {}
    if generate:
        await migrate(db)
        per_day = replies / REPLIES_PER_INVITATION / 365
        t = time.perf_counter()
        await DemoYear({f: flows.latest(f) for f in flows.current}, now=NOW, per_day=per_day,
                       replies=load_replies()).write(db, chunk=20000)
        out["generate_s"] = time.perf_counter() - t
    async with db.session() as s:
        for key, sql in (("replies", "SELECT (SELECT COUNT(*) FROM answers) + (SELECT COUNT(*) FROM feedback_items)"),
                         ("invitations", "SELECT COUNT(*) FROM invitations")):
            out[key] = float((await run_sql(s, sql)).scalar() or 0)
    insights = BoardInsights(db, flows, settings, FixedClock(NOW))
    t = time.perf_counter()
    await insights.refresh(full=True)
    out["refresh_full_s"] = time.perf_counter() - t
    t = time.perf_counter()
    await insights.refresh()
    out["refresh_incremental_s"] = time.perf_counter() - t
    async with db.session() as s:
        newest = "SELECT id FROM survey_sessions ORDER BY id DESC LIMIT :n"
        ids = [r[0] for r in (await run_sql(s, newest, {"n": TOUCHED})).all()]
        await run_sql(s, update(SurveySession).where(SurveySession.id.in_(ids)).values(updated_at=NOW))  # type: ignore[union-attr]
    t = time.perf_counter()
    out["refresh_little_days"] = await insights.refresh()
    out["refresh_little_s"] = time.perf_counter() - t
    async with db.session() as s:
        for table in ("insight_reach", "insight_ratings", "insight_feedback", "insight_work"):
            out[f"rows_{table}"] = float((await run_sql(s, f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
    pages = Pages(settings)
    filters = Filters.default(NOW.date())
    for mode, cached in (("cold", False), ("warm", True)):
        times = []
        for _ in range(loads):
            t = time.perf_counter()
            board = await insights.dashboard(filters, NOW, cached=cached)
            pages.render_text("board/dashboard.html", {
                "board": board, "n": board.threshold, "query": filters.query_string(), "quarter": "2026Q3",
                "charts": {k: chart(v, board.threshold) for k, v in board.tables.items()},
                "sections": [("All", list(board.tables.values()))], "user": None, "nav": [], "csrf_token": "",
                "request": None})
            times.append(time.perf_counter() - t)
        times.sort()
        out[f"{mode}_p50_ms"] = percentile(times, 50) * 1000
        out[f"{mode}_p95_ms"] = percentile(times, 95) * 1000
    for n, query in enumerate(FILTERED):
        filtered = Filters.parse(query, NOW.date())
        t = time.perf_counter()
        await insights.dashboard(filtered, NOW, cached=False)
        out[f"filtered_{n}_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    pack = await insights.dashboard(Filters.for_quarter("2026Q3"), NOW, cached=False)
    pdf = build_pack_pdf(pack, "July to September 2026", settings.force_name, NOW)
    out["pack_pdf_s"] = time.perf_counter() - t
    out["pack_pdf_kib"] = len(pdf) / 1024
    await db.dispose()
    return out


async def fresh_postgres() -> str:
    admin = os.environ.get("FEEDBACKBOT_TEST_POSTGRES_URL")
    if not admin:
        raise SystemExit("set FEEDBACKBOT_TEST_POSTGRES_URL (source /tmp/env.sh or run under make test)")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute("DROP DATABASE IF EXISTS bench_insights")
        await conn.execute("CREATE DATABASE bench_insights")
    finally:
        await conn.close()
    return admin.rsplit("/", 1)[0] + "/bench_insights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=50)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--existing", help="time a database an earlier run filled (no generation)")
    args = parser.parse_args()
    print(f"insights benchmark: {args.replies:,} replies, {args.loads} dashboard loads, load average "
          f"{os.getloadavg()[0]:.1f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if args.existing:
        report(args.existing.split(":")[0], asyncio.run(run(args.existing, args.replies, args.loads, generate=False)))
        return
    for name in args.databases.split(","):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}" if name == "sqlite" else asyncio.run(fresh_postgres())
            report(name, asyncio.run(run(url, args.replies, args.loads)))


def report(name: str, result: dict[str, float]) -> None:
    """Print one database's figures."""
    print(f"\n{name}:")
    generated = f" in {result['generate_s']:.1f} s" if "generate_s" in result else ""
    print(f"  rows                  {result['replies']:>12,.0f} replies from {result['invitations']:,.0f} "
          f"victims invited{generated}")
    facts = ", ".join(f"{t.removeprefix('insight_')} {result['rows_' + t]:,.0f}" for t in FACT_TABLES)
    print(f"  facts rows            {facts}")
    print(f"  facts, full refresh   {result['refresh_full_s']:>12.1f} s")
    print(f"  facts, incremental    {result['refresh_incremental_s']:>12.2f} s (nothing changed)")
    print(f"  facts, incremental    {result['refresh_little_s']:>12.2f} s ({TOUCHED} newest sessions changed: "
          f"{result['refresh_little_days']:.0f} days rebuilt)")
    for mode, note in (("cold", "every figure read from the facts"), ("warm", "facts unchanged since")):
        p50, p95 = result[mode + "_p50_ms"], result[mode + "_p95_ms"]
        print(f"  dashboard {mode}        p50 {p50:.0f} ms, p95 {p95:.0f} ms ({note}; target p95 < 500 ms)")
    for n, query in enumerate(FILTERED):
        label = " + ".join(f"{k}={v}" for k, v in query.items())
        print(f"  dashboard filtered    {result[f'filtered_{n}_ms']:>12.0f} ms ({label}, cold)")
    print(f"  board pack PDF        {result['pack_pdf_s']:>12.2f} s ({result['pack_pdf_kib']:.0f} KiB)")


if __name__ == "__main__":
    main()
