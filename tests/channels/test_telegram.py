"""Telegram through the real app, routes and database: a victim in a chat, the Bot API played by a local stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from feedbackbot.app import Services
from feedbackbot.channels.telegram import TelegramChannel, deep_link
from feedbackbot.messages import Channel
from feedbackbot.settings import Settings
from feedbackbot.store.tables import Answer, ChannelLink, ContactAddress, Message, SurveySession
from feedbackbot.workers.outbox import OutboxDispatcher
from tests.support.clock import ManualClock
from tests.support.telegram_standin import (
    BOT_USERNAME,
    SECRET,
    TOKEN,
    TelegramStandIn,
    TelegramVictim,
    fixture_update,
)
from tests.support.victim import event_body, post_event

Client = TestClient[Any, Any]
COMMENT = "The call handler was calm and kind, thank you."


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # python-telegram-bot 22 warns when a time period (RetryAfter.retry_after) is read as an int; opt in to
    # timedeltas (the adapter reads either), as pyproject turns warnings into errors.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def standin(aiohttp_server: Any) -> TelegramStandIn:
    fake = TelegramStandIn()
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
def settings(settings: Settings, standin: TelegramStandIn) -> Settings:
    return settings.replace(telegram_bot_token=TOKEN, telegram_bot_username=BOT_USERNAME,
                            telegram_webhook_secret=SECRET, telegram_api_base_url=standin.url)


@pytest.fixture
async def outbox(services: Services) -> AsyncIterator[OutboxDispatcher]:
    wired = getattr(services, "outbox", None)
    yield wired if isinstance(wired, OutboxDispatcher) else OutboxDispatcher(
        services.db, services.channels, services.settings, services.clock)


async def pump(services: Services, outbox: OutboxDispatcher) -> None:
    """Let the app finish what the webhook started, run due work, and send what is queued."""
    inbox = getattr(services, "inbox", None)
    if inbox is not None:
        await inbox.drain()
    await services.scheduler.run_once(recover_all=True)
    await outbox.run_once()


async def invite_on_telegram(client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
                             **victim: Any) -> str:
    """The records system reports a 101 call for a victim who chose Telegram; return the deep link's token.

    The core makes a single-use link for the invitation and sends it by the victim's next agreed channel.
    """
    body = event_body("after_101_call", channel="telegram", allowed_channels=["telegram", "sms"],
                      phone="+447700900123", **victim)
    response = await post_event(client, body)
    assert response.status == 201, await response.text()
    clock.advance(hours=2, minutes=1)
    await pump(services, outbox)
    async with services.db.session() as s:
        link = (await s.exec(select(ChannelLink).order_by(col(ChannelLink.id).desc()))).first()
        assert link is not None, "the core made no deep link for a victim who chose Telegram"
        carried = (await s.exec(select(Message.text).where(Message.direction == "out"))).all()
    assert link.channel == Channel.TELEGRAM.value
    assert any(deep_link(BOT_USERNAME, link.token) in text for text in carried), carried
    return link.token


async def started(client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
                  standin: TelegramStandIn, chat_id: int = 5_012_345_678) -> TelegramVictim:
    """A victim who followed the link: their survey has started in the chat and its first messages were sent."""
    victim = TelegramVictim(client, standin, chat_id)
    await victim.start(await invite_on_telegram(client, services, clock, outbox))
    await pump(services, outbox)
    assert victim.heard()[-1].startswith("How did you find the wait"), victim.heard()
    return victim


async def rows(services: Services, *where: Any) -> list[Message]:
    async with services.db.session() as s:
        return list((await s.exec(select(Message).where(*where).order_by(col(Message.id)))).all())


def inbound() -> Any:
    return Message.direction == "in"


# --- a whole survey --------------------------------------------------------------------------------------


async def test_a_whole_survey_from_the_deep_link_to_the_last_answer(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    adapter = services.channels.get(Channel.TELEGRAM)
    assert isinstance(adapter, TelegramChannel)
    victim = await started(client, services, clock, outbox, standin)
    heard = victim.heard()
    assert heard[0].startswith("Hello, this is West Midlands Police. Thank you for calling us on 101.")
    assert heard[-1] == "How did you find the wait for someone to answer your call?\n1 Quick\n2 About right\n3 Too long"
    assert [label for label, _ in victim.buttons()] == ["Quick", "About right", "Too long"]

    await victim.press("Quick")
    await pump(services, outbox)
    [answered] = await standin.wait_for("answerCallbackQuery")
    assert answered.get("text") is None  # a current button: just stop the spinner
    [edited] = await standin.wait_for("editMessageReplyMarkup")
    assert int(edited["message_id"]) == standin.sent_to(victim.chat_id)[-2]["message_id"]
    assert "reply_markup" not in edited  # the buttons are taken off: one press per question
    assert victim.heard()[-1] == "Did the person you spoke to explain what will happen next? Reply YES or NO."

    for reply, next_prompt in (("yes", "Overall, how happy"), ("5", "Is there anything you'd like to tell us"),
                               (COMMENT, "Thank you for telling us.")):
        await victim.say(reply)
        await pump(services, outbox)
        assert victim.heard()[-1].startswith(next_prompt)

    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
        answers = (await s.exec(select(Answer).order_by(col(Answer.id)))).all()
        bound = (await s.exec(select(ContactAddress).where(ContactAddress.channel == "telegram"))).one()
    assert (survey.status, survey.channel, survey.address) == ("completed", "telegram", f"telegram:{victim.chat_id}")
    assert [(a.step_id, a.value) for a in answers] == [
        ("q_wait", "quick"), ("q_next_steps", "yes"), ("q_overall", "5"), ("q_comment", COMMENT)]
    assert (bound.path, bound.contact_id) == (str(victim.chat_id), survey.contact_id)
    received = await rows(services, inbound())
    assert [m.text for m in received] == ["1", "yes", "5", COMMENT]
    assert received[0].provider_id is not None and received[0].provider_id.startswith("cb:")
    sent = await rows(services, Message.direction == "out", Message.channel == "telegram")
    assert {m.status for m in sent} == {"sent"}
    assert [m.provider_id for m in sent] == [f"{victim.chat_id}:{m['message_id']}"
                                             for m in standin.sent_to(victim.chat_id)]


# --- the webhook's guard ----------------------------------------------------------------------------------


async def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_stored(
        client: Client, services: Services, standin: TelegramStandIn) -> None:
    victim = TelegramVictim(client, standin)
    for secret in (None, "", "wrong", SECRET + "x", SECRET[:-1], SECRET.upper()):
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        response = await client.post("/webhooks/telegram", json=victim.message(text="yes"), headers=headers)
        assert response.status == 403, secret
        assert (await response.json())["error"] == "forbidden"
    assert await rows(services) == []
    await asyncio.sleep(0.05)
    assert [c.method for c in standin.calls if c.method != "getMe"] == []


@pytest.mark.parametrize(("body", "status", "error"), [
    pytest.param(b"not json at all", 400, "invalid_json", id="not-json"),
    pytest.param(b"\xff\xfe\x00", 400, "invalid_json", id="not-utf8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json", id="deeply-nested"),
    pytest.param(b"[1, 2]", 400, "invalid_update", id="not-an-object"),
    pytest.param(b'{"message": {"text": "yes"}}', 400, "invalid_update", id="no-update-id"),
    pytest.param(b'{"update_id": true}', 400, "invalid_update", id="boolean-update-id"),
    pytest.param(b'{"update_id": 5, "message": {"message_id": 1, "date": 1773136800, "text": "yes"}}', 400,
                 "invalid_update", id="message-without-chat"),
    pytest.param(b'{"update_id": 6, "message": {"message_id": 1, "date": 1773136800, "text": 5, '
                 b'"chat": {"id": 5012345678, "type": "private"}}}', 400, "invalid_update", id="text-not-a-string"),
    pytest.param(b'{"update_id": 7, "callback_query": {"from": {"id": 1, "is_bot": false, "first_name": "S"}, '
                 b'"chat_instance": "1", "data": "1:1"}}', 400, "invalid_update", id="callback-without-id"),
    pytest.param(b'{"update_id": 8, "message": ' + b'{"x": "' + b"a" * 600_000 + b'"}}', 413, "update_too_large",
                 id="oversized"),
])
async def test_malformed_and_oversized_updates_get_a_clear_status_and_leave_nothing(
        client: Client, services: Services, standin: TelegramStandIn, body: bytes, status: int, error: str) -> None:
    response = await client.post("/webhooks/telegram", data=body, headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    assert response.status == status
    assert (await response.json())["error"] == error
    assert await rows(services) == []
    assert [c.method for c in standin.calls if c.method != "getMe"] == []


async def test_an_oversized_body_without_a_length_is_cut_off(client: Client, services: Services) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"update_id": 9, "message": {"x": "'
        for _ in range(40):
            yield b"a" * 16_384
        yield b'"}}'

    response = await client.post("/webhooks/telegram", data=chunks(), headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    assert response.status == 413
    assert await rows(services) == []


@pytest.mark.parametrize("fixture", ["edited_message", "group_message", "my_chat_member_blocked"])
async def test_updates_a_survey_does_not_need_are_acknowledged_and_not_stored(
        client: Client, services: Services, standin: TelegramStandIn, fixture: str) -> None:
    response = await TelegramVictim(client, standin).post(fixture_update(fixture))
    assert response.status == 200
    assert await rows(services) == []


# --- repeats ----------------------------------------------------------------------------------------------


async def test_a_repeated_update_is_one_message_and_one_survey_step(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    victim = await started(client, services, clock, outbox, standin)
    before = len(victim.heard())
    update = victim.message(text="2")
    first, second = await asyncio.gather(victim.post(update), victim.post(update))
    assert (first.status, second.status) == (200, 200)
    [stored] = await rows(services, inbound())  # committed before the webhook answered
    assert stored.provider_id == f"{victim.chat_id}:{update['message']['message_id']}"
    assert (await victim.post(update)).status == 200  # and once more, later
    await pump(services, outbox)
    assert len(await rows(services, inbound())) == 1
    assert victim.heard()[before:] == ["Did the person you spoke to explain what will happen next? Reply YES or NO."]
    async with services.db.session() as s:
        assert [(a.step_id, a.value) for a in (await s.exec(select(Answer))).all()] == [("q_wait", "about_right")]


async def test_a_repeated_start_neither_restarts_the_survey_nor_says_the_link_expired(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    token = await invite_on_telegram(client, services, clock, outbox)
    victim = TelegramVictim(client, standin)
    update = victim.message("message_start", text=f"/start {token}")
    assert (await victim.post(update)).status == 200
    await pump(services, outbox)
    heard = victim.heard()
    assert (await victim.post(update)).status == 200  # Telegram delivers it again
    await pump(services, outbox)
    await asyncio.sleep(0.05)
    assert victim.heard() == heard
    async with services.db.session() as s:
        assert len((await s.exec(select(SurveySession))).all()) == 1


# --- links that cannot be used ----------------------------------------------------------------------------


async def test_an_unknown_link_gets_a_kind_reply_and_nothing_is_stored(
        client: Client, services: Services, standin: TelegramStandIn) -> None:
    victim = TelegramVictim(client, standin)
    await victim.start("NoSuchToken_0123456789")
    [reply] = await standin.wait_for("sendMessage")
    assert reply["chat_id"] == str(victim.chat_id)
    assert "this link has expired or has already been used" in reply["text"]
    assert "999" in reply["text"] and "101" in reply["text"]
    assert await rows(services) == []
    async with services.db.session() as s:
        assert (await s.exec(select(ContactAddress).where(ContactAddress.channel == "telegram"))).all() == []


async def test_a_used_link_from_another_chat_gets_the_kind_reply_and_the_survey_stays_put(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    victim = await started(client, services, clock, outbox, standin)
    async with services.db.session() as s:
        token = (await s.exec(select(ChannelLink.token))).one()
    stranger = TelegramVictim(client, standin, chat_id=5_099_999_999)
    await stranger.start(token)
    await standin.wait_for("sendMessage", len(standin.of("sendMessage")) + 1)
    assert len(stranger.heard()) == 1 and "has expired or has already been used" in stranger.heard()[0]
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
    assert survey.address == f"telegram:{victim.chat_id}"


async def test_start_without_a_link_explains_how_to_begin(client: Client, services: Services,
                                                          standin: TelegramStandIn) -> None:
    victim = TelegramVictim(client, standin)
    await victim.start(None)
    [reply] = await standin.wait_for("sendMessage")
    assert "open the link in the message we sent you" in reply["text"]
    assert await rows(services) == []


# --- buttons ----------------------------------------------------------------------------------------------


async def test_a_button_of_an_earlier_question_does_not_answer_the_current_one(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    victim = await started(client, services, clock, outbox, standin)
    question = len(victim.heard()) - 1
    await victim.say("1")  # typed rather than pressed: the buttons stay on the first question
    await pump(services, outbox)
    heard = victim.heard()
    await victim.press("Too long", index=question)
    [answered] = await standin.wait_for("answerCallbackQuery")
    assert answered["text"] == "That question has moved on. Please answer the latest message."
    await pump(services, outbox)
    assert victim.heard() == heard
    assert [m.text for m in await rows(services, inbound())] == ["1"]
    await standin.wait_for("editMessageReplyMarkup")


# --- sending: rate limits and blocked bots ----------------------------------------------------------------


async def test_a_rate_limited_send_is_retried_after_retry_after(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    victim = await started(client, services, clock, outbox, standin)
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", retry_after=30)
    attempts = len(standin.of("sendMessage"))
    await victim.say("1")
    await pump(services, outbox)
    assert len(standin.of("sendMessage")) == attempts + 1  # tried once, refused
    waiting = await rows(services, Message.direction == "out", Message.status == "queued")
    [queued] = [row for row in waiting if row.error_code == "429"]
    assert (queued.error_code, queued.attempts) == ("429", 1)
    assert queued.next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=29)
    await pump(services, outbox)
    assert len(standin.of("sendMessage")) == attempts + 1  # not before Telegram said
    clock.advance(seconds=2)
    await pump(services, outbox)
    assert victim.heard()[-1] == "Did the person you spoke to explain what will happen next? Reply YES or NO."
    [message] = await rows(services, col(Message.id) == queued.id)
    assert (message.status, message.attempts) == ("sent", 2)


async def test_a_blocked_bot_fails_the_message_for_good_and_marks_the_address(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    victim = await started(client, services, clock, outbox, standin)
    standin.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await victim.say("1")
    await pump(services, outbox)
    [failed] = await rows(services, Message.direction == "out", Message.status == "failed")
    assert (failed.error_code, failed.error_reason) == ("403", "Forbidden: bot was blocked by the user")
    async with services.db.session() as s:
        address = (await s.exec(select(ContactAddress).where(ContactAddress.channel == "telegram"))).one()
    assert address.status == "undeliverable"
    clock.advance(days=1)
    await pump(services, outbox)
    [still] = await rows(services, col(Message.id) == failed.id)
    assert (still.status, still.attempts) == ("failed", 1)  # never retried on its own
    assert [p["text"] for p in standin.of("sendMessage")].count(failed.text) == 1


# --- media ------------------------------------------------------------------------------------------------


async def test_a_sticker_is_stored_and_the_victim_told_typed_replies_are_easiest(
        client: Client, services: Services, clock: ManualClock, outbox: OutboxDispatcher,
        standin: TelegramStandIn) -> None:
    victim = await started(client, services, clock, outbox, standin)
    await victim.send("message_sticker")
    [stored] = await rows(services, inbound())
    assert (stored.text, stored.media) == ("", [{
        "type": "sticker", "ref": "CAACAgIAAxkBAAEBQ2Zl6c1xYz0AAV4QWx9kU3l0aWNrZXIAAh4AA8A2TxMJkU8F4w1bHjQE"}])
    await pump(services, outbox)
    # The kind note comes first, then the question again.
    assert "typ" in victim.heard()[-2].lower(), victim.heard()[-2:]
    assert victim.heard()[-1].startswith("How did you find the wait")
