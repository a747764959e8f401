"""The proxy's HTTP/1.1 client to the target: keep-alive connections on asyncio protocols, responses
parsed by httptools (the parser uvicorn uses), body chunks handed over as they arrive.

Hand-written because httpx's connection pool costs O(open connections) per request, a poll() syscall
each: at 50 concurrent clients that was 1.2 ms of proxy CPU per request. This client does only what the
proxy needs: send the request bytes once (never a retry), give back status, raw headers and the body as
it comes (transfer-decoded, content-encoding untouched), and say how it ended.

    response = await pool.send(method, target_url, headers, body, timeout)   # UpstreamError: no answer
    async for chunk in response.body(): ...                                   # BodyBroken: cut mid-body
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import AsyncIterator
from urllib.parse import urlsplit

import httptools

HIGH_WATER = 1 << 20  # buffered body bytes at which reading from the target pauses (a slow client)
IDLE_SECONDS = 4.0  # an idle connection is closed before servers' usual 5 s keep-alive timeout


class UpstreamError(Exception):
    """The target gave no answer: no connection, no response headers in time, or closed before them."""


class BodyBroken(Exception):
    """The target's body ended before it was complete (connection closed or reset, bad framing, timeout)."""


class Response:
    def __init__(self, conn: "_Connection"):
        self._conn = conn
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self.received = 0
        self._done = False
        self._error: str | None = None
        self._waiter: asyncio.Future | None = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        self.received += len(data)
        if self._buffered > HIGH_WATER:
            self._conn.pause()
        self._wake()

    def _finish(self, error: str | None = None) -> None:
        if not self._done:
            self._done, self._error = True, error
            self._wake()

    def whole(self) -> bytes | None:
        """The entire body when it has already arrived complete (a small answer), else None."""
        if not self._done or self._error:
            return None
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return data

    async def body(self, timeout: float | None = None) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive; raises BodyBroken if the target cut it short."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                while self._chunks:
                    chunk = self._chunks.popleft()
                    self._buffered -= len(chunk)
                    if self._buffered <= HIGH_WATER // 2:
                        self._conn.resume()
                    yield chunk
                if self._done:
                    if self._error:
                        raise BodyBroken(self._error)
                    return
                waiter = self._waiter = loop.create_future()
                timer = loop.call_later(timeout, _expire, waiter) if timeout else None
                try:
                    await waiter
                except asyncio.TimeoutError:
                    self._conn.close()
                    raise BodyBroken(f"no bytes from the target for {timeout:g} s") from None
                finally:
                    if timer is not None:
                        timer.cancel()
        finally:
            self._waiter = None
            if not self._done:
                self._conn.close()  # abandoned mid-body (the client left): this connection is spent

    def close(self) -> None:
        if not self._done:
            self._conn.close()


class _Connection(asyncio.Protocol):
    def __init__(self, pool: "Pool", key: tuple):
        self.pool, self.key = pool, key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.response: Response | None = None
        self.headers_done: asyncio.Future | None = None
        self.head_request = False
        self.closed = False
        self.idle_since = 0.0
        self._length_known = False
        self._writable: asyncio.Future | None = None  # set while the transport's write buffer is full

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.response is None:
            self.close()  # bytes nobody asked for: this connection cannot be trusted again
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(f"the target's answer is not valid HTTP/1.1 ({exc})")

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.resume_writing()
        self.pool.forget(self)
        response = self.response
        if response is None:
            return
        reason = f"connection {'reset' if exc else 'closed'} by the target"
        if self.headers_done is not None and not self.headers_done.done():
            self.headers_done.set_exception(UpstreamError(f"{reason} before it answered"))
        elif not self._length_known and exc is None:
            response._finish()  # a body delimited by the connection's end
        else:
            response._finish(f"{reason} after {response.received} bytes of the body")
        self.response = None

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    async def writable(self) -> None:
        """Wait while the target reads slower than the client uploads (bounded buffering)."""
        if self._writable is not None:
            await self._writable

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.response.headers.append((name, value))
        lower = name.lower()
        if lower in (b"content-length", b"transfer-encoding"):
            self._length_known = True

    def on_headers_complete(self) -> None:
        response = self.response
        response.status = self.parser.get_status_code()
        if 100 <= response.status < 200:  # an interim answer: the real one follows
            response.headers = []
            return
        if self.status_has_no_body(response.status):
            self._length_known = True
        if not self.headers_done.done():
            self.headers_done.set_result(None)
        if self.head_request:
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        if self.response is not None:
            self.response._feed(body)

    def on_message_complete(self) -> None:
        response = self.response
        if response is None or 100 <= response.status < 200:
            return
        self.response = None
        response._finish()
        if self.head_request or not self.parser.should_keep_alive():
            self.close()
        else:
            self.pool.release(self)

    @staticmethod
    def status_has_no_body(status: int) -> bool:
        return status in (204, 304)

    # flow control and closing
    def pause(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.pool.forget(self)
            if self.transport is not None:
                self.transport.close()

    def _fail(self, reason: str) -> None:
        response = self.response
        if self.headers_done is not None and not self.headers_done.done():
            self.headers_done.set_exception(UpstreamError(reason))
        elif response is not None:
            response._finish(reason)
        self.response = None
        self.close()


def _expire(future: asyncio.Future) -> None:
    """A timer's end (cheaper than asyncio.wait_for, which wraps every wait in a task)."""
    if not future.done():
        future.set_exception(asyncio.TimeoutError())


class Pool:
    """Idle keep-alive connections per (scheme, host, port); a connection serves one request at a time."""

    def __init__(self, connect_timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None):
        self.connect_timeout = connect_timeout
        self.ssl_context = ssl_context
        self.idle: dict[tuple, list[_Connection]] = {}
        self.opened = 0

    async def send(self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes,
                   timeout: float | None, *, rest: AsyncIterator[bytes] | None = None,
                   length: int | None = None) -> Response:
        """Send the request once; `rest` (with the client's `length`) is the rest of a body still arriving."""
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        key = (tls, parts.hostname, port)
        conn = self._idle_connection(key)
        if conn is None:
            conn = await self._connect(key, parts.hostname, port, tls)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rsplit("@", 1)[-1].encode("latin-1")
        head = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), b"host: ", host, b"\r\n"]
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        if rest is not None:
            head.append(b"content-length: %d\r\n" % length)
        elif body or method in ("POST", "PUT", "PATCH"):
            head.append(b"content-length: %d\r\n" % len(body))
        head.append(b"\r\n")
        loop = asyncio.get_running_loop()
        response = conn.response = Response(conn)
        conn.headers_done = loop.create_future()
        conn.head_request = method == "HEAD"
        conn._length_known = False
        conn.transport.write(b"".join(head) + body)
        if rest is not None:
            try:
                async for piece in rest:
                    await conn.writable()
                    if conn.closed:
                        break  # the target stopped listening (and may have answered already)
                    conn.transport.write(piece)
            except BaseException:
                conn.close()
                raise
        timer = loop.call_later(timeout, _expire, conn.headers_done) if timeout else None
        try:
            await conn.headers_done
        except asyncio.TimeoutError:
            conn.close()
            raise UpstreamError(f"no answer from the target within {timeout:g} s") from None
        except asyncio.CancelledError:
            conn.close()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        return response

    def _idle_connection(self, key: tuple) -> _Connection | None:
        idle = self.idle.get(key)
        now = asyncio.get_running_loop().time()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_SECONDS:
                return conn
            conn.close()
        return None

    async def _connect(self, key: tuple, host: str, port: int, tls: bool) -> _Connection:
        loop = asyncio.get_running_loop()
        context = (self.ssl_context or ssl.create_default_context()) if tls else None
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(self, key), host, port, ssl=context,
                                       server_hostname=host if tls else None), self.connect_timeout)
        except asyncio.TimeoutError:
            raise UpstreamError(f"no connection to {host}:{port} within {self.connect_timeout:g} s") from None
        except OSError as exc:
            raise UpstreamError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        self.opened += 1
        return conn

    def release(self, conn: _Connection) -> None:
        conn.idle_since = asyncio.get_running_loop().time()
        self.idle.setdefault(conn.key, []).append(conn)

    def forget(self, conn: _Connection) -> None:
        idle = self.idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def close(self) -> None:
        for idle in self.idle.values():
            for conn in list(idle):
                conn.close()
        self.idle.clear()
