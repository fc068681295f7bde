"""End to end in real Chromium: a victim's urgent web-chat reply reaches the control room's inbox, is acted on
and closed; another officer cannot open it; the inbox pages pass axe-core and work at 320px."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from tests.support.server import Server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "control room password 1"
URGENT = 'he is outside now banging on the door <script>alert(1)</script> "><img src=x onerror=alert(1)>'


def add_user(server: Server, username: str, *args: str) -> None:
    """`feedbackbot users add`, as an administrator runs it, against the server's database."""
    done = subprocess.run([sys.executable, "-m", "feedbackbot.cli", "users", "add", username, *args,
                           "--password-stdin"], input=PASSWORD + "\n", text=True, capture_output=True,
                          env=server.environment(), cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def staff(server: Server) -> Server:
    add_user(server, "cora", "--role", "officer", "--name", "PC Cora Reyes", "--officer-ref", "CR1",
             "--teams", "control_room")
    add_user(server, "otto", "--role", "officer", "--name", "PC Otto Lane", "--officer-ref", "PC300",
             "--teams", "safeguarding")
    return server


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(bypass_csp=False)
    try:
        yield ctx
    finally:
        ctx.close()


def sign_in(page: Page, server: Server, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def victim_says(page: Page, server: Server, text: str) -> str:
    token = server.invite("after_attendance")
    page.goto(f"{server.url}/s/{token}")
    page.locator("#reply-text").fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#log li.msg-police").last).to_contain_text("999")
    return token


def wait_for_item(server: Server, token: str, timeout: float = 10) -> int:
    """The control room's work item for this victim's reply, once the router has committed it."""
    deadline = time.monotonic() + timeout
    while True:
        found = server.query(
            "SELECT w.id FROM work_items w JOIN feedback_items f ON f.id = w.feedback_item_id "
            "JOIN messages m ON m.id = f.message_id WHERE m.address = ? AND w.target_kind = 'queue' "
            "AND w.target_ref = 'control_room'", (f"web:{token}",))
        if found:
            return int(found[0][0])
        assert time.monotonic() < deadline, (
            "no control-room work item for the urgent reply: is the router wired into the conversation?\n"
            + server.log_tail())
        time.sleep(0.1)


def axe_problems(page: Page) -> list[str]:
    if page.evaluate("() => typeof window.axe") == "undefined":
        page.add_script_tag(path=AXE)
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {json.dumps([n['target'] for n in v['nodes']])}"
            for v in result["violations"] if v["impact"] in {"serious", "critical"}]


def test_urgent_reply_reaches_the_control_room_and_is_closed(staff: Server, context: BrowserContext,
                                                             browser: Browser) -> None:
    victim = context.new_page()
    token = victim_says(victim, staff, URGENT)
    item_id = wait_for_item(staff, token)

    officer = browser.new_context()
    page = officer.new_page()
    alerts: list[str] = []
    def on_dialog(dialog: Dialog) -> None:
        alerts.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page, staff, "cora")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Item {item_id}"))
    expect(row).to_contain_text("he is outside now banging on the door")
    expect(row).to_contain_text("Urgent")
    page.get_by_role("link", name=f"Item {item_id}").click()
    expect(page.locator("#reply-text")).to_have_text(URGENT)  # the hostile markup is shown as text
    expect(page.locator("#cues")).to_contain_text("immediate danger")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_have_text("You acknowledged this item.")
    page.get_by_label("Add a note").fill("Units dispatched; victim called back on 999 line")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#history")).to_contain_text("Units dispatched")
    page.get_by_label("What was done").fill("Officers attended in 9 minutes and arrested the suspect.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Item {item_id}: resolved")
    assert alerts == [], "no script from the victim's text ran"
    assert staff.query("SELECT status, outcome FROM work_items WHERE id = ?", (item_id,)) == [
        ("resolved", "Officers attended in 9 minutes and arrested the suspect.")]
    kinds = [k for (k,) in staff.query("SELECT kind FROM work_item_events WHERE work_item_id = ? ORDER BY id",
                                        (item_id,))]
    assert kinds == ["created", "acknowledged", "note", "resolved"]
    officer.close()

    # Another officer, who does not work the control room, gets 404 for the same item.
    other = browser.new_context()
    otto = other.new_page()
    sign_in(otto, staff, "otto")
    response = otto.goto(f"{staff.url}/inbox/items/{item_id}")
    assert response is not None and response.status == 404
    expect(otto.locator("body")).not_to_contain_text("banging on the door")
    other.close()
    assert staff.query("SELECT outcome FROM audit_log a JOIN users u ON u.id = a.user_id WHERE u.username = 'otto' "
                       "AND a.object_id = ?", (str(item_id),)) == [("denied",)]


def test_inbox_pages_are_accessible_and_fit_a_phone(staff: Server, context: BrowserContext,
                                                    browser: Browser) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: scripts/test.sh installs it with npm into tests/browser/.axe")
    victim = context.new_page()
    token = victim_says(victim, staff, "he is outside now banging on the door")
    item_id = wait_for_item(staff, token)
    for viewport in ({"width": 1280, "height": 900}, {"width": 320, "height": 640}):
        # The Content-Security-Policy (rightly) refuses injected scripts; let axe in for this test only.
        ctx = browser.new_context(bypass_csp=True, viewport=viewport)  # type: ignore[arg-type]
        page = ctx.new_page()
        page.goto(f"{staff.url}/login")
        assert axe_problems(page) == [], f"sign-in page at {viewport}"
        sign_in(page, staff, "cora")
        assert axe_problems(page) == [], f"inbox at {viewport}"
        page.goto(f"{staff.url}/inbox/items/{item_id}")
        assert axe_problems(page) == [], f"item page at {viewport}"
        widths: dict[str, int] = page.evaluate(
            "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})")
        assert widths["scroll"] <= widths["client"], f"the item page scrolls sideways at {viewport}: {widths}"
        ctx.close()
