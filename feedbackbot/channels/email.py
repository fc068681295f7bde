"""The email channel: survey emails over SMTP, replies through a built-in SMTP listener or by polling IMAP.

Outbound, each outbox row becomes one email with a text and an HTML part (``web/templates/email/``), a fresh
Message-ID (stored as the provider id), threading headers, and the reply address of its invitation,
``reply+<token>@<email_reply_domain>``. Inbound mail arrives at the listener (the force's MX or mail gateway
relays ``reply+…@`` to it) or in a mailbox that is polled over IMAP; either way it is handed to the sink and
committed before the sender is told 250 (or, for IMAP, before the message is marked seen).

Which survey a reply belongs to, and so which address it is filed under, is decided in this order:
In-Reply-To, then References (a Message-ID we sent, or one the victim sent us before), then the token in the
reply address, then the sender's own address if it is one we know. The first three are proof of possession:
only someone who received our email knows its Message-ID or its reply address (each carries at least 128
random bits, like the web link), so a reply that carries one is filed under the survey's address even when it
comes from another of the victim's addresses. A message that carries neither is only accepted from an
address we already know, and is filed under that address; such a From line is as trustworthy as the
sending domain's SPF/DKIM/DMARC, which the force's mail gateway should enforce before relaying to us.
Mail that matches nothing is refused at the listener (550) and left in the mailbox for IMAP, so we never
send anything to a stranger's (possibly forged) address.

Bounces mark the address we sent to as failed, and only when they name an email we really sent (by its
Message-ID, or the token of the address they were sent to), so a forged bounce cannot cut a victim off.
Auto-replies (out of office and the like) are not answers: they are dropped with a log line by reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.errors import MessageError
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
import jinja2
import yaml
from aiohttp import web
from aiosmtpd.smtp import SMTP as SmtpServerProtocol
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import func
from sqlmodel import col, select

from ..clock import Clock
from ..messages import Address, Channel, InboundMessage, OutboundMessage, SendResult
from ..settings import Settings
from ..store.db import Database
from ..store.tables import ContactAddress, Invitation, Message
from ..web.render import TEMPLATES
from .base import InboundSink
from .imap import ImapPoller
from .mailparse import ParsedEmail, parse_email, provider_id, reply_token, short_ref

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 20.0
#: A pooled SMTP connection idle for longer than this is checked with NOOP before it is used again.
IDLE_CHECK_SECONDS = 30.0
MAX_RECIPIENTS = 10
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "yi"})
#: Recipient refusals that mean the address itself cannot receive (RFC 5321 550, 551, 553).
ADDRESS_REFUSED = frozenset({550, 551, 553})


class Outcome(enum.Enum):
    """What became of one inbound email."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    LOOP = "loop"
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Composed:
    """An email ready to hand to the relay, with the envelope sender and its Message-ID."""

    message: EmailMessage
    envelope_sender: str
    message_id: str


def _enhanced_status(message: str) -> str | None:
    head = message.strip().split(" ", 1)[0]
    parts = head.split(".")
    return head if len(parts) == 3 and all(p.isdigit() for p in parts) else None


def failure_result(exc: BaseException) -> SendResult:
    """How an SMTP failure is reported to the outbox: transient, permanent, or the address itself refused.

    A 4xx, a dropped connection or a timeout is retried. 550/551/553 for the recipient (other than a 5.7.x
    policy refusal, which is about us, not them) is permanent and fails the address. Other 5xx answers are
    permanent. A refused sender or failed login is a configuration problem: retried with backoff, so that
    once an administrator fixes it nothing is lost.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        code, text = exc.code, exc.message
        reason = f"recipient refused: {code} {text}"[:500]
        if 400 <= code < 500:
            return SendResult(ok=False, status="failed", error_code=f"smtp_{code}", error_reason=reason)
        enhanced = _enhanced_status(text) or ""
        if code in ADDRESS_REFUSED and not enhanced.startswith("5.7."):
            return SendResult(ok=False, status="failed", error_code=f"smtp_{code}", error_reason=reason,
                              permanent=True, address_failed=True)
        return SendResult(ok=False, status="failed", error_code=f"smtp_{code}", error_reason=reason, permanent=True)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPAuthenticationError):
        kind = "sender refused" if isinstance(exc, aiosmtplib.SMTPSenderRefused) else "login failed"
        return SendResult(ok=False, status="failed", error_code=f"smtp_{exc.code}",
                          error_reason=f"{kind}: {exc.code} {exc.message}"[:500], retry_after_seconds=300)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = 500 <= exc.code < 600
        return SendResult(ok=False, status="failed", error_code=f"smtp_{exc.code}",
                          error_reason=f"{exc.code} {exc.message}"[:500], permanent=permanent)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return SendResult(ok=False, status="failed", error_code="smtp_not_supported", permanent=True,
                          error_reason=f"the relay cannot take this message: {exc}"[:500])
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return SendResult(ok=False, status="failed", error_code="smtp_timeout", error_reason="the relay did not answer")
    return SendResult(ok=False, status="failed", error_code="smtp_unavailable",
                      error_reason=f"could not reach the relay: {type(exc).__name__}")


class _Words:
    """The fixed words of survey emails per language, with English filling any gap."""

    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.words: dict[str, dict[str, str]] = {key: dict(value) for key, value in data.items()}

    def for_language(self, language: str, force_name: str) -> dict[str, str]:
        return {key: (by_lang.get(language) or by_lang["en"]).replace("{force_name}", force_name)
                for key, by_lang in self.words.items()}


class EmailChannel:
    """Sends survey emails through the force's SMTP relay and takes replies from the listener or IMAP.

    ``check_sent`` returns None: SMTP cannot be asked afterwards whether it took a message, so a row left
    ``sending`` by a crash is held for an administrator (who can look in the relay's log) rather than sent
    twice.
    """

    channel = Channel.EMAIL

    def __init__(self, settings: Settings, db: Database, sink: InboundSink, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.sink = sink
        self.clock = clock
        # HTML is autoescaped (the body may carry case details from the records system); text is text.
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES / "email"),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",),
                                                default=True),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
        self.words = _Words(TEMPLATES / "email" / "words.yaml")
        from_name, from_addr = parseaddr(settings.email_from)
        self.from_name = from_name or settings.force_name
        self.from_addr = from_addr.lower()
        self.reply_domain = settings.email_reply_domain.strip().lower()
        self.id_domain = self.reply_domain or self.from_addr.rpartition("@")[2] or "feedbackbot.invalid"
        self._smtp: aiosmtplib.SMTP | None = None
        self._smtp_used = 0.0
        self._smtp_lock = asyncio.Lock()
        self._server: asyncio.Server | None = None
        self._poller = ImapPoller(settings, self._from_mailbox)
        self._poll_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """Email needs no HTTP routes: replies come by SMTP or IMAP."""
        return []

    # --- lifecycle -----------------------------------------------------------------------------------

    @property
    def listen_port(self) -> int | None:
        """The port the SMTP listener is bound to (useful when the setting asked for any free port)."""
        if self._server is None or not self._server.sockets:
            return None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Open the SMTP listener (when ``smtp_listen_port`` is set) and start polling IMAP (when ``imap_host`` is)."""
        self._stop.clear()
        if self.settings.smtp_listen_port and self._server is None:
            loop = asyncio.get_running_loop()
            handler = _ListenerHandler(self)
            hostname = self.reply_domain or self.id_domain
            self._server = await loop.create_server(
                lambda: SmtpServerProtocol(handler, data_size_limit=self.settings.smtp_listen_max_bytes,
                                           enable_SMTPUTF8=True, hostname=hostname, ident="Feedbackbot",
                                           timeout=120, loop=loop),
                host=self.settings.smtp_listen_host, port=self.settings.smtp_listen_port)
            log.info("email: SMTP listener on %s:%s", self.settings.smtp_listen_host, self.listen_port)
        if self.settings.imap_host and self._poll_task is None:
            self._poll_task = asyncio.create_task(self._poller.run(self._stop), name="email-imap")

    async def stop(self) -> None:
        """Close the listener, stop polling and close the relay connection."""
        self._stop.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        async with self._smtp_lock:
            await self._drop_smtp()

    # --- outbound ------------------------------------------------------------------------------------

    def reply_address(self, token: str | None) -> str | None:
        """Where replies to a survey go: ``reply+<token>@<domain>``, or ``reply@<domain>`` without a survey."""
        if not self.reply_domain:
            return None
        return f"reply+{token}@{self.reply_domain}" if token else f"reply@{self.reply_domain}"

    async def _thread(self, message: OutboundMessage) -> tuple[str | None, list[str]]:
        """In-Reply-To and References: the victim's email this answers, else our last email of the survey."""
        ours: list[str] = []
        if message.session_id is not None:
            async with self.db.session() as s:
                ours = [pid for pid in (await s.exec(select(Message.provider_id).where(
                    Message.session_id == message.session_id, Message.direction == "out",
                    Message.channel == Channel.EMAIL.value, col(Message.provider_id).is_not(None),
                    col(Message.id) != message.id,
                ).order_by(col(Message.id)))).all() if pid and pid.startswith("<")]
        theirs = message.in_reply_to if message.in_reply_to and message.in_reply_to.startswith("<") else None
        parent = theirs or (ours[-1] if ours else None)
        references = list(dict.fromkeys([r for r in (ours[0] if ours else None, parent) if r]))
        return parent, references

    async def compose(self, message: OutboundMessage) -> Composed:
        """Build the email for one outbox row (reading the survey's earlier emails for threading; sends nothing)."""
        language = message.language or "en"
        words = self.words.for_language(language, self.settings.force_name)
        paragraphs = [p.split("\n") for p in message.text.replace("\r\n", "\n").split("\n\n") if p.strip()]
        context: dict[str, Any] = {"body": message.text.strip(), "paragraphs": paragraphs, "words": words,
                                   "language": language, "direction": "rtl" if language in RTL_LANGUAGES else "ltr",
                                   "force_name": self.settings.force_name}
        text = self.templates.get_template("message.txt").render(context)
        html = self.templates.get_template("message.html").render(context)
        reply_to = self.reply_address(message.invitation_token)
        use_reply_from = self.settings.email_from_reply_address and reply_to is not None and bool(
            message.invitation_token)
        sender = reply_to if use_reply_from and reply_to else self.from_addr
        message_id = f"<fb.{secrets.token_hex(16)}@{self.id_domain}>"
        parent, references = await self._thread(message)

        email = EmailMessage()
        email["From"] = formataddr((self.from_name, sender))
        email["To"] = str(MailAddress(addr_spec=message.address.path))
        email["Subject"] = ("Re: " if message.in_reply_to else "") + words["subject"]
        email["Date"] = format_datetime(self.clock.now())
        email["Message-ID"] = message_id
        if parent:
            email["In-Reply-To"] = parent
            email["References"] = " ".join(references)
        if reply_to:
            email["Reply-To"] = reply_to
            email["List-Unsubscribe"] = f"<mailto:{reply_to}?subject=STOP>"
        email["Content-Language"] = language
        # RFC 3834: an automatic message, so out-of-office responders stay quiet; Exchange honours the second.
        email["Auto-Submitted"] = "auto-generated"
        email["X-Auto-Response-Suppress"] = "OOF, AutoReply"
        email.set_content(text)
        email.add_alternative(html, subtype="html")
        return Composed(email, sender, message_id)

    async def _drop_smtp(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            with contextlib.suppress(Exception):
                if smtp.is_connected:
                    await smtp.quit()
            smtp.close()

    async def _relay(self) -> aiosmtplib.SMTP:
        """The pooled relay connection, reconnected when it has gone away."""
        loop = asyncio.get_running_loop()
        if self._smtp is not None and self._smtp.is_connected:
            if loop.time() - self._smtp_used < IDLE_CHECK_SECONDS:
                return self._smtp
            try:
                await self._smtp.noop()
                return self._smtp
            except aiosmtplib.SMTPException:
                await self._drop_smtp()
        await self._drop_smtp()
        settings = self.settings
        implicit_tls = settings.smtp_port == 465
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host, port=settings.smtp_port, timeout=SMTP_TIMEOUT,
            username=settings.smtp_username or None, password=settings.smtp_password or None,
            use_tls=implicit_tls, start_tls=False if implicit_tls else settings.smtp_starttls,
            local_hostname=self.id_domain,
        )
        await smtp.connect()
        self._smtp = smtp
        return smtp

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one email through the relay; the Message-ID is the provider id."""
        try:
            composed = await self.compose(message)
        except (ValueError, IndexError, MessageError) as exc:  # the header classes refuse the address
            return SendResult(ok=False, status="failed", error_code="invalid_address", permanent=True,
                              address_failed=True, error_reason=f"not an email address we can send to "
                                                                f"({type(exc).__name__})")
        async with self._smtp_lock:
            try:
                smtp = await self._relay()
                await smtp.send_message(composed.message, sender=composed.envelope_sender,
                                        recipients=[message.address.path])
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._drop_smtp()
                result = failure_result(exc)
                log.info("email: message %s not sent (%s)", message.id, result.error_code)
                return result
            self._smtp_used = asyncio.get_running_loop().time()
        return SendResult(ok=True, provider_id=provider_id(composed.message_id), status="sent")

    async def check_sent(self, message: OutboundMessage) -> SendResult | None:
        """SMTP cannot be asked whether the relay took a message: None, so the row is held for a person."""
        return None

    # --- inbound -------------------------------------------------------------------------------------

    def accepts_recipient(self, address: str) -> bool:
        """Whether the listener takes mail for ``address``: ``reply``/``reply+…``/``postmaster`` at our domain."""
        if not self.reply_domain:
            return True
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at or domain.lower() != self.reply_domain:
            return False
        base = local.partition("+")[0].lower()
        return base in {"reply", "postmaster", "abuse"}

    def _is_ours(self, sender: str) -> bool:
        """Whether mail comes from one of our own addresses (an echo of what we sent, or a loop)."""
        if sender == self.from_addr:
            return True
        return bool(self.reply_domain) and self.accepts_recipient(sender)

    async def receive(self, raw: bytes, *, mail_from: str | None = None,
                      recipients: Sequence[str] = ()) -> Outcome:
        """Parse one inbound email and act on it; raises if it could not be committed (so the sender retries)."""
        parsed = await asyncio.to_thread(parse_email, raw, mail_from=mail_from, envelope_recipients=recipients)
        ref = short_ref(parsed.provider_id)
        if parsed.kind == "bounce":
            await self._bounce(parsed, ref)
            return Outcome.BOUNCE
        if parsed.kind == "auto_reply":
            log.info("email: automatic reply %s is not an answer; dropped", ref)
            return Outcome.AUTO_REPLY
        if parsed.sender and self._is_ours(parsed.sender):
            log.warning("email: message %s comes from our own address; dropped to avoid a loop", ref)
            return Outcome.LOOP
        address, how = await self._match(parsed)
        if address is None:
            log.info("email: message %s matches no survey and no known address", ref)
            return Outcome.UNMATCHED
        if how != "sender" and parsed.sender != address.path:
            log.info("email: message %s matched by %s from another of the victim's addresses", ref, how)
        inbound = InboundMessage(channel=Channel.EMAIL, address=address, text=parsed.text,
                                 provider_id=parsed.provider_id, received_at=self.clock.now(),
                                 media_types=parsed.media_types)
        accepted = await self.sink.accept(inbound)
        log.info("email: message %s stored as %s%s (matched by %s)", ref, accepted.message_id,
                 "" if accepted.new else ", a repeat", how)
        return Outcome.ACCEPTED if accepted.new else Outcome.DUPLICATE

    async def _by_message_ids(self, ids: Sequence[str], *, outbound_only: bool = False) -> Address | None:
        """The address of the first of ``ids`` that is an email we sent (or, unless outbound_only, received)."""
        pids = list(dict.fromkeys(provider_id(i) for i in ids))[:100]
        if not pids:
            return None
        query = select(Message.provider_id, Message.address).where(
            Message.channel == Channel.EMAIL.value, col(Message.provider_id).in_(pids))
        if outbound_only:
            query = query.where(Message.direction == "out")
        async with self.db.session() as s:
            found = {pid: address for pid, address in (await s.exec(query)).all()}
        for pid in pids:
            if pid in found:
                return Address.parse(found[pid])
        return None

    async def _by_token(self, recipients: Sequence[str]) -> Address | None:
        for recipient in recipients:
            token = reply_token(recipient, self.reply_domain)
            if token is None:
                continue
            async with self.db.session() as s:
                address = (await s.exec(select(Invitation.address).where(Invitation.token == token))).first()
                if address is None:
                    # Some gateways lower-case the local part; the token is long enough to stay unique.
                    address = (await s.exec(select(Invitation.address).where(
                        func.lower(Invitation.token) == token.lower()).limit(2))).first()
            if address is not None and address.startswith(Channel.EMAIL.value + ":"):
                return Address.parse(address)
        return None

    async def _match(self, parsed: ParsedEmail) -> tuple[Address | None, str]:
        """The survey address a reply belongs to, and how it was found (see the module docstring)."""
        found = await self._by_message_ids(parsed.in_reply_to)
        if found is not None:
            return found, "in_reply_to"
        found = await self._by_message_ids(list(reversed(parsed.references)))
        if found is not None:
            return found, "references"
        found = await self._by_token(parsed.recipients)
        if found is not None:
            return found, "token"
        if parsed.sender:
            async with self.db.session() as s:
                known = (await s.exec(select(ContactAddress.id).where(
                    ContactAddress.channel == Channel.EMAIL.value, ContactAddress.path == parsed.sender))).first()
            if known is not None:
                return Address(Channel.EMAIL, parsed.sender), "sender"
        return None, "nothing"

    async def _bounce(self, parsed: ParsedEmail, ref: str) -> None:
        """Mark the address of the email a bounce names as failed; ignore bounces that name none of ours."""
        bounce = parsed.bounce
        assert bounce is not None
        address = await self._by_message_ids([*parsed.mentioned_ids, *parsed.in_reply_to, *parsed.references],
                                             outbound_only=True)
        if address is None:
            address = await self._by_token(parsed.recipients)
        if address is None:
            log.info("email: bounce %s names none of our emails; ignored", ref)
            return
        if bounce.delayed_only:
            log.info("email: delivery delay report %s; nothing to do", ref)
            return
        if bounce.failed and address.path not in bounce.failed:
            log.info("email: bounce %s is for another recipient than the one we wrote to; ignored", ref)
            return
        reason = " ".join(r for r in ("bounced", bounce.status, bounce.reason) if r)[:300]
        await self.sink.address_failed(address, reason)
        log.info("email: bounce %s marked an address undeliverable", ref)

    async def poll_imap_once(self) -> int:
        """Poll the IMAP folder now (the background poller does so every ``imap_poll_seconds``)."""
        return await self._poller.poll_once()

    async def _from_mailbox(self, raw: bytes) -> bool:
        """Handle one message found by IMAP polling (raising leaves it unseen); True if a person should look."""
        return await self.receive(raw) is Outcome.UNMATCHED


class _ListenerHandler:
    """aiosmtpd hooks: take mail for our reply addresses, answer 250 only once it is committed."""

    def __init__(self, channel: EmailChannel) -> None:
        self.channel = channel

    async def handle_RCPT(self, server: SmtpServerProtocol, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if not self.channel.accepts_recipient(address):
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SmtpServerProtocol, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            outcome = await self.channel.receive(raw, mail_from=envelope.mail_from or "",
                                                 recipients=list(envelope.rcpt_tos))
        except Exception as exc:  # anything at all: the sender keeps the message and tries again
            log.error("email: could not store an inbound message (%s); answered 451", type(exc).__name__)
            return "451 4.3.0 Could not store the message just now; please try again later"
        if outcome is Outcome.UNMATCHED:
            return ("550 5.7.1 This address only takes replies to survey emails we sent; "
                    "please reply to our email")
        return "250 2.0.0 OK"
