"""Channel benchmarks against a running ``feedbackbot serve``: signed Twilio webhooks in, outbox sends out.

Twilio part (``python bench/channels.py twilio``), on SQLite, 127.0.0.1 only, each phase bounded in time:

* **webhooks**: the script starts ``feedbackbot serve`` as a separate process on a fresh SQLite file, with
  Twilio SMS configured and its API base URL pointed at a local stand-in for api.twilio.com (served by this
  script). It posts inbound SMS webhooks signed with the real twilio ``RequestValidator`` (signatures made
  before the clock starts) to ``POST /webhooks/twilio/messages``. The server answers 200 only after the
  message is committed, so each request's time is "Twilio posts → message stored → empty TwiML back".
  Senders are 1,000 numbers from Ofcom's drama range with no survey running, so each message is also
  processed in the background (kept for a person; answered once per number per day, through the outbox).
  Two phases: ``closed`` (``--concurrency`` requests always in flight: the most the server takes) and
  ``open`` (Poisson arrivals at ``--rate`` per second whatever the server does, latency timed from each
  request's scheduled moment: the phase the p99 target is judged on). Afterwards the script checks that
  every acknowledged MessageSid is a stored message.
* **sends**: for each rate in ``--send-rates`` (sends per second, set as ``FEEDBACKBOT_RATE_LIMITS`` sms=…),
  a fresh server; ``--send-seconds`` worth of queued SMS rows are written to its outbox in one transaction,
  as the conversation writes them, and the script times their arrival at the stand-in and reads the
  server's CPU time from /proc (idle CPU measured first, for comparison). Every row must end ``sent`` with
  the stand-in's sid.

Run from the repository root::

    .venv/bin/python bench/channels.py twilio
    .venv/bin/python bench/channels.py twilio --rate 500 --duration 10 --send-rates 10,50 \
        --markdown /tmp/perf_channels_twilio.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from measure import (
    free_port,
    percentile,
    process_cpu_seconds,
    runqueue_wait_seconds,
    stop_server,
    wait_until_healthy,
)
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.twilio_standin import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    SERVICE_SID,
    TwilioStandIn,
    fixture_form,
)

REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 60.0
MAX_IN_FLIGHT = 512
WEBHOOK_PATH = "/webhooks/twilio/messages"
REPLIES = (
    "yes", "no", "5", "4", "1", "Yes they did", "not really", "SKIP",
    "The officer who came round was kind and patient, but nobody has told me anything since.",
    "Please just keep me updated, even if there is no news. Not knowing is the worst part.",
    "I was told someone would call me back within two days and nobody did.",
)  # fmt: skip
QUESTION = "Did the officers listen to you and treat you with respect? Reply YES or NO."


# --- measuring ----------------------------------------------------------------------------------------


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> dict[str, str]:
    """What this machine is, for the record."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": str(os.cpu_count()), "cpu": model, "python": platform.python_version(),
            "kernel": platform.release(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


# --- the server -----------------------------------------------------------------------------------------


@dataclass
class Server:
    """A running ``feedbackbot serve``: its URL, pid, database file and log."""

    url: str
    pid: int
    db_path: Path
    log_path: Path
    worker_pid: int | None = None

    def cpu_seconds(self) -> float:
        """CPU seconds of the web process (and its children) and of the worker process, if one runs."""
        return process_cpu_seconds(self.pid) + (process_cpu_seconds(self.worker_pid) if self.worker_pid else 0.0)

    def waited_seconds(self) -> float:
        """Seconds the web and worker processes were ready to run but waited for a CPU."""
        return runqueue_wait_seconds(self.pid) + (runqueue_wait_seconds(self.worker_pid) if self.worker_pid else 0.0)


API_KEY = "bench-" + uuid.uuid4().hex


#: How many serving processes the server runs (``--processes``).
SERVER_PROCESSES = {"count": "1"}
#: Whether a ``feedbackbot worker`` process runs beside ``serve`` and carries out the survey turns (``--worker``).
SEPARATE_WORKER = {"on": False}
#: How long the worker is given to load the model before the measurements start (seconds).
WORKER_START_SECONDS = 8.0
#: Which classifier the server reads free-text messages with (``--classifier``).
SERVER_CLASSIFIER = {"name": "model"}


def server_environment(db_path: Path, port: int, api_base_url: str, send_rate: float, log_level: str) -> dict[str, str]:
    """The server's environment: ours only (no FEEDBACKBOT_* from the caller), Twilio pointed at the stand-in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDBACKBOT_", "TWILIO_"))}
    env.update(
        FEEDBACKBOT_DATABASE_URL=f"sqlite:///{db_path}", FEEDBACKBOT_HOST="127.0.0.1", FEEDBACKBOT_PORT=str(port),
        FEEDBACKBOT_PUBLIC_URL=f"http://127.0.0.1:{port}", FEEDBACKBOT_QUIET_HOURS="",
        FEEDBACKBOT_LOG_LEVEL=log_level, FEEDBACKBOT_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        FEEDBACKBOT_TWILIO_AUTH_TOKEN=AUTH_TOKEN, FEEDBACKBOT_TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID,
        FEEDBACKBOT_TWILIO_API_BASE_URL=api_base_url, FEEDBACKBOT_RATE_LIMITS=f"sms={send_rate:g}",
        FEEDBACKBOT_API_KEYS=f"bench:{API_KEY}", FEEDBACKBOT_CLASSIFIER=SERVER_CLASSIFIER["name"],
    )
    return env


def number(n: int) -> str:
    """The n-th of the 1,000 numbers Ofcom keeps for drama (07700 900000-900999): never a real phone."""
    return f"+447700900{n % 1000:03d}"


async def start_sms_surveys(http: aiohttp.ClientSession, server: Server, count: int) -> float:
    """Report six-week check-ins for ``count`` victims who chose SMS; wait until every survey has started."""
    began = time.monotonic()
    semaphore = asyncio.Semaphore(16)

    async def invite(n: int) -> None:
        body = {"event_id": f"bench-{n}", "touchpoint": "six_week_checkin",
                "case": {"reference": f"BENCH/{n}", "crime_type": "burglary", "area": "Coventry"},
                "victim": {"ref": f"BENCH-{n}", "preferred_channel": "sms", "phone": number(n), "consent": True}}
        async with semaphore, http.post(server.url + "/api/v1/events", json=body,
                                        headers={"Authorization": f"Bearer {API_KEY}"}) as response:
            if response.status != 201:
                raise RuntimeError(f"POST /api/v1/events: {response.status} {await response.text()}")

    await asyncio.gather(*(invite(n) for n in range(count)))
    deadline = time.monotonic() + 120
    while query(server.db_path, "SELECT count(*) FROM survey_sessions WHERE status = 'active'")[0][0] < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the scheduler did not start every survey within 120 s")
        await asyncio.sleep(0.5)
    return time.monotonic() - began


@contextlib.asynccontextmanager
async def running_server(workdir: Path, api_base_url: str, send_rate: float,
                         log_level: str) -> AsyncIterator[Server]:
    """Start ``feedbackbot serve`` on a fresh SQLite file and wait for /healthz; stop it afterwards."""
    port = free_port()
    db_path = workdir / f"twilio-{port}.db"
    log_path = workdir / f"server-{port}.log"
    env = server_environment(db_path, port, api_base_url, send_rate, log_level)
    if SEPARATE_WORKER["on"]:
        env.update(FEEDBACKBOT_RUN_WORKERS="false", FEEDBACKBOT_BACKGROUND_TURNS="false")
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "feedbackbot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--processes", SERVER_PROCESSES["count"],
            env=env, cwd=ROOT, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    worker: asyncio.subprocess.Process | None = None
    try:
        await wait_until_healthy(proc, url, log_path, START_TIMEOUT)
        if SEPARATE_WORKER["on"]:  # started once serve has migrated the database
            with (workdir / f"worker-{port}.log").open("wb") as log:
                worker = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "feedbackbot.cli", "worker", env=env, cwd=ROOT, stdout=log, stderr=log,
                    stdin=asyncio.subprocess.DEVNULL)
            await asyncio.sleep(WORKER_START_SECONDS)
            if worker.returncode is not None:
                raise RuntimeError(f"feedbackbot worker exited with {worker.returncode}; see {workdir}")
        yield Server(url, proc.pid, db_path, log_path, worker.pid if worker else None)
    finally:
        if worker is not None:
            await stop_server(worker)
        await stop_server(proc)


def query(db_path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows from the server's SQLite file (WAL lets us read while it runs)."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as conn:
        return list(conn.execute(sql, params).fetchall())


# --- webhooks -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """One inbound SMS webhook, body and headers ready."""

    sid: str
    body: bytes
    headers: dict[str, str]


def signed_webhooks(public_url: str, count: int, rng: random.Random) -> list[Signed]:
    """``count`` inbound SMS as Twilio would post them, each signed with the auth token."""
    validator = RequestValidator(AUTH_TOKEN)
    out: list[Signed] = []
    for n in range(count):
        sid = "SM" + uuid.uuid4().hex
        form = fixture_form("inbound_sms", From=number(n), Body=rng.choice(REPLIES))
        form["MessageSid"] = form["SmsSid"] = form["SmsMessageSid"] = sid
        signature = validator.compute_signature(public_url + WEBHOOK_PATH, form)
        out.append(Signed(sid, urlencode(form).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}))
    return out


@dataclass
class Phase:
    """One measured phase of webhooks."""

    name: str
    offered_rate: float | None
    sent: int = 0
    acked: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    not_sent: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    server_waited: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def row(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "phase": self.name, "offered_per_s": self.offered_rate, "requests": self.sent,
            "acked": len(self.acked), "seconds": round(self.seconds, 2),
            "acked_per_s": round(len(self.acked) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p95_ms": round(percentile(lat, 95) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1), "max_ms": round(lat[-1] * 1000, 1) if lat else math.nan,
            "errors": dict(self.errors), "not_sent": self.not_sent,
            "server_cpu_percent": round(100 * self.server_cpu / self.seconds, 1) if self.seconds else 0.0,
            "server_waited_for_cpu_percent": round(100 * self.server_waited / self.seconds, 1) if self.seconds else 0.0,
            "server_cpu_ms_per_webhook": round(1000 * self.server_cpu / len(self.acked), 2) if self.acked else math.nan,
        }


async def post_one(http: aiohttp.ClientSession, url: str, item: Signed, phase: Phase, started: float) -> None:
    phase.sent += 1
    try:
        async with http.post(url, data=item.body, headers=item.headers) as response:
            await response.read()
            if response.status == 200:
                phase.acked.append(item.sid)
                phase.latencies.append(time.perf_counter() - started)
            else:
                phase.error(f"http_{response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        phase.error(type(exc).__name__)


async def closed_loop(http: aiohttp.ClientSession, url: str, items: list[Signed], concurrency: int,
                      duration: float) -> Phase:
    """``concurrency`` requests always in flight, until ``duration`` seconds pass or the requests run out."""
    phase = Phase("closed", None)
    queue = iter(items)
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        for item in queue:
            if time.perf_counter() > deadline:
                return
            await post_one(http, url, item, phase, time.perf_counter())

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.seconds = time.perf_counter() - began
    return phase


async def open_loop(http: aiohttp.ClientSession, url: str, items: list[Signed], rate: float, duration: float,
                    rng: random.Random) -> Phase:
    """Poisson arrivals at ``rate`` per second for ``duration`` seconds; latency from each scheduled moment."""
    phase = Phase("open", rate)
    tasks: set[asyncio.Task[None]] = set()
    began = time.perf_counter()
    due = began
    for item in items:
        due += rng.expovariate(rate)
        if due - began > duration:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= MAX_IN_FLIGHT:
            phase.not_sent += 1
            continue
        task = asyncio.create_task(post_one(http, url, item, phase, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    phase.seconds = time.perf_counter() - began
    return phase


async def wait_processed(db_path: Path, seconds: float) -> int:
    """Wait until no inbound message is left unprocessed; returns how many still are at the end."""
    deadline = time.monotonic() + seconds
    while True:
        left = query(db_path, "SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'received'")[0][0]
        if left == 0 or time.monotonic() > deadline:
            return int(left)
        await asyncio.sleep(0.5)


async def bench_webhooks(options: Options, workdir: Path, standin: TwilioStandIn) -> dict[str, Any]:
    rng = random.Random(options.seed)
    async with running_server(workdir, standin.url, 10, options.log_level) as server:
        needed = int(options.rate * options.duration * 1.3) + options.concurrency * 2000
        items = signed_webhooks(server.url, min(needed, options.max_webhooks), rng)
        url = server.url + WEBHOOK_PATH
        connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        phases: list[Phase] = []
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            setup = await start_sms_surveys(http, server, options.victims) if options.victims else 0.0
            warm = await closed_loop(http, url, items[:200], 8, 5)
            rest = items[200:]
            # The signed requests are tens of thousands of objects: set them aside from this load generator's
            # garbage collector, whose full collections otherwise paused it (and so its timings) for 20-40 ms.
            gc.collect()
            gc.freeze()
            cpu, waited = server.cpu_seconds(), server.waited_seconds()
            closed = await closed_loop(http, url, rest, options.concurrency, options.duration)
            closed.server_cpu = server.cpu_seconds() - cpu
            closed.server_waited = server.waited_seconds() - waited
            phases.append(closed)
            rest = rest[closed.sent:]
            await wait_processed(server.db_path, 60)  # start the open phase from a quiet server
            cpu, waited = server.cpu_seconds(), server.waited_seconds()
            opened = await open_loop(http, url, rest, options.rate, options.duration, rng)
            opened.server_cpu = server.cpu_seconds() - cpu
            opened.server_waited = server.waited_seconds() - waited
            phases.append(opened)
        unprocessed = await wait_processed(server.db_path, 60)
        acked = {sid for p in (warm, *phases) for sid in p.acked}
        inbound = "SELECT provider_id FROM messages WHERE direction = 'in' AND channel = 'tel'"
        stored = {row[0] for row in query(server.db_path, inbound)}
        return {"phases": [p.row() for p in phases], "acked": len(acked), "stored": len(stored),
                "acked_not_stored": len(acked - stored), "unprocessed_after_60s": unprocessed,
                "surveys": options.victims, "survey_setup_seconds": round(setup, 1)}


# --- sends ----------------------------------------------------------------------------------------------


def queue_sms(db_path: Path, count: int) -> None:
    """Queue ``count`` SMS in the outbox in one transaction, as the conversation would (one per victim)."""
    now = datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [("out", "tel", f"tel:+447700900{n:03d}", QUESTION, "[]", "[]", "prompt", "queued", 0, now, now, now)
            for n in range(count)]
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as conn, conn:
        conn.executemany(
            "INSERT INTO messages (direction, channel, address, text, quick_replies, media, purpose, status, attempts,"
            " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


async def bench_sends(options: Options, workdir: Path, standin: TwilioStandIn, rate: float) -> dict[str, Any]:
    count = min(1000, max(50, int(rate * options.send_seconds)))
    async with running_server(workdir, standin.url, rate, options.log_level) as server:
        await asyncio.sleep(2)  # let start-up settle before measuring idle
        idle_cpu = server.cpu_seconds()
        idle_began = time.monotonic()
        await asyncio.sleep(options.idle_seconds)
        idle = (server.cpu_seconds() - idle_cpu) / (time.monotonic() - idle_began)
        first = len(standin.arrivals)
        cpu = server.cpu_seconds()
        began = time.monotonic()
        queue_sms(server.db_path, count)
        deadline = began + count / rate + 30
        while len(standin.arrivals) - first < count:
            standin.received.clear()
            if len(standin.arrivals) - first >= count:
                break
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await standin.received.wait()
            except TimeoutError:
                break
        ended = time.monotonic()
        used = server.cpu_seconds() - cpu
        arrivals = standin.arrivals[first:]
        await asyncio.sleep(1.5)  # let the last answers be recorded
        recorded = query(server.db_path, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"
                                         " AND provider_id IS NOT NULL")[0][0]
        spread = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else math.nan
        wall = ended - began
        return {
            "configured_rate": rate, "queued": count, "sent_to_twilio": len(arrivals), "recorded_sent": recorded,
            "sends_per_s": round((len(arrivals) - 1) / spread, 2) if spread and spread > 0 else math.nan,
            "first_send_after_s": round(arrivals[0] - began, 2) if arrivals else math.nan,
            "seconds": round(wall, 2), "server_cpu_percent": round(100 * used / wall, 2),
            "server_cpu_ms_per_send": round(1000 * used / max(1, len(arrivals)), 2),
            "idle_cpu_percent": round(100 * idle, 2),
        }


# --- reporting ------------------------------------------------------------------------------------------


def markdown(result: dict[str, Any], options: Options) -> str:
    hw = result["machine"]
    lines = [
        "### Twilio: signed webhooks and outbox sends",
        "",
        f"`{' '.join(result['command'])}` — {hw['date']}, {hw['nproc']} cores ({hw['cpu']}), Python {hw['python']},"
        " SQLite, `feedbackbot serve` as a separate process, 127.0.0.1 only. Load average before:"
        f" {result['load_before']}, after: {result['load_after']} (2 cores; other work shares the machine).",
        "",
        "**Inbound webhooks** (`POST /webhooks/twilio/messages`, each signed with the real twilio RequestValidator,"
        " answered after the message is committed). " + senders(result["webhooks"]) + ":",
        "",
        "| phase | offered/s | acked | seconds | acked/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU |"
        " CPU ms/webhook | server waited for a CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in result["webhooks"]["phases"]:
        errors = str(sum(p["errors"].values())) + (f" ({p['not_sent']} not sent: {MAX_IN_FLIGHT} already waiting)"
                                                   if p["not_sent"] else "")
        lines.append(f"| {p['phase']} | {p['offered_per_s'] or '-'} | {p['acked']} | {p['seconds']}"
                     f" | {p['acked_per_s']} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} | {p['max_ms']}"
                     f" | {errors} | {p['server_cpu_percent']}% | {p['server_cpu_ms_per_webhook']}"
                     f" | {p['server_waited_for_cpu_percent']}% |")
    w = result["webhooks"]
    lines += ["", f"Every acknowledged MessageSid stored: {w['acked'] - w['acked_not_stored']} of {w['acked']}"
                  f" (unprocessed 60 s after the run: {w['unprocessed_after_60s']}).", "",
              "**Outbox sends** to the stand-in (queued rows for distinct victims; the rate is"
              " `FEEDBACKBOT_RATE_LIMITS` sms=…; CPU is the server process's, from /proc):", "",
              "| configured/s | queued | sent | recorded | sends/s | server CPU | CPU ms/send | idle CPU |",
              "|---|---|---|---|---|---|---|---|"]
    for s in result["sends"]:
        lines.append(f"| {s['configured_rate']:g} | {s['queued']} | {s['sent_to_twilio']} | {s['recorded_sent']} |"
                     f" {s['sends_per_s']} | {s['server_cpu_percent']}% of one core | {s['server_cpu_ms_per_send']} |"
                     f" {s['idle_cpu_percent']}% |")
    lines += ["", verdict(result, options), ""]
    return "\n".join(lines)


def senders(webhooks: dict[str, Any]) -> str:
    if not webhooks["surveys"]:
        return "Senders have no survey running; each message is also processed in the background"
    return (f"Senders are {webhooks['surveys']} victims in live SMS surveys (six-week check-in, started through"
            " the journey API), replying with a mix of answers, numbers, SKIP and sentences; each reply is also"
            " processed in the background (the survey's next step, queued for the outbox)")


def verdict(result: dict[str, Any], options: Options) -> str:
    phases = {p["phase"]: p for p in result["webhooks"]["phases"]}
    closed, opened = phases["closed"], phases["open"]
    most = "met" if closed["acked_per_s"] >= 500 else "NOT met"
    parts = [
        f"Webhooks: {closed['acked_per_s']}/s at most (target ≥ 500/s: {most});"
        f" p99 ack at {options.rate:g}/s offered {opened['p99_ms']} ms (target < 50 ms:"
        f" {'met' if opened['p99_ms'] < 50 and not opened['errors'] else 'NOT met'}).",
    ]
    for s in result["sends"]:
        ok = s["sends_per_s"] >= 0.95 * s["configured_rate"] and s["server_cpu_percent"] < 10
        parts.append(f"Sends at {s['configured_rate']:g}/s configured: {s['sends_per_s']}/s using"
                     f" {s['server_cpu_percent']}% of one core (target: the configured rate, < 10%:"
                     f" {'met' if ok else 'NOT met'}).")
    return " ".join(parts)


@dataclass
class Options:
    """What to run."""

    concurrency: int = 32
    victims: int = 1000
    duration: float = 10.0
    rate: float = 500.0
    max_webhooks: int = 40_000
    send_rates: tuple[float, ...] = (10.0, 50.0)
    send_seconds: float = 20.0
    idle_seconds: float = 5.0
    log_level: str = "WARNING"
    seed: int = 1
    markdown: Path | None = None
    json: Path | None = None


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("part", choices=["twilio"], help="which channel's benchmark to run")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight in the closed phase")
    parser.add_argument("--victims", type=int, default=1000,
                        help="SMS surveys started before the webhooks (0: senders with no survey)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per webhook phase (at most 120)")
    parser.add_argument("--rate", type=float, default=500.0, help="webhooks per second offered in the open phase")
    parser.add_argument("--send-rates", default="10,50", help="comma-separated sends per second to try")
    parser.add_argument("--send-seconds", type=float, default=20.0, help="seconds' worth of sends to queue")
    parser.add_argument("--processes", type=int, default=1,
                        help="the server's serving processes (feedbackbot serve --processes; default 1)")
    parser.add_argument("--worker", action="store_true",
                        help="run `feedbackbot worker` beside `serve` (FEEDBACKBOT_RUN_WORKERS and "
                             "FEEDBACKBOT_BACKGROUND_TURNS off on serve): serve only acknowledges, the worker carries "
                             "out the survey turns and sends; CPU figures are both processes'")
    parser.add_argument("--classifier", choices=("model", "keywords"), default="model",
                        help="the server's classifier: the shipped transformer (default) or the keyword stand-in")
    parser.add_argument("--log-level", default="WARNING", help="the server's FEEDBACKBOT_LOG_LEVEL")
    parser.add_argument("--markdown", type=Path, help="write the figures as markdown here")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    SERVER_CLASSIFIER["name"] = args.classifier
    SERVER_PROCESSES["count"] = str(max(1, args.processes))
    SEPARATE_WORKER["on"] = args.worker
    print(f"classifier: {args.classifier}; serving processes: {args.processes}"
          f"{'; plus a worker process' if args.worker else ''}", flush=True)
    return Options(concurrency=args.concurrency, victims=min(1000, args.victims),
                   duration=min(120.0, args.duration), rate=args.rate,
                   send_rates=tuple(float(r) for r in args.send_rates.split(",") if r.strip()),
                   send_seconds=min(60.0, args.send_seconds), log_level=args.log_level,
                   markdown=args.markdown, json=args.json)


async def run(options: Options, argv: Sequence[str]) -> dict[str, Any]:
    load_before = load_average()
    standin = TwilioStandIn()
    await standin.start()
    try:
        with tempfile.TemporaryDirectory(prefix="feedbackbot-bench-") as tmp:
            workdir = Path(tmp)
            webhooks = await bench_webhooks(options, workdir, standin)
            sends = [await bench_sends(options, workdir, standin, rate) for rate in options.send_rates]
    finally:
        await standin.close()
    return {"machine": machine(), "command": ["bench/channels.py", *argv], "options": asdict(options),
            "load_before": load_before, "load_after": load_average(), "webhooks": webhooks, "sends": sends}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options = parse_args(args)
    result = asyncio.run(run(options, args))
    text = markdown(result, options)
    print(text)
    if options.markdown is not None:
        options.markdown.write_text(text, encoding="utf-8")
    if options.json is not None:
        options.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
