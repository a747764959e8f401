"""openai-responses (an in-process respx mock of the OpenAI API) served over loopback HTTP.

Runs with the Python of openai-responses' own virtual environment, never imports the harness:

    python openai_responses_shim.py --port 0      # prints "openai-responses shim listening on http://..."

Each HTTP request becomes the httpx.Request the OpenAI SDK would have sent to the mock, goes through
the mock's respx router (its own routes and state store, one request at a time: the store is not
thread-safe) and its httpx.Response is written back as it is: status, headers and body. A request no
route matches gets 404 with a plain-text body naming it; an exception inside the mock (what a test using
it would see raised) gets 500 with the exception's one line. The shim adds nothing else: the standard
library's HTTP server is enough for one client at a time and needs no dependency in that environment.
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from openai_responses import OpenAIMock

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def serve(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    host, bound = server.server_address[:2]
    base = f"http://{host}:{bound}"
    Handler.mock = OpenAIMock(base_url=base + "/v1")
    print(f"openai-responses shim listening on {base}", flush=True)
    server.serve_forever()


class Handler(BaseHTTPRequestHandler):
    mock: OpenAIMock
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host", "127.0.0.1")
        request = httpx.Request(self.command, f"http://{host}{self.path}",
                                headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
                                content=body)
        try:
            with self.lock:
                response = self.mock.router.handler(request)
                content = response.read()
        except Exception as exc:  # the mock raised: what a test using it in-process would see
            first = (str(exc).splitlines() or [""])[0]
            route = "no route" in first.lower() or type(exc).__name__ == "AllMockedAssertionError"
            self._send(404 if route else 500, [("content-type", "text/plain; charset=utf-8")],
                       f"openai-responses: {type(exc).__name__}: {first}".encode())
            return
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        self._send(response.status_code, headers, content)

    def _send(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    serve(parser.parse_args().port)
