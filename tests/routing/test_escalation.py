"""Escalation past the SLA and repeated urgent alerts, with an injected clock, surviving a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from feedbackbot.app import Services, build_services
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.store.tables import Notification
from tests.routing.conftest import ONCALL
from tests.routing.support import (
    acknowledge,
    add_case,
    add_officer,
    add_reply,
    events_for,
    items_for,
    notifications,
)
from tests.support.clock import ManualClock


async def test_overdue_item_escalates_to_the_supervisor_once_even_after_a_restart(
        services: Services, clock: ManualClock) -> None:
    await add_officer(services, "PC1", supervisor="PS9", email="pc1@police.example")
    await add_officer(services, "PS9", email="ps9@police.example", role="supervisor")
    case_id = await add_case(services, "CR/10/26", officer="PC1")
    feedback_id = await add_reply(services, "Please call me back about the car", case_id)
    await services.classification.run_once()
    [item] = await items_for(services, feedback_id)
    assert item.due_at is not None

    clock.set(item.due_at - timedelta(minutes=1))
    assert await services.escalation.run_once() == 0
    clock.set(item.due_at + timedelta(minutes=1))
    assert await services.escalation.run_once() == 1

    original, escalated = await items_for(services, feedback_id)
    assert original.escalation_level == 1 and original.escalated_at == clock.now()
    assert (escalated.target_kind, escalated.target_ref, escalated.status) == ("officer", "PS9", "new")
    assert escalated.due_at is not None and escalated.due_at > clock.now()
    assert [e.kind for e in await events_for(services, original.id or 0)] == ["created", "escalated"]
    [created] = await events_for(services, escalated.id or 0)
    assert created.detail["escalated_from"] == original.id
    assert [(n.recipient, n.kind) for n in await notifications(services) if n.work_item_id == escalated.id] \
        == [("ps9@police.example", "escalated")]

    # A restart: new services on the same database find nothing more to do at this level.
    again = build_services(services.settings, clock, classifier=KeywordClassifier)
    try:
        assert await again.escalation.run_once() == 0
        # The supervisor does not act either: their item goes up in turn (PS9 has no supervisor: the default queue).
        clock.set(escalated.due_at + timedelta(minutes=1))
        assert await again.escalation.run_once() == 1
    finally:
        again.classifier.stop()
        await again.db.dispose()
    targets = [(i.target_kind, i.target_ref) for i in await items_for(services, feedback_id)]
    assert targets == [("officer", "PC1"), ("officer", "PS9"), ("queue", "victim_care")]


async def test_acknowledged_items_do_not_escalate(services: Services, clock: ManualClock) -> None:
    case_id = await add_case(services, "CR/11/26")
    feedback_id = await add_reply(services, "I want to complain about the officer", case_id)
    await services.classification.run_once()
    [item] = await items_for(services, feedback_id)
    assert item.due_at is not None
    await acknowledge(services, item.id or 0, clock.now())
    clock.set(item.due_at + timedelta(days=3))
    assert await services.escalation.run_once() == 0


async def test_urgent_alert_repeats_until_acknowledged(alerting: Services, clock: ManualClock) -> None:
    services = alerting
    case_id = await add_case(services, "CR/12/26", officer="PC1")
    feedback_id = await add_reply(services, "He is outside now with a knife", case_id)
    await services.classification.run_once()
    [control] = [i for i in await items_for(services, feedback_id) if i.target_ref == "control_room"]

    def alerts(rows: list[Notification]) -> list[tuple[str, str, int]]:
        return [(n.channel, n.kind, n.sequence) for n in rows if n.channel in {"sms", "webhook"}]

    assert alerts(await notifications(services)) == [("sms", "urgent", 0), ("webhook", "urgent", 0)]
    clock.advance(minutes=4)
    assert await services.escalation.repeat_urgent() == 0
    clock.advance(minutes=1)
    assert await services.escalation.repeat_urgent() == 1
    clock.advance(minutes=5)
    assert await services.escalation.repeat_urgent() == 1
    assert alerts(await notifications(services))[-2:] == [("sms", "urgent_repeat", 2), ("webhook", "urgent_repeat", 2)]
    sms = [n for n in await notifications(services) if n.channel == "sms"]
    assert {n.recipient for n in sms} == {ONCALL}

    await acknowledge(services, control.id or 0, clock.now())
    clock.advance(minutes=30)
    assert await services.escalation.repeat_urgent() == 0
    # Queued alerts not yet sent are cancelled rather than sent after the acknowledgement.
    await services.notifications.run_once()
    async with services.db.session() as s:
        statuses = {n.status for n in (await s.exec(select(Notification).where(
            Notification.work_item_id == control.id, Notification.channel == "sms"))).all()}
    assert "queued" not in statuses and "cancelled" in statuses


async def test_unacknowledged_urgent_item_escalates_to_the_duty_inspector(alerting: Services,
                                                                         clock: ManualClock) -> None:
    case_id = await add_case(alerting, "CR/13/26")
    feedback_id = await add_reply(alerting, "I am going to end it all tonight", case_id)
    await alerting.classification.run_once()
    clock.advance(minutes=16)
    assert await alerting.escalation.escalate_overdue() == 1
    targets = {(i.target_ref, i.priority) for i in await items_for(alerting, feedback_id)}
    assert targets == {("control_room", "urgent"), ("duty_inspector", "urgent")}


async def test_two_workers_never_queue_the_same_urgent_repeat(alerting: Services, clock: ManualClock) -> None:
    """Several `feedbackbot worker` processes on one database: each round of alerts is queued once."""
    case_id = await add_case(alerting, "CR/14/26", officer="PC1")
    feedback_id = await add_reply(alerting, "He is outside now with a knife", case_id)
    await alerting.classification.run_once()
    others = [build_services(alerting.settings, clock, classifier=KeywordClassifier) for _ in range(2)]
    try:
        for _ in range(3):
            clock.advance(minutes=5)
            done = await asyncio.gather(alerting.escalation.repeat_urgent(),
                                        *(o.escalation.repeat_urgent() for o in others))
            assert sum(done) == 1
    finally:
        for other in others:
            other.classifier.stop()
            await other.db.dispose()
    [control] = [i for i in await items_for(alerting, feedback_id) if i.target_ref == "control_room"]
    rounds = [(n.channel, n.sequence) for n in await notifications(alerting)
              if n.work_item_id == control.id and n.channel in {"sms", "webhook"}]
    assert sorted(rounds) == [(c, k) for c in ("sms", "webhook") for k in range(4)]
    repeats = [e for e in await events_for(alerting, control.id or 0) if e.kind == "alert_repeated"]
    assert [e.detail["sequence"] for e in repeats] == [1, 2, 3]
