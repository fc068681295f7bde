"""A local stand-in for the Telegram Bot API, and a victim who talks to our webhook from a Telegram chat.

The stand-in answers the methods the adapter uses (getMe, sendMessage, answerCallbackQuery,
editMessageReplyMarkup) at ``/bot<token>/<method>`` in the shapes https://core.telegram.org/bots/api
documents: ``{"ok": true, "result": ...}``, or ``{"ok": false, "error_code": ..., "description": ...}``
with ``parameters.retry_after`` on a 429. A test scripts failures with :meth:`TelegramStandIn.fail_next`.

Updates are built from the captured-format payloads in ``tests/fixtures/telegram/``; message ids come
from the stand-in's one counter per chat, as in a real private chat, where the victim's messages and
the bot's share one sequence.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "telegram"
TOKEN = "7012345678:AAF-test-token-for-the-local-stand-in_0"
BOT_ID = 7012345678
BOT_USERNAME = "WestMidsFeedbackTestBot"
SECRET = "test-webhook-secret_0123456789abcdef"
#: 2026-03-10 10:00 UTC, the ManualClock's start, as Telegram's Unix time.
DATE = 1773136800
WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Call:
    """One Bot API request the adapter made: the method and its parameters (JSON values decoded)."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    """What the stand-in answers instead of success, once."""

    status: int
    description: str
    retry_after: int | None = None
    delay: float = 0.0


def _decode(value: str) -> Any:
    """Form fields carry objects (reply_markup) as JSON text; numbers and strings stay as they came."""
    if value[:1] in "[{":
        return json.loads(value)
    return value


class TelegramStandIn:
    """An aiohttp app speaking the Bot API for one bot token; records every call."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        #: Set by whoever serves the app: the base URL to put in FEEDBACKBOT_TELEGRAM_API_BASE_URL.
        self.url = ""
        self.calls: list[Call] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._update_ids = itertools.count(873_401_001)
        self._texts: dict[tuple[int, int], str] = {}
        self.delivered: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self.app = web.Application()
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)

    # --- what tests script and read ----------------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str, *, retry_after: int | None = None,
                  delay: float = 0.0) -> None:
        """Answer the next call of ``method`` with this error (queued: call again for the one after)."""
        self._failures.setdefault(method, deque()).append(Failure(status, description, retry_after, delay))

    def next_message_id(self, chat_id: int) -> int:
        """The next message id in a chat (shared by the victim's messages and the bot's)."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def next_update_id(self) -> int:
        """Telegram numbers updates sequentially."""
        return next(self._update_ids)

    def of(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every successful-or-not call of ``method``, in order."""
        return [c.params for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message delivered to a chat, as the Message objects sendMessage returned."""
        return [m for m in self.delivered if m["chat"]["id"] == chat_id]

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait (5 s at most) until ``method`` has been called ``count`` times, for calls made after a webhook."""
        async with asyncio.timeout(WAIT_SECONDS), self._changed:
            await self._changed.wait_for(lambda: len(self.of(method)) >= count)
        return self.of(method)

    # --- the Bot API ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = dict(await request.json())
        else:
            form = await request.post()
            params = {k: _decode(v) for k, v in form.items() if isinstance(v, str)}
        async with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()
        queued = self._failures.get(method)
        if queued:
            failure = queued.popleft()
            if failure.delay:
                await asyncio.sleep(failure.delay)
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return web.json_response(body, status=failure.status)
        handler = {"getMe": self._get_me, "sendMessage": self._send_message,
                   "answerCallbackQuery": self._answer_callback_query,
                   "editMessageReplyMarkup": self._edit_message_reply_markup}.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.json_response({"ok": True, "result": handler(params)})

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "West Midlands Police feedback",
                "username": BOT_USERNAME}

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        return {"message_id": message_id, "from": self._bot_user(), "date": DATE,
                "chat": {"id": chat_id, "first_name": "Sam", "type": "private"}, "text": text}

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = self.next_message_id(chat_id)
        self._texts[(chat_id, message_id)] = str(params["text"])
        message = self._message(chat_id, message_id, str(params["text"]))
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.delivered.append(message)
        return message

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        return True

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = self._message(chat_id, message_id, self._texts.get((chat_id, message_id), ""))
        message["edit_date"] = DATE
        return message


def fixture_update(name: str, **changes: Any) -> dict[str, Any]:
    """A payload from ``tests/fixtures/telegram/<name>.json`` with ids (and text or data) replaced.

    ``changes`` may set ``update_id``, ``chat_id`` (the chat and the sender), ``message_id``, ``text``
    (a bot command's entity follows it), ``data`` (a button's callback data) and ``language_code``.
    """
    update: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))
    if "update_id" in changes:
        update["update_id"] = changes["update_id"]
    body = update.get("message") or update.get("edited_message") or update.get("callback_query")
    if not isinstance(body, dict):
        return update
    message = body.get("message", body) if "callback_query" in update else body
    if "chat_id" in changes:
        message["chat"]["id"] = changes["chat_id"]
        body["from"]["id"] = changes["chat_id"]
    if "message_id" in changes:
        message["message_id"] = changes["message_id"]
    if "language_code" in changes:
        body["from"]["language_code"] = changes["language_code"]
    if "text" in changes:
        message["text"] = changes["text"]
        command = changes["text"].split(maxsplit=1)[0] if changes["text"].startswith("/") else None
        message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}] if command else []
        if not message["entities"]:
            del message["entities"]
    if "data" in changes:
        body["data"] = changes["data"]
    return update


class TelegramVictim:
    """A victim in a private chat with the bot: what they do reaches our webhook as Telegram would post it."""

    def __init__(self, client: TestClient[Any, Any], standin: TelegramStandIn, chat_id: int = 5_012_345_678,
                 *, secret: str = SECRET, language_code: str = "en") -> None:
        self.client = client
        self.standin = standin
        self.chat_id = chat_id
        self.secret = secret
        self.language_code = language_code

    async def post(self, update: dict[str, Any], *, secret: str | None = None) -> ClientResponse:
        """POST an update to the webhook with the secret header; returns the response."""
        return await self.client.post("/webhooks/telegram", json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": secret or self.secret})

    def message(self, name: str = "message_text", **changes: Any) -> dict[str, Any]:
        """A fresh update of this victim's (new update id and message id)."""
        return fixture_update(name, update_id=self.standin.next_update_id(), chat_id=self.chat_id,
                              message_id=self.standin.next_message_id(self.chat_id),
                              language_code=self.language_code, **changes)

    async def start(self, token: str | None) -> ClientResponse:
        """Open ``t.me/<bot>?start=<token>``: the app sends ``/start <token>``."""
        response = await self.post(self.message("message_start", text=f"/start {token}" if token else "/start"))
        assert response.status == 200, await response.text()
        return response

    async def say(self, text: str) -> ClientResponse:
        """Type and send a message."""
        response = await self.post(self.message(text=text))
        assert response.status == 200, await response.text()
        return response

    async def send(self, fixture: str) -> ClientResponse:
        """Send a sticker, photo or voice note (a fixture name)."""
        response = await self.post(self.message(fixture))
        assert response.status == 200, await response.text()
        return response

    def heard(self) -> list[str]:
        """Everything the bot has sent to this chat, in order."""
        return [str(p["text"]) for p in self.standin.sent_to(self.chat_id)]

    def buttons(self, index: int = -1) -> list[tuple[str, str]]:
        """(label, callback data) of the buttons on a message the bot sent here (the latest by default)."""
        markup = self.standin.sent_to(self.chat_id)[index].get("reply_markup") or {}
        return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]

    def press_update(self, label: str, index: int = -1) -> dict[str, Any]:
        """The callback query Telegram posts when the victim presses the button ``label``."""
        pressed = self.standin.sent_to(self.chat_id)[index]
        data = dict(self.buttons(index))[label]
        update = fixture_update("callback_query", update_id=self.standin.next_update_id(), chat_id=self.chat_id,
                                message_id=pressed["message_id"], data=data, language_code=self.language_code)
        update["callback_query"]["id"] = f"{self.chat_id}{update['update_id']}"
        update["callback_query"]["message"]["text"] = pressed["text"]
        update["callback_query"]["message"]["reply_markup"] = pressed["reply_markup"]
        return update

    async def press(self, label: str, index: int = -1) -> ClientResponse:
        """Press a button on a message the bot sent (the latest by default)."""
        response = await self.post(self.press_update(label, index))
        assert response.status == 200, await response.text()
        return response
