"""ConformanceClient: the one way checks talk to a target.

* Sync httpx underneath: thread-safe (concurrency checks call it from threads) and gevent-friendly
  (Locust patches sockets).
* The dialect maps operation paths to URLs and adds its headers (credentials, beta opt-in).
* Every request is bounded as a whole: `timeout` (default: the profile's request_timeout) covers
  connect, send, headers and body; connect alone is capped at the profile's connect_timeout.
* Every exchange, failed ones included, is appended to `recorder` as a redacted Exchange: evidence.
* A transport failure raises TargetError naming METHOD URL and what happened in plain words. A
  response that is merely wrong (not JSON, odd status) is returned, never raised: checks judge it.
* stream() reads server-sent events under StreamBounds and returns a StreamResult with a verdict.

Deadlines: httpx fixes a body's read timeout when the body starts, but a stream needs a different bound
for each read (first event, then gap, never past total). So the connection's network stream consults a
per-thread deadline (a ContextVar, greenlet-local under gevent) and shortens each read to it: bounds
hold to the millisecond without a watchdog thread.
"""

from __future__ import annotations

import errno
import json as jsonlib
import socket
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

import httpcore
import httpx

from .. import __version__
from . import redact
from .config import TargetConfig
from .dialects import UnsupportedOperation, dialect_for
from .sse import ChunkTimeout, SSEEvent, StreamBounds, StreamBroken, StreamResult, StreamVerdict, consume

EVIDENCE_LIMIT = 64 * 1024  # characters of a body kept in an Exchange
STREAM_EVIDENCE_LIMIT = 256 * 1024  # characters of a raw event stream kept in an Exchange
MAX_BODY = 32 * 1024 * 1024  # a plain response bigger than this is a target error
MAX_RETRIES = 5
MAX_BACKOFF = 2.0

_UNSET: Any = object()


class TargetError(Exception):
    """The target could not be talked to: unreachable, no answer in time, connection broken."""

    def __init__(self, method: str, url: str, reason: str, exchange: Exchange | None = None):
        super().__init__(f"{method} {url}: {reason}")
        self.method, self.url, self.reason, self.exchange = method, url, reason, exchange
        self.retryable = False  # a connect failure: the request never reached the target


@dataclass
class Exchange:
    """One HTTP exchange as recorded evidence. Already redacted: safe to print and to store."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None  # None when no response arrived
    response_headers: dict[str, str]
    response_body: str | None  # for a stream: the raw event text received (bounded)
    started: float  # wall clock (epoch seconds) when the request was sent
    elapsed: float  # seconds until the response was complete, or the failure
    error: str | None = None  # what went wrong in plain words, or None

    def summary(self) -> str:
        outcome = self.status if self.status is not None else f"no response: {self.error}"
        return f"{self.method} {self.url} -> {outcome} ({self.elapsed * 1000:.0f} ms)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Response:
    status_code: int
    headers: httpx.Headers  # as received (the exchange holds the redacted copy)
    content: bytes
    text: str
    json: Any  # the parsed body; None when empty or not JSON (then json_error says why)
    json_error: str | None
    exchange: Exchange
    elapsed: float


# --- per-thread deadlines inside httpcore -----------------------------------------------------------

_deadline: ContextVar[float | None] = ContextVar("assistants_conformance_deadline", default=None)


def _shorten(timeout: float | None, exc_type: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise exc_type("deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _shorten(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _shorten(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        timeout = _shorten(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout = _shorten(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        timeout = _shorten(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _transport(max_connections: int) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=max_connections,
                                                        max_keepalive_connections=max_connections))
    # httpx has no public hook for the network backend; the pool keeps it in `_network_backend`.
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx/httpcore version has no pool network backend to bound reads with")
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


class _within:
    """Context manager: reads and writes in this thread end by `deadline` (a time.monotonic() value)."""

    def __init__(self, deadline: float):
        self._value = deadline

    def __enter__(self):
        self._token = _deadline.set(self._value)

    def __exit__(self, *exc):
        _deadline.reset(self._token)


# --- the client -------------------------------------------------------------------------------------


class ConformanceClient:
    """Talks to the configured target with one API key (or none). Use as a context manager."""

    def __init__(self, config: TargetConfig, *, api_key: str | None = _UNSET,
                 recorder: list[Exchange] | None = None, _shared: httpx.Client | None = None,
                 _observers: list[Callable[[Exchange], Any]] | None = None):
        if not config.base_url:
            raise ValueError("ConformanceClient needs a target: config.base_url is None")
        self.config = config
        self.profile = config.profile
        self.dialect = dialect_for(config)
        self.api_key = config.api_key if api_key is _UNSET else api_key
        self.recorder = recorder
        # Called with every recorded exchange (e.g. the Factory forgets what a test deleted); shared by siblings.
        self.observers: list[Callable[[Exchange], Any]] = [] if _observers is None else _observers
        for key in (config.api_key, config.second_api_key, self.api_key):
            redact.register_secret(key)
        self._owns_http = _shared is None
        # trust_env=False: no proxies or .netrc credentials picked up from the environment.
        self._http = _shared or httpx.Client(
            transport=_transport(max(10, 2 * self.profile.max_concurrency)),
            trust_env=False, follow_redirects=False,
            headers={"User-Agent": f"assistants-conformance/{__version__}"},
        )

    # -- lifecycle

    def with_api_key(self, api_key: str | None) -> ConformanceClient:
        """A sibling using `api_key` (None: no credentials) that shares connections, the recorder and the
        observers. Closing the sibling does nothing; closing this client closes both."""
        return ConformanceClient(self.config, api_key=api_key, recorder=self.recorder, _shared=self._http,
                                 _observers=self.observers)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ConformanceClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def url(self, path: str) -> str:
        return self.dialect.url(self.config.base_url, path)

    # -- plain requests

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> Response:
        return self.request("POST", path, **kw)

    def delete(self, path: str, **kw) -> Response:
        return self.request("DELETE", path, **kw)

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                headers: dict[str, str] | None = None, content: bytes | str | None = None,
                files: Any = None, data: dict | None = None, timeout: float | None = None,
                retries: int = 0) -> Response:
        """One exchange bounded by `timeout` seconds in all (default: profile.request_timeout).

        `retries` (default 0, at most 5) repeats the request after a connect failure or a 429, with a
        short backoff (Retry-After honoured up to 2 s); every attempt is recorded.
        """
        timeout = timeout if timeout is not None else self.profile.request_timeout
        attempts = 1 + max(0, min(retries, MAX_RETRIES))
        for attempt in range(attempts):
            last = attempt == attempts - 1
            request = self._build(method, path, json=json, params=params, headers=headers,
                                  content=content, files=files, data=data, timeout=timeout)
            try:
                response = self._send(request, timeout)
            except TargetError as exc:
                if last or not exc.retryable:
                    raise
                time.sleep(_backoff(attempt, None))
                continue
            if response.status_code == 429 and not last:
                time.sleep(_backoff(attempt, response.headers.get("retry-after")))
                continue
            return response
        raise AssertionError("unreachable")

    def _build(self, method, path, *, json, params, headers, content, files, data, timeout,
               accept: str | None = None) -> httpx.Request:
        reason = self.dialect.unsupported(method, path)
        if reason is not None:  # never sent: the plugin reports the check as unsupported
            raise UnsupportedOperation(self.dialect.name, method, path, reason)
        merged = self.dialect.headers(self.api_key)
        if accept:
            merged["Accept"] = accept
        merged.update(headers or {})
        url = self.url(path)
        if params:  # httpx would replace the URL's query (e.g. Azure's api-version): merge instead
            url, params = httpx.URL(url).copy_merge_params(params), None
        request = self._http.build_request(
            method, url, json=json, params=params, headers=merged, content=content,
            files=files, data=data,
            timeout=httpx.Timeout(timeout, connect=self._connect_timeout(timeout)),
        )
        request.read()  # bodies here are small; reading makes them recordable (multipart included)
        return request

    def _connect_timeout(self, timeout: float) -> float:
        return min(self.profile.connect_timeout, timeout)

    def _send(self, request: httpx.Request, timeout: float) -> Response:
        started_wall, started = time.time(), time.monotonic()
        response: httpx.Response | None = None
        try:
            with _within(started + timeout):
                response = self._http.send(request, stream=True)
                try:
                    body = _read_capped(response, MAX_BODY)
                finally:
                    response.close()
        except httpx.HTTPError as exc:
            reason, retryable = _describe(exc, timeout, self._connect_timeout(timeout),
                                          got_headers=response is not None)
            exchange = self._record(request, response, None, started_wall, started, reason)
            error = TargetError(request.method, exchange.url, reason, exchange)
            error.retryable = retryable
            raise error from None
        if body is None:
            reason = f"response body larger than {MAX_BODY // 2**20} MiB"
            exchange = self._record(request, response, None, started_wall, started, reason)
            raise TargetError(request.method, exchange.url, reason, exchange)
        exchange = self._record(request, response, body, started_wall, started, None)
        parsed, json_error = _parse_json(body, response.headers.get("content-type"))
        return Response(status_code=response.status_code, headers=response.headers, content=body,
                        text=body.decode(response.encoding or "utf-8", "replace"), json=parsed,
                        json_error=json_error, exchange=exchange, elapsed=exchange.elapsed)

    # -- streams

    def stream(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
               headers: dict[str, str] | None = None, bounds: StreamBounds | None = None,
               on_event: Callable[[SSEEvent], Any] | None = None) -> StreamResult:
        """Send a request that answers server-sent events and read them under `bounds`
        (default: the profile's). `on_event` sees each event as it arrives: if it raises, the stream
        is closed and the exception propagates; if it returns a truthy value, reading stops (ABORTED).
        Connect failures raise TargetError; everything after that is a verdict in the result."""
        bounds = bounds or self.profile.stream_bounds()
        request_timeout = max(bounds.first_event, bounds.total)
        request = self._build(method, path, json=json, params=params, headers=headers, content=None,
                              files=None, data=None, timeout=request_timeout, accept="text/event-stream")
        started_wall, started = time.time(), time.monotonic()
        total_deadline = started + bounds.total
        raw = _Capture(STREAM_EVIDENCE_LIMIT)
        response: httpx.Response | None = None

        def result(verdict, message, events=(), comments=0, error=None) -> StreamResult:
            return self._stream_result(request, response, list(events), verdict, message, raw,
                                       started_wall, started, comments=comments, error=error)

        try:
            try:
                with _within(min(started + bounds.first_event, total_deadline)):
                    response = self._http.send(request, stream=True)
            except (httpx.ReadTimeout, httpx.WriteTimeout):
                bound = min(bounds.first_event, bounds.total)
                verdict = (StreamVerdict.TIMEOUT_FIRST_EVENT if bounds.first_event <= bounds.total
                           else StreamVerdict.TIMEOUT_TOTAL)
                message = f"no response headers within {bound:g} s"
                return result(verdict, message, error=message)

            content_type = response.headers.get("content-type", "")
            if response.status_code >= 400 or not content_type.startswith("text/event-stream"):
                with _within(min(time.monotonic() + self.profile.request_timeout, total_deadline)):
                    body = _read_prefix(response, EVIDENCE_LIMIT)
                raw.add(body)
                parsed, _ = _parse_json(body, content_type)
                if response.status_code >= 400:
                    outcome = result(StreamVerdict.HTTP_ERROR,
                                     error_answer(response.status_code, parsed, body, instead=", not a stream"))
                else:
                    outcome = result(StreamVerdict.BAD_CONTENT_TYPE,
                                     f"answered {response.status_code} with content-type "
                                     f"{content_type or '(none)'!r}, not a stream (text/event-stream)")
                outcome.text = body.decode("utf-8", "replace")
                outcome.json = parsed
                return outcome

            try:
                progress = consume(_chunk_reader(response, raw), bounds, started=started, on_event=on_event)
            except httpx.HTTPError:
                raise
            except Exception as exc:  # on_event raised: record the evidence, then let it propagate
                self._record(request, response, raw.bytes(), started_wall, started,
                             f"stopped: on_event raised {type(exc).__name__}", limit=STREAM_EVIDENCE_LIMIT)
                raise
            return result(progress.verdict, progress.message, progress.events, progress.comments)
        except httpx.HTTPError as exc:
            reason, _ = _describe(exc, request_timeout, self._connect_timeout(request_timeout),
                                  got_headers=response is not None)
            exchange = self._record(request, response, raw.bytes(), started_wall, started, reason)
            raise TargetError(request.method, exchange.url, reason, exchange) from None
        finally:
            if response is not None:
                response.close()

    def _stream_result(self, request, response, events, verdict, message, raw, started_wall, started,
                       *, comments: int = 0, error: str | None = None) -> StreamResult:
        exchange = self._record(request, response, raw.bytes(), started_wall, started, error,
                                limit=STREAM_EVIDENCE_LIMIT)
        return StreamResult(status_code=response.status_code if response is not None else None,
                            headers=response.headers if response is not None else httpx.Headers(),
                            events=events, verdict=verdict, message=message, exchange=exchange,
                            elapsed=exchange.elapsed, comments=comments)

    # -- evidence

    def _record(self, request: httpx.Request, response: httpx.Response | None, body: bytes | None,
                started_wall: float, started: float, error: str | None,
                limit: int = EVIDENCE_LIMIT) -> Exchange:
        exchange = Exchange(
            method=request.method,
            url=redact.redact_url(str(request.url)),
            request_headers=redact.redact_headers(request.headers.multi_items()),
            request_body=_evidence(request.content, limit),
            status=response.status_code if response is not None else None,
            response_headers=redact.redact_headers(response.headers.multi_items()) if response is not None else {},
            response_body=_evidence(body, limit),
            started=started_wall,
            elapsed=time.monotonic() - started,
            error=redact.redact_text(error),
        )
        if self.recorder is not None:
            self.recorder.append(exchange)  # list.append is atomic: safe from threads and greenlets
        for observe in self.observers:
            observe(exchange)
        return exchange


# --- helpers ----------------------------------------------------------------------------------------


class _Capture:
    """The first `limit` bytes of a stream, for evidence."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - self.size
        if room > 0:
            self.parts.append(chunk[:room])
            self.size += min(room, len(chunk))
        self.dropped += max(0, len(chunk) - max(room, 0))

    def bytes(self) -> bytes:
        data = b"".join(self.parts)
        return data + (f"\n... [{self.dropped} more bytes]".encode() if self.dropped else b"")


def _chunk_reader(response: httpx.Response, raw: _Capture) -> Callable[[float], bytes | None]:
    chunks: Iterator[bytes] = response.iter_bytes()

    def read_chunk(deadline: float) -> bytes | None:
        try:
            with _within(deadline):
                chunk = next(chunks)
        except StopIteration:
            return None
        except httpx.TimeoutException:
            raise ChunkTimeout from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise StreamBroken(_broken(exc)) from None
        raw.add(chunk)
        return chunk

    return read_chunk


def _read_capped(response: httpx.Response, cap: int) -> bytes | None:
    parts, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _read_prefix(response: httpx.Response, cap: int) -> bytes:
    """Up to `cap` bytes of the body; stops quietly at the cap, the deadline or a broken connection."""
    parts, size = [], 0
    try:
        for chunk in response.iter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if size >= cap:
                break
    except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError):
        pass
    return b"".join(parts)[:cap]


def _parse_json(body: bytes, content_type: str | None) -> tuple[Any, str | None]:
    if not body.strip():
        return None, "empty body"
    try:
        return jsonlib.loads(body), None
    except ValueError as exc:
        return None, f"body is not JSON ({exc}); content-type {content_type or '(none)'!r}"


def error_answer(status: int | None, parsed: Any, body: bytes | str | None, *, instead: str = "") -> str:
    """What an answer that is not the expected object said, in words: "answered 404 with an error: No such
    run" (`instead`, e.g. ", not a stream", goes after "with an error"); redacted."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    error = parsed.get("error") if isinstance(parsed, dict) else None
    said = error.get("message") if isinstance(error, dict) else None
    if not isinstance(said, str) or not said.strip():
        said = (body or "").strip()[:200] or "(empty body)"
    if status is None or status < 400:
        return redact.redact_text(f"answered {status} without a JSON object{instead}: {said}") or ""
    return redact.redact_text(f"answered {status} with an error{instead}: {said}") or ""


def _evidence(body: bytes | None, limit: int) -> str | None:
    if not body:
        return None
    text = redact.redact_text(body.decode("utf-8", "replace")) or ""
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"


def _backoff(attempt: int, retry_after: str | None) -> float:
    try:
        wanted = float(retry_after) if retry_after else None
    except ValueError:
        wanted = None
    return min(MAX_BACKOFF, wanted if wanted is not None and wanted >= 0 else 0.2 * 2**attempt)


def _root_os_error(exc: BaseException) -> OSError | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _broken(exc: httpx.HTTPError) -> str:
    text = str(exc)
    if isinstance(exc, httpx.RemoteProtocolError) and ("incomplete" in text or "closed" in text):
        return "connection closed mid-body"
    if isinstance(exc, httpx.ReadError):
        return "connection reset"
    return f"HTTP protocol error: {text}"


def _describe(exc: httpx.HTTPError, timeout: float, connect_timeout: float, *,
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
        os_error = _root_os_error(exc)
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
        return f"{_broken(exc)}", False
    if isinstance(exc, httpx.ReadError):
        return "connection reset while reading the response", False
    if isinstance(exc, httpx.WriteError):
        return "connection lost while sending the request", False
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return f"not a usable URL: {exc}", False
    return f"{type(exc).__name__}: {exc}", False
