"""A victim uses the web chat in a real browser: by keyboard, without JavaScript, zoomed in, with hostile text."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from tests.support.server import Server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
SCRIPT = '<script>alert(1)</script>'
IMG = '"><img src=x onerror=alert(1)>'
FREE_TEXT = "Nobody called me back after the visit"


# --- what the server stored ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One message of a conversation as stored."""

    id: int
    direction: str
    step_id: str | None
    text: str


def stored(server: Server, token: str) -> list[Row]:
    """The conversation in the database, in order (what the page must show, no more, no less)."""
    return [Row(*r) for r in server.query(
        "SELECT id, direction, step_id, text FROM messages WHERE address = ? AND status != 'cancelled' "
        "ORDER BY id", (f"web:{token}",))]


def bot_said(server: Server, token: str) -> list[Row]:
    return [r for r in stored(server, token) if r.direction == "out"]


def wait_for_bot(server: Server, token: str, seen: int, timeout: float = 10) -> list[Row]:
    """Wait until the bot has committed more than ``seen`` messages; return the new ones."""
    deadline = time.monotonic() + timeout
    while True:
        said = bot_said(server, token)
        if len(said) > seen:
            return said[seen:]
        assert time.monotonic() < deadline, f"the bot did not reply:\n{server.log_tail()}"
        time.sleep(0.05)


def answers(server: Server, token: str) -> list[tuple[str, str | None, bool]]:
    return [(step, value, bool(skipped)) for step, value, skipped in server.query(
        "SELECT a.step_id, a.value, a.skipped FROM answers a JOIN survey_sessions s ON s.id = a.session_id "
        "WHERE s.address = ? ORDER BY a.id", (f"web:{token}",))]


def survey_status(server: Server, token: str) -> str:
    rows = server.query("SELECT status FROM survey_sessions WHERE address = ?", (f"web:{token}",))
    assert len(rows) == 1, rows
    status: str = rows[0][0]
    return status


# --- the browser ----------------------------------------------------------------------------------------

@dataclass
class Chat:
    """A victim's browser tab on their survey link."""

    server: Server
    token: str
    page: Page
    dialogs: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.server.url}/s/{self.token}"

    def police(self) -> list[str]:
        return self.page.locator("#log li.msg-police p").all_inner_texts()

    def victim(self) -> list[str]:
        return self.page.locator("#log li.msg-victim p").all_inner_texts()

    def focused(self) -> str:
        """The focused element as ``tag#id[value]``, to follow keyboard focus."""
        description: str = self.page.evaluate(
            "() => { const e = document.activeElement; if (!e) return '';"
            " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.value ? '[' + e.value + ']' : ''); }")
        return description

    def tab_to(self, selector: str, *, backwards: bool = False, limit: int = 20) -> list[str]:
        """Press Tab (or Shift+Tab) until ``selector`` has focus; return what focus passed through."""
        visited: list[str] = []
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            visited.append(self.focused())
            if self.page.evaluate("s => document.activeElement.matches(s)", selector):
                return visited
        raise AssertionError(f"{selector} never took focus; focus went {visited}")

    def shows_stored_conversation(self) -> None:
        """The live log holds exactly what was stored: every message, in order, once."""
        rows = stored(self.server, self.token)
        expect(self.page.locator("#log li.msg")).to_have_count(len(rows))
        assert self.police() == [r.text for r in rows if r.direction == "out"]
        assert self.victim() == [r.text for r in rows if r.direction == "in"]

    def no_horizontal_scroll(self) -> None:
        widths: dict[str, int] = self.page.evaluate(
            "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})")
        assert widths["scroll"] <= widths["client"], f"the page scrolls sideways: {widths}"

    def fully_in_view(self, selector: str) -> None:
        """Visible and not cut off at either side of the viewport."""
        viewport = self.page.viewport_size
        assert viewport is not None
        for element in self.page.locator(selector).all():
            expect(element).to_be_visible()
            box = element.bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5, (selector, box, viewport)


class OpenChat:
    """Opens survey links in fresh browser contexts (own cookies, own settings) and closes them afterwards."""

    def __init__(self, browser: Browser, server: Server) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[BrowserContext] = []

    def __call__(self, token: str, **options: Any) -> Chat:
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        chat = Chat(self.server, token, page)

        def on_dialog(dialog: Dialog) -> None:
            chat.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        response = page.goto(chat.url)
        assert response is not None and response.status == 200
        return chat

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def open_chat(browser: Browser, server: Server) -> Iterator[OpenChat]:
    opener = OpenChat(browser, server)
    yield opener
    opener.close()


def reply_by_keyboard(chat: Chat, text: str) -> list[Row]:
    """Type into the focused reply box and press Enter; wait for the bot and for the page to show it."""
    seen = len(bot_said(chat.server, chat.token))
    expect(chat.page.locator("#reply-text")).to_be_focused()
    chat.page.keyboard.type(text)
    chat.page.keyboard.press("Enter")
    new = wait_for_bot(chat.server, chat.token, seen)
    expect(chat.page.locator("#log li.msg-police p").last).to_have_text(new[-1].text)
    return new


# --- a. keyboard only -----------------------------------------------------------------------------------

def test_a_whole_survey_by_keyboard_alone(open_chat: OpenChat, server: Server) -> None:
    token = server.invite("after_attendance")
    chat = open_chat(token, viewport={"width": 1280, "height": 800})
    log = chat.page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_have_attribute("id", "log")
    chat.shows_stored_conversation()
    assert bot_said(server, token)[-1].step_id == "q_respect"

    visited = chat.tab_to("#reply-text")
    assert visited == ["a", "textarea#reply-text"], "the skip link, then straight to the reply box"
    expect(chat.page.get_by_label("Your reply")).to_be_focused()

    assert [r.step_id for r in reply_by_keyboard(chat, "yes")] == ["q_next_steps"]
    expect(chat.page.locator("#reply-text")).to_be_focused()  # focus comes back to the box for the next answer
    expect(chat.page.locator("#reply-text")).to_have_value("")
    assert [r.step_id for r in reply_by_keyboard(chat, "no")] == ["q_support"]
    support = reply_by_keyboard(chat, "no")
    assert [r.step_id for r in support] == ["m_support", "q_overall"], "a 'no' to support gets the number"
    assert [r.step_id for r in reply_by_keyboard(chat, "4")] == ["q_comment"]
    assert [r.step_id for r in reply_by_keyboard(chat, FREE_TEXT)] == ["end"]

    finished = chat.page.get_by_role("status")
    expect(finished).to_have_text("This survey has finished. Thank you for your time.")
    expect(chat.page.locator("#reply-form")).to_have_count(0)
    chat.shows_stored_conversation()
    assert chat.victim() == ["yes", "no", "no", "4", FREE_TEXT]
    # Each message carries who said it for screen readers, the same as on a fresh page load.
    assert chat.page.locator("#log li.msg-police .visually-hidden").all_inner_texts() == \
        ["West Midlands Police said:"] * len(chat.police())

    assert answers(server, token) == [("q_respect", "yes", False), ("q_next_steps", "no", False),
                                      ("q_support", "no", False), ("q_overall", "4", False),
                                      ("q_comment", FREE_TEXT, False)]
    assert survey_status(server, token) == "completed"
    assert (FREE_TEXT,) in server.query("SELECT text FROM feedback_items WHERE step_id = 'q_comment'")
    reloaded = server.get(f"/s/{token}")
    assert FREE_TEXT in reloaded.text and "This survey has finished" in reloaded.text
    assert chat.dialogs == []


@pytest.mark.parametrize(("flow", "before", "key", "choice", "step", "value", "next_step"), [
    # The first question: buttons drawn by the server, enhanced by the script.
    ("after_101_call", [], "Space", "3", "q_wait", "too_long", "q_next_steps"),
    # A later question: buttons added by the script when the question arrives.
    ("after_court", ["yes", "no"], "Enter", "2", "q_witness_care", "ok", "q_comment"),
], ids=["server-drawn-buttons", "script-drawn-buttons"])
def test_choice_buttons_work_by_keyboard(open_chat: OpenChat, server: Server, flow: str, before: list[str],
                                         key: str, choice: str, step: str, value: str, next_step: str) -> None:
    token = server.invite(flow)
    chat = open_chat(token)
    chat.tab_to("#reply-text")
    for text in before:
        reply_by_keyboard(chat, text)
    assert bot_said(server, token)[-1].step_id == step
    buttons = chat.page.locator("#choices button")
    expect(buttons.first).to_be_visible()
    expect(chat.page.get_by_role("group", name="Choose an answer")).to_be_visible()
    assert buttons.count() >= 3
    for button in buttons.all():
        assert button.get_attribute("type") == "button"  # the script answers; no page reload

    # Back from the reply box (or forward from the top) to the chosen button, then press it.
    chat.tab_to(f'#choices button[value="{choice}"]', backwards=bool(before))
    expect(chat.page.locator(f'#choices button[value="{choice}"]')).to_be_focused()
    seen = len(bot_said(server, token))
    chat.page.keyboard.press(key)
    new = wait_for_bot(server, token, seen)
    assert new[0].step_id == next_step
    expect(chat.page.locator("#log li.msg-police p").last).to_have_text(new[-1].text)
    expect(chat.page.locator("#choices")).to_have_count(0)  # the next question is not a choice
    expect(chat.page.locator("#reply-text")).to_be_focused()
    chat.shows_stored_conversation()
    assert chat.victim()[-1] == choice
    assert answers(server, token)[-1] == (step, value, False)


# --- b. without JavaScript ------------------------------------------------------------------------------

def test_the_form_works_without_javascript(open_chat: OpenChat, server: Server) -> None:
    token = server.invite("after_101_call")
    chat = open_chat(token, java_script_enabled=False)
    page = chat.page
    chat.shows_stored_conversation()
    assert bot_said(server, token)[-1].step_id == "q_wait"
    # Without the script the choices are plain submit buttons of the form.
    assert page.locator("#choices button").first.get_attribute("type") == "submit"

    def submitted(seen: int, victim_count: int) -> list[Row]:
        new = wait_for_bot(server, token, seen)
        expect(page.locator("#log li.msg-victim")).to_have_count(victim_count)
        expect(page.locator("#log li.msg-police p").last).to_have_text(new[-1].text)
        assert page.url == f"{chat.url}#latest"
        return new

    # A choice button posts the form; the page redraws with the reply and the next question.
    chat.tab_to('#choices button[value="2"]')
    seen = len(bot_said(server, token))
    page.keyboard.press("Enter")
    assert [r.step_id for r in submitted(seen, 1)] == ["q_next_steps"]
    expect(page.locator("#choices")).to_have_count(0)

    # Typing a reply and sending it with the Send button.
    chat.tab_to("#reply-text")
    page.keyboard.type("yes")
    chat.tab_to("button.send")
    seen = len(bot_said(server, token))
    page.keyboard.press("Enter")
    assert [r.step_id for r in submitted(seen, 2)] == ["q_overall"]

    # An empty reply is refused with a message tied to the box; nothing is stored.
    stored_before = stored(server, token)
    page.locator("button.send").click()
    error = page.get_by_role("alert")
    expect(error).to_have_text("Please type a reply before sending.")
    expect(page.locator("#reply-text")).to_have_attribute("aria-describedby", "reply-hint reply-error")
    assert stored(server, token) == stored_before

    page.locator("#reply-text").fill("5")
    seen = len(bot_said(server, token))
    page.locator("button.send").click()
    assert [r.step_id for r in submitted(seen, 3)] == ["q_comment"]
    chat.shows_stored_conversation()
    assert chat.victim() == ["2", "yes", "5"]
    assert answers(server, token) == [("q_wait", "about_right", False), ("q_next_steps", "yes", False),
                                      ("q_overall", "5", False)]
    assert survey_status(server, token) == "active"


# --- c. zoom and narrow screens -------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "height", "scale"), [(640, 800, 2), (320, 640, 1)],
                         ids=["200-percent-zoom", "320px-reflow"])
def test_readable_at_200_percent_zoom_and_320px(open_chat: OpenChat, server: Server, width: int, height: int,
                                                scale: int) -> None:
    token = server.invite("after_court")
    chat = open_chat(token, viewport={"width": width, "height": height}, device_scale_factor=scale)
    chat.no_horizontal_scroll()
    chat.tab_to("#reply-text")
    reply_by_keyboard(chat, "yes")
    # A long unbroken reply (a pasted link) must wrap, not push the page sideways.
    reply_by_keyboard(chat, "https://example.invalid/" + "x" * 200)
    reply_by_keyboard(chat, "no")
    expect(chat.page.locator("#choices button").first).to_be_visible()
    chat.no_horizontal_scroll()
    for selector in ("#reply-text", "button.send", "#choices button", "#log li.msg"):
        chat.fully_in_view(selector)
    chat.page.reload()
    chat.no_horizontal_scroll()
    for selector in ("#reply-text", "button.send", "#choices button", "#log li.msg", "h1"):
        chat.fully_in_view(selector)


@pytest.mark.parametrize(("name", "width", "height", "scale"), [("desktop", 1280, 800, 1), ("phone", 390, 844, 2)])
def test_desktop_and_phone_layout(open_chat: OpenChat, server: Server, name: str, width: int, height: int,
                                  scale: int) -> None:
    """Also writes docs/screenshots/web-chat-{desktop,phone}.png when FEEDBACKBOT_SCREENSHOTS=1."""
    token = server.invite("after_court")
    chat = open_chat(token, viewport={"width": width, "height": height}, device_scale_factor=scale,
                     is_mobile=name == "phone", has_touch=name == "phone")
    chat.tab_to("#reply-text")
    reply_by_keyboard(chat, "yes")
    reply_by_keyboard(chat, "no")
    chat.page.reload()
    expect(chat.page.locator("#choices button").first).to_be_visible()
    chat.no_horizontal_scroll()
    for selector in ("#reply-text", "button.send", "#choices button"):
        chat.fully_in_view(selector)
    if os.environ.get("FEEDBACKBOT_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        chat.page.screenshot(path=SCREENSHOTS / f"web-chat-{name}.png", full_page=True, animations="disabled",
                             caret="hide")


# --- d. victim text is shown as text ----------------------------------------------------------------------

def test_victim_text_is_never_run_as_html(open_chat: OpenChat, server: Server) -> None:
    token = server.invite("after_attendance")
    chat = open_chat(token)
    page = chat.page
    chat.tab_to("#reply-text")
    reply_by_keyboard(chat, SCRIPT)
    reply_by_keyboard(chat, IMG)

    def shown_as_text() -> None:
        expect(page.locator("#log li.msg-victim p")).to_have_text([SCRIPT, IMG])
        assert page.locator("#log script, #log img").count() == 0
        assert page.locator("img").count() == 0
        page.wait_for_timeout(300)  # give a broken image's onerror time to fire, were there one
        assert chat.dialogs == []

    shown_as_text()  # drawn by the script
    page.reload()
    shown_as_text()  # drawn by the server
    assert [r.text for r in stored(server, token) if r.direction == "in"] == [SCRIPT, IMG]
    assert SCRIPT not in server.get(f"/s/{token}").text  # escaped in the HTML itself


# --- e. axe-core --------------------------------------------------------------------------------------------

def axe_problems(chat: Chat) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now."""
    if chat.page.evaluate("() => typeof window.axe") == "undefined":
        chat.page.add_script_tag(path=AXE)
    result: dict[str, Any] = chat.page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {json.dumps([n['target'] for n in v['nodes']])}"
            for v in result["violations"] if v["impact"] in {"serious", "critical"}]


def test_no_serious_accessibility_violations(open_chat: OpenChat, server: Server) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: scripts/test.sh installs it with npm into tests/browser/.axe")
    token = server.invite("after_101_call")
    # The app's Content-Security-Policy (rightly) refuses injected scripts; let axe in for this test only.
    chat = open_chat(token, bypass_csp=True)
    assert axe_problems(chat) == [], "a question with choice buttons"
    chat.tab_to("#reply-text")
    reply_by_keyboard(chat, "too long")
    reply_by_keyboard(chat, "no")
    assert axe_problems(chat) == [], "after replies added by the script"
    chat.page.goto(chat.url + "?error=empty")
    expect(chat.page.get_by_role("alert")).to_be_visible()
    assert axe_problems(chat) == [], "with an error message"
    chat.tab_to("#reply-text")
    reply_by_keyboard(chat, "1")
    reply_by_keyboard(chat, "SKIP")
    expect(chat.page.get_by_role("status")).to_be_visible()
    assert axe_problems(chat) == [], "a finished survey"
    narrow = open_chat(token, viewport={"width": 320, "height": 640}, bypass_csp=True)
    assert axe_problems(narrow) == [], "a finished survey, narrow"
