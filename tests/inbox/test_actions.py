"""Every action on an item, through the item page's forms: its effect, its history and its audit rows."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from feedbackbot.accounts import Accounts
from tests.support.clock import ManualClock
from tests.support.staff import Browser, add_user, csrf_from, sign_in
from tests.support.workitems import rows, seed_item


async def _officer(staff_client: TestClient[Any, Any], accounts: Accounts, name: str = "cora",
                   ref: str = "PC200") -> Browser:
    await add_user(accounts, name, "officer", officer_ref=ref, teams=("control_room",),
                   email=f"{name}@police.example")
    return await sign_in(staff_client, name)


async def _version(accounts: Accounts, item_id: int) -> str:
    ((version,),) = await rows(accounts.db, "SELECT version FROM work_items WHERE id = :i", i=item_id)
    return str(version)


async def test_acknowledge_start_note_and_resolve(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                  clock: ManualClock) -> None:
    db = accounts.db
    cora = await _officer(staff_client, accounts)
    item = await seed_item(db, clock.now())
    path = f"/inbox/items/{item.item_id}"
    status, page = await cora.get(path)
    assert status == 200 and "Acknowledge" in page
    cora.csrf = csrf_from(page)
    assert (await cora.post(f"{path}/acknowledge", {"version": "0"}))[0] == 303
    clock.advance(minutes=2)
    assert (await cora.post(f"{path}/start", {"version": "1"}))[0] == 303
    assert (await cora.post(f"{path}/note", {"note": "Rang the victim, no answer; trying again at 3pm"}))[0] == 303
    status, page = await cora.get(f"{path}?done=note")
    assert "Your note was added." in page and "Rang the victim, no answer" in page
    status, _, location = await cora.post(f"{path}/resolve", {
        "version": "2", "outcome": "Officers attended within 10 minutes and the suspect was arrested."})
    assert status == 303 and location == f"{path}?done=resolve"
    ((state, acknowledged_by, resolved_by, outcome, version),) = await rows(
        db, "SELECT status, acknowledged_by, resolved_by, outcome, version FROM work_items WHERE id = :i",
        i=item.item_id)
    user_id = (await accounts.users.get("cora")).id  # type: ignore[union-attr]
    assert (state, acknowledged_by, resolved_by, version) == ("resolved", user_id, user_id, 3)
    assert outcome == "Officers attended within 10 minutes and the suspect was arrested."
    history = await rows(db, "SELECT kind, user_id FROM work_item_events WHERE work_item_id = :i ORDER BY id",
                         i=item.item_id)
    assert history == [("created", None), ("acknowledged", user_id), ("started", user_id), ("note", user_id),
                       ("resolved", user_id)]
    audited = await rows(db, "SELECT action, outcome FROM audit_log WHERE username = 'cora' "
                             "AND object_type = 'work_item' AND action != 'work_item.view' ORDER BY id")
    assert audited == [("work_item.acknowledged", "ok"), ("work_item.started", "ok"), ("work_item.note", "ok"),
                       ("work_item.resolved", "ok")]
    views = await rows(db, "SELECT count(*) FROM audit_log WHERE action = 'work_item.view' AND username = 'cora'")
    assert views[0][0] >= 2, "every view of the item is in the audit log"
    # A resolved item cannot be resolved again, and the page says so.
    status, page, _ = await cora.post(f"{path}/resolve", {"version": "3", "outcome": "again and again and again"})
    assert status == 400 and "cannot be resolved" in page


async def test_resolve_needs_an_outcome_for_the_board(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                      clock: ManualClock) -> None:
    cora = await _officer(staff_client, accounts)
    item = await seed_item(accounts.db, clock.now())
    status, page, _ = await cora.post(f"/inbox/items/{item.item_id}/resolve", {"version": "0", "outcome": "  "})
    assert status == 400 and "you said, we did" in page
    assert await rows(accounts.db, "SELECT status FROM work_items WHERE id = :i", i=item.item_id) == [("new",)]


async def test_two_officers_at_once_the_second_is_told_and_keeps_their_words(
        staff_client: TestClient[Any, Any], accounts: Accounts, clock: ManualClock) -> None:
    cora = await _officer(staff_client, accounts)
    carl = await _officer(staff_client, accounts, "carl", "PC201")
    item = await seed_item(accounts.db, clock.now())
    path = f"/inbox/items/{item.item_id}"
    await cora.get(path)
    await carl.get(path)  # both have version 0 in their forms
    first = await cora.post(f"{path}/resolve", {"version": "0", "outcome": "Cora called back and arranged a visit."})
    assert first[0] == 303
    status, page, _ = await carl.post(f"{path}/resolve", {"version": "0", "outcome": "Carl's careful outcome text"})
    assert status == 409
    assert "Someone else changed this item" in page
    assert "Carl&#39;s careful outcome text" in page, "the second officer's words are shown back to them"
    assert await rows(accounts.db, "SELECT outcome FROM work_items WHERE id = :i", i=item.item_id) == [
        ("Cora called back and arranged a visit.",)]
    assert await rows(accounts.db, "SELECT outcome FROM audit_log WHERE username = 'carl' "
                                   "AND action = 'work_item.resolve'") == [("conflict",)]


async def test_reassign_to_a_queue_opens_a_new_item_and_queues_a_notification(
        staff_client: TestClient[Any, Any], accounts: Accounts, clock: ManualClock) -> None:
    db = accounts.db
    cora = await _officer(staff_client, accounts)
    item = await seed_item(db, clock.now())
    path = f"/inbox/items/{item.item_id}"
    status, _, _ = await cora.post(f"{path}/reassign", {
        "version": "0", "target_queue": "safeguarding", "reason": "Ongoing harassment, not an emergency"})
    assert status == 303
    ((old_status, new_id),) = await rows(db, "SELECT status, reassigned_to_id FROM work_items WHERE id = :i",
                                         i=item.item_id)
    assert old_status == "reassigned"
    assert await rows(db, "SELECT target_kind, target_ref, status, feedback_item_id FROM work_items "
                          "WHERE id = :i", i=new_id) == [("queue", "safeguarding", "new", item.feedback_id)]
    assert await rows(db, "SELECT channel, recipient, kind, status FROM notifications WHERE work_item_id = :i",
                      i=new_id) == [("email", "public.protection@police.example", "reassigned", "queued")]
    assert await rows(db, "SELECT kind, note FROM work_item_events WHERE work_item_id = :i ORDER BY id",
                      i=new_id) == [("created", "Ongoing harassment, not an emergency")]
    assert ("work_item.reassigned",) in await rows(db, "SELECT action FROM audit_log WHERE object_id = :i",
                                                   i=str(item.item_id))
    # Cora does not work the safeguarding queue: the new item is not hers to open.
    assert (await cora.get(f"/inbox/items/{new_id}"))[0] == 404
    # Passing on to an officer by reference notifies them by email.
    other = await seed_item(db, clock.now())
    await add_user(accounts, "olly", "officer", officer_ref="PC100", email="olly@police.example")
    assert (await cora.post(f"/inbox/items/{other.item_id}/reassign", {
        "version": "0", "target_officer": "PC100", "reason": "Officer in case knows the family"}))[0] == 303
    assert ("olly@police.example",) in await rows(db, "SELECT recipient FROM notifications")
    third = await seed_item(db, clock.now())
    status, page, _ = await cora.post(f"/inbox/items/{third.item_id}/reassign", {
        "version": "0", "target_officer": "PC999", "reason": "x"})
    assert status == 400 and "no active officer with reference PC999" in page


@pytest.mark.parametrize("channel", ["sms", "email"])
async def test_reply_to_the_victim_goes_out_on_their_channel(staff_client: TestClient[Any, Any],
                                                             accounts: Accounts, clock: ManualClock,
                                                             channel: str) -> None:
    db = accounts.db
    cora = await _officer(staff_client, accounts)
    item = await seed_item(db, clock.now(), channel=channel)
    path = f"/inbox/items/{item.item_id}"
    _, page = await cora.get(path)
    assert "We will call you back" in page and f"Reply to the victim by {channel}" in page
    assert (await cora.post(f"{path}/reply", {"version": "0", "template": "callback_arranged"}))[0] == 303
    ((out_channel, address, status, purpose, text, in_reply_to),) = await rows(
        db, "SELECT channel, address, status, purpose, text, in_reply_to FROM messages WHERE direction = 'out'")
    assert (out_channel, address, status, purpose) == (channel, item.address, "queued", "officer_reply")
    assert "Cora from West Midlands Police will call you about 20/" in text and "{" not in text
    assert in_reply_to is not None, "the reply threads onto the victim's message"
    assert await rows(db, "SELECT kind FROM work_item_events WHERE work_item_id = :i ORDER BY id",
                      i=item.item_id) == [("created",), ("replied",)]


async def test_no_reply_to_a_victim_who_opted_out(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                  clock: ManualClock) -> None:
    cora = await _officer(staff_client, accounts)
    item = await seed_item(accounts.db, clock.now(), opted_out=True)
    _, page = await cora.get(f"/inbox/items/{item.item_id}")
    assert "opted out" in page and "Send reply" not in page
    status, page, _ = await cora.post(f"/inbox/items/{item.item_id}/reply",
                                      {"version": "0", "template": "callback_arranged"})
    assert status == 400 and "opted out" in page
    assert await rows(accounts.db, "SELECT count(*) FROM messages WHERE direction = 'out'") == [(0,)]


async def test_correcting_the_tags_is_stored_and_shown(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                       clock: ManualClock) -> None:
    db = accounts.db
    cora = await _officer(staff_client, accounts)
    item = await seed_item(db, clock.now(), themes=("praise",))
    path = f"/inbox/items/{item.item_id}"
    form = {"version": "0", "risk": "safeguarding", "risk_categories": "ongoing_abuse", "sentiment": "negative",
            "themes": "respect_and_empathy", "requests": "callback", "note": "Not praise: sarcasm"}
    assert (await cora.post(f"{path}/correct", form))[0] == 303
    ((before, after, note),) = await rows(db, "SELECT before, after, note FROM classification_corrections")
    assert "praise" in str(before) and "respect_and_empathy" in str(after) and note == "Not praise: sarcasm"
    _, page = await cora.get(path)
    assert "corrected by an officer" in page
    assert "safeguarding: ongoing_abuse" in page and "respect_and_empathy" in page and "callback" in page
    status, page, _ = await cora.post(f"{path}/correct", {**form, "version": "1", "risk": "extreme"})
    assert status == 400 and "Choose a risk level" in page
