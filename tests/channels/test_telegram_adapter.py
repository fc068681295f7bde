"""The Telegram adapter at its edges: sends and their failures against the Bot API stand-in, updates as read."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.request import HTTPXRequest

from feedbackbot.channels.base import Accepted
from feedbackbot.channels.telegram import TelegramChannel, _Press, _Said, _Start, deep_link, read_update
from feedbackbot.messages import Address, Channel, InboundMessage, OutboundMessage, QuickReply, SendResult
from feedbackbot.settings import Settings
from feedbackbot.store.db import Database
from tests.support.clock import ManualClock
from tests.support.server import free_port
from tests.support.telegram_standin import BOT_USERNAME, SECRET, TOKEN, TelegramStandIn, fixture_update

CHAT = 5_012_345_678
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


class RecordingSink:
    """Takes what the adapter hands over and says yes; the real sink is tested through the app."""

    def __init__(self) -> None:
        self.accepted: list[InboundMessage] = []
        self.links: list[tuple[str, Address]] = []

    async def accept(self, inbound: InboundMessage) -> Accepted:
        self.accepted.append(inbound)
        return Accepted(len(self.accepted), True)

    async def delivery_status(self, channel: Channel, provider_id: str, status: str, *, at: datetime,
                              error_code: str | None = None, error_reason: str | None = None) -> bool:
        return False

    async def address_failed(self, address: Address, reason: str) -> None:
        return None

    async def provider_opt_out(self, address: Address, reason: str) -> None:
        return None

    async def bind_link(self, token: str, address: Address) -> bool:
        self.links.append((token, address))
        return True


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # python-telegram-bot 22 warns when a time period is read as an int; opt in to timedeltas (the adapter
    # reads either), as pyproject turns warnings into errors.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def standin(aiohttp_server: Any) -> TelegramStandIn:
    fake = TelegramStandIn()
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


def telegram_settings(tmp_path: Path, api_base_url: str, **changes: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}", telegram_bot_token=TOKEN,
                    telegram_bot_username=BOT_USERNAME, telegram_webhook_secret=SECRET,
                    telegram_api_base_url=api_base_url).replace(**changes)


MakeAdapter = Callable[..., TelegramChannel]


@pytest.fixture
async def make_adapter(tmp_path: Path, standin: TelegramStandIn) -> AsyncIterator[MakeAdapter]:
    made: list[tuple[TelegramChannel, Database]] = []

    def make(api_base_url: str | None = None, request: HTTPXRequest | None = None) -> TelegramChannel:
        settings = telegram_settings(tmp_path, api_base_url or standin.url)
        db = Database(settings.database_url)
        adapter = TelegramChannel(settings, db, RecordingSink(), ManualClock(), request=request)
        made.append((adapter, db))
        return adapter

    yield make
    for adapter, db in made:
        await adapter.stop()
        await db.dispose()


def outbound(text: str = "Did the person you spoke to explain what will happen next? Reply YES or NO.",
             quick: tuple[QuickReply, ...] = (), path: str = str(CHAT)) -> OutboundMessage:
    return OutboundMessage(id=41, channel=Channel.TELEGRAM, address=Address(Channel.TELEGRAM, path), text=text,
                           quick_replies=quick, purpose="prompt")


CHOICES = (QuickReply("1", "Quick"), QuickReply("2", "About right"), QuickReply("3", "Too long"))


# --- sending -----------------------------------------------------------------------------------------


async def test_start_checks_the_token_with_get_me(make_adapter: MakeAdapter, standin: TelegramStandIn) -> None:
    adapter = make_adapter()
    await adapter.start()
    assert [c.method for c in standin.calls] == ["getMe"]
    assert adapter.bot.username == BOT_USERNAME


async def test_a_failing_get_me_is_logged_without_the_token(make_adapter: MakeAdapter, standin: TelegramStandIn,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    standin.fail_next("getMe", 401, "Unauthorized")
    adapter = make_adapter()
    with caplog.at_level(logging.INFO):
        await adapter.start()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")  # not the stand-in's
    assert "getMe failed" in ours and "InvalidToken" in ours
    assert TOKEN.split(":")[1] not in ours
    # Sends are still tried: the HTTP client is open.
    assert (await adapter.send(outbound())).ok


async def test_send_with_choices_as_inline_buttons(make_adapter: MakeAdapter, standin: TelegramStandIn) -> None:
    adapter = make_adapter()
    result = await adapter.send(outbound("How did you find the wait?\n1 Quick\n2 About right\n3 Too long", CHOICES))
    [params] = standin.of("sendMessage")
    assert params["chat_id"] == str(CHAT)
    assert params["text"].startswith("How did you find the wait?")
    assert "parse_mode" not in params  # plain text: nothing the flow says is read as markup
    assert params["reply_markup"] == {"inline_keyboard": [
        [{"text": "Quick", "callback_data": "41:1"}],
        [{"text": "About right", "callback_data": "41:2"}],
        [{"text": "Too long", "callback_data": "41:3"}],
    ]}
    message_id = standin.sent_to(CHAT)[0]["message_id"]
    assert result == SendResult(ok=True, provider_id=f"{CHAT}:{message_id}", status="sent")


async def test_send_without_choices_has_no_keyboard(make_adapter: MakeAdapter, standin: TelegramStandIn) -> None:
    assert (await make_adapter().send(outbound())).ok
    assert "reply_markup" not in standin.of("sendMessage")[0]


def test_choices_too_long_for_callback_data_fall_back_to_the_numbered_text(tmp_path: Path) -> None:
    adapter = TelegramChannel(telegram_settings(tmp_path, "http://127.0.0.1:9"),
                              Database(f"sqlite:///{tmp_path / 'unused.db'}"), RecordingSink(), ManualClock())
    assert adapter.keyboard(outbound(quick=(QuickReply("x" * 60, "Long"),))) is None
    assert adapter.keyboard(outbound(quick=(QuickReply("two words", "Spaced"),))) is None
    markup = adapter.keyboard(outbound(quick=CHOICES))
    assert markup is not None and len(markup.inline_keyboard) == 3


@pytest.mark.parametrize(("status", "description", "retry_after", "expected"), [
    pytest.param(429, "Too Many Requests: retry after 17", 17,
                 SendResult(ok=False, error_code="429", error_reason="rate limited by Telegram: retry after 17 s",
                            retry_after_seconds=17.0), id="429-retry-after"),
    pytest.param(403, "Forbidden: bot was blocked by the user", None,
                 SendResult(ok=False, error_code="403", error_reason="Forbidden: bot was blocked by the user",
                            permanent=True, address_failed=True), id="403-blocked"),
    pytest.param(403, "Forbidden: user is deactivated", None,
                 SendResult(ok=False, error_code="403", error_reason="Forbidden: user is deactivated",
                            permanent=True, address_failed=True), id="403-deactivated"),
    pytest.param(400, "Bad Request: chat not found", None,
                 SendResult(ok=False, error_code="400", error_reason="Chat not found", permanent=True,
                            address_failed=True), id="400-chat-not-found"),
    pytest.param(400, "Bad Request: message text is empty", None,
                 SendResult(ok=False, error_code="400", error_reason="Message text is empty", permanent=True),
                 id="400-other"),
    pytest.param(500, "Internal Server Error", None,
                 SendResult(ok=False, error_code="network", error_reason="Internal Server Error"), id="500"),
    pytest.param(502, "Bad Gateway", None,
                 SendResult(ok=False, error_code="network", error_reason="Bad Gateway"), id="502"),
    pytest.param(401, "Unauthorized", None,
                 SendResult(ok=False, error_code="401", error_reason="the bot token was rejected"), id="401"),
])
async def test_send_failures_become_send_results(make_adapter: MakeAdapter, standin: TelegramStandIn, status: int,
                                                 description: str, retry_after: int | None,
                                                 expected: SendResult) -> None:
    standin.fail_next("sendMessage", status, description, retry_after=retry_after)
    assert await make_adapter().send(outbound()) == expected


async def test_a_slow_provider_is_a_transient_timeout(make_adapter: MakeAdapter, standin: TelegramStandIn) -> None:
    standin.fail_next("sendMessage", 500, "never seen", delay=2.0)
    adapter = make_adapter(request=HTTPXRequest(read_timeout=0.2))
    result = await adapter.send(outbound())
    assert (result.ok, result.error_code, result.permanent) == (False, "timeout", False)


async def test_an_unreachable_provider_is_a_transient_network_error(make_adapter: MakeAdapter) -> None:
    result = await make_adapter(api_base_url=f"http://127.0.0.1:{free_port()}").send(outbound())
    assert (result.ok, result.error_code, result.permanent) == (False, "network", False)


async def test_bad_addresses_and_overlong_text_fail_permanently_without_a_call(
        make_adapter: MakeAdapter, standin: TelegramStandIn) -> None:
    adapter = make_adapter()
    bad = await adapter.send(outbound(path="not-a-chat"))
    assert (bad.permanent, bad.address_failed, bad.error_code) == (True, True, "invalid_address")
    long = await adapter.send(outbound(text="x" * 4097))
    assert (long.permanent, long.address_failed, long.error_code) == (True, False, "too_long")
    assert standin.of("sendMessage") == []


async def test_check_sent_cannot_tell(make_adapter: MakeAdapter, standin: TelegramStandIn) -> None:
    # The Bot API has no lookup of sent messages: the outbox holds the row for an administrator.
    assert await make_adapter().check_sent(outbound()) is None
    assert standin.calls == []


def test_settings_without_a_secret_or_username_are_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    for changes, words in (({"telegram_webhook_secret": ""}, "WEBHOOK_SECRET"),
                           ({"telegram_webhook_secret": "has spaces"}, "WEBHOOK_SECRET"),
                           ({"telegram_bot_username": ""}, "BOT_USERNAME")):
        with pytest.raises(ValueError, match=words):
            TelegramChannel(telegram_settings(tmp_path, "http://127.0.0.1:9", **changes), db, RecordingSink(),
                            ManualClock())


def test_deep_link() -> None:
    assert deep_link(BOT_USERNAME, "Xq3vT0yJb9kR2mW7pL5sN8dF1hG4zC6a") == \
        f"https://t.me/{BOT_USERNAME}?start=Xq3vT0yJb9kR2mW7pL5sN8dF1hG4zC6a"
    with pytest.raises(ValueError):
        deep_link(BOT_USERNAME, "has spaces")


# --- reading updates -----------------------------------------------------------------------------------


def read(name: str, **changes: Any) -> object:
    return read_update(Update.de_json(fixture_update(name, **changes), Bot(TOKEN)), NOW)


@pytest.mark.parametrize(("fixture", "kinds", "refs", "text"), [
    ("message_sticker", ("sticker",), ("CAACAgIAAxkBAAEBQ2Zl6c1xYz0AAV4QWx9kU3l0aWNrZXIAAh4AA8A2TxMJkU8F4w1bHjQE",),
     ""),
    # A photo comes in several sizes: the largest is the one a person will want to see.
    ("message_photo", ("photo",), ("AgACAgQAAxkBAAIBC2Xp1aJ8c2maaWxsLWxhcmdlAAJ2wDEbQ2dOU0FAAQADAgADeAADNAQ",),
     "the broken window"),
    ("message_voice", ("voice",), ("AwACAgQAAxkBAAIBDWXp1wABdm9pY2Utbm90ZQACXxQAAkNnTlNNfnjRdm9pY2UeNAQ",), ""),
    ("message_text", (), (), "yes"),
])
def test_messages_become_inbound_messages_with_their_media_kinds_and_file_ids(
        fixture: str, kinds: tuple[str, ...], refs: tuple[str, ...], text: str) -> None:
    action = read(fixture, message_id=12)
    assert action == _Said(InboundMessage(channel=Channel.TELEGRAM, address=Address(Channel.TELEGRAM, str(CHAT)),
                                          text=text, provider_id=f"{CHAT}:12", received_at=NOW,
                                          media_types=kinds, media_refs=refs))


@pytest.mark.parametrize(("text", "said"), [("/stop", "STOP"), ("/help", "HELP"),
                                            (f"/stop@{BOT_USERNAME}", "STOP"), ("/other", "/other")])
def test_menu_commands_become_the_words_the_conversation_knows(text: str, said: str) -> None:
    action = read("message_text", text=text)
    assert isinstance(action, _Said) and action.inbound.text == said


@pytest.mark.parametrize(("text", "token"), [("/start abc_DEF-123", "abc_DEF-123"), ("/start", None),
                                             (f"/start@{BOT_USERNAME} tok", "tok")])
def test_start_carries_the_deep_link_token(text: str, token: str | None) -> None:
    action = read("message_start", text=text, language_code="pl")
    assert action == _Start(Address(Channel.TELEGRAM, str(CHAT)), CHAT, token, "pl")


def test_a_button_press_carries_the_option_number_and_the_query_id() -> None:
    action = read("callback_query", data="12:2")
    assert isinstance(action, _Press)
    assert (action.outbox_id, action.choice, action.message_id) == (12, "2", 4)
    assert action.inbound is not None and action.inbound.text == "2"
    assert action.inbound.provider_id == "cb:2152794583716824411"


def test_a_press_with_data_we_never_sent_is_answered_but_not_stored() -> None:
    action = read("callback_query", data="anything at all")
    assert isinstance(action, _Press) and action.inbound is None


@pytest.mark.parametrize("fixture", ["edited_message", "group_message", "my_chat_member_blocked"])
def test_updates_a_survey_does_not_need_are_ignored(fixture: str) -> None:
    assert read(fixture) is None
