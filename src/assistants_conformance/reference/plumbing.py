"""HTTP plumbing every resource module shares: the JSON encoder, the endpoint wrapper (auth + error envelope),
strict JSON bodies, and the one ownership rule (one key's objects are invisible to another).

    ctx = Context(store, ids, clock, api_keys, faults)
    ctx.route("GET", "/v1/assistants/{assistant_id}", handler)   # how every module registers its routes
    async def handler(request, owner, assistant_id): return respond(ctx.find("assistant", assistant_id, owner).obj)

Nothing here knows an API family; the resource modules (assistants.py, threads.py, ...) sit on top of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .bodies import Bodies
from .errors import APIError, bad_request, not_found
from .faults import says_deleted
from .ids import Clock, IdFactory
from .objects import deleted
from .pagination import page
from .store import Record, Store
from .validation import Rules, Schema, validate

log = logging.getLogger("assistants_conformance.reference")
POLL_HEADERS = {"openai-poll-after-ms": "25"}   # live objects: how soon the SDK's *_and_poll helpers look again
KIND_LABEL = {"assistant": "assistant", "thread": "thread", "message": "message", "run": "run", "step": "run step",
              "file": "file", "vector_store": "vector store", "vector_store.file": "vector store file",
              "vector_store.file_batch": "vector store file batch"}
Handler = Callable[..., Awaitable[Response]]


def respond(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    """The one JSON encoder of every answer."""
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


class Context:
    """What every handler needs: authentication, validated bodies, lookups under the ownership rule, answers."""

    def __init__(self, store: Store, ids: IdFactory, clock: Clock, api_keys: list[str], faults: frozenset[str]) -> None:
        self.store = store
        self.ids = ids
        self.clock = clock
        self.faults = faults
        self.rules = Rules.from_faults(faults)
        self.bodies = Bodies(self.rules)
        # Objects are owned by a digest of the key, so the database never holds the keys themselves.
        self.owners = {key: hashlib.sha256(key.encode()).hexdigest()[:24] for key in api_keys}

    # ---- answers and errors -----------------------------------------------------------------------------
    def error(self, exc: APIError) -> Response:
        if "detail-errors" in self.faults:
            return respond({"detail": exc.message}, exc.status)
        return respond(exc.body(), exc.status)

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """``handler(request, owner, **path_params)`` behind authentication and the error envelope."""
        async def handle(request: Request) -> Response:
            try:
                owner = self.authenticate(request)
                return await handler(request, owner, **request.path_params)
            except APIError as exc:
                return self.error(exc)
            except Exception:   # client input never causes a bare 500 page
                log.exception("unhandled error in %s %s", request.method, request.url.path)
                return self.error(APIError(500, "The server had an error while processing your request.",
                                           type_="server_error", code="server_error"))
        return handle

    def route(self, method: str, path: str, handler: Handler) -> Route:
        return Route(path, self.endpoint(handler), methods=[method])

    def deleted(self, object_id: str, kind: str) -> Response:
        answer = deleted(object_id, kind)
        answer["deleted"] = says_deleted(self.faults)   # the object is gone all the same
        return respond(answer)

    def listing(self, request: Request, ids: list[str], render: Callable[[str], dict] | None = None,
                **limits: int) -> Response:
        return respond(page(ids, render or self.render, request.query_params, self.faults, **limits))

    def render(self, object_id: str) -> dict:
        return self.store.records[object_id].obj

    # ---- requests ---------------------------------------------------------------------------------------
    def authenticate(self, request: Request) -> str | None:
        if not self.owners:
            return None
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else ""
        owner = self.owners.get(key)
        if owner is None and "no-auth" not in self.faults:
            if not key:
                raise APIError(401, "You didn't provide an API key. You need to provide your API key in an "
                               "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
            raise APIError(401, "Incorrect API key provided.", code="invalid_api_key")
        return owner

    async def body(self, request: Request, schema: Schema, optional: bool = False) -> dict:
        """The JSON body, validated. ``optional``: an empty body means {} (only where the API says so)."""
        raw = await request.body()
        if not raw and optional:
            return validate({}, schema, self.rules)
        if not raw:
            raise bad_request("This request needs a JSON body.", code="missing_body")
        try:
            data = parse_json(raw)
        except ValueError:
            if "bad-json-500" in self.faults:
                raise APIError(500, "Internal Server Error", type_="server_error") from None
            raise bad_request("We could not parse the JSON body of your request. (HINT: This likely means "
                              "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                              "payload, but what was sent was not valid JSON.)") from None
        where = lone_surrogate(data)
        if where is not None:
            raise bad_request(f"Invalid '{where or 'body'}': the string contains a lone UTF-16 surrogate, which is "
                              "not a Unicode character.", where or None, "invalid_value")
        return validate(data, schema, self.rules)

    # ---- the ownership rule -----------------------------------------------------------------------------
    def visible(self, rec: Record, owner: str | None) -> bool:
        """Whether ``owner`` may see ``rec``: only its own objects (fault cross-key-visible: every object)."""
        return rec.owner == owner or "cross-key-visible" in self.faults

    def owned(self, ids: list[str], owner: str | None) -> list[str]:
        """The ids of the objects ``owner`` may see (every id when the server has no keys)."""
        if not self.owners:
            return ids
        return [i for i in ids if self.visible(self.store.records[i], owner)]

    def find(self, kind: str, object_id: str, owner: str | None, parent: str | None = None,
             param: str | None = None, record_id: str | None = None) -> Record:
        """The record named in a URL, or 404 (unknown, under another parent, or another key's).
        ``record_id``: the store's id when it differs from the wire id (vector store files)."""
        rec = self.store.get(record_id or object_id, kind)
        if rec is None or (parent is not None and rec.parent != parent) or not self.visible(rec, owner):
            error = not_found(KIND_LABEL[kind], object_id, param)
            if "not-found-as-400" in self.faults:
                error.status = 400
            raise error
        return rec


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8 only (RFC 8259; json.loads would also guess UTF-16/32), no NaN or Infinity."""
    return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)


def lone_surrogate(value: Any, where: str = "") -> str | None:
    """Path of the first key or string holding an unpaired surrogate (JSON escapes allow "\\udcfc"), else None.
    Such strings cannot be written as UTF-8, so they are refused at the door instead of failing later."""
    if isinstance(value, str):
        return where if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else key
            if _SURROGATE.search(key):
                return where
            found = lone_surrogate(item, path)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate(item, f"{where}[{i}]")
            if found is not None:
                return found
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")
