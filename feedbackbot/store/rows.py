"""Lean SQLAlchemy Core for the reply path: statements built once with bound parameters, executed with plain dicts.

Building a Core statement (and its cache key) costs more than running it on SQLite, so the reply path's
statements are made once here and executed with parameters: ``await direct.run(conn, statement, {...})``
(on SQLite, ``direct`` runs them without SQLAlchemy's per-execution machinery).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from . import direct
from .tables import Answer, Contact, FeedbackItem, Invitation, Message, SurveySession


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a sqlmodel class."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


MESSAGES = table(Message)
SURVEYS = table(SurveySession)
CONTACTS = table(Contact)
INVITATIONS = table(Invitation)
ANSWERS = table(Answer)
FEEDBACK = table(FeedbackItem)

_m, _s, _c, _i = MESSAGES.c, SURVEYS.c, CONTACTS.c, INVITATIONS.c

#: The two oldest unprocessed messages from an address.
#: ``|| ''`` keeps SQLite on the address index: through the outbox index it would walk every reply still
#: waiting (thousands in a burst) to find this address's.
PENDING_FROM = (select(_m.id, _m.channel, _m.address, _m.provider_id, _m.text, _m.media)
                .where(_m.direction.concat("") == "in", _m.address == bindparam("address"),
                       _m.status.concat("") == "received")
                .order_by(_m.id).limit(2))
#: The active survey at an address, with what a turn needs of its contact and invitation.
ACTIVE_SURVEY_AT = (
    select(_s.id, _s.invitation_id, _s.contact_id, _s.case_id, _s.flow_id, _s.flow_version, _s.channel, _s.address,
           _s.version, _s.state, _s.ended_at, _c.opted_out_at, _c.language, _i.touchpoint,
           _i.status.label("invitation_status"))
    .join(CONTACTS, _c.id == _s.contact_id)
    .outerjoin(INVITATIONS, _i.id == _s.invitation_id)
    .where(_s.address == bindparam("address"), _s.status == "active")
    .order_by(_s.id.desc()).limit(1))
#: Replies from providers stored since message ``after`` and not yet carried out, oldest first (the worker
#: picks them up). ``|| ''`` keeps SQLite from walking the outbox index instead: in a burst that index holds
#: every reply still waiting, all read and sorted ten times a second, where the few rows after the watermark
#: are all that is new.
RECEIVED_INBOUND = (select(_m.id, _m.address, _m.text)
                    .where(_m.id > bindparam("after"), _m.direction.concat("") == "in",
                           _m.status.concat("") == "received", _m.channel != "web")
                    .order_by(_m.id).limit(bindparam("limit")))
#: The same at start-up, through the outbox index (few rows wait then), with the newest message's id.
RECEIVED_INBOUND_AT_START = (select(_m.id, _m.address, _m.text)
                             .where(_m.direction == "in", _m.status == "received", _m.channel != "web")
                             .order_by(_m.id).limit(bindparam("limit")))
NEWEST_MESSAGE = select(func.max(_m.id))
INVITATION_FACTS = select(_i.touchpoint, _i.status).where(_i.id == bindparam("invitation_id"))
MESSAGE_ID_BY_PROVIDER = select(_m.id).where(_m.channel == bindparam("channel"),
                                             _m.provider_id == bindparam("provider_id"))
#: Mark a message processed (SET columns come from the parameters).
UPDATE_MESSAGE = MESSAGES.update().where(_m.id == bindparam("message_id"))
UPDATE_SURVEY_AT_VERSION = SURVEYS.update().where(_s.id == bindparam("survey_id"),
                                                  _s.version == bindparam("at_version"))
UPDATE_CONTACT = CONTACTS.update().where(_c.id == bindparam("contact_id"))
UPDATE_INVITATION = INVITATIONS.update().where(_i.id == bindparam("invitation_id"))
#: Inserts of every column, each returning the new id.
_INSERTS: dict[str, Insert] = {t.name: t.insert().returning(t.c.id) for t in (MESSAGES, ANSWERS, FEEDBACK)}
_INSERTS_UNLESS_DUPLICATE: dict[tuple[str, str, tuple[str, ...]], Insert] = {}


def values(row: SQLModel) -> dict[str, Any]:
    """A model's column values (its field defaults applied) for a Core insert; the id is left to the database."""
    return row.model_dump(exclude={"id"})


async def insert_returning_id(conn: AsyncConnection, target: Table, row: SQLModel | dict[str, Any]) -> int:
    """Insert one row (a model, or its column values) and return its new id; one statement on both databases."""
    statement = _INSERTS.get(target.name)
    if statement is None:
        statement = _INSERTS[target.name] = target.insert().returning(target.c.id)
    params = row if isinstance(row, dict) else values(row)
    return int((await direct.run(conn, statement, params)).scalar_one())


async def insert_unless_duplicate(conn: AsyncConnection, target: Table, row: SQLModel | dict[str, Any],
                                  unique: tuple[str, ...]) -> int | None:
    """Insert one row unless it repeats ``unique`` columns of a stored one; the new id, or None for a repeat."""
    key = (conn.dialect.name, target.name, unique)
    statement = _INSERTS_UNLESS_DUPLICATE.get(key)
    if statement is None:
        insert = sqlite.insert(target) if conn.dialect.name == "sqlite" else postgresql.insert(target)
        statement = _INSERTS_UNLESS_DUPLICATE[key] = (
            insert.on_conflict_do_nothing(index_elements=list(unique)).returning(target.c.id))
    found = (await direct.run(conn, statement, row if isinstance(row, dict) else values(row))).scalar_one_or_none()
    return int(found) if found is not None else None
