"""Officer inbox benchmark: render time of /inbox with 10,000 open items, through HTTP against a real server.

The script makes a fresh database (an SQLite file in a temporary folder, or the PostgreSQL database it is
given; ``feedbackbot migrate``), stores ``--items`` open work items (default 10,000) for the control-room
queue, each with its case, victim, inbound message and classified reply, as the router leaves them, adds a
control-room officer with ``feedbackbot users add``, starts ``feedbackbot serve`` as a separate process, signs
in through /login like a browser and then asks, one request at a time, for ``--requests`` pages (default
300): the first inbox page, later pages, and the inbox filtered to overdue or urgent items, in a fixed
rotation. Each request is timed from sending it to the last byte of the page, and every page is checked to be
a 200 that lists items. Printed: p50, p95, p99 and max per page kind and overall, the target (p95 < 150 ms),
and the server's CPU per request.

``bench/routing.py`` runs this (``measure``) after its arrival figure, on SQLite and PostgreSQL; on its own::

    .venv/bin/python bench/inbox.py
    .venv/bin/python bench/inbox.py --items 10000 --requests 300 --json var/bench-inbox.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import free_port, log_tail, percentile, process_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from feedbackbot.store.db import Database  # noqa: E402
from feedbackbot.store.tables import Case, Contact, FeedbackItem, Message, WorkItem, WorkItemEvent  # noqa: E402

PASSWORD = "benchmark control room password"
TARGET_P95_MS = 150.0
PAGES = (("first page", "/inbox"), ("page 20", "/inbox?page=20"), ("overdue only", "/inbox?overdue=1"),
         ("urgent only", "/inbox?priority=urgent"))
WORDS = ("nobody called me back", "the officer was kind", "he is outside again", "I want to complain",
         "no update for weeks", "thank you to the call handler", "my car was broken into", "I feel unsafe")
SEED_CHUNK = 1000
SEEDED_TABLES = (Contact, Case, Message, FeedbackItem, WorkItem, WorkItemEvent)


def environment(database_url: str, port: int) -> dict[str, str]:
    """The server's and the CLI's environment: ours only (no FEEDBACKBOT_* from the caller), workers off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env.update({"FEEDBACKBOT_DATABASE_URL": database_url, "FEEDBACKBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "FEEDBACKBOT_CLASSIFIER": "keywords", "FEEDBACKBOT_LOG_LEVEL": "WARNING",
                "FEEDBACKBOT_RUN_WORKERS": "false"})
    return env


def feedbackbot(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    """Run one ``feedbackbot`` command; stop the benchmark with its output if it fails."""
    done = subprocess.run([sys.executable, "-m", "feedbackbot.cli", *args], input=stdin, text=True, env=env,
                          cwd=ROOT, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"feedbackbot {' '.join(args)} failed:\n{done.stderr}")


def rows_for(n: int, now: datetime, rng: random.Random) -> list[Any]:
    """The n-th open control-room item (1-based ids) with its victim, case, message, reply and event."""
    at = now - timedelta(minutes=rng.randint(1, 5000))
    words = f"{rng.choice(WORDS)}, {rng.choice(WORDS)} (reply {n})"
    urgent = rng.random() < 0.1
    tags = {"themes": ["updates_and_information"], "sentiment": "negative", "risk": "urgent" if urgent else "none",
            "risk_categories": [], "requests": [], "cues": []}
    return [
        Contact(id=n, language="en", consent=True, safe_to_contact=True, preferred_channel="sms",
                allowed_channels=["sms"], created_at=at, updated_at=at),
        Case(id=n, reference=f"20/{n:06d}/26", crime_type="burglary", area="Coventry", officer_in_case="PC4521",
             team="Coventry Response", created_at=at, updated_at=at),
        Message(id=n, direction="in", channel="sms", address=f"sms:+4477{n:08d}", contact_id=n,
                provider_id=f"SMbench{n}", text=words, purpose="reply", status="processed", created_at=at,
                updated_at=at),
        FeedbackItem(id=n, contact_id=n, case_id=n, message_id=n, touchpoint="after_attendance", prompted=False,
                     text=words, status="classified", classification=tags, created_at=at, classified_at=at),
        WorkItem(id=n, feedback_item_id=n, case_id=n, contact_id=n, touchpoint="after_attendance", rule_id="bench",
                 purpose="action", priority="urgent" if urgent else "normal", target_kind="queue",
                 target_ref="control_room", status=rng.choice(("new", "new", "acknowledged", "in_progress")),
                 sla_minutes=15, due_at=now + timedelta(minutes=rng.randint(-600, 1200)), created_at=at,
                 updated_at=at),
        WorkItemEvent(id=n, work_item_id=n, at=at, kind="created"),
    ]


async def seed(database_url: str, items: int, rng: random.Random) -> None:
    """Store ``items`` open control-room items (a third overdue, a tenth urgent) through the app's own tables."""
    now = datetime.now(UTC)
    db = Database(database_url)
    try:
        for first in range(1, items + 1, SEED_CHUNK):
            rows = [row for n in range(first, min(first + SEED_CHUNK, items + 1)) for row in rows_for(n, now, rng)]
            async with db.session() as s:
                for table in SEEDED_TABLES:  # parents before children: one flush per table
                    s.add_all([r for r in rows if isinstance(r, table)])
                    await s.flush()
        if not db.sqlite:  # ids were given: move each table's sequence past them
            async with db.session() as s:
                for table in SEEDED_TABLES:
                    name = table.__tablename__
                    await s.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                         f"(SELECT max(id) FROM {name}))"))
            async with db.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
    finally:
        await db.dispose()


class Client:
    """A browser-like HTTP client that keeps cookies and talks only to 127.0.0.1."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def sign_in(self, username: str) -> None:
        _, page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page[page.find('action="/login"'):])
        assert token, "no sign-in form"
        body = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "csrf_token": token.group(1)}).encode()
        with self.opener.open(urllib.request.Request(self.base + "/login", data=body), timeout=30) as resp:
            if "Inbox" not in resp.read().decode():
                raise SystemExit("sign-in failed")


@contextlib.contextmanager
def server(database_url: str, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``feedbackbot serve`` on ``port`` (workers off), stopped afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "feedbackbot.cli", "serve", "--port", str(port)],
                                env=environment(database_url, port), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                        f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log_tail(log)}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def measure(database_url: str, workdir: Path, *, items: int = 10_000, requests: int = 300, warmup: int = 20,
            seed_value: int = 5) -> dict[str, Any]:
    """Seed a fresh, empty database at ``database_url`` and time the inbox pages; the figures as a dict."""
    rng = random.Random(seed_value)
    port = free_port()
    env = environment(database_url, port)
    feedbackbot("migrate", env=env)
    started = time.monotonic()
    asyncio.run(seed(database_url, items, rng))
    print(f"seeded {items} open work items in {time.monotonic() - started:.1f}s", flush=True)
    feedbackbot("users", "add", "control", "--role", "officer", "--name", "Control Room", "--officer-ref",
                "CR1", "--teams", "control_room", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    with server(database_url, port, workdir / f"inbox-server-{port}.log") as proc:
        client = Client(f"http://127.0.0.1:{port}")
        client.sign_in("control")
        for i in range(warmup):
            client.get(PAGES[i % len(PAGES)][1])
        times: dict[str, list[float]] = {name: [] for name, _ in PAGES}
        cpu0 = process_cpu_seconds(proc.pid)
        for i in range(requests):
            name, path = PAGES[i % len(PAGES)]
            t0 = time.perf_counter()
            status, body = client.get(path)
            elapsed = (time.perf_counter() - t0) * 1000
            if status != 200 or "/inbox/items/" not in body:
                raise SystemExit(f"GET {path} answered {status} without items")
            times[name].append(elapsed)
        cpu = process_cpu_seconds(proc.pid) - cpu0
    every = sorted(t for values in times.values() for t in values)
    rows: list[dict[str, Any]] = []
    for name, values in [*times.items(), ("all", every)]:
        ordered = sorted(values)
        rows.append({"page": name, "requests": len(ordered), "p50_ms": round(percentile(ordered, 50), 1),
                     "p95_ms": round(percentile(ordered, 95), 1), "p99_ms": round(percentile(ordered, 99), 1),
                     "max_ms": round(ordered[-1], 1)})
    p95 = percentile(every, 95)
    return {"items": items, "rows": rows, "p95_ms": round(p95, 1), "met": p95 < TARGET_P95_MS,
            "server_cpu_ms_per_request": round(cpu / len(every) * 1000, 1)}


def report(result: dict[str, Any], database: str) -> str:
    """The figures as a printed table."""
    lines = [f"Officer inbox, {result['items']} open items for one control-room officer, {database}, "
             f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs",
             f"{'page':<14}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    for row in result["rows"]:
        lines.append(f"{row['page']:<14}{row['requests']:>9}{row['p50_ms']:>9}{row['p95_ms']:>9}"
                     f"{row['p99_ms']:>9}{row['max_ms']:>9}")
    lines.append(f"server CPU per request: {result['server_cpu_ms_per_request']} ms")
    lines.append(f"target p95 < {TARGET_P95_MS:.0f} ms: {'met' if result['met'] else 'NOT met'} "
                 f"({result['p95_ms']} ms)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fb-bench-inbox-") as tmp:
        result = measure(f"sqlite:///{Path(tmp) / 'inbox.db'}", Path(tmp), items=args.items,
                         requests=args.requests, warmup=args.warmup)
    print("\n" + report(result, "SQLite"))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
