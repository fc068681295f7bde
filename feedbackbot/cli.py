"""The ``feedbackbot`` command: serve, demo, worker, migrate, flows, outbox, import-events and the classifier."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from .settings import Settings, SettingsError, load_settings

log = logging.getLogger("feedbackbot")


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"feedbackbot: settings: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _with_address(settings: Settings, args: argparse.Namespace) -> Settings:
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    changes: dict[str, object] = {"host": host, "port": port}
    if settings.public_url == Settings().public_url:
        shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104 - only used to print a link
        changes["public_url"] = f"http://{shown}:{port}"
    return settings.replace(**changes)


def _settle_memory() -> None:
    """Set aside what start-up built, so the garbage collector does not walk it again while victims wait.

    The model, the flows, the templates and the libraries make up most of a server's objects and live as
    long as it does. Python's collector walks every object it tracks on each full collection: with all of
    them included a burst of webhooks saw pauses of over 150 ms. ``gc.freeze()`` moves what exists now out
    of the collector's sight (it is still freed as usual when no longer referenced), and collections
    happen less often, as each one walks only what the server made since.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(5_000, 20, 100)


async def _serve(settings: Settings, on_ready: list[str] | None = None, *, reuse_port: bool = False) -> None:
    from .app import SchemaOutOfDate, build_services, create_app
    from .flows.loader import FlowError
    from .logs import AccessLogger
    from .routing import RoutingError

    try:
        services = build_services(settings)
    except (RoutingError, FlowError, SettingsError) as exc:
        print(f"feedbackbot: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    from .workitems.reply_templates import TemplateError

    try:
        app = create_app(settings, services=services)
    except TemplateError as exc:
        print(f"feedbackbot: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    runner = web.AppRunner(app, access_log_class=AccessLogger, handle_signals=False)
    try:
        await runner.setup()
    except (SchemaOutOfDate, FlowError) as exc:
        print(f"feedbackbot: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None)
    await site.start()
    _settle_memory()
    log.info("listening on http://%s:%s", settings.host, settings.port)
    if on_ready is not None:
        from .demo import seed_demo

        links = await seed_demo(services)
        print(f"\nFeedbackbot demo is running at {settings.public_url}/\n", flush=True)
        for line in links:
            print(line, flush=True)
        print("\nPress Ctrl+C to stop.\n", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web app and, unless disabled, the workers."""
    from .logs import configure_logging

    settings = _with_address(_settings_or_exit(), args)
    configure_logging(settings.log_level)
    if not settings.run_workers:
        # Inbound email is background intake: the `feedbackbot worker` process listens and polls for it.
        settings = settings.replace(smtp_listen_port=0, imap_host="")
    if args.processes > 1:
        return _serve_processes(settings, args.processes)
    asyncio.run(_serve(settings))
    return 0


async def _prepare(settings: Settings) -> None:
    """Create or upgrade the database and publish the flows, once, before the serving processes start."""
    from .app import SchemaOutOfDate, build_services, prepare_database
    from .flows.loader import FlowError
    from .routing import RoutingError

    try:
        services = build_services(settings)
        try:
            await prepare_database(services)
        finally:
            await services.db.dispose()
    except (RoutingError, FlowError, SettingsError, SchemaOutOfDate) as exc:
        print(f"feedbackbot: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _serve_processes(settings: Settings, count: int) -> int:
    """Serve from ``count`` processes sharing the port (SO_REUSEPORT), so every core answers victims.

    The database is prepared once, here; then the processes are forked. The first also runs the
    background workers (scheduler, outbox, classification, escalation, notices) and the inbound email
    listener and IMAP poller, so rate limits and polling stay single; the others serve HTTP only (web
    chat, webhooks, API, pages), each carrying out the survey turns of the requests it answers. SIGTERM
    or SIGINT is passed on to every process; if one exits with an error the others are stopped too.
    """
    asyncio.run(_prepare(settings))
    children: list[int] = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:  # a serving process
            code = 0
            try:
                mine = settings if index == 0 else settings.replace(run_workers=False, smtp_listen_port=0,
                                                                    imap_host="")
                asyncio.run(_serve(mine, reuse_port=True))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                log.exception("serving process %s stopped with an error", index + 1)
                code = 1
            os._exit(code)
        children.append(pid)
    log.info("serving from %s processes: %s", count, ", ".join(map(str, children)))

    stopping: list[int] = []

    def pass_on(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    running, status = set(children), 0
    while running:
        pid, wait_status = os.wait()
        running.discard(pid)
        code = os.waitstatus_to_exitcode(wait_status)
        # Asked to stop, a process still starting up may die of the signal itself: that is a clean stop.
        if stopping and code in (-signal.SIGTERM, -signal.SIGINT):
            code = 0
        if code != 0 and status == 0:
            status = code if code > 0 else 1
            log.error("serving process %s exited with %s; stopping the others", pid, code)
            pass_on(signal.SIGTERM, None)
    return status


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the product on a local SQLite file with demo data and the simulator, and print links to open."""
    from .logs import configure_logging

    settings = _with_address(_settings_or_exit(), args)
    data = Path(args.data_dir)
    if args.reset and data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    changes: dict[str, object] = {"simulator": True}
    if settings.database_url == Settings().database_url:
        changes["database_url"] = f"sqlite:///{data / 'demo.db'}"
    if not settings.api_keys:
        from .settings import ApiKey

        changes["api_keys"] = (ApiKey("demo", "demo-key-not-for-production"),)
    settings = settings.replace(**changes)
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
    asyncio.run(_serve(settings, on_ready=[]))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run only the background workers (for deployments that separate web and workers).

    The web processes (``serve`` with ``FEEDBACKBOT_RUN_WORKERS=false``) store and acknowledge providers'
    webhooks; this process carries out their survey turns, reads their free text with the model, sends
    the outbox and runs the scheduler, so a web process's event loop only answers requests.
    """
    from .app import build_services, prepare_database, start_workers, stop_workers
    from .inbox import PICK_UP_SECONDS
    from .logs import configure_logging

    settings = _settings_or_exit()
    configure_logging(settings.log_level)

    async def run() -> None:
        services = build_services(settings.replace(run_workers=True, background_turns=True))
        await prepare_database(services)
        await services.classifier.start()
        for adapter in services.channels:  # senders, and the inbound email listener or IMAP poller if set
            await adapter.start()
        _settle_memory()
        stop, done = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, done.set)
        tasks = start_workers(services, stop, pick_up_every=PICK_UP_SECONDS)
        log.info("worker running: scheduler, outbox and the survey turns of stored replies")
        try:
            await done.wait()
        finally:
            await stop_workers(services, stop, tasks)
            for adapter in services.channels:
                await adapter.stop()
            services.classifier.stop()
            await services.notifications.close()
            await services.db.dispose()

    asyncio.run(run())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database to the current schema."""
    from .store.migrate import head_revision, migrate_url

    settings = _settings_or_exit()
    migrate_url(settings.database_url)
    print(f"database is at schema {head_revision()}")
    return 0


def cmd_flows_validate(args: argparse.Namespace) -> int:
    """Check flow files; print file, line and step for each problem; exit 1 if any."""
    from .flows.loader import FlowError, flow_files, load_flow_file
    from .flows.render import SAMPLE_CONTEXT

    settings = _settings_or_exit()
    paths = [Path(p) for p in args.paths] or [settings.flows_dir]
    files = flow_files(paths)
    if not files:
        print("feedbackbot: no flow files found", file=sys.stderr)
        return 1
    context = {**SAMPLE_CONTEXT, "force_name": settings.force_name}
    failed = 0
    for path in files:
        try:
            loaded = load_flow_file(path, max_segments=settings.sms_max_segments, context=context)
        except FlowError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem)
            continue
        flow = loaded.flow
        questions = sum(1 for s in flow.steps.values() if s.is_question)
        print(f"{path}: ok ({flow.id} v{flow.version}, {len(flow.steps)} steps, {questions} questions, "
              f"languages {', '.join(flow.languages)})")
    return 1 if failed else 0


def cmd_flows_run(args: argparse.Namespace) -> int:
    """Talk to a flow in the terminal with the pure engine (nothing is stored or sent)."""
    from datetime import UTC, datetime

    from .flows import engine
    from .flows.loader import FlowError, load_flow_file
    from .flows.phrases import Phrases

    settings = _settings_or_exit()
    path = Path(args.flow)
    if not path.exists():
        path = settings.flows_dir / f"{args.flow}.yaml"
    try:
        flow = load_flow_file(path, max_segments=settings.sms_max_segments).flow
    except FlowError as exc:
        print(exc, file=sys.stderr)
        return 1
    phrases = Phrases.load(settings.prompts_dir / "phrases.yaml")
    sprint = engine.start(flow, phrases, language=args.language, at=datetime.now(UTC),
                          context={"force_name": settings.force_name})

    def show(events: Sequence[engine.Event]) -> None:
        for event in events:
            if isinstance(event, engine.MsgCreated):
                print(f"\nbot> {event.text}")
            elif args.verbose:
                print(f"     [{type(event).__name__}: {event}]")

    show(sprint.events)
    state = sprint.state
    while state.status == engine.ACTIVE:
        try:
            text = input("\nyou> ")
        except EOFError:
            break
        sprint = engine.resume(flow, phrases, state, engine.MessageResume(text, datetime.now(UTC)))
        show(sprint.events)
        state = sprint.state
    print(f"\n[session {state.status}]")
    return 0


def cmd_import_events(args: argparse.Namespace) -> int:
    """Load touchpoint events from a CSV file; report each bad row by line and field, load the good ones."""
    from .app import build_services, prepare_database
    from .intake import InvalidEvent, column_for, read_csv

    settings = _settings_or_exit()
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"feedbackbot: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    rows, problems = read_csv(text)
    if problems:
        for problem in problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        return 1

    async def run() -> tuple[int, int, int]:
        services = build_services(settings)
        try:
            await prepare_database(services)
            invited = not_eligible = bad = 0
            for row in rows:
                try:
                    event = services.intake.parse(row.data)
                except InvalidEvent as exc:
                    bad += 1
                    for p in exc.problems:
                        print(f"{args.file}: line {row.line}: {column_for(p.field)}: {p.message}", file=sys.stderr)
                    continue
                result = await services.intake.record(event, source=args.source)
                if result.outcome == "invited":
                    invited += 1
                else:
                    not_eligible += 1
            return invited, not_eligible, bad
        finally:
            await services.db.dispose()

    invited, not_eligible, bad = asyncio.run(run())
    print(f"{len(rows)} rows: {invited} invited, {not_eligible} not eligible, {bad} rejected")
    return 1 if bad else 0


def cmd_outbox(args: argparse.Namespace) -> int:
    """List messages that could not be sent (with their reasons), or send one again."""
    from sqlmodel import col, select

    from .app import build_services, prepare_database
    from .store.tables import Message

    settings = _settings_or_exit()

    async def run() -> int:
        services = build_services(settings)
        try:
            await prepare_database(services)
            if args.outbox_command == "retry":
                ok = await services.outbox.retry(args.id)
                print(f"message {args.id} queued again" if ok else
                      f"message {args.id} is not a failed or held outbound message")
                return 0 if ok else 1
            async with services.db.session() as s:
                rows = (await s.exec(select(Message).where(
                    Message.direction == "out", col(Message.status).in_(args.status),
                ).order_by(col(Message.id).desc()).limit(args.limit))).all()
            for row in rows:
                # Ids, channel, status and reason only: never the text or the address.
                print(f"{row.id}\t{row.channel}\t{row.status}\tattempts={row.attempts}\t"
                      f"{row.error_code or '-'}\t{row.error_reason or '-'}")
            if not rows:
                print("nothing failed or held")
            return 0
        finally:
            await services.db.dispose()

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(prog="feedbackbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    for name, func, help_text in (("serve", cmd_serve, "run the web app and workers"),
                                  ("demo", cmd_demo, "run with demo data on a local SQLite file")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=None, help="port to listen on (default 8080)")
        if name == "serve":
            p.add_argument("--processes", type=_positive, default=1,
                           help="serving processes sharing the port (default 1; the first also runs the workers)")
        if name == "demo":
            p.add_argument("--data-dir", default="var/demo", help="where the demo database lives")
            p.add_argument("--reset", action="store_true", help="start again with fresh demo data")
        p.set_defaults(func=func)

    sub.add_parser("worker", help="run only the background workers").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="bring the database to the current schema").set_defaults(func=cmd_migrate)

    flows = sub.add_parser("flows", help="check or try survey flows")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True)
    validate = flows_sub.add_parser("validate", help="check flow files (default: the prompts folder)")
    validate.add_argument("paths", nargs="*", help="flow files or folders")
    validate.set_defaults(func=cmd_flows_validate)
    run = flows_sub.add_parser("run", help="talk to a flow in the terminal; nothing is stored")
    run.add_argument("flow", help="a flow id or a path to a flow file")
    run.add_argument("--language", default="en")
    run.add_argument("--verbose", action="store_true", help="show the engine's events too")
    run.set_defaults(func=cmd_flows_run)

    outbox = sub.add_parser("outbox", help="messages that could not be sent: list them, or retry one")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    listing = outbox_sub.add_parser("list", help="failed and held messages with their reasons (no victim text)")
    listing.add_argument("--status", nargs="+", default=["failed", "unknown"],
                         choices=["failed", "unknown", "queued", "sending"])
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=cmd_outbox)
    retry = outbox_sub.add_parser("retry", help="queue a failed or held message again")
    retry.add_argument("id", type=int)
    retry.set_defaults(func=cmd_outbox)

    imp = sub.add_parser("import-events", help="load touchpoint events from a CSV file")
    imp.add_argument("file")
    imp.add_argument("--source", default="csv", help="name recorded as the events' source")
    imp.set_defaults(func=cmd_import_events)

    from .accounts.cli import add_commands as add_users_commands
    from .insights.cli import add_commands as add_board_commands
    from .nlp.cli import add_commands
    from .routing.cli import add_commands as add_routing_commands

    add_commands(sub)
    add_board_commands(sub)
    add_routing_commands(sub)
    add_users_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
