"""Real headless screenshots of the board dashboard and board pack at desktop and phone widths.

Runs ``feedbackbot demo`` (a year of demo surveys) on a fresh data folder, signs in as the demo board member in
Debian's Chromium (Playwright drives it; no downloaded browser) and writes PNGs to docs/screenshots/:

    python scripts/screenshots.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("FEEDBACKBOT_TEST_CHROMIUM") or "/usr/bin/chromium"
WIDTHS = {"desktop": 1280, "phone": 390}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_demo(folder: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env["FEEDBACKBOT_CLASSIFIER"] = "keywords"
    command = [sys.executable, "-m", "feedbackbot.cli", "demo", "--data-dir", str(folder), "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,  # noqa: S603 - our own command
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 180
    for line in process.stdout:
        if "Press Ctrl+C" in line:
            return process
        if time.monotonic() > deadline:
            break
    process.kill()
    raise SystemExit("feedbackbot demo did not start")


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("board")
    page.get_by_label("Password").fill("board-demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/board")


def shrink(png: Path) -> None:
    """Re-save with a 256-colour palette: the pages are flat colours, so this loses nothing visible."""
    from PIL import Image

    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(png, optimize=True)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        demo = start_demo(Path(folder), port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                for name, width in WIDTHS.items():
                    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
                    page = context.new_page()
                    sign_in(page, base)
                    page.screenshot(path=OUT / f"board-dashboard-{name}.png", full_page=True)
                    page.goto(f"{base}/board/pack")
                    page.emulate_media(media="print")
                    page.screenshot(path=OUT / f"board-pack-{name}.png", full_page=True)
                    context.close()
                browser.close()
        finally:
            demo.terminate()
            demo.wait(timeout=30)
            if demo.stdout is not None:
                demo.stdout.close()
    for png in sorted(OUT.glob("board-*.png")):
        shrink(png)
        print(f"wrote {png.relative_to(ROOT)} ({png.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
