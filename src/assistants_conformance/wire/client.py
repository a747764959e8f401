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

Pieces: exchange.py (Exchange, Response, TargetError), deadlines.py (per-read deadlines inside httpcore),
bodies.py (bounded body reading, error_answer), failures.py (transport failures in words, retry backoff).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from .. import __version__
from . import redact
from .config import TargetConfig
from .dialects import UnsupportedOperation, dialect_for
from .bodies import Capture, chunk_reader, error_answer, evidence_text, parse_json, read_capped, read_prefix
from .deadlines import bounded_transport, within
from .exchange import Exchange, Response, TargetError
from .failures import backoff, describe
from .sse import SSEEvent, StreamBounds, StreamResult, StreamVerdict, consume

EVIDENCE_LIMIT = 64 * 1024  # characters of a body kept in an Exchange
STREAM_EVIDENCE_LIMIT = 256 * 1024  # characters of a raw event stream kept in an Exchange
MAX_BODY = 32 * 1024 * 1024  # a plain response bigger than this is a target error
MAX_RETRIES = 5

_UNSET: Any = object()


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
            transport=bounded_transport(max(10, 2 * self.profile.max_concurrency)),
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
                time.sleep(backoff(attempt, None))
                continue
            if response.status_code == 429 and not last:
                time.sleep(backoff(attempt, response.headers.get("retry-after")))
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
            with within(started + timeout):
                response = self._http.send(request, stream=True)
                try:
                    body = read_capped(response, MAX_BODY)
                finally:
                    response.close()
        except httpx.HTTPError as exc:
            reason, retryable = describe(exc, timeout, self._connect_timeout(timeout),
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
        parsed, json_error = parse_json(body, response.headers.get("content-type"))
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
        raw = Capture(STREAM_EVIDENCE_LIMIT)
        response: httpx.Response | None = None

        def result(verdict, message, events=(), comments=0, error=None) -> StreamResult:
            return self._stream_result(request, response, list(events), verdict, message, raw,
                                       started_wall, started, comments=comments, error=error)

        try:
            try:
                with within(min(started + bounds.first_event, total_deadline)):
                    response = self._http.send(request, stream=True)
            except (httpx.ReadTimeout, httpx.WriteTimeout):
                bound = min(bounds.first_event, bounds.total)
                verdict = (StreamVerdict.TIMEOUT_FIRST_EVENT if bounds.first_event <= bounds.total
                           else StreamVerdict.TIMEOUT_TOTAL)
                message = f"no response headers within {bound:g} s"
                return result(verdict, message, error=message)

            content_type = response.headers.get("content-type", "")
            if response.status_code >= 400 or not content_type.startswith("text/event-stream"):
                with within(min(time.monotonic() + self.profile.request_timeout, total_deadline)):
                    body = read_prefix(response, EVIDENCE_LIMIT)
                raw.add(body)
                parsed, _ = parse_json(body, content_type)
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
                progress = consume(chunk_reader(response, raw), bounds, started=started, on_event=on_event)
            except httpx.HTTPError:
                raise
            except Exception as exc:  # on_event raised: record the evidence, then let it propagate
                self._record(request, response, raw.bytes(), started_wall, started,
                             f"stopped: on_event raised {type(exc).__name__}", limit=STREAM_EVIDENCE_LIMIT)
                raise
            return result(progress.verdict, progress.message, progress.events, progress.comments)
        except httpx.HTTPError as exc:
            reason, _ = describe(exc, request_timeout, self._connect_timeout(request_timeout),
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
            request_body=evidence_text(request.content, limit),
            status=response.status_code if response is not None else None,
            response_headers=redact.redact_headers(response.headers.multi_items()) if response is not None else {},
            response_body=evidence_text(body, limit),
            started=started_wall,
            elapsed=time.monotonic() - started,
            error=redact.redact_text(error),
        )
        if self.recorder is not None:
            self.recorder.append(exchange)  # list.append is atomic: safe from threads and greenlets
        for observe in self.observers:
            observe(exchange)
        return exchange


