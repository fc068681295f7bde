"""Authorization as a table: role × page × own or another's item → the status a person gets."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from feedbackbot.accounts import Accounts
from tests.support.clock import ManualClock
from tests.support.staff import Browser, add_user, sign_in
from tests.support.workitems import rows, seed_item

QUEUE_TEXT = "The man is outside my door again right now"
OFFICER_TEXT = "Please ask PC Okafor to call me about the CCTV"

PEOPLE: dict[str, dict[str, Any]] = {
    "ada": {"role": "admin"},
    "cora": {"role": "officer", "officer_ref": "PC200", "teams": ("control_room",)},
    "olly": {"role": "officer", "officer_ref": "PC100", "supervisor_ref": "S1"},
    "otto": {"role": "officer", "officer_ref": "PC300", "teams": ("safeguarding",)},
    "sue": {"role": "supervisor", "officer_ref": "S1"},
    "bea": {"role": "board"},
}

# (who, page, expected status); {queue} is the control room's item, {mine} the item of PC100 (olly).
TABLE: list[tuple[str | None, str, int]] = [
    (None, "/inbox", 303), ("ada", "/inbox", 200), ("cora", "/inbox", 200), ("olly", "/inbox", 200),
    ("sue", "/inbox", 200), ("bea", "/inbox", 403),
    (None, "/inbox/items/{queue}", 303), ("ada", "/inbox/items/{queue}", 200), ("cora", "/inbox/items/{queue}", 200),
    ("olly", "/inbox/items/{queue}", 404), ("otto", "/inbox/items/{queue}", 404), ("sue", "/inbox/items/{queue}", 404),
    ("bea", "/inbox/items/{queue}", 403),
    ("ada", "/inbox/items/{mine}", 200), ("olly", "/inbox/items/{mine}", 200), ("sue", "/inbox/items/{mine}", 200),
    ("cora", "/inbox/items/{mine}", 404), ("otto", "/inbox/items/{mine}", 404), ("bea", "/inbox/items/{mine}", 403),
    ("ada", "/inbox/items/999999", 404), ("cora", "/inbox/export.csv", 200), ("bea", "/inbox/export.csv", 403),
    (None, "/admin/users", 303), ("ada", "/admin/users", 200), ("sue", "/admin/users", 403),
    ("cora", "/admin/users", 403), ("bea", "/admin/users", 403),
    ("ada", "/admin/audit", 200), ("sue", "/admin/audit", 403), ("olly", "/admin/audit", 403),
    ("bea", "/admin/audit", 403), ("ada", "/admin/outbox", 200), ("olly", "/admin/outbox", 403),
    ("bea", "/admin/outbox", 403),
]


async def test_role_page_and_item_table(staff_client: TestClient[Any, Any], accounts: Accounts,
                                        clock: ManualClock) -> None:
    db = accounts.db
    for name, spec in PEOPLE.items():
        await add_user(accounts, name, **spec)
    queue_item = await seed_item(db, clock.now(), text=QUEUE_TEXT, target_kind="queue", target_ref="control_room")
    officer_item = await seed_item(db, clock.now(), text=OFFICER_TEXT, target_kind="officer", target_ref="PC100")
    browsers: dict[str | None, Browser] = {None: Browser(staff_client)}
    for name in PEOPLE:
        browsers[name] = await sign_in(staff_client, name)
    failures = []
    for who, page, expected in TABLE:
        path = page.format(queue=queue_item.item_id, mine=officer_item.item_id)
        status, body = await browsers[who].get(path)
        if status != expected:
            failures.append(f"{who or 'nobody'} GET {path}: {status}, expected {expected}")
        if expected == 303:
            assert browsers[who].last_headers["Location"].startswith("/login?next=")
        if status != 200 or who == "ada":
            continue
        if "items/" in path:
            own = QUEUE_TEXT if page.endswith("{queue}") else OFFICER_TEXT
            other = OFFICER_TEXT if own == QUEUE_TEXT else QUEUE_TEXT
            assert own in body and other not in body, f"{who} on {path} sees another's reply"
    assert not failures, "\n".join(failures)
    # What each officer's inbox lists: only their own and their queues' items.
    for who, sees in (("cora", [QUEUE_TEXT]), ("olly", [OFFICER_TEXT]), ("sue", [OFFICER_TEXT]), ("otto", []),
                      ("ada", [QUEUE_TEXT, OFFICER_TEXT])):
        _, body = await browsers[who].get("/inbox")
        for text in (QUEUE_TEXT, OFFICER_TEXT):
            assert (text in body) == (text in sees), f"{who}'s inbox and {text!r}"
    # Asking for another's item is recorded as denied, by whom and for which item.
    denied = await rows(db, "SELECT username, action, object_id FROM audit_log WHERE outcome = 'denied' "
                            "AND object_type = 'work_item' ORDER BY id")
    assert ("olly", "work_item.view", str(queue_item.item_id)) in denied
    assert ("cora", "work_item.view", str(officer_item.item_id)) in denied
    assert ("otto", "work_item.view", str(officer_item.item_id)) in denied


async def test_acting_on_another_officers_item_is_404_and_changes_nothing(
        staff_client: TestClient[Any, Any], accounts: Accounts, clock: ManualClock) -> None:
    db = accounts.db
    await add_user(accounts, "otto", "officer", officer_ref="PC300", teams=("safeguarding",))
    await add_user(accounts, "cora", "officer", officer_ref="PC200", teams=("control_room",))
    item = await seed_item(db, clock.now(), target_kind="queue", target_ref="control_room")
    otto = await sign_in(staff_client, "otto")
    cora = await sign_in(staff_client, "cora")
    assert (await cora.get(f"/inbox/items/{item.item_id}"))[0] == 200
    for action, data in (("acknowledge", {"version": "0"}), ("note", {"note": "hello"}),
                         ("resolve", {"version": "0", "outcome": "Closed by someone else"})):
        status, _, _ = await otto.post(f"/inbox/items/{item.item_id}/{action}", data)
        assert status == 404, action
    assert await rows(db, "SELECT status, version FROM work_items WHERE id = :i", i=item.item_id) == [("new", 0)]
    assert await rows(db, "SELECT kind FROM work_item_events WHERE work_item_id = :i", i=item.item_id) == [
        ("created",)]
    denied = await rows(db, "SELECT action FROM audit_log WHERE username = 'otto' AND outcome = 'denied'")
    assert sorted(a for (a,) in denied) == ["work_item.acknowledge", "work_item.note", "work_item.resolve"]


async def test_board_members_never_see_victim_text(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                   clock: ManualClock) -> None:
    await add_user(accounts, "bea", "board")
    item = await seed_item(accounts.db, clock.now(), text=QUEUE_TEXT)
    bea = await sign_in(staff_client, "bea")
    for path in ("/inbox", f"/inbox/items/{item.item_id}", "/inbox/export.csv", "/admin/audit", "/login"):
        status, body = await bea.get(path)
        assert QUEUE_TEXT not in body, path
        assert status in (200, 403), path


# Every form on the staff pages, with a form that would succeed for someone allowed to use it.
ITEM_FORMS: dict[str, dict[str, str]] = {
    "acknowledge": {"version": "0"}, "start": {"version": "0"}, "note": {"note": "Called, no answer"},
    "reassign": {"version": "0", "target_queue": "safeguarding", "reason": "Ongoing harassment"},
    "reply": {"version": "0", "template": "callback_arranged"},
    "resolve": {"version": "0", "outcome": "We called back and arranged a visit"},
    "correct": {"version": "0", "risk": "none", "sentiment": "negative", "themes": "updates_and_information"},
}
# (who, whose item, expected status) for every item action: 303 back to the item when allowed (nobody: to /login).
ITEM_POST_TABLE: list[tuple[str | None, str, int]] = [
    (None, "queue", 303), ("bea", "queue", 403), ("olly", "queue", 404), ("otto", "queue", 404),
    ("sue", "queue", 404), ("cora", "queue", 303), ("ada", "queue", 303),
    ("cora", "mine", 404), ("otto", "mine", 404), ("olly", "mine", 303), ("sue", "mine", 303),
]
ADMIN_FORMS: dict[str, dict[str, str]] = {
    "/admin/users": {"username": "mallory", "role": "admin", "display_name": "Mallory",
                     "password": "a long enough password for mallory"},
    "/admin/users/cora/disable": {},
    "/admin/users/cora/password": {"password": "a long enough new password for cora"},
    "/admin/outbox/1/retry": {},
}


async def test_every_form_by_role_and_whose_item(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                 clock: ManualClock) -> None:
    db = accounts.db
    for name, spec in PEOPLE.items():
        await add_user(accounts, name, **spec)
    browsers: dict[str | None, Browser] = {None: Browser(staff_client)}
    for name in PEOPLE:
        browsers[name] = await sign_in(staff_client, name)
    failures = []
    for action, form in ITEM_FORMS.items():
        for who, whose, expected in ITEM_POST_TABLE:
            kind, ref = ("queue", "control_room") if whose == "queue" else ("officer", "PC100")
            item = await seed_item(db, clock.now(), target_kind=kind, target_ref=ref)
            status, _, location = await browsers[who].post(f"/inbox/items/{item.item_id}/{action}", form)
            if status != expected:
                failures.append(f"{who or 'nobody'} POST {action} on {whose} item: {status}, expected {expected}")
            elif who is not None and expected == 303:
                assert location == f"/inbox/items/{item.item_id}?done={action}"
            else:
                assert who is not None or location.partition("?")[0] == "/login"
                changed = await rows(db, "SELECT status, version FROM work_items WHERE id = :i", i=item.item_id)
                events = await rows(db, "SELECT kind FROM work_item_events WHERE work_item_id = :i", i=item.item_id)
                assert (changed, events) == ([("new", 0)], [("created",)]), f"{who} {action} changed the item"
    users_before = await rows(db, "SELECT username, active, password_hash FROM users ORDER BY id")
    for path, form in ADMIN_FORMS.items():
        for who, expected in ((None, 303), ("bea", 403), ("olly", 403), ("cora", 403), ("sue", 403)):
            status, _, location = await browsers[who].post(path, form)
            if status != expected or (who is None and location.partition("?")[0] != "/login"):
                failures.append(f"{who or 'nobody'} POST {path}: {status}, expected {expected}")
    for who, expected in ((None, 303), ("bea", 403), ("olly", 403), ("sue", 403), ("ada", 200)):
        status, _ = await browsers[who].get("/admin")
        if status not in (expected, 303 if expected == 200 else expected):
            failures.append(f"{who or 'nobody'} GET /admin: {status}, expected {expected}")
    assert not failures, "\n".join(failures)
    assert await rows(db, "SELECT username, active, password_hash FROM users ORDER BY id") == users_before, \
        "a refused admin form changed an account"
    denied = await rows(db, "SELECT username, action FROM audit_log WHERE outcome = 'denied' "
                            "AND action = 'work_item.resolve' ORDER BY id")
    assert {u for u, _ in denied} == {"olly", "otto", "sue", "cora"}
