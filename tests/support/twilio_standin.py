"""A local server that speaks Twilio's Messages resource, and a helper that signs webhooks as Twilio does.

``TwilioStandIn`` answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` the way api.twilio.com does (201
with the Message resource JSON, or an error body with Twilio's ``code``, ``message``, ``more_info`` and
``status``), lists messages on ``GET`` with Twilio's ``To``/``From``/``DateSent`` filters and paging, and
checks HTTP Basic auth. Tests script failures (``script``, ``refuse``), hold a request open to stand for a
lost answer (``Hang``), and read every create request back (``created``). It binds to 127.0.0.1 only.

``Twilio`` signs form posts with the real ``twilio.request_validator.RequestValidator`` and posts them to our
webhooks, as Twilio would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from feedbackbot.sms import count_segments

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SERVICE_SID = "MG" + "fedcba9876543210" * 2
FROM_NUMBER = "+447700900999"
WHATSAPP_FROM = "whatsapp:+447700900998"
API_VERSION = "2010-04-01"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"



def new_sid(prefix: str = "SM") -> str:
    """A sid in Twilio's shape: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def rfc2822(when: datetime | None) -> str | None:
    """Twilio's date format, e.g. ``Tue, 10 Mar 2026 10:00:00 +0000``."""
    return format_datetime(when.astimezone(UTC)) if when is not None else None


def _parse_date(raw: str) -> datetime:
    text = raw.strip().rstrip("Z")
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Refusal:
    """An error answer: HTTP status, Twilio error code and message."""

    status: int
    code: int
    message: str

    def response(self) -> web.Response:
        """The JSON body Twilio sends with an error."""
        return web.json_response({"code": self.code, "message": self.message, "status": self.status,
                                  "more_info": f"https://www.twilio.com/docs/errors/{self.code}"},
                                 status=self.status)


@dataclass(frozen=True)
class Hang:
    """Take the request (storing the message when ``store``), then never answer: the answer is lost."""

    store: bool = True


UNSUBSCRIBED = Refusal(400, 21610, "Attempt to send to unsubscribed recipient")
LANDLINE = Refusal(400, 21614, "'To' number is not a valid mobile number")
OUTSIDE_WINDOW = Refusal(400, 63016, "Failed to send freeform message because you are outside the allowed window. "
                                     "If you are using WhatsApp, please use a Message Template.")
SERVER_ERROR = Refusal(500, 20500, "Internal Server Error")
UNREACHABLE = Refusal(400, 30003, "Unreachable destination handset")


@dataclass
class StoredMessage:
    """One Message resource as the stand-in keeps it."""

    sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: datetime
    date_sent: datetime | None
    params: Mapping[str, str]
    messaging_service_sid: str | None = None
    direction: str = "outbound-api"

    def resource(self) -> dict[str, Any]:
        """The JSON Twilio returns for a Message."""
        segments = count_segments(self.body).segments
        uri = f"/{API_VERSION}/Accounts/{ACCOUNT_SID}/Messages/{self.sid}"
        return {
            "account_sid": ACCOUNT_SID, "api_version": API_VERSION, "body": self.body,
            "date_created": rfc2822(self.date_created), "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_sent or self.date_created), "direction": self.direction,
            "error_code": None, "error_message": None, "from": self.from_, "messaging_service_sid":
            self.messaging_service_sid, "num_media": "0", "num_segments": str(segments), "price": None,
            "price_unit": "GBP", "sid": self.sid, "status": self.status, "to": self.to,
            "subresource_uris": {"media": f"{uri}/Media.json"}, "uri": f"{uri}.json",
        }


@dataclass
class TwilioStandIn:
    """Twilio's Messages resource on 127.0.0.1, with scripted answers.

    ``clock`` dates the messages (the tests' manual clock, so that date filters agree with the app's time).
    Messages are "sent" at once (they get a DateSent) unless ``keep_queued`` is set.
    """

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    keep_queued: bool = False
    url: str = ""
    messages: list[StoredMessage] = field(default_factory=list)
    created: list[dict[str, str]] = field(default_factory=list)
    #: When each create request arrived (time.monotonic()), for benchmarks.
    arrivals: list[float] = field(default_factory=list)
    lists: list[dict[str, str]] = field(default_factory=list)
    received: asyncio.Event = field(default_factory=asyncio.Event)
    _script: list[Refusal | Hang] = field(default_factory=list)
    _refused_numbers: dict[str, Refusal] = field(default_factory=dict)
    _hanging: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def app(self) -> web.Application:
        """The aiohttp application (for the ``aiohttp_server`` fixture, or ``start``)."""
        app = web.Application()
        base = f"/{API_VERSION}/Accounts/{{account}}/Messages"
        app.router.add_post(base + ".json", self._create)
        app.router.add_get(base + ".json", self._list)
        app.router.add_get(base + "/{sid}.json", self._fetch)
        return app

    async def start(self) -> str:
        """Serve on 127.0.0.1 at a free port (outside pytest); returns the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        """Stop serving (and let any hanging request go)."""
        self._hanging.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- scripting -----------------------------------------------------------------------------------

    def script(self, *answers: Refusal | Hang) -> None:
        """Answer the next create requests with these, in order (then normally again)."""
        self._script.extend(answers)

    def refuse(self, to: str, refusal: Refusal) -> None:
        """Refuse every message to ``to`` (e.g. 21610 for a victim who texted STOP to our number)."""
        self._refused_numbers[to] = refusal

    def release(self) -> None:
        """Let hanging requests finish (with a 500, as their client has long gone)."""
        self._hanging.set()

    def sent_to(self, to: str) -> list[StoredMessage]:
        """Messages created for one recipient, oldest first."""
        return [m for m in self.messages if m.to == to]

    # --- handlers ------------------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization", "") == f"Basic {expected}" \
            and request.match_info["account"] == self.account_sid

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return Refusal(401, 20003, "Authenticate").response()
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.created.append(form)
        self.arrivals.append(time.monotonic())
        self.received.set()
        to = form.get("To", "")
        if not to:
            return Refusal(400, 21604, "A 'To' phone number is required.").response()
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return Refusal(400, 21603, "A 'From' phone number is required.").response()
        if not form.get("Body") and not form.get("ContentSid"):
            return Refusal(400, 21602, "Message body is required.").response()
        if to in self._refused_numbers:
            return self._refused_numbers[to].response()
        answer = self._script.pop(0) if self._script else None
        if isinstance(answer, Refusal):
            return answer.response()
        stored = self._store(form)
        if isinstance(answer, Hang):
            if not answer.store:
                self.messages.remove(stored)
            await self._hanging.wait()
            return Refusal(500, 20500, "Internal Server Error").response()
        queued = stored.resource()
        queued.update(status="accepted" if stored.messaging_service_sid else "queued", date_sent=None)
        return web.json_response(queued, status=201)

    def _store(self, form: Mapping[str, str]) -> StoredMessage:
        now = self.clock()
        body = form.get("Body", "")
        if form.get("ContentSid"):
            variables = json.loads(form.get("ContentVariables", "{}") or "{}")
            body = f"[template {form['ContentSid']}] " + " | ".join(f"{k}={v}" for k, v in sorted(variables.items()))
        stored = StoredMessage(
            sid=new_sid("SM" if not form.get("ContentSid") else "MM"), to=form["To"],
            from_=form.get("From", FROM_NUMBER), body=body, status="queued" if self.keep_queued else "sent",
            date_created=now, date_sent=None if self.keep_queued else now, params=dict(form),
            messaging_service_sid=form.get("MessagingServiceSid"),
        )
        self.messages.append(stored)
        return stored

    async def _fetch(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return Refusal(401, 20003, "Authenticate").response()
        for message in self.messages:
            if message.sid == request.match_info["sid"]:
                return web.json_response(message.resource())
        return Refusal(404, 20404, "The requested resource was not found").response()

    async def _list(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return Refusal(401, 20003, "Authenticate").response()
        query = dict(request.query)
        self.lists.append(query)
        found = list(self.messages)
        if "To" in query:
            found = [m for m in found if m.to == query["To"]]
        if "From" in query:
            found = [m for m in found if m.from_ == query["From"]]
        if "DateSent>" in query:
            after = _parse_date(query["DateSent>"])
            found = [m for m in found if m.date_sent is not None and m.date_sent >= after]
        if "DateSent<" in query:
            before = _parse_date(query["DateSent<"])
            found = [m for m in found if m.date_sent is not None and m.date_sent <= before]
        if "DateSent" in query:
            day = _parse_date(query["DateSent"]).date()
            found = [m for m in found if m.date_sent is not None and m.date_sent.date() == day]
        # Newest first; messages not sent yet (no DateSent) first of all, as Twilio lists them.
        found.sort(key=lambda m: (m.date_sent is None, m.date_sent or m.date_created, m.date_created), reverse=True)
        size = max(1, min(1000, int(query.get("PageSize", "50"))))
        page = int(query.get("Page", "0"))
        chunk = found[page * size:(page + 1) * size]
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        params = {k: v for k, v in query.items() if k not in {"Page", "PageToken"}}

        def page_uri(n: int) -> str:
            return f"{base}?{urlencode({**params, 'Page': n, 'PageToken': f'PA{n}'})}"

        more = (page + 1) * size < len(found)
        return web.json_response({
            "messages": [m.resource() for m in chunk], "page": page, "page_size": size,
            "start": page * size, "end": page * size + max(0, len(chunk) - 1),
            "uri": f"{base}?{urlencode(query)}", "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        })


# --- webhooks, signed as Twilio signs them ---------------------------------------------------------------


def fixture_form(name: str, **changes: str) -> dict[str, str]:
    """A webhook payload from tests/fixtures/twilio/<name>.json, with some fields changed."""
    data: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


class Twilio:
    """Posts webhooks to our app signed with the auth token, over the public URL Twilio would have called."""

    def __init__(self, client: TestClient[Any, Any], public_url: str, auth_token: str = AUTH_TOKEN) -> None:
        self.client = client
        self.public_url = public_url.rstrip("/")
        self.validator = RequestValidator(auth_token)

    def signature(self, path: str, form: Mapping[str, str]) -> str:
        """X-Twilio-Signature for a form posted to ``path``."""
        return str(self.validator.compute_signature(self.public_url + path, dict(form)))

    async def post(self, path: str, form: Mapping[str, str], *, signature: str | None = None,
                   headers: Mapping[str, str] | None = None) -> Any:
        """POST the form, signed (or with the given signature; ``""`` sends none)."""
        sig = self.signature(path, form) if signature is None else signature
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        if sig:
            all_headers["X-Twilio-Signature"] = sig
        return await self.client.post(path, data=urlencode(form).encode(), headers=all_headers)

    async def sms(self, sender: str, text: str, *, sid: str | None = None, **extra: str) -> Any:
        """A victim's SMS to our number."""
        form = fixture_form("inbound_sms", From=sender, Body=text, **extra)
        form["MessageSid"] = form["SmsSid"] = form["SmsMessageSid"] = sid or new_sid()
        return await self.post("/webhooks/twilio/messages", form)

    async def whatsapp(self, sender: str, text: str, *, sid: str | None = None, **extra: str) -> Any:
        """A victim's WhatsApp message (``sender`` is the E.164 number)."""
        form = fixture_form("inbound_whatsapp", From=f"whatsapp:{sender}", WaId=sender.lstrip("+"), Body=text,
                            **extra)
        form["MessageSid"] = form["SmsSid"] = form["SmsMessageSid"] = sid or new_sid()
        return await self.post("/webhooks/twilio/messages", form)

    async def status(self, sid: str, status: str, to: str, *, error_code: str | None = None) -> Any:
        """A delivery report for one of our messages."""
        form = fixture_form("status_whatsapp" if to.startswith("whatsapp:") else "status_sms",
                            MessageSid=sid, SmsSid=sid, MessageStatus=status, SmsStatus=status, To=to)
        if error_code is not None:
            form["ErrorCode"] = error_code
        return await self.post("/webhooks/twilio/status", form)
