"""Which channel adapters this deployment runs: one line per channel, each live when its settings are set."""

from __future__ import annotations

from aiohttp import ClientSession

from ..clock import Clock
from ..settings import Settings
from ..store.db import Database
from .base import ChannelAdapter, InboundSink
from .email import EmailChannel
from .telegram import TelegramChannel
from .twilio import twilio_adapters


def configured_adapters(settings: Settings, db: Database, sink: InboundSink, clock: Clock,
                        http: ClientSession | None = None) -> list[ChannelAdapter]:
    """The provider channels whose credentials are set (the web chat is added by the app itself)."""
    adapters: list[ChannelAdapter] = []
    # One line per channel, in the order a reader expects: SMS and WhatsApp, Telegram, email.
    adapters += twilio_adapters(settings, db, sink, clock) if settings.twilio_account_sid else []  # SMS, WhatsApp
    adapters += [TelegramChannel(settings, db, sink, clock)] if settings.telegram_bot_token else []
    adapters += [EmailChannel(settings, db, sink, clock)] if settings.smtp_host and settings.email_from else []
    return adapters
