"""Per-thread deadlines inside httpcore: httpx fixes a body's read timeout when the body starts, but a
stream needs a different bound for each read (first event, then gap, never past total). The connection's
network stream consults a per-thread deadline (a ContextVar, greenlet-local under gevent) and shortens
each read to it, so bounds hold to the millisecond without a watchdog thread."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

_deadline: ContextVar[float | None] = ContextVar("assistants_conformance_deadline", default=None)


def shorten(timeout: float | None, exc_type: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise exc_type("deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, shorten(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, shorten(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        timeout = shorten(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout = shorten(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        timeout = shorten(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_transport(max_connections: int) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=max_connections,
                                                        max_keepalive_connections=max_connections))
    # httpx has no public hook for the network backend; the pool keeps it in `_network_backend`.
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx/httpcore version has no pool network backend to bound reads with")
    pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport


class within:
    """Context manager: reads and writes in this thread end by `deadline` (a time.monotonic() value)."""

    def __init__(self, deadline: float):
        self._value = deadline

    def __enter__(self):
        self._token = _deadline.set(self._value)

    def __exit__(self, *exc):
        _deadline.reset(self._token)
