"""Background survey turns give way to requests being answered, but never wait for ever."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pytest_aiohttp import AiohttpClient

from feedbackbot.foreground import Foreground


def _app(foreground: Foreground, started: asyncio.Event, release: asyncio.Event) -> web.Application:
    async def slow(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="done")

    app = web.Application(middlewares=[foreground.middleware()])
    app.router.add_get("/slow", slow)
    return app


async def test_a_turn_waits_until_no_request_is_being_answered(aiohttp_client: AiohttpClient) -> None:
    foreground, started, release = Foreground(max_wait=30), asyncio.Event(), asyncio.Event()
    client = await aiohttp_client(_app(foreground, started, release))
    request = asyncio.create_task(client.get("/slow"))
    await started.wait()
    turn = asyncio.create_task(foreground.quiet())
    await asyncio.sleep(0.2)
    assert not turn.done()  # the request is still being answered
    release.set()
    response = await request
    assert await response.text() == "done"
    await asyncio.wait_for(turn, timeout=5)
    assert foreground.in_flight == 0


async def test_a_turn_runs_anyway_after_the_longest_wait(aiohttp_client: AiohttpClient) -> None:
    foreground, started, release = Foreground(max_wait=0.2), asyncio.Event(), asyncio.Event()
    client = await aiohttp_client(_app(foreground, started, release))
    request = asyncio.create_task(client.get("/slow"))
    await started.wait()
    await asyncio.wait_for(foreground.quiet(), timeout=5)  # a server that is never quiet still works through
    assert foreground.in_flight == 1
    release.set()
    await (await request).release()


async def test_with_no_request_a_turn_goes_ahead_at_once() -> None:
    await asyncio.wait_for(Foreground(max_wait=30).quiet(), timeout=1)
