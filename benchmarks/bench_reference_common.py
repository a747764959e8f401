"""Shared pieces of the reference-server benchmarks: a server on 127.0.0.1 (via the launcher), the
server's own CPU time and RSS from /proc, a lean HTTP/1.1 keep-alive client, percentiles.

The client is hand-written on asyncio streams because the load generator shares the 2 cores with the
server: httpx spends several times the server's CPU per request, so it would measure itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from contextlib import contextmanager
from typing import Any, Iterator

from assistants_conformance.launcher import ReferenceServer
from assistants_conformance.loadtest.metrics import percentile as nearest_rank

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


@contextmanager
def reference_server(token_delay_ms: float = 0, **kw: Any) -> Iterator[ReferenceServer]:
    server = ReferenceServer(token_delay_ms=token_delay_ms, run_expiry_seconds=600, **kw)
    with server:
        yield server


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def host_port(root_url: str) -> tuple[str, int]:
    host, port = root_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


class HTTPError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; requests with JSON bodies, responses with Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, root_url: str) -> "Connection":
        host, port = host_port(root_url)
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def request(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode()
        self.writer.write(head + payload)
        return await asyncio.wait_for(self._response(), timeout)

    async def _response(self) -> tuple[int, Any]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length is None:
            raise HTTPError(f"response without Content-Length: {lines[0]}")
        data = await self.reader.readexactly(length)
        return status, json.loads(data) if data else None

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by the harness's own exact nearest-rank definition (loadtest.metrics),
    so every figure in README is computed the same way."""
    return nearest_rank(sorted(values), p / 100)


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"p50 {percentile(ms, 50):.2f} ms, p90 {percentile(ms, 90):.2f} ms, p99 {percentile(ms, 99):.2f} ms, "
            f"max {max(ms):.2f} ms, mean {statistics.fmean(ms):.2f} ms (n={len(ms)})")


async def flow(conn: Connection, assistant_id: str, poll_bound: float = 10.0) -> int:
    """create-thread-and-run, then GET the run until it is terminal; returns the number of polls."""
    status, run = await conn.request("POST", "/v1/threads/runs", {
        "assistant_id": assistant_id, "thread": {"messages": [{"role": "user", "content": "Say hello."}]}})
    if status != 200:
        raise HTTPError(f"create-thread-and-run answered {status}: {run}")
    path = f"/v1/threads/{run['thread_id']}/runs/{run['id']}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + poll_bound
    polls = 0
    while run["status"] in ("queued", "in_progress"):
        if loop.time() > deadline:
            raise HTTPError(f"run {run['id']} still {run['status']} after {poll_bound} s")
        status, run = await conn.request("GET", path)
        polls += 1
        if status != 200:
            raise HTTPError(f"retrieve run answered {status}: {run}")
    if run["status"] != "completed":
        raise HTTPError(f"run ended {run['status']}")
    return polls


async def make_assistant(root_url: str) -> str:
    conn = await Connection.open(root_url)
    try:
        status, body = await conn.request("POST", "/v1/assistants", {"model": "reference-model", "name": "bench"})
        assert status == 200, body
        return body["id"]
    finally:
        await conn.close()


async def run_paths(root_url: str, assistant_id: str, n: int) -> list[str]:
    """Paths of n runs made by create-thread-and-run (what retrieve_load reads)."""
    conn = await Connection.open(root_url)
    paths = []
    for _ in range(n):
        _, run = await conn.request("POST", "/v1/threads/runs", {"assistant_id": assistant_id})
        paths.append(f"/v1/threads/{run['thread_id']}/runs/{run['id']}")
    await conn.close()
    return paths


async def retrieve_load(root_url: str, paths: list[str], clients: int, duration: float,
                        interval: float | None) -> dict:
    """CLIENTS keep-alive connections each GET a random one of `paths` for `duration` seconds: every
    `interval` seconds (paced, spread over the interval) or back to back (None). Latency per request is
    from write to the last byte of the answer."""
    conns = [await Connection.open(root_url) for _ in range(clients)]
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + duration

    async def client(conn: Connection, rng: random.Random) -> None:
        nonlocal errors
        if interval:
            await asyncio.sleep(rng.uniform(0, interval))   # spread the pollers over the interval
        next_at = loop.time()
        while loop.time() < stop_at:
            started = time.perf_counter()
            status, _ = await conn.request("GET", rng.choice(paths))
            latencies.append(time.perf_counter() - started)
            errors += status != 200
            if interval:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - loop.time()))

    t0 = time.monotonic()
    await asyncio.gather(*[client(c, random.Random(i)) for i, c in enumerate(conns)])
    elapsed = time.monotonic() - t0
    for c in conns:
        await c.close()
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}
