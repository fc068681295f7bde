"""The board dashboard and pack in real Chromium, on `feedbackbot demo`'s year of data: they render, pass axe-core
at desktop and phone widths, and the phone layout never scrolls sideways as a whole page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`feedbackbot demo` on a fresh data folder; its demo board member signs in with a printed password."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env["FEEDBACKBOT_CLASSIFIER"] = "keywords"
    process = subprocess.Popen([sys.executable, "-m", "feedbackbot.cli", "demo", "--port", str(port),
                                "--data-dir", str(tmp_path_factory.mktemp("board-demo"))], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "Press Ctrl+C" in line:
            break
    else:
        pytest.fail("feedbackbot demo did not start:\n" + "".join(seen[-30:]))
    assert any("/board" in line for line in seen), "the demo names the board dashboard"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def open_board(browser: Browser, base: str, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("board")
    page.get_by_label("Password").fill("board-demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="What victims are telling us")).to_be_visible()
    return page


def axe_problems(page: Page) -> list[str]:
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
            for v in result["violations"] if v["impact"] in {"serious", "critical"}]


@pytest.mark.parametrize("width", [1280, 390])
def test_dashboard_and_pack_render_and_pass_axe(browser: Browser, demo: str, width: int) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: scripts/test.sh installs it with npm into tests/browser/.axe")
    page = open_board(browser, demo, width)
    for heading in ("Headline figures", "Survey reach", "The Victims' Code as victims experience it", "Themes",
                    "Disproportionality", "You said, we did"):
        expect(page.get_by_role("heading", name=heading, exact=True, level=2)).to_be_visible()
    assert page.locator("svg.chart").count() >= 10, "charts are drawn"
    assert page.locator("blockquote").count() >= 3, "redacted quotes are shown"
    assert axe_problems(page) == [], "the dashboard"
    width_used = page.evaluate("() => document.documentElement.scrollWidth")
    assert width_used <= width, "the page itself never scrolls sideways (wide tables scroll in their own box)"
    page.get_by_label("Channel", exact=True).select_option(label="WhatsApp")
    page.get_by_role("button", name="Show figures").click()
    expect(page.get_by_text("channel: whatsapp")).to_be_visible()
    page.goto(f"{demo}/board/pack")
    expect(page.get_by_role("heading", name="Headline figures", level=2)).to_be_visible()
    assert axe_problems(page) == [], "the board pack"
    page.context.close()
