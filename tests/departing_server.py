"""A test server that departs from the protocol in ways a third-party server did: a proxy in front of a
reference server that changes chosen answers (the reference server itself stays untouched).

    with ReferenceServer(api_keys=(KEY,)) as upstream, DepartingServer(upstream.root_url,
            {"no-create-thread-and-run", "bare-done"}) as server:
        ... point --target-url at server.base_url ...

Departures (names in DEPARTURES):
* no-create-thread-and-run: POST /v1/threads/runs answers 404 with an error envelope (operation missing);
* bare-done: streams end with a bare `data: [DONE]` (the `event: done` line dropped), as chat completions do;
* no-annotations: text content of messages lacks `annotations` (JSON answers);
* delete-again-500: a DELETE of something already gone answers 500 instead of 404;
* no-function-tools: creating an assistant with tools answers 400 (a server without function calling).

Starlette + uvicorn in a thread on a free loopback port (the same stack as the reference server).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEPARTURES = frozenset({"no-create-thread-and-run", "bare-done", "no-annotations", "delete-again-500",
                        "no-function-tools"})
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                   "code": None}}, status_code=status)


def _drop_annotations(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_annotations(v) for k, v in value.items()
                if not (k == "annotations" and "value" in value)}
    if isinstance(value, list):
        return [_drop_annotations(v) for v in value]
    return value


def make_app(upstream: str, departures: frozenset[str]) -> Starlette:
    clients: list[httpx.AsyncClient] = []

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with httpx.AsyncClient(base_url=upstream, timeout=60, trust_env=False) as client:
            clients.append(client)
            yield

    async def proxy(request: Request) -> Response:
        http = clients[0]
        path = request.url.path
        if "no-create-thread-and-run" in departures and request.method == "POST" and path == "/v1/threads/runs":
            return _error(404, f"Unknown route: POST {path}")
        body = await request.body()
        if "no-function-tools" in departures and request.method == "POST" and path == "/v1/assistants" \
                and (json.loads(body or b"{}") or {}).get("tools"):
            return _error(400, "tools are not supported")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_HEADERS]
        sent = http.build_request(request.method, path, params=request.query_params, headers=headers,
                                  content=body)
        answer = await http.send(sent, stream=True)
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            async def body():
                try:
                    async for chunk in answer.aiter_raw():
                        if "bare-done" in departures:
                            chunk = chunk.replace(b"event: done\n", b"")
                        yield chunk
                finally:
                    await answer.aclose()
            return StreamingResponse(body(), status_code=answer.status_code, headers=out_headers)
        content = await answer.aread()
        await answer.aclose()
        if "delete-again-500" in departures and request.method == "DELETE" and answer.status_code == 404:
            return _error(500, "internal error while deleting")
        if "no-annotations" in departures and answer.headers.get("content-type", "").startswith("application/json"):
            content = json.dumps(_drop_annotations(json.loads(content))).encode()
        return Response(content, status_code=answer.status_code, headers=out_headers)

    methods = ["GET", "POST", "DELETE", "PATCH", "PUT"]
    return Starlette(routes=[Route("/{path:path}", proxy, methods=methods)], lifespan=lifespan)


class DepartingServer:
    """Runs make_app() on a free 127.0.0.1 port in a thread; a context manager."""

    def __init__(self, upstream_root: str, departures: set[str] | frozenset[str]):
        unknown = set(departures) - DEPARTURES
        if unknown:
            raise ValueError(f"unknown departures: {sorted(unknown)}")
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.root_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.base_url = f"{self.root_url}/v1"
        config = uvicorn.Config(make_app(upstream_root, frozenset(departures)), log_level="warning",
                                lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> DepartingServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the departing test server did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
