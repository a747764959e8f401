"""Azure OpenAI routes and the Assistants v1 dialect, as one ASGI layer in front of the /v1 app.

* Azure: `/openai/<path>?api-version=V` is served as `/v1/<path>` (same store, same objects). The api-version
  is required (missing -> 400 MissingApiVersionParameter, unknown -> 404 "Resource not found", both in the
  error envelope); `api-key: KEY` authenticates (as does `Authorization: Bearer KEY`); OpenAI-Beta is not needed
  and is ignored. Operations Azure lacks (DELETE a message, anything under /openai/files) answer 404.
  The 2024-02-15/03-01/04-01-preview versions answer v1 shapes, later ones v2.
* v1: a /v1 request carrying `OpenAI-Beta: assistants=v1` (or an Azure v1-shaped version) has its body
  translated to v2 and its answer (JSON or SSE) rendered as v1 by `v1.py`; the v1-only file sub-resources are
  served here; /vector_stores is refused. Requests in the v2 shape pass straight through.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from starlette.requests import Request

from . import v1
from .errors import APIError
from .plumbing import Context
from .v1_files import FileEndpoints

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict], Any]

AZURE_PREFIX = "/openai"
V1_SHAPED_VERSIONS = frozenset({"2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview"})
V2_SHAPED_VERSIONS = frozenset({
    "2024-05-01-preview", "2024-07-01-preview", "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview",
    "2024-12-01-preview", "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview", "2025-04-01-preview",
})
AZURE_VERSIONS = V1_SHAPED_VERSIONS | V2_SHAPED_VERSIONS
DEFAULT_AZURE_VERSION = "2024-08-01-preview"   # what fault azure-api-version-ignored serves
AZURE_UNAUTHORIZED = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
                      "valid key for an active subscription and use a correct regional API endpoint for your resource.")
# Operations Azure does not serve (the path is given without the /openai prefix).
_AZURE_LACKS = [("DELETE", re.compile(r"/threads/[^/]+/messages/[^/]+")), (None, re.compile(r"/files(/.*)?"))]
_V1_BETA = re.compile(r"(^|[,\s])assistants=v1($|[,\s])")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _with_headers(scope: Scope, drop: set[bytes], add: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in scope["headers"] if k not in drop] + add


class DialectMiddleware:
    """Wraps the Starlette app of the /v1 routes (see module docstring)."""

    def __init__(self, app: Callable, api: Context) -> None:
        self.app = app
        self.api = api
        self.faults = api.faults
        self.files = FileEndpoints(api)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if path == AZURE_PREFIX or path.startswith(AZURE_PREFIX + "/"):
            try:
                scope, shape = self.azure(scope)
            except APIError as exc:
                return await self.api.error(exc)(scope, receive, send)
        elif path.startswith("/v1/") and "v1-header-ignored" not in self.faults:
            beta = _header(scope, b"openai-beta")
            shape = "v1" if beta is not None and _V1_BETA.search(beta) else "v2"
        else:
            shape = "v2"
        if shape == "v2":
            return await self.app(scope, receive, send)
        await self.serve_v1(scope, receive, send)

    # ---- Azure --------------------------------------------------------------------------------------------
    def azure(self, scope: Scope) -> tuple[Scope, str]:
        """The /v1 scope for an Azure request and its shape, or an APIError (answered in the envelope)."""
        method, rest = scope["method"], scope["path"][len(AZURE_PREFIX):]
        if not rest or any((m is None or m == method) and p.fullmatch(rest) for m, p in _AZURE_LACKS):
            raise APIError(404, f"Resource not found: {method} {scope['path']} is not served by Azure OpenAI.",
                           code="404")
        version = Request(scope).query_params.get("api-version")
        if "azure-api-version-ignored" in self.faults and version not in AZURE_VERSIONS:
            version = DEFAULT_AZURE_VERSION
        if not version:
            raise APIError(400, "The api-version query parameter (?api-version=) is required for all requests.",
                           param="api-version", code="MissingApiVersionParameter")
        if version not in AZURE_VERSIONS:
            raise APIError(404, f"Resource not found: api-version '{version}' does not serve the Assistants API.",
                           param="api-version", code="404")
        if "azure-requires-beta-header" in self.faults and _header(scope, b"openai-beta") != "assistants=v2":
            raise APIError(400, "The OpenAI-Beta: assistants=v2 header is required.", param="OpenAI-Beta",
                           code="invalid_beta")
        key = self.azure_key(scope)
        path = "/v1" + rest
        headers = _with_headers(scope, {b"authorization", b"api-key", b"openai-beta"},
                                [(b"authorization", f"Bearer {key}".encode("latin-1"))] if key else [])
        scope = dict(scope, path=path, raw_path=path.encode(), headers=headers)
        return scope, "v1" if version in V1_SHAPED_VERSIONS else "v2"

    def azure_key(self, scope: Scope) -> str | None:
        """The caller's key: `api-key` first, else a Bearer token. 401 (Azure's wording) when keys are enforced
        and it is not one of them."""
        key = None if "azure-api-key-ignored" in self.faults else _header(scope, b"api-key")
        if not key:
            bearer = _header(scope, b"authorization") or ""
            key = bearer[7:].strip() if bearer[:7].lower() == "bearer " else None
        if self.api.owners and key not in self.api.owners and "no-auth" not in self.faults:
            raise APIError(401, AZURE_UNAUTHORIZED, code="401")
        return key

    # ---- v1 -----------------------------------------------------------------------------------------------
    async def serve_v1(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/v1/files" or path.startswith("/v1/files/"):
            return await self.app(scope, receive, send)   # the Files API has no versions (and serves raw content)
        if path == "/v1/vector_stores" or path.startswith("/v1/vector_stores/"):
            return await self.api.error(v1.vector_stores_refused())(scope, receive, send)
        if "v1-no-assistant-files" not in self.faults:
            found = self.files.match(scope)
            if found is not None:
                route, scope = found
                return await route.handle(scope, receive, send)
        if method == "POST":
            translated = await self.translate(scope, receive)
            if isinstance(translated, APIError):
                return await self.api.error(translated)(scope, receive, send)
            scope, receive = translated
        await self.app(scope, receive, V1Answer(self.api, send))

    async def translate(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive] | APIError:
        """Read the body, check and translate it to v2. A body that is not JSON is passed on as is (the app
        answers it); so are the errors of authentication, which the app reports first."""
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            owner = self.api.authenticate(Request(scope))
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (APIError, ValueError):
            body = None
        if body is not None:
            try:
                raw = json.dumps(v1.translate_request(self.api, owner, scope["path"], body)).encode()
            except APIError as exc:
                return exc
        headers = _with_headers(scope, {b"content-length"}, [(b"content-length", str(len(raw)).encode())])
        delivered = False

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()   # later calls wait for the disconnect, as the app's streams expect
        return dict(scope, headers=headers), replay


class V1Answer:
    """An ASGI `send` that renders the app's successful JSON and SSE answers as v1."""

    def __init__(self, api: Context, send: Send) -> None:
        self.api = api
        self.send = send
        self.start: dict | None = None
        self.mode = "pass"      # pass | json | sse
        self.buffer = b""

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers") or ()).get(b"content-type", b"")
            if message["status"] == 200 and content_type.startswith(b"application/json"):
                self.mode, self.start = "json", message
                return
            if message["status"] == 200 and content_type.startswith(b"text/event-stream"):
                self.mode = "sse"
            return await self.send(message)
        if message["type"] != "http.response.body" or self.mode == "pass":
            return await self.send(message)
        self.buffer += message.get("body", b"")
        more = message.get("more_body", False)
        if self.mode == "json":
            if more:
                return
            body = self.buffer
            try:
                body = json.dumps(v1.render(self.api, json.loads(body))).encode()
            except ValueError:
                pass
            assert self.start is not None
            headers = [(k, v) for k, v in self.start.get("headers") or () if k != b"content-length"]
            await self.send({**self.start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            return await self.send({"type": "http.response.body", "body": body, "more_body": False})
        # SSE: render every complete frame; keep a partial one for the next chunk.
        frames, _, self.buffer = self.buffer.rpartition(b"\n\n") if more else (self.buffer, b"", b"")
        out = b"".join(self.frame(f) for f in frames.split(b"\n\n") if f) if frames else b""
        await self.send({"type": "http.response.body", "body": out, "more_body": more})

    def frame(self, frame: bytes) -> bytes:
        lines = frame.split(b"\n")
        for i, line in enumerate(lines):
            if line.startswith(b"data: {"):
                try:
                    data = json.loads(line[6:])
                except ValueError:
                    break
                lines[i] = b"data: " + json.dumps(v1.render(self.api, data)).encode()
        return b"\n".join(lines) + b"\n\n"
