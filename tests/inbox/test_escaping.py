"""Victim text is hostile: scripts, attribute breaks and spreadsheet formulas come out as plain text everywhere."""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp.test_utils import TestClient

from feedbackbot.accounts import Accounts
from tests.support.clock import ManualClock
from tests.support.staff import add_user, sign_in
from tests.support.workitems import FORMULA, HOSTILE, IMG, SCRIPT, seed_item

CUES = ({"rule": "threat_now", "category": "immediate_danger", "level": "urgent", "text": IMG, "span": [0, 5]},)


async def test_hostile_reply_is_text_on_every_page_and_in_the_export(
        staff_client: TestClient[Any, Any], accounts: Accounts, clock: ManualClock) -> None:
    await add_user(accounts, "ada", "admin")
    item = await seed_item(accounts.db, clock.now(), text=HOSTILE, risk="urgent", cues=CUES)
    ada = await sign_in(staff_client, "ada")
    path = f"/inbox/items/{item.item_id}"
    assert (await ada.post(f"{path}/note", {"note": HOSTILE}))[0] == 303
    assert (await ada.post(f"{path}/resolve", {"version": "0", "outcome": f"Done. {HOSTILE}"}))[0] == 303
    for page_path in ("/inbox?state=all", path, "/admin/audit"):
        status, body = await ada.get(page_path)
        assert status == 200, page_path
        assert SCRIPT not in body and "<img src=x" not in body, page_path
        if page_path != "/admin/audit":
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, page_path
            assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in body, page_path
    status, body = await ada.get("/inbox/export.csv?state=all")
    assert status == 200 and ada.last_headers["Content-Type"].startswith("text/csv")
    (header, *lines) = list(csv.reader(io.StringIO(body)))
    assert FORMULA in lines[0][header.index("reply")], "the export holds the words as they were written"
    single = await seed_item(accounts.db, clock.now(), text=FORMULA)
    status, body = await ada.get("/inbox/export.csv")
    cells = [row[header.index("reply")] for row in csv.reader(io.StringIO(body))]
    assert "'" + FORMULA in cells, "a cell starting with a formula character is prefixed so it stays text"
    assert FORMULA not in cells, single


async def test_security_headers_and_no_caching_on_victim_pages(staff_client: TestClient[Any, Any],
                                                              accounts: Accounts, clock: ManualClock) -> None:
    await add_user(accounts, "ada", "admin")
    item = await seed_item(accounts.db, clock.now())
    ada = await sign_in(staff_client, "ada")
    for page_path in ("/login", "/inbox", f"/inbox/items/{item.item_id}", "/admin/users"):
        status, _ = await ada.get(page_path)
        headers = ada.last_headers
        assert status == 200, page_path
        assert headers["Cache-Control"] == "no-store", page_path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
