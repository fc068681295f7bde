"""``feedbackbot serve --processes 2``: both processes answer victims on one port; stopping stops them all."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.server import Server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "feedbackbot.db", processes=2)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def children(pid: int) -> list[int]:
    """The live child processes of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def finish_survey(server: Server, n: int) -> list[str]:
    """One victim answers every question of an after_attendance survey; what they were asked."""
    token = server.invite("after_attendance")
    assert server.get(f"/s/{token}").status == 200
    asked: list[str] = []
    for i, answer in enumerate(["yes", "no", "yes", "4", "They were kind but nobody has called me since"]):
        response = server.post_json(f"/s/{token}/messages", {"text": answer, "client_id": f"v{n:03d}-{i:04d}"})
        assert response.status == 200, response.text
        asked += [m["text"] for m in response.json()["messages"] if m["from"] == "police"]
    rows = server.query("SELECT COUNT(*) FROM answers a JOIN survey_sessions s ON s.id = a.session_id "
                        "WHERE s.address = ?", (f"web:{token}",))
    assert rows[0][0] >= 5, rows
    return asked


def test_two_processes_share_the_port_and_every_reply_is_answered(server: Server) -> None:
    assert server.process is not None
    serving = children(server.process.pid)
    assert len(serving) == 2, serving
    with ThreadPoolExecutor(8) as pool:
        asked = list(pool.map(lambda n: finish_survey(server, n), range(16)))
    assert all(any("Thank you" in text for text in said) for said in asked), asked
    unprocessed = server.query("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND status = 'received'")
    assert unprocessed[0][0] == 0


def test_sigterm_stops_every_process(server: Server) -> None:
    assert server.process is not None
    serving = children(server.process.pid)
    server.stop()
    assert server.process.returncode == 0, server.log_tail()
    assert not any(Path(f"/proc/{pid}").exists() for pid in serving)


def test_when_one_process_dies_the_others_are_stopped_and_the_exit_is_an_error(server: Server) -> None:
    assert server.process is not None
    first, second = sorted(children(server.process.pid))
    os.kill(second, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while server.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.process.returncode not in (None, 0), server.log_tail()
    assert not Path(f"/proc/{first}").exists()
