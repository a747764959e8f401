"""The HTTP client and stream reader against tiny misbehaving servers on 127.0.0.1.

Each server is a raw socket in a thread running a script, so it can do what no well-behaved
framework would: never answer, stall mid-stream, send one byte at a time, close early.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistants_conformance.wire.client import ConformanceClient, TargetError
from assistants_conformance.wire.config import Profile, TargetConfig
from assistants_conformance.wire.sse import StreamBounds, StreamVerdict

PROFILE = Profile(name="test", model="m", capabilities=frozenset(), request_timeout=0.5, connect_timeout=0.5,
                  stream_first_event_timeout=0.5, stream_gap_timeout=0.3, stream_total_timeout=2.0,
                  stream_max_events=100)
KEY = "sk-test-secret-0123456789abcdef"
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


class ScriptedServer:
    """Accepts connections; for each, reads one request and hands (socket, request) to `script`."""

    def __init__(self, script):
        self.script = script
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with conn:
            conn.settimeout(5)
            request = _read_request(conn)
            self.requests.append(request)
            try:
                self.script(conn, request, self.stop)
            except OSError:
                pass  # the client went away: expected in timeout tests

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def _read_request(conn) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def respond(status: int, body: bytes, content_type: str = "application/json", extra: str = ""):
    def script(conn, request, stop):
        conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                     f"{extra}Connection: close\r\n\r\n".encode() + body)
    return script


def sse(parts, then="close"):
    """Send SSE_HEAD then parts (bytes, or a float = pause in seconds); then close or hang."""
    def script(conn, request, stop):
        conn.sendall(SSE_HEAD)
        for part in parts:
            if isinstance(part, float):
                time.sleep(part)
            else:
                conn.sendall(part)
        if then == "hang":
            stop.wait(5)
    return script


def hang(conn, request, stop):
    stop.wait(5)


@pytest.fixture
def serve():
    servers = []

    def start(script) -> ScriptedServer:
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def make_client(url, recorder=None, profile=PROFILE, **kw) -> ConformanceClient:
    config = TargetConfig(base_url=url, api_key=KEY, second_api_key=None, dialect="openai", spec_path=None,
                          profile=profile)
    return ConformanceClient(config, recorder=recorder, **kw)


def ev(name: str, data: str = "{}", eol: str = "\n") -> bytes:
    return f"event: {name}{eol}data: {data}{eol}{eol}".encode()


DONE = ev("done", "[DONE]")


# --- plain requests ---------------------------------------------------------------------------------


def test_unreachable_target_fails_fast_with_a_clear_message():
    recorder = []
    with make_client("http://127.0.0.1:9/v1", recorder) as client:
        t0 = time.monotonic()
        with pytest.raises(TargetError) as caught:
            client.post("/threads", json={})
    assert time.monotonic() - t0 < 2
    assert str(caught.value) == "POST http://127.0.0.1:9/v1/threads: connection refused (is the target running?)"
    assert recorder[0].status is None and "connection refused" in recorder[0].error


def test_target_that_never_answers_fails_within_the_bound(serve):
    server = serve(hang)
    with make_client(server.url) as client:
        t0 = time.monotonic()
        with pytest.raises(TargetError, match=r"GET .*/v1/assistants: no response within 0.5 s$"):
            client.get("/assistants")
    assert 0.4 < time.monotonic() - t0 < 1.5


def test_a_body_that_trickles_forever_is_bounded_as_a_whole(serve):
    def trickle(conn, request, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        while not stop.is_set():
            conn.sendall(b" ")
            time.sleep(0.05)

    server = serve(trickle)
    with make_client(server.url) as client:
        t0 = time.monotonic()
        with pytest.raises(TargetError, match="response body not complete within 0.5 s"):
            client.get("/assistants")
    assert time.monotonic() - t0 < 1.0


def test_connection_closed_without_a_response(serve):
    server = serve(lambda conn, request, stop: None)
    with make_client(server.url) as client, pytest.raises(TargetError, match="closed without a response"):
        client.get("/assistants")


def test_non_json_body_is_a_response_not_an_exception(serve):
    server = serve(respond(200, b"<html>oops</html>", "text/html"))
    with make_client(server.url) as client:
        response = client.get("/assistants")
    assert response.status_code == 200 and response.json is None
    assert "not JSON" in response.json_error and "text/html" in response.json_error
    assert response.text == "<html>oops</html>"


def test_json_response_headers_and_dialect_headers(serve):
    server = serve(respond(201, b'{"id": "asst_1"}', extra="X-Request-Id: r1\r\n"))
    recorder = []
    with make_client(server.url, recorder) as client:
        response = client.post("/assistants", json={"model": "m"})
        anonymous = client.with_api_key(None)
        anonymous.get("/assistants", params={"limit": 1})
        anonymous.close()  # a sibling's close leaves the shared connections alone
        client.get("/assistants")
    assert response.json == {"id": "asst_1"} and response.json_error is None
    assert response.headers["x-request-id"] == "r1" and response.exchange is recorder[0]
    first, second, third = (r.decode().lower() for r in server.requests)
    assert first.startswith("post /v1/assistants ") and f"authorization: bearer {KEY.lower()}" in first
    assert "openai-beta: assistants=v2" in first and '{"model":"m"}' in first
    assert second.startswith("get /v1/assistants?limit=1 ") and "authorization" not in second
    assert "openai-beta: assistants=v2" in second
    assert len(recorder) == 3 and recorder[1].request_headers.get("Authorization") is None
    assert recorder[0].request_headers["authorization"] == "Bearer [REDACTED]"


def test_known_key_never_appears_in_any_recorded_exchange(serve):
    def echo(conn, request, stop):
        body = json.dumps({"echo": request.decode()}).encode()
        conn.sendall(b"HTTP/1.1 400 Bad\r\nContent-Type: application/json\r\nSet-Cookie: s=" + KEY.encode()
                     + b"\r\nX-Echo: " + KEY.encode() + b"\r\nConnection: close"  # one reply per connection
                     + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)

    server = serve(echo)
    recorder = []
    with make_client(server.url, recorder) as client:
        client.post(f"/threads?note={KEY}", json={"instructions": f"my key is {KEY}"},
                    headers={"X-Api-Key": KEY, "X-Other": f"k={KEY}"})
        client.stream("POST", f"/threads/runs?api-key={KEY}", json={"k": KEY})
    assert len(recorder) == 2
    for exchange in recorder:
        dumped = json.dumps(exchange.to_dict())
        assert KEY not in dumped and KEY[:12] in KEY  # sanity: the key is long enough to be searched
        assert "[REDACTED]" in exchange.url and "[REDACTED]" in exchange.request_body
        assert "[REDACTED]" in exchange.response_body


def test_retries_only_when_asked_on_429(serve):
    calls = []

    def flaky(conn, request, stop):
        calls.append(1)
        status = 429 if len(calls) % 3 else 200
        respond(status, b"{}", extra="Retry-After: 0\r\n")(conn, request, stop)

    server = serve(flaky)
    recorder = []
    with make_client(server.url, recorder) as client:
        assert client.get("/assistants", retries=2).status_code == 200
        assert client.get("/assistants").status_code == 429
    assert [e.status for e in recorder] == [429, 429, 200, 429]


def test_retries_on_connect_errors_are_bounded():
    recorder = []
    with make_client("http://127.0.0.1:9/v1", recorder) as client:
        t0 = time.monotonic()
        with pytest.raises(TargetError, match="connection refused"):
            client.get("/assistants", retries=2)
    assert len(recorder) == 3 and time.monotonic() - t0 < 3


def test_client_is_usable_from_threads(serve):
    server = serve(respond(200, b'{"ok": true}'))
    recorder = []
    with make_client(server.url, recorder) as client, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: client.get(f"/threads/t{i}").status_code, range(32)))
    assert statuses == [200] * 32 and len(recorder) == 32


# --- streams ----------------------------------------------------------------------------------------


def stream(server, recorder=None, bounds=None, **kw):
    with make_client(server.url, recorder) as client:
        t0 = time.monotonic()
        result = client.stream("POST", "/threads/t/runs", json={"stream": True}, bounds=bounds, **kw)
        return result, time.monotonic() - t0


def test_complete_stream(serve):
    server = serve(sse([ev("thread.run.created"), b": ping\n\n", ev("thread.run.completed"), DONE]))
    recorder = []
    result, _ = stream(server, recorder)
    assert result.verdict is StreamVerdict.COMPLETE and result.ok, result.message
    assert result.names() == ["thread.run.created", "thread.run.completed", "done"]
    assert result.comments == 1 and result.status_code == 200
    assert b"accept: text/event-stream" in server.requests[0].lower()
    assert recorder[0].response_body.startswith("event: thread.run.created\n")


@pytest.mark.parametrize("eol", ["\r\n", "\r"])
def test_one_byte_at_a_time_with_crlf_and_cr(serve, eol):
    body = b"\xef\xbb\xbf" + ev("thread.run.created", '{"a":\n"b"}'.replace("\n", eol), eol) + ev("done", "[DONE]", eol)
    body = body.replace(b'{"a":' + eol.encode() + b'"b"}', b'{"a":' + eol.encode() + b'data: "b"}')
    server = serve(sse([body[i:i + 1] for i in range(len(body))]))
    result, _ = stream(server)
    assert result.verdict is StreamVerdict.COMPLETE, result.message
    assert result.events[0].data == '{"a":\n"b"}'
    assert result.events[0].raw == f'event: thread.run.created{eol}data: {{"a":{eol}data: "b"}}{eol}{eol}'


def test_stall_mid_stream_is_timeout_gap_within_the_bound(serve):
    server = serve(sse([ev("thread.run.created"), ev("thread.run.in_progress")], then="hang"))
    result, elapsed = stream(server)
    assert result.verdict is StreamVerdict.TIMEOUT_GAP
    assert result.message == "stream stalled: no event for 0.3 s after event 2 (thread.run.in_progress)"
    assert 0.25 < elapsed < 0.8


def test_keepalive_comments_do_not_hide_a_stall(serve):
    server = serve(sse([ev("a")] + [0.1, b": ping\n\n"] * 10, then="hang"))
    result, elapsed = stream(server)
    assert result.verdict is StreamVerdict.TIMEOUT_GAP and elapsed < 0.8


def test_no_first_event_and_no_headers(serve):
    quiet = serve(sse([], then="hang"))
    result, elapsed = stream(quiet)
    assert result.verdict is StreamVerdict.TIMEOUT_FIRST_EVENT and 0.45 < elapsed < 1.0
    silent = serve(hang)
    result, elapsed = stream(silent)
    assert result.verdict is StreamVerdict.TIMEOUT_FIRST_EVENT and result.status_code is None
    assert result.message == "no response headers within 0.5 s" and elapsed < 1.0


def test_total_bound_is_kept_precisely_while_events_keep_coming(serve):
    server = serve(sse([ev("tick"), 0.1] * 100))
    result, elapsed = stream(server, bounds=StreamBounds(first_event=1, gap=1, total=0.6, max_events=1000))
    assert result.verdict is StreamVerdict.TIMEOUT_TOTAL
    assert 0.55 < elapsed < 0.8


def test_stream_closed_early_is_incomplete(serve):
    server = serve(sse([ev("thread.run.created"), b"event: thread.run.in_progress\n"]))
    result, elapsed = stream(server)
    assert result.verdict is StreamVerdict.INCOMPLETE and elapsed < 0.5
    assert result.message.startswith("incomplete stream: the body closed after 1 events without a done event")


def test_chunked_stream_cut_mid_body_is_incomplete(serve):
    def cut(conn, request, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        payload = ev("thread.run.created")
        conn.sendall(f"{len(payload):x}\r\n".encode() + payload + b"\r\n" + b"40\r\nevent: x")

    result, _ = stream(serve(cut))
    assert result.verdict is StreamVerdict.INCOMPLETE and "connection closed mid-body" in result.message
    assert result.names() == ["thread.run.created"]


def test_wrong_content_type_keeps_a_bounded_prefix(serve):
    def endless_json(conn, request, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"object\": \"thread.run\"")
        while not stop.is_set():
            conn.sendall(b" " * 4096)
            time.sleep(0.001)

    result, elapsed = stream(serve(endless_json))
    assert result.verdict is StreamVerdict.BAD_CONTENT_TYPE and elapsed < 1.0
    assert result.text.startswith('{"object": "thread.run"') and len(result.text) <= 64 * 1024
    assert result.message == "answered 200 with content-type 'application/json', not a stream (text/event-stream)"


def test_http_error_carries_the_json_body(serve):
    server = serve(respond(400, b'{"error": {"message": "stream is not allowed", "type": "invalid_request_error"}}'))
    result, _ = stream(server)
    assert result.verdict is StreamVerdict.HTTP_ERROR and result.status_code == 400
    assert result.json["error"]["type"] == "invalid_request_error"
    # What was received, in words (before: "HTTP 400 instead of an event stream").
    assert result.message == "answered 400 with an error, not a stream: stream is not allowed"


def test_callbacks_see_events_as_they_arrive(serve):
    server = serve(sse([ev("a"), 0.3, ev("b"), DONE]))
    seen = []
    result, _ = stream(server, on_event=lambda e: seen.append((e.event, e.at)),
                       bounds=StreamBounds(first_event=1, gap=1, total=2, max_events=10))
    assert result.ok and [name for name, _ in seen] == ["a", "b", "done"]
    assert seen[1][1] - seen[0][1] > 0.25  # `at` is the arrival time, not the end of the body


def test_callback_raising_closes_the_stream_and_propagates(serve):
    server = serve(sse([ev("a"), ev("b")], then="hang"))
    recorder = []

    def reject(event):
        raise AssertionError(f"unexpected {event.event}")

    with pytest.raises(AssertionError, match="unexpected a"):
        stream(server, recorder, on_event=reject)
    assert "on_event raised AssertionError" in recorder[0].error


def test_callback_can_stop_and_event_count_is_bounded(serve):
    aborted, _ = stream(serve(sse([ev("a"), ev("b")], then="hang")), on_event=lambda e: e.event == "a")
    assert aborted.verdict is StreamVerdict.ABORTED and aborted.names() == ["a"]
    flood, _ = stream(serve(sse([ev("delta") * 200], then="hang")))
    assert flood.verdict is StreamVerdict.TOO_MANY_EVENTS and len(flood.events) == 100


def test_stream_to_unreachable_target_raises(serve):
    with make_client("http://127.0.0.1:9/v1") as client, pytest.raises(TargetError, match="connection refused"):
        client.stream("POST", "/threads/runs", json={"stream": True})
