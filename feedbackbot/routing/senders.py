"""How staff notices leave: email over SMTP, SMS through Twilio, and a signed JSON webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

import aiohttp
import aiosmtplib
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from ..settings import Settings
from ..twilio_auth import AccountCredentials
from .notify import Notice

log = logging.getLogger(__name__)
TIMEOUT = 20.0
SIGNATURE_HEADER = "X-Feedbackbot-Signature"
TIMESTAMP_HEADER = "X-Feedbackbot-Timestamp"


@dataclass(frozen=True)
class Sent:
    """The outcome of one send: ok, or why not and whether trying again could help."""

    ok: bool
    reason: str | None = None
    permanent: bool = False


class Sender(Protocol):
    """Sends one notice to one recipient on one channel."""

    async def send(self, recipient: str, notice: Notice, *, timestamp: int) -> Sent:
        """Send, never raising for a network or provider failure."""
        ...

    async def close(self) -> None:
        """Let go of connections."""
        ...


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` with the shared secret."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class EmailSender:
    """Plain-text email through the force's relay (the SMTP settings the email channel uses)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, recipient: str, notice: Notice, *, timestamp: int) -> Sent:
        """One email, on its own connection (staff notices are few)."""
        settings = self.settings
        if not settings.smtp_host or not settings.email_from:
            return Sent(False, "email is not configured (FEEDBACKBOT_SMTP_HOST, FEEDBACKBOT_EMAIL_FROM)", True)
        message = EmailMessage()
        message["From"] = settings.email_from
        message["To"] = recipient
        message["Subject"] = notice.subject
        message["Message-ID"] = make_msgid(domain=settings.email_from.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(notice.text)
        implicit_tls = settings.smtp_port == 465
        try:
            await aiosmtplib.send(
                message, hostname=settings.smtp_host, port=settings.smtp_port, timeout=TIMEOUT,
                username=settings.smtp_username or None, password=settings.smtp_password or None,
                use_tls=implicit_tls, start_tls=False if implicit_tls else settings.smtp_starttls)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return Sent(False, f"recipient refused ({exc.recipients[0].code})" if exc.recipients else "refused", True)
        except aiosmtplib.SMTPResponseException as exc:
            return Sent(False, f"relay answered {exc.code}", 500 <= exc.code < 600)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Sent(False, f"relay unreachable ({type(exc).__name__})")
        return Sent(True)

    async def close(self) -> None:
        """Nothing is kept open."""


class SmsSender:
    """SMS through Twilio's Messages API (``twilio_api_base_url`` points tests at a stand-in)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._http: Any = None
        self._client: Any = None
        self._library_log = logging.Logger("feedbackbot.routing.twilio", logging.WARNING)

    def _messages(self) -> Any:
        if self._client is None:
            s = self.settings
            self._http = AsyncTwilioHttpClient(pool_connections=True, timeout=TIMEOUT, logger=self._library_log)
            client = Client(s.twilio_account_sid, s.twilio_auth_token, http_client=self._http,
                            credential_provider=AccountCredentials(s.twilio_account_sid, s.twilio_auth_token),
                            environment={"TWILIO_ACCOUNT_SID": s.twilio_account_sid})
            client.edge = client.region = None
            client.api.base_url = s.twilio_api_base_url.rstrip("/")
            self._client = client
        return self._client.api.v2010.account.messages

    async def send(self, recipient: str, notice: Notice, *, timestamp: int) -> Sent:
        """One SMS with the notice's text."""
        s = self.settings
        if not s.twilio_account_sid or not (s.twilio_from_number or s.twilio_messaging_service_sid):
            return Sent(False, "SMS is not configured (Twilio account and sender)", True)
        params = ({"messaging_service_sid": s.twilio_messaging_service_sid} if s.twilio_messaging_service_sid
                  else {"from_": s.twilio_from_number})
        try:
            async with asyncio.timeout(TIMEOUT):
                await self._messages().create_async(to=recipient, body=notice.text, **params)
        except TwilioRestException as exc:
            return Sent(False, f"Twilio refused ({exc.code})", exc.status < 500 and exc.status != 429)
        except (TimeoutError, aiohttp.ClientError, TwilioException) as exc:
            return Sent(False, f"Twilio unreachable ({type(exc).__name__})")
        return Sent(True)

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            http, self._http, self._client = self._http, None, None
            await http.close()


class WebhookSender:
    """POSTs the notice as JSON, signed with HMAC-SHA256 (``X-Feedbackbot-Signature``) when a secret is set."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def send(self, recipient: str, notice: Notice, *, timestamp: int) -> Sent:
        """One POST; any 2xx is success, 4xx (but 408/429) is permanent."""
        if not self.settings.notify_webhook_secret:
            return Sent(False, "FEEDBACKBOT_NOTIFY_WEBHOOK_SECRET is not set; unsigned calls are not made", True)
        body = json.dumps(notice.payload, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(timestamp),
                   SIGNATURE_HEADER: webhook_signature(self.settings.notify_webhook_secret, timestamp, body)}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
        try:
            async with self._session.post(recipient, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    return Sent(True)
                permanent = 400 <= response.status < 500 and response.status not in {408, 429}
                return Sent(False, f"webhook answered {response.status}", permanent)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Sent(False, f"webhook unreachable ({type(exc).__name__})")

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
