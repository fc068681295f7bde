"""Frozen value types shared by every layer: addresses, inbound and outbound messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """A way of reaching a victim; the value is the address scheme."""

    SMS = "tel"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    EMAIL = "mailto"
    WEB = "web"


CHANNEL_NAMES: dict[str, Channel] = {
    "sms": Channel.SMS,
    "tel": Channel.SMS,
    "whatsapp": Channel.WHATSAPP,
    "telegram": Channel.TELEGRAM,
    "email": Channel.EMAIL,
    "mailto": Channel.EMAIL,
    "web": Channel.WEB,
}


def channel_from_name(name: str) -> Channel:
    """Map a user-facing channel name (``sms``, ``email``…) to a Channel; ValueError if unknown."""
    try:
        return CHANNEL_NAMES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}; expected one of sms, whatsapp, telegram, email, web") from None


@dataclass(frozen=True, order=True)
class Address:
    """A URN-like address such as ``tel:+447700900001``, ``whatsapp:+44…``, ``mailto:a@b`` or ``web:<token>``."""

    channel: Channel
    path: str

    def __str__(self) -> str:
        return f"{self.channel.value}:{self.path}"

    @classmethod
    def parse(cls, urn: str) -> Address:
        """Parse ``scheme:path``; ValueError when the scheme is unknown or the path empty."""
        scheme, sep, path = urn.partition(":")
        if not sep or not path:
            raise ValueError(f"address {urn!r} must look like scheme:value")
        return cls(Channel(scheme), path)


@dataclass(frozen=True)
class InboundMessage:
    """What a victim sent, normalised at the channel edge. ``provider_id`` is unique per channel."""

    channel: Channel
    address: Address
    text: str
    provider_id: str
    received_at: datetime
    media_types: tuple[str, ...] = ()
    #: Where the provider keeps each item of ``media_types`` (a Twilio media URL, a Telegram file_id), so a
    #: person can fetch it; "" where there is nothing to fetch (a location, an email attachment).
    media_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuickReply:
    """A choice a channel may show as a button; ``text`` is what the victim would type to choose it."""

    text: str
    label: str


@dataclass(frozen=True)
class OutboundMessage:
    """One message to send, as stored in the outbox, with what an adapter needs to choose how to send it.

    ``purpose`` is why the engine sent it (``message``, ``prompt``, ``reask``, ``reminder``…); ``flow_id``,
    ``step_id`` and ``language`` let WhatsApp pick an approved template; ``last_inbound_at`` is when this
    address last wrote to us (WhatsApp's 24-hour window); ``invitation_token`` names the survey (email
    reply address, Telegram deep link); ``in_reply_to`` is the provider id of the victim's message this
    answers, where there is one (email threading).
    """

    id: int
    channel: Channel
    address: Address
    text: str
    quick_replies: tuple[QuickReply, ...] = field(default=())
    purpose: str = "reply"
    language: str = "en"
    flow_id: str | None = None
    step_id: str | None = None
    session_id: int | None = None
    invitation_token: str | None = None
    last_inbound_at: datetime | None = None
    in_reply_to: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What a channel adapter reports after trying to send.

    ``ok`` with the provider's id, or a failure with the provider's code and reason: ``permanent`` failures
    are never retried (the address or the victim's choice stops us), others are retried with backoff, no
    sooner than ``retry_after_seconds`` when the provider says so. ``address_failed`` marks a permanent
    failure of the address itself (a landline, an unknown number, a bounced mailbox), which may send the
    survey to the victim's next agreed channel; ``opted_out`` says the provider has the victim unsubscribed.
    """

    ok: bool
    provider_id: str | None = None
    status: str = "sent"
    error_code: str | None = None
    error_reason: str | None = None
    permanent: bool = False
    retry_after_seconds: float | None = None
    address_failed: bool = False
    opted_out: bool = False
