"""Requests first: survey turns carried out after a provider's webhook give way while requests are waiting."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The longest a background turn waits for a quiet moment before it runs anyway (seconds), so that a
#: server answering requests without pause still gets on with the victims' surveys.
MAX_WAIT = 0.5


class Foreground:
    """Counts the requests being answered, so background work can wait for a moment when there are none.

    A provider is owed a quick acknowledgement (Twilio gives up after 15 seconds and sends again; a slow
    webhook holds the victim's next message back); the survey step a message causes can start a few
    milliseconds later. On one event loop both share one core, so in a burst the background turns would
    take turns with the acknowledgements and every one of them would wait. Instead each background turn
    first waits (at most ``MAX_WAIT``) until no request is being answered; a request arriving meanwhile
    waits for at most the one turn already running.
    """

    def __init__(self, max_wait: float = MAX_WAIT) -> None:
        self.max_wait = max_wait
        self.in_flight = 0
        self._quiet: asyncio.Event | None = None

    def middleware(self) -> Middleware:
        """The outermost middleware: counts each request from when its handler starts until it answers."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.in_flight += 1
            if self._quiet is not None:
                self._quiet.clear()
            try:
                return await handler(request)
            finally:
                self.in_flight -= 1
                if self.in_flight == 0 and self._quiet is not None:
                    self._quiet.set()

        return middleware

    async def quiet(self) -> None:
        """Return once no request is being answered, or after ``max_wait`` seconds."""
        # Let the loop take in requests that arrived while the caller was busy.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        if self.in_flight == 0:
            return
        if self._quiet is None:
            self._quiet = asyncio.Event()
        self._quiet.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), self.max_wait)
