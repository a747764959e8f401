"""The proxy passes everything through as it came: status, headers, body bytes, streams as they arrive,
a body the target broke off, a target that stalls; and answers its control paths."""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import httpx
import pytest

from proxy_helpers import start_proxy

RELEASE = threading.Event()  # the fake target's stream waits for it before its last event
STALLED_CLOSED = threading.Event()  # the stalled response's connection was closed by its client (the proxy)

PLAIN = (b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Custom: one\r\nSet-Cookie: a=1\r\n"
         b"Set-Cookie: b=2\r\nX-Request-Id: req_123\r\nContent-Length: 15\r\n\r\n{\"id\": \"odd\"} \n")
CUT = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\": \"a"
STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
FIRST = b"event: thread.run.created\r\ndata: {\"id\": \"run_1\"}\r\n\r\n"
LAST = b"event: done\r\ndata: [DONE]\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Target(socketserver.BaseRequestHandler):
    """A hand-written HTTP/1.1 target: exact bytes, breaks and stalls on purpose (one request per connection)."""

    def handle(self) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            more = self.request.recv(65536)
            if not more:
                return
            data += more
        path = data.split(b" ", 2)[1]
        send = self.request.sendall
        if path.startswith(b"/v1/plain"):
            send(PLAIN)
        elif path.startswith(b"/v1/cut"):
            send(CUT)  # then close: 90 bytes short
        elif path.startswith(b"/v1/stream"):
            send(STREAM_HEAD + _chunk(FIRST))
            RELEASE.wait(10)
            send(_chunk(LAST) + b"0\r\n\r\n")
        elif b"stall" in path:
            send(STREAM_HEAD + _chunk(FIRST))
            self.request.settimeout(10)
            try:
                if self.request.recv(1) == b"":
                    STALLED_CLOSED.set()
            except (OSError, socket.timeout):
                pass
        elif path.startswith(b"/v1/hangup"):
            pass  # close without an answer


@pytest.fixture(scope="module")
def target():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Target)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def proxy(target, tmp_path_factory):
    proxy = start_proxy(target + "/v1", tmp_path_factory.mktemp("fwd"))
    yield proxy
    proxy.stop()


def test_status_headers_and_body_pass_unchanged(target, proxy):
    direct = httpx.get(f"{target}/v1/plain")
    through = httpx.get(f"{proxy.root_url}/v1/plain")
    assert through.status_code == direct.status_code == 201
    assert through.content == direct.content
    assert through.headers.multi_items() == direct.headers.multi_items()  # both Set-Cookie, no Date/Server added


def test_a_stream_arrives_event_by_event_not_buffered(proxy):
    RELEASE.clear()
    with httpx.stream("POST", f"{proxy.root_url}/v1/stream", json={"stream": True}, timeout=5) as answer:
        chunks = answer.iter_raw()
        first = next(chunks)  # arrives while the target still holds the rest back
        assert first == FIRST
        RELEASE.set()
        assert b"".join(chunks) == LAST


def test_a_body_the_target_broke_off_breaks_off_at_the_client(target, proxy):
    for url in (f"{target}/v1/cut", f"{proxy.root_url}/v1/cut"):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url, timeout=5)


def test_a_stalled_target_stalls_the_client_and_a_client_that_gives_up_closes_the_upstream(proxy):
    STALLED_CLOSED.clear()
    with pytest.raises(httpx.ReadTimeout):
        with httpx.stream("POST", f"{proxy.root_url}/v1/threads/thread_stall/runs", json={"stream": True},
                          timeout=httpx.Timeout(5, read=0.5)) as answer:
            for _ in answer.iter_raw():
                pass
    assert STALLED_CLOSED.wait(5), "the proxy kept the stalled upstream open after its client left"


def test_no_answer_from_the_target_is_a_502_marked_as_the_proxys(proxy):
    answer = httpx.get(f"{proxy.root_url}/v1/hangup", timeout=5)
    assert answer.status_code == 502 and answer.headers["x-conformance-proxy"] == "upstream-error"
    assert answer.json()["error"]["code"] == "upstream_error"


def test_report_on_demand_counts_what_passed(proxy):
    for path in ("plain", "plain", "hangup"):
        httpx.get(f"{proxy.root_url}/v1/{path}", timeout=5)
    time.sleep(0.2)
    status = httpx.get(f"{proxy.root_url}/_conformance/status", timeout=5).json()
    assert "exchanges" in status["summary"]
    answer = proxy.report_now()
    assert (proxy.report_dir / "results.json").exists() and (proxy.report_dir / "report.html").exists()
    assert answer["proxy"]["exchanges"] >= 2 and answer["proxy"]["upstream_errors"] >= 1
    assert httpx.get(f"{proxy.root_url}/_conformance/nope", timeout=5).status_code == 404


def test_the_upstream_timeout_bounds_a_stalled_target(target, tmp_path):
    bounded = start_proxy(target + "/v1", tmp_path, "--upstream-timeout", "0.5")
    try:
        with pytest.raises(httpx.RemoteProtocolError):  # the proxy gave up on the target: the body breaks off
            with httpx.stream("POST", f"{bounded.root_url}/v1/threads/thread_stall/runs", json={"stream": True},
                              timeout=5) as answer:
                for _ in answer.iter_raw():
                    pass
    finally:
        results = bounded.stop()
    [record] = [c for c in results["checks"] if c["id"] == "STREAM-003"]
    assert record["status"] == "fail" and "no bytes from the target for 0.5 s" in record["message"]


def test_a_periodic_flush_writes_the_report_without_being_asked(target, tmp_path):
    flushing = start_proxy(target + "/v1", tmp_path, "--flush-seconds", "0.3")
    try:
        httpx.get(f"{flushing.root_url}/v1/plain", timeout=5)
        deadline = time.monotonic() + 10
        while not (flushing.report_dir / "summary.md").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (flushing.report_dir / "summary.md").exists()
    finally:
        flushing.stop()
