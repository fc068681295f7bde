"""The real app on a fresh database (SQLite and PostgreSQL), a board member signed in, and small fixed data sets."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from feedbackbot.app import Services, create_app
from feedbackbot.web.auth import STAFF
from tests.conftest import AiohttpClient
from tests.support.staff import Browser, add_user, fast_passwords, sign_in


@pytest.fixture
async def staff_client(aiohttp_client: AiohttpClient, services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(services.settings, services=services)
    fast_passwords(app)
    yield await aiohttp_client(app, cookie_jar=DummyCookieJar())  # type: ignore[call-arg]


@dataclass
class Board:
    """A signed-in board member's browser with helpers to read the board's CSV exports."""

    browser: Browser

    async def csv(self, table: str, query: str = "") -> list[list[str]]:
        status, body = await self.browser.get(f"/board/export/{table}.csv?{query}")
        assert status == 200, body
        return list(csv.reader(io.StringIO(body)))

    async def row(self, table: str, label: str, query: str = "") -> dict[str, str]:
        rows = await self.csv(table, query)
        header = rows[0]
        for row in rows[1:]:
            if row[0] == label:
                return dict(zip(header[1:], row[1:], strict=True))
        raise AssertionError(f"no row {label!r} in {table}: {[r[0] for r in rows[1:]]}")


@pytest.fixture
async def board(staff_client: TestClient[Any, Any]) -> Board:
    assert staff_client.app is not None
    await add_user(staff_client.app[STAFF].accounts, "bea", "board")
    return Board(await sign_in(staff_client, "bea"))
