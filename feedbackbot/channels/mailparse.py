"""Pure email parsing for the email channel: the new words of a reply, threading ids, bounces and auto-replies.

Nothing here touches the network, the database or the clock. :func:`parse_email` turns the raw bytes of one
message into a :class:`ParsedEmail`; the adapter decides what to do with it. For example::

    parsed = parse_email(raw)
    parsed.kind          # "message", "bounce" or "auto_reply"
    parsed.text          # "Yes, they were kind." (quoted history, signature and HTML removed)
    parsed.in_reply_to   # ("<fb.12.5c1e…@reply.force.example>",)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Literal

#: The longest provider id the messages table holds; longer Message-IDs are stored as their SHA-256.
MAX_PROVIDER_ID = 128
#: What the engine is given at most of one email's new words (a forwarded thread is not a reply).
MAX_TEXT_CHARS = 5000
#: Inline images with a Content-ID below this size are taken for signature logos, not for something sent to us.
SIGNATURE_IMAGE_BYTES = 20_000

Kind = Literal["message", "bounce", "auto_reply"]


@dataclass(frozen=True)
class Bounce:
    """What a delivery report says: the recipients that failed for good, and why."""

    failed: tuple[str, ...] = ()
    status: str | None = None
    reason: str | None = None
    delayed_only: bool = False


@dataclass(frozen=True)
class ParsedEmail:
    """One inbound email reduced to what the channel needs; never holds the raw message."""

    kind: Kind
    provider_id: str
    message_id: str | None
    sender: str | None
    recipients: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    media_types: tuple[str, ...] = ()
    bounce: Bounce | None = None
    #: Every Message-ID a bounce mentions (its returned headers and text), to find which of our emails failed.
    mentioned_ids: tuple[str, ...] = field(default=())


# --- Message-IDs ---------------------------------------------------------------------------------------

_MSGID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,990}>")
#: Control characters other than tab and newline (PostgreSQL refuses NUL in text; none belong in a reply).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References header, in order, without repeats."""
    if not value:
        return ()
    found = _MSGID.findall(value)
    if not found:
        bare = value.strip()
        found = [f"<{bare}>"] if "@" in bare and _MSGID.fullmatch(f"<{bare}>") else []
    return tuple(dict.fromkeys(found))


def provider_id(message_id: str) -> str:
    """The provider id stored for a Message-ID: the id itself, or ``sha256:<hex>`` when it is too long."""
    if len(message_id) <= MAX_PROVIDER_ID:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()


def short_ref(value: str) -> str:
    """A short, non-identifying reference to a message for logs (never the address or the text)."""
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:12]


# --- reply addresses ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def reply_token(recipient: str, reply_domain: str) -> str | None:
    """The invitation token in ``reply+<token>@<reply_domain>``; None for any other address."""
    local, at, domain = recipient.strip().strip("<>").rpartition("@")
    if not at or not reply_domain or domain.lower() != reply_domain.lower():
        return None
    base, plus, token = local.partition("+")
    if base.lower() != "reply" or not plus or not _TOKEN.match(token):
        return None
    return token


def bare_address(value: str | None) -> str | None:
    """The first email address in a header value such as ``Jane <Jane@Example.org>``, lower-cased."""
    if not value:
        return None
    for _, addr in getaddresses([value]):
        if "@" in addr:
            return addr.strip().lower()
    return None


# --- quoted history and signatures in plain text --------------------------------------------------------

_WROTE = re.compile(
    r"(wrote|writes|a écrit|schrieb|escribió|ha scritto|schreef|napisał\(a\)|napisała|napisał|pisze|yazdı)\s*:\s*$",
    re.IGNORECASE,
)
_WROTE_PREFIX = re.compile(r"^\s*(on|le|am|el|il|op|w dniu|dnia|den|em)\b", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|wiadomość oryginalna|oryginalna wiadomość|ursprüngliche nachricht|"
    r"message d'origine|forwarded message|wiadomość przekazana dalej)\s*-{2,}|_{8,}|begin forwarded message:)\s*$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^\s*\*?(from|od|von|de|van|da)\s?:\*?\s", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^\s*\*?[^\W\d_][\w .-]{0,24}\*?\s?:\*?\s", re.UNICODE)
_SIGNATURE = re.compile(
    r"^\s*(sent from my\b|sent from (mail|outlook|yahoo|samsung|proton)|get outlook for\b|sent via\b|sent with\b|"
    r"wysłane z\b|wysłano z\b|envoyé de mon\b|von meinem\b.*gesendet|enviado desde\b|inviato da\b)",
    re.IGNORECASE,
)
_STOP_SUBJECT = re.compile(r"^\s*((re|fw|fwd|aw|odp|sv|wg|tr)\s*:\s*)*(stop|unsubscribe)\s*$", re.IGNORECASE)


def _quote_header_at(lines: Sequence[str], i: int) -> tuple[int, int] | None:
    """The first and last line of an "On … wrote:" header that begins at, or ends on, line ``i``."""
    line = lines[i]
    if _WROTE_PREFIX.match(line):
        joined = ""
        for k in range(i, min(i + 4, len(lines))):
            joined = f"{joined} {lines[k].strip()}".strip()
            if len(joined) > 500:
                break
            if _WROTE.search(joined) and ("@" in joined or any(c.isdigit() for c in joined)):
                return i, k
    if len(line) <= 500 and _WROTE.search(line) and ("@" in line or any(c.isdigit() for c in line)):
        # A header wrapped by the client without a leading "On": take the fragment above it too.
        if i > 0 and lines[i - 1].rstrip().endswith(("<", ",")) and not lines[i - 1].lstrip().startswith(">"):
            return i - 1, i
        return i, i
    return None


def _outlook_block_at(lines: Sequence[str], i: int) -> bool:
    """Whether an Outlook-style ``From: / Sent: / To: / Subject:`` header block starts on line ``i``."""
    if not _FROM_LINE.match(lines[i]):
        return False
    following = [ln for ln in lines[i + 1 : i + 6] if ln.strip()][:4]
    return sum(1 for ln in following if _HEADER_LINE.match(ln)) >= 2


def _ends_reply(lines: Sequence[str], i: int) -> bool:
    """Whether line ``i`` starts what is never new words: a separator, an Outlook header block, a signature."""
    line = lines[i]
    stripped = line.strip()
    return bool(_SEPARATOR.match(line) or _outlook_block_at(lines, i) or line.rstrip() == "--"
                or (len(stripped) < 80 and _SIGNATURE.match(stripped)))


def _tidy(lines: Sequence[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines).strip())


def strip_reply(text: str) -> str:
    """The words a person added: quoted history, ``>`` lines, forwarded parts and signatures removed.

    Most people write above the quote; if nothing is there, the unquoted lines below or between the quoted
    ones are taken instead (bottom-posting and inline answers).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _ends_reply(lines, i):
            break
        header = _quote_header_at(lines, i)
        if header is not None:
            if header[0] < i and kept:
                kept.pop()
            break
        if not line.strip().startswith(">"):
            kept.append(line.rstrip())
    top = _tidy(kept)
    if top:
        return top
    below: list[str] = []
    i = 0
    while i < len(lines):
        if _ends_reply(lines, i):
            break
        header = _quote_header_at(lines, i)
        if header is not None:
            if header[0] < i and below:
                below.pop()
            i = header[1] + 1
            continue
        if not lines[i].strip().startswith(">"):
            below.append(lines[i].rstrip())
        i += 1
    return _tidy(below)


def unflow(text: str, delsp: bool = False) -> str:
    """Join the soft line breaks of ``format=flowed`` text (RFC 3676), leaving quoted lines alone."""
    out: list[str] = []
    pending = ""
    for line in text.split("\n"):
        if line.startswith(">") or line == "-- ":
            if pending:
                out.append(pending)
                pending = ""
            out.append(line)
            continue
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" "):
            pending += line[:-1] if delsp else line
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return "\n".join(out)


# --- HTML ------------------------------------------------------------------------------------------------

_BLOCK = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "section",
                    "article", "header", "footer", "blockquote", "pre", "hr", "dd", "dt"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"})
_INVISIBLE = frozenset({"script", "style", "head", "title", "template"})
#: Containers of quoted history or signatures that mail clients mark in their HTML.
_QUOTE_CLASSES = frozenset({"gmail_quote", "gmail_quote_container", "gmail_extra", "gmail_signature",
                            "moz-cite-prefix", "moz-signature", "yahoo_quoted", "protonmail_quote",
                            "zmail_extra", "aol_quoted"})
#: Markers after which everything is the quoted message (Outlook on the web, new Outlook).
_STOP_IDS = frozenset({"appendonsend", "divrplyfwdmsg", "mail-editor-reference-message-container",
                       "x_divrplyfwdmsg", "x_appendonsend"})


class _HtmlText(HTMLParser):
    """Collects the visible text of an email's HTML, skipping quoted history and hidden parts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []  # the stack of open tags inside a skipped element
        self.stopped = False
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        if self.skip:
            if tag not in _VOID:
                self.skip.append(tag)
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").lower().split())
        ident = (values.get("id") or "").lower()
        if ident in _STOP_IDS:
            self.stopped = True
            return
        if tag in _INVISIBLE or tag == "blockquote" or classes & _QUOTE_CLASSES:
            if tag not in _VOID:
                self.skip.append(tag)
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n")
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if self.skip:
            # Close back to the matching open tag (tolerating unclosed children).
            if tag in self.skip:
                while self.skip and self.skip.pop() != tag:
                    pass
            return
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data: str) -> None:
        if self.stopped or self.skip:
            return
        self.parts.append(data if self.pre else re.sub(r"[ \t\r\n\f]+", " ", data))

    def text(self) -> str:
        lines = [ln.strip() for ln in "".join(self.parts).replace("\xa0", " ").split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The visible, unquoted text of an HTML email body, one block per line."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


# --- the whole message ---------------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|abwesenheitsnotiz|"
    r"odpowiedź automatyczna|réponse automatique|respuesta automática|risposta automatica|away from my desk|"
    r"on (annual )?leave|i am (currently )?(out|away))",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered|delivery (status )?notification|delivery (has )?failed|failure notice|"
    r"returned mail|mail delivery (failed|subsystem)|could not be delivered|non[- ]?delivery|"
    r"niedostarczon|unzustellbar)",
    re.IGNORECASE,
)
_DELAY_SUBJECT = re.compile(r"(delay|warning|still trying|verzögert|opóźnion)", re.IGNORECASE)
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})


def _header(msg: Message, name: str) -> str | None:
    """A header's decoded value; malformed headers fall back to their raw text rather than raising."""
    try:
        value = msg.get(name)
    except Exception:  # a broken header must not lose the message
        value = None
        for key, raw in msg.raw_items() if isinstance(msg, EmailMessage) else msg.items():
            if key.lower() == name.lower():
                value = raw
                break
    return None if value is None else str(value)


def _all_headers(msg: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in msg.get_all(name, [])]
    except Exception:
        return [str(v) for k, v in msg.items() if k.lower() == name.lower()]


def _text_of(part: Message) -> str:
    """A text part's content, decoded with its charset (or as UTF-8, replacing what cannot be read)."""
    try:
        if isinstance(part, EmailMessage):
            content = part.get_content()
            if isinstance(content, str):
                return content
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError):
        pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, "replace")
        except LookupError:
            return payload.decode("utf-8", "replace")
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment"


def _body_parts(msg: Message) -> tuple[Message | None, Message | None, list[str]]:
    """The first text/plain and text/html body parts (not attachments), and the media types of the rest."""
    plain: Message | None = None
    html: Message | None = None
    media: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if not _is_attachment(part) and ctype == "text/plain" and plain is None:
            plain = part
        elif not _is_attachment(part) and ctype == "text/html" and html is None:
            html = part
        elif ctype.startswith(("image/", "audio/", "video/", "application/")) or _is_attachment(part):
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            inline_logo = (ctype.startswith("image/") and not _is_attachment(part)
                           and part.get("Content-ID") is not None and size < SIGNATURE_IMAGE_BYTES)
            if not inline_logo:
                media.append(ctype)
    return plain, html, media


def new_words(msg: Message) -> tuple[str, tuple[str, ...]]:
    """The words the sender added (plain text preferred, HTML otherwise) and the media types attached."""
    plain, html, media = _body_parts(msg)
    text = ""
    if plain is not None:
        body = _text_of(plain)
        params = {k.lower(): v.lower() for k, v in plain.get_params(header="content-type", failobj=[])[1:]}
        if params.get("format") == "flowed":
            body = unflow(body.replace("\r\n", "\n"), delsp=params.get("delsp") == "yes")
        text = strip_reply(body)
    if not text and html is not None:
        text = strip_reply(html_to_text(_text_of(html)))
    subject = _header(msg, "Subject") or ""
    if _STOP_SUBJECT.match(subject):
        # A List-Unsubscribe mailto, or a victim who wrote STOP in the subject line: that is their answer.
        text = "STOP"
    text = _CONTROL.sub("", text)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip() + " …"
    return text, tuple(media)


def _auto_reply(msg: Message) -> bool:
    auto = (_header(msg, "Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-Auto-Reply", "X-AutoReply-From"):
        if _header(msg, name) is not None:
            return True
    if (_header(msg, "Precedence") or _header(msg, "X-Precedence") or "").strip().lower() in {
            "bulk", "junk", "list", "auto_reply", "auto-reply"}:
        return True
    if _header(msg, "List-Id") is not None:
        return True
    return bool(_AUTO_SUBJECT.match(_header(msg, "Subject") or ""))


def _delivery_status(msg: Message) -> Bounce | None:
    """The failed recipients of an RFC 3464 delivery status notification, if ``msg`` is one."""
    if msg.get_content_type() != "multipart/report":
        return None
    if str(msg.get_param("report-type") or "").lower() != "delivery-status":
        return None
    failed: list[str] = []
    status = reason = None
    saw_recipient = False
    for part in msg.walk():
        if part.get_content_type() not in {"message/delivery-status", "message/global-delivery-status"}:
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:
            if not isinstance(block, Message):
                continue
            saw_recipient = True
            action = (_header(block, "Action") or "").strip().lower()
            code = (_header(block, "Status") or "").strip()
            if action != "failed" and not code.startswith("5"):
                continue
            for name in ("Final-Recipient", "Original-Recipient"):
                value = _header(block, name) or ""
                addr = value.partition(";")[2].strip().strip("<>").lower() if ";" in value else value.strip().lower()
                if "@" in addr:
                    failed.append(addr)
            status = status or code or None
            reason = reason or (_header(block, "Diagnostic-Code") or "").partition(";")[2].strip() or None
    if not saw_recipient:
        return Bounce(failed=(), status=None, reason="delivery report without recipients")
    return Bounce(failed=tuple(dict.fromkeys(failed)), status=status, reason=reason,
                  delayed_only=not failed)


def _mentioned_ids(msg: Message) -> tuple[str, ...]:
    """Every Message-ID in a bounce: in returned message headers and in its text, in order."""
    found: list[str] = []
    for part in msg.walk():
        for name in ("Message-ID", "In-Reply-To", "References"):
            for value in _all_headers(part, name):
                found.extend(message_ids(value))
        if part.is_multipart() or part.get_content_maintype() not in {"text", "message"}:
            continue
        text = _text_of(part)
        if part.get_content_type() == "text/rfc822-headers":
            headers = HeaderParser().parsestr(text)
            found.extend(message_ids(headers.get("Message-ID")))
        found.extend(_MSGID.findall(text[:200_000]))
    return tuple(dict.fromkeys(found))[:100]


def _is_daemon(sender: str | None) -> bool:
    return sender is not None and sender.partition("@")[0].lower() in _DAEMONS


def parse_email(raw: bytes, *, mail_from: str | None = None,
                envelope_recipients: Iterable[str] = ()) -> ParsedEmail:
    """Read one email: who sent it, what it answers, what they wrote, and whether it is a bounce or automatic.

    ``mail_from`` is the SMTP envelope sender when known (``""`` for the null sender of bounces and
    auto-replies); ``envelope_recipients`` are the RCPT TO addresses (for IMAP, None: the To, Cc,
    Delivered-To and X-Original-To headers are used instead).
    """
    msg = message_from_bytes(raw, policy=policy.default)
    message_id_values = message_ids(_header(msg, "Message-ID"))
    message_id = message_id_values[0] if message_id_values else None
    if message_id is not None:
        pid = provider_id(message_id)
    else:
        # No Message-ID: the same bytes after the trace headers still give the same id on redelivery.
        digest = hashlib.sha256()
        for name in ("From", "Date", "Subject", "To"):
            digest.update((_header(msg, name) or "").encode("utf-8", "surrogateescape") + b"\0")
        digest.update(raw.split(b"\r\n\r\n", 1)[-1] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[-1])
        pid = "sha256:" + digest.hexdigest()
    # Recipients keep their case: the token in reply+<token>@ is case-sensitive.
    recipients = [r.strip().strip("<>") for r in envelope_recipients]
    if not recipients:
        for name in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"):
            recipients.extend(addr.strip() for _, addr in getaddresses(_all_headers(msg, name)) if "@" in addr)
    sender = bare_address(_header(msg, "From"))
    if mail_from is None:
        return_path = _header(msg, "Return-Path")
        mail_from = None if return_path is None else (bare_address(return_path) or "")
    unique_recipients = tuple(dict.fromkeys(r for r in recipients if r))
    in_reply_to = message_ids(_header(msg, "In-Reply-To"))
    references = message_ids(" ".join(_all_headers(msg, "References")))

    def parsed(kind: Kind, text: str = "", media: tuple[str, ...] = (), bounce: Bounce | None = None,
               mentioned: tuple[str, ...] = ()) -> ParsedEmail:
        return ParsedEmail(kind=kind, provider_id=pid, message_id=message_id, sender=sender,
                           recipients=unique_recipients, in_reply_to=in_reply_to, references=references,
                           text=text, media_types=media, bounce=bounce, mentioned_ids=mentioned)

    dsn = _delivery_status(msg)
    if dsn is not None:
        return parsed("bounce", bounce=dsn, mentioned=_mentioned_ids(msg))
    if _auto_reply(msg):
        return parsed("auto_reply")
    subject = _header(msg, "Subject") or ""
    null_sender = mail_from is not None and mail_from.strip("<> ") == ""
    if _is_daemon(sender) or (null_sender and _BOUNCE_SUBJECT.search(subject)):
        delayed = bool(_DELAY_SUBJECT.search(subject)) and not re.search(r"fail", subject, re.IGNORECASE)
        bounce = Bounce(failed=(), status=None, reason=subject.strip()[:200] or "undeliverable", delayed_only=delayed)
        return parsed("bounce", bounce=bounce, mentioned=_mentioned_ids(msg))
    if null_sender:
        # RFC 3834: automatic responses use the null sender; a person's reply never does.
        return parsed("auto_reply")
    text, media = new_words(msg)
    return parsed("message", text, media)
