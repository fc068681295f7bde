"""The board's figures, read from the pre-aggregated tables (and a few bounded, indexed queries), suppressed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from . import labels
from .config import Measure
from .filters import DIMENSIONS, GROUP_KINDS, Filters
from .redaction import RedactionContext, Redactor
from .refresh import LONDON, MONTH_SUFFIX, OPEN_STATUSES, Dialect, run, sql_day, sql_time
from .suppression import Figure, Suppressor

CODE_MEASURES = ("kept_informed", "referred_to_support", "offered_vps", "told_outcome")
QUOTES_PER_THEME = 3
ACTIONS_PER_THEME = 2


@dataclass
class Row:
    """One row of a table: its label, its id (for links and exports) and its figures."""

    label: str
    cells: list[Figure]
    key: str = ""
    note: str = ""


@dataclass
class Table:
    """A table of figures, exported as CSV and drawn (when ``chart`` is set) as an SVG chart beside it."""

    id: str
    title: str
    columns: list[str]
    rows: list[Row]
    total: Row | None = None
    description: str = ""
    chart: str | None = None  # "bar" (one column) or "line" (every rate column over the rows)
    chart_columns: tuple[int, ...] = (0,)


@dataclass
class Dashboard:
    """Everything the dashboard, the exports and the board pack show, already suppressed and redacted."""

    filters: Filters
    threshold: int
    headline: list[tuple[str, Figure]]
    tables: dict[str, Table]
    quotes: dict[str, list[str]]
    actions: dict[str, list[str]]
    rising: list[tuple[str, Figure]]
    options: dict[str, list[tuple[str, str]]]
    refreshed_at: datetime | None
    measures: dict[str, str] = field(default_factory=dict)


def _period(day: date, period: str) -> str:
    if period == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.strftime("%Y-%m")


def _period_label(key: str, period: str) -> str:
    if period == "week":
        return f"w/c {date.fromisoformat(key):%d %b %Y}"
    return datetime.strptime(key, "%Y-%m").strftime("%b %Y")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class Insights:
    """Reads the figures for one set of filters."""

    def __init__(self, measures: Sequence[Measure], threshold: int, *, sqlite: bool) -> None:
        self.measures = {m.id: m for m in measures}
        self.sup = Suppressor(threshold)
        self.sqlite = sqlite
        self.d = Dialect(sqlite)
        self.redactor = Redactor()

    # --- SQL helpers -------------------------------------------------------------------------------------

    def _where(self, f: Filters, grain: str, *, dims: bool = True, monthly: bool = True) -> tuple[str, dict[str, Any]]:
        """The WHERE clause reading one grain of the facts for the filters' dates (and dimensions).

        Whole calendar months inside the range are read from the grain's monthly rows and only the days at its
        ends from the daily rows (``monthly=False``: daily rows only, for weekly trends).
        """
        params: dict[str, Any] = {}
        parts = []
        for n, (name, lo, hi) in enumerate(_spans(f.start, f.end, grain, monthly)):
            parts.append(f"(grain = :g{n} AND day >= :lo{n} AND day <= :hi{n})")
            params.update({f"g{n}": name, f"lo{n}": sql_day(lo, self.sqlite), f"hi{n}": sql_day(hi, self.sqlite)})
        clauses = ["(" + " OR ".join(parts) + ")"]
        if grain == "full":
            if f.group:
                clauses += ["group_kind = :gk", "group_value = :gv"]
                params.update(gk=f.group_kind, gv=f.group_value)
            elif dims:
                clauses.append("group_kind = 'all'")
        if dims and grain in {"full", "main"}:
            for dim in DIMENSIONS:
                value = getattr(f, dim)
                if value:
                    clauses.append(f"{dim} = :{dim}")
                    params[dim] = value
        return " AND ".join(clauses), params

    @staticmethod
    def _main_grain(f: Filters) -> str:
        return "full" if (f.crime_type or f.area or f.group) else "main"

    def _side_grain(self, f: Filters, grain: str) -> tuple[str, dict[str, Any]]:
        """The grain for a breakdown by crime type or area: its own small set when nothing else is filtered."""
        if any(getattr(f, d) for d in DIMENSIONS) or f.group:
            return self._where(f, "full")
        return self._where(f, grain)

    def _period_sql(self, period: str) -> str:
        if period == "week":
            if self.sqlite:
                return "date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')"
            return "to_char(date_trunc('week', day), 'YYYY-MM-DD')"
        return "substr(day, 1, 7)" if self.sqlite else "to_char(day, 'YYYY-MM')"

    async def _rows(self, s: AsyncSession, sql: str, params: Mapping[str, Any]) -> list[Any]:
        return list((await run(s, (sql), dict(params))).all())

    # --- the dashboard -----------------------------------------------------------------------------------

    async def dashboard(self, s: AsyncSession, f: Filters, now: datetime) -> Dashboard:
        """Every figure for the filters."""
        grain = self._main_grain(f)
        where, p = self._where(f, grain)
        tables: dict[str, Table] = {}
        reach = await self._rows(s, f"SELECT touchpoint, channel, SUM(invited), SUM(sent), SUM(delivered), "
                                    f"SUM(started), SUM(completed), SUM(opted_out) FROM insight_reach WHERE {where} "
                                    "GROUP BY touchpoint, channel", p)
        tables["reach_touchpoint"] = self._reach_table("reach_touchpoint", "Survey reach by touchpoint",
                                                       reach, 0, labels.TOUCHPOINTS)
        tables["reach_channel"] = self._reach_table("reach_channel", "Survey reach by channel", reach, 1,
                                                    labels.CHANNELS)
        period = self._period_sql(f.period)
        tw, tp = self._where(f, grain, monthly=f.period == "month")
        trend = await self._rows(s, f"SELECT measure, {period}, SUM(answered), SUM(positive), SUM(total) "
                                    f"FROM insight_ratings WHERE {tw} GROUP BY measure, {period}", tp)
        by_tp = await self._rows(s, "SELECT touchpoint, SUM(answered), SUM(positive), SUM(total) FROM insight_ratings "
                                    f"WHERE {where} AND measure = 'satisfaction' GROUP BY touchpoint", p)
        cw, cp = self._side_grain(f, "crime")
        by_crime = await self._rows(s, "SELECT crime_type, SUM(answered), SUM(positive), SUM(total) FROM "
                                       f"insight_ratings WHERE {cw} AND measure = 'satisfaction' "
                                       "GROUP BY crime_type", cp)
        aw, ap = self._side_grain(f, "area")
        by_area = await self._rows(s, "SELECT area, SUM(answered), SUM(positive), SUM(total) FROM insight_ratings "
                                      f"WHERE {aw} AND measure = 'satisfaction' GROUP BY area", ap)
        tables.update(self._rating_tables(trend, by_tp, by_crime, by_area, f))
        fb = await self._rows(s, "SELECT kind, label, SUM(items), SUM(sessions), SUM(positive), SUM(negative), "
                                 f"SUM(neutral), SUM(mixed) FROM insight_feedback WHERE {where} "
                                 "GROUP BY kind, label", p)
        pw, pp = self._where(f.previous(), grain)
        prev = await self._rows(s, "SELECT label, SUM(items), SUM(sessions) FROM insight_feedback "
                                   f"WHERE kind IN ('theme', 'reply') AND {pw} GROUP BY kind, label", pp)
        themes = self._theme_tables(fb, prev)
        tables.update(themes)
        rising = await self._rising(s, f, grain)
        work = await self._rows(s, "SELECT queue, SUM(items), SUM(acknowledged), SUM(acknowledged_in_time), "
                                   "SUM(acknowledge_minutes), SUM(resolved), SUM(resolved_in_time), "
                                   "SUM(resolve_minutes) "
                                   f"FROM insight_work WHERE {where} GROUP BY queue", p)
        tables["sla"] = self._sla_table(work)
        tables["open_items"] = await self.open_items(s, f, now)
        if any(getattr(f, d) for d in DIMENSIONS):
            gw, gp = self._where(f, "full", dims=True)
            kinds = ", ".join(f"'{k}'" for k in GROUP_KINDS)  # an IN list lets the (grain, group_kind, …) indexes in
            gw = gw.replace("group_kind = 'all'", f"group_kind IN ({kinds})")
        else:
            gw, gp = self._where(f, "groups")
        greach = await self._rows(s, "SELECT group_kind, group_value, SUM(sent), SUM(started) FROM insight_reach "
                                     f"WHERE {gw} GROUP BY group_kind, group_value", gp)
        gratings = await self._rows(s, "SELECT group_kind, group_value, measure, SUM(answered), SUM(positive) "
                                       f"FROM insight_ratings WHERE {gw} AND measure IN ('satisfaction', "
                                       "'kept_informed') GROUP BY group_kind, group_value, measure", gp)
        tables.update(self._equality_tables(greach, gratings, tables))
        tables["you_said_we_did"] = self._resolved_table(fb)
        quotes = await self._quotes(s, f, tables["themes"])
        actions = await self._actions(s, f, tables["you_said_we_did"])
        options = await self._options(s, f)
        refreshed = (await run(s, ("SELECT refreshed_at FROM insight_watermarks WHERE name = 'facts'"))).first()
        headline = self._headline(tables)
        return Dashboard(f, self.sup.n, headline, tables, quotes, actions, rising, options,
                         _ts(refreshed[0]) if refreshed else None,
                         {m.id: m.label for m in self.measures.values()})

    async def _rising(self, s: AsyncSession, f: Filters, grain: str) -> list[tuple[str, Figure]]:
        """Themes whose share of replies grew most: the range's last 91 days (or fewer) against those before."""
        window = min(91, f.days)
        recent = replace(f, start=f.end - timedelta(days=window - 1))
        before = replace(f, start=recent.start - timedelta(days=window), end=recent.start - timedelta(days=1))
        shares: list[dict[str, list[int]]] = []
        for part in (recent, before):
            w, p = self._where(part, grain)
            rows = await self._rows(s, "SELECT label, SUM(items), SUM(sessions) FROM insight_feedback "
                                       f"WHERE kind IN ('theme', 'reply') AND {w} GROUP BY kind, label", p)
            shares.append({r[0]: [int(r[1] or 0), int(r[2] or 0)] for r in rows})
        now_all, then_all = shares[0].get("all", [0, 0])[0], shares[1].get("all", [0, 0])[0]
        out: list[tuple[str, Figure]] = []
        for theme, (items, sessions) in shares[0].items():
            if theme == "all" or self.sup.small(sessions):
                continue
            then_items, then_sessions = shares[1].get(theme, [0, 0])
            if self.sup.small(then_sessions):
                continue
            change = self.sup.gap(self.sup.rate(items, now_all), self.sup.rate(then_items, then_all))
            if change.shown and (change.value or 0) > 0:
                out.append((labels.name(labels.THEMES, theme), change))
        out.sort(key=lambda t: -(t[1].value or 0))
        return out[:3]

    # --- reach -------------------------------------------------------------------------------------------

    def _reach_table(self, tid: str, title: str, rows: Sequence[Any], index: int, names: dict[str, str]) -> Table:
        sums: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
        for r in rows:
            acc = sums[r[index]]
            for i in range(6):
                acc[i] += int(r[2 + i] or 0)
        keys = sorted(sums, key=lambda k: -sums[k][0])
        totals = [sum(sums[k][i] for k in keys) for i in range(6)]
        columns = [self.sup.column([sums[k][i] for k in keys], totals[i]) for i in range(6)]
        out_rows = []
        for n, key in enumerate(keys):
            cells = [columns[i][0][n] for i in range(6)]
            out_rows.append(Row(labels.name(names, key), cells + self._reach_rates(sums[key], cells), key))
        total_cells = [c[1] for c in columns if c[1] is not None]
        total = Row("All", total_cells + self._reach_rates(totals, total_cells), "all")
        return Table(tid, title, ["Invited", "Sent", "Delivered", "Replied", "Completed", "Opted out",
                                  "Response rate", "Completion rate"], out_rows, total,
                     "Victims invited in the period and what happened next. Response rate: replied / sent.",
                     "bar", (6,))

    def _reach_rates(self, v: Sequence[int], cells: Sequence[Figure]) -> list[Figure]:
        rates = [self.sup.rate(v[3], v[1]), self.sup.rate(v[4], v[1])]
        for i, src in ((0, 3), (1, 4)):
            if cells[src].withheld or cells[1].withheld:
                rates[i] = Figure(None, rates[i].base, True, "rate")
        return rates

    # --- ratings -----------------------------------------------------------------------------------------

    def _rating_tables(self, trend: Sequence[Any], by_tp: Sequence[Any], by_crime: Sequence[Any],
                       by_area: Sequence[Any], f: Filters) -> dict[str, Table]:
        by: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
        for measure, period, answered, positive, total in trend:
            for key in (("period", str(period), measure), ("all", "all", measure)):
                acc = by[key]
                acc[0] += int(answered or 0)
                acc[1] += int(positive or 0)
                acc[2] += float(total or 0)
        for dim, rows in (("touchpoint", by_tp), ("crime_type", by_crime), ("area", by_area)):
            for key, answered, positive, total in rows:
                by[(dim, key, "satisfaction")] = [int(answered or 0), int(positive or 0), float(total or 0)]
        out: dict[str, Table] = {}
        periods = sorted({k[1] for k in by if k[0] == "period"})
        sat = [("period", p) for p in periods]
        out["satisfaction_trend"] = self._sat_table(
            "satisfaction_trend", "Satisfaction over time", by, sat,
            [_period_label(p, f.period) for p in periods], "line")
        for dim, title, names in (("touchpoint", "Satisfaction by touchpoint", labels.TOUCHPOINTS),
                                  ("crime_type", "Satisfaction by crime type", {}),
                                  ("area", "Satisfaction by area", {})):
            found = {k[1]: by[k][0] for k in by if k[0] == dim and k[2] == "satisfaction"}
            keys = sorted(found, key=lambda k: -found[k])
            out[f"satisfaction_{dim}"] = self._sat_table(
                f"satisfaction_{dim}", title, by, [(dim, k) for k in keys],
                [labels.name(names, k) if names else k for k in keys], "bar")
        measure_rows = []
        for m in self.measures.values():
            answered, positive, total = by.get(("all", "all", m.id), [0, 0, 0.0])
            mean = self.sup.mean(total, int(answered)) if m.kind == "scale" else Figure(None, 0, False, "na")
            measure_rows.append(Row(m.label, [self.sup.count(int(answered)),
                                              self.sup.rate(int(positive), int(answered)), mean], m.id, m.code or ""))
        out["ratings"] = Table("ratings", "Every rating question", ["Victims answering", "Positive", "Mean (1-5)"],
                               measure_rows, None, "Share of victims answering each question positively "
                               "(prompts/insights.yaml says which answers count).", "bar", (1,))
        trend_rows = []
        for p in periods:
            cells = []
            for m in self.measures.values():
                answered, positive, _ = by.get(("period", p, m.id), [0, 0, 0.0])
                cells.append(self.sup.rate(int(positive), int(answered)))
            trend_rows.append(Row(_period_label(p, f.period), cells, p))
        out["ratings_trend"] = Table("ratings_trend", "Every rating question over time",
                                     [m.label for m in self.measures.values()], trend_rows)
        code_ids = [c for c in CODE_MEASURES if c in self.measures]
        code_rows = []
        for p in periods:
            cells = []
            for mid in code_ids:
                answered, positive, _ = by.get(("period", p, mid), [0, 0, 0.0])
                cells.append(self.sup.rate(int(positive), int(answered)))
            code_rows.append(Row(_period_label(p, f.period), cells, p))
        overall = []
        for mid in code_ids:
            answered, positive, _ = by.get(("all", "all", mid), [0, 0, 0.0])
            overall.append(self.sup.rate(int(positive), int(answered)))
        out["victims_code"] = Table("victims_code", "The Victims' Code as victims experience it",
                                    [self.measures[m].label for m in code_ids], code_rows,
                                    Row("Whole period", overall, "all"),
                                    "Share of victims answering yes (see docs/insights.md for the questions).",
                                    "line", tuple(range(len(code_ids))))
        return out

    def _sat_table(self, tid: str, title: str, by: Mapping[tuple[str, str, str], list[float]],
                   keys: Sequence[tuple[str, str]], names: Sequence[str], chart: str) -> Table:
        rows = []
        for (dim, key), name in zip(keys, names, strict=True):
            answered, positive, total = by.get((dim, key, "satisfaction"), [0, 0, 0.0])
            rows.append(Row(name, [self.sup.count(int(answered)), self.sup.rate(int(positive), int(answered)),
                                   self.sup.mean(total, int(answered))], key))
        answered, positive, total = by.get(("all", "all", "satisfaction"), [0, 0, 0.0])
        total_row = Row("All", [self.sup.count(int(answered)), self.sup.rate(int(positive), int(answered)),
                                self.sup.mean(total, int(answered))], "all")
        return Table(tid, title, ["Victims answering", "Satisfied", "Mean (1-5)"], rows, total_row,
                     "Satisfied: 4 or 5 on the 1-5 overall question.", chart, (1,))

    # --- themes, risk, requests ----------------------------------------------------------------------------

    def _theme_tables(self, rows: Sequence[Any], prev: Sequence[Any]) -> dict[str, Table]:
        data: dict[str, dict[str, list[int]]] = defaultdict(dict)
        for kind, label, *values in rows:
            data[kind][label] = [int(v or 0) for v in values]
        reply = data["reply"].get("all", [0] * 6)
        prev_items: dict[str, list[int]] = {}
        prev_reply = [0, 0]
        for label, items, sessions in prev:
            if label == "all":
                prev_reply = [int(items or 0), int(sessions or 0)]
            else:
                prev_items[label] = [int(items or 0), int(sessions or 0)]
        theme_rows: list[Row] = []
        total_replies = self.sup.count(reply[0])
        for key, v in sorted(data["theme"].items(), key=lambda kv: -kv[1][0]):
            items, sessions, pos, neg = v[0], v[1], v[2], v[3]
            count = Figure(float(items), sessions, self.sup.small(sessions))
            share = self.sup.rate(items, reply[0])
            share = share if not count.withheld else Figure(None, share.base, True, "rate")
            negative = self.sup.rate(neg, items) if not count.withheld else Figure(None, items, True, "rate")
            positive = self.sup.rate(pos, items) if not count.withheld else Figure(None, items, True, "rate")
            p_items, p_sessions = prev_items.get(key, [0, 0])
            prev_count = Figure(float(p_items), p_sessions, self.sup.small(p_sessions))
            change = self.sup.change(count, prev_count)
            prev_share = self.sup.rate(p_items, prev_reply[0])
            share_change = self.sup.gap(share, prev_share if not prev_count.withheld else
                                        Figure(None, 0, True, "rate"))
            theme_rows.append(Row(labels.name(labels.THEMES, key),
                                  [count, share, negative, positive, prev_count, change, share_change], key))
        out = {"themes": Table(
            "themes", "Themes", ["Replies", "Share of replies", "Negative", "Positive", "Previous period",
                                 "Change", "Change in share"], theme_rows,
            Row("All replies read", [total_replies], "all"),
            "Replies mentioning each theme (a reply can mention several), against the period just before.",
            "bar", (0,))}
        for kind, tid, title, names in (("risk", "risk_levels", "Risk levels", labels.RISKS),
                                        ("risk_category", "risk_categories", "Risk categories",
                                         labels.RISK_CATEGORIES),
                                        ("request", "requests", "Requests", labels.REQUESTS)):
            keys = sorted(data[kind], key=lambda k: -data[kind][k][0])
            counts = [data[kind][k][0] for k in keys]
            sessions = [data[kind][k][1] for k in keys]
            if kind == "risk":
                figures, total = self.sup.column(sessions, sum(sessions))
            else:
                figures, total = self.sup.column(sessions, None)
            cells = [Figure(float(c), fig.base, fig.withheld) for c, fig in zip(counts, figures, strict=True)]
            out[tid] = Table(tid, title, ["Replies"], [Row(labels.name(names, k), [c], k)
                                                        for k, c in zip(keys, cells, strict=True)],
                             Row("All", [Figure(float(sum(counts)), total.base, total.withheld)], "all")
                             if total is not None else None, "", "bar", (0,))
        return out

    def _resolved_table(self, rows: Sequence[Any]) -> Table:
        out = []
        for kind, label, items, sessions, *_ in sorted(rows, key=lambda r: -int(r[2] or 0)):
            if kind == "resolved":
                out.append(Row(labels.name(labels.THEMES, label),
                               [Figure(float(items or 0), int(sessions or 0), self.sup.small(int(sessions or 0)))],
                               label))
        return Table("you_said_we_did", "You said, we did", ["Replies acted on and resolved"], out, None,
                     "Replies that led to a work item an officer or team has resolved, by theme.", "bar", (0,))

    # --- work items -----------------------------------------------------------------------------------------

    def _sla_table(self, rows: Sequence[Any]) -> Table:
        data: list[list[Any]] = sorted(
            ([str(r[0]), *(int(x or 0) for x in (r[1], r[2], r[3])), float(r[4] or 0),
              *(int(x or 0) for x in (r[5], r[6])), float(r[7] or 0)] for r in rows), key=lambda r: -int(r[1]))
        totals = [sum(r[i] for r in data) for i in range(1, 8)]
        items_col, items_total = self.sup.column([int(r[1]) for r in data], int(totals[0]))

        def cells(v: Sequence[Any], items: Figure) -> list[Figure]:
            ack, ack_ok, ack_min, res, res_ok, res_min = v
            return [items, self.sup.count(int(ack)), self.sup.rate(int(ack_ok), int(ack)),
                    self.sup.minutes(float(ack_min), int(ack)), self.sup.count(int(res)),
                    self.sup.rate(int(res_ok), int(res)), self.sup.minutes(float(res_min), int(res))]

        out = [Row(labels.name(labels.QUEUES, str(r[0])), cells(r[2:], fig), str(r[0]))
               for r, fig in zip(data, items_col, strict=True)]
        total = Row("All", cells(totals[1:], items_total), "all") if items_total is not None and data else None
        return Table("sla", "Time to acknowledge and resolve", [
            "Items", "Acknowledged", "Acknowledged within SLA", "Mean time to acknowledge", "Resolved",
            "Resolved within SLA", "Mean time to resolve"], out, total,
            "Work items created in the period from victims' replies, by queue (officers' items together).",
            "bar", (2,))

    async def open_items(self, s: AsyncSession, f: Filters, now: datetime) -> Table:
        """Items open now, and overdue, by queue (read live, not from the facts)."""
        clauses, params = self._live_filters(f, "w.touchpoint", "sess.channel")
        statuses = ", ".join(f"'{x}'" for x in OPEN_STATUSES)
        rows = await self._rows(s, f"""
SELECT CASE WHEN w.target_kind = 'queue' THEN w.target_ref ELSE 'officers' END AS queue, COUNT(*),
       SUM(CASE WHEN w.due_at IS NOT NULL AND w.due_at < :now THEN 1 ELSE 0 END)
FROM work_items w LEFT JOIN survey_sessions sess ON sess.id = w.session_id
LEFT JOIN cases k ON k.id = w.case_id LEFT JOIN contacts c ON c.id = w.contact_id
WHERE w.status IN ({statuses}) {clauses}
GROUP BY CASE WHEN w.target_kind = 'queue' THEN w.target_ref ELSE 'officers' END""",
                                {**params, "now": sql_time(now, self.sqlite)})
        keys = sorted(rows, key=lambda r: -int(r[1] or 0))
        opened, open_total = self.sup.column([int(r[1] or 0) for r in keys], sum(int(r[1] or 0) for r in keys))
        overdue, over_total = self.sup.column([int(r[2] or 0) for r in keys], sum(int(r[2] or 0) for r in keys))
        out = [Row(labels.name(labels.QUEUES, r[0]), [o, d], r[0]) for r, o, d in zip(keys, opened, overdue,
                                                                                       strict=True)]
        total = Row("All", [open_total, over_total], "all") if open_total and over_total else None
        return Table("open_items", "Open and overdue items now", ["Open", "Overdue"], out, total,
                     "Items still open at the time of viewing (the date range does not apply).", "bar", (0,))

    def _live_filters(self, f: Filters, touchpoint: str, channel: str) -> tuple[str, dict[str, Any]]:
        clauses, params = [], {}
        columns = {"touchpoint": touchpoint, "channel": channel, "crime_type": "k.crime_type", "area": "k.area"}
        for dim in DIMENSIONS:
            value = getattr(f, dim)
            if value:
                clauses.append(f"AND {columns[dim]} = :{dim}")
                params[dim] = value
        if f.group:
            clauses.append(f"AND {self.d.json_text('c.demographics', f.group_kind)} = :gv")
            params["gv"] = f.group_value
        return " ".join(clauses), params

    # --- disproportionality ----------------------------------------------------------------------------------

    def _equality_tables(self, reach: Sequence[Any], ratings: Sequence[Any],
                         tables: Mapping[str, Table]) -> dict[str, Table]:
        overall_reach = tables["reach_touchpoint"].total
        force_response = overall_reach.cells[6] if overall_reach else Figure(None, 0)
        sat_total = tables["satisfaction_touchpoint"].total
        force_sat = sat_total.cells[1] if sat_total else Figure(None, 0)
        informed = next((r.cells[1] for r in tables["ratings"].rows if r.key == "kept_informed"), Figure(None, 0))
        # Force-wide figures come from the group filter's own slice; with a group filter they are that group's.
        groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * 6))
        for kind, value, sent, started in reach:
            groups[kind][value][0] += int(sent or 0)
            groups[kind][value][1] += int(started or 0)
        for kind, value, measure, answered, positive in ratings:
            slot = 2 if measure == "satisfaction" else 4
            groups[kind][value][slot] += int(answered or 0)
            groups[kind][value][slot + 1] += int(positive or 0)
        out: dict[str, Table] = {}
        for kind in GROUP_KINDS:
            rows = []
            for value, v in sorted(groups[kind].items(), key=lambda kv: (kv[0] == "not shared", kv[0])):
                response = self.sup.rate(v[1], v[0])
                sat = self.sup.rate(v[3], v[2])
                inf = self.sup.rate(v[5], v[4])
                note = "" if sat.shown and response.shown else \
                    "Too few victims in this group to compare fairly; shown as 'fewer than' where needed."
                rows.append(Row(value, [self.sup.count(v[0]), response, self.sup.gap(response, force_response),
                                        self.sup.count(v[2]), sat, self.sup.gap(sat, force_sat), inf,
                                        self.sup.gap(inf, informed)], value, note))
            out[f"equality_{kind}"] = Table(
                f"equality_{kind}", f"By {labels.GROUP_KINDS[kind].lower()}",
                ["Surveys sent", "Response rate", "Gap (response)", "Victims answering", "Satisfied",
                 "Gap (satisfied)", "Kept informed", "Gap (informed)"], rows, None,
                "Where victims chose to share it. Gap: the group's figure minus the force-wide figure.", "bar", (4,))
        return out

    # --- quotes and actions ----------------------------------------------------------------------------------

    async def _quotes(self, s: AsyncSession, f: Filters, themes: Table) -> dict[str, list[str]]:
        shown = {r.key for r in themes.rows if r.cells and r.cells[0].shown}
        if not shown:
            return {}
        clauses, params = self._live_filters(f, "i.touchpoint", "sess.channel")
        params.update(start=sql_time(_start(f.start), self.sqlite), end=sql_time(_start(f.end + timedelta(days=1)),
                                                                                   self.sqlite))
        rows = await self._rows(s, f"""
SELECT f.text, f.classification, c.display_name, k.officer_name, k.reference
FROM invitations i JOIN survey_sessions sess ON sess.invitation_id = i.id
JOIN feedback_items f ON f.session_id = sess.id JOIN contacts c ON c.id = i.contact_id
LEFT JOIN cases k ON k.id = i.case_id
WHERE i.created_at >= :start AND i.created_at < :end AND f.status = 'classified' AND c.opted_out_at IS NULL
  AND c.is_test = false AND COALESCE({self.d.json_text('f.classification', 'risk')}, 'none') = 'none' {clauses}
ORDER BY f.id DESC LIMIT 600""", params)
        out: dict[str, list[str]] = defaultdict(list)
        for body, classification, display_name, officer, reference in rows:
            cls = _json(classification)
            context = RedactionContext.of(display_name, officer, reference)
            for theme in cls.get("themes") or []:
                if theme in shown and len(out[theme]) < QUOTES_PER_THEME and len(str(body).split()) >= 4:
                    quote = self.redactor.redact(str(body)[:400], context)
                    if quote not in out[theme]:
                        out[theme].append(quote)
        return {k: out[k] for k in (r.key for r in themes.rows) if out.get(k)}

    async def _actions(self, s: AsyncSession, f: Filters, resolved: Table) -> dict[str, list[str]]:
        shown = {r.key for r in resolved.rows if r.cells and r.cells[0].shown}
        if not shown:
            return {}
        clauses, params = self._live_filters(f, "w.touchpoint", "sess.channel")
        params.update(start=sql_time(_start(f.start), self.sqlite), end=sql_time(_start(f.end + timedelta(days=1)),
                                                                                   self.sqlite))
        rows = await self._rows(s, f"""
SELECT w.outcome, fi.classification, c.display_name, k.officer_name, k.reference
FROM work_items w JOIN feedback_items fi ON fi.id = w.feedback_item_id
LEFT JOIN survey_sessions sess ON sess.id = w.session_id
LEFT JOIN cases k ON k.id = w.case_id LEFT JOIN contacts c ON c.id = w.contact_id
WHERE {self.d.unindexed('w.status')} = 'resolved' AND w.outcome IS NOT NULL
  AND {self.d.unindexed('w.created_at')} >= :start AND w.created_at < :end {clauses}
ORDER BY w.id DESC LIMIT 400""", params)
        out: dict[str, list[str]] = defaultdict(list)
        for outcome, classification, display_name, officer, reference in rows:
            context = RedactionContext.of(display_name, officer, reference)
            for theme in _json(classification).get("themes") or []:
                if theme in shown and len(out[theme]) < ACTIONS_PER_THEME:
                    action = self.redactor.redact(str(outcome)[:300], context)
                    if action not in out[theme]:
                        out[theme].append(action)
        return dict(out)

    # --- filter choices and headline ---------------------------------------------------------------------------

    async def _options(self, s: AsyncSession, f: Filters) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, set[str]] = defaultdict(set)
        for grain, columns, dims in (("main", "touchpoint, channel", ("touchpoint", "channel")),
                                     ("crime", "crime_type", ("crime_type",)), ("area", "area", ("area",)),
                                     ("groups", "group_kind, group_value", ("group",))):
            where, p = self._where(f, grain, dims=False)
            for row in await self._rows(s, f"SELECT {columns} FROM insight_reach WHERE {where} GROUP BY {columns}", p):
                if dims == ("group",):
                    found["group"].add(f"{row[0]}:{row[1]}")
                else:
                    for dim, value in zip(dims, row, strict=True):
                        found[dim].add(value)
        for dim in (*DIMENSIONS, "group"):
            if getattr(f, dim):
                found[dim].add(getattr(f, dim))
        names = {"touchpoint": labels.TOUCHPOINTS, "channel": labels.CHANNELS}
        out: dict[str, list[tuple[str, str]]] = {}
        for dim, values in found.items():
            if dim == "group":
                out[dim] = [(v, f"{labels.GROUP_KINDS.get(v.split(':')[0], v)}: {v.split(':', 1)[1]}")
                            for v in sorted(values)]
            else:
                out[dim] = sorted(((v, labels.name(names[dim], v) if dim in names else v) for v in values),
                                  key=lambda t: t[1])
        return out

    def _headline(self, tables: Mapping[str, Table]) -> list[tuple[str, Figure]]:
        reach = tables["reach_touchpoint"].total
        sat = tables["satisfaction_touchpoint"].total
        themes = tables["themes"].total
        none = Figure(None, 0)
        heads = [("Victims invited", reach.cells[0] if reach else none),
                 ("Response rate", reach.cells[6] if reach else none),
                 ("Satisfied overall", sat.cells[1] if sat else none),
                 ("Replies read", themes.cells[0] if themes else none)]
        informed = next((r.cells[1] for r in tables["ratings"].rows if r.key == "kept_informed"), none)
        heads.append(("Kept informed", informed))
        sla = tables["sla"].total
        heads.append(("Resolved within SLA", sla.cells[5] if sla else none))
        return heads


def _start(day: date) -> datetime:
    """The instant a London day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)


def _spans(start: date, end: date, grain: str, monthly: bool) -> list[tuple[str, date, date]]:
    """The (grain, first day, last day) parts covering [start, end]: daily ends around whole months."""
    first = start if start.day == 1 else _next_month(start)
    after = _next_month(end) if _next_month(end) - timedelta(days=1) == end else end.replace(day=1)
    if not monthly or first >= after:
        return [(grain, start, end)]
    spans = [(f"{grain}{MONTH_SUFFIX}", first, after - timedelta(days=1))]
    if start < first:
        spans.insert(0, (grain, start, first - timedelta(days=1)))
    if after <= end:
        spans.append((grain, after, end))
    return spans


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json(value: Any) -> dict[str, Any]:
    import json

    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def flatten(tables: Iterable[Table]) -> list[str]:
    """Table ids, in page order."""
    return [t.id for t in tables]
