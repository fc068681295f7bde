"""Conversation benchmark: victims answer their web surveys through the real HTTP server, on SQLite and PostgreSQL.

For each database the script starts ``feedbackbot serve`` as a separate process on a fresh database (an SQLite
file in a temporary folder; a PostgreSQL database made for the run), reports journey events through
``POST /api/v1/events`` to create web invitations (quiet hours off), opens every survey link once (which starts
the survey), then has simulated victims answer through ``POST /s/{token}/messages``: yes/no, numbers, choices
and free-text sentences, chosen from what the bot last asked, until each survey ends. That endpoint answers
only after the bot's next message is committed, so each request's time is "victim's reply sent -> bot's next
message stored and returned". Creating and opening invitations is not timed.

After a short warm-up come the measured phases:

* ``closed``: ``--concurrency`` victims (default 32), each sending its next reply as soon as it hears back.
  This finds the most replies per second the server can take; the latency here is mostly queueing behind
  the other victims (with C requests always in flight, mean latency = C / throughput).
* ``open R/s`` for each rate in ``--rates`` (default 100 and 300): replies arrive at R per second (a Poisson
  process) whatever the server does, as real victims would, from whichever victim is not waiting for an
  answer. Latency is timed from each reply's scheduled moment, so a server that falls behind is charged for
  it; at most ``--max-in-flight`` requests wait at once, and replies due beyond that are counted "not sent".
  The p99 target is judged on the 300/s phase.

Each phase stops after ``--duration`` seconds or ``--max-replies`` replies, whichever comes first. Columns:
replies answered and replies/s; latency percentiles; errors (non-200 answers, failed requests, answers
without a bot message); the server's CPU seconds from /proc/<pid>/stat (and as cores: CPU seconds per wall
second) and per reply; how long the server was ready to run but waited for a CPU because other processes
had both (from /proc/<pid>/task/*/schedstat: if this is large the machine was busy and the figures are low);
PostgreSQL's CPU (postmaster, backends and reaped backends) when the script runs the cluster; and this load
generator's own CPU. Afterwards it checks that every accepted reply was stored and processed. It can also
write everything as JSON (``--json``). Exit status 1 on any error or lost reply.

It only talks to 127.0.0.1. Run it from the repository root::

    .venv/bin/python bench/conversation.py                      # SQLite and a throw-away PostgreSQL
    .venv/bin/python bench/conversation.py --databases sqlite   # SQLite only
    .venv/bin/python bench/conversation.py --postgres-url postgresql://postgres@127.0.0.1:55433/postgres

PostgreSQL: ``--postgres-url`` (default: ``$FEEDBACKBOT_BENCH_POSTGRES_URL``) names a local server on which the
script creates, and afterwards drops, a database of its own. Without one, the script runs a private cluster
with initdb/pg_ctl from /usr/lib/postgresql/*/bin (as the postgres user when run as root) with the server's
default, durable settings, and removes it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
import asyncpg
import yaml
from measure import (
    CLK_TCK,
    free_port,
    percentile,
    process_cpu_seconds,
    runqueue_wait_seconds,
    stop_server,
    wait_until_healthy,
)
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The fewest replies any shipped survey takes to finish (used to size the pool of invitations).
MIN_REPLIES_PER_SURVEY = 4
SETUP_CONCURRENCY = 16
SETUP_TIMEOUT = 600.0
REQUEST_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0

# --- what victims say ---------------------------------------------------------------------------------

YES_NO_REPLIES = (
    "yes", "Yes", "no", "No", "yeah", "nope", "Yes they did", "no they didn't", "YES", "not really",
    "yes, PC Khan rang me back twice and explained everything",
)  # fmt: skip
SCALE_REPLIES = ("5", "4", "4", "3", "2", "1", "five", "4 they were fine", "3 I suppose")
TEXT_REPLIES = (
    "The officer who came round was kind and patient, but nobody has told me anything since.",
    "I waited over an hour on the phone before anyone answered, which was hard after what happened.",
    "Please just keep me updated, even if there is no news. Not knowing is the worst part.",
    "Everyone was very professional and I felt listened to. Thank you.",
    "I was told someone would call me back within two days and nobody did.",
    "It would help to have one named person to contact instead of being passed around.",
    "My neighbours saw the police car and I felt embarrassed, an unmarked car would have been better.",
    "The support leaflet was useful but I would have liked a call from Victim Support as well.",
    "SKIP",
)
_YES_NO = re.compile(r"\bYES or NO\b", re.IGNORECASE)
_SCALE = re.compile(r"\b1\b.*\bto 5\b")


def choose_reply(prompt: dict[str, Any] | None, rng: random.Random) -> str:
    """A realistic answer to the bot's last message: a choice, yes/no, a 1-5 number or a sentence."""
    if prompt is None:
        return rng.choice(TEXT_REPLIES)
    quick = prompt.get("quick_replies") or []
    text = str(prompt.get("text", ""))
    if quick:
        option = rng.choice(quick)
        return str(option["text"]) if rng.random() < 0.7 else str(option["label"])
    if _YES_NO.search(text):
        return rng.choice(YES_NO_REPLIES)
    if _SCALE.search(text):
        return rng.choice(SCALE_REPLIES)
    return rng.choice(TEXT_REPLIES)


# --- measuring --------------------------------------------------------------------------------------


def cluster_cpu_seconds(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL cluster: the postmaster, its live children and the children it has reaped.

    A backend that exits (the server's pool closes surplus connections) moves its time into the
    postmaster's cutime/cstime, so the total only grows.
    """
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            with open(entry / "stat", encoding="ascii") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended while we looked
        if int(entry.name) == postmaster:
            total += sum(int(v) for v in fields[11:15]) / CLK_TCK  # utime, stime, cutime, cstime
        elif int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


@dataclass
class Tally:
    """What one phase's requests did."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    uncertain: int = 0  # failed in a way that may or may not have stored the reply (timeouts, resets)
    surveys_finished: int = 0
    not_sent: int = 0  # open loop: due, but too many requests were already waiting

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass
class PhaseResult:
    """One row of the results table."""

    database: str
    phase: str
    replies: int
    seconds: float
    replies_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_kinds: dict[str, int]
    surveys_finished: int
    server_cpu_seconds: float
    server_cpu_ms_per_reply: float
    database_cpu_seconds: float | None
    client_cpu_seconds: float
    server_cpu_wait_seconds: float
    note: str = ""
    offered_rate: float | None = None


class Meter:
    """CPU seconds of the server, the database cluster (when known) and this process over a phase."""

    def __init__(self, server_pid: int, postmaster: int | None) -> None:
        self.server_pid = server_pid
        self.postmaster = postmaster
        self.start = (0.0, 0.0, 0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float, float, float]:
        db = cluster_cpu_seconds(self.postmaster) if self.postmaster is not None else 0.0
        return (time.perf_counter(), process_cpu_seconds(self.server_pid), db, time.process_time(),
                runqueue_wait_seconds(self.server_pid))

    def begin(self) -> None:
        """Start the clock."""
        self.start = self._now()

    def end(self, database: str, phase: str, tally: Tally, note: str = "",
            offered_rate: float | None = None) -> PhaseResult:
        """Stop the clock and summarise."""
        end = self._now()
        seconds = end[0] - self.start[0]
        ms = sorted(v * 1000 for v in tally.latencies)
        return PhaseResult(
            database=database, phase=phase, replies=len(ms), seconds=seconds,
            replies_per_second=len(ms) / seconds if seconds > 0 else 0.0,
            p50_ms=percentile(ms, 50), p95_ms=percentile(ms, 95), p99_ms=percentile(ms, 99),
            max_ms=ms[-1] if ms else math.nan, errors=sum(tally.errors.values()), error_kinds=dict(tally.errors),
            surveys_finished=tally.surveys_finished, server_cpu_seconds=end[1] - self.start[1],
            server_cpu_ms_per_reply=(end[1] - self.start[1]) * 1000 / len(ms) if ms else math.nan,
            database_cpu_seconds=end[2] - self.start[2] if self.postmaster is not None else None,
            client_cpu_seconds=end[3] - self.start[3], server_cpu_wait_seconds=end[4] - self.start[4],
            note=note, offered_rate=offered_rate,
        )


# --- victims ----------------------------------------------------------------------------------------


@dataclass
class Victim:
    """One invitation's survey, as its victim sees it."""

    token: str
    prompt: dict[str, Any] | None = None
    finished: bool = False


class Pool:
    """Opened surveys waiting for someone to answer them (partly answered ones first)."""

    def __init__(self, victims: Iterable[Victim]) -> None:
        self._waiting: deque[Victim] = deque(victims)

    def take(self) -> Victim | None:
        """The next survey to answer, or None when all are used up."""
        return self._waiting.popleft() if self._waiting else None

    def put_back(self, victim: Victim) -> None:
        """A survey left unfinished at the end of a phase: the next phase carries on with it."""
        if not victim.finished:
            self._waiting.appendleft(victim)

    def __len__(self) -> int:
        return len(self._waiting)


async def send_reply(http: aiohttp.ClientSession, origin: str, victim: Victim, rng: random.Random, tally: Tally,
                     started: float | None = None) -> bool:
    """Post the victim's next reply and record the time until the bot's next message came back.

    ``started`` is when the reply was due (open loop); by default, when it was sent. Returns False when the
    survey's state is unknown after a failure (the victim is then given up).
    """
    text = choose_reply(victim.prompt, rng)
    sent = time.perf_counter()
    try:
        async with http.post(f"/s/{victim.token}/messages", json={"text": text, "client_id": uuid.uuid4().hex},
                             headers={"Origin": origin, "Accept": "application/json"}) as response:
            if response.status != 200:
                await response.read()
                tally.error(f"http_{response.status}")
                if response.status >= 500:
                    tally.uncertain += 1
                return response.status < 500
            body = await response.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        tally.error(type(exc).__name__)
        tally.uncertain += 1
        return False
    elapsed = time.perf_counter() - (sent if started is None else started)
    said = [m for m in body.get("messages", []) if m.get("from") == "police"]
    if not said:
        tally.error("no_bot_message")
        return True
    tally.latencies.append(elapsed)
    victim.prompt = said[-1]
    victim.finished = bool(body.get("finished"))
    if victim.finished:
        tally.surveys_finished += 1
    return True


async def closed_loop(http: aiohttp.ClientSession, origin: str, pool: Pool, rng: random.Random, *,
                      concurrency: int, duration: float, max_replies: int, tally: Tally) -> bool:
    """``concurrency`` victims reply back to back; True if the pool of surveys ran out."""
    deadline = time.perf_counter() + duration
    budget = itertools.count()
    ran_out = False

    async def victim_loop() -> None:
        nonlocal ran_out
        victim = pool.take()
        while victim is not None:
            if time.perf_counter() >= deadline or next(budget) >= max_replies:
                pool.put_back(victim)
                return
            known = await send_reply(http, origin, victim, rng, tally)
            if victim.finished or not known:
                victim = pool.take()
        ran_out = True

    await asyncio.gather(*(victim_loop() for _ in range(concurrency)))
    return ran_out


async def open_loop(http: aiohttp.ClientSession, origin: str, pool: Pool, rng: random.Random, *, rate: float,
                    duration: float, max_replies: int, max_in_flight: int, tally: Tally) -> bool:
    """Replies arrive at ``rate`` per second (Poisson) from whichever victim is free; True if surveys ran out."""
    idle: deque[Victim] = deque()
    in_flight: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    due = start
    ran_out = False

    async def one(victim: Victim, at: float) -> None:
        known = await send_reply(http, origin, victim, rng, tally, started=at)
        if known and not victim.finished:
            idle.append(victim)

    for _ in range(max_replies):
        due += rng.expovariate(rate)
        if due - start >= duration:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        victim = idle.popleft() if idle else pool.take()
        if victim is None:
            ran_out = True
            break
        if len(in_flight) >= max_in_flight:
            tally.not_sent += 1
            idle.append(victim)
            continue
        task = asyncio.create_task(one(victim, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)
    for victim in idle:
        pool.put_back(victim)
    return ran_out


# --- the server under test --------------------------------------------------------------------------


def feedbackbot_command() -> list[str]:
    """The ``feedbackbot`` console script of this virtual environment (or the module, if not installed)."""
    script = Path(sys.executable).parent / "feedbackbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "feedbackbot.cli"]


#: How many serving processes the server runs (``--processes``).
SERVER_PROCESSES = {"count": "1"}
#: Which classifier the server reads free-text replies with (``--classifier``).
SERVER_CLASSIFIER = {"name": "model"}


def server_environment(database_url: str, port: int, api_key: str, log_level: str) -> dict[str, str]:
    """The environment for the server: ours only (no FEEDBACKBOT_* from the caller), quiet hours off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env.update(
        FEEDBACKBOT_DATABASE_URL=database_url,
        FEEDBACKBOT_HOST="127.0.0.1",
        FEEDBACKBOT_PORT=str(port),
        FEEDBACKBOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        FEEDBACKBOT_API_KEYS=f"bench:{api_key}",
        FEEDBACKBOT_QUIET_HOURS="",
        FEEDBACKBOT_LOG_LEVEL=log_level,
        FEEDBACKBOT_CLASSIFIER=SERVER_CLASSIFIER["name"],
    )
    return env


async def run_command(args: Sequence[str], *, env: dict[str, str] | None = None) -> str:
    """Run a command to completion (at most COMMAND_TIMEOUT seconds); raise with its output if it fails."""
    proc = await asyncio.create_subprocess_exec(*args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"{' '.join(args)}: still running after {COMMAND_TIMEOUT:.0f} s") from None
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {proc.returncode}:\n{text}")
    return text


def open_log(path: Path) -> BinaryIO:
    """A new log file for the server's output."""
    return path.open("wb")


@contextlib.asynccontextmanager
async def running_server(database_url: str, workdir: Path, log_level: str) -> AsyncIterator[tuple[str, int, str]]:
    """Start ``feedbackbot serve`` and wait until it answers; yields (base URL, pid, API key); stops it after."""
    port, api_key = free_port(), secrets.token_urlsafe(24)
    env = server_environment(database_url, port, api_key, log_level)
    log_path = workdir / f"server-{port}.log"
    with open_log(log_path) as log:
        proc = await asyncio.create_subprocess_exec(
            *feedbackbot_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--processes", SERVER_PROCESSES["count"],
            env=env, cwd=workdir, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_healthy(proc, base, log_path, 60)
        yield base, proc.pid, api_key
    finally:
        await stop_server(proc)


# --- databases --------------------------------------------------------------------------------------


@dataclass
class Target:
    """A fresh database to run against."""

    name: str
    url: str
    postmaster: int | None = None  # when this script runs the cluster, for its CPU time
    description: str = ""


def check_local(url: str) -> None:
    """Refuse to touch anything but this machine."""
    host = make_url(url).host or "127.0.0.1"
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"bench: {host} is not this machine; the benchmark only talks to 127.0.0.1")


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def asyncpg_url(url: str) -> str:
    """A SQLAlchemy-style PostgreSQL URL in the form asyncpg accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def sqlite_target(workdir: Path) -> AsyncIterator[Target]:
    """A new SQLite file (the server creates and migrates it)."""
    version = sqlite3.sqlite_version
    yield Target("sqlite", f"sqlite:///{workdir / 'bench.db'}", description=f"SQLite {version}, WAL")


@contextlib.asynccontextmanager
async def postgres_on_server(admin_url: str) -> AsyncIterator[Target]:
    """A database created for this run on a server someone else runs; dropped afterwards."""
    check_local(admin_url)
    name = f"fb_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(asyncpg_url(admin_url))
    try:
        version = await conn.fetchval("SHOW server_version")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield Target("postgres", with_database(admin_url, name), description=f"PostgreSQL {version} (given server)")
    finally:
        conn = await asyncpg.connect(asyncpg_url(admin_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin with initdb."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise SystemExit("bench: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin; install Debian's "
                         "postgresql package (scripts/test.sh does), or pass --postgres-url")
    return found[-1].parent


@contextlib.asynccontextmanager
async def postgres_cluster() -> AsyncIterator[Target]:
    """A private, throw-away PostgreSQL cluster on 127.0.0.1 with default (durable) settings."""
    pg_bin = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="feedbackbot-bench-pg."))
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(folder, user="postgres")
    data, port = folder / "data", free_port()
    started = False
    try:
        await run_command([*prefix, str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                           "-E", "UTF8"])
        await run_command([*prefix, str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                           "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"])
        started = True
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        try:
            version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
        yield Target("postgres", f"postgresql://postgres@127.0.0.1:{port}/postgres", postmaster,
                     f"PostgreSQL {version} (private cluster, default settings)")
    finally:
        if started:
            with contextlib.suppress(RuntimeError):
                await run_command([*prefix, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


async def stored_counts(target: Target) -> dict[str, int]:
    """What the database holds after the run (to check that nothing was lost)."""
    queries = {
        "replies_stored": "SELECT count(*) FROM messages WHERE direction = 'in'",
        "replies_unprocessed": "SELECT count(*) FROM messages WHERE direction = 'in' AND status <> 'processed'",
        "bot_messages": "SELECT count(*) FROM messages WHERE direction = 'out'",
        "answers": "SELECT count(*) FROM answers",
        "feedback_items": "SELECT count(*) FROM feedback_items",
        "surveys_completed": "SELECT count(*) FROM survey_sessions WHERE status = 'completed'",
    }
    if target.name == "sqlite":
        path = make_url(target.url).database or ""
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return {k: int(conn.execute(q).fetchone()[0]) for k, q in queries.items()}
    conn = await asyncpg.connect(asyncpg_url(target.url))
    try:
        return {k: int(await conn.fetchval(q)) for k, q in queries.items()}
    finally:
        await conn.close()


# --- one database's run -----------------------------------------------------------------------------


@dataclass
class Options:
    """Command-line settings."""

    databases: list[str]
    concurrency: int
    duration: float
    max_replies: int
    warmup: float
    warmup_replies: int
    rates: list[float]
    max_in_flight: int
    postgres_url: str | None
    server_log_level: str
    seed: int
    json_path: Path | None
    classifier: str = "model"
    processes: int = 1


def event_body(n: int, touchpoint: str, run: str) -> dict[str, Any]:
    """A journey event as the records system posts it; every victim is a different person."""
    return {
        "event_id": f"bench-{run}-{n}",
        "touchpoint": touchpoint,
        "case": {"reference": f"BENCH/{run}/{n}", "crime_type": "burglary", "area": "Coventry",
                 "officer_in_case": "PC4521", "officer_name": "PC Daniel Okafor", "team": "Coventry Response"},
        "victim": {"ref": f"BENCH-{run}-{n}", "preferred_channel": "web", "language": "en", "consent": True},
    }


async def bounded(count: int, concurrency: int, work: Callable[[int], Any]) -> None:
    """Run ``work(0..count-1)`` with at most ``concurrency`` at a time."""
    numbers = iter(range(count))

    async def worker() -> None:
        for n in numbers:
            await work(n)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def create_victims(http: aiohttp.ClientSession, api_key: str, run: str, first: int, count: int,
                         touchpoints: Sequence[str]) -> list[Victim]:
    """Report ``count`` touchpoint events for web-link victims, open every link and read the first question."""
    tokens: list[str] = [""] * count

    async def invite(n: int) -> None:
        number = first + n
        async with http.post("/api/v1/events", json=event_body(number, touchpoints[number % len(touchpoints)], run),
                             headers={"Authorization": f"Bearer {api_key}"}) as response:
            body = await response.json()
            if response.status != 201:
                raise RuntimeError(f"POST /api/v1/events: {response.status} {body}")
            tokens[n] = str(body["invitation"]["survey_url"]).rsplit("/", 1)[1]

    await bounded(count, SETUP_CONCURRENCY, invite)
    victims = [Victim(t) for t in tokens]

    async def open_link(n: int) -> None:
        victim = victims[n]
        async with http.get(f"/s/{victim.token}") as page:
            await page.read()
            if page.status != 200:
                raise RuntimeError(f"GET /s/<token>: {page.status}")
        async with http.get(f"/s/{victim.token}/messages", params={"after": "0"}) as response:
            body = await response.json()
        said = [m for m in body["messages"] if m["from"] == "police"]
        victim.prompt = said[-1] if said else None
        victim.finished = bool(body["finished"])

    await bounded(count, SETUP_CONCURRENCY, open_link)
    return victims


def live_touchpoints() -> list[str]:
    """Every touchpoint the shipped configuration has live (so every survey gets answered)."""
    data = yaml.safe_load((ROOT / "prompts" / "touchpoints.yaml").read_text(encoding="utf-8"))
    return sorted(data)


def surveys_for(replies: float) -> int:
    """How many opened surveys ``replies`` replies can use up at most."""
    return math.ceil(replies / MIN_REPLIES_PER_SURVEY)


class Run:
    """One database's server, HTTP client, pool of opened surveys and running totals."""

    def __init__(self, target: Target, options: Options, http: aiohttp.ClientSession, base: str, pid: int,
                 api_key: str) -> None:
        self.target, self.options, self.http, self.base, self.api_key = target, options, http, base, api_key
        self.meter = Meter(pid, target.postmaster)
        self.pool = Pool([])
        self.rng = random.Random(options.seed)
        self.run_id = uuid.uuid4().hex[:8]
        self.created = 0
        self.setup_seconds = 0.0
        self.accepted = 0
        self.uncertain = 0
        self.touchpoints = live_touchpoints()

    def say(self, text: str) -> None:
        """A progress line."""
        print(f"[{self.target.name}] {text}", flush=True)

    async def top_up(self, wanted: int) -> None:
        """Create and open invitations until ``wanted`` surveys are waiting (not timed)."""
        missing = wanted - len(self.pool)
        if missing <= 0:
            return
        self.say(f"creating and opening {missing} web invitations...")
        began = time.perf_counter()
        async with asyncio.timeout(SETUP_TIMEOUT):
            victims = await create_victims(self.http, self.api_key, self.run_id, self.created, missing,
                                           self.touchpoints)
        self.created += missing
        self.setup_seconds += time.perf_counter() - began
        for victim in victims:
            self.pool.put_back(victim)

    def count(self, tally: Tally) -> None:
        """Add a phase's replies to the totals checked against the database at the end."""
        self.accepted += len(tally.latencies) + tally.errors.get("no_bot_message", 0)
        self.uncertain += tally.uncertain

    async def warm_up(self) -> float:
        """Unmeasured closed-loop replies; returns the rate they went at."""
        o = self.options
        await self.top_up(surveys_for(o.warmup_replies) + 2 * o.concurrency)
        self.say(f"warm-up: {o.warmup:g} s or {o.warmup_replies} replies")
        tally = Tally()
        began = time.perf_counter()
        await closed_loop(self.http, self.base, self.pool, self.rng, concurrency=o.concurrency,
                          duration=o.warmup, max_replies=o.warmup_replies, tally=tally)
        self.count(tally)
        return len(tally.latencies) / max(time.perf_counter() - began, 1e-6)

    async def closed(self, expected_rate: float) -> PhaseResult:
        """The closed-loop phase: the most replies per second."""
        o = self.options
        await self.top_up(surveys_for(min(o.max_replies, 1.5 * expected_rate * o.duration)) + 2 * o.concurrency)
        self.say(f"closed loop: {o.concurrency} victims, {o.duration:g} s or {o.max_replies} replies")
        tally = Tally()
        self.meter.begin()
        ran_out = await closed_loop(self.http, self.base, self.pool, self.rng, concurrency=o.concurrency,
                                    duration=o.duration, max_replies=o.max_replies, tally=tally)
        self.count(tally)
        return self.meter.end(self.target.name, f"closed C={o.concurrency}", tally,
                              "ran out of surveys" if ran_out else "")

    async def open(self, rate: float) -> PhaseResult:
        """An open-loop phase: replies arrive at ``rate`` per second whatever the server does."""
        o = self.options
        # A server that falls behind has up to max_in_flight victims waiting, each on their own survey.
        await self.top_up(surveys_for(min(o.max_replies, 1.1 * rate * o.duration)) + o.max_in_flight)
        self.say(f"open loop: {rate:g} replies/s offered, {o.duration:g} s or {o.max_replies} replies")
        tally = Tally()
        self.meter.begin()
        ran_out = await open_loop(self.http, self.base, self.pool, self.rng, rate=rate, duration=o.duration,
                                  max_replies=o.max_replies, max_in_flight=o.max_in_flight, tally=tally)
        self.count(tally)
        notes = ["ran out of surveys"] if ran_out else []
        if tally.not_sent:
            notes.append(f"{tally.not_sent} not sent: {o.max_in_flight} already waiting")
        return self.meter.end(self.target.name, f"open {rate:g}/s", tally, "; ".join(notes), offered_rate=rate)


async def bench_database(target: Target, options: Options, workdir: Path) -> tuple[list[PhaseResult], dict[str, Any]]:
    """Set up, warm up and measure one database; returns the table rows and the setup/check details."""
    if target.name == "postgres":
        env = server_environment(target.url, 0, "not-used-not-used-0", "WARNING")
        await run_command([*feedbackbot_command(), "migrate"], env=env)
    results: list[PhaseResult] = []
    async with running_server(target.url, workdir, options.server_log_level) as (base, pid, api_key):
        connector = aiohttp.TCPConnector(limit=max(options.concurrency, options.max_in_flight))
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as http:
            run = Run(target, options, http, base, pid, api_key)
            run.say(f"{target.description}: server pid {pid} on {base}")
            warm_rate = await run.warm_up()
            results.append(await run.closed(warm_rate))
            for rate in options.rates:
                results.append(await run.open(rate))
    counts = await stored_counts(target)
    lost = counts["replies_stored"] < run.accepted or counts["replies_stored"] > run.accepted + run.uncertain
    details: dict[str, Any] = {
        "database": target.description, "invitations": run.created, "setup_seconds": round(run.setup_seconds, 1),
        **counts, "replies_accepted": run.accepted, "replies_uncertain": run.uncertain,
        "integrity": "ok" if not lost and counts["replies_unprocessed"] == 0 else "MISMATCH",
    }
    return results, details


# --- reporting --------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What this machine is, for the record."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = "unknown"
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": memory, "load": load,
            "python": platform.python_version(), "kernel": platform.release(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _cpu(seconds: float | None, wall: float) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds:.1f} s ({seconds / wall:.2f})" if wall > 0 else f"{seconds:.1f} s"


def table(results: Sequence[PhaseResult]) -> str:
    """The results as a Markdown table (readable in a terminal too)."""
    header = ("database", "phase", "replies", "replies/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
              "server CPU (cores)", "server CPU ms/reply", "server waited for a CPU", "db CPU (cores)",
              "client CPU (cores)")
    rows = [header]
    for r in results:
        rows.append((r.database, r.phase + (f" ({r.note})" if r.note else ""), str(r.replies),
                     f"{r.replies_per_second:.0f}", _ms(r.p50_ms), _ms(r.p95_ms), _ms(r.p99_ms), _ms(r.max_ms),
                     str(r.errors), _cpu(r.server_cpu_seconds, r.seconds), _ms(r.server_cpu_ms_per_reply),
                     _cpu(r.server_cpu_wait_seconds, r.seconds),
                     _cpu(r.database_cpu_seconds, r.seconds),
                     _cpu(r.client_cpu_seconds, r.seconds)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


TARGET_RATE = 300.0
TARGET_P99_MS = 100.0


def verdict(results: Sequence[PhaseResult]) -> str:
    """The SQLite target: at least 300 replies/s, with p99 under 100 ms at 300 replies/s."""
    closed = [r for r in results if r.database == "sqlite" and r.offered_rate is None]
    at_target = [r for r in results if r.database == "sqlite" and r.offered_rate == TARGET_RATE]
    if not closed:
        return "target: SQLite not measured"
    peak = closed[0].replies_per_second
    cpu = closed[0].server_cpu_ms_per_reply
    parts = [f"peak {peak:.0f} replies/s ({'>=' if peak >= TARGET_RATE else '<'} {TARGET_RATE:g}); "
             f"server CPU {cpu:.1f} ms per reply, so one whole core would give at most ~{1000 / cpu:.0f}/s"]
    met = peak >= TARGET_RATE
    if at_target:
        o = at_target[0]
        kept_up = o.replies_per_second >= 0.97 * TARGET_RATE and o.errors == 0 and "not sent" not in o.note
        parts.append(f"at {TARGET_RATE:g}/s offered: {o.replies_per_second:.0f}/s served, p99 {_ms(o.p99_ms)} ms")
        met = met and kept_up and o.p99_ms < TARGET_P99_MS
    else:
        parts.append(f"p99 at {TARGET_RATE:g}/s not measured (add {TARGET_RATE:g} to --rates)")
        met = False
    return (f"SQLite target (>= {TARGET_RATE:g} replies/s with p99 < {TARGET_P99_MS:g} ms): "
            f"{'MET' if met else 'NOT MET'}: " + "; ".join(parts))


# --- main -------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Options:
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    p.add_argument("--concurrency", type=int, default=32, help="victims replying at once in the closed loop")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per measured phase (at most)")
    p.add_argument("--max-replies", type=int, default=10_000, help="replies per measured phase (at most)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured warm-up (at most)")
    p.add_argument("--warmup-replies", type=int, default=1_000, help="replies of warm-up (at most)")
    p.add_argument("--rates", default="100,300",
                   help="comma-separated replies per second offered in the open-loop phases ('' for none)")
    p.add_argument("--max-in-flight", type=int, default=512, help="open loop: most requests outstanding at once")
    p.add_argument("--postgres-url", default=os.environ.get("FEEDBACKBOT_BENCH_POSTGRES_URL") or None,
                   help="a local PostgreSQL server to create the run's database on (default "
                        "$FEEDBACKBOT_BENCH_POSTGRES_URL; without it a private cluster is started)")
    p.add_argument("--server-log-level", default="INFO",
                   help="the server's FEEDBACKBOT_LOG_LEVEL (INFO, the default, writes one access line per request)")
    p.add_argument("--processes", type=int, default=1,
                   help="the server's serving processes (feedbackbot serve --processes; default 1)")
    p.add_argument("--classifier", choices=("model", "keywords"), default="model",
                   help="the server's classifier: the shipped transformer (default) or the keyword stand-in, "
                        "to measure the conversation core without the model's CPU")
    p.add_argument("--seed", type=int, default=1, help="seed for the victims' choices and arrival times")
    p.add_argument("--json", dest="json_path", type=Path, default=None, help="also write the results here")
    a = p.parse_args(argv)
    databases = [d.strip() for d in a.databases.split(",") if d.strip()]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown or not databases:
        p.error(f"--databases: unknown {', '.join(sorted(unknown))}; use sqlite and/or postgres")
    try:
        rates = [float(r) for r in a.rates.split(",") if r.strip()]
    except ValueError:
        p.error(f"--rates: not numbers: {a.rates!r}")
    if a.concurrency < 1 or a.max_replies < 1 or not 0 < a.duration <= 600 or any(r <= 0 for r in rates):
        p.error("--concurrency and --max-replies must be at least 1, --duration between 0 and 600, rates above 0")
    if a.postgres_url:
        check_local(a.postgres_url)
    return Options(databases=databases, concurrency=a.concurrency, duration=a.duration, max_replies=a.max_replies,
                   warmup=a.warmup, warmup_replies=a.warmup_replies, rates=rates, max_in_flight=a.max_in_flight,
                   postgres_url=a.postgres_url, server_log_level=a.server_log_level, seed=a.seed,
                   json_path=a.json_path, classifier=a.classifier, processes=a.processes)


async def run(options: Options) -> int:
    """Benchmark each database in turn and print the table."""
    task = asyncio.current_task()
    if task is not None:  # SIGTERM stops the run like Ctrl+C: servers and clusters are shut down on the way out
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    info = machine()
    SERVER_CLASSIFIER["name"] = options.classifier
    SERVER_PROCESSES["count"] = str(max(1, options.processes))
    print(f"classifier: {options.classifier}; serving processes: {options.processes}", flush=True)
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, Python {info['python']}, "
          f"Linux {info['kernel']}; {info['date']}; load average {info['load']}", flush=True)
    if float(info["load"].split()[0] if info["load"] != "unknown" else 0) > 0.5:
        print("note: other processes are using the CPUs; figures will be lower than on an idle machine", flush=True)
    results: list[PhaseResult] = []
    details: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="feedbackbot-bench.") as tmp:
        for name in options.databases:
            workdir = Path(tmp) / name
            workdir.mkdir()
            provider: contextlib.AbstractAsyncContextManager[Target]
            if name == "sqlite":
                provider = sqlite_target(workdir)
            elif options.postgres_url:
                provider = postgres_on_server(options.postgres_url)
            else:
                provider = postgres_cluster()
            async with provider as target:
                rows, detail = await bench_database(target, options, workdir)
            results.extend(rows)
            details[name] = detail
    print()
    print(table(results))
    print()
    for name, detail in details.items():
        print(f"{name}: {detail['database']}; setup {detail['invitations']} invitations in "
              f"{detail['setup_seconds']} s; replies accepted {detail['replies_accepted']}, stored "
              f"{detail['replies_stored']}, unprocessed {detail['replies_unprocessed']}, answers {detail['answers']}, "
              f"feedback items {detail['feedback_items']}, surveys completed {detail['surveys_completed']}: "
              f"{detail['integrity']}")
    print(verdict(results))
    if options.json_path is not None:
        options.json_path.write_text(json.dumps({"machine": info, "options": {
            k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items() if k != "postgres_url"},
            "results": [asdict(r) for r in results], "details": details}, indent=2, default=str) + "\n")
    failed = any(d["integrity"] != "ok" for d in details.values()) or any(r.errors for r in results)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    options = parse_args(argv)
    try:
        return asyncio.run(run(options))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench: stopped; the server and any PostgreSQL cluster it started were shut down", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
