"""Who may see the board, and that the board sees no victim's identity or unredacted words on any page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from feedbackbot.app import Services
from feedbackbot.web.auth import STAFF
from tests.insights.conftest import Board
from tests.insights.data import Victim, add_victims, tags
from tests.support.staff import add_user, sign_in

ROOT = Path(__file__).resolve().parents[2]
SECRET_TEXT = "Nobody called me back, ring me on 07700 900123, I live at 14 Elm Grove CV1 2AB"
PAGES = ("/board?from=2026-07-01&to=2026-09-30", "/board/pack?quarter=2026Q3",
         "/board/export/quotes.csv?from=2026-07-01&to=2026-09-30",
         "/board/export/themes.csv?from=2026-07-01&to=2026-09-30")


def victims() -> list[Victim]:
    out = []
    for _ in range(8):
        v = Victim(name="Zebedee Quarrington", answers={"q_overall": "2"})
        v.replies = [(SECRET_TEXT, tags("updates_and_information"))]
        out.append(v)
    stopped = Victim(name="Opted Outperson", opted_out=True)
    stopped.replies = [("Please pass this on to whoever reads these things now", tags("updates_and_information"))]
    return [*out, stopped]


async def test_board_sees_redacted_words_and_no_identity(services: Services, board: Board) -> None:
    await add_victims(services.db, victims())
    await services.insights.refresh()
    for path in PAGES:
        status, body = await board.browser.get(path)
        assert status == 200, path
        for secret in ("Zebedee", "Quarrington", "07700 900123", "Elm Grove", "CV1 2AB", "20/7000"):
            assert secret not in body, f"{secret} on {path}"
        assert "whoever reads these" not in body, "a victim who opted out is never quoted"
    status, page = await board.browser.get(PAGES[0])
    assert "Nobody called me back, ring me on [phone], I live at [address] [postcode]" in page


async def test_board_role_reaches_no_victim_page(services: Services, board: Board) -> None:
    await add_victims(services.db, victims())
    for path in ("/inbox", "/inbox/items/1", "/admin/users", "/admin/audit"):
        status, body = await board.browser.get(path)
        assert status in {403, 404}, f"{path}: {status}"
        assert "Zebedee" not in body and "07700 900123" not in body


async def test_officers_may_not_see_the_board_and_strangers_sign_in(services: Services, board: Board) -> None:
    client = board.browser.client
    assert client.app is not None
    await add_user(client.app[STAFF].accounts, "otto", "officer", officer_ref="PC1")
    officer = await sign_in(client, "otto")
    assert (await officer.get("/board"))[0] == 403
    assert (await officer.get("/board/export/themes.csv"))[0] == 403
    async with client.get("/board/pack.pdf", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")
    await add_user(client.app[STAFF].accounts, "sue", "supervisor", officer_ref="S1")
    assert (await (await sign_in(client, "sue")).get("/board"))[0] == 200


async def test_pack_as_html_and_pdf(services: Services, board: Board) -> None:
    await add_victims(services.db, victims())
    await services.insights.refresh()
    status, html = await board.browser.get("/board/pack?quarter=2026Q3")
    assert status == 200 and "July to September 2026" in html and "Headline figures" in html
    async with board.browser.client.get("/board/pack.pdf?quarter=2026Q3", headers=board.browser._cookie_header()) \
            as resp:
        assert resp.status == 200 and resp.content_type == "application/pdf"
        assert (await resp.read()).startswith(b"%PDF")
    status, body = await board.browser.get("/board/pack?quarter=2026Q5")
    assert status == 400 and "2026Q3" in body
    status, body = await board.browser.get("/board/export/nothing.csv")
    assert status == 404


async def test_csv_neutralises_formulas(services: Services, board: Board) -> None:
    v = [Victim(answers={"q_overall": "5"}) for _ in range(6)]
    for victim in v:
        victim.replies = [("=HYPERLINK(\"http://evil\") the officer was lovely", tags("praise", sentiment="positive"))]
    await add_victims(services.db, v)
    await services.insights.refresh()
    rows = await board.csv("quotes", "from=2026-07-01&to=2026-09-30")
    assert rows[1][1].startswith("'=HYPERLINK")


def test_board_pack_command_writes_a_pdf(tmp_path: Path, database_url: str) -> None:
    out = tmp_path / "pack.pdf"
    env = {"PATH": "/usr/bin:/bin", "FEEDBACKBOT_DATABASE_URL": database_url, "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "feedbackbot.cli", "board-pack", "--quarter", "2026Q3",
                           "--output", str(out), "--refresh"], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF") and "written to" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "feedbackbot.cli", "board-pack", "--quarter", "Q3",
                          "--output", str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
                         check=False)
    assert bad.returncode == 2 and "quarter must look like 2026Q3" in bad.stderr and "Traceback" not in bad.stderr
