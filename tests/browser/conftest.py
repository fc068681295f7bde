"""A real ``feedbackbot serve`` process and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.server import Server

#: Debian's Chromium, as scripts/test.sh installs it; Playwright's own browser downloads are never used.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> Path:
    """The browser to drive: FEEDBACKBOT_TEST_CHROMIUM, else Debian's."""
    path = Path(os.environ.get("FEEDBACKBOT_TEST_CHROMIUM") or DEFAULT_CHROMIUM)
    if not path.exists():
        pytest.fail(f"no Chromium at {path}: run the tests with `make test` (which installs Debian's chromium) "
                    "or set FEEDBACKBOT_TEST_CHROMIUM", pytrace=False)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per module; each test invites its own victim, so tests do not see each other's surveys."""
    server = Server(tmp_path_factory.mktemp("browser-server") / "feedbackbot.db")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium. ``launch`` gives it a fresh temporary profile (user-data-dir), removed on close."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
