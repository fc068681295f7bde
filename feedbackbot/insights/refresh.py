"""Keep the board's pre-aggregated tables up to date: whole days rebuilt in SQL from a watermark, never row by row."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from ..store.db import Database
from .config import Measure

log = logging.getLogger(__name__)

LONDON_NAME = "Europe/London"
#: Facts are bucketed by the force's own calendar day.
LONDON = ZoneInfo(LONDON_NAME)
WATERMARK = "facts"
#: Rows changed this long before the last refresh began are looked at again (clock skew between processes).
SLACK = timedelta(minutes=5)
GROUP_KINDS = ("all", "gender", "age_band", "ethnicity", "disability")
NOT_SHARED = "not shared"
NOT_RECORDED = "not recorded"
FACT_TABLES = ("insight_reach", "insight_ratings", "insight_feedback", "insight_work")
OPEN_STATUSES = ("new", "acknowledged", "in_progress")
FEEDBACK_KINDS = ("reply", "theme", "risk", "risk_category", "request", "resolved")


@dataclass(frozen=True)
class Dialect:
    """The few SQL fragments that differ between SQLite and PostgreSQL."""

    sqlite: bool

    def day(self, column: str) -> str:
        """The Europe/London calendar day of a (UTC) timestamp column.

        SQLite has no time zones, so British Summer Time is worked out from the UK rule (since 1996): UTC+1 from
        01:00 UTC on the last Sunday of March (the Sunday on or after 25 March) to 01:00 UTC on the last Sunday
        of October.
        """
        if not self.sqlite:
            return f"CAST(({column} AT TIME ZONE '{LONDON_NAME}') AS date)"
        year = f"substr({column}, 1, 4)"
        starts = f"date({year} || '-03-25', 'weekday 0') || ' 01:00:00'"
        ends = f"date({year} || '-10-25', 'weekday 0') || ' 01:00:00'"
        return (f"(CASE WHEN {column} >= {starts} AND {column} < {ends} THEN date({column}, '+1 hour') "
                f"ELSE substr({column}, 1, 10) END)")

    def unindexed(self, column: str) -> str:
        """A column SQLite must not pick an index for (newest-first reads walk the primary key and stop early)."""
        return f"+{column}" if self.sqlite else column

    def month(self, column: str) -> str:
        """The first day of the month of a ``day`` column of the facts."""
        return f"(substr({column}, 1, 7) || '-01')" if self.sqlite else f"CAST(date_trunc('month', {column}) AS date)"

    def json_text(self, column: str, key: str) -> str:
        """A top-level string of a JSON column."""
        return f"json_extract({column}, '$.{key}')" if self.sqlite else f"({column}->>'{key}')"

    def json_each(self, column: str, key: str, alias: str) -> str:
        """A join producing one row (``alias.value``) per element of a JSON array."""
        if self.sqlite:
            return f"JOIN json_each({column}, '$.{key}') AS {alias}"
        return f"CROSS JOIN LATERAL json_array_elements_text(COALESCE({column}->'{key}', '[]'::json)) AS {alias}(value)"

    def minutes(self, later: str, earlier: str) -> str:
        """Minutes between two timestamps."""
        if self.sqlite:
            return f"((julianday({later}) - julianday({earlier})) * 1440.0)"
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 60.0)"


@dataclass(frozen=True)
class Grain:
    """One grouping set of the facts: which slice columns are kept (the others hold ``*``)."""

    name: str
    touchpoint_channel: bool
    crime_type: bool
    area: bool
    group_kinds: tuple[str, ...]


ANY = "*"
MONTH_SUFFIX = "_m"
SLICE_COLUMNS = "grain, day, touchpoint, channel, crime_type, area, group_kind, group_value"
#: Daily grains. "full" (every column, answers any filter) is built from the replies; the small ones answer the
#: default, unfiltered view and are rolled up from "full".
DAILY = (
    Grain("full", True, True, True, GROUP_KINDS),
    Grain("main", True, False, False, ("all",)),
    Grain("crime", False, True, False, ("all",)),
    Grain("area", False, False, True, ("all",)),
    Grain("groups", False, False, False, GROUP_KINDS[1:]),
)
#: The same grains per calendar month (``day`` is the 1st), rolled up from the daily rows: a date range reads
#: whole months from these and only the part-months at its ends from the daily rows.
MONTHLY = tuple(replace(g, name=f"{g.name}{MONTH_SUFFIX}") for g in DAILY)
GRAINS = DAILY + MONTHLY
#: The columns each fact table keeps beside the slice: its own keys, then the figures (all additive).
TABLE_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "insight_reach": ((), ("invited", "sent", "delivered", "started", "completed", "opted_out")),
    "insight_ratings": (("measure",), ("answered", "positive", "total")),
    "insight_feedback": (("kind", "label"), ("items", "sessions", "positive", "negative", "neutral", "mixed")),
    "insight_work": (("queue", "priority"), ("items", "acknowledged", "acknowledged_in_time", "acknowledge_minutes",
                                             "resolved", "resolved_in_time", "resolve_minutes")),
}


def grain_in(grains: Sequence[Grain]) -> str:
    """A ``grain IN (...)`` condition (lets deletes by day use the facts' index)."""
    return "grain IN (" + ", ".join(f"'{g.name}'" for g in grains) + ")"


def _rollup_sql(d: Dialect, table: str, target: Grain, source: str, *, monthly: bool) -> str:
    """Sum the rows of one grain into a smaller (or monthly) grain, for the days in [:lo, :hi).

    Every figure is a count or sum over victims, replies or items that each sit in exactly one slice, so
    adding rows up gives the same numbers as counting from the replies again.
    """
    keys, values = TABLE_COLUMNS[table]
    dims = [c if keep else f"'{ANY}'" for c, keep in (("touchpoint", target.touchpoint_channel),
                                                      ("channel", target.touchpoint_channel),
                                                      ("crime_type", target.crime_type), ("area", target.area))]
    if target.group_kinds == ("all",):
        groups = "AND group_kind = 'all'"
    elif "all" in target.group_kinds:
        groups = ""
    else:
        groups = "AND group_kind <> 'all'"
    exprs = [d.month("day") if monthly else "day", *dims, "group_kind", "group_value", *keys]
    by = [e for e in exprs if not e.startswith("'")]
    return f"""
INSERT INTO {table} ({SLICE_COLUMNS}{''.join(', ' + k for k in keys)}, {', '.join(values)})
SELECT '{target.name}', {', '.join(exprs)}, {', '.join(f'SUM({v})' for v in values)}
FROM {table} WHERE grain = '{source}' AND day >= :lo AND day < :hi {groups}
GROUP BY {', '.join(by)}"""


def _groups(d: Dialect, kinds: tuple[str, ...]) -> tuple[str, str, str]:
    """The cross join repeating each row once per group kind, and the group kind and value expressions."""
    if kinds == ("all",):
        return "", "'all'", "'all'"
    joined = " UNION ALL ".join(f"SELECT '{k}' AS gk" for k in kinds)
    cases = " ".join(
        f"WHEN '{k}' THEN COALESCE(NULLIF({d.json_text('c.demographics', k)}, ''), '{NOT_SHARED}')"
        for k in kinds if k != "all")
    value = f"CASE g.gk WHEN 'all' THEN 'all' {cases} END" if "all" in kinds else f"CASE g.gk {cases} END"
    return f"CROSS JOIN ({joined}) g", "g.gk", value


def _slice(d: Dialect, grain: Grain, day_column: str, touchpoint: str, channel: str) -> tuple[str, str, str]:
    """The group cross join, the SELECT expressions and the GROUP BY expressions of the slice columns."""
    join, kind, value = _groups(d, grain.group_kinds)
    exprs = [d.day(day_column),
             touchpoint if grain.touchpoint_channel else f"'{ANY}'",
             channel if grain.touchpoint_channel else f"'{ANY}'",
             f"COALESCE(NULLIF(k.crime_type, ''), '{NOT_RECORDED}')" if grain.crime_type else f"'{ANY}'",
             f"COALESCE(NULLIF(k.area, ''), '{NOT_RECORDED}')" if grain.area else f"'{ANY}'",
             kind, value]
    by = [e for e in exprs if not e.startswith("'")]
    return join, ", ".join([f"'{grain.name}'", *exprs]), ", ".join(by)




def _reach_sql(d: Dialect, grain: Grain, where: str) -> str:
    groups, cols, by = _slice(d, grain, "i.created_at", "i.touchpoint", "i.channel")
    started = "s.last_inbound_at IS NOT NULL"
    delivered = (f"(i.sent_at IS NOT NULL AND ({started} OR EXISTS (SELECT 1 FROM messages m WHERE "
                 "m.session_id = s.id AND m.direction = 'out' AND m.delivered_at IS NOT NULL)))")
    opted = ("(s.status = 'opted_out' OR (c.opted_out_at IS NOT NULL AND i.sent_at IS NOT NULL "
             "AND c.opted_out_at >= i.sent_at))")
    return f"""
INSERT INTO insight_reach ({SLICE_COLUMNS}, invited, sent, delivered, started, completed, opted_out)
SELECT {cols}, COUNT(DISTINCT i.id),
  COUNT(DISTINCT CASE WHEN i.sent_at IS NOT NULL THEN i.id END),
  COUNT(DISTINCT CASE WHEN {delivered} THEN i.id END),
  COUNT(DISTINCT CASE WHEN {started} THEN i.id END),
  COUNT(DISTINCT CASE WHEN s.status = 'completed' THEN i.id END),
  COUNT(DISTINCT CASE WHEN {opted} THEN i.id END)
FROM invitations i
JOIN contacts c ON c.id = i.contact_id
LEFT JOIN cases k ON k.id = i.case_id
LEFT JOIN survey_sessions s ON s.invitation_id = i.id AND s.status <> 'superseded'
{groups}
WHERE c.is_test = false {where}
GROUP BY {by}"""


def _rating_sql(d: Dialect, grain: Grain, measure: Measure, where: str, params: dict[str, Any]) -> str:
    groups, cols, by = _slice(d, grain, "i.created_at", "i.touchpoint", "s.channel")
    which: list[str] = []
    positive: list[str] = []
    for n, q in enumerate(measure.questions):
        key = f"{measure.id}_{n}"
        params[f"f_{key}"], params[f"s_{key}"] = q.flow_id, q.step_id
        match = f"(a.flow_id = :f_{key} AND a.step_id = :s_{key})"
        which.append(match)
        if q.kind == "scale":
            params[f"t_{key}"] = q.positive_at_least
            positive.append(f"({match} AND a.value_num >= :t_{key})")
        else:
            names = []
            for m, value in enumerate(q.positive):
                params[f"v_{key}_{m}"] = value
                names.append(f":v_{key}_{m}")
            positive.append(f"({match} AND a.value IN ({', '.join(names)}))")
    return f"""
INSERT INTO insight_ratings ({SLICE_COLUMNS}, measure, answered, positive, total)
SELECT {cols}, '{measure.id}', COUNT(DISTINCT a.session_id),
  COUNT(DISTINCT CASE WHEN {' OR '.join(positive)} THEN a.session_id END),
  COALESCE(SUM(a.value_num), 0)
FROM invitations i
JOIN survey_sessions s ON s.invitation_id = i.id
JOIN answers a ON a.session_id = s.id
JOIN contacts c ON c.id = i.contact_id
LEFT JOIN cases k ON k.id = i.case_id
{groups}
WHERE c.is_test = false AND a.skipped = false AND a.value IS NOT NULL AND ({' OR '.join(which)}) {where}
GROUP BY {by}"""


def _feedback_sql(d: Dialect, grain: Grain, kind: str, where: str) -> str:
    groups, cols, by = _slice(d, grain, "i.created_at", "i.touchpoint", "s.channel")
    sentiment = d.json_text("f.classification", "sentiment")
    extra_join, label, extra_where = "", "'all'", ""
    if kind in {"theme", "resolved"}:
        extra_join, label = d.json_each("f.classification", "themes", "t"), "t.value"
    elif kind == "risk":
        label = f"COALESCE({d.json_text('f.classification', 'risk')}, 'none')"
    elif kind == "risk_category":
        extra_join, label = d.json_each("f.classification", "risk_categories", "t"), "t.value"
    elif kind == "request":
        extra_join, label = d.json_each("f.classification", "requests", "t"), "t.value"
    if kind == "resolved":
        extra_where = ("AND EXISTS (SELECT 1 FROM work_items w WHERE w.feedback_item_id = f.id "
                       "AND w.status = 'resolved')")
    counts = ", ".join(f"COUNT(DISTINCT CASE WHEN {sentiment} = '{s}' THEN f.id END)"
                       for s in ("positive", "negative", "neutral", "mixed"))
    return f"""
INSERT INTO insight_feedback ({SLICE_COLUMNS}, kind, label, items, sessions, positive, negative, neutral, mixed)
SELECT {cols}, '{kind}', {label}, COUNT(DISTINCT f.id), COUNT(DISTINCT f.session_id), {counts}
FROM invitations i
JOIN survey_sessions s ON s.invitation_id = i.id
JOIN feedback_items f ON f.session_id = s.id
JOIN contacts c ON c.id = i.contact_id
LEFT JOIN cases k ON k.id = i.case_id
{extra_join}
{groups}
WHERE c.is_test = false AND f.status = 'classified' {extra_where} {where}
GROUP BY {by}{'' if label.startswith("'") else ', ' + label}"""


def _work_sql(d: Dialect, grain: Grain, where: str) -> str:
    groups, cols, by = _slice(d, grain, "w.created_at", f"COALESCE(w.touchpoint, '{NOT_RECORDED}')",
                              f"COALESCE(s.channel, '{NOT_RECORDED}')")
    queue = "CASE WHEN w.target_kind = 'queue' THEN w.target_ref ELSE 'officers' END"
    ack_in_time = "(w.acknowledged_at IS NOT NULL AND (w.due_at IS NULL OR w.acknowledged_at <= w.due_at))"
    res_in_time = "(w.resolved_at IS NOT NULL AND (w.due_at IS NULL OR w.resolved_at <= w.due_at))"
    return f"""
INSERT INTO insight_work ({SLICE_COLUMNS}, queue, priority, items, acknowledged, acknowledged_in_time,
  acknowledge_minutes, resolved, resolved_in_time, resolve_minutes)
SELECT {cols}, {queue}, w.priority, COUNT(*),
  SUM(CASE WHEN w.acknowledged_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN {ack_in_time} THEN 1 ELSE 0 END),
  COALESCE(SUM(CASE WHEN w.acknowledged_at IS NOT NULL THEN {d.minutes('w.acknowledged_at', 'w.created_at')} END), 0),
  SUM(CASE WHEN w.resolved_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN {res_in_time} THEN 1 ELSE 0 END),
  COALESCE(SUM(CASE WHEN w.resolved_at IS NOT NULL THEN {d.minutes('w.resolved_at', 'w.created_at')} END), 0)
FROM work_items w
LEFT JOIN survey_sessions s ON s.id = w.session_id
LEFT JOIN contacts c ON c.id = w.contact_id
LEFT JOIN cases k ON k.id = w.case_id
{groups}
WHERE w.status <> 'reassigned' AND COALESCE(c.is_test, false) = false {where}
GROUP BY {by}, {queue}, w.priority"""


def _ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days merged into half-open ranges [first, last + 1 day)."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] == day:
            out[-1] = (out[-1][0], day + timedelta(days=1))
        else:
            out.append((day, day + timedelta(days=1)))
    return out


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def run(s: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Run SQL text (or a Core statement) on the session's connection; returns the result."""
    conn = await s.connection()
    if isinstance(statement, str):
        statement = text(statement)
    return await conn.execute(statement, params or {})


def sql_time(moment: datetime, sqlite: bool) -> Any:
    """A timestamp as a query parameter: SQLite compares the text SQLAlchemy stored, PostgreSQL a timestamptz."""
    if sqlite:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment.astimezone(UTC)


def sql_day(day: date, sqlite: bool) -> Any:
    """A calendar day as a query parameter."""
    return day.isoformat() if sqlite else day


def _months(days: Sequence[date]) -> list[date]:
    """The first days of the months the days fall in."""
    return sorted({day.replace(day=1) for day in days})


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


SURVEY_TABLES = FACT_TABLES[:3]
WORK_TABLES = FACT_TABLES[3:]


class Refresher:
    """Rebuilds the facts of every day touched since the last refresh (or all of them), inside one transaction."""

    def __init__(self, db: Database, measures: Sequence[Measure]) -> None:
        self.db = db
        self.measures = tuple(measures)
        self.d = Dialect(db.sqlite)

    async def refresh(self, now: datetime, *, full: bool = False) -> int:
        """Bring the facts up to date as of ``now``; returns how many days were rebuilt (-1: everything)."""
        async with self.db.session() as s:
            lock = "" if self.db.sqlite else " FOR UPDATE"
            row = (await run(s, (f"SELECT refreshed_at FROM insight_watermarks WHERE name = :n{lock}"),
                                   {"n": WATERMARK})).first()
            since = _parse_ts(row[0]) - SLACK if row is not None and not full else None
            if since is None:
                for table in FACT_TABLES:
                    await run(s, (f"DELETE FROM {table}"))
                await self._build_survey(s, None, None)
                await self._build_work(s, None, None)
                await self._roll_up(s, FACT_TABLES, None, None)
                await self._analyze(s)
                rebuilt = -1
            else:
                survey_days, work_days = await self._touched(s, since)
                for lo, hi in _ranges(survey_days):
                    await self._delete(s, SURVEY_TABLES, DAILY, lo, hi)
                    await self._build_survey(s, lo, hi)
                for lo, hi in _ranges(work_days):
                    await self._delete(s, WORK_TABLES, DAILY, lo, hi)
                    await self._build_work(s, lo, hi)
                for tables, days in ((SURVEY_TABLES, survey_days), (WORK_TABLES, work_days)):
                    for month in _months(days):
                        await self._delete(s, tables, MONTHLY, month, _next_month(month))
                        await self._roll_up(s, tables, month, _next_month(month), monthly_only=True)
                rebuilt = len(set(survey_days) | set(work_days))
            await self._mark(s, now, max(rebuilt, 0), exists=row is not None)
        log.info("insights refreshed (%s days)", "all" if rebuilt < 0 else rebuilt)
        return rebuilt

    def _days(self, lo: date | None, hi: date | None) -> dict[str, Any]:
        """Day bounds for the facts (everything when not given)."""
        lo, hi = lo or date(1970, 1, 1), hi or date(9999, 1, 1)
        return {"lo": sql_day(lo, self.db.sqlite), "hi": sql_day(hi, self.db.sqlite)}

    def _bounds(self, lo: date, hi: date) -> dict[str, Any]:
        """The instants at which London days ``lo`` and ``hi`` begin."""
        start, end = (datetime.combine(x, time(0), tzinfo=LONDON) for x in (lo, hi))
        return {"lo": sql_time(start, self.db.sqlite), "hi": sql_time(end, self.db.sqlite)}

    async def _mark(self, s: AsyncSession, now: datetime, days: int, *, exists: bool) -> None:
        stored = sql_time(now, self.db.sqlite)
        if exists:
            await run(s, ("UPDATE insight_watermarks SET refreshed_at = :t, days = :d WHERE name = :n"),
                            {"t": stored, "d": days, "n": WATERMARK})
        else:
            await run(s, ("INSERT INTO insight_watermarks (name, refreshed_at, days) VALUES (:n, :t, :d)"),
                            {"t": stored, "d": days, "n": WATERMARK})

    async def _delete(self, s: AsyncSession, tables: Sequence[str], grains: Sequence[Grain], lo: date,
                      hi: date) -> None:
        for table in tables:
            await run(s, f"DELETE FROM {table} WHERE {grain_in(grains)} AND day >= :lo AND day < :hi",
                      self._days(lo, hi))

    async def _build_survey(self, s: AsyncSession, lo: date | None, hi: date | None) -> None:
        """The "full" daily grain of the survey facts, from the replies, then its daily roll-ups."""
        params: dict[str, Any] = {}
        where = ""
        if lo is not None and hi is not None:
            where = "AND i.created_at >= :lo AND i.created_at < :hi"
            params = self._bounds(lo, hi)
        full = DAILY[0]
        await run(s, _reach_sql(self.d, full, where), params)
        for measure in self.measures:
            measure_params = dict(params)
            sql = _rating_sql(self.d, full, measure, where, measure_params)
            await run(s, sql, measure_params)
        for kind in FEEDBACK_KINDS:
            await run(s, _feedback_sql(self.d, full, kind, where), params)
        if lo is not None:
            await self._roll_up(s, SURVEY_TABLES, lo, hi, daily_only=True)

    async def _build_work(self, s: AsyncSession, lo: date | None, hi: date | None) -> None:
        """The "full" daily grain of the work-item facts, then its daily roll-ups."""
        if lo is None or hi is None:
            await run(s, _work_sql(self.d, DAILY[0], ""))
            return
        window = "AND w.created_at >= :lo AND w.created_at < :hi"
        await run(s, _work_sql(self.d, DAILY[0], window), self._bounds(lo, hi))
        await self._roll_up(s, WORK_TABLES, lo, hi, daily_only=True)

    async def _roll_up(self, s: AsyncSession, tables: Sequence[str], lo: date | None, hi: date | None, *,
                       daily_only: bool = False, monthly_only: bool = False) -> None:
        """The small daily grains from "full", then every monthly grain from its daily one, for [lo, hi)."""
        params = self._days(lo, hi)
        for table in tables:
            if not monthly_only:
                for grain in DAILY[1:]:
                    await run(s, _rollup_sql(self.d, table, grain, DAILY[0].name, monthly=False), params)
            if not daily_only:
                for daily, monthly in zip(DAILY, MONTHLY, strict=True):
                    await run(s, _rollup_sql(self.d, table, monthly, daily.name, monthly=True), params)

    async def _analyze(self, s: AsyncSession) -> None:
        """Fresh planner statistics for the facts after a rebuild (SQLite: sampled, so it takes well under a second)."""
        if self.db.sqlite:
            await run(s, "PRAGMA analysis_limit = 1000")
        for table in FACT_TABLES:
            await run(s, f"ANALYZE {table}")

    async def _touched(self, s: AsyncSession, since: datetime) -> tuple[list[date], list[date]]:
        """Days whose survey facts or work-item facts may have changed since ``since``.

        Each part reads one indexed timestamp (migration 0006), so this costs what changed, not what is stored.
        """
        day = self.d.day("i.created_at")
        via_session = "JOIN invitations i ON i.id = s.invitation_id"
        p = {"since": sql_time(since, self.db.sqlite)}
        survey = await run(s, f"""
SELECT {day} FROM invitations i WHERE i.created_at >= :since
UNION SELECT {day} FROM invitations i WHERE i.sent_at >= :since
UNION SELECT {day} FROM survey_sessions s {via_session} WHERE s.updated_at >= :since
UNION SELECT {day} FROM messages m JOIN survey_sessions s ON s.id = m.session_id {via_session}
  WHERE m.updated_at >= :since
UNION SELECT {day} FROM feedback_items f JOIN survey_sessions s ON s.id = f.session_id {via_session}
  WHERE f.classified_at >= :since
UNION SELECT {day} FROM work_items w JOIN survey_sessions s ON s.id = w.session_id {via_session}
  WHERE w.updated_at >= :since
UNION SELECT {day} FROM contacts c JOIN invitations i ON i.contact_id = c.id WHERE c.updated_at >= :since""", p)
        work_day = self.d.day("created_at")
        work = await run(s, f"SELECT {work_day} FROM work_items WHERE updated_at >= :since "
                            f"UNION SELECT {work_day} FROM work_items WHERE created_at >= :since", p)
        return [_as_date(r[0]) for r in survey], [_as_date(r[0]) for r in work]


def _parse_ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
