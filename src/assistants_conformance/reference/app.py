"""The HTTP API under /v1 (Starlette). Handlers validate, look up, call the engine, commit, answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import objects, tool_turns
from .engine import STREAM_END, TERMINAL, Engine
from .dialects import DialectMiddleware
from .errors import APIError, bad_request, not_found
from .faults import says_deleted
from .pagination import page
from .store import Record, Store
from .validation import Bodies, Rules, validate
from .files import FilesAPI
from .vector_stores import VectorStoresAPI

log = logging.getLogger("assistants_conformance.reference")
POLL_AFTER_MS = "25"   # openai-poll-after-ms: how soon the SDK's *_and_poll helpers should look again
KIND_LABEL = {"assistant": "assistant", "thread": "thread", "message": "message", "run": "run", "step": "run step",
              "file": "file", "vector_store": "vector store", "vector_store.file": "vector store file",
              "vector_store.file_batch": "vector store file batch"}


def _json(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


class API:
    def __init__(self, store: Store, engine: Engine, api_keys: list[str], faults: frozenset[str]) -> None:
        self.store = store
        self.engine = engine
        self.faults = faults
        self.rules = Rules.from_faults(faults)
        self.bodies = Bodies(self.rules)
        self.files = FilesAPI(self)                    # /v1/files (reference/files.py)
        self.vector_stores = VectorStoresAPI(self)     # /v1/vector_stores... (reference/vector_stores.py)
        # Objects are owned by a digest of the key, so the database never holds the keys themselves.
        self.owners = {key: hashlib.sha256(key.encode()).hexdigest()[:24] for key in api_keys}

    # ---- plumbing ---------------------------------------------------------------------------------------
    def error(self, exc: APIError) -> Response:
        if "detail-errors" in self.faults:
            return _json({"detail": exc.message}, exc.status)
        return _json(exc.body(), exc.status)

    def endpoint(self, handler: Callable[..., Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
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

    async def body(self, request: Request, schema: Any, optional: bool = False) -> dict:
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

    def find(self, kind: str, object_id: str, owner: str | None, parent: str | None = None,
             param: str | None = None) -> Record:
        rec = self.store.get(object_id, kind)
        if (rec is None or (parent is not None and rec.parent != parent)
                or (rec.owner != owner and "cross-key-visible" not in self.faults)):
            error = not_found(KIND_LABEL[kind], object_id, param)
            if "not-found-as-400" in self.faults:
                error.status = 400
            raise error
        return rec

    def deleted(self, object_id: str, kind: str) -> Response:
        answer = objects.deleted(object_id, kind)
        answer["deleted"] = says_deleted(self.faults)   # the object is gone all the same
        return _json(answer)

    def render(self, object_id: str) -> dict:
        return self.store.records[object_id].obj

    def listing(self, request: Request, ids: list[str]) -> Response:
        return _json(page(ids, self.render, request.query_params, self.faults))

    # ---- health ----------------------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    # ---- assistants ------------------------------------------------------------------------------------
    async def create_assistant(self, request: Request, owner: str | None) -> Response:
        body = await self.body(request, self.bodies.create_assistant)
        self.vector_stores.check_references(body, owner)
        body["tool_resources"] = self.vector_stores.make_tool_resources(body.get("tool_resources"), owner, False)
        object_id = self.engine.ids.new("assistant")
        rec = self.store.new("assistant", object_id, owner, None,
                             objects.assistant(object_id, self.engine.clock.now(), body))
        self.store.commit()
        return _json(rec.obj)

    async def list_assistants(self, request: Request, owner: str | None) -> Response:
        ids = self.store.children("assistant", None)
        if "cross-key-visible" not in self.faults and self.owners:
            ids = [i for i in ids if self.store.records[i].owner == owner]
        return self.listing(request, ids)

    async def get_assistant(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        return _json(self.find("assistant", assistant_id, owner).obj)

    async def modify_assistant(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        rec = self.find("assistant", assistant_id, owner)
        body = await self.body(request, self.bodies.modify_assistant)
        self.vector_stores.check_references(body, owner)
        for key, value in body.items():
            # null clears the nullable texts; for other fields it means "leave as is".
            if key != "reasoning_effort" and (value is not None or key in ("name", "description", "instructions")):
                rec.obj[key] = value
        self.store.touch(rec)
        self.store.commit()
        return _json(rec.obj)

    async def delete_assistant(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        rec = self.find("assistant", assistant_id, owner)
        self.store.delete(rec)
        self.store.commit()
        return self.deleted(assistant_id, "assistant")

    # ---- threads ---------------------------------------------------------------------------------------
    def new_thread(self, body: dict, owner: str | None) -> Record:
        """Ids the body names were checked (vector_stores.check_references); helpers make their stores here."""
        if body.get("tool_resources"):
            body = {**body, "tool_resources": self.vector_stores.make_tool_resources(body["tool_resources"], owner, True)}
        thread_id = self.engine.ids.new("thread")
        rec = self.store.new("thread", thread_id, owner, None, objects.thread(thread_id, self.engine.clock.now(), body))
        for message in body.get("messages") or ():
            self.new_message(rec, message, owner)
        return rec

    async def create_thread(self, request: Request, owner: str | None) -> Response:
        body = await self.body(request, self.bodies.create_thread, optional=True)
        self.vector_stores.check_references(body, owner)
        rec = self.new_thread(body, owner)
        self.store.commit()
        return _json(rec.obj)

    async def get_thread(self, request: Request, owner: str | None, thread_id: str) -> Response:
        return _json(self.find("thread", thread_id, owner).obj)

    async def modify_thread(self, request: Request, owner: str | None, thread_id: str) -> Response:
        rec = self.find("thread", thread_id, owner)
        body = await self.body(request, self.bodies.modify_thread)
        self.vector_stores.check_references(body, owner)
        for key in ("metadata", "tool_resources"):
            if body.get(key) is not None:
                rec.obj[key] = body[key]
        self.store.touch(rec)
        self.store.commit()
        return _json(rec.obj)

    async def delete_thread(self, request: Request, owner: str | None, thread_id: str) -> Response:
        rec = self.find("thread", thread_id, owner)
        self.engine.forget_thread(thread_id)
        self.store.delete(rec)
        self.store.commit()
        return self.deleted(thread_id, "thread")

    # ---- messages --------------------------------------------------------------------------------------
    def new_message(self, thread: Record, body: dict, owner: str | None) -> Record:
        message_id = self.engine.ids.new("message")
        rec = self.store.new("message", message_id, owner, thread.id,
                             objects.message(message_id, self.engine.clock.now(), thread.id, body))
        self.vector_stores.apply_attachments(thread, body, owner)   # file ids checked by the caller
        return rec

    async def create_message(self, request: Request, owner: str | None, thread_id: str) -> Response:
        thread = self.find("thread", thread_id, owner)
        body = await self.body(request, self.bodies.create_message)
        self.vector_stores.check_references(body, owner)
        self.engine.check_unlocked(thread.id, owner)
        rec = self.new_message(thread, body, owner)
        self.store.commit()
        return _json(rec.obj)

    async def list_messages(self, request: Request, owner: str | None, thread_id: str) -> Response:
        self.find("thread", thread_id, owner)
        ids = self.store.children("message", thread_id)
        run_id = request.query_params.get("run_id")
        if run_id is not None:
            ids = [i for i in ids if self.store.records[i].obj["run_id"] == run_id]
        return self.listing(request, ids)

    async def get_message(self, request: Request, owner: str | None, thread_id: str, message_id: str) -> Response:
        self.find("thread", thread_id, owner)
        return _json(self.find("message", message_id, owner, thread_id).obj)

    async def modify_message(self, request: Request, owner: str | None, thread_id: str, message_id: str) -> Response:
        self.find("thread", thread_id, owner)
        rec = self.find("message", message_id, owner, thread_id)
        body = await self.body(request, self.bodies.modify_message)
        if body.get("metadata") is not None:
            rec.obj["metadata"] = body["metadata"]
        self.store.touch(rec)
        self.store.commit()
        return _json(rec.obj)

    async def delete_message(self, request: Request, owner: str | None, thread_id: str, message_id: str) -> Response:
        self.find("thread", thread_id, owner)
        rec = self.find("message", message_id, owner, thread_id)
        self.store.delete(rec)
        self.store.commit()
        return self.deleted(message_id, "thread.message")

    # ---- runs ------------------------------------------------------------------------------------------
    def _check_tool_choice(self, body: dict, asst: Record) -> None:
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "function":
            tools = body.get("tools") if body.get("tools") is not None else asst.obj["tools"]
            names = {t["function"]["name"] for t in tools if t.get("type") == "function"}
            if choice["function"]["name"] not in names:
                raise bad_request(f"Tool choice '{choice['function']['name']}' not found in 'tools' parameter.",
                                  "tool_choice")

    async def create_run(self, request: Request, owner: str | None, thread_id: str) -> Response:
        thread = self.find("thread", thread_id, owner)
        body = await self.body(request, self.bodies.create_run)
        include = check_step_include(request)   # file_search result contents in this run's step events
        asst = self.find("assistant", body["assistant_id"], owner, param="assistant_id")
        self._check_tool_choice(body, asst)
        self.vector_stores.check_references(body, owner)
        self.engine.check_unlocked(thread.id, owner)
        if "lock-race" in self.faults:
            await asyncio.sleep(0.05)
        # From here to launch there is no await: the lock check and the insert are one atomic step.
        for message in body.get("additional_messages") or ():
            self.new_message(thread, message, owner)
        rec = self.engine.start_run(thread, asst, body, owner)
        rec.extra["include_content"] = include
        return self._answer_run(rec, bool(body.get("stream")))

    async def create_thread_and_run(self, request: Request, owner: str | None) -> Response:
        body = await self.body(request, self.bodies.create_thread_and_run)
        include = check_step_include(request)
        asst = self.find("assistant", body["assistant_id"], owner, param="assistant_id")
        self._check_tool_choice(body, asst)
        self.vector_stores.check_references(body, owner)
        thread_body = dict(body.get("thread") or {})
        if body.get("tool_resources") is not None:
            thread_body["tool_resources"] = body["tool_resources"]
        thread = self.new_thread(thread_body, owner)
        rec = self.engine.start_run(thread, asst, body, owner)
        rec.extra["include_content"] = include
        prelude = [] if "stream-no-thread-created" in self.faults else [("thread.created", json.dumps(thread.obj))]
        return self._answer_run(rec, bool(body.get("stream")), prelude)

    def _answer_run(self, rec: Record, stream: bool, prelude: list | None = None) -> Response:
        queue = None
        if stream:
            queue = asyncio.Queue()
            for item in prelude or ():
                queue.put_nowait(item)
            self.engine.subscribe(rec.id, queue)
        self.store.commit()   # acknowledged objects survive a crash
        self.engine.launch(rec)
        if queue is not None:
            return self.stream(rec.id, queue)
        return _json(rec.obj, headers={"openai-poll-after-ms": POLL_AFTER_MS})

    async def list_runs(self, request: Request, owner: str | None, thread_id: str) -> Response:
        self.find("thread", thread_id, owner)
        ids = self.store.children("run", thread_id)
        for run_id in ids:
            rec = self.store.records[run_id]
            if rec.obj["status"] not in TERMINAL:
                self.engine.refresh(rec)
        return self.listing(request, ids)

    def find_run(self, owner: str | None, thread_id: str, run_id: str) -> Record:
        self.find("thread", thread_id, owner)
        rec = self.find("run", run_id, owner, thread_id)
        self.engine.refresh(rec)
        return rec

    def run_response(self, rec: Record) -> Response:
        live = rec.obj["status"] not in TERMINAL
        return _json(rec.obj, headers={"openai-poll-after-ms": POLL_AFTER_MS} if live else None)

    async def get_run(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        return self.run_response(self.find_run(owner, thread_id, run_id))

    async def modify_run(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        rec = self.find_run(owner, thread_id, run_id)
        body = await self.body(request, self.bodies.modify_run)
        if body.get("metadata") is not None:
            rec.obj["metadata"] = body["metadata"]
        self.store.touch(rec)
        self.store.commit()
        return self.run_response(rec)

    async def cancel_run(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        rec = self.find_run(owner, thread_id, run_id)
        self.engine.cancel(rec)
        self.store.commit()
        return self.run_response(rec)

    async def submit_tool_outputs(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        rec = self.find_run(owner, thread_id, run_id)
        body = await self.body(request, self.bodies.submit_tool_outputs)
        queue: asyncio.Queue | None = asyncio.Queue() if body.get("stream") else None
        if queue is not None:
            self.engine.subscribe(rec.id, queue)   # before submit: the stream starts with step.completed
        try:
            resumed = self.engine.submit_tool_outputs(rec, body["tool_outputs"])
        except APIError:
            if queue is not None:
                self.engine.unsubscribe(rec.id, queue)
            raise
        self.store.commit()
        if not resumed:   # fault expired-accepts-submit: answered as is
            if queue is not None:
                self.engine.unsubscribe(rec.id, queue)
            return self.run_response(rec)
        self.engine.resume(rec)
        if queue is not None:
            return self.stream(rec.id, queue)
        return self.run_response(rec)

    # ---- run steps -------------------------------------------------------------------------------------
    async def list_steps(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        include = check_step_include(request)
        self.find_run(owner, thread_id, run_id)
        return _json(page(self.store.children("step", run_id),
                          lambda i: tool_turns.step_view(self.store.records[i], include, self.faults),
                          request.query_params, self.faults))

    async def get_step(self, request: Request, owner: str | None, thread_id: str, run_id: str, step_id: str) -> Response:
        include = check_step_include(request)
        self.find_run(owner, thread_id, run_id)
        return _json(tool_turns.step_view(self.find("step", step_id, owner, run_id), include, self.faults))

    # ---- streams ---------------------------------------------------------------------------------------
    def stream(self, run_id: str, queue: asyncio.Queue) -> Response:
        media = "application/json" if "stream-json-content-type" in self.faults else "text/event-stream; charset=utf-8"
        return StreamingResponse(self.events(run_id, queue), media_type=media,
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def events(self, run_id: str, queue: asyncio.Queue):
        """SSE frames for one run until it ends or pauses, then `done`. Bounded by the run's expiry."""
        bound = self.engine.settings.run_expiry_seconds + 30
        held: str | None = None        # fault stream-reorder: the queued event waits for in_progress
        deltas = 0
        try:
            ended = False
            while not ended:
                try:
                    items = [await asyncio.wait_for(queue.get(), bound)]
                except asyncio.TimeoutError:
                    yield _frame("error", json.dumps({"type": "server_error", "code": "server_error", "param": None,
                                                      "message": "The run made no progress in time."}))
                    break
                while not queue.empty():   # send whatever is ready in one write
                    items.append(queue.get_nowait())
                chunk = []
                for name, payload in items:
                    if "stream-reorder" in self.faults:
                        if name == "thread.run.queued" and held is None:
                            held = payload
                            continue
                        if held is not None:
                            if name == "thread.run.in_progress":
                                chunk.append(_frame(name, payload))
                            chunk.append(_frame("thread.run.queued", held))
                            held = None
                            if name == "thread.run.in_progress":
                                continue
                    if name == "thread.message.delta":
                        deltas += 1
                        if deltas == 2 and "stream-drop-delta" in self.faults:
                            continue
                    chunk.append(_frame(name, payload))
                    if name in STREAM_END:
                        ended = True
                        break
                if chunk:
                    yield "".join(chunk)
            if "stream-no-done" not in self.faults:
                yield "event: done\ndata: [DONE]\n\n"
        finally:
            self.engine.unsubscribe(run_id, queue)

    # ---- routing ---------------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        e = self.endpoint
        t = "/v1/threads/{thread_id}"
        r = t + "/runs/{run_id}"
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/v1/assistants", e(self.create_assistant), methods=["POST"]),
            Route("/v1/assistants", e(self.list_assistants), methods=["GET"]),
            Route("/v1/assistants/{assistant_id}", e(self.get_assistant), methods=["GET"]),
            Route("/v1/assistants/{assistant_id}", e(self.modify_assistant), methods=["POST"]),
            Route("/v1/assistants/{assistant_id}", e(self.delete_assistant), methods=["DELETE"]),
            Route("/v1/threads", e(self.create_thread), methods=["POST"]),
            Route("/v1/threads/runs", e(self.create_thread_and_run), methods=["POST"]),
            Route(t, e(self.get_thread), methods=["GET"]),
            Route(t, e(self.modify_thread), methods=["POST"]),
            Route(t, e(self.delete_thread), methods=["DELETE"]),
            Route(t + "/messages", e(self.create_message), methods=["POST"]),
            Route(t + "/messages", e(self.list_messages), methods=["GET"]),
            Route(t + "/messages/{message_id}", e(self.get_message), methods=["GET"]),
            Route(t + "/messages/{message_id}", e(self.modify_message), methods=["POST"]),
            Route(t + "/messages/{message_id}", e(self.delete_message), methods=["DELETE"]),
            Route(t + "/runs", e(self.create_run), methods=["POST"]),
            Route(t + "/runs", e(self.list_runs), methods=["GET"]),
            Route(r, e(self.get_run), methods=["GET"]),
            Route(r, e(self.modify_run), methods=["POST"]),
            Route(r + "/cancel", e(self.cancel_run), methods=["POST"]),
            Route(r + "/submit_tool_outputs", e(self.submit_tool_outputs), methods=["POST"]),
            Route(r + "/steps", e(self.list_steps), methods=["GET"]),
            Route(r + "/steps/{step_id}", e(self.get_step), methods=["GET"]),
            *self.files.routes(),
            *self.vector_stores.routes(),
        ]

    def application(self, lifespan: Any = None) -> Callable:
        async def http_error(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            message = {404: f"Invalid URL ({request.method} {request.url.path})",
                       405: f"Method {request.method} not allowed on {request.url.path}"}.get(
                status, "The server had an error while processing your request.")
            return self.error(APIError(status, message, type_="invalid_request_error" if status < 500 else "server_error"))

        app = Starlette(routes=self.routes(), lifespan=lifespan,
                        exception_handlers={HTTPException: http_error, Exception: http_error})
        return DialectMiddleware(app, self)   # Azure /openai routes and the v1 dialect (reference/dialects.py)


STEP_INCLUDES = frozenset({"step_details.tool_calls[*].file_search.results[*].content"})


def check_step_include(request: Request) -> bool:
    """`include[]` on run steps names extra fields; only file search result contents exist. True if asked."""
    for value in request.query_params.getlist("include[]"):
        if value not in STEP_INCLUDES:
            raise bad_request(f"Invalid value for 'include[]': expected one of {', '.join(sorted(STEP_INCLUDES))}.",
                              "include[]", "invalid_value")
    return bool(request.query_params.getlist("include[]"))


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


def _frame(name: str, payload: str) -> str:
    return f"event: {name}\ndata: {payload}\n\n"
