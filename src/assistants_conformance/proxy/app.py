"""The forwarding app (plain ASGI under uvicorn) and the judging queue beside it.

Forwarding: each request goes to the target as it came (minus hop-by-hop headers and Host), with no
retries; the answer's status, headers and body bytes come back as they arrive (`aiter_raw`: compressed
bodies stay compressed). A copy of the bytes (bounded) and the stream chunks go into a bounded queue; a
worker task judges them (judge.Judge). When the queue is full the exchange is marked lost and counted,
never waited for. A target that breaks off a body mid-way makes the proxy drop the client's connection
the same way; a client that hangs up on a stream closes the upstream one. (upstream.py is the client.) The one thing the proxy must
answer itself is a request the target never answered (no connection, no response): 502 with
`x-conformance-proxy: upstream-error` and an error envelope saying so.

Plain ASGI rather than starlette: the proxy needs only raw headers and body messages, and every
microsecond here is added latency.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, AsyncIterator, Awaitable, Callable

from .exchange import MAX_BODY, Observed
from .judge import Judge
from .upstream import BodyBroken, Pool, Response, UpstreamError

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                        b"trailer", b"transfer-encoding", b"upgrade", b"proxy-connection"})
REQUEST_DROPPED = HOP_BY_HOP | {b"host", b"content-length", b"expect"}  # the body is already read
CONTROL_PREFIX = "/_conformance/"
QUEUE_SIZE = 20_000
SLICE_SECONDS = 0.0002  # judging done in one go before forwarding gets the loop back
BACKLOG_SLICE_SECONDS = 0.002  # the same while the queue is over 1/8 full


class TargetBrokeOff(Exception):
    """The target's body broke off mid-way: raised after the response started, so uvicorn drops the
    client's connection as the target dropped ours."""


class _QuietBrokeOff(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], TargetBrokeOff))


logging.getLogger("uvicorn.error").addFilter(_QuietBrokeOff())


class JudgeFeed:
    """The bounded queue between forwarding and judging, and the worker that empties it."""

    def __init__(self, judge: Judge, recorder: Any = None, maxsize: int = QUEUE_SIZE):
        self.judge, self.recorder = judge, recorder
        self.queue: asyncio.Queue = asyncio.Queue(maxsize)
        self.dropped = 0  # exchanges whose judging was dropped because the queue was full
        self.errors = 0  # judging that raised (a defect of ours; the exchange passed anyway)
        self.last_error: str | None = None

    def put(self, ex: Observed, item: tuple) -> None:
        if ex.lost and item[0] != "end":
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            if not ex.lost:
                ex.lost = True
                self.dropped += 1

    def process(self, item: tuple) -> None:
        what, ex = item[0], item[1]
        try:
            if what == "end":
                self.judge.end(ex)  # a lost exchange is not judged, but still recorded
                if self.recorder is not None:
                    self.recorder.add(ex)
                ex.settle()
            elif ex.lost:
                return
            elif what == "chunk":
                self.judge.chunk(ex, item[2], item[3])
            else:
                self.judge.begin(ex)
        except Exception as exc:  # noqa: BLE001 - judging must never take the proxy down
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            ex.lost = True

    async def run(self) -> None:
        queue = self.queue
        while True:
            item = await queue.get()
            await asyncio.sleep(0)  # behind whatever forwarding became ready in the same turn of the loop
            self.process(item)
            queue.task_done()
            backlog = queue.qsize() > queue.maxsize // 8  # falling behind (saturated): longer slices, fewer drops
            until = time.perf_counter() + (BACKLOG_SLICE_SECONDS if backlog else SLICE_SECONDS)
            while not queue.empty() and time.perf_counter() < until:
                self.process(queue.get_nowait())
                queue.task_done()
            await asyncio.sleep(0)  # forwarding waits for at most one slice of judging

    def drain(self) -> None:
        """Judge what is left (at shutdown, the loop no longer forwarding)."""
        while not self.queue.empty():
            self.process(self.queue.get_nowait())
            self.queue.task_done()


class ProxyApp:
    def __init__(self, target_root: str, feed: JudgeFeed, pool: Pool, *, timeout: float | None = 600.0,
                 control: Callable[[str], Awaitable[tuple[int, dict]]] | None = None,
                 on_startup: Callable[[], Awaitable[None]] | None = None,
                 on_shutdown: Callable[[], Awaitable[None]] | None = None):
        self.origin = target_root.rstrip("/")
        self.feed, self.pool, self.timeout = feed, pool, timeout
        self.control, self.on_startup, self.on_shutdown = control, on_startup, on_shutdown
        self.seq = 0
        self.upstream_errors = 0

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(CONTROL_PREFIX):
                await self._control(scope, send)
            else:
                await self._forward(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _forward(self, scope: dict, receive: Callable, send: Callable) -> None:
        started = time.time()
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body = message.get("body", b"")
        length = _content_length(scope["headers"])
        rest = None
        if message.get("more_body"):
            if length is None:  # a chunked request body (rare from API clients): read it whole
                parts = [body]
                while message.get("more_body"):
                    message = await receive()
                    parts.append(message.get("body", b""))
                body = b"".join(parts)
            else:  # a large body (an upload): forwarded as it arrives, its head kept for judging
                rest = _rest_of_body(receive)
        method = scope["method"]
        path = scope["path"]
        query = scope["query_string"]
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        url = self.origin + raw_path + ("?" + query.decode("latin-1") if query else "")
        headers = [(k, v) for k, v in scope["headers"] if k not in REQUEST_DROPPED]
        self.seq += 1
        ex = Observed(self.seq, method, url, path, {k.decode("latin-1"): v.decode("latin-1") for k, v in headers},
                      body[:MAX_BODY], started)
        feed = self.feed
        try:
            response = await self.pool.send(method, url, headers, body, self.timeout, rest=rest, length=length)
        except UpstreamError as exc:
            self.upstream_errors += 1
            ex.error = f"no answer from the target: {exc}"
            ex.ended = time.time()
            feed.put(ex, ("end", ex))
            await _upstream_error(send, ex.error)
            return
        ex.status = response.status
        ex.headers_at = time.time()
        raw = response.headers
        ex.response_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
        streaming = ex.is_stream
        await send({"type": "http.response.start", "status": ex.status,
                    "headers": [(k, v) for k, v in raw if k.lower() not in HOP_BY_HOP]})
        if streaming:
            feed.put(ex, ("begin", ex))
            await self._relay_stream(ex, response, receive, send)
        else:
            await self._relay(ex, response, send)

    async def _relay(self, ex: Observed, response: Response, send: Callable) -> None:
        whole = response.whole()
        if whole is not None:  # it all came with the headers: one write
            ex.keep(whole)
            await send({"type": "http.response.body", "body": whole, "more_body": False})
            ex.ended = time.time()
            self.feed.put(ex, ("end", ex))
            return
        try:
            async for chunk in response.body(self.timeout):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                ex.keep(chunk)
        except BodyBroken as exc:
            self._broke_off(ex, exc)
            raise TargetBrokeOff(ex.error) from None
        finally:
            response.close()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        ex.ended = time.time()
        self.feed.put(ex, ("end", ex))

    async def _relay_stream(self, ex: Observed, response: Response, receive: Callable, send: Callable) -> None:
        feed = self.feed
        task = asyncio.current_task()
        watcher = asyncio.create_task(_watch_disconnect(receive, ex, task))
        try:
            async for chunk in response.body(self.timeout):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                ex.keep(chunk)
                feed.put(ex, ("chunk", ex, chunk, time.time()))
        except BodyBroken as exc:
            self._broke_off(ex, exc)
            raise TargetBrokeOff(ex.error) from None
        except asyncio.CancelledError:
            ex.ended = time.time()
            if not ex.client_gone:  # the server is stopping: not ours to swallow
                raise
            ex.error = ex.error or "the client closed the connection"
            feed.put(ex, ("end", ex))
            task.uncancel()  # our watcher's cancel: the client left, nothing more to send
            return
        finally:
            watcher.cancel()
            response.close()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        ex.ended = time.time()
        feed.put(ex, ("end", ex))

    def _broke_off(self, ex: Observed, exc: Exception) -> None:
        ex.error = f"the target broke off the body after {ex.body_bytes} bytes ({exc})"
        ex.ended = time.time()
        self.feed.put(ex, ("end", ex))

    async def _control(self, scope: dict, send: Callable) -> None:
        name = scope["path"][len(CONTROL_PREFIX):]
        status, payload = (404, {"error": f"unknown control path {scope['path']}"}) if self.control is None \
            else await self.control(name)
        await _json(send, status, payload)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.on_startup is not None:
                    await self.on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _rest_of_body(receive: Callable) -> AsyncIterator[bytes]:
    """The request body after its first message, as uvicorn hands it over; a client that leaves
    mid-upload ends it early (the upstream connection is then closed)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise UpstreamError("the client left before its request body was complete")
        yield message.get("body", b"")
        if not message.get("more_body"):
            return


async def _watch_disconnect(receive: Callable, ex: Observed, task: asyncio.Task | None) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if ex.ended is None and task is not None:
                ex.client_gone = True
                task.cancel()
            return


async def _json(send: Callable, status: int, payload: dict, extra: list | None = None) -> None:
    body = json.dumps(payload, indent=2).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


async def _upstream_error(send: Callable, reason: str) -> None:
    await _json(send, 502, {"error": {"message": f"assistants-conformance proxy: {reason}", "type": "proxy_error",
                                      "param": None, "code": "upstream_error"}},
                [(b"x-conformance-proxy", b"upstream-error")])
