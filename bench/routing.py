"""Routing benchmark: an urgent reply arrives over HTTP; how long until its control-room item and notice are committed.

The script starts ``feedbackbot serve`` (bench/conversation.py's helpers) on a fresh SQLite file with the real
model classifier (``--classifier keywords`` for the stand-in), creates ``--replies`` web surveys through
``POST /api/v1/events``, opens each link, then sends one urgent reply per survey through
``POST /s/{token}/messages``, one at a time. That endpoint answers only after the turn's transaction has
committed, and the reply is classified on arrival and routed inside that transaction, so each request's time
is "urgent reply sent -> control-room work item, its events and its notification committed" (classification
included). Afterwards the script checks in the database that every reply has its control-room item and its
queued notice. Run it from the repository root::

    .venv/bin/python bench/routing.py                 # 200 replies, the model classifier
    .venv/bin/python bench/routing.py --replies 500
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conversation as conv
from measure import percentile

URGENT = ("He is outside my house now and says he will kill me", "I can't go on, I want to end it all tonight",
          "The man who attacked me is outside now banging on the door")


async def run(replies: int, classifier: str) -> int:
    conv.SERVER_CLASSIFIER["name"] = classifier
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        workdir = Path(tmp)
        async with conv.sqlite_target(workdir) as target, \
                conv.running_server(target.url, workdir, "WARNING") as (origin, _pid, api_key):
            async with aiohttp.ClientSession(base_url=origin) as http:
                victims = await conv.create_victims(http, api_key, uuid.uuid4().hex[:8], 0, replies,
                                                    conv.live_touchpoints())
                for victim in victims[:5]:  # warm-up: not timed
                    await post(http, victim.token, "thank you, the officer was kind")
                times: list[float] = []
                errors = 0
                for n, victim in enumerate(victims):
                    started = time.perf_counter()
                    ok = await post(http, victim.token, URGENT[n % len(URGENT)])
                    times.append(time.perf_counter() - started)
                    errors += not ok
            db = sqlite3.connect(target.url.removeprefix("sqlite:///"))
            items = db.execute("SELECT count(*) FROM work_items WHERE target_ref = 'control_room'").fetchone()[0]
            notices = db.execute("SELECT count(*) FROM notifications n JOIN work_items w ON w.id = n.work_item_id "
                                 "WHERE w.target_ref = 'control_room'").fetchone()[0]
            db.close()
    times.sort()
    print(f"routing: {replies} urgent replies over HTTP, one at a time, classifier={classifier}, SQLite")
    print(f"  reply -> control-room item + notice committed: p50 {percentile(times, 50) * 1000:.1f} ms, "
          f"p95 {percentile(times, 95) * 1000:.1f} ms, p99 {percentile(times, 99) * 1000:.1f} ms, "
          f"max {times[-1] * 1000:.1f} ms")
    print(f"  control-room items {items}, their notices {notices}, request errors {errors}")
    target_met = percentile(times, 99) < 1.0
    print(f"  target p99 < 1 s: {'met' if target_met else 'NOT met'}")
    return 0 if errors == 0 and items >= replies and notices >= replies else 1


async def post(http: aiohttp.ClientSession, token: str, text: str) -> bool:
    async with http.post(f"/s/{token}/messages", json={"text": text, "client_id": uuid.uuid4().hex}) as response:
        await response.read()
        return response.status == 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--classifier", choices=["model", "keywords"], default="model")
    args = parser.parse_args()
    return asyncio.run(run(args.replies, args.classifier))


if __name__ == "__main__":
    raise SystemExit(main())
