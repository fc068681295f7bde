"""The one small protocol every channel adapter implements, the sink it hands messages to, and the registry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web

from ..messages import Address, Channel, InboundMessage, OutboundMessage, SendResult


@dataclass(frozen=True)
class Accepted:
    """An inbound message committed to the database; ``new`` is False for a repeat delivery."""

    message_id: int
    new: bool


class InboundSink(Protocol):
    """Where adapters hand what providers tell us. Every method commits before it returns."""

    async def accept(self, inbound: InboundMessage) -> Accepted:
        """Commit an inbound message (once per provider id) and schedule its processing; return at once."""
        ...

    async def delivery_status(self, channel: Channel, provider_id: str, status: str, *, at: datetime,
                              error_code: str | None = None, error_reason: str | None = None) -> bool:
        """Record a delivery report; a status never moves backwards. False if the message is unknown."""
        ...

    async def address_failed(self, address: Address, reason: str) -> None:
        """An address cannot receive (a bounce, a blocked bot): mark it and fall back to another channel."""
        ...

    async def provider_opt_out(self, address: Address, reason: str) -> None:
        """The provider has the victim unsubscribed (e.g. Twilio 21610): honour it as a STOP."""
        ...

    async def bind_link(self, token: str, address: Address) -> bool:
        """Bind ``address`` to the invitation of a single-use link the victim followed, and start its survey.

        For example ``t.me/<bot>?start=<token>``. False if the token is unknown or already used.
        """
        ...


class ChannelAdapter(Protocol):
    """A way to reach victims: its routes receive (after verifying), ``send`` delivers.

    Provider payloads never leave the adapter: it hands the sink ``InboundMessage`` values and takes
    ``OutboundMessage`` values back. Adding a channel touches: its adapter, its fixtures, its tests, one
    registry line in ``app.build_services`` and one settings section.
    """

    channel: Channel

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """The HTTP routes this channel serves (webhooks, or the web chat pages)."""
        ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message; report the provider id or the reason it failed.

        Never raises for a provider's refusal: that is a SendResult with the provider's code.
        """
        ...

    async def check_sent(self, message: OutboundMessage) -> SendResult | None:
        """Say, after a crash between sending and recording, whether the provider got this message.

        A SendResult if the provider has it (the outbox records it, no second send), ``SendResult(ok=False)``
        if it surely does not (the outbox sends it), None if the provider cannot tell (the row is held for
        an administrator, never sent twice without a check).
        """
        ...

    async def start(self) -> None:
        """Open long-lived resources (HTTP session, SMTP listener, IMAP poller)."""
        ...

    async def stop(self) -> None:
        """Close them."""
        ...


class ChannelRegistry:
    """The channels this deployment has configured, by channel."""

    def __init__(self, adapters: Iterable[ChannelAdapter] = ()) -> None:
        self._adapters: dict[Channel, ChannelAdapter] = {}
        for adapter in adapters:
            self.register(adapter)

    def register(self, adapter: ChannelAdapter) -> None:
        """Add a channel; registering one channel twice is a mistake."""
        if adapter.channel in self._adapters:
            raise ValueError(f"channel {adapter.channel.value} registered twice")
        self._adapters[adapter.channel] = adapter

    def get(self, channel: Channel) -> ChannelAdapter | None:
        """The adapter for a channel, if configured."""
        return self._adapters.get(channel)

    def __contains__(self, channel: object) -> bool:
        return channel in self._adapters

    def __iter__(self) -> Iterator[ChannelAdapter]:
        return iter(self._adapters.values())

    @property
    def channels(self) -> frozenset[Channel]:
        """Every configured channel."""
        return frozenset(self._adapters)
