"""Measuring helpers the benchmarks share: process CPU from /proc, percentiles, free ports, log tails."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

CLK_TCK = os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """A process and its live descendants (``feedbackbot serve --processes N`` forks its serving processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process and its live children, from /proc/<pid>/stat."""
    total = 0
    for member in family(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/stat", encoding="ascii") as f:
            fields = f.read().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def runqueue_wait_seconds(pid: int) -> float:
    """How long the process's (and its children's) threads were ready to run but waited for a CPU (schedstat)."""
    total = 0
    for member in family(pid):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{member}/task").iterdir():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 30) -> str:
    """The end of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def wait_until_healthy(proc: asyncio.subprocess.Process, url: str, log_path: Path, within: float) -> None:
    """Wait until the server at ``url`` answers ``/healthz``; raise with its log if it exits or takes too long."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        deadline = time.monotonic() + within
        while True:
            if proc.returncode is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}:\n{log_tail(log_path)}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within {within:.0f} s:\n{log_tail(log_path)}")
            await asyncio.sleep(0.1)


async def stop_server(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, as a service manager stops it; SIGKILL if it has not gone in 20 s."""
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
