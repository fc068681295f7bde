"""The Twilio adapters at their edges: sends and refusals against the Messages stand-in, webhooks as signed."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from feedbackbot.channels.base import Accepted
from feedbackbot.channels.twilio import (
    TwilioGateway,
    TwilioSmsChannel,
    TwilioWhatsAppChannel,
    check_settings,
    sms_text,
    twilio_adapters,
)
from feedbackbot.channels.whatsapp_templates import Templates, parse_templates
from feedbackbot.flows.keywords import Keyword, parse_keyword
from feedbackbot.messages import Address, Channel, InboundMessage, OutboundMessage, QuickReply, SendResult
from feedbackbot.settings import Settings, SettingsError
from feedbackbot.store.db import Database
from feedbackbot.store.tables import Message
from tests.support.clock import ManualClock
from tests.support.databases import SqliteTemplates
from tests.support.twilio_standin import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    LANDLINE,
    OUTSIDE_WINDOW,
    SERVER_ERROR,
    SERVICE_SID,
    UNREACHABLE,
    UNSUBSCRIBED,
    WHATSAPP_FROM,
    Hang,
    Refusal,
    Twilio,
    TwilioStandIn,
    fixture_form,
    new_sid,
)

PUBLIC_URL = "https://feedback.example.police.uk"
VICTIM = "+447700900001"
TEMPLATE_SID = "HX" + "a1" * 16
BUTTONS_SID = "HX" + "b2" * 16
TEMPLATES = f"""
spec: 1
templates:
  - flow: after_attendance
    step: intro
    language: en
    content_sid: {TEMPLATE_SID}
    variables: {{"1": force_name}}
    buttons: [START, STOP]
  - flow: six_week_checkin
    step: q_contact_pref
    language: en
    content_sid: {BUTTONS_SID}
    variables: {{"1": text, "2": choice_1}}
    buttons: ["1", "2", "3"]
"""


class RecordingSink:
    """Takes what the adapter hands over and says yes; the real sink is tested through the app."""

    def __init__(self) -> None:
        self.accepted: list[InboundMessage] = []
        self.statuses: list[tuple[Channel, str, str, str | None]] = []
        self.failed: list[Address] = []
        self.opted_out: list[Address] = []
        self.calls: list[str] = []

    async def accept(self, inbound: InboundMessage) -> Accepted:
        self.calls.append("accept")
        self.accepted.append(inbound)
        return Accepted(len(self.accepted), True)

    async def delivery_status(self, channel: Channel, provider_id: str, status: str, *, at: datetime,
                              error_code: str | None = None, error_reason: str | None = None) -> bool:
        self.statuses.append((channel, provider_id, status, error_code))
        return True

    async def address_failed(self, address: Address, reason: str) -> None:
        self.failed.append(address)

    async def provider_opt_out(self, address: Address, reason: str) -> None:
        self.calls.append("provider_opt_out")
        self.opted_out.append(address)

    async def bind_link(self, token: str, address: Address) -> bool:
        return False


def twilio_settings(tmp_path: Path, api_base_url: str, **changes: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'edge.db'}", public_url=PUBLIC_URL,
                    twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_api_base_url=api_base_url,
                    twilio_messaging_service_sid=SERVICE_SID, twilio_whatsapp_from=WHATSAPP_FROM,
                    sms_max_segments=2).replace(**changes)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def standin(aiohttp_server: Any, clock: ManualClock) -> AsyncIterator[TwilioStandIn]:
    fake = TwilioStandIn(clock=clock.now)
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    fake.release()


class Edge:
    """A gateway and its two adapters on a recording sink, both started against the stand-in."""

    def __init__(self, settings: Settings, db: Database, clock: ManualClock, templates: Templates) -> None:
        self.sink = RecordingSink()
        self.gateway = TwilioGateway(settings, db, self.sink, clock, templates)
        self.sms = TwilioSmsChannel(self.gateway, settings.sms_max_segments)
        self.whatsapp = TwilioWhatsAppChannel(self.gateway, templates)

    async def start(self) -> None:
        await self.sms.start()
        await self.whatsapp.start()

    async def stop(self) -> None:
        await self.sms.stop()
        await self.whatsapp.stop()


MakeEdge = Callable[..., Edge]


@pytest.fixture
def edge_database(tmp_path: Path, sqlite_templates: SqliteTemplates) -> str:
    """A migrated SQLite database for tests that do not ask for both databases."""
    return sqlite_templates.fresh(tmp_path / "edge.db")


@pytest.fixture
async def make_edge(tmp_path: Path, standin: TwilioStandIn, clock: ManualClock,
                    edge_database: str) -> AsyncIterator[MakeEdge]:
    made: list[tuple[Edge, Database]] = []

    def make(database_url: str | None = None, templates: str = TEMPLATES, **changes: Any) -> Edge:
        settings = twilio_settings(tmp_path, standin.url, **changes)
        settings = settings.replace(database_url=database_url or edge_database)
        db = Database(settings.database_url)
        edge = Edge(settings, db, clock, parse_templates(templates, "whatsapp_templates.yaml"))
        made.append((edge, db))
        return edge

    yield make
    for edge, db in made:
        await edge.stop()
        await db.dispose()


@pytest.fixture
async def edge(make_edge: MakeEdge) -> Edge:
    made = make_edge()
    await made.start()
    return made


def sms(text: str = "Did the officers listen to you and treat you with respect? Reply YES or NO.",
        number: str = VICTIM, message_id: int = 7) -> OutboundMessage:
    return OutboundMessage(id=message_id, channel=Channel.SMS, address=Address(Channel.SMS, number), text=text,
                           purpose="prompt", flow_id="after_attendance", step_id="q_respect")


def whatsapp(text: str = "Hello, this is West Midlands Police. How did it go?", *, step: str = "intro",
             flow: str = "after_attendance", last_inbound: datetime | None = None, language: str = "en",
             quick: tuple[QuickReply, ...] = (), purpose: str = "message", message_id: int = 8) -> OutboundMessage:
    return OutboundMessage(id=message_id, channel=Channel.WHATSAPP, address=Address(Channel.WHATSAPP, VICTIM),
                           text=text, purpose=purpose, flow_id=flow, step_id=step, language=language,
                           last_inbound_at=last_inbound, quick_replies=quick)


# --- sending SMS ---------------------------------------------------------------------------------------


async def test_an_sms_goes_through_the_messaging_service_with_a_status_callback(
        edge: Edge, standin: TwilioStandIn) -> None:
    result = await edge.sms.send(sms())
    assert result.ok and result.status == "sent"
    assert result.provider_id == standin.messages[0].sid
    (request,) = standin.created
    assert request == {"To": VICTIM, "Body": sms().text, "MessagingServiceSid": SERVICE_SID,
                       "StatusCallback": f"{PUBLIC_URL}/webhooks/twilio/status"}


async def test_a_sender_number_is_used_when_there_is_no_messaging_service(
        make_edge: MakeEdge, standin: TwilioStandIn) -> None:
    edge = make_edge(twilio_messaging_service_sid="", twilio_from_number=FROM_NUMBER)
    await edge.start()
    assert (await edge.sms.send(sms())).ok
    assert standin.created[0]["From"] == FROM_NUMBER
    assert "MessagingServiceSid" not in standin.created[0]


async def test_one_http_session_and_connection_serves_every_send(edge: Edge, standin: TwilioStandIn,
                                                                 aiohttp_server: Any) -> None:
    session = edge.gateway._http.session
    peers: set[Any] = set()

    @web.middleware
    async def remember_peer(request: web.Request, handler: Any) -> web.StreamResponse:
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        response: web.StreamResponse = await handler(request)
        return response

    app = standin.app
    app.middlewares.append(remember_peer)
    server = await aiohttp_server(app)
    edge.gateway._client.api.base_url = str(server.make_url("")).rstrip("/")
    for n in range(5):
        assert (await edge.sms.send(sms(message_id=n))).ok
    assert edge.gateway._http.session is session
    assert len(peers) == 1, "every send reused one kept-alive connection of the one session"


@pytest.mark.parametrize(("refusal", "expected"), [
    (UNSUBSCRIBED, SendResult(ok=False, error_code="21610", permanent=True, opted_out=True)),
    (LANDLINE, SendResult(ok=False, error_code="21614", permanent=True, address_failed=True)),
    (Refusal(400, 21211, "The 'To' number is not a valid phone number."),
     SendResult(ok=False, error_code="21211", permanent=True, address_failed=True)),
    (Refusal(400, 30005, "Unknown destination handset"),
     SendResult(ok=False, error_code="30005", permanent=True, address_failed=True)),
    (Refusal(400, 30006, "Landline or unreachable carrier"),
     SendResult(ok=False, error_code="30006", permanent=True, address_failed=True)),
    (OUTSIDE_WINDOW, SendResult(ok=False, error_code="63016", permanent=True)),
    (UNREACHABLE, SendResult(ok=False, error_code="30003")),
    (SERVER_ERROR, SendResult(ok=False, error_code="20500")),
    (Refusal(503, 20503, "Service Unavailable"), SendResult(ok=False, error_code="20503")),
    (Refusal(429, 20429, "Too Many Requests"), SendResult(ok=False, error_code="20429")),
    (Refusal(400, 21999, "Something new"), SendResult(ok=False, error_code="21999", permanent=True)),
])
async def test_twilio_refusals_become_send_results(edge: Edge, standin: TwilioStandIn, refusal: Refusal,
                                                   expected: SendResult) -> None:
    standin.script(refusal)
    result = await edge.sms.send(sms())
    assert (result.ok, result.error_code, result.permanent, result.opted_out, result.address_failed) == \
        (expected.ok, expected.error_code, expected.permanent, expected.opted_out, expected.address_failed)
    assert result.error_reason and str(refusal.code) in result.error_reason
    assert VICTIM not in result.error_reason or refusal.code == 21999


async def test_wrong_credentials_are_retried_with_a_reason_naming_the_settings(
        make_edge: MakeEdge, standin: TwilioStandIn) -> None:
    edge = make_edge(twilio_auth_token="not-the-token")
    await edge.start()
    result = await edge.sms.send(sms())
    assert (result.ok, result.error_code, result.permanent) == (False, "20003", False)
    assert "FEEDBACKBOT_TWILIO_ACCOUNT_SID" in (result.error_reason or "")


async def test_a_lost_answer_is_looked_up_before_a_retry(edge: Edge, standin: TwilioStandIn) -> None:
    edge.gateway.timeout = 0.5
    standin.script(Hang(store=True))
    result = await edge.sms.send(sms())
    assert result.ok, "Twilio had the message: no retry, so no second SMS"
    assert result.provider_id == standin.messages[0].sid
    assert len(standin.created) == 1


async def test_a_timeout_when_twilio_never_got_the_message_is_transient(edge: Edge, standin: TwilioStandIn) -> None:
    edge.gateway.timeout = 0.5
    standin.script(Hang(store=False))
    result = await edge.sms.send(sms())
    assert (result.ok, result.error_code, result.permanent) == (False, "timeout", False)


async def test_an_unreachable_api_is_transient(make_edge: MakeEdge) -> None:
    edge = make_edge(twilio_api_base_url="http://127.0.0.1:9")
    await edge.start()
    result = await edge.sms.send(sms())
    assert (result.ok, result.error_code, result.permanent) == (False, "network", False)


# --- segments -------------------------------------------------------------------------------------------


async def test_an_sms_over_the_segment_budget_is_refused_before_twilio(edge: Edge, standin: TwilioStandIn) -> None:
    long_gsm = "word " * 64  # 320 GSM-7 characters: 3 segments of 153
    result = await edge.sms.send(sms(long_gsm))
    assert (result.ok, result.permanent, result.error_code) == (False, True, "too_long")
    assert "3 SMS segments (GSM-7, 320 characters); the budget is 2" in (result.error_reason or "")
    polish = "Dziękujemy za odpowiedź. " * 6  # UCS-2: 150 units, 3 segments of 67
    result = await edge.sms.send(sms(polish))
    assert result.error_code == "too_long" and "UCS-2" in (result.error_reason or "")
    assert standin.created == []


async def test_typographic_quotes_go_as_gsm7_so_they_do_not_double_the_segments(
        edge: Edge, standin: TwilioStandIn) -> None:
    text = "Thank you \u2014 that\u2019s really helpful. " * 7  # 245 characters
    assert sms_text(text) == "Thank you - that's really helpful. " * 7
    assert (await edge.sms.send(sms(text))).ok, "2 GSM-7 segments, not 4 UCS-2 ones"
    assert standin.created[0]["Body"] == sms_text(text)
    assert sms_text("Dzi\u0119kujemy \u2014 to pomaga") == "Dzi\u0119kujemy \u2014 to pomaga", "UCS-2 anyway: unchanged"


# --- WhatsApp -------------------------------------------------------------------------------------------


async def test_whatsapp_free_text_inside_the_window(edge: Edge, standin: TwilioStandIn, clock: ManualClock) -> None:
    message = whatsapp("Did the officers treat you with respect? Reply YES or NO.", step="q_respect",
                       last_inbound=clock.now() - timedelta(hours=3))
    assert (await edge.whatsapp.send(message)).ok
    assert standin.created[0] == {"To": f"whatsapp:{VICTIM}", "From": WHATSAPP_FROM, "Body": message.text,
                                  "MessagingServiceSid": SERVICE_SID,
                                  "StatusCallback": f"{PUBLIC_URL}/webhooks/twilio/status"}


@pytest.mark.parametrize("last_inbound", [None, timedelta(hours=25), timedelta(hours=23, minutes=55)])
async def test_whatsapp_free_text_outside_the_window_is_refused_before_twilio(
        edge: Edge, standin: TwilioStandIn, clock: ManualClock, last_inbound: timedelta | None) -> None:
    message = whatsapp("Did the officers treat you with respect? Reply YES or NO.", step="q_respect",
                       last_inbound=clock.now() - last_inbound if last_inbound else None)
    result = await edge.whatsapp.send(message)
    assert (result.ok, result.permanent, result.error_code) == (False, True, "whatsapp_window")
    assert "no approved template is configured for flow 'after_attendance' step 'q_respect' in 'en'" in \
        (result.error_reason or "")
    assert standin.created == []


async def test_outside_the_window_the_approved_template_goes(edge: Edge, standin: TwilioStandIn) -> None:
    result = await edge.whatsapp.send(whatsapp())
    assert result.ok
    request = standin.created[0]
    assert request["ContentSid"] == TEMPLATE_SID
    assert json.loads(request["ContentVariables"]) == {"1": "West Midlands Police"}
    assert "Body" not in request


async def test_a_template_language_must_match(edge: Edge, standin: TwilioStandIn) -> None:
    result = await edge.whatsapp.send(whatsapp("Dzień dobry, tu West Midlands Police.", language="pl"))
    assert result.error_code == "whatsapp_window" and "in 'pl'" in (result.error_reason or "")


async def test_choices_go_as_quick_reply_buttons_where_a_template_has_them(
        edge: Edge, standin: TwilioStandIn, clock: ManualClock) -> None:
    choices = (QuickReply("1", "By text"), QuickReply("2", "By phone"), QuickReply("3", "Email"))
    message = whatsapp("How would you like us to keep in touch?\n1 By text\n2 By phone\n3 Email",
                       flow="six_week_checkin", step="q_contact_pref", quick=choices, purpose="prompt",
                       last_inbound=clock.now() - timedelta(minutes=2))
    assert (await edge.whatsapp.send(message)).ok
    assert standin.created[0]["ContentSid"] == BUTTONS_SID
    assert json.loads(standin.created[0]["ContentVariables"]) == {"1": message.text, "2": "By text"}
    # Without such a template, the numbered text (already in the message) goes as it is.
    plain = whatsapp(message.text, flow="six_week_checkin", step="q_other", quick=choices, purpose="prompt",
                     last_inbound=clock.now() - timedelta(minutes=2))
    assert (await edge.whatsapp.send(plain)).ok
    assert standin.created[1]["Body"] == message.text


async def test_a_buttons_template_is_not_used_for_a_message_without_its_choices(
        edge: Edge, standin: TwilioStandIn, clock: ManualClock) -> None:
    text = "How would you like us to keep in touch?\n1 By text\n2 By phone\n3 Email"
    inside = whatsapp(text, flow="six_week_checkin", step="q_contact_pref", purpose="prompt",
                      last_inbound=clock.now() - timedelta(minutes=2))
    assert (await edge.whatsapp.send(inside)).ok
    assert standin.created[0]["Body"] == text, "numbered text, never blank buttons"
    outside = whatsapp(text, flow="six_week_checkin", step="q_contact_pref", purpose="prompt")
    assert (await edge.whatsapp.send(outside)).error_code == "whatsapp_window"


# --- check_sent: after a crash between sending and recording ---------------------------------------------


async def _queued_row(db: Database, message: OutboundMessage, at: datetime, provider_id: str | None = None) -> int:
    async with db.session() as s:
        row = Message(direction="out", channel=message.channel.value, address=str(message.address),
                      text=message.text, status="sending" if provider_id is None else "sent",
                      provider_id=provider_id, created_at=at, updated_at=at)
        s.add(row)
        await s.flush()
        assert row.id is not None
        return row.id


async def test_check_sent_finds_what_twilio_has(make_edge: MakeEdge, database_url: str, standin: TwilioStandIn,
                                                clock: ManualClock) -> None:
    edge = make_edge(database_url)
    await edge.start()
    row = await _queued_row(edge.gateway.db, sms(), clock.now())
    clock.advance(seconds=5)
    sent = await edge.sms.send(sms(message_id=row))
    clock.advance(minutes=3)
    found = await edge.sms.check_sent(sms(message_id=row))
    assert found is not None and found.ok and found.provider_id == sent.provider_id
    assert "DateSent>" in standin.lists[0] and standin.lists[0]["To"] == VICTIM


async def test_check_sent_says_surely_not_when_twilio_has_no_such_message(
        make_edge: MakeEdge, database_url: str, standin: TwilioStandIn, clock: ManualClock) -> None:
    edge = make_edge(database_url)
    await edge.start()
    earlier = sms("Reply YES or NO.")
    previous = await edge.sms.send(earlier)  # the same words, to the same number, for an earlier row…
    await _queued_row(edge.gateway.db, earlier, clock.now(), provider_id=previous.provider_id)
    clock.advance(minutes=1)
    row = await _queued_row(edge.gateway.db, earlier, clock.now())
    found = await edge.sms.check_sent(sms("Reply YES or NO.", message_id=row))
    assert found is not None and not found.ok, "…is not mistaken for this one"


async def test_check_sent_finds_a_message_still_queued_at_twilio(
        make_edge: MakeEdge, database_url: str, standin: TwilioStandIn, clock: ManualClock) -> None:
    standin.keep_queued = True
    edge = make_edge(database_url)
    await edge.start()
    row = await _queued_row(edge.gateway.db, sms(), clock.now())
    sent = await edge.sms.send(sms(message_id=row))
    found = await edge.sms.check_sent(sms(message_id=row))
    assert found is not None and found.ok and found.provider_id == sent.provider_id


async def test_check_sent_cannot_tell_when_twilio_cannot_be_asked(make_edge: MakeEdge, database_url: str,
                                                                  clock: ManualClock) -> None:
    edge = make_edge(database_url, twilio_api_base_url="http://127.0.0.1:9")
    await edge.start()
    row = await _queued_row(edge.gateway.db, sms(), clock.now())
    assert await edge.sms.check_sent(sms(message_id=row)) is None


async def test_check_sent_finds_a_whatsapp_template(make_edge: MakeEdge, database_url: str, standin: TwilioStandIn,
                                                    clock: ManualClock) -> None:
    edge = make_edge(database_url)
    await edge.start()
    row = await _queued_row(edge.gateway.db, whatsapp(), clock.now())
    sent = await edge.whatsapp.send(whatsapp(message_id=row))
    found = await edge.whatsapp.check_sent(whatsapp(message_id=row))
    assert found is not None and found.ok and found.provider_id == sent.provider_id


# --- webhooks, on a small app with only the adapter's routes ---------------------------------------------


@pytest.fixture
async def webhooks(aiohttp_client: Any, edge: Edge) -> TestClient[Any, Any]:
    app = web.Application()
    app.router.add_routes(edge.sms.routes())
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


@pytest.fixture
def twilio(webhooks: TestClient[Any, Any]) -> Twilio:
    return Twilio(webhooks, PUBLIC_URL)


async def test_a_signed_sms_is_accepted_and_answered_with_empty_twiml(twilio: Twilio, edge: Edge) -> None:
    sid = new_sid()
    response = await twilio.sms(VICTIM, "Yes", sid=sid)
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert await response.text() == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    (inbound,) = edge.sink.accepted
    assert (inbound.channel, str(inbound.address), inbound.text, inbound.provider_id, inbound.media_types) == \
        (Channel.SMS, f"tel:{VICTIM}", "Yes", sid, ())


async def test_whatsapp_messages_arrive_on_the_same_webhook(twilio: Twilio, edge: Edge) -> None:
    assert (await twilio.whatsapp(VICTIM, "No")).status == 200
    assert str(edge.sink.accepted[0].address) == f"whatsapp:{VICTIM}"
    assert edge.sink.accepted[0].channel == Channel.WHATSAPP


async def test_a_quick_reply_press_reads_as_its_id(twilio: Twilio, edge: Edge) -> None:
    form = fixture_form("inbound_whatsapp_button")
    assert (await twilio.post("/webhooks/twilio/messages", form)).status == 200
    assert edge.sink.accepted[0].text == "START"


@pytest.mark.parametrize(("fixture", "types"), [("inbound_sms_media", ("audio/amr", "image/jpeg")),
                                                ("inbound_whatsapp_voice", ("audio/ogg",))])
async def test_media_is_passed_on_by_type_with_its_url(twilio: Twilio, edge: Edge, fixture: str,
                                                       types: tuple[str, ...]) -> None:
    form = fixture_form(fixture)
    assert (await twilio.post("/webhooks/twilio/messages", form)).status == 200
    assert edge.sink.accepted[0].media_types == types
    assert edge.sink.accepted[0].media_refs == tuple(form[f"MediaUrl{i}"] for i in range(len(types)))


async def test_a_media_url_that_is_not_https_is_not_kept(twilio: Twilio, edge: Edge) -> None:
    form = fixture_form("inbound_whatsapp_voice", MediaUrl0="javascript:alert(1)")
    assert (await twilio.post("/webhooks/twilio/messages", form)).status == 200
    assert (edge.sink.accepted[0].media_types, edge.sink.accepted[0].media_refs) == (("audio/ogg",), ("",))


async def test_a_twilio_opt_out_keyword_we_do_not_know_is_honoured_first(twilio: Twilio, edge: Edge) -> None:
    response = await twilio.sms(VICTIM, "ARRET", OptOutType="STOP")
    assert response.status == 200
    assert edge.sink.calls == ["provider_opt_out", "accept"]
    assert edge.sink.opted_out == [Address(Channel.SMS, VICTIM)]
    # Our own STOP words need no help: the conversation opts out and confirms once.
    await twilio.sms(VICTIM, "STOP", OptOutType="STOP")
    assert edge.sink.calls[-1] == "accept" and len(edge.sink.opted_out) == 1


async def test_twilio_opt_in_on_yes_does_not_opt_anyone_in(twilio: Twilio, edge: Edge) -> None:
    await twilio.sms(VICTIM, "YES", OptOutType="START")
    assert edge.sink.calls == ["accept"], "YES answers the survey's question; it is never read as START"
    assert edge.sink.accepted[0].text == "YES"


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "forged"])
async def test_a_missing_or_wrong_signature_gets_403_and_nothing_is_stored(
        twilio: Twilio, edge: Edge, signature: str) -> None:
    response = await twilio.post("/webhooks/twilio/messages", fixture_form("inbound_sms"), signature=signature)
    assert response.status == 403
    assert (await response.json())["error"] == "forbidden"
    assert edge.sink.accepted == []


async def test_a_signature_for_another_body_or_url_is_refused(twilio: Twilio, edge: Edge) -> None:
    form = fixture_form("inbound_sms")
    changed = {**form, "Body": "STOP"}
    assert (await twilio.post("/webhooks/twilio/messages", changed,
                              signature=twilio.signature("/webhooks/twilio/messages", form))).status == 403
    assert (await twilio.post("/webhooks/twilio/messages", form,
                              signature=twilio.signature("/webhooks/twilio/status", form))).status == 403
    assert edge.sink.accepted == []


async def test_forged_host_headers_do_not_change_the_url_that_is_checked(twilio: Twilio, edge: Edge) -> None:
    form = fixture_form("inbound_sms")
    attacker = Twilio(twilio.client, "https://attacker.example", auth_token=AUTH_TOKEN)
    forged = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"}
    # Signed for the attacker's URL (as if the token leaked for another site): our URL is what counts.
    response = await twilio.post("/webhooks/twilio/messages", form,
                                 signature=attacker.signature("/webhooks/twilio/messages", form), headers=forged)
    assert response.status == 403
    # Twilio's own signature still passes whatever those headers say.
    assert (await twilio.post("/webhooks/twilio/messages", form, headers=forged)).status == 200


async def test_a_signature_from_another_account_token_is_refused(twilio: Twilio, edge: Edge) -> None:
    other = Twilio(twilio.client, PUBLIC_URL, auth_token="someone-elses-token-0123456789ab")
    assert (await other.post("/webhooks/twilio/messages", fixture_form("inbound_sms"))).status == 403
    signed_other_account = fixture_form("inbound_sms", AccountSid="AC" + "9" * 32)
    assert (await twilio.post("/webhooks/twilio/messages", signed_other_account)).status == 403
    assert edge.sink.accepted == []


async def test_an_oversized_body_gets_413_and_nothing_is_stored(twilio: Twilio, edge: Edge) -> None:
    form = fixture_form("inbound_sms", Body="x" * 70_000)
    response = await twilio.post("/webhooks/twilio/messages", form)
    assert response.status == 413
    assert (await response.json())["error"] == "too_large"
    # Without a Content-Length (chunked), the limit still holds while reading.
    async def chunks() -> AsyncIterator[bytes]:
        body = urlencode(form).encode()
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]
    chunked = await twilio.client.post("/webhooks/twilio/messages", data=chunks(), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio.signature("/webhooks/twilio/messages", form)})
    assert chunked.status == 413
    assert edge.sink.accepted == []


@pytest.mark.parametrize(("change", "error"), [
    ({"MessageSid": ""}, "MessageSid is missing or malformed"),
    ({"MessageSid": "SM123"}, "MessageSid is missing or malformed"),
    ({"From": "someone"}, "From is not a phone number or a whatsapp: address"),
    ({"NumMedia": "many"}, "NumMedia is not a number"),
    ({"NumMedia": "11"}, "NumMedia must be 0 to 10"),
])
async def test_a_signed_but_malformed_message_gets_400_and_nothing_is_stored(
        twilio: Twilio, edge: Edge, change: dict[str, str], error: str) -> None:
    response = await twilio.post("/webhooks/twilio/messages", fixture_form("inbound_sms", **change))
    assert response.status == 400
    assert await response.json() == {"error": "malformed", "message": error}
    assert edge.sink.accepted == []


async def test_a_body_that_is_not_a_form_gets_a_clear_status(twilio: Twilio, edge: Edge) -> None:
    headers = {"X-Twilio-Signature": "c2lnbmF0dXJl"}
    not_utf8 = await twilio.client.post("/webhooks/twilio/messages", data=b"Body=\xff\xfe&From=%2B44",
                                        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert not_utf8.status == 400
    json_body = await twilio.client.post("/webhooks/twilio/messages", data=b'{"Body": "hi"}',
                                         headers={**headers, "Content-Type": "application/json"})
    assert json_body.status == 415
    assert edge.sink.accepted == []


async def test_delivery_reports_are_passed_on_and_failed_addresses_marked(twilio: Twilio, edge: Edge) -> None:
    sid = new_sid()
    assert (await twilio.status(sid, "delivered", VICTIM)).status == 200
    assert (await twilio.status(sid, "read", f"whatsapp:{VICTIM}")).status == 200
    assert (await twilio.status(sid, "undelivered", VICTIM, error_code="30006")).status == 200
    assert (await twilio.status(sid, "queued", VICTIM)).status == 200
    assert edge.sink.statuses == [(Channel.SMS, sid, "delivered", None), (Channel.WHATSAPP, sid, "read", None),
                                  (Channel.SMS, sid, "undelivered", "30006")]
    assert edge.sink.failed == [Address(Channel.SMS, VICTIM)]
    unsigned = await twilio.post("/webhooks/twilio/status", fixture_form("status_sms"), signature="")
    assert unsigned.status == 403 and len(edge.sink.statuses) == 3


async def test_concurrent_webhooks_are_all_answered(twilio: Twilio, edge: Edge) -> None:
    responses = await asyncio.gather(*(twilio.sms(VICTIM, f"reply {n}") for n in range(20)))
    assert [r.status for r in responses] == [200] * 20
    assert len(edge.sink.accepted) == 20


# --- settings and adapters ----------------------------------------------------------------------------------


def test_the_adapters_follow_the_settings(tmp_path: Path) -> None:
    base = twilio_settings(tmp_path, "http://127.0.0.1:9")
    db = Database(base.database_url)
    sink, clock = RecordingSink(), ManualClock()
    assert twilio_adapters(base.replace(twilio_account_sid="", twilio_auth_token=""), db, sink, clock) == []
    both = twilio_adapters(base, db, sink, clock)
    assert [a.channel for a in both] == [Channel.SMS, Channel.WHATSAPP]
    assert len(list(both[0].routes())) == 2 and list(both[1].routes()) == []
    only_whatsapp = twilio_adapters(base.replace(twilio_messaging_service_sid=""), db, sink, clock)
    assert [a.channel for a in only_whatsapp] == [Channel.WHATSAPP]
    assert len(list(only_whatsapp[0].routes())) == 2, "WhatsApp alone serves the webhooks"
    only_sms = twilio_adapters(base.replace(twilio_whatsapp_from=""), db, sink, clock)
    assert [a.channel for a in only_sms] == [Channel.SMS]


@pytest.mark.parametrize(("changes", "message"), [
    ({"twilio_account_sid": "AC123"}, "FEEDBACKBOT_TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"),
    ({"twilio_auth_token": ""}, "FEEDBACKBOT_TWILIO_AUTH_TOKEN is required"),
    ({"twilio_messaging_service_sid": "MG1"}, "FEEDBACKBOT_TWILIO_MESSAGING_SERVICE_SID must be MG"),
    ({"twilio_messaging_service_sid": "", "twilio_from_number": "07700 900999"},
     "FEEDBACKBOT_TWILIO_FROM_NUMBER must be an E.164 number"),
    ({"twilio_whatsapp_from": "whatsapp:07700"}, "FEEDBACKBOT_TWILIO_WHATSAPP_FROM must be whatsapp:+<number>"),
    ({"twilio_messaging_service_sid": "", "twilio_whatsapp_from": ""}, "set FEEDBACKBOT_TWILIO_MESSAGING_SERVICE_SID"),
])
def test_twilio_settings_are_checked_with_the_variable_named(tmp_path: Path, changes: dict[str, str],
                                                             message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        check_settings(twilio_settings(tmp_path, "https://api.twilio.com").replace(**changes))


def test_a_broken_templates_file_stops_start_up_naming_the_line(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    (prompts / "flows").mkdir(parents=True)
    source = Path(__file__).resolve().parents[2] / "prompts"
    for flow in (source / "flows").iterdir():
        (prompts / "flows" / flow.name).write_text(flow.read_text(encoding="utf-8"), encoding="utf-8")
    (prompts / "whatsapp_templates.yaml").write_text(
        "spec: 1\ntemplates:\n  - flow: after_attendance\n    step: intro\n    language: en\n"
        "    content_sid: HX123\n", encoding="utf-8")
    settings = twilio_settings(tmp_path, "https://api.twilio.com", prompts_dir=prompts)
    with pytest.raises(ValueError, match=r"whatsapp_templates.yaml:6: content_sid 'HX123' is not a Twilio Content SID"):
        twilio_adapters(settings, Database(settings.database_url), RecordingSink(), ManualClock())


async def test_the_outside_window_check_uses_the_clock_not_the_wall(edge: Edge, clock: ManualClock) -> None:
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    recent = whatsapp(last_inbound=datetime(2029, 12, 31, 12, tzinfo=UTC))
    assert edge.whatsapp.in_window(recent)
    assert not edge.whatsapp.in_window(whatsapp(last_inbound=datetime(2029, 12, 30, tzinfo=UTC)))


# --- keywords: ours and Twilio's agree -----------------------------------------------------------------------

#: Twilio's default keywords (Messaging > Advanced Opt-Out, "By default, Twilio handles…").
TWILIO_OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")
TWILIO_OPT_IN = ("START", "UNSTOP")


@pytest.mark.parametrize("word", TWILIO_OPT_OUT)
def test_every_twilio_opt_out_word_stops_us_too(word: str) -> None:
    assert parse_keyword(word) is Keyword.STOP
    assert parse_keyword(f" {word.lower()}! ") is Keyword.STOP


@pytest.mark.parametrize("word", TWILIO_OPT_IN)
def test_twilio_opt_in_words_start_us_too(word: str) -> None:
    assert parse_keyword(word) is Keyword.START


def test_yes_stays_an_answer() -> None:
    assert parse_keyword("YES") is None, "Twilio's third opt-in word answers our yes/no questions"
