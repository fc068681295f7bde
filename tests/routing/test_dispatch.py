"""Notices leave by SMTP, Twilio SMS and a signed webhook; failures are retried and kept; no victim text, ever."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import col, select

from feedbackbot.app import Services, build_services
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.routing.senders import SIGNATURE_HEADER, TIMESTAMP_HEADER
from feedbackbot.settings import Settings
from feedbackbot.store.tables import Notification
from tests.routing.support import VICTIM_TEXT, add_case, add_officer, add_reply
from tests.support.clock import ManualClock
from tests.support.email_standin import RelayStandin
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

ONCALL = "+447700900555"
SECRET = "webhook-secret-0123456789"


class Hook:
    """The force's alerting endpoint: records each call; answers with ``status``."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status)


@pytest.fixture
async def wired(settings: Settings, clock: ManualClock, aiohttp_server: Any) -> AsyncIterator[
        tuple[Services, RelayStandin, TwilioStandIn, Hook]]:
    relay = await RelayStandin().start()
    twilio = TwilioStandIn(clock=clock.now)
    twilio_server = await aiohttp_server(twilio.app)
    hook = Hook()
    hook_app = web.Application()
    hook_app.router.add_post("/alerts", hook.handle)
    hook_server = await aiohttp_server(hook_app)
    changed = settings.replace(
        smtp_host="127.0.0.1", smtp_port=relay.port, smtp_starttls=False, email_from="feedbackbot@police.example",
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_from_number=FROM_NUMBER,
        twilio_api_base_url=str(twilio_server.make_url("")).rstrip("/"), oncall_sms_number=ONCALL,
        notify_webhook_url=str(hook_server.make_url("/alerts")), notify_webhook_secret=SECRET)
    services = build_services(changed, clock, classifier=KeywordClassifier)
    yield services, relay, twilio, hook
    await services.notifications.close()
    services.classifier.stop()
    await services.db.dispose()
    await relay.close()


async def test_urgent_reply_notifies_by_email_sms_and_signed_webhook_without_victim_text(
        wired: tuple[Services, RelayStandin, TwilioStandIn, Hook]) -> None:
    services, relay, twilio, hook = wired
    await add_officer(services, "PC1", email="pc1@police.example")
    case_id = await add_case(services, "CR/20/26", officer="PC1")
    await add_reply(services, VICTIM_TEXT, case_id)
    await services.classification.run_once()
    assert await services.notifications.run_once() == 4

    async with services.db.session() as s:
        rows = (await s.exec(select(Notification).order_by(col(Notification.id)))).all()
    assert {(n.channel, n.status) for n in rows} == {("email", "sent"), ("sms", "sent"), ("webhook", "sent")}
    assert sorted(r for m in relay.received for r in m.rcpt_tos) == ["control.room@police.example",
                                                                     "pc1@police.example"]
    [sms] = twilio.sent_to(ONCALL)
    [(headers, body)] = hook.calls
    control_id = next(n.work_item_id for n in rows if n.channel == "sms")
    assert f"http://feedbackbot.test/inbox/items/{control_id}" in sms.body
    payload = json.loads(body)
    assert payload["link"] == f"http://feedbackbot.test/inbox/items/{control_id}"
    assert payload["rule"] == "urgent_risk" and payload["priority"] == "urgent"
    expected = hmac.new(SECRET.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], "sha256=" + expected.hexdigest())

    everything = [m.raw.decode("utf-8", "replace") for m in relay.received] + [sms.body, body.decode()]
    for text in everything:
        for fragment in ("Jane", "Victim-Smith", "outside now", "07700", "<script>", "<img", "onerror",
                         "HYPERLINK", "evil.example", "CR/20/26"):
            assert fragment not in text


async def test_failures_are_retried_with_backoff_and_kept_with_their_reason(
        wired: tuple[Services, RelayStandin, TwilioStandIn, Hook], clock: ManualClock) -> None:
    services, relay, _twilio, hook = wired
    relay.refuse("victim.care@police.example", "550 5.1.1 User unknown")
    hook.status = 503
    await add_reply(services, "He is outside now", None)
    await add_reply(services, "Please call me back", None)
    await services.classification.run_once()
    await services.notifications.run_once()
    async with services.db.session() as s:
        rows = {(n.channel, n.recipient): n for n in (await s.exec(select(Notification))).all()}
    refused = rows[("email", "victim.care@police.example")]
    assert (refused.status, refused.error_reason) == ("failed", "recipient refused (550)")
    webhook = next(n for (channel, _), n in rows.items() if channel == "webhook")
    assert (webhook.status, webhook.error_reason, webhook.attempts) == ("queued", "webhook answered 503", 1)
    assert webhook.next_attempt_at is not None and webhook.next_attempt_at > clock.now()

    hook.status = 200
    assert await services.notifications.run_once() == 0  # not due yet
    clock.advance(seconds=31)
    assert await services.notifications.run_once() == 1
    async with services.db.session() as s:
        again = await s.get(Notification, webhook.id)
    assert again is not None and (again.status, again.attempts, again.error_reason) == ("sent", 2, None)
    assert len(hook.calls) == 2
