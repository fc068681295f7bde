"""The audit log is append-only in the database; administrators search it and manage users and failed sends."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from feedbackbot.accounts import Accounts
from feedbackbot.store.tables import Message
from tests.support.clock import ManualClock
from tests.support.staff import PASSWORD, add_user, sign_in
from tests.support.workitems import rows, seed_item


async def test_the_database_refuses_to_change_or_delete_audit_entries(staff_client: TestClient[Any, Any],
                                                                      accounts: Accounts) -> None:
    await add_user(accounts, "ada", "admin")
    await sign_in(staff_client, "ada")
    before = await rows(accounts.db, "SELECT id, username, action, outcome FROM audit_log ORDER BY id")
    assert [r[2] for r in before] == ["login", "inbox.view"]
    for statement in ("UPDATE audit_log SET outcome = 'ok', username = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with accounts.db.session() as s:
                await s.exec(text(statement))  # type: ignore[call-overload]
    assert await rows(accounts.db, "SELECT id, username, action, outcome FROM audit_log ORDER BY id") == before


async def test_admin_adds_disables_and_resets_users(staff_client: TestClient[Any, Any], accounts: Accounts) -> None:
    await add_user(accounts, "ada", "admin")
    ada = await sign_in(staff_client, "ada")
    status, page, _ = await ada.post("/admin/users", {"username": "new.officer", "role": "officer",
                                                       "display_name": "PC New", "officer_ref": "PC500",
                                                       "teams": "control_room, safeguarding", "password": "short"})
    assert status == 400 and "at least 12 characters" in page and 'value="PC New"' in page
    status, _, _ = await ada.post("/admin/users", {"username": "new.officer", "role": "officer",
                                                    "display_name": "PC New", "officer_ref": "PC500",
                                                    "teams": "control_room, safeguarding",
                                                    "password": "twelve chars ok"})
    assert status == 303
    row = await accounts.users.get("new.officer")
    assert row is not None and row.teams == ["control_room", "safeguarding"]
    assert row.password_hash.startswith("$argon2id$") and "twelve" not in row.password_hash
    newcomer = await sign_in(staff_client, "new.officer", "twelve chars ok")
    assert (await ada.post("/admin/users/new.officer/password", {"password": "another long password"}))[0] == 303
    assert (await newcomer.get("/inbox"))[0] == 303, "a reset password ends their sessions"
    assert (await ada.post("/admin/users/new.officer/disable", {}))[0] == 303
    _, page = await ada.get("/admin/users")
    assert "disabled" in page
    actions = await rows(accounts.db, "SELECT action, object_id FROM audit_log WHERE username = 'ada' "
                                      "AND action LIKE 'user.%' ORDER BY id")
    assert actions == [("user.add", "new.officer"), ("user.set_password", "new.officer"),
                       ("user.disable", "new.officer")]


async def test_audit_search_by_user_action_object_and_date(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                           clock: ManualClock) -> None:
    await add_user(accounts, "ada", "admin")
    await add_user(accounts, "olly", "officer", officer_ref="PC100")
    item = await seed_item(accounts.db, clock.now(), target_kind="queue", target_ref="control_room")
    olly = await sign_in(staff_client, "olly")
    await olly.get(f"/inbox/items/{item.item_id}")
    clock.advance(days=2)
    ada = await sign_in(staff_client, "ada")
    _, page = await ada.get(f"/admin/audit?username=olly&outcome=denied&object_id={item.item_id}")
    assert "1 entry" in page and "work_item.view" in page
    _, page = await ada.get("/admin/audit?action=login")
    assert "2 entries" in page
    day = clock.now().date().isoformat()
    _, page = await ada.get(f"/admin/audit?since={day}&until={day}&action=login")
    assert "1 entry" in page, "only Ada's sign-in is on the later day"


async def test_admin_retries_a_failed_send(staff_client: TestClient[Any, Any], accounts: Accounts,
                                           clock: ManualClock) -> None:
    await add_user(accounts, "ada", "admin")
    now = clock.now()
    async with accounts.db.session() as s:
        failed = Message(direction="out", channel="sms", address="sms:+447700900001", text="Secret victim words",
                         status="failed", error_code="30006", error_reason="landline or unreachable carrier",
                         attempts=3, quick_replies=[], media=[], created_at=now, updated_at=now)
        s.add(failed)
        await s.flush()
        message_id = failed.id
    ada = await sign_in(staff_client, "ada")
    _, page = await ada.get("/admin/outbox")
    assert "landline or unreachable carrier" in page and f"Retry message {message_id}" in page
    assert "Secret victim words" not in page and "+447700900001" not in page
    status, _, location = await ada.post(f"/admin/outbox/{message_id}/retry", {})
    assert status == 303 and location == f"/admin/outbox?retried={message_id}"
    assert await rows(accounts.db, "SELECT status, attempts FROM messages WHERE id = :i", i=message_id) == [
        ("queued", 0)]
    assert (await ada.post(f"/admin/outbox/{message_id}/retry", {}))[0] == 404, "only failed or held sends"


def test_users_command(tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    import io

    from feedbackbot.cli import main

    monkeypatch.setenv("FEEDBACKBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "cora", "--role", "officer", "--name", "PC Cora", "--officer-ref", "PC200",
                 "--teams", "control_room", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "weak", "--role", "officer", "--name", "W", "--officer-ref", "PC9",
                 "--password-stdin"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "cora\tofficer\tactive\tPC200\t-\tcontrol_room\tPC Cora" in out and "weak" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("a different long password\n"))
    assert main(["users", "set-password", "cora", "--password-stdin"]) == 0
    assert main(["users", "disable", "cora"]) == 0
    assert main(["users", "disable", "nobody"]) == 1
    assert "there is no user called nobody" in capsys.readouterr().err
    assert main(["users", "list"]) == 0
    assert "cora\tofficer\tdisabled" in capsys.readouterr().out
