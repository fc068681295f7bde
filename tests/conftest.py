"""Shared fixtures: a fresh database per test (SQLite and PostgreSQL), a manual clock, the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from feedbackbot.app import Services, build_services, create_app
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.settings import ApiKey, QuietHours, Settings
from tests.support.clock import ManualClock
from tests.support.databases import PostgresTemplates, SqliteTemplates
from tests.support.victim import API_KEY

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-transcripts", action="store_true",
                     help="rewrite transcript files with what the bot says now (review the diff!)")


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[PostgresTemplates]:
    templates = PostgresTemplates()
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: SqliteTemplates) -> Iterator[str]:
    """A fresh, migrated database; every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_templates.fresh(tmp_path / "test.db")
        return
    templates: PostgresTemplates = request.getfixturevalue("postgres_templates")
    url = templates.fresh()
    yield url
    templates.drop(url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://feedbackbot.test",
        api_keys=(ApiKey("rms", API_KEY),),
        run_workers=False,
        quiet_hours=QuietHours.parse("21:00-08:00"),
        simulator=True,
    )


@pytest.fixture
def services(settings: Settings, clock: ManualClock) -> Services:
    # The keyword stand-in (documented trigger words, safety net included); tests/nlp exercise the model.
    return build_services(settings, clock, classifier=KeywordClassifier)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(services.settings, services=services)
    yield await aiohttp_client(app)
