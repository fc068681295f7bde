"""The reply path's statements give the same rows, values and errors on SQLite's direct path as through SQLAlchemy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Select, Update, bindparam, select
from sqlalchemy.dialects.sqlite import aiosqlite
from sqlalchemy.exc import IntegrityError

from feedbackbot.store import direct, rows
from feedbackbot.store.db import Database
from feedbackbot.store.tables import Message

WHEN = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
_m = rows.MESSAGES.c
BY_ID = select(_m.id, _m.text, _m.quick_replies, _m.created_at, _m.sent_at, _m.attempts).where(
    _m.id == bindparam("message_id"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


def _reply(provider_id: str, text: str) -> dict[str, object]:
    return {"direction": "in", "channel": "web", "address": "web:abc", "contact_id": None, "session_id": None,
            "provider_id": provider_id, "text": text, "quick_replies": [{"text": "1", "label": "Yes — “quite”"}],
            "media": [], "step_id": None, "purpose": "reply", "status": "received", "error_code": None,
            "error_reason": None, "attempts": 0, "next_attempt_at": None, "claimed_at": None, "in_reply_to": None,
            "created_at": WHEN, "updated_at": WHEN, "sent_at": None, "delivered_at": None}


async def test_a_reply_stored_and_read_on_the_reply_path_is_what_the_orm_sees(db: Database) -> None:
    async with db.session() as s:
        conn = await s.connection()
        first = await rows.insert_unless_duplicate(conn, rows.MESSAGES, _reply("p-1", "he's <b>outside</b> now"),
                                                   ("channel", "provider_id"))
        again = await rows.insert_unless_duplicate(conn, rows.MESSAGES, _reply("p-1", "a repeat"),
                                                   ("channel", "provider_id"))
        assert first is not None and again is None
        read = (await direct.run(conn, BY_ID, {"message_id": first})).first()
        assert (read.id, read.text, read.quick_replies, read.created_at, read.sent_at, read.attempts) == (
            first, "he's <b>outside</b> now", [{"text": "1", "label": "Yes — “quite”"}], WHEN, None, 0)
        assert (await direct.run(conn, BY_ID, {"message_id": first + 99})).first() is None
        pending = (await direct.run(conn, rows.PENDING_FROM, {"address": "web:abc"})).all()
        assert [p.id for p in pending] == [first]
        changed = await direct.run(conn, rows.UPDATE_MESSAGE, {"message_id": first, "status": "processed",
                                                                "sent_at": WHEN, "updated_at": WHEN})
        missing = await direct.run(conn, rows.UPDATE_MESSAGE, {"message_id": first + 99, "status": "processed",
                                                                "updated_at": WHEN})
        assert (changed.rowcount, missing.rowcount) == (1, 0)
        # SQLite runs them straight on its connection; PostgreSQL through SQLAlchemy, with the same results.
        assert isinstance(changed, direct.DirectResult) is db.sqlite
        assert (await direct.run(conn, rows.PENDING_FROM, {"address": "web:abc"})).all() == []
    async with db.session() as s:
        stored = await s.get(Message, first)
        assert stored is not None
        assert (stored.status, stored.sent_at, stored.created_at, stored.quick_replies) == (
            "processed", WHEN, WHEN, [{"text": "1", "label": "Yes — “quite”"}])


async def test_a_statement_that_breaks_a_rule_raises_sqlalchemys_error_and_changes_nothing(db: Database) -> None:
    async with db.session() as s:
        conn = await s.connection()
        kept = await rows.insert_returning_id(conn, rows.MESSAGES, _reply("p-2", "kept"))
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            conn = await s.connection()
            await rows.insert_returning_id(conn, rows.MESSAGES, _reply("p-2", "same provider id"))
    async with db.session() as s:
        conn = await s.connection()
        assert [r.id for r in (await direct.run(conn, rows.PENDING_FROM, {"address": "web:abc"})).all()] == [kept]


def test_every_statement_of_the_reply_path_takes_the_direct_path_on_sqlite() -> None:
    dialect = aiosqlite.dialect()
    statements = {name: value for name, value in vars(rows).items() if isinstance(value, Select | Update)}
    assert {"PENDING_FROM", "ACTIVE_SURVEY_AT", "UPDATE_MESSAGE", "UPDATE_SURVEY_AT_VERSION"} <= set(statements)
    for name, statement in statements.items():
        names = frozenset(statement.compile(dialect=dialect).params) - {"param_1", "param_2", "param_3"}
        if isinstance(statement, Update):
            names |= {"status", "updated_at"}
        prepared = direct.prepare(statement, names, dialect)
        assert prepared.sql.count("?") == len(prepared.binds), name
    for table in (rows.MESSAGES, rows.ANSWERS, rows.FEEDBACK):  # the inserts give every column but the id
        insert = table.insert().returning(table.c.id)
        prepared = direct.prepare(insert, frozenset(table.c.keys()) - {"id"}, dialect)
        assert prepared.row is not None and len(prepared.binds) == len(table.c) - 1, table.name
