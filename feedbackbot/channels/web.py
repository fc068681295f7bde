"""The web chat channel: a mobile-friendly page at an unguessable per-invitation link, also the flow simulator."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..clock import Clock
from ..conversation import Conversation
from ..messages import Address, Channel, InboundMessage, OutboundMessage, SendResult
from ..settings import Settings
from ..store import direct, rows
from ..store.db import Database
from ..web.render import Pages

MAX_REPLY_CHARS = 2000


@dataclass(frozen=True)
class ChatLine:
    """One message of the conversation as the chat page shows it."""

    id: int
    direction: str
    text: str
    quick_replies: list[dict[str, str]]
    created_at: datetime


@dataclass(frozen=True)
class ChatInvitation:
    """What the chat needs of an invitation; never changes once the survey has started, so it is cached."""

    id: int
    token: str
    address: str
    channel: str
    language: str
    status: str


@dataclass(frozen=True)
class ChatSurvey:
    """The address's latest survey: whether it is still running, and in which language."""

    status: str
    language: str


_m, _s, _i = rows.MESSAGES.c, rows.SURVEYS.c, rows.INVITATIONS.c
_TRANSCRIPT = (select(_m.id, _m.direction, _m.text, _m.quick_replies, _m.created_at)
               .where(_m.address == bindparam("address"), _m.id > bindparam("after"), _m.status != "cancelled")
               .order_by(_m.id))
_LATEST_SURVEY = (select(_s.status, _s.language).where(_s.address == bindparam("address"))
                  .order_by(_s.id.desc()).limit(1))
_INVITATION_BY_TOKEN = select(_i.id, _i.token, _i.address, _i.channel, _i.language, _i.status).where(
    _i.token == bindparam("token"))
#: Started invitations remembered (token -> invitation); a victim's replies then skip the lookup.
INVITATION_CACHE_SIZE = 10_000


def _message_json(row: ChatLine) -> dict[str, Any]:
    return {
        "id": row.id,
        "from": "victim" if row.direction == "in" else "police",
        "text": row.text,
        "quick_replies": row.quick_replies if row.direction == "out" else [],
        "at": row.created_at.isoformat(),
    }


class WebChannel:
    """Serves the chat page; messages to it are read by the victim's browser, so ``send`` has nothing to push."""

    channel = Channel.WEB

    def __init__(self, db: Database, conversation: Conversation, pages: Pages, settings: Settings,
                 clock: Clock) -> None:
        self.db = db
        self.conversation = conversation
        self.pages = pages
        self.settings = settings
        self.clock = clock
        self._invitations: OrderedDict[str, ChatInvitation] = OrderedDict()

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """The chat page, its form post (works without JavaScript) and its JSON endpoints."""
        return [
            web.get("/s/{token}", self.page, name="chat"),
            web.post("/s/{token}", self.form_post, name="chat_post"),
            web.get("/s/{token}/messages", self.poll, name="chat_messages"),
            web.post("/s/{token}/messages", self.json_post, name="chat_messages_post"),
        ]

    async def send(self, message: OutboundMessage) -> SendResult:
        """Web messages are stored as sent; the page fetches them."""
        return SendResult(ok=True, provider_id=None, status="sent")

    async def check_sent(self, message: OutboundMessage) -> SendResult | None:
        """A web message is never in flight: the page reads it from the database."""
        return SendResult(ok=True, status="sent")

    async def start(self) -> None:
        """Nothing to open: the pages are served by the app."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def _invitation(self, request: web.Request) -> ChatInvitation:
        token = request.match_info["token"]
        if not (20 <= len(token) <= 64):
            raise web.HTTPNotFound()
        cached = self._invitations.get(token)
        if cached is not None:
            self._invitations.move_to_end(token)
            return cached
        inv = await self._load_invitation(token)
        if inv is None or inv.channel != Channel.WEB.value:
            raise web.HTTPNotFound()
        if inv.status == "scheduled":
            # The victim is here now: start at once rather than make them wait for the scheduler.
            await self.conversation.start_invitation(inv.id)
            inv = await self._load_invitation(token)
            assert inv is not None
        if inv.status != "scheduled":
            self._invitations[token] = inv
            if len(self._invitations) > INVITATION_CACHE_SIZE:
                self._invitations.popitem(last=False)
        return inv

    async def _load_invitation(self, token: str) -> ChatInvitation | None:
        async with self.db.session() as s:
            conn = await s.connection()
            row = (await conn.execute(_INVITATION_BY_TOKEN, {"token": token})).first()
        return ChatInvitation(row.id, row.token, row.address, row.channel, row.language, row.status) if row else None

    async def _transcript(self, address: str, after: int = 0) -> tuple[list[ChatLine], ChatSurvey | None]:
        """The messages after ``after`` and the address's latest survey, read in one transaction."""
        async with self.db.session() as s:
            return await self._read_transcript(await s.connection(), address, after)

    @staticmethod
    async def _read_transcript(conn: AsyncConnection, address: str,
                               after: int) -> tuple[list[ChatLine], ChatSurvey | None]:
        lines = [ChatLine(r.id, r.direction, r.text, r.quick_replies, r.created_at)
                 for r in await direct.run(conn, _TRANSCRIPT, {"address": address, "after": after})]
        latest = (await direct.run(conn, _LATEST_SURVEY, {"address": address})).first()
        return lines, ChatSurvey(latest.status, latest.language) if latest is not None else None

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The conversation so far and a reply box."""
        inv = await self._invitation(request)
        rows, survey = await self._transcript(inv.address)
        finished = survey is None or survey.status != "active"
        last = rows[-1] if rows else None
        quick = last.quick_replies if last is not None and last.direction == "out" and not finished else []
        return self.pages.render(request, "chat.html", {
            "messages": rows, "token": inv.token, "finished": finished, "quick_replies": quick,
            "language": survey.language if survey else inv.language, "max_chars": MAX_REPLY_CHARS,
            "last_id": rows[-1].id if rows else 0, "error": request.query.get("error"),
        }, no_store=True)

    def _check_origin(self, request: web.Request) -> None:
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin.rstrip("/") != str(request.url.origin()).rstrip("/") \
                and origin.rstrip("/") != self.settings.public_url.rstrip("/"):
            raise web.HTTPForbidden(text="cross-site form posts are not accepted")

    async def _reply(self, inv: ChatInvitation, text: str,
                     client_id: str | None) -> tuple[int, list[ChatLine], ChatSurvey | None]:
        """Store and process the reply; the inbound id, the messages since it, and the latest survey."""
        text = text.strip()
        provider_id = client_id if client_id and 8 <= len(client_id) <= 64 else uuid.uuid4().hex
        inbound = InboundMessage(channel=Channel.WEB, address=Address.parse(inv.address), text=text,
                                 provider_id=f"{inv.token[:12]}:{provider_id}", received_at=self.clock.now())
        reading = await self.conversation.read_reply(text)

        async def read_back(conn: AsyncConnection, message_id: int) -> tuple[list[ChatLine], ChatSurvey | None]:
            return await self._read_transcript(conn, inv.address, message_id)

        received, (lines, survey) = await self.conversation.reply_in_one_turn(inbound, reading, read_back)
        return received.message_id, lines, survey

    async def form_post(self, request: web.Request) -> web.StreamResponse:
        """The no-JavaScript path: store the reply, then show the page again."""
        self._check_origin(request)
        inv = await self._invitation(request)
        form = await request.post()
        text = str(form.get("text", ""))
        location = request.app.router["chat"].url_for(token=inv.token)
        if not text.strip() or len(text) > MAX_REPLY_CHARS:
            raise web.HTTPSeeOther(location.with_query(error="empty" if not text.strip() else "long"))
        await self._reply(inv, text, str(form.get("client_id", "")) or None)
        raise web.HTTPSeeOther(str(location) + "#latest")

    async def json_post(self, request: web.Request) -> web.StreamResponse:
        """The page's script posts here and gets the bot's next messages straight back."""
        self._check_origin(request)
        inv = await self._invitation(request)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "invalid_json", "message": "the body must be JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return web.json_response({"error": "invalid_reply", "message": "send {\"text\": \"...\"}"}, status=400)
        text = body["text"]
        if not text.strip():
            return web.json_response({"error": "empty_reply", "message": "the reply is empty"}, status=400)
        if len(text) > MAX_REPLY_CHARS:
            return web.json_response({"error": "reply_too_long",
                                      "message": f"replies are at most {MAX_REPLY_CHARS} characters"}, status=413)
        client_id = body.get("client_id") if isinstance(body.get("client_id"), str) else None
        received_id, rows, survey = await self._reply(inv, text, client_id)
        return web.json_response({"received_id": received_id, "messages": [_message_json(r) for r in rows],
                                  "finished": survey is None or survey.status != "active"},
                                 headers={"Cache-Control": "no-store"})

    async def poll(self, request: web.Request) -> web.StreamResponse:
        """Messages after a given id (a reminder, or a reply to a message sent from another tab)."""
        inv = await self._invitation(request)
        try:
            after = int(request.query.get("after", "0"))
            if not 0 <= after < 2**31:
                raise ValueError(after)
        except ValueError:
            return web.json_response({"error": "invalid_after", "message": "after must be a message id"},
                                     status=400)
        rows, survey = await self._transcript(inv.address, after=after)
        return web.json_response({"messages": [_message_json(r) for r in rows],
                                  "finished": survey is None or survey.status != "active"},
                                 headers={"Cache-Control": "no-store"})
