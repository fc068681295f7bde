"""The one small protocol every channel adapter implements, and the registry that holds them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from aiohttp import web

from ..messages import Channel, OutboundMessage, SendResult


class ChannelAdapter(Protocol):
    """A way to reach victims: its routes receive (after verifying), ``send`` delivers.

    Provider payloads never leave the adapter: it hands the conversation layer ``InboundMessage`` values
    and takes ``OutboundMessage`` values back.
    """

    channel: Channel

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        """The HTTP routes this channel serves (webhooks, or the web chat pages)."""
        ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message; report the provider id or the reason it failed."""
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
