"""Requests first: survey turns carried out after a provider's webhook give way while requests are waiting."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The longest a background turn waits for a quiet moment before it runs anyway (seconds), so that a
#: server answering requests without pause still gets on with the victims' surveys.
MAX_WAIT = 0.5
#: While requests keep arriving, the share of the event loop's time background turns may take; when no
#: request has come for ``BUSY_WINDOW`` seconds they run back to back.
BACKGROUND_SHARE = 0.3
BUSY_WINDOW = 0.05


class Foreground:
    """Counts the requests being answered, so background work can wait for a moment when there are none.

    A provider is owed a quick acknowledgement (Twilio gives up after 15 seconds and sends again; a slow
    webhook holds the victim's next message back); the survey step a message causes can start a few
    milliseconds later. On one event loop both share one core, so in a burst the background turns would
    take turns with the acknowledgements and every one of them would wait. Instead each background turn
    first waits (at most ``MAX_WAIT``) until no request is being answered and, while requests keep
    arriving, until turns have taken no more than ``BACKGROUND_SHARE`` of the loop's time; a request
    arriving meanwhile waits for at most the one turn already running. Once the burst is over the turns
    run back to back.
    """

    def __init__(self, max_wait: float = MAX_WAIT, share: float = BACKGROUND_SHARE) -> None:
        self.max_wait = max_wait
        self.share = share
        self.in_flight = 0
        self._quiet: asyncio.Event | None = None
        self._last_request = -1e9
        self._next_turn = 0.0
        self._turn_began: float | None = None

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
                self._last_request = time.monotonic()
                if self.in_flight == 0 and self._quiet is not None:
                    self._quiet.set()

        return middleware

    async def quiet(self) -> None:
        """Return once no request is being answered (and, while requests keep coming, once the background's
        share of the loop allows), or after ``max_wait`` seconds. Ends the previous turn's timing, starts
        the next one's."""
        now = time.monotonic()
        if self._turn_began is not None and now - self._last_request < BUSY_WINDOW:
            # Requests are arriving: leave them the loop for long enough that turns take at most ``share``.
            self._next_turn = now + (now - self._turn_began) * (1 - self.share) / self.share
        self._turn_began = None
        deadline = now + self.max_wait
        # Let the loop take in requests that arrived while the caller was busy.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        if time.monotonic() < self._next_turn:
            await asyncio.sleep(min(self._next_turn, deadline) - time.monotonic())
        if self.in_flight > 0 and time.monotonic() < deadline:
            if self._quiet is None:
                self._quiet = asyncio.Event()
            self._quiet.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), max(0.0, deadline - time.monotonic()))
        self._turn_began = time.monotonic()

    def done(self) -> None:
        """The background turn that ``quiet`` let start has ended (its time counts against the share)."""
        now = time.monotonic()
        if self._turn_began is not None and now - self._last_request < BUSY_WINDOW:
            self._next_turn = now + (now - self._turn_began) * (1 - self.share) / self.share
        self._turn_began = None
