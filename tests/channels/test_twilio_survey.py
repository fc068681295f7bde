"""SMS and WhatsApp through the real app: surveys from journey event to last answer, against the Twilio stand-in.

The app is built with Twilio settings whose API base URL is a local server speaking Twilio's Messages
resource; victims' messages arrive as webhooks signed with the real twilio RequestValidator. The outbox and
the scheduler are run by hand, one pass at a time, with the manual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from sqlmodel import col, func, select

from feedbackbot.app import Services, build_services
from feedbackbot.channels.twilio import sms_text
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.settings import ApiKey, QuietHours, Settings
from feedbackbot.store.tables import Answer, Contact, Invitation, Message, SurveySession
from tests.support.clock import ManualClock
from tests.support.twilio_standin import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FIXTURES,
    LANDLINE,
    SERVER_ERROR,
    SERVICE_SID,
    UNSUBSCRIBED,
    WHATSAPP_FROM,
    Hang,
    Twilio,
    TwilioStandIn,
    fixture_form,
    new_sid,
)
from tests.support.victim import API_KEY, event_body, post_event

PUBLIC_URL = "https://feedback.example.police.uk"
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "transcripts"
NUMBER = "+447700900123"


@pytest.fixture
async def standin(aiohttp_server: Any, clock: ManualClock) -> AsyncIterator[TwilioStandIn]:
    fake = TwilioStandIn(clock=clock.now)
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    fake.release()


@pytest.fixture
def settings(database_url: str, standin: TwilioStandIn) -> Settings:
    """The app's test settings, with Twilio SMS and WhatsApp pointed at the stand-in."""
    return Settings(
        database_url=database_url, public_url=PUBLIC_URL, api_keys=(ApiKey("rms", API_KEY),), run_workers=False,
        quiet_hours=QuietHours.parse("21:00-08:00"), twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url=standin.url, twilio_messaging_service_sid=SERVICE_SID, twilio_whatsapp_from=WHATSAPP_FROM,
        twilio_whatsapp_templates=str(FIXTURES / "whatsapp_templates.yaml"),
    )


@pytest.fixture
def twilio(client: TestClient[Any, Any]) -> Twilio:
    return Twilio(client, PUBLIC_URL)


class Phone:
    """A victim's phone: texts (or WhatsApps) us through signed webhooks and reads what the stand-in got for it."""

    def __init__(self, services: Services, standin: TwilioStandIn, twilio: Twilio, number: str = NUMBER,
                 whatsapp: bool = False) -> None:
        self.services = services
        self.standin = standin
        self.twilio = twilio
        self.number = number
        self.whatsapp = whatsapp
        self.to = f"whatsapp:{number}" if whatsapp else number
        self.read = 0

    async def pump(self) -> None:
        """What the running workers would do next: finish processing, start due surveys, send the outbox."""
        await self.services.inbox.drain()
        await self.services.scheduler.run_once()
        await send_all(self.services)

    def new(self) -> list[str]:
        """Bodies of the messages Twilio was asked to send to this phone since last asked."""
        got = self.standin.sent_to(self.to)
        bodies = [m.body for m in got[self.read:]]
        self.read = len(got)
        return bodies

    async def say(self, text: str, **extra: str) -> list[str]:
        send = self.twilio.whatsapp if self.whatsapp else self.twilio.sms
        response = await send(self.number, text, **extra)
        assert response.status == 200, await response.text()
        await self.pump()
        return self.new()


async def send_all(services: Services) -> None:
    """Outbox passes until nothing is due (each pass sends one message per victim, keeping their order)."""
    for _ in range(30):
        if not await services.outbox.run_once():
            return
    raise AssertionError("the outbox kept finding work")


async def invite(client: TestClient[Any, Any], touchpoint: str, channel: str, number: str = NUMBER,
                 **victim: Any) -> int:
    response = await post_event(client, event_body(touchpoint, channel=channel, phone=number,
                                                   reference="20/123456/26", **victim))
    assert response.status == 201, await response.text()
    invitation_id: int = (await response.json())["invitation"]["id"]
    return invitation_id


async def count(services: Services, *where: Any) -> int:
    async with services.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(Message).where(*where))).one())


# --- whole surveys ------------------------------------------------------------------------------------------


async def test_a_whole_survey_over_sms_says_what_the_web_transcript_says(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio) -> None:
    script = yaml.safe_load((TRANSCRIPTS / "six_week_checkin__happy.yaml").read_text(encoding="utf-8"))
    phone = Phone(services, standin, twilio)
    await invite(client, "six_week_checkin", "sms")
    await phone.pump()
    assert phone.new() == [sms_text(t) for t in script["conversation"][0]["bot"]]
    for turn in script["conversation"][1:]:
        assert await phone.say(turn["victim"]) == [sms_text(t) for t in turn["bot"]]
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
        answers = (await s.exec(select(Answer).order_by(col(Answer.id)))).all()
        sent = (await s.exec(select(Message).where(Message.direction == "out"))).all()
    assert survey.status == "completed"
    assert [[a.step_id, a.value] for a in answers] == script["stored"]["answers"]
    assert {m.status for m in sent} == {"sent"}
    assert [m.provider_id for m in sent] == [m.sid for m in standin.messages], "each row has its Twilio sid"
    assert all(r["MessagingServiceSid"] == SERVICE_SID and r["StatusCallback"] == f"{PUBLIC_URL}/webhooks/twilio/status"
               for r in standin.created)


async def test_a_whole_survey_over_whatsapp_opens_with_the_approved_template(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio) -> None:
    phone = Phone(services, standin, twilio, whatsapp=True)
    await invite(client, "six_week_checkin", "whatsapp")
    await phone.pump()
    # The victim has never written: only approved templates may go. The opening has one, and so has the first
    # question (its options as quick-reply buttons); the free-text message between them is refused, here.
    question = "[template HX0000000000000000000000000000a002] 1=Very well | 2=OK | 3=Not well | 4=No updates at all"
    assert phone.new() == ["[template HX0000000000000000000000000000a001] 1=West Midlands Police", question]
    async with services.db.session() as s:
        refused = (await s.exec(select(Message).where(Message.status == "failed"))).all()
    assert [(m.step_id, m.error_code) for m in refused] == [("intro_2", "whatsapp_window")]
    assert "no approved template is configured for flow 'six_week_checkin' step 'intro_2' in 'en'" in \
        (refused[0].error_reason or "")
    assert len(standin.created) == 2, "free text outside the window never reached Twilio"
    # They tap "Start the survey" (the button's id is START): the current question is asked again.
    assert await phone.say("Start the survey", ButtonPayload="START", ButtonText="Start the survey") == [question]
    assert await phone.say("Very well", ButtonPayload="1", ButtonText="Very well") == [
        "Do you know who to contact if you have a question about your case? Reply YES or NO."]
    assert await phone.say("yes") == [
        "Have you been offered support, for example from Victim Support? Reply YES or NO."]
    await phone.say("yes")
    await phone.say("5")
    last = await phone.say("Thank you for checking on me.")
    assert last[-1].startswith("Thank you for telling us.")
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
        answers = (await s.exec(select(Answer).order_by(col(Answer.id)))).all()
    assert survey.status == "completed"
    assert [a.value for a in answers] == ["very_well", "yes", "yes", "5", "Thank you for checking on me."]
    assert all(r["To"] == f"whatsapp:{NUMBER}" and r["From"] == WHATSAPP_FROM for r in standin.created)


async def test_a_whatsapp_reminder_outside_the_window_goes_as_its_template(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio,
        clock: ManualClock) -> None:
    phone = Phone(services, standin, twilio, whatsapp=True)
    await invite(client, "six_week_checkin", "whatsapp")
    await phone.pump()
    phone.new()
    clock.advance(days=3, minutes=1)
    await phone.pump()
    assert phone.new() == ['[template HX0000000000000000000000000000a003] 1=West Midlands Police']


# --- Twilio's answers and reports, end to end --------------------------------------------------------------


async def test_21610_marks_the_victim_opted_out(client: TestClient[Any, Any], services: Services,
                                                 standin: TwilioStandIn, twilio: Twilio) -> None:
    standin.refuse(NUMBER, UNSUBSCRIBED)
    invitation = await invite(client, "six_week_checkin", "sms", victim_ref="P-21610")
    await Phone(services, standin, twilio).pump()
    async with services.db.session() as s:
        contact = (await s.exec(select(Contact).where(Contact.external_ref == "P-21610"))).one()
        survey = (await s.exec(select(SurveySession).where(SurveySession.invitation_id == invitation))).one()
        failed = (await s.exec(select(Message).where(Message.status == "failed"))).all()
    queued = await count(services, col(Message.status) == "queued")
    assert contact.opted_out_at is not None
    assert survey.status == "opted_out"
    assert [m.error_code for m in failed] == ["21610"], "the first refusal; the rest were cancelled, never tried"
    assert queued == 0
    assert len(standin.created) == 1
    # A later touchpoint for the same victim is not sent at all.
    again = await post_event(client, event_body("case_filed", channel="sms", phone=NUMBER, victim_ref="P-21610"))
    assert (await again.json())["outcome"] != "invited"


async def test_a_late_sent_after_delivered_is_ignored(client: TestClient[Any, Any], services: Services,
                                                      standin: TwilioStandIn, twilio: Twilio) -> None:
    await invite(client, "six_week_checkin", "sms")
    await Phone(services, standin, twilio).pump()
    first = standin.messages[0]
    assert (await twilio.status(first.sid, "delivered", NUMBER)).status == 200
    assert (await twilio.status(first.sid, "sent", NUMBER)).status == 200
    async with services.db.session() as s:
        row = (await s.exec(select(Message).where(Message.provider_id == first.sid))).one()
    assert row.status == "delivered" and row.delivered_at is not None


async def test_an_undelivered_report_for_a_landline_marks_the_address(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio) -> None:
    await invite(client, "six_week_checkin", "sms", victim_ref="P-LANDLINE")
    await Phone(services, standin, twilio).pump()
    first = standin.messages[0]
    assert (await twilio.status(first.sid, "undelivered", NUMBER, error_code="30006")).status == 200
    async with services.db.session() as s:
        row = (await s.exec(select(Message).where(Message.provider_id == first.sid))).one()
        survey = (await s.exec(select(SurveySession))).one()
    assert (row.status, row.error_code) == ("undelivered", "30006")
    assert survey.status == "undeliverable"


async def test_transient_5xx_is_retried_with_backoff_then_sent(client: TestClient[Any, Any], services: Services,
                                                               standin: TwilioStandIn, twilio: Twilio,
                                                               clock: ManualClock) -> None:
    standin.script(SERVER_ERROR, SERVER_ERROR)
    await invite(client, "six_week_checkin", "sms")
    phone = Phone(services, standin, twilio)
    await phone.pump()
    async with services.db.session() as s:
        first = (await s.exec(select(Message).where(Message.direction == "out").order_by(col(Message.id)))).first()
    assert first is not None and (first.status, first.attempts, first.error_code) == ("queued", 1, "20500")
    assert first.next_attempt_at is not None and first.next_attempt_at > clock.now(), "not before its backoff"
    await send_all(services)
    assert len(standin.created) == 1, "not retried before its time, and nothing overtakes it"
    clock.advance(seconds=5)
    await send_all(services)
    clock.advance(seconds=10)
    await send_all(services)
    async with services.db.session() as s:
        row = await s.get(Message, first.id)
    assert row is not None and (row.status, row.attempts) == ("sent", 3)
    assert len(standin.created) == 5, "three tries of the first message, then the two after it"
    assert standin.sent_to(NUMBER)[0].body == first.text, "one SMS reached the victim, first"
    assert len(standin.sent_to(NUMBER)) == 3


async def test_a_crash_after_twilio_took_the_message_sends_no_second_sms(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio,
        clock: ManualClock) -> None:
    await invite(client, "six_week_checkin", "sms")
    await services.scheduler.run_once()
    standin.script(Hang(store=True))
    # The dispatcher sends; Twilio creates the message; the process dies before the answer is recorded.
    crashed = asyncio.create_task(services.outbox.run_once())
    await asyncio.wait_for(standin.received.wait(), 5)
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    standin.release()
    async with services.db.session() as s:
        stuck = (await s.exec(select(Message).where(Message.status == "sending"))).one()
    (at_twilio,) = standin.messages
    # After a restart, the interrupted send is checked with Twilio, found, and recorded; nothing is sent twice.
    clock.advance(minutes=3)
    await send_all(services)
    async with services.db.session() as s:
        row = await s.get(Message, stuck.id)
    assert row is not None and (row.status, row.provider_id) == ("sent", at_twilio.sid)
    assert [m.body for m in standin.sent_to(NUMBER)].count(stuck.text) == 1
    assert any("DateSent>" in q for q in standin.lists), "looked up by recipient and date sent"


async def test_a_crash_before_twilio_took_the_message_sends_it_once(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio,
        clock: ManualClock) -> None:
    await invite(client, "six_week_checkin", "sms")
    await services.scheduler.run_once()
    standin.script(Hang(store=False))
    crashed = asyncio.create_task(services.outbox.run_once())
    await asyncio.wait_for(standin.received.wait(), 5)
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    standin.release()
    async with services.db.session() as s:
        stuck = (await s.exec(select(Message).where(Message.status == "sending"))).one()
    assert standin.sent_to(NUMBER) == []
    clock.advance(minutes=3)
    await send_all(services)  # checked: not at Twilio, so queued again, and sent
    async with services.db.session() as s:
        row = await s.get(Message, stuck.id)
    assert row is not None and row.status == "sent"
    assert [m.body for m in standin.sent_to(NUMBER)].count(stuck.text) == 1


# --- what arrives --------------------------------------------------------------------------------------------


async def test_forged_or_missing_signatures_get_403_and_store_nothing(
        client: TestClient[Any, Any], services: Services, twilio: Twilio) -> None:
    form = fixture_form("inbound_sms", From=NUMBER, MessageSid=new_sid())
    for signature in ("", "dGhpcyBpcyBub3QgaXQ=", twilio.signature("/webhooks/twilio/status", form)):
        response = await twilio.post("/webhooks/twilio/messages", form, signature=signature)
        assert response.status == 403
    forged_host = await twilio.post("/webhooks/twilio/messages", form,
                                    signature=Twilio(client, "http://127.0.0.1").signature(
                                        "/webhooks/twilio/messages", form),
                                    headers={"X-Forwarded-Host": "127.0.0.1", "X-Forwarded-Proto": "http"})
    assert forged_host.status == 403
    status = await twilio.post("/webhooks/twilio/status", fixture_form("status_sms"), signature="")
    assert status.status == 403
    assert await count(services) == 0


async def test_a_replayed_message_sid_is_one_message(client: TestClient[Any, Any], services: Services,
                                                     standin: TwilioStandIn, twilio: Twilio) -> None:
    phone = Phone(services, standin, twilio)
    await invite(client, "six_week_checkin", "sms")
    await phone.pump()
    phone.new()
    sid = new_sid()
    assert await phone.say("very well", sid=sid)
    assert await phone.say("very well", sid=sid) == [], "a repeat delivery is not a second answer"
    assert await count(services, Message.direction == "in") == 1


async def test_two_concurrent_posts_of_one_message_make_one_message_and_one_step(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio) -> None:
    phone = Phone(services, standin, twilio)
    await invite(client, "six_week_checkin", "sms")
    await phone.pump()
    phone.new()
    sid = new_sid()
    first, second = await asyncio.gather(twilio.sms(NUMBER, "very well", sid=sid),
                                         twilio.sms(NUMBER, "very well", sid=sid))
    assert (first.status, second.status) == (200, 200)
    await phone.pump()
    assert phone.new() == ["Do you know who to contact if you have a question about your case? Reply YES or NO."]
    async with services.db.session() as s:
        answers = (await s.exec(select(Answer))).all()
    assert [a.step_id for a in answers] == ["q_updated"]
    assert await count(services, Message.direction == "in") == 1


async def test_malformed_and_oversized_requests_get_a_clear_status_and_store_nothing(
        client: TestClient[Any, Any], services: Services, twilio: Twilio) -> None:
    no_sid = fixture_form("inbound_sms", MessageSid="")
    response = await twilio.post("/webhooks/twilio/messages", no_sid)
    assert response.status == 400
    assert (await response.json())["error"] == "malformed"
    huge = fixture_form("inbound_sms", Body="x" * 100_000)
    response = await twilio.post("/webhooks/twilio/messages", huge)
    assert response.status == 413
    not_a_form = await client.post("/webhooks/twilio/messages", data=b"\xff\xfe",
                                   headers={"Content-Type": "application/x-www-form-urlencoded",
                                            "X-Twilio-Signature": "eA=="})
    assert not_a_form.status == 400
    assert await count(services) == 0


async def test_a_voice_note_is_kept_with_its_media_type(client: TestClient[Any, Any], services: Services,
                                                        standin: TwilioStandIn, twilio: Twilio) -> None:
    phone = Phone(services, standin, twilio, whatsapp=True, number="+447700900002")
    await invite(client, "six_week_checkin", "whatsapp", number="+447700900002")
    await phone.pump()
    phone.new()
    response = await twilio.post("/webhooks/twilio/messages", fixture_form("inbound_whatsapp_voice"))
    assert response.status == 200
    await phone.pump()
    async with services.db.session() as s:
        inbound = (await s.exec(select(Message).where(Message.direction == "in"))).one()
    # Kept with Twilio's URL for it, so a person can fetch the recording.
    assert inbound.media == [{"type": "audio/ogg", "ref": fixture_form("inbound_whatsapp_voice")["MediaUrl0"]}]
    assert inbound.address == "whatsapp:+447700900002"
    # The voice note opened the window: the answer goes as free text, then the question again.
    thanks, question = phone.new()
    assert thanks == ("Thank you. We have kept what you sent for a person to look at. Typed replies are easiest "
                      "for us to read.")
    # The question again, with its choices (as the approved buttons template where WhatsApp has one).
    assert question.startswith("How well have we kept you updated about your case?") or (
        question.startswith("[template ") and "1=Very well" in question)


async def test_stop_by_sms_opts_out_and_twilio_blocks_our_confirmation(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio) -> None:
    phone = Phone(services, standin, twilio)
    await invite(client, "six_week_checkin", "sms", victim_ref="P-STOP")
    await phone.pump()
    phone.new()
    standin.refuse(NUMBER, UNSUBSCRIBED)  # Twilio blocks the number as soon as it sees STOP
    assert await phone.say("STOP", OptOutType="STOP") == []
    async with services.db.session() as s:
        contact = (await s.exec(select(Contact).where(Contact.external_ref == "P-STOP"))).one()
        confirmation = (await s.exec(select(Message).where(Message.purpose == "opted_out"))).one()
    assert contact.opted_out_at is not None
    # Twilio confirmed the opt-out itself; ours is recorded as cancelled, not as a failure to chase.
    assert (confirmation.status, confirmation.error_code) == ("cancelled", "21610")


async def test_an_invitation_falls_back_when_the_number_cannot_take_sms(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio) -> None:
    standin.refuse(NUMBER, LANDLINE)
    invitation = await invite(client, "six_week_checkin", "sms", allowed_channels=["sms", "whatsapp"])
    phone = Phone(services, standin, twilio)
    await phone.pump()
    await phone.pump()
    async with services.db.session() as s:
        inv = await s.get(Invitation, invitation)
    assert inv is not None and inv.channel == "whatsapp"
    assert standin.sent_to(f"whatsapp:{NUMBER}")[0].body.startswith("[template HX0000000000000000000000000000a001]")


async def test_a_reply_that_waits_past_the_window_is_refused_not_sent(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio,
        clock: ManualClock) -> None:
    phone = Phone(services, standin, twilio, whatsapp=True)
    await invite(client, "six_week_checkin", "whatsapp")
    await phone.pump()
    phone.new()
    assert (await twilio.whatsapp(NUMBER, "HELP")).status == 200
    await services.inbox.drain()
    # The answer was queued inside the window, but is sent only after it closed (the outbox was down a day):
    # the window is judged when sending, so it is refused here rather than by Twilio.
    clock.advance(hours=24)
    await send_all(services)
    async with services.db.session() as s:
        late = (await s.exec(select(Message).where(Message.purpose == "help"))).one()
    assert (late.status, late.error_code) == ("failed", "whatsapp_window")
    # HELP also asks the current question again: that one has an approved template, so it still goes.
    assert phone.new() == [
        "[template HX0000000000000000000000000000a002] 1=Very well | 2=OK | 3=Not well | 4=No updates at all"]


# --- a web process beside a worker ----------------------------------------------------------------------------


async def test_a_web_process_only_acknowledges_and_the_worker_carries_out_the_turn(
        client: TestClient[Any, Any], services: Services, standin: TwilioStandIn, twilio: Twilio,
        settings: Settings, clock: ManualClock) -> None:
    phone = Phone(services, standin, twilio)
    await invite(client, "six_week_checkin", "sms")
    await phone.pump()
    opening = phone.new()
    assert opening
    services.inbox.turns_here = False  # FEEDBACKBOT_BACKGROUND_TURNS=false: `feedbackbot worker` runs apart
    response = await twilio.sms(NUMBER, "2")
    assert response.status == 200
    await services.inbox.drain()
    assert await count(services, Message.direction == "in", Message.status == "received") == 1  # stored, waiting
    # The worker process: its own services on the same database pick the reply up and carry out the turn.
    worker = build_services(settings.replace(run_workers=True), clock, classifier=KeywordClassifier)
    try:
        assert await worker.inbox.pick_up() == 1
        assert await worker.inbox.pick_up() == 0  # already queued: not twice
        await worker.inbox.drain()
    finally:
        await worker.db.dispose()
    assert await count(services, Message.direction == "in", Message.status == "received") == 0
    await send_all(services)
    assert phone.new(), "the survey's next question was sent after the worker's turn"
