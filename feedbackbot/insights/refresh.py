"""Keep the board's pre-aggregated tables up to date: whole days rebuilt in SQL from a watermark, never row by row."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from ..store.db import Database
from .config import Measure

log = logging.getLogger(__name__)

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
        """The UTC calendar day of a timestamp column."""
        return f"substr({column}, 1, 10)" if self.sqlite else f"CAST(({column} AT TIME ZONE 'UTC') AS date)"

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
#: "full" answers any filter; the small sets answer the default, unfiltered view quickly.
GRAINS = (
    Grain("full", True, True, True, GROUP_KINDS),
    Grain("main", True, False, False, ("all",)),
    Grain("crime", False, True, False, ("all",)),
    Grain("area", False, False, True, ("all",)),
    Grain("groups", False, False, False, GROUP_KINDS[1:]),
)


#: Lets deletes by day use the (grain, day, group_kind) index.
GRAIN_IN = "grain IN (" + ", ".join(f"'{g.name}'" for g in GRAINS) + ")"


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


SLICE_COLUMNS = "grain, day, touchpoint, channel, crime_type, area, group_kind, group_value"


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
                await self._build(s, None, None)
                rebuilt = -1
            else:
                survey_days, work_days = await self._touched(s, since)
                for lo, hi in _ranges(survey_days):
                    await self._rebuild_survey(s, lo, hi)
                for lo, hi in _ranges(work_days):
                    await run(s, (f"DELETE FROM insight_work WHERE {GRAIN_IN} AND day >= :lo AND day < :hi"),
                                    self._days(lo, hi))
                    window = "AND w.created_at >= :lo AND w.created_at < :hi"
                    for grain in GRAINS:
                        await run(s, (_work_sql(self.d, grain, window)), self._bounds(lo, hi))
                rebuilt = len(set(survey_days) | set(work_days))
            await self._mark(s, now, max(rebuilt, 0), exists=row is not None)
        log.info("insights refreshed (%s days)", "all" if rebuilt < 0 else rebuilt)
        return rebuilt

    def _days(self, lo: date, hi: date) -> dict[str, Any]:
        return {"lo": sql_day(lo, self.db.sqlite), "hi": sql_day(hi, self.db.sqlite)}

    def _bounds(self, lo: date, hi: date) -> dict[str, Any]:
        start, end = (datetime.combine(x, time(0), tzinfo=UTC) for x in (lo, hi))
        return {"lo": sql_time(start, self.db.sqlite), "hi": sql_time(end, self.db.sqlite)}

    async def _mark(self, s: AsyncSession, now: datetime, days: int, *, exists: bool) -> None:
        stored = sql_time(now, self.db.sqlite)
        if exists:
            await run(s, ("UPDATE insight_watermarks SET refreshed_at = :t, days = :d WHERE name = :n"),
                            {"t": stored, "d": days, "n": WATERMARK})
        else:
            await run(s, ("INSERT INTO insight_watermarks (name, refreshed_at, days) VALUES (:n, :t, :d)"),
                            {"t": stored, "d": days, "n": WATERMARK})

    async def _build(self, s: AsyncSession, lo: date | None, hi: date | None) -> None:
        params: dict[str, Any] = {}
        where = ""
        if lo is not None and hi is not None:
            where = "AND i.created_at >= :lo AND i.created_at < :hi"
            params = self._bounds(lo, hi)
        for grain in GRAINS:
            await run(s, (_reach_sql(self.d, grain, where)), params)
            for measure in self.measures:
                measure_params = dict(params)
                sql = _rating_sql(self.d, grain, measure, where, measure_params)
                await run(s, (sql), measure_params)
            for kind in FEEDBACK_KINDS:
                await run(s, (_feedback_sql(self.d, grain, kind, where)), params)
            if lo is None:
                await run(s, (_work_sql(self.d, grain, "")))

    async def _rebuild_survey(self, s: AsyncSession, lo: date, hi: date) -> None:
        for table in FACT_TABLES[:3]:
            await run(s, (f"DELETE FROM {table} WHERE {GRAIN_IN} AND day >= :lo AND day < :hi"),
                            self._days(lo, hi))
        await self._build(s, lo, hi)

    async def _touched(self, s: AsyncSession, since: datetime) -> tuple[list[date], list[date]]:
        """Days whose survey facts or work-item facts may have changed since ``since``."""
        d = self.d
        p = {"since": sql_time(since, self.db.sqlite)}
        survey = await run(s, (f"""
SELECT DISTINCT {d.day('i.created_at')} FROM invitations i WHERE i.created_at >= :since OR i.sent_at >= :since
  OR i.id IN (SELECT invitation_id FROM survey_sessions WHERE updated_at >= :since AND invitation_id IS NOT NULL)
  OR i.id IN (SELECT s.invitation_id FROM feedback_items f JOIN survey_sessions s ON s.id = f.session_id
              WHERE f.classified_at >= :since)
  OR i.id IN (SELECT s.invitation_id FROM work_items w JOIN survey_sessions s ON s.id = w.session_id
              WHERE w.updated_at >= :since)
  OR i.contact_id IN (SELECT id FROM contacts WHERE updated_at >= :since)"""), p)
        work = await run(s, (f"SELECT DISTINCT {d.day('created_at')} FROM work_items "
                                    "WHERE updated_at >= :since OR created_at >= :since"), p)
        return [_as_date(r[0]) for r in survey], [_as_date(r[0]) for r in work]


def _parse_ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
