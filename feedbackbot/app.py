"""The application factory: one ``create_app(settings)`` wiring storage, flows, channels, API and workers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from .api.events import EventsApi
from .channels.base import ChannelRegistry
from .channels.registry import configured_adapters
from .channels.web import WebChannel
from .clock import Clock, SystemClock
from .conversation import Conversation
from .flows.library import FlowLibrary
from .flows.phrases import Phrases
from .flows.render import SAMPLE_CONTEXT
from .flows.touchpoints import load_touchpoints
from .inbox import Inbox
from .insights.service import BoardInsights
from .intake import Intake
from .messages import Address, SendResult
from .nlp import KeywordClassifier, load_classifier
from .nlp.types import Classifier
from .routing import Router, build_router
from .routing.dispatch import NotificationDispatcher
from .routing.escalation import EscalationWorker
from .settings import Settings, SettingsError
from .store.db import Database
from .store.migrate import current_revision, head_revision, migrate
from .store.tables import FeedbackItem, Message
from .web.board import BoardPages
from .web.middleware import error_middleware
from .web.render import STATIC, Pages
from .web.simulator import Simulator
from .web.staff_app import install_staff
from .workers.classification import ClassificationWorker, ClassifierService
from .workers.outbox import OutboxDispatcher
from .workers.scheduler import Scheduler

log = logging.getLogger(__name__)


class SchemaOutOfDate(RuntimeError):
    """The database is not at the schema this code needs; run ``feedbackbot migrate``."""


@dataclass
class Services:
    """Everything the handlers and workers share, built once per app."""

    settings: Settings
    clock: Clock
    db: Database
    flows: FlowLibrary
    phrases: Phrases
    conversation: Conversation
    intake: Intake
    channels: ChannelRegistry
    scheduler: Scheduler
    pages: Pages
    inbox: Inbox
    outbox: OutboxDispatcher
    classifier: ClassifierService
    classification: ClassificationWorker
    router: Router
    escalation: EscalationWorker
    notifications: NotificationDispatcher
    insights: BoardInsights


SERVICES = web.AppKey("services", Services)


def _classifier_loader(settings: Settings) -> Callable[[], Classifier]:
    if settings.classifier == "keywords":
        return KeywordClassifier
    if settings.classifier == "model":
        # One torch thread, in the classifier's own process: the serving process keeps the other core.
        return functools.partial(load_classifier, threads=1)
    raise SettingsError(f"FEEDBACKBOT_CLASSIFIER must be model or keywords, got {settings.classifier!r}")


def build_services(settings: Settings, clock: Clock | None = None,
                   classifier: Callable[[], Classifier] | None = None) -> Services:
    """Load flows, phrases and touchpoints (raising on any mistake) and wire the services together.

    ``classifier`` makes the classifier (default: the shipped model, or the keyword stand-in when
    ``FEEDBACKBOT_CLASSIFIER=keywords``); it is called once, at start-up, in a worker thread.
    """
    clock = clock or SystemClock()
    context = {**SAMPLE_CONTEXT, "force_name": settings.force_name}
    flows = FlowLibrary.from_folder(settings.flows_dir, max_segments=settings.sms_max_segments, context=context)
    phrases = Phrases.load(settings.prompts_dir / "phrases.yaml")
    touchpoints = load_touchpoints(settings.prompts_dir / "touchpoints.yaml", flows.current.keys())
    db = Database(settings.database_url)
    conversation = Conversation(db, flows, phrases, settings, clock)
    intake = Intake(db, settings, touchpoints, clock, sensitive_flags=frozenset(settings.sensitive_flags))
    pages = Pages(settings)
    inbox = Inbox(db, conversation, settings, clock)
    channels = ChannelRegistry([WebChannel(db, conversation, pages, settings, clock),
                                *configured_adapters(settings, db, inbox, clock)])
    scheduler = Scheduler(db, conversation, channels, settings, clock)

    async def on_permanent(row: Message, result: SendResult) -> None:
        address = Address.parse(row.address)
        if result.opted_out:
            await inbox.provider_opt_out(address, result.error_code or "provider opt-out")
        elif result.address_failed:
            await inbox.address_failed(address, result.error_reason or result.error_code or "address failed")

    outbox = OutboxDispatcher(db, channels, settings, clock, on_permanent=on_permanent)
    conversation.outbox_ready = outbox.ready
    inbox.on_rescheduled = scheduler.wake
    scheduler.foreground, scheduler.queued_here = inbox.foreground, inbox.queued
    # The shipped model gets a process of its own (see ClassifierService); a classifier passed in stays in a thread.
    service = ClassifierService(classifier or _classifier_loader(settings),
                                separate_process=classifier is None and settings.classifier == "model",
                                niceness=settings.classifier_niceness)
    conversation.classify = service.classify
    router = build_router(settings)

    async def route(s: AsyncSession, item: FeedbackItem, now: datetime) -> None:
        await router.route(s, item, now=now)

    conversation.route = route
    classification = ClassificationWorker(db, service, conversation, clock, router)
    classification.between = scheduler.foreground.quiet
    scheduler.extra_work.append(classification.run_once)
    escalation = EscalationWorker(db, router, clock)
    notifications = NotificationDispatcher(db, router.rules, settings, clock)
    scheduler.extra_work.extend([escalation.run_once, notifications.run_once])
    insights = BoardInsights(db, flows, settings, clock)
    scheduler.extra_work.append(insights.run_once)
    return Services(settings, clock, db, flows, phrases, conversation, intake, channels, scheduler, pages,
                    inbox, outbox, service, classification, router=router, escalation=escalation,
                    notifications=notifications, insights=insights)


def start_workers(services: Services, stop: asyncio.Event,
                  pick_up_every: float | None = None) -> list[asyncio.Task[None]]:
    """The background work, until ``stop`` is set: due invitations, reminders and the passes that hang off
    the scheduler; the outbox; and the survey turns of replies that web processes stored (looked for every
    ``pick_up_every`` seconds; by default as often as the scheduler polls)."""
    every = pick_up_every if pick_up_every is not None else services.settings.worker_poll_seconds
    return [asyncio.create_task(services.scheduler.run_forever(stop), name="scheduler"),
            asyncio.create_task(services.outbox.run_forever(stop), name="outbox"),
            asyncio.create_task(services.inbox.run_forever(stop, every), name="inbox")]


async def stop_workers(services: Services, stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Stop what ``start_workers`` started and finish the turns already begun."""
    stop.set()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await services.inbox.drain()


async def prepare_database(services: Services) -> None:
    """Create or upgrade an SQLite database; insist that PostgreSQL was migrated; publish the flows."""
    db = services.db
    if db.sqlite:
        await migrate(db)
    else:
        current, head = await current_revision(db), head_revision()
        if current != head:
            raise SchemaOutOfDate(f"database schema is at {current or 'nothing'}, code needs {head}: "
                                  "run `feedbackbot migrate` first")
    published = await services.flows.publish(db, services.clock.now())
    for name in published:
        log.info("published flow %s", name)


def create_app(settings: Settings, *, clock: Clock | None = None, services: Services | None = None) -> web.Application:
    """Build the web application. Workers run inside it unless ``settings.run_workers`` is off."""
    services = services or build_services(settings, clock)
    app = web.Application(middlewares=[services.inbox.foreground.middleware(), error_middleware(services.pages)],
                          client_max_size=256 * 1024)
    app[SERVICES] = services

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await prepare_database(services)
        await services.classifier.start()
        for adapter in services.channels:
            await adapter.start()
        stop = asyncio.Event()
        tasks = start_workers(services, stop) if settings.run_workers else []
        yield
        await stop_workers(services, stop, tasks)
        for adapter in services.channels:
            await adapter.stop()
        services.classifier.stop()
        await services.notifications.close()
        await services.db.dispose()

    app.cleanup_ctx.append(lifecycle)

    async def health(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    async def index(request: web.Request) -> web.StreamResponse:
        return services.pages.render(request, "index.html", {"simulator": settings.simulator})

    app.router.add_get("/", index, name="index")
    app.router.add_get("/healthz", health, name="health")
    app.router.add_static("/static", STATIC, name="static")
    app.router.add_routes(EventsApi(services.intake, settings, services.scheduler.wake).routes())
    for adapter in services.channels:
        app.router.add_routes(adapter.routes())
    install_staff(app, services)
    app.router.add_routes(BoardPages(services.insights, services.clock, settings.force_name).routes())
    if settings.simulator:
        simulator = Simulator(services.db, services.flows, services.conversation, services.pages, services.clock)
        app.router.add_routes(simulator.routes())
    return app
