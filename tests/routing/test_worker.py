"""A reply classified by the worker ends as the expected work items, events and notices (SQLite and PostgreSQL)."""

from __future__ import annotations

from feedbackbot.app import Services
from tests.routing.support import (
    VICTIM_TEXT,
    add_case,
    add_officer,
    add_reply,
    events_for,
    items_for,
    notifications,
)


async def test_urgent_reply_becomes_control_room_and_officer_items(services: Services) -> None:
    await add_officer(services, "PC1", supervisor="PS9", email="pc1@police.example")
    await add_officer(services, "PS9", email="ps9@police.example", role="supervisor")
    case_id = await add_case(services, "CR/1/26", officer="PC1", team="north_cid")
    feedback_id = await add_reply(services, VICTIM_TEXT, case_id, touchpoint="after_attendance")

    assert await services.classification.run_once() == 1

    items = await items_for(services, feedback_id)
    got = {(i.target_kind, i.target_ref, i.rule_id, i.purpose, i.priority) for i in items}
    assert got == {("queue", "control_room", "urgent_risk", "action", "urgent"),
                   ("officer", "PC1", "victim_requests", "action", "normal")}
    control = next(i for i in items if i.target_ref == "control_room")
    assert control.due_at == services.clock.now().replace(minute=15)
    assert (control.escalate_to_kind, control.escalate_to_ref) == ("queue", "duty_inspector")
    assert control.touchpoint == "after_attendance" and control.case_id == case_id
    officer = next(i for i in items if i.target_ref == "PC1")
    assert officer.owner_user_id is not None and officer.working_hours and officer.sla_minutes == 1200
    assert (officer.escalate_to_kind, officer.escalate_to_ref) == ("officer", "PS9")
    [created] = await events_for(services, officer.id or 0)
    assert created.kind == "created"
    assert created.detail["rule"] == "victim_requests"
    assert created.detail["also_matched"] == ["urgent_risk"]
    sent_to = {(n.work_item_id, n.channel, n.recipient) for n in await notifications(services)}
    assert sent_to == {(control.id, "email", "control.room@police.example"),
                       (officer.id, "email", "pc1@police.example")}


async def test_nothing_actionable_makes_no_item(services: Services) -> None:
    case_id = await add_case(services, "CR/2/26", officer="PC1")
    feedback_id = await add_reply(services, "The court date letter came on time", case_id)
    assert await services.classification.run_once() == 1
    assert await items_for(services, feedback_id) == []


async def test_unknown_officer_falls_back_and_says_why(services: Services) -> None:
    case_id = await add_case(services, "CR/3/26", officer="PC404")
    feedback_id = await add_reply(services, "Please call me back about the bike", case_id)
    await services.classification.run_once()
    [item] = await items_for(services, feedback_id)
    assert (item.target_kind, item.target_ref) == ("queue", "victim_care")
    [created] = await events_for(services, item.id or 0)
    assert created.detail["fallback"] == "officer in case PC404 has no active account: sent to the victim_care " \
                                         "queue instead"


async def test_reply_with_no_case_still_reaches_a_person(services: Services) -> None:
    feedback_id = await add_reply(services, "I want to complain about how rude he was", None)
    await services.classification.run_once()
    [item] = await items_for(services, feedback_id)
    assert (item.target_ref, item.rule_id) == ("professional_standards", "complaint")


async def test_routing_again_adds_nothing(services: Services) -> None:
    case_id = await add_case(services, "CR/4/26", officer="PC1")
    await add_officer(services, "PC1")
    feedback_id = await add_reply(services, "Please call me back", case_id)
    await services.classification.run_once()
    async with services.db.session() as s:
        from feedbackbot.store.tables import FeedbackItem

        item = await s.get(FeedbackItem, feedback_id)
        assert item is not None
        assert await services.router.route(s, item, now=services.clock.now()) == []
    assert len(await items_for(services, feedback_id)) == 1
