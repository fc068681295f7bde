"""A real ``feedbackbot serve`` process on a free port and an SQLite file, for browser and restart tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.victim import API_KEY, event_body

START_TIMEOUT = 20.0
#: Talks to the local server directly, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerFailed(RuntimeError):
    """The server process did not come up, or exited; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Response:
    """Status, headers and body of one HTTP exchange."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Server:
    """``feedbackbot serve`` in a child process, on SQLite, with workers, the simulator and no quiet hours.

    The database file and the port outlive the process, so ``kill()`` then ``start()`` is a restart.
    """

    def __init__(self, db_path: Path, *, log_path: Path | None = None, port: int | None = None,
                 processes: int = 1) -> None:
        self.db_path = db_path
        self.processes = processes
        self.log_path = log_path or db_path.with_suffix(".log")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        """The child's environment: ours without any FEEDBACKBOT_* setting, plus the test settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
        env.update({
            "FEEDBACKBOT_DATABASE_URL": f"sqlite:///{self.db_path}",
            "FEEDBACKBOT_SIMULATOR": "true",
            "FEEDBACKBOT_API_KEYS": f"rms:{API_KEY}",
            "FEEDBACKBOT_PUBLIC_URL": self.url,
            "FEEDBACKBOT_QUIET_HOURS": "",
            "FEEDBACKBOT_CLASSIFIER": "keywords",  # the documented stand-in; tests/nlp exercise the model
            "FEEDBACKBOT_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self) -> None:
        """Start the process and wait until ``/healthz`` answers."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the server is already running")
        with self.log_path.open("ab") as log:
            log.write(f"--- starting on port {self.port}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "feedbackbot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--processes", str(self.processes)],
                env=self.environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parents[2],
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"feedbackbot serve exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.get("/healthz", timeout=1).status == 200:
                    return
            time.sleep(0.1)
        self.kill()
        raise ServerFailed(f"feedbackbot serve did not answer /healthz in {START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything, as in a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; SIGKILL if it has not gone in 10 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the process wrote (logs hold ids and statuses, never victim text)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # --- HTTP ---------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 10) -> Response:
        """One HTTP request; any status comes back as a Response rather than an exception."""
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                return Response(resp.status, resp.read(), resp.headers.get_content_type())
        except urllib.error.HTTPError as err:
            with err:
                return Response(err.code, err.read(), err.headers.get_content_type())

    def get(self, path: str, *, timeout: float = 10) -> Response:
        """GET a path."""
        return self.request("GET", path, timeout=timeout)

    def post_json(self, path: str, body: Any) -> Response:
        """POST a JSON body."""
        return self.request("POST", path, body=body)

    def invite(self, touchpoint: str = "after_attendance", **kwargs: Any) -> str:
        """Report a touchpoint for a victim who chose the web link; return the survey's token."""
        response = self.request("POST", "/api/v1/events", body=event_body(touchpoint, channel="web", **kwargs),
                                headers={"Authorization": f"Bearer {API_KEY}"})
        assert response.status == 201, response.text
        url: str = response.json()["invitation"]["survey_url"]
        assert url.startswith(self.url + "/s/"), url
        return url.rsplit("/", 1)[1]

    # --- the database, read (or, with the server stopped, written) directly ------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows from the server's SQLite file (WAL lets us read while it runs)."""
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as conn:
            return list(conn.execute(sql, params).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; returns the last row id."""
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as conn, conn:
            cursor = conn.execute(sql, params)
            return cursor.lastrowid or 0
