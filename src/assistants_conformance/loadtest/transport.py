"""Plain (non-streaming) requests of a load user, over geventhttpclient.

Why not ConformanceClient (httpx) here: under gevent, httpx spends about five times the CPU of
geventhttpclient (the C-parser client under Locust's FastHttpUser) per request, and in a load test the
generator's CPU caps the load it can make. Streams stay on ConformanceClient: its SSE reader has the
per-read deadlines and the verdicts.

What is kept from ConformanceClient.request:
* the dialect's URL, query and headers (credentials, beta opt-in); its missing operations are refused;
* the whole exchange is bounded by `timeout` (one gevent.Timeout deadline, not a per-read timeout),
  connecting alone by the profile's connect_timeout;
* a transport failure raises client.TargetError with the same plain reasons ("connection refused (is
  the target running?)", "no response within 2 s", ...);
* the redacted Exchange (evidence) is built only when someone asks for it, never per request.
"""

from __future__ import annotations

import json as jsonlib
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent
from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError

from .. import __version__
from ..wire import redact
from ..wire.bodies import evidence_text, parse_json
from ..wire.client import EVIDENCE_LIMIT, MAX_BODY, Exchange, TargetError
from ..wire.config import TargetConfig
from ..wire.dialects import UnsupportedOperation, dialect_for


class _ConnectTimeout(OSError):
    """Connecting took longer than connect_timeout (told apart from a slow answer)."""


class _Deadline(Exception):
    """The whole exchange ran past its deadline (raised by our gevent.Timeout only)."""


class _TooBig(Exception):
    """The body is larger than client.MAX_BODY."""


class FastResponse:
    """What LoadSession needs of a response (the same names as client.Response); evidence on demand."""

    __slots__ = ("method", "url", "status_code", "headers", "content", "json", "json_error", "started",
                 "elapsed", "_request_headers", "_request_body", "_exchange")

    def __init__(self, method, url, status_code, headers, content, started, elapsed, request_headers,
                 request_body):
        self.method, self.url, self.status_code, self.headers = method, url, status_code, headers
        self.content, self.started, self.elapsed = content, started, elapsed
        self._request_headers, self._request_body, self._exchange = request_headers, request_body, None
        self.json, self.json_error = parse_json(content, headers.get("content-type"))

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def exchange(self) -> Exchange:
        """The redacted record of this exchange, built the first time it is asked for."""
        if self._exchange is None:
            self._exchange = Exchange(
                method=self.method, url=redact.redact_url(self.url),
                request_headers=redact.redact_headers(self._request_headers),
                request_body=evidence_text(self._request_body, EVIDENCE_LIMIT), status=self.status_code,
                response_headers=redact.redact_headers(list(self.headers.items())),
                response_body=evidence_text(self.content, EVIDENCE_LIMIT), started=self.started,
                elapsed=self.elapsed)
        return self._exchange


class FastTransport:
    """One load user's plain requests: a small keep-alive pool per origin (normally just the target)."""

    def __init__(self, config: TargetConfig, api_key: str | None = None, *, concurrency: int = 4):
        self.config, self.profile = config, config.profile
        self.dialect = dialect_for(config)
        key = config.api_key if api_key is None else api_key
        redact.register_secret(key)
        self.headers = {"User-Agent": f"assistants-conformance/{__version__}", **self.dialect.headers(key)}
        self.concurrency = max(1, concurrency)
        self._clients: dict[str, HTTPClient] = {}   # origin "http://host:port" -> pool

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                timeout: float | None = None) -> FastResponse:
        """One exchange bounded by `timeout` s in all; UnsupportedOperation for what the dialect lacks."""
        reason = self.dialect.unsupported(method, path)
        if reason is not None:
            raise UnsupportedOperation(self.dialect.name, method, path, reason)
        timeout = timeout if timeout is not None else self.profile.request_timeout
        url = self.dialect.url(self.config.base_url, path)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        headers = self.headers
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers = {**headers, "Content-Type": "application/json"}
        started_wall, started = time.time(), time.monotonic()
        got_headers = False
        try:
            client, target = self._client_for(url)
            with gevent.Timeout(timeout, _Deadline):
                response = client.request(method, target, body=body, headers=headers)
                got_headers = True
                content = self._read(response)
        except (_Deadline, socket.timeout):
            raise self._error(method, url, f"response body not complete within {timeout:g} s" if got_headers
                              else f"no response within {timeout:g} s", retryable=False) from None
        except _ConnectTimeout:
            raise self._error(method, url, f"no connection within {self._connect_timeout(timeout):g} s") from None
        except socket.gaierror:
            raise self._error(method, url, "host name not found (DNS)") from None
        except ConnectionRefusedError:
            raise self._error(method, url, "connection refused (is the target running?)") from None
        except HTTPConnectionClosed:
            raise self._error(method, url, "the connection closed without a response", retryable=False) from None
        except HTTPParseError as exc:
            what = "connection closed mid-body" if got_headers else f"the answer is not HTTP ({exc})"
            raise self._error(method, url, what, retryable=False) from None
        except ssl.SSLError as exc:
            raise self._error(method, url, f"TLS handshake failed: {exc}", retryable=False) from None
        except OSError as exc:
            what = ("connection reset while reading the response" if got_headers
                    else f"connection lost: {exc.strerror or exc}")
            raise self._error(method, url, what, retryable=False) from None
        except _TooBig:
            raise self._error(method, url, f"response body larger than {MAX_BODY // 2**20} MiB",
                              retryable=False) from None
        except ValueError as exc:  # geventhttpclient refuses a malformed URL or header before sending
            raise self._error(method, url, f"not a usable request: {exc}", retryable=False) from None
        return FastResponse(method, url, response.status_code, response.info(), content, started_wall,
                            time.monotonic() - started, list(headers.items()), body)

    # -- internals

    def _read(self, response) -> bytes:
        length = response.content_length
        if length is not None and length > MAX_BODY:
            response.release()
            raise _TooBig
        if length is not None:
            return response.read()
        parts, size = [], 0
        for chunk in response:   # chunked: stop at the cap
            size += len(chunk)
            if size > MAX_BODY:
                response.release()
                raise _TooBig
            parts.append(chunk)
        return b"".join(parts)

    def _client_for(self, url: str) -> tuple[HTTPClient, str]:
        scheme, netloc, path, query, _ = urlsplit(url)
        origin = f"{scheme}://{netloc}"
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = self._new_client(url)
        return client, (path or "/") + (f"?{query}" if query else "")

    def _new_client(self, url: str) -> HTTPClient:
        timeout = self.profile.request_timeout
        client = HTTPClient.from_url(url, concurrency=self.concurrency, network_timeout=timeout,
                                     connection_timeout=self._connect_timeout(timeout))
        # geventhttpclient raises the same socket.timeout for a slow connect and a slow answer; the
        # pool's connect step (no public hook) is wrapped so a slow connect says so.
        pool = getattr(client, "_connection_pool", None)
        if pool is None or not hasattr(pool, "_connect_socket"):
            raise RuntimeError("this geventhttpclient version has no pool connect step to bound")
        connect = pool._connect_socket

        def bounded_connect(sock, address):
            try:
                return connect(sock, address)
            except socket.timeout:
                raise _ConnectTimeout("connect timed out") from None

        pool._connect_socket = bounded_connect
        return client

    def _connect_timeout(self, timeout: float) -> float:
        return min(self.profile.connect_timeout, timeout)

    @staticmethod
    def _error(method: str, url: str, reason: str, *, retryable: bool = True) -> TargetError:
        error = TargetError(method, redact.redact_url(url), reason)
        error.retryable = retryable
        return error
