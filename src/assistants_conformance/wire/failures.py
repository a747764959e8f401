"""Transport failures in plain words, and how long to wait before a retry."""

from __future__ import annotations

import errno
import socket

import httpx

MAX_BACKOFF = 2.0


def backoff(attempt: int, retry_after: str | None) -> float:
    try:
        wanted = float(retry_after) if retry_after else None
    except ValueError:
        wanted = None
    return min(MAX_BACKOFF, wanted if wanted is not None and wanted >= 0 else 0.2 * 2**attempt)


def root_os_error(exc: BaseException) -> OSError | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def broken(exc: httpx.HTTPError) -> str:
    text = str(exc)
    if isinstance(exc, httpx.RemoteProtocolError) and ("incomplete" in text or "closed" in text):
        return "connection closed mid-body"
    if isinstance(exc, httpx.ReadError):
        return "connection reset"
    return f"HTTP protocol error: {text}"


def describe(exc: httpx.HTTPError, timeout: float, connect_timeout: float, *,
              got_headers: bool) -> tuple[str, bool]:
    """Plain words for a transport failure, and whether retrying could help."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {connect_timeout:g} s", True
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection within {timeout:g} s (too many concurrent requests?)", False
    if isinstance(exc, httpx.ReadTimeout):
        if got_headers:
            return f"response body not complete within {timeout:g} s", False
        return f"no response within {timeout:g} s", False
    if isinstance(exc, httpx.WriteTimeout):
        return f"could not send the request within {timeout:g} s", False
    if isinstance(exc, httpx.ConnectError):
        os_error = root_os_error(exc)
        if isinstance(os_error, socket.gaierror):
            return "host name not found (DNS)", True
        if isinstance(os_error, ConnectionRefusedError) or (os_error and os_error.errno == errno.ECONNREFUSED):
            return "connection refused (is the target running?)", True
        if "SSL" in str(exc) or "certificate" in str(exc).lower():
            return f"TLS handshake failed: {exc}", False
        return f"cannot connect: {exc}", True
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending a response" in str(exc):
            return "the connection closed without a response", False
        return f"{broken(exc)}", False
    if isinstance(exc, httpx.ReadError):
        return "connection reset while reading the response", False
    if isinstance(exc, httpx.WriteError):
        return "connection lost while sending the request", False
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return f"not a usable URL: {exc}", False
    return f"{type(exc).__name__}: {exc}", False
