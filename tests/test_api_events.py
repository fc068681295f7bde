"""The journey API: authenticated, validated field by field, eligible victims invited once, at the right time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from sqlmodel import select

from feedbackbot.app import Services
from feedbackbot.store.tables import Invitation, JourneyEvent, Message
from tests.support.clock import ManualClock
from tests.support.victim import event_body, post_event

LONDON = ZoneInfo("Europe/London")


async def test_missing_or_wrong_key_is_refused_and_nothing_stored(client: TestClient[Any, Any],
                                                                  services: Services) -> None:
    no_key = await client.post("/api/v1/events", json=event_body())
    assert no_key.status == 401
    assert (await no_key.json())["error"] == "unauthorised"
    wrong = await post_event(client, event_body(), key="not-the-right-key-at-all")
    assert wrong.status == 401
    async with services.db.session() as s:
        assert (await s.exec(select(JourneyEvent))).all() == []


async def test_malformed_json_gets_a_clear_error(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/v1/events", data=b"{not json", headers={
        "Authorization": "Bearer test-records-system-key-0001", "Content-Type": "application/json"})
    assert response.status == 400
    assert await response.json() == {"error": "invalid_json", "message": "the body is not valid JSON"}


async def test_every_bad_field_is_named(client: TestClient[Any, Any]) -> None:
    body = event_body("after_lunch", phone="0123", email="not-an-email", preferred_channel="pigeon")
    del body["case"]["reference"]
    response = await post_event(client, body)
    assert response.status == 422
    problems = {p["field"]: p["message"] for p in (await response.json())["problems"]}
    assert problems["touchpoint"].startswith("unknown or not live: 'after_lunch'")
    assert problems["case.reference"] == "is required"
    assert problems["victim.preferred_channel"].startswith("unknown channel 'pigeon'")
    assert problems["victim.phone"] == "'0123' is not a valid phone number"
    assert problems["victim.email"] == "'not-an-email' is not an email address"


async def test_eligible_victim_is_invited_after_the_touchpoint_delay(client: TestClient[Any, Any],
                                                                     services: Services, clock: ManualClock) -> None:
    response = await post_event(client, event_body("after_attendance", channel="sms", phone="07700 900123"))
    assert response.status == 201
    body = await response.json()
    assert body["outcome"] == "invited"
    assert body["invitation"]["channel"] == "sms"
    assert body["invitation"]["flow"] == "after_attendance"
    assert datetime.fromisoformat(body["invitation"]["send_after"]) == clock.now() + timedelta(days=1)
    assert "survey_url" not in body["invitation"], "an SMS survey link is never handed out"


async def test_same_event_twice_makes_one_invitation(client: TestClient[Any, Any], services: Services) -> None:
    body = event_body("after_101_call", channel="web")
    first = await post_event(client, body)
    second = await post_event(client, body)
    assert (first.status, second.status) == (201, 200)
    one, two = await first.json(), await second.json()
    assert two["duplicate"] is True
    assert one["invitation"]["id"] == two["invitation"]["id"]
    async with services.db.session() as s:
        assert len((await s.exec(select(Invitation))).all()) == 1


async def test_no_consent_means_no_survey(client: TestClient[Any, Any]) -> None:
    response = await post_event(client, event_body(consent=False))
    assert response.status == 200
    body = await response.json()
    assert (body["outcome"], body["reason"]) == ("not_eligible", "no_consent")
    assert "invitation" not in body


async def test_sensitive_case_needs_safe_to_contact(client: TestClient[Any, Any]) -> None:
    body = event_body(victim_ref="DA-1")
    body["case"]["flags"] = ["domestic_abuse"]
    refused = await (await post_event(client, body)).json()
    assert refused["reason"] == "sensitive_case_not_safe_to_contact"
    body = event_body(victim_ref="DA-2", safe_to_contact=True)
    body["case"]["flags"] = ["domestic_abuse"]
    assert (await (await post_event(client, body)).json())["outcome"] == "invited"


async def test_at_most_one_survey_per_victim_per_period(client: TestClient[Any, Any], clock: ManualClock) -> None:
    first = await post_event(client, event_body("after_101_call", victim_ref="P-77"))
    assert first.status == 201
    clock.advance(days=3)
    second = await (await post_event(client, event_body("after_attendance", victim_ref="P-77"))).json()
    assert second["reason"] == "surveyed_recently"
    clock.advance(days=26)
    third = await post_event(client, event_body("case_filed", victim_ref="P-77"))
    assert third.status == 201


async def test_quiet_hours_defer_the_send_to_the_morning(client: TestClient[Any, Any], clock: ManualClock) -> None:
    clock.set(datetime(2026, 7, 1, 22, 30, tzinfo=LONDON))  # 22:30 BST, inside 21:00-08:00
    response = await post_event(client, event_body("six_week_checkin", channel="web"))
    send_after = datetime.fromisoformat((await response.json())["invitation"]["send_after"])
    assert send_after.astimezone(LONDON) == datetime(2026, 7, 2, 8, 0, tzinfo=LONDON)


async def test_opted_out_victim_is_not_surveyed_again(client: TestClient[Any, Any], services: Services) -> None:
    from tests.support.victim import Victim

    victim = await Victim.invited(client, "after_attendance", victim_ref="P-OUT")
    await victim.open()
    await victim.say("STOP")
    later = await (await post_event(client, event_body("case_filed", victim_ref="P-OUT"))).json()
    assert later["reason"] == "opted_out"


async def test_scheduler_sends_due_invitations_and_not_early(client: TestClient[Any, Any], services: Services,
                                                             clock: ManualClock) -> None:
    response = await post_event(client, event_body("after_attendance", channel="web"))
    invitation_id = (await response.json())["invitation"]["id"]
    await services.scheduler.run_once()
    async with services.db.session() as s:
        assert (await s.get(Invitation, invitation_id)).status == "scheduled"  # type: ignore[union-attr]
    clock.advance(days=1, minutes=1)
    await services.scheduler.run_once()
    async with services.db.session() as s:
        inv = await s.get(Invitation, invitation_id)
        assert inv is not None and inv.status == "sent"
        sent = (await s.exec(select(Message).where(Message.address == inv.address))).all()
    assert sent and sent[0].text.startswith("Hello, this is West Midlands Police")


async def test_openapi_description_is_served(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/openapi.json")
    doc = await response.json()
    assert doc["openapi"].startswith("3.1")
    assert "after_attendance" in doc["components"]["schemas"]["Event"]["properties"]["touchpoint"]["enum"]
    assert "/api/v1/events" in doc["paths"]
