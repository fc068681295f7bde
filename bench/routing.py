"""Routing benchmark: issue 5's two figures, on SQLite and (given a server) PostgreSQL, through real HTTP.

1. **Arrival**: how long from an urgent reply arriving to its control-room work item and notification being
   committed, classification included (target p99 < 1 s). For each database the script starts ``feedbackbot
   serve`` (bench/conversation.py's helpers) on a fresh database with the real model classifier
   (``--classifier keywords`` for the stand-in), Twilio SMS configured against a local stand-in for
   api.twilio.com, and the on-duty supervisor's SMS number set, so each urgent item queues an email to the
   control room and an SMS alert. Victims' surveys are created through ``POST /api/v1/events``; then, one at a
   time, each sends one urgent reply on one of two paths:

   * **web chat** (``POST /s/{token}/messages``): the endpoint answers only after the turn's transaction has
     committed, and the reply is classified on arrival and routed inside that transaction, so the request's
     time is the figure. The script also checks, after each answer, that the item and notice are readable.
   * **signed Twilio webhook** (``POST /webhooks/twilio/messages``, signed with the real twilio
     RequestValidator): Twilio is answered as soon as the message is stored, and the turn (classification,
     routing) runs after the answer, so the script polls the server's database (every ``--poll-ms``, 2 ms by
     default, which bounds the figure's resolution) from sending the webhook until the control-room item with
     its notice is there. The SMS victims' surveys are started first (invitations sent through the stand-in).

   Afterwards every reply must have its control-room item and notice.
2. **Inbox**: render time of /inbox with 10,000 open items (target p95 < 150 ms): bench/inbox.py's
   ``measure`` on another fresh database of the same kind.

PostgreSQL: ``--postgres-url`` (default ``$FEEDBACKBOT_BENCH_POSTGRES_URL``) names a local server on which the
script creates, and afterwards drops, databases of its own; without one only SQLite is measured. It only talks
to 127.0.0.1. Run it from the repository root::

    .venv/bin/python bench/routing.py                                   # SQLite, 200 replies per path
    .venv/bin/python bench/routing.py --postgres-url postgresql://postgres@127.0.0.1:55433/postgres
    .venv/bin/python bench/routing.py --replies 100 --inbox-items 10000 --json var/bench-routing.json

Exit status 1 if a reply went missing, a request failed, or a target was not met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conversation as conv
import inbox
from measure import percentile, process_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, TwilioStandIn, fixture_form  # noqa: E402

URGENT = ("He is outside my house now and says he will kill me", "I can't go on, I want to end it all tonight",
          "The man who attacked me is outside now banging on the door")
WEBHOOK_PATH = "/webhooks/twilio/messages"
ONCALL = "+447700900777"
TARGET_P99_S = 1.0
WAIT_S = 30.0
#: Control-room items that have their notice: both are written in the routing transaction.
COMMITTED = ("SELECT count(*) FROM work_items w WHERE w.target_ref = 'control_room' "
             "AND EXISTS (SELECT 1 FROM notifications n WHERE n.work_item_id = w.id)")
ACTIVE_SMS = "SELECT count(*) FROM survey_sessions s WHERE s.status = 'active' AND s.channel = 'tel'"


class Probe:
    """Reads counts from the server's database while it runs (SQLite in WAL mode, or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sqlite: sqlite3.Connection | None = None
        self._pg: asyncpg.Connection | None = None

    async def open(self) -> None:
        if make_url(self.url).drivername.startswith("sqlite"):
            self._sqlite = sqlite3.connect(make_url(self.url).database or "", timeout=30, isolation_level=None)
        else:
            self._pg = await asyncpg.connect(conv.asyncpg_url(self.url))

    async def count(self, sql: str) -> int:
        if self._sqlite is not None:
            return int(self._sqlite.execute(sql).fetchone()[0])
        assert self._pg is not None
        return int(await self._pg.fetchval(sql))

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            await self._pg.close()


@contextlib.contextmanager
def twilio_configured(api_base_url: str) -> Iterator[None]:
    """Have conversation.py's server start with Twilio SMS (pointed at the stand-in) and an on-call number."""
    plain: Callable[..., dict[str, str]] = conv.server_environment

    def with_twilio(*args: Any, **kwargs: Any) -> dict[str, str]:
        env = {k: v for k, v in plain(*args, **kwargs).items() if not k.startswith("TWILIO_")}
        env.update(FEEDBACKBOT_TWILIO_ACCOUNT_SID=ACCOUNT_SID, FEEDBACKBOT_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                   FEEDBACKBOT_TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID, FEEDBACKBOT_TWILIO_API_BASE_URL=api_base_url,
                   FEEDBACKBOT_RATE_LIMITS="sms=100", FEEDBACKBOT_ONCALL_SMS_NUMBER=ONCALL)
        return env

    conv.server_environment = with_twilio
    try:
        yield
    finally:
        conv.server_environment = plain


def phone(n: int) -> str:
    """The n-th of Ofcom's drama numbers (07700 900000-900999): never a real phone."""
    return f"+447700900{n % 1000:03d}"


async def until(probe: Probe, sql: str, at_least: int, poll: float, limit: float = WAIT_S) -> bool:
    """Poll until ``sql`` counts ``at_least``; False after ``limit`` seconds."""
    deadline = time.perf_counter() + limit
    while await probe.count(sql) < at_least:
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(poll)
    return True


async def start_sms_surveys(http: aiohttp.ClientSession, api_key: str, probe: Probe, count: int) -> list[str]:
    """Six-week check-ins for ``count`` victims who chose SMS; returns their numbers once every survey is live."""
    run = uuid.uuid4().hex[:8]

    async def invite(n: int) -> None:
        body = {"event_id": f"bench-sms-{run}-{n}", "touchpoint": "six_week_checkin",
                "case": {"reference": f"SMS/{run}/{n}", "crime_type": "burglary", "area": "Coventry",
                         "officer_in_case": "PC4521"},
                "victim": {"ref": f"SMS-{run}-{n}", "preferred_channel": "sms", "phone": phone(n), "consent": True}}
        async with http.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {api_key}"}) as resp:
            if resp.status != 201:
                raise RuntimeError(f"POST /api/v1/events: {resp.status} {await resp.text()}")

    await conv.bounded(count, conv.SETUP_CONCURRENCY, invite)
    if not await until(probe, ACTIVE_SMS, count, 0.5, 180):
        raise RuntimeError("the scheduler did not start every SMS survey within 180 s")
    return [phone(n) for n in range(count)]


def signed(public_url: str, number: str, text: str) -> tuple[bytes, dict[str, str]]:
    """An inbound SMS as Twilio posts it, signed with the auth token."""
    form = fixture_form("inbound_sms", From=number, Body=text)
    form["MessageSid"] = form["SmsSid"] = form["SmsMessageSid"] = "SM" + uuid.uuid4().hex
    signature = RequestValidator(AUTH_TOKEN).compute_signature(public_url + WEBHOOK_PATH, form)
    return urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                      "X-Twilio-Signature": signature}


async def time_web(http: aiohttp.ClientSession, probe: Probe, tokens: list[str]) -> tuple[list[float], int]:
    """Urgent web-chat replies one at a time; the request's time (it answers after the commit)."""
    times: list[float] = []
    errors = 0
    for n, token in enumerate(tokens):
        before = await probe.count(COMMITTED)
        started = time.perf_counter()
        async with http.post(f"/s/{token}/messages",
                             json={"text": URGENT[n % len(URGENT)], "client_id": uuid.uuid4().hex}) as response:
            await response.read()
            ok = response.status == 200
        times.append(time.perf_counter() - started)
        errors += not ok or await probe.count(COMMITTED) <= before
    return times, errors


async def time_twilio(http: aiohttp.ClientSession, origin: str, probe: Probe, numbers: list[str],
                      poll: float) -> tuple[list[float], list[float], int]:
    """Urgent SMS replies one at a time: (webhook sent -> item and notice readable, Twilio's answer, errors)."""
    arrived: list[float] = []
    answered: list[float] = []
    errors = 0
    bodies = [signed(origin, number, URGENT[n % len(URGENT)]) for n, number in enumerate(numbers)]
    for body, headers in bodies:
        before = await probe.count(COMMITTED)
        started = time.perf_counter()
        async with http.post(WEBHOOK_PATH, data=body, headers=headers) as response:
            await response.read()
            ok = response.status == 200
        answered.append(time.perf_counter() - started)
        ok = ok and await until(probe, COMMITTED, before + 1, poll)
        arrived.append(time.perf_counter() - started)
        errors += not ok
    return arrived, answered, errors


def figures(times: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    ordered = sorted(times)
    return {f"p{q}_ms": round(percentile(ordered, q) * 1000, 1) for q in (50, 95, 99)} | \
        {"max_ms": round(ordered[-1] * 1000, 1) if ordered else float("nan")}


async def arrival(target: conv.Target, replies: int, poll: float, workdir: Path) -> dict[str, Any]:
    """Both arrival paths against one server on ``target``."""
    standin = TwilioStandIn()
    api_base = await standin.start()
    probe = Probe(target.url)
    try:
        with twilio_configured(api_base):
            async with conv.running_server(target.url, workdir, "WARNING") as (origin, pid, api_key):
                await probe.open()
                async with aiohttp.ClientSession(base_url=origin,
                                                 timeout=aiohttp.ClientTimeout(total=conv.REQUEST_TIMEOUT)) as http:
                    victims = await conv.create_victims(http, api_key, uuid.uuid4().hex[:8], 0, replies + 5,
                                                        conv.live_touchpoints())
                    tokens = [victim.token for victim in victims]
                    numbers = await start_sms_surveys(http, api_key, probe, replies)
                    for token in tokens[:5]:  # warm-up (the model's first reads): not timed
                        async with http.post(f"/s/{token}/messages", json={
                                "text": "thank you, the officer was kind", "client_id": uuid.uuid4().hex}) as r:
                            await r.read()
                    cpu = process_cpu_seconds(pid)
                    web, web_errors = await time_web(http, probe, tokens[5:])
                    sms, answered, sms_errors = await time_twilio(http, origin, probe, numbers, poll)
                    cpu = process_cpu_seconds(pid) - cpu
                    committed = await probe.count(COMMITTED)
    finally:
        await probe.close()
        await standin.close()
    return {"database": target.description, "replies_per_path": replies, "web": figures(web),
            "twilio": figures(sms), "twilio_answered": figures(answered), "errors": web_errors + sms_errors,
            "committed": committed, "server_cpu_ms_per_reply": round(cpu / (2 * replies) * 1000, 1),
            "met": max(percentile(sorted(web), 99), percentile(sorted(sms), 99)) < TARGET_P99_S}


def arrival_report(result: dict[str, Any], classifier: str, poll_ms: float) -> str:
    lines = [f"Arrival: {result['replies_per_path']} urgent replies per path, one at a time, classifier={classifier}, "
             f"{result['database']}",
             f"{'path':<44}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    for name, key in (("web chat: reply -> item + notice committed", "web"),
                      (f"Twilio webhook: -> item + notice (poll {poll_ms:g} ms)", "twilio"),
                      ("  (Twilio answered, message stored)", "twilio_answered")):
        row = result[key]
        lines.append(f"{name:<44}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}{row['max_ms']:>9}")
    lines.append(f"control-room items with their notice {result['committed']} (expected "
                 f"{2 * result['replies_per_path']}), errors {result['errors']}, server CPU per reply "
                 f"{result['server_cpu_ms_per_reply']} ms")
    lines.append(f"target p99 < 1 s on both paths: {'met' if result['met'] else 'NOT met'}")
    return "\n".join(lines)


@contextlib.asynccontextmanager
async def targets(name: str, postgres_url: str | None, workdir: Path) -> AsyncIterator[conv.Target]:
    """A fresh, migrated database of the named kind."""
    if name == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="sqlite-", dir=workdir))
        async with conv.sqlite_target(folder) as target:
            yield target
    else:
        assert postgres_url is not None
        async with conv.postgres_on_server(postgres_url) as target:
            # The server migrates SQLite itself but insists PostgreSQL was migrated first.
            await conv.run_command([*conv.feedbackbot_command(), "migrate"], env=inbox.environment(target.url, 0))
            yield target


async def run_database(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Arrival, then the inbox, each on its own fresh database."""
    out: dict[str, Any] = {}
    if args.replies > 0:
        async with targets(name, args.postgres_url, workdir) as target:
            out["arrival"] = await arrival(target, args.replies, args.poll_ms / 1000, workdir)
        print(arrival_report(out["arrival"], args.classifier, args.poll_ms) + "\n", flush=True)
    if args.inbox_items > 0:
        async with targets(name, args.postgres_url, workdir) as target:
            out["inbox"] = await asyncio.to_thread(inbox.measure, target.url, workdir, items=args.inbox_items,
                                                   requests=args.inbox_requests)
            out["inbox"]["database"] = target.description
        print(inbox.report(out["inbox"], target.description) + "\n", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=200, help="urgent replies per path (0: skip arrival)")
    parser.add_argument("--classifier", choices=["model", "keywords"], default="model")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="how often the webhook path reads the database")
    parser.add_argument("--inbox-items", type=int, default=10_000, help="open items for the inbox (0: skip)")
    parser.add_argument("--inbox-requests", type=int, default=300)
    parser.add_argument("--databases", default="sqlite,postgres",
                        help="comma-separated; postgres only runs with a server URL")
    parser.add_argument("--postgres-url", default=os.environ.get("FEEDBACKBOT_BENCH_POSTGRES_URL"))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    conv.SERVER_CLASSIFIER["name"] = args.classifier
    names = [n for n in args.databases.split(",") if n == "sqlite" or (n == "postgres" and args.postgres_url)]
    if args.postgres_url:
        conv.check_local(args.postgres_url)
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"databases: {', '.join(names)}\n", flush=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        for name in names:
            results[name] = asyncio.run(run_database(name, args, Path(tmp)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = all(r.get("arrival", {"errors": 0, "met": True, "committed": 0})["met"] and
             r.get("arrival", {"errors": 0})["errors"] == 0 and r.get("inbox", {"met": True})["met"]
             for r in results.values())
    ok = ok and all(r["arrival"]["committed"] >= 2 * args.replies for r in results.values() if "arrival" in r)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
