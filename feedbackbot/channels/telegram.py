"""The Telegram channel: python-telegram-bot on our own aiohttp server, deep-link binding and button choices."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlmodel import col, select
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram import Message as TelegramMessage
from telegram.constants import ChatType, InlineKeyboardButtonLimit, MessageLimit
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.helpers import create_deep_linked_url
from telegram.request import HTTPXRequest

from ..clock import Clock
from ..flows.phrases import Phrases
from ..messages import Address, Channel, InboundMessage, OutboundMessage, SendResult
from ..settings import Settings
from ..store.db import Database
from ..store.tables import ChannelLink, Message
from .base import InboundSink

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
#: Far above any real update (a 4096-character message quoting another one is a few tens of KiB).
MAX_UPDATE_BYTES = 512 * 1024
#: Telegram's rule for a secret token (setWebhook) and for a deep-link ``start`` parameter.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: A button's callback data: the outbox id of the message that carried it, and what it stands for.
_CALLBACK = re.compile(r"(\d{1,18}):(\S{1,40})")
#: Kinds of attachment, most specific first (a venue is also a location; a GIF is also a document).
MEDIA_KINDS = ("sticker", "photo", "voice", "video_note", "video", "audio", "animation", "document", "venue",
               "location", "contact", "poll", "dice", "story", "paid_media")
#: Bot commands the menu offers, as the words the conversation already understands.
COMMAND_WORDS = {"stop": "STOP", "help": "HELP"}
#: Said when no phrase of that name is in prompts/phrases.yaml (English; phrases.yaml holds the translations).
FALLBACK_PHRASES = {
    "telegram_link_expired": "This is {force_name}. Sorry, this link has expired or has already been used, so "
                             "we cannot start a survey here. There is nothing you need to do. If you need help, "
                             "call 101, or Victim Support free on 0808 16 89 111. In an emergency call 999.",
    "telegram_no_link": "This is {force_name}. We can only talk here if you open the link in the message we sent "
                        "you. If you need help, call 101, or Victim Support free on 0808 16 89 111. In an "
                        "emergency call 999.",
    "telegram_old_button": "That question has moved on. Please answer the latest message.",
}


def deep_link(bot_username: str, token: str) -> str:
    """The ``https://t.me/<bot>?start=<token>`` link an invitation by SMS or email carries.

    >>> deep_link("WestMidsFeedbackBot", "abc_123")
    'https://t.me/WestMidsFeedbackBot?start=abc_123'
    """
    if not _LINK_TOKEN.fullmatch(token):
        raise ValueError("a Telegram start token is 1-64 characters of A-Z, a-z, 0-9, _ and -")
    return create_deep_linked_url(bot_username, token)


class BadUpdate(ValueError):
    """The body parsed as JSON but is not an update we can read; nothing is stored."""


@dataclass(frozen=True)
class _Start:
    """``/start`` (with the deep link's token, if any) from a private chat."""

    address: Address
    chat_id: int
    token: str | None
    language: str


@dataclass(frozen=True)
class _Press:
    """A button press: the callback query to answer, and the choice if the data is ours."""

    query_id: str
    address: Address
    chat_id: int
    message_id: int | None
    language: str
    outbox_id: int | None
    choice: str | None
    inbound: InboundMessage | None


@dataclass(frozen=True)
class _Said:
    """An ordinary message (text, a command the conversation understands, or an attachment)."""

    inbound: InboundMessage


_Action = _Start | _Press | _Said


def _require_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadUpdate("expected an integer id")
    return value


def _language(user: Any) -> str:
    code = getattr(user, "language_code", None)
    return code.split("-")[0].lower() if isinstance(code, str) and code else "en"


def _media_kinds(message: TelegramMessage) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kind of media a message carries and its file_id (for getFile), if any."""
    for kind in MEDIA_KINDS:
        item = getattr(message, kind, None)
        if item:
            if isinstance(item, (tuple, list)):  # a photo comes in several sizes: keep the largest
                item = item[-1]
            file_id = getattr(item, "file_id", None)
            return (kind,), (file_id if isinstance(file_id, str) else "",)
    return (), ()


def read_update(update: Update, received_at: datetime) -> _Action | None:
    """What an update asks of us; None for updates a survey does not need (edits, groups, joins, bots).

    Raises BadUpdate when a field the Bot API always sends is missing or of the wrong type.
    """
    if update.callback_query is not None:
        return _read_press(update.callback_query, received_at)
    message = update.message
    if message is None:
        return None
    chat = message.chat
    if chat is None:
        raise BadUpdate("a message without a chat")
    chat_id = _require_int(chat.id)
    message_id = _require_int(message.message_id)
    if chat.type != ChatType.PRIVATE or (message.from_user is not None and message.from_user.is_bot):
        return None
    text = message.text if message.text is not None else (message.caption or "")
    if not isinstance(text, str):
        raise BadUpdate("message text must be a string")
    address = Address(Channel.TELEGRAM, str(chat_id))
    words = text.split(maxsplit=1)
    if words and words[0].startswith("/"):
        command = words[0][1:].split("@", 1)[0].lower()
        if command == "start":
            token = words[1].strip() if len(words) > 1 else None
            return _Start(address, chat_id, token, _language(message.from_user))
        text = COMMAND_WORDS.get(command, text)
    kinds, refs = _media_kinds(message)
    if not text.strip() and not kinds:
        return None  # a service message (pinned, joined…): nothing the victim said
    return _Said(InboundMessage(channel=Channel.TELEGRAM, address=address, text=text,
                                provider_id=f"{chat_id}:{message_id}", received_at=received_at,
                                media_types=kinds, media_refs=refs))


def _read_press(query: CallbackQuery, received_at: datetime) -> _Press | None:
    if not isinstance(query.id, str) or not query.id or query.from_user is None:
        raise BadUpdate("a callback query needs an id and a sender")
    pressed = query.message
    if pressed is not None and pressed.chat is not None:
        if pressed.chat.type != ChatType.PRIVATE:
            return None
        chat_id = _require_int(pressed.chat.id)
        message_id: int | None = _require_int(pressed.message_id)
    else:
        chat_id, message_id = _require_int(query.from_user.id), None
    address = Address(Channel.TELEGRAM, str(chat_id))
    match = _CALLBACK.fullmatch(query.data) if isinstance(query.data, str) else None
    outbox_id, choice = (int(match[1]), match[2]) if match else (None, None)
    inbound = None if choice is None else InboundMessage(
        channel=Channel.TELEGRAM, address=address, text=choice, provider_id=f"cb:{query.id}",
        received_at=received_at)
    return _Press(query.id, address, chat_id, message_id, _language(query.from_user), outbox_id, choice, inbound)


def _retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whether the library hands back an int or (``PTB_TIMEDELTA``) a timedelta."""
    value: object = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) if isinstance(value, int | float) else 1.0


def send_failure(exc: TelegramError) -> SendResult:
    """A send's failure as the outbox understands it: retried later, or kept for an administrator."""
    reason = exc.message[:300]
    if isinstance(exc, RetryAfter):
        seconds = _retry_seconds(exc)
        return SendResult(ok=False, error_code="429", retry_after_seconds=seconds,
                          error_reason=f"rate limited by Telegram: retry after {seconds:g} s")
    if isinstance(exc, Forbidden):
        # The victim blocked the bot or deleted their account: this address cannot receive.
        return SendResult(ok=False, error_code="403", error_reason=reason, permanent=True, address_failed=True)
    if isinstance(exc, BadRequest):
        gone = "chat not found" in reason.lower() or "user not found" in reason.lower()
        return SendResult(ok=False, error_code="400", error_reason=reason, permanent=True, address_failed=gone)
    if isinstance(exc, TimedOut):
        return SendResult(ok=False, error_code="timeout", error_reason=reason)
    if isinstance(exc, InvalidToken):
        # Our configuration, not the victim: retried with backoff while someone fixes the token.
        return SendResult(ok=False, error_code="401", error_reason="the bot token was rejected")
    if isinstance(exc, NetworkError):
        return SendResult(ok=False, error_code="network", error_reason=reason)
    return SendResult(ok=False, error_code="telegram", error_reason=reason)


def _problem(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


class TelegramChannel:
    """A Telegram bot whose webhook is a route of our app and whose sends are outbox rows.

    A bot cannot write first: an invitation by SMS or email carries ``t.me/<bot>?start=<token>``;
    the victim's ``/start <token>`` binds their chat to that invitation (``InboundSink.bind_link``),
    which starts the survey there. Choices go out as inline buttons whose presses come back as the
    option's number, exactly as if the victim had typed it.
    """

    channel = Channel.TELEGRAM

    def __init__(self, settings: Settings, db: Database, sink: InboundSink, clock: Clock,
                 *, request: HTTPXRequest | None = None) -> None:
        if not _SECRET.fullmatch(settings.telegram_webhook_secret):
            raise ValueError("FEEDBACKBOT_TELEGRAM_WEBHOOK_SECRET must be set with FEEDBACKBOT_TELEGRAM_BOT_TOKEN: "
                             "1-256 characters of A-Z, a-z, 0-9, _ and - (the setWebhook secret_token)")
        if not settings.telegram_bot_username:
            raise ValueError("FEEDBACKBOT_TELEGRAM_BOT_USERNAME must be set with FEEDBACKBOT_TELEGRAM_BOT_TOKEN "
                             "(the deep links in invitations name the bot)")
        self.settings = settings
        self.db = db
        self.sink = sink
        self.clock = clock
        self.username = settings.telegram_bot_username.removeprefix("@")
        self._secret = settings.telegram_webhook_secret.encode()
        # One HTTP client for the adapter's life: the same request object serves both of the Bot's slots.
        self._request = request or HTTPXRequest(connection_pool_size=16)
        self.bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url.rstrip("/") + "/bot",
                       base_file_url=settings.telegram_api_base_url.rstrip("/") + "/file/bot",
                       request=self._request, get_updates_request=self._request)
        self._phrases = self._load_phrases(settings)
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def _load_phrases(settings: Settings) -> Phrases | None:
        try:
            return Phrases.load(settings.prompts_dir / "phrases.yaml")
        except (OSError, ValueError):
            return None

    def _say(self, key: str, language: str) -> str:
        context = {"force_name": self.settings.force_name}
        if self._phrases is not None and key in self._phrases.texts:
            return self._phrases.say(key, language, context)
        return FALLBACK_PHRASES[key].replace("{force_name}", self.settings.force_name)

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP client and check the token with getMe; a failure is logged, not fatal."""
        # httpx logs every request URL at INFO, and a Bot API URL carries the bot token.
        httpx_log = logging.getLogger("httpx")
        httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))
        try:
            await self.bot.initialize()
        except TelegramError as exc:
            # The token is in some of these messages: log the kind only. Sends are still tried (and retried).
            log.warning("telegram: getMe failed at start (%s); sends will be retried", type(exc).__name__)
            return
        if self.bot.username.lower() != self.username.lower():
            log.warning("telegram: the token belongs to @%s but FEEDBACKBOT_TELEGRAM_BOT_USERNAME is @%s; "
                        "deep links will open the wrong bot", self.bot.username, self.username)

    async def stop(self) -> None:
        """Let replies in flight finish (a few seconds at most), then close the HTTP client."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.bot.shutdown()
        await self._request.shutdown()

    # --- inbound ---------------------------------------------------------------------------------------

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """The webhook Telegram posts updates to (registered with setWebhook and our secret token)."""
        return [web.post("/webhooks/telegram", self.webhook, name="telegram_webhook")]

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """Check the secret, read the update with the real library, commit it, then answer 200."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return _problem(403, "forbidden", f"missing or wrong {SECRET_HEADER}")
        if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
            return _problem(413, "update_too_large", f"an update is at most {MAX_UPDATE_BYTES} bytes")
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > MAX_UPDATE_BYTES:
                return _problem(413, "update_too_large", f"an update is at most {MAX_UPDATE_BYTES} bytes")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return _problem(400, "invalid_json", "the body must be a JSON Update object")
        if not isinstance(data, dict) or isinstance(data.get("update_id"), bool) \
                or not isinstance(data.get("update_id"), int):
            return _problem(400, "invalid_update", "the body must be a JSON object with an integer update_id")
        try:
            update = Update.de_json(data, self.bot)
            action = read_update(update, self.clock.now())
        except (BadUpdate, TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError):
            log.info("telegram: update %s could not be read", data["update_id"])
            return _problem(400, "invalid_update", "the body is not an Update this bot can read")
        if isinstance(action, _Said):
            accepted = await self.sink.accept(action.inbound)
            log.info("telegram: update %s stored as message %s%s", update.update_id, accepted.message_id,
                     "" if accepted.new else " (repeat)")
        elif isinstance(action, _Start):
            await self._on_start(action)
        elif isinstance(action, _Press):
            await self._on_press(action)
        return web.Response(status=200)

    async def _on_start(self, start: _Start) -> None:
        """Bind the chat to the link's invitation; otherwise say kindly that the link is no use."""
        if start.token is None:
            self._later(self.bot.send_message(start.chat_id, self._say("telegram_no_link", start.language)),
                        "reply to /start without a link")
            return
        if _LINK_TOKEN.fullmatch(start.token) and await self.sink.bind_link(start.token, start.address):
            log.info("telegram: a deep link bound a chat to its invitation")
            return
        if _LINK_TOKEN.fullmatch(start.token) and await self._already_bound_here(start.token, start.address):
            return  # Telegram delivered this /start again: the survey has already started here
        log.info("telegram: /start with an unknown or used link")
        self._later(self.bot.send_message(start.chat_id, self._say("telegram_link_expired", start.language)),
                    "reply to /start with an unusable link")

    async def _already_bound_here(self, token: str, address: Address) -> bool:
        async with self.db.session() as s:
            link = (await s.exec(select(ChannelLink).where(ChannelLink.token == token))).first()
        return link is not None and link.bound_address == str(address)

    async def _on_press(self, press: _Press) -> None:
        """Store a press of a current button as the option typed; answer every press, stale or not."""
        current = press.inbound is not None and await self._is_current(press)
        if current and press.inbound is not None:
            accepted = await self.sink.accept(press.inbound)
            log.info("telegram: button press stored as message %s%s", accepted.message_id,
                     "" if accepted.new else " (repeat)")
        note = None if current else self._say("telegram_old_button", press.language)
        self._later(self.bot.answer_callback_query(press.query_id, text=note), "answer to a button press")
        if press.message_id is not None:
            # One press per question: take the buttons off the message that carried them.
            self._later(self.bot.edit_message_reply_markup(chat_id=press.chat_id, message_id=press.message_id,
                                                           reply_markup=None), "removing pressed buttons")

    async def _is_current(self, press: _Press) -> bool:
        """Whether the button is on our message to this chat and the survey is still on that question.

        A victim may scroll up and press a button of an earlier question; that press must not answer the
        question asked now. A later reask or reminder of the same question leaves its buttons current.
        """
        async with self.db.session() as s:
            row = await s.get(Message, press.outbox_id)
            if row is None or row.direction != "out" or row.channel != Channel.TELEGRAM.value \
                    or row.address != str(press.address) \
                    or press.choice not in {q.get("text") for q in row.quick_replies}:
                return False
            later = (await s.exec(select(Message.step_id, Message.purpose).where(
                Message.direction == "out", Message.channel == Channel.TELEGRAM.value,
                Message.address == row.address, col(Message.id) > row.id, Message.status != "cancelled",
            ).order_by(col(Message.id)).limit(50))).all()
        return not any(step not in (None, row.step_id) or purpose == "opted_out" for step, purpose in later)

    def _later(self, work: Coroutine[Any, Any, object], what: str) -> None:
        """Run a courtesy call to Telegram after we have answered the webhook; failures are logged by kind."""
        task = asyncio.create_task(self._quietly(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _quietly(work: Coroutine[Any, Any, object], what: str) -> None:
        try:
            await work
        except TelegramError as exc:
            log.warning("telegram: %s failed (%s)", what, type(exc).__name__)

    # --- outbound --------------------------------------------------------------------------------------

    def keyboard(self, message: OutboundMessage) -> InlineKeyboardMarkup | None:
        """The message's choices as inline buttons, one a row; None when there are none or they do not fit."""
        if not message.quick_replies:
            return None
        rows = []
        for choice in message.quick_replies:
            data = f"{message.id}:{choice.text}"
            if not _CALLBACK.fullmatch(data) or len(data.encode()) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
                return None  # the numbered text still works
            rows.append([InlineKeyboardButton(choice.label or choice.text, callback_data=data)])
        return InlineKeyboardMarkup(rows)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send with sendMessage; Telegram's refusals become a SendResult, never an exception."""
        try:
            chat_id = int(message.address.path)
        except ValueError:
            return SendResult(ok=False, error_code="invalid_address", permanent=True, address_failed=True,
                              error_reason="a Telegram address is a numeric chat id")
        if len(message.text) > MessageLimit.MAX_TEXT_LENGTH:
            return SendResult(ok=False, error_code="too_long", permanent=True,
                              error_reason=f"Telegram messages are at most {MessageLimit.MAX_TEXT_LENGTH} characters")
        try:
            sent = await self.bot.send_message(chat_id=chat_id, text=message.text,
                                               reply_markup=self.keyboard(message))
        except TelegramError as exc:
            result = send_failure(exc)
            log.info("telegram: message %s not sent (%s)", message.id, result.error_code)
            return result
        return SendResult(ok=True, provider_id=f"{sent.chat.id}:{sent.message_id}", status="sent")

    async def check_sent(self, message: OutboundMessage) -> SendResult | None:
        """Telegram cannot say: the Bot API has no way to look up a message a bot sent earlier.

        So a send interrupted between Telegram's answer and our record is held for an administrator
        (``None``), never sent twice without a person deciding.
        """
        return None
