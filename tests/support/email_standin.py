"""Stand-ins for the mail world (the force's relay, a victim's mail client, an IMAP server) and a victim by email.

* :class:`RelayStandin` is an aiosmtpd server on the test's event loop that keeps what it is given, as the
  force's relay would take it, and can be told to refuse some recipients with a given SMTP reply.
* :func:`smtp_send` is Python's smtplib, run in a thread, delivering a raw message to our listener the way a
  victim's provider would; it returns the server's reply rather than raising on a refusal.
* :class:`Dovecot` runs Debian's dovecot (package ``dovecot-imapd``) with a throw-away configuration in a
  temporary folder, on a free port, with one mailbox; tests append mail to it over IMAP and read its flags.
* :class:`Mail` is the victim's side of a survey by email through the real app, with the workers run by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import itertools
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp.test_utils import TestClient
from aiosmtpd.smtp import SMTP as SmtpServerProtocol
from aiosmtpd.smtp import Envelope, Session
from sqlmodel import col, select

from feedbackbot.app import Services
from feedbackbot.channels.base import Accepted, InboundSink
from feedbackbot.channels.email import EmailChannel
from feedbackbot.messages import Address, Channel, InboundMessage
from feedbackbot.store.tables import Invitation, Message
from tests.support.clock import ManualClock
from tests.support.server import free_port
from tests.support.victim import event_body, post_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
DOVECOT = os.environ.get("FEEDBACKBOT_TEST_DOVECOT", "/usr/sbin/dovecot")


def fixture(name: str, **values: str) -> bytes:
    """A fixture email with its ``%%NAME%%`` placeholders filled, with CRLF line ends as on the wire."""
    raw = (FIXTURES / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"%%{key.upper()}%%".encode(), value.encode())
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@dataclass
class Relayed:
    """One message the relay stand-in accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The message, parsed."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, subtype: str) -> str:
        """The decoded text of the ``text/<subtype>`` part."""
        for part in self.message.walk():
            if part.get_content_type() == f"text/{subtype}" and isinstance(part, EmailMessage):
                content = part.get_content()
                assert isinstance(content, str)
                return content.replace("\r\n", "\n")
        raise AssertionError(f"no text/{subtype} part")


@dataclass
class _RelayHandler:
    received: list[Relayed] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(self, server: SmtpServerProtocol, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self.refuse.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SmtpServerProtocol, session: Session, envelope: Envelope) -> str:
        self.received.append(Relayed(envelope.mail_from or "", list(envelope.rcpt_tos),
                                     envelope.original_content or b""))
        self.arrived.set()
        return "250 2.0.0 queued"


class RelayStandin:
    """The force's outgoing relay, on 127.0.0.1 and a free port, on the running event loop."""

    def __init__(self) -> None:
        self.handler = _RelayHandler()
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def received(self) -> list[Relayed]:
        """Everything relayed so far, oldest first."""
        return self.handler.received

    def refuse(self, recipient: str, reply: str) -> None:
        """Answer RCPT TO for ``recipient`` with ``reply`` (for example ``550 5.1.1 User unknown``)."""
        self.handler.refuse[recipient.lower()] = reply

    async def start(self) -> RelayStandin:
        """Listen."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SmtpServerProtocol(self.handler, hostname="relay.test", loop=loop), host="127.0.0.1", port=0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def _smtp_send_blocking(port: int, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        try:
            refused = client.sendmail(mail_from, rcpt_tos, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, message = next(iter(exc.recipients.values()))
            return code, message.decode()
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            error = exc.smtp_error
            return exc.smtp_code, error.decode() if isinstance(error, bytes) else error
        assert not refused, refused
        return 250, "OK"


async def smtp_send(port: int, raw: bytes, *, mail_from: str = "jane.doe@example.org",
                    rcpt_tos: list[str]) -> tuple[int, str]:
    """Deliver ``raw`` to our listener with smtplib (in a thread); the final SMTP reply code and text."""
    return await asyncio.to_thread(_smtp_send_blocking, port, raw, mail_from, rcpt_tos)


# --- dovecot --------------------------------------------------------------------------------------------

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
"""


class Dovecot:
    """A private dovecot IMAP server for one test: ``user`` / ``password`` log in, mail lives in a temp folder.

    As root, dovecot's own unprivileged users (made by the Debian package) run the login and mail processes;
    as anyone else, everything runs as that user.
    """

    user = "feedback"
    password = "imap-test-password"

    def __init__(self) -> None:
        if not Path(DOVECOT).exists():
            raise RuntimeError(f"{DOVECOT} is missing: run the tests with `make test`, which installs Debian's "
                               "dovecot-imapd (or apt-get install dovecot-imapd)")
        self.root = Path(tempfile.mkdtemp(prefix="feedbackbot-dovecot-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Dovecot:
        """Write the configuration, start dovecot in the foreground and wait until it answers."""
        os.chmod(self.root, 0o755)  # the mail processes' user must reach its mail folder
        (self.root / "mail").mkdir()
        if os.geteuid() == 0:
            login_user, internal_user, mail_user, mail_group = "dovenull", "dovecot", "dovecot", "dovecot"
            entry = pwd.getpwnam(mail_user)
            os.chown(self.root / "mail", entry.pw_uid, entry.pw_gid)
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            login_user = internal_user = mail_user = me
            mail_group = str(os.getegid())
        config = self.root / "dovecot.conf"
        config.write_text(_CONFIG.format(root=self.root, port=self.port, password=self.password,
                                         login_user=login_user, internal_user=internal_user,
                                         mail_user=mail_user, mail_group=mail_group))
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port}:\n{self.log()}")

    def log(self) -> str:
        """Dovecot's log (logins and errors; it never logs mail contents)."""
        with contextlib.suppress(OSError):
            return (self.root / "dovecot.log").read_text(errors="replace")
        return "(no log)"

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @contextlib.contextmanager
    def _session(self, folder: str | None = None) -> Iterator[imaplib.IMAP4]:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            client.login(self.user, self.password)
            if folder is not None:
                client.select(folder)
            yield client
        finally:
            try:
                client.logout()
            except Exception:
                with contextlib.suppress(Exception):
                    client.shutdown()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox, unseen, as the force's mail server would deliver it."""
        with self._session() as client:
            typ, _ = client.append(folder, None, None, raw)
            assert typ == "OK", typ

    def flags(self, folder: str = "INBOX") -> list[set[str]]:
        """Every message's flags, in order."""
        with self._session(folder) as client:
            typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
            assert typ == "OK", typ
        found: list[set[str]] = []
        for item in data:
            if isinstance(item, bytes) and b"FLAGS (" in item:
                inner = item.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode()
                found.append(set(inner.split()) - {"\\Recent"})
        return found


# --- a victim with a mail client -------------------------------------------------------------------------

VICTIM = "jane.doe@example.org"
_reply_ids = itertools.count(1)


def reply_to(last: Relayed, text: str, *, sender: str = VICTIM, threading: bool = True,
             to: str | None = None, message_id: str | None = None) -> bytes:
    """A victim's reply to ``last`` as a plain mail client writes it: new words on top, our email quoted below."""
    original = last.message
    recipient = to or str(original["Reply-To"] or original["From"])
    msg = EmailMessage()
    msg["From"] = f"Jane Doe <{sender}>"
    msg["To"] = recipient
    msg["Subject"] = "Re: " + str(original["Subject"])
    msg["Date"] = "Wed, 11 Mar 2026 10:05:00 +0000"
    msg["Message-ID"] = message_id or f"<reply-{next(_reply_ids)}-{os.getpid()}@example.org>"
    if threading:
        msg["In-Reply-To"] = str(original["Message-ID"])
        msg["References"] = f"{original.get('References', '')} {original['Message-ID']}".strip()
    quoted = "\n".join(f"> {line}".rstrip() for line in last.part("plain").splitlines())
    msg.set_content(f"{text}\n\nOn Wed, 11 Mar 2026 at 10:00, West Midlands Police <{recipient}> wrote:\n"
                    f"{quoted}\n")
    return msg.as_bytes(policy=policy.SMTP)


# --- the victim's side of a survey by email, through the real app ---------------------------------------


def email_channel(services: Services) -> EmailChannel:
    channel = services.channels.get(Channel.EMAIL)
    assert isinstance(channel, EmailChannel), "the registry builds the email channel when SMTP is set"
    return channel


class Mail:
    """The victim's side of an email survey and the workers' passes, driven by hand with the manual clock."""

    def __init__(self, services: Services, relay: RelayStandin, clock: ManualClock) -> None:
        self.services = services
        self.relay = relay
        self.clock = clock
        self.outbox = services.outbox
        self.channel = email_channel(services)

    @property
    def port(self) -> int:
        return self.services.settings.smtp_listen_port

    async def work(self) -> None:
        """Finish processing what was accepted, then a scheduler pass, then the outbox until it is idle."""
        await self.services.inbox.drain()
        await self.services.scheduler.run_once(recover_all=True)
        for _ in range(50):  # the outbox sends one message per victim per pass, in order
            if not await self.outbox.run_once():
                break

    def inbox(self, address: str = VICTIM) -> list[Relayed]:
        return [m for m in self.relay.received if address in m.rcpt_tos]

    async def invite(self, client: TestClient[Any, Any], touchpoint: str = "after_attendance") -> Relayed:
        response = await post_event(client, event_body(touchpoint, channel="email", email=VICTIM))
        assert response.status == 201, await response.text()
        self.clock.advance(days=1)
        await self.work()
        assert self.inbox(), "the invitation went out by email"
        return self.inbox()[-1]

    async def send(self, raw: bytes, *, mail_from: str = VICTIM, to: str | None = None) -> tuple[int, str]:
        recipient = to or str(self.inbox()[-1].message["Reply-To"])
        return await smtp_send(self.port, raw, mail_from=mail_from, rcpt_tos=[recipient])

    async def answer(self, text: str, **kwargs: Any) -> list[Relayed]:
        """Reply to the last email; returns the emails that came back."""
        before = len(self.inbox())
        code, reply = await self.send(reply_to(self.inbox()[-1], text, **kwargs))
        assert code == 250, reply
        self.clock.advance(minutes=1)
        await self.work()
        return self.inbox()[before:]

    async def token(self) -> str:
        async with self.services.db.session() as s:
            return (await s.exec(select(Invitation.token))).one()


async def messages(services: Services, direction: str = "in") -> list[Message]:
    async with services.db.session() as s:
        return list((await s.exec(select(Message).where(Message.direction == direction,
                                                        Message.channel == Channel.EMAIL.value)
                                  .order_by(col(Message.id)))).all())


def question_in(body: str) -> str:
    """The question an email asks: its last paragraph before the reply instructions (a turn is one email)."""
    paragraphs = body.split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        if paragraph.startswith("To answer, reply to this email."):
            return paragraphs[index - 1]
    raise AssertionError(f"no reply instructions in: {body!r}")


def answer_for(question: str) -> str:
    """What our victim says to a question, read the way a person would."""
    if "YES or NO" in question:
        return "yes"
    if "from 1" in question or "1 to 5" in question:
        return "4"
    if "own words" in question:
        return "They were kind, but nobody has told me anything since."
    return "SKIP"


class FailingOnce:
    """The real sink, except that the first commit fails (the database went away for a moment)."""

    def __init__(self, sink: InboundSink) -> None:
        self.sink = sink
        self.failures = 1

    async def accept(self, inbound: InboundMessage) -> Accepted:
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("database connection lost")
        return await self.sink.accept(inbound)

    async def delivery_status(self, channel: Channel, provider_id: str, status: str, *, at: datetime,
                              error_code: str | None = None, error_reason: str | None = None) -> bool:
        return await self.sink.delivery_status(channel, provider_id, status, at=at, error_code=error_code,
                                               error_reason=error_reason)

    async def address_failed(self, address: Address, reason: str) -> None:
        await self.sink.address_failed(address, reason)

    async def provider_opt_out(self, address: Address, reason: str) -> None:
        await self.sink.provider_opt_out(address, reason)

    async def bind_link(self, token: str, address: Address) -> bool:
        return await self.sink.bind_link(token, address)


class RecordingSink:
    """A sink that keeps what the adapter hands over, for adapter tests that need no database."""

    def __init__(self) -> None:
        self.accepted: list[InboundMessage] = []
        self.failed: list[tuple[Address, str]] = []

    async def accept(self, inbound: InboundMessage) -> Accepted:
        self.accepted.append(inbound)
        return Accepted(len(self.accepted), True)

    async def delivery_status(self, channel: Channel, provider_id: str, status: str, *, at: datetime,
                              error_code: str | None = None, error_reason: str | None = None) -> bool:
        return False

    async def address_failed(self, address: Address, reason: str) -> None:
        self.failed.append((address, reason))

    async def provider_opt_out(self, address: Address, reason: str) -> None:
        return None

    async def bind_link(self, token: str, address: Address) -> bool:
        return False
