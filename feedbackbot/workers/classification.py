"""The classifier as a service: loaded once, run off the event loop; and the worker that reads what is pending."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..clock import Clock
from ..conversation import Conversation
from ..nlp.types import Classification, Classifier
from ..routing import Router
from ..store.db import Database
from ..store.tables import Contact, FeedbackItem, Message

log = logging.getLogger(__name__)
BATCH = 32


#: The classifier of a separate classifier process (see ``ClassifierService``), loaded by its initializer.
_LOADED: Classifier | None = None


#: How often the classifier process checks that the process it serves is still there (seconds).
PARENT_CHECK_SECONDS = 1.0


def _load_here(load: Callable[[], Classifier], niceness: int) -> None:
    """In the classifier process: load the classifier once. Ctrl+C reaches the whole process group; the
    server decides when this process stops (it shuts the pool down), so the interrupt is ignored here.

    If the server is killed outright (SIGKILL, out of memory) it cannot shut the pool down; the watcher
    below then ends this process, so no orphaned model keeps half a gigabyte. ``niceness`` lowers this
    process's CPU priority, so the serving process's acknowledgements win a busy CPU.
    """
    global _LOADED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        os.nice(niceness)
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    _LOADED = load()


def _exit_with_parent(parent: int) -> None:
    """End this process once its parent has gone (it is then adopted, and its parent id changes)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _loaded_version() -> str:
    assert _LOADED is not None
    return _LOADED.model_version


def _classify_here(texts: list[str]) -> list[Classification]:
    assert _LOADED is not None
    return _LOADED.classify(texts)


class ClassifierService:
    """Holds one classifier, loaded at start-up off the event loop, and runs it there for every reply.

    By default the classifier lives in a worker thread. With ``separate_process`` (the shipped model in
    ``serve`` and ``worker``) it lives in a process of its own, started with ``spawn``: the model's Python parts
    (tokenising, the safety net's patterns) then never hold the serving process's interpreter lock, so
    acknowledgements and web-chat turns are not kept waiting behind them, and the serving process does not
    carry torch's objects through every garbage collection. ``load`` must then be picklable.
    """

    def __init__(self, load: Callable[[], Classifier], *, separate_process: bool = False,
                 niceness: int = 0) -> None:
        self._load = load
        self._version: str | None = None
        self._classifier: Classifier | None = None
        self._pool: Executor = (
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_load_here, initargs=(load, niceness))
            if separate_process else ThreadPoolExecutor(max_workers=1, thread_name_prefix="classifier"))
        self.separate_process = separate_process
        self._loading: asyncio.Future[str] | None = None
        self._waiting: list[tuple[str, asyncio.Future[Classification]]] = []
        self._batcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load (and so warm) the model before the first reply arrives."""
        await self._ready()

    def _load_in_thread(self) -> str:
        self._classifier = self._load()
        return self._classifier.model_version

    async def _ready(self) -> str:
        if self._version is not None:
            return self._version
        if self._loading is None:
            loop = asyncio.get_running_loop()
            self._loading = loop.run_in_executor(self._pool, _loaded_version if self.separate_process
                                                 else self._load_in_thread)
        self._version = await self._loading
        log.info("classifier %s ready%s", self._version, " (in a process of its own)" if self.separate_process else "")
        return self._version

    async def classify_many(self, texts: Sequence[str]) -> list[Classification]:
        """Classify in the classifier's thread or process, so the event loop keeps serving."""
        await self._ready()
        loop = asyncio.get_running_loop()
        if self.separate_process:
            return await loop.run_in_executor(self._pool, _classify_here, list(texts))
        assert self._classifier is not None
        return await loop.run_in_executor(self._pool, self._classifier.classify, list(texts))

    async def classify(self, text: str) -> Classification:
        """Classify one reply. Replies arriving while the model is busy are read together in one batch.

        The encoder reads a batch for much less per reply than one reply at a time (bench/classify.py), so
        under load every reply waiting when the thread comes free goes in the next batch (up to BATCH).
        """
        future: asyncio.Future[Classification] = asyncio.get_running_loop().create_future()
        self._waiting.append((text, future))
        if self._batcher is None or self._batcher.done():
            self._batcher = asyncio.create_task(self._read_waiting(), name="classifier-batches")
        return await future

    async def _read_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            live = [(text, future) for text, future in batch if not future.cancelled()]
            if not live:
                continue
            try:
                results = await self.classify_many([text for text, _ in live])
            except Exception as exc:  # each caller decides what a failure means (the worker retries later)
                for _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def stop(self) -> None:
        """Let the thread or process go (and any batch still waiting)."""
        if self._batcher is not None and not self._batcher.done():
            self._batcher.cancel()
        # A classifier process is waited for (it exits at once), so nothing of it outlives the server.
        self._pool.shutdown(wait=self.separate_process, cancel_futures=True)


class ClassificationWorker:
    """Classifies feedback that arrived while the classifier could not run (a restart, an error)."""

    def __init__(self, db: Database, service: ClassifierService, conversation: Conversation, clock: Clock,
                 router: Router) -> None:
        self.db = db
        self.service = service
        self.conversation = conversation
        self.clock = clock
        self.router = router
        #: Awaited before each reply after the first is stored and routed (the scheduler's Foreground.quiet),
        #: so a batch gives way to acknowledgements between replies rather than holding the loop for all.
        self.between: Callable[[], Awaitable[None]] | None = None

    async def run_once(self) -> int:
        """Classify one batch of pending feedback and route it; urgent ones found late still get safety guidance.

        The batch is read by the model at once (cheaper per reply), then each reply's reading, work items and
        notices are committed in a transaction of their own: routing thirty-two replies in one transaction
        held the event loop for 40-90 ms, and every acknowledgement waited behind it.
        """
        async with self.db.session() as s:
            pending = list((await s.exec(select(FeedbackItem).where(FeedbackItem.status == "pending")
                                         .order_by(col(FeedbackItem.id)).limit(BATCH))).all())
        pending = [item for item in pending if item.text.strip() and not item.text.startswith("[")]
        if not pending:
            return 0
        readings = await self.service.classify_many([item.text for item in pending])
        done = 0
        for n, (item, reading) in enumerate(zip(pending, readings, strict=True)):
            if n and self.between is not None:
                await self.between()
            now = self.clock.now()
            async with self.db.session() as s:
                row = await s.get(FeedbackItem, item.id)
                if row is None or row.status != "pending":
                    continue
                row.classification, row.model_version = reading.to_json(), reading.model_version
                row.status, row.classified_at = "classified", now
                # Work items, their events and notices commit with the classification, or not at all.
                await s.flush()
                await self.router.route(s, row, now=now)
                if reading.risk == "urgent" and row.message_id is not None:
                    await self._late_safety(s, row, reading)
            done += 1
        return done

    async def _late_safety(self, s: AsyncSession, row: FeedbackItem, reading: Classification) -> None:
        message = await s.get(Message, row.message_id)
        if message is None or self.clock.now() - message.created_at > timedelta(days=1):
            return
        already = (await s.exec(select(Message.id).where(
            Message.direction == "out", Message.address == message.address, Message.purpose == "safety",
            col(Message.id) > message.id))).first()
        if already is not None:
            return
        contact = await s.get(Contact, row.contact_id) if row.contact_id else None
        language = contact.language if contact else "en"
        danger = "immediate_danger" in reading.risk_categories or "self_harm" not in reading.risk_categories
        text = self.conversation.phrases.say("safety_danger" if danger else "safety_self_harm", language,
                                             {"force_name": self.conversation.settings.force_name})
        s.add(self.conversation._outbound(message.channel, message.address, row.contact_id, text, "safety",
                                          self.clock.now()))
        self.conversation.outbox_ready.set()
