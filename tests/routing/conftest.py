"""Routing tests get the real services (keyword stand-in classifier) and close them afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from feedbackbot.app import Services, build_services
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.settings import Settings
from tests.support.clock import ManualClock


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    services = build_services(settings, clock, classifier=KeywordClassifier)
    yield services
    await services.notifications.close()
    services.classifier.stop()
    await services.db.dispose()


ONCALL = "+447700900555"
WEBHOOK_SECRET = "webhook-secret-0123456789"


@pytest.fixture
async def alerting(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    """Services with the on-duty supervisor's SMS number and a webhook configured (nothing listens there)."""
    changed = settings.replace(oncall_sms_number=ONCALL, notify_webhook_url="http://127.0.0.1:9/alerts",
                               notify_webhook_secret=WEBHOOK_SECRET, urgent_repeat_minutes=5)
    services = build_services(changed, clock, classifier=KeywordClassifier)
    yield services
    await services.notifications.close()
    services.classifier.stop()
    await services.db.dispose()
