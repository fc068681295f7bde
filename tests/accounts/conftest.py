"""The real app on a fresh database (SQLite and PostgreSQL), with cookies kept per simulated person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from feedbackbot.accounts import Accounts
from feedbackbot.app import Services, create_app
from tests.conftest import AiohttpClient
from tests.support.staff import fast_passwords


@pytest.fixture
async def staff_client(aiohttp_client: AiohttpClient, services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(services.settings, services=services)
    fast_passwords(app)
    yield await aiohttp_client(app, cookie_jar=DummyCookieJar())  # type: ignore[call-arg]


@pytest.fixture
def accounts(staff_client: TestClient[Any, Any]) -> Accounts:
    from feedbackbot.web.auth import STAFF

    assert staff_client.app is not None
    found: Accounts = staff_client.app[STAFF].accounts
    return found
