"""Twilio SMS and WhatsApp: signed webhooks in, the twilio client out, approved templates outside WhatsApp's window.

Both channels share one :class:`TwilioGateway`: the credentials, one HTTP session for the adapter's life and
the two webhooks, ``POST /webhooks/twilio/messages`` (what victims send, SMS and WhatsApp alike) and
``POST /webhooks/twilio/status`` (delivery reports). Each webhook reads the body (at most
``MAX_WEBHOOK_BODY`` bytes), checks ``X-Twilio-Signature`` with the twilio library's validator over
``FEEDBACKBOT_PUBLIC_URL`` and the path Twilio called (never over Host or X-Forwarded-* headers, which a
client chooses), and only then acts on the form. An inbound message is committed through the sink, once
per ``MessageSid``, before Twilio gets its empty TwiML answer.

Sending goes through ``client.messages.create_async`` on the library's ``AsyncTwilioHttpClient`` with the
API's base URL taken from ``FEEDBACKBOT_TWILIO_API_BASE_URL``. Twilio's refusals become a
:class:`SendResult` (see ``_refusal``); an answer lost to a timeout is looked up before the outbox is told to
retry, and :meth:`TwilioGateway.find_sent` settles a send a crash interrupted.

SMS longer than ``FEEDBACKBOT_SMS_MAX_SEGMENTS`` is refused locally (permanent, ``too_long``) rather than
split: one outbox row stays one message with one delivery status, and the flows validator already keeps
survey texts within the budget. WhatsApp free text goes only inside the 24-hour window since the victim's
last message; outside it only a template from ``whatsapp_templates.yaml`` goes, and free text is refused
locally (permanent, ``whatsapp_window``) before Twilio is asked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from multidict import MultiDict
from sqlmodel import col, select
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from ..clock import Clock
from ..flows.keywords import Keyword, parse_keyword
from ..flows.loader import load_flows
from ..messages import Address, Channel, InboundMessage, OutboundMessage, SendResult
from ..settings import Settings, SettingsError
from ..sms import count_segments, non_gsm_characters
from ..store.db import Database
from ..store.tables import Message
from ..twilio_auth import AccountCredentials
from .base import ChannelAdapter, InboundSink
from .whatsapp_templates import Template, Templates, load_templates, uncovered_openings

log = logging.getLogger(__name__)

MESSAGES_PATH = "/webhooks/twilio/messages"
STATUS_PATH = "/webhooks/twilio/status"
#: Twilio's webhook bodies are a few kilobytes; anything much larger is not from Twilio.
MAX_WEBHOOK_BODY = 64 * 1024
MAX_FORM_FIELDS = 200
#: Twilio accepts at most 1,600 characters in a message body.
MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
#: The longest media URL we keep (Twilio\'s are about 150 characters).
MAX_MEDIA_URL = 500
#: How long we wait for Twilio to answer one API request (a send and its lookup stay inside the outbox's 30 s).
API_TIMEOUT = 10.0
#: WhatsApp's customer-service window, less a margin for the time between the victim's message and ours.
WHATSAPP_WINDOW = timedelta(hours=24)
WINDOW_MARGIN = timedelta(minutes=10)
#: Clocks differ: look for an interrupted send from a little before the row was queued.
CLOCK_SKEW = timedelta(minutes=5)
CHECK_PAGES = 5
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
#: Who can text us: E.164 numbers, and short codes (digits only).
_SENDER = re.compile(r"^\+?[0-9]{3,15}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")

#: Delivery reports we record; Twilio's intermediate ones (queued, accepted, sending) change nothing.
REPORTED_STATUSES = frozenset({"sent", "delivered", "read", "failed", "undelivered"})

#: Twilio error codes (https://www.twilio.com/docs/api/errors/<code>) and what each means for the outbox.
OPTED_OUT = {21610: "the recipient replied STOP to our Twilio sender and is unsubscribed there"}
ADDRESS_FAILED = {
    21211: "not a valid phone number",
    21214: "not a phone number that can be reached",
    21614: "not a mobile number, so it cannot receive SMS",
    30005: "unknown or inactive number",
    30006: "a landline or a carrier that cannot receive SMS",
    63003: "no WhatsApp account on this number",
}
TRANSIENT = {
    # Retried, so that once the settings are put right the queued messages go by themselves.
    20003: "Twilio refused our credentials: check FEEDBACKBOT_TWILIO_ACCOUNT_SID and _AUTH_TOKEN",
    20429: "Twilio is limiting our request rate",
    30001: "Twilio's sending queue for our sender is full",
    30003: "the phone is off or out of reach",
    30008: "the carrier did not say why it failed",
    30017: "the carrier network is congested",
    63018: "WhatsApp is limiting our sending rate",
}
PERMANENT = {
    21408: "our account may not send to this country (Twilio geo permissions)",
    21606: "our sender number cannot send this message",
    21617: "the message is over Twilio's 1,600-character limit",
    63016: "outside WhatsApp's 24-hour window: only an approved template may be sent",
    63007: "our WhatsApp sender is not set up at Twilio",
}

# Characters Twilio's "smart encoding" would swap for GSM-7 look-alikes; swapped here, before counting,
# so that a stray curly quote does not double a message's segments (UCS-2) or push it over the budget.
_LOOKALIKES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2026": "...", "\u2022": "-", "\u00b7": "-",
})


class WebhookRefused(Exception):
    """A webhook request we will not act on; ``status`` and ``message`` are the answer."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message

    def response(self) -> web.Response:
        """The JSON error answer."""
        return web.json_response({"error": self.error, "message": self.message}, status=self.status)


def sms_text(text: str) -> str:
    """The text as it goes by SMS: typographic quotes, dashes and spaces as their GSM-7 look-alikes.

    Only when that makes the whole text GSM-7; a text that needs UCS-2 anyway (Polish, Urdu…) is unchanged.
    """
    swapped = text.translate(_LOOKALIKES)
    return swapped if swapped != text and not non_gsm_characters(swapped) else text


def _same_body(sent: str | None, ours: str) -> bool:
    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").strip()
    return sent is not None and norm(sent) == norm(ours)


def _code(exc: Exception) -> int | None:
    raw = getattr(exc, "code", None)
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _refusal(exc: TwilioRestException | TwilioServiceException) -> SendResult:
    """Twilio's refusal as a SendResult: opted out, a failed address, permanent, or worth retrying."""
    status = int(getattr(exc, "status", 0) or 0)
    code = _code(exc)
    label = str(code) if code is not None else f"http_{status}"
    if code in OPTED_OUT:
        return SendResult(ok=False, error_code=label, error_reason=f"{OPTED_OUT[code]} ({code})",
                          permanent=True, opted_out=True)
    if code in ADDRESS_FAILED:
        return SendResult(ok=False, error_code=label, error_reason=f"{ADDRESS_FAILED[code]} ({code})",
                          permanent=True, address_failed=True)
    if code in PERMANENT:
        return SendResult(ok=False, error_code=label, error_reason=f"{PERMANENT[code]} ({code})", permanent=True)
    if code in TRANSIENT:
        return SendResult(ok=False, error_code=label, error_reason=f"{TRANSIENT[code]} ({code})")
    detail = str(getattr(exc, "msg", "") or getattr(exc, "detail", "") or getattr(exc, "title", ""))[:200]
    reason = f"Twilio answered HTTP {status}" + (f" with error {code}" if code is not None else "") + \
        (f": {detail}" if detail else "")
    if status == 429 or status >= 500 or status in {0, 401}:
        return SendResult(ok=False, error_code=label, error_reason=reason)
    # Any other 4xx: the same request would be refused again. Kept, with its reason, for an administrator.
    return SendResult(ok=False, error_code=label, error_reason=reason, permanent=True)


@dataclass(frozen=True)
class _Planned:
    """What to ask Twilio for one message, decided before any request."""

    to: str
    params: Mapping[str, str]
    body: str | None
    template: Template | None = None


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, or WebhookRefused(413) as soon as it passes ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise WebhookRefused(413, "too_large", f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(16 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise WebhookRefused(413, "too_large", f"the body is over {limit} bytes")
        chunks.append(chunk)


def _form(raw: bytes) -> MultiDict[str]:
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise WebhookRefused(400, "malformed", "the body is not a URL-encoded form") from None
    return MultiDict(pairs)


def _field(form: MultiDict[str], name: str, pattern: re.Pattern[str] | None = None) -> str:
    value = form.get(name, "").strip()
    if not value or (pattern is not None and not pattern.match(value)):
        raise WebhookRefused(400, "malformed", f"{name} is missing or malformed")
    return value


def _media_url(raw: str) -> str:
    """Twilio's URL for a media item (fetched with the account's credentials), or "" if it is not one."""
    url = raw.strip()
    return url if url.startswith("https://") and len(url) <= MAX_MEDIA_URL and url.isprintable() else ""


def _sender_address(raw: str) -> Address:
    """``+447700900001`` → ``tel:+447700900001``; ``whatsapp:+447700900001`` → ``whatsapp:+447700900001``."""
    scheme, sep, number = raw.partition(":")
    if sep and scheme.lower() == "whatsapp" and _E164.match(number):
        return Address(Channel.WHATSAPP, number)
    if not sep and _SENDER.match(raw):
        return Address(Channel.SMS, raw)
    raise WebhookRefused(400, "malformed", "From is not a phone number or a whatsapp: address")


class TwilioGateway:
    """What SMS and WhatsApp share: the credentials, one HTTP session, the webhooks and the lookups."""

    def __init__(self, settings: Settings, db: Database, sink: InboundSink, clock: Clock,
                 templates: Templates | None = None) -> None:
        self.settings = settings
        self.db = db
        self.sink = sink
        self.clock = clock
        self.templates = templates or Templates()
        self.account_sid = settings.twilio_account_sid
        self.public_url = settings.public_url.rstrip("/")
        self.status_url = self.public_url + STATUS_PATH
        self.validator = RequestValidator(settings.twilio_auth_token)
        self.timeout = API_TIMEOUT
        self._client: Any = None
        self._http: Any = None
        self._users = 0
        # The library logs each request's URL and query (a victim's number) at INFO: keep it quiet.
        self._library_log = logging.Logger("feedbackbot.channels.twilio.library", logging.WARNING)

    # --- life ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the one HTTP session (SMS and WhatsApp each call this; the first opens it)."""
        self._users += 1
        if self._client is not None:
            return
        self._http = AsyncTwilioHttpClient(pool_connections=True, timeout=self.timeout, logger=self._library_log)
        client = Client(self.account_sid, self.settings.twilio_auth_token, http_client=self._http,
                        credential_provider=AccountCredentials(self.account_sid, self.settings.twilio_auth_token),
                        # Only what we pass: never TWILIO_* variables from the environment.
                        environment={"TWILIO_ACCOUNT_SID": self.account_sid})
        client.edge = client.region = None
        client.api.base_url = self.settings.twilio_api_base_url.rstrip("/")
        self._client = client

    async def stop(self) -> None:
        """Close the session when its last user stops."""
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._http is not None:
            http, self._http, self._client = self._http, None, None
            await http.close()

    @property
    def messages(self) -> Any:
        """The library's Messages resource for our account."""
        if self._client is None:
            raise RuntimeError("the Twilio channel is not started (start() opens its HTTP session)")
        return self._client.api.v2010.account.messages

    # --- webhooks --------------------------------------------------------------------------------

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """Inbound messages (SMS and WhatsApp) and delivery reports."""
        return [
            web.post(MESSAGES_PATH, self.inbound_webhook, name="twilio_messages"),
            web.post(STATUS_PATH, self.status_webhook, name="twilio_status"),
        ]

    async def _verified(self, request: web.Request) -> MultiDict[str]:
        """The form Twilio posted, once its size, its signature and its account are checked."""
        raw = await _read_body(request, MAX_WEBHOOK_BODY)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise WebhookRefused(403, "forbidden", "X-Twilio-Signature is missing")
        if request.content_type != "application/x-www-form-urlencoded":
            raise WebhookRefused(415, "unsupported_media_type",
                                 "Twilio posts application/x-www-form-urlencoded")
        form = _form(raw)
        # The URL Twilio called is ours to know: the public URL and the path (with any query) it asked for.
        url = self.public_url + request.raw_path
        if not self.validator.validate(url, form, signature):
            raise WebhookRefused(403, "forbidden", "X-Twilio-Signature does not match")
        if form.get("AccountSid", self.account_sid) != self.account_sid:
            raise WebhookRefused(403, "forbidden", "the request is for another Twilio account")
        return form

    async def inbound_webhook(self, request: web.Request) -> web.StreamResponse:
        """A victim's SMS or WhatsApp message: verify, commit once per MessageSid, then answer empty TwiML."""
        try:
            form = await self._verified(request)
            inbound, provider_stop = self._inbound(form)
        except WebhookRefused as refused:
            log.info("twilio: inbound webhook refused with %s (%s)", refused.status, refused.error)
            return refused.response()
        if provider_stop:
            # Twilio has already unsubscribed this sender (a keyword configured in Advanced Opt-Out).
            await self.sink.provider_opt_out(inbound.address, "Twilio opt-out keyword (OptOutType=STOP)")
        accepted = await self.sink.accept(inbound)
        log.info("twilio: inbound %s on %s stored as message %s%s", inbound.provider_id, inbound.channel.name,
                 accepted.message_id, "" if accepted.new else " (repeat delivery)")
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    def _inbound(self, form: MultiDict[str]) -> tuple[InboundMessage, bool]:
        sid = _field(form, "MessageSid", _SID)
        address = _sender_address(_field(form, "From"))
        try:
            media_count = int(form.get("NumMedia", "0") or "0")
        except ValueError:
            raise WebhookRefused(400, "malformed", "NumMedia is not a number") from None
        if not 0 <= media_count <= MAX_MEDIA:
            raise WebhookRefused(400, "malformed", f"NumMedia must be 0 to {MAX_MEDIA}")
        media = [form.get(f"MediaContentType{i}", "").strip() or "application/octet-stream"
                 for i in range(media_count)]
        refs = [_media_url(form.get(f"MediaUrl{i}", "")) for i in range(media_count)]
        if form.get("MessageType") == "location" or ("Latitude" in form and "Longitude" in form):
            media.append("location")
            refs.append("")
        # A quick-reply button press: its id is what the victim would have typed ("1", "START"…).
        text = form.get("ButtonPayload", "").strip() or form.get("Body", "")
        provider_stop = form.get("OptOutType", "").upper() == "STOP" and parse_keyword(text) is not Keyword.STOP
        inbound = InboundMessage(channel=address.channel, address=address, text=text, provider_id=sid,
                                 received_at=self.clock.now(), media_types=tuple(media), media_refs=tuple(refs))
        return inbound, provider_stop

    async def status_webhook(self, request: web.Request) -> web.StreamResponse:
        """A delivery report: recorded (never moving a message backwards); failed addresses are marked."""
        try:
            form = await self._verified(request)
            sid = _field(form, "MessageSid", _SID)
            status = _field(form, "MessageStatus").lower()
            recipient = _field(form, "To")
        except WebhookRefused as refused:
            log.info("twilio: status webhook refused with %s (%s)", refused.status, refused.error)
            return refused.response()
        if status not in REPORTED_STATUSES:
            return web.Response(text=EMPTY_TWIML, content_type="text/xml")
        channel = Channel.WHATSAPP if recipient.lower().startswith("whatsapp:") else Channel.SMS
        code_text = form.get("ErrorCode", "").strip()
        code = int(code_text) if code_text.isdigit() else None
        reason = None
        if code is not None:
            described = {**OPTED_OUT, **ADDRESS_FAILED, **TRANSIENT, **PERMANENT}.get(code)
            reason = f"{described} ({code})" if described else f"Twilio error {code}"
        known = await self.sink.delivery_status(channel, sid, status, at=self.clock.now(),
                                                error_code=str(code) if code is not None else None,
                                                error_reason=reason)
        if known and status in {"failed", "undelivered"} and code is not None:
            number = recipient.partition(":")[2] if channel == Channel.WHATSAPP else recipient
            if code in OPTED_OUT:
                await self.sink.provider_opt_out(Address(channel, number), reason or "")
            elif code in ADDRESS_FAILED:
                await self.sink.address_failed(Address(channel, number), reason or "")
        log.info("twilio: status %s for %s%s%s", status, sid, f" ({code})" if code else "",
                 "" if known else " (not one of ours)")
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    # --- sending ---------------------------------------------------------------------------------

    def sender(self, channel: Channel) -> dict[str, str]:
        """``messaging_service_sid`` and/or ``from_`` for a channel, per settings."""
        params: dict[str, str] = {}
        if self.settings.twilio_messaging_service_sid:
            params["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        if channel == Channel.WHATSAPP:
            params["from_"] = whatsapp_address(self.settings.twilio_whatsapp_from)
        elif self.settings.twilio_from_number:
            params["from_"] = self.settings.twilio_from_number
        return params

    async def create(self, message: OutboundMessage, planned: _Planned) -> SendResult:
        """Ask Twilio to send; a refusal becomes a SendResult, a lost answer is looked up first."""
        try:
            async with asyncio.timeout(self.timeout):
                created = await self.messages.create_async(to=planned.to, status_callback=self.status_url,
                                                           **planned.params)
        except (TwilioRestException, TwilioServiceException) as exc:
            result = _refusal(exc)
            log.info("twilio: message %s refused: %s", message.id, result.error_code)
            return result
        except (TimeoutError, aiohttp.ClientError, TwilioException) as exc:
            # Twilio may have the message even though its answer never came: look before asking for a retry.
            what = "timeout" if isinstance(exc, TimeoutError) else "network"
            found = await self._lookup_quietly(message, planned)
            if found is not None and found.ok:
                return found
            return SendResult(ok=False, error_code=what,
                              error_reason=f"no answer from Twilio ({type(exc).__name__}); not found there either")
        return SendResult(ok=True, provider_id=str(created.sid), status="sent")

    async def _lookup_quietly(self, message: OutboundMessage, planned: _Planned) -> SendResult | None:
        try:
            async with asyncio.timeout(self.timeout):
                return await self.find_sent(message, planned)
        except (TimeoutError, aiohttp.ClientError, TwilioException):
            return None

    async def _queued_at(self, message_id: int) -> datetime | None:
        async with self.db.session() as s:
            return (await s.exec(select(Message.created_at).where(Message.id == message_id))).first()

    async def _known_sids(self, channel: Channel, address: str, since: datetime) -> set[str]:
        async with self.db.session() as s:
            rows = (await s.exec(select(Message.provider_id).where(
                Message.direction == "out", Message.channel == channel.value, Message.address == address,
                col(Message.provider_id).is_not(None), col(Message.created_at) >= since))).all()
        return {r for r in rows if r}

    async def find_sent(self, message: OutboundMessage, planned: _Planned) -> SendResult:
        """Whether Twilio has this message: one sent to the same number since we queued it, with our text
        (any text, for a template), whose sid no other message of ours has. Raises if Twilio cannot answer.
        """
        queued = await self._queued_at(message.id) or self.clock.now() - timedelta(days=1)
        since = queued.astimezone(UTC) - CLOCK_SKEW
        known = await self._known_sids(message.channel, str(message.address), since)

        def ours(record: Any) -> bool:
            if str(record.sid) in known or not str(getattr(record, "direction", "outbound")).startswith("outbound"):
                return False
            return planned.body is None or _same_body(record.body, planned.body)

        page = await self.messages.page_async(to=planned.to, date_sent_after=since, page_size=50)
        for _ in range(CHECK_PAGES):
            for record in page:
                if ours(record):
                    return SendResult(ok=True, provider_id=str(record.sid), status="sent")
            page = await page.next_page_async()
            if page is None:
                break
        # Still queued at Twilio (not sent yet, so no DateSent): the newest page, filtered by recipient only.
        for record in await self.messages.page_async(to=planned.to, page_size=50):
            created = record.date_created
            if record.date_sent is None and (created is None or created >= since) and ours(record):
                return SendResult(ok=True, provider_id=str(record.sid), status="sent")
        return SendResult(ok=False, error_code="not_found",
                          error_reason="Twilio has no message with this text to this number since it was queued")

    async def check_sent(self, message: OutboundMessage, plans: list[_Planned]) -> SendResult | None:
        """For the outbox after a crash: found (as any of ``plans``), surely not there, or None when Twilio
        cannot be asked.
        """
        if self._client is None:
            return None
        missing: SendResult | None = None
        for plan in plans:
            try:
                async with asyncio.timeout(self.timeout):
                    found = await self.find_sent(message, plan)
            except (TimeoutError, aiohttp.ClientError, TwilioException):
                log.info("twilio: could not check message %s at Twilio", message.id)
                return None
            if found.ok:
                return found
            missing = found
        return missing


def whatsapp_address(number: str) -> str:
    """``+447700900001`` or ``whatsapp:+447700900001`` → ``whatsapp:+447700900001``."""
    number = number.strip()
    return number if number.lower().startswith("whatsapp:") else f"whatsapp:{number}"


def _refused(code: str, reason: str, *, address_failed: bool = False) -> SendResult:
    return SendResult(ok=False, error_code=code, error_reason=reason, permanent=True, address_failed=address_failed)


class TwilioSmsChannel:
    """SMS through Twilio: a Messaging Service or a sender number, texts kept within the segment budget."""

    channel = Channel.SMS

    def __init__(self, gateway: TwilioGateway, max_segments: int, *, serves_webhooks: bool = True) -> None:
        self.gateway = gateway
        self.max_segments = max_segments
        self.serves_webhooks = serves_webhooks

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """Both Twilio webhooks (WhatsApp's messages arrive there too)."""
        return self.gateway.routes() if self.serves_webhooks else []

    def plan(self, message: OutboundMessage) -> _Planned | SendResult:
        """The request for one SMS, or the reason it cannot go (not a number, over the segment budget)."""
        number = message.address.path
        if not _E164.match(number):
            return _refused("invalid_number", "the address is not an E.164 phone number", address_failed=True)
        body = sms_text(message.text)
        if not body.strip():
            return _refused("empty", "the message is empty")
        count = count_segments(body)
        if count.segments > self.max_segments or len(body) > MAX_BODY_CHARS:
            return _refused("too_long", f"{count.segments} SMS segments ({count.encoding}, {count.units} "
                                        f"characters); the budget is {self.max_segments} "
                                        "(FEEDBACKBOT_SMS_MAX_SEGMENTS): shorten the text")
        return _Planned(to=number, params={**self.gateway.sender(Channel.SMS), "body": body}, body=body)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one SMS; a refusal, local or Twilio's, comes back as a SendResult."""
        planned = self.plan(message)
        if isinstance(planned, SendResult):
            return planned
        return await self.gateway.create(message, planned)

    async def check_sent(self, message: OutboundMessage) -> SendResult | None:
        """Look the message up at Twilio (by recipient, date sent and text) after an interrupted send."""
        planned = self.plan(message)
        if isinstance(planned, SendResult):
            return SendResult(ok=False, error_code="not_sent", error_reason="it could never have been sent")
        return await self.gateway.check_sent(message, [planned])

    async def start(self) -> None:
        """Open the shared HTTP session."""
        await self.gateway.start()

    async def stop(self) -> None:
        """Close it."""
        await self.gateway.stop()


class TwilioWhatsAppChannel:
    """WhatsApp through Twilio: free text in the 24-hour window, an approved template outside it."""

    channel = Channel.WHATSAPP

    def __init__(self, gateway: TwilioGateway, templates: Templates, *, serves_webhooks: bool = False) -> None:
        self.gateway = gateway
        self.templates = templates
        self.serves_webhooks = serves_webhooks

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """The Twilio webhooks when SMS is not configured; otherwise the SMS adapter serves them for both."""
        return self.gateway.routes() if self.serves_webhooks else []

    def in_window(self, message: OutboundMessage) -> bool:
        """Whether the victim wrote to us recently enough for free text (24 hours, less a margin)."""
        last = message.last_inbound_at
        return last is not None and self.gateway.clock.now() - last < WHATSAPP_WINDOW - WINDOW_MARGIN

    def template_for(self, message: OutboundMessage) -> Template | None:
        """The approved template configured for this message's flow and step (or purpose) and language."""
        return self.templates.find(flow=message.flow_id, step=message.step_id, purpose=message.purpose,
                                   language=message.language)

    def plan(self, message: OutboundMessage, *, inside: bool | None = None) -> _Planned | SendResult:
        """Template or free text, or the reason neither may go; decided before Twilio is asked."""
        number = message.address.path
        if not _E164.match(number):
            return _refused("invalid_number", "the address is not an E.164 phone number", address_failed=True)
        inside = self.in_window(message) if inside is None else inside
        template = self.template_for(message)
        to = whatsapp_address(number)
        sender = self.gateway.sender(Channel.WHATSAPP)
        values = None
        if template is not None:
            values = template.values(force_name=self.gateway.settings.force_name, text=message.text,
                                     choices=[q.label for q in message.quick_replies])
            if values is None:
                # The template shows choices this message does not carry: never send blank buttons.
                log.warning("twilio: message %s lacks the choices template line %s shows; not using it",
                            message.id, template.line)
                template = None
        # A template with quick-reply buttons is used in the window too: buttons beat numbered text.
        if template is not None and values is not None and (not inside or template.buttons):
            params = {**sender, "content_sid": template.content_sid}
            if values:
                params["content_variables"] = json.dumps(values, ensure_ascii=False)
            return _Planned(to=to, params=params, body=None, template=template)
        if not inside:
            where = f"flow '{message.flow_id}' step '{message.step_id}'" if message.step_id else \
                f"'{message.purpose}' messages"
            return _refused("whatsapp_window",
                            "outside WhatsApp's 24-hour window since the victim last wrote, and no approved template "
                            f"is configured for {where} in '{message.language}' ({self.templates.source})")
        if not message.text.strip():
            return _refused("empty", "the message is empty")
        if len(message.text) > MAX_BODY_CHARS:
            return _refused("too_long", f"{len(message.text)} characters; Twilio takes at most {MAX_BODY_CHARS}")
        return _Planned(to=to, params={**sender, "body": message.text}, body=message.text)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one WhatsApp message; free text outside the window is refused here, never sent."""
        planned = self.plan(message)
        if isinstance(planned, SendResult):
            return planned
        return await self.gateway.create(message, planned)

    async def check_sent(self, message: OutboundMessage) -> SendResult | None:
        """Look the message up at Twilio: as free text, or as its template (the window may have closed since)."""
        plans = [p for p in (self.plan(message, inside=True), self.plan(message, inside=False))
                 if isinstance(p, _Planned)]
        if not plans:
            return SendResult(ok=False, error_code="not_sent", error_reason="it could never have been sent")
        return await self.gateway.check_sent(message, plans)

    async def start(self) -> None:
        """Open the shared HTTP session."""
        await self.gateway.start()

    async def stop(self) -> None:
        """Close it."""
        await self.gateway.stop()


def check_settings(settings: Settings) -> None:
    """SettingsError naming the variable when the Twilio settings cannot work together."""
    prefix = "FEEDBACKBOT_TWILIO_"
    if not _ACCOUNT_SID.match(settings.twilio_account_sid):
        raise SettingsError(f"{prefix}ACCOUNT_SID must be AC followed by 32 hex digits")
    if not settings.twilio_auth_token:
        raise SettingsError(f"{prefix}AUTH_TOKEN is required with {prefix}ACCOUNT_SID")
    service = settings.twilio_messaging_service_sid
    if service and not _SERVICE_SID.match(service):
        raise SettingsError(f"{prefix}MESSAGING_SERVICE_SID must be MG followed by 32 hex digits")
    sender = settings.twilio_from_number
    if sender and not (_E164.match(sender) or _ALPHANUMERIC_SENDER.match(sender)):
        raise SettingsError(f"{prefix}FROM_NUMBER must be an E.164 number such as +447700900000")
    whatsapp = settings.twilio_whatsapp_from
    if whatsapp and not _E164.match(whatsapp.removeprefix("whatsapp:")):
        raise SettingsError(f"{prefix}WHATSAPP_FROM must be whatsapp:+<number>, e.g. whatsapp:+447700900000")
    if not (service or sender or whatsapp):
        raise SettingsError(f"set {prefix}MESSAGING_SERVICE_SID or {prefix}FROM_NUMBER (SMS), or "
                            f"{prefix}WHATSAPP_FROM (WhatsApp)")
    if not settings.twilio_api_base_url.startswith(("https://", "http://")):
        raise SettingsError(f"{prefix}API_BASE_URL must be an http(s) URL")


def templates_path(settings: Settings) -> Path:
    """The WhatsApp templates file: FEEDBACKBOT_TWILIO_WHATSAPP_TEMPLATES, or prompts/whatsapp_templates.yaml."""
    configured = settings.twilio_whatsapp_templates
    return Path(configured) if configured else settings.prompts_dir / "whatsapp_templates.yaml"


def twilio_adapters(settings: Settings, db: Database, sink: InboundSink, clock: Clock) -> list[ChannelAdapter]:
    """SMS and/or WhatsApp adapters when the Twilio account is configured (none otherwise).

    SMS is live with a Messaging Service or a sender number, WhatsApp with a WhatsApp sender. The templates
    file is read and checked against the flows here, at start-up; a flow whose opening message has no
    template cannot invite anyone by WhatsApp, which is logged as a warning.
    """
    if not settings.twilio_account_sid and not settings.twilio_auth_token:
        return []
    check_settings(settings)
    templates = Templates()
    if settings.twilio_whatsapp_from:
        flows = {fid: loaded.flow for fid, loaded in load_flows(settings.flows_dir, max_segments=1000).items()}
        templates = load_templates(templates_path(settings), flows)
        missing = uncovered_openings(templates, flows)
        if missing:
            log.warning("twilio: no WhatsApp template for the opening message of %s: WhatsApp invitations "
                        "for those cannot be sent (%s)", ", ".join(missing), templates.source)
    gateway = TwilioGateway(settings, db, sink, clock, templates)
    adapters: list[ChannelAdapter] = []
    sms = bool(settings.twilio_messaging_service_sid or settings.twilio_from_number)
    if sms:
        adapters.append(TwilioSmsChannel(gateway, settings.sms_max_segments))
    if settings.twilio_whatsapp_from:
        adapters.append(TwilioWhatsAppChannel(gateway, templates, serves_webhooks=not sms))
    return adapters
