"""/v1/threads/{thread_id}/runs and /v1/threads/runs: create (JSON or a stream), list, retrieve, modify, cancel,
submit_tool_outputs. The engine (engine.py) drives the runs; streams.py frames their events."""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .engine import TERMINAL, Engine
from .errors import APIError, bad_request
from .messages import Messages
from .plumbing import POLL_HEADERS, Context, respond
from .store import Record
from .streams import stream
from .threads import Threads
from .tool_resources import ToolResources
from .tool_turns import content_included


class Runs:
    def __init__(self, ctx: Context, engine: Engine, resources: ToolResources, threads: Threads,
                 messages: Messages) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.faults = ctx.faults
        self.engine = engine
        self.resources = resources
        self.threads = threads
        self.messages = messages

    def routes(self) -> list[Route]:
        r, runs = self.ctx.route, "/v1/threads/{thread_id}/runs"
        run = runs + "/{run_id}"
        return [r("POST", "/v1/threads/runs", self.create_thread_and_run),
                r("POST", runs, self.create), r("GET", runs, self.list), r("GET", run, self.retrieve),
                r("POST", run, self.modify), r("POST", run + "/cancel", self.cancel),
                r("POST", run + "/submit_tool_outputs", self.submit_tool_outputs)]

    # ---- creation -------------------------------------------------------------------------------------------
    def _check_tool_choice(self, body: dict, asst: Record) -> None:
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "function":
            tools = body.get("tools") if body.get("tools") is not None else asst.obj["tools"]
            names = {t["function"]["name"] for t in tools if t.get("type") == "function"}
            if choice["function"]["name"] not in names:
                raise bad_request(f"Tool choice '{choice['function']['name']}' not found in 'tools' parameter.",
                                  "tool_choice")

    async def create(self, request: Request, owner: str | None, thread_id: str) -> Response:
        thread = self.ctx.find("thread", thread_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.create_run)
        include = content_included(request.query_params.getlist("include[]"))   # in this run's step events
        asst = self.ctx.find("assistant", body["assistant_id"], owner, param="assistant_id")
        self._check_tool_choice(body, asst)
        self.resources.check_references(body, owner)
        self.engine.check_unlocked(thread.id, owner)
        if "lock-race" in self.faults:
            await asyncio.sleep(0.05)
        # From here to launch there is no await: the lock check and the insert are one atomic step.
        for message in body.get("additional_messages") or ():
            self.messages.new_message(thread, message, owner)
        rec = self.engine.start_run(thread, asst, body, owner)
        rec.extra["include_content"] = include
        return self._answer_run(rec, bool(body.get("stream")))

    async def create_thread_and_run(self, request: Request, owner: str | None) -> Response:
        body = await self.ctx.body(request, self.ctx.bodies.create_thread_and_run)
        include = content_included(request.query_params.getlist("include[]"))
        asst = self.ctx.find("assistant", body["assistant_id"], owner, param="assistant_id")
        self._check_tool_choice(body, asst)
        self.resources.check_references(body, owner)
        thread_body = dict(body.get("thread") or {})
        if body.get("tool_resources") is not None:
            thread_body["tool_resources"] = body["tool_resources"]
        thread = self.threads.new_thread(thread_body, owner)
        rec = self.engine.start_run(thread, asst, body, owner)
        rec.extra["include_content"] = include
        prelude = [] if "stream-no-thread-created" in self.faults else [("thread.created", json.dumps(thread.obj))]
        return self._answer_run(rec, bool(body.get("stream")), prelude)

    def _answer_run(self, rec: Record, streamed: bool, prelude: list | None = None) -> Response:
        queue = None
        if streamed:
            queue = asyncio.Queue()
            for item in prelude or ():
                queue.put_nowait(item)
            self.engine.subscribe(rec.id, queue)
        self.store.commit()   # acknowledged objects survive a crash
        self.engine.launch(rec)
        if queue is not None:
            return stream(self.engine, rec.id, queue)
        return respond(rec.obj, headers=POLL_HEADERS)

    # ---- reads and changes ----------------------------------------------------------------------------------
    def find_run(self, owner: str | None, thread_id: str, run_id: str) -> Record:
        """The run the URL names, with expiry applied now."""
        self.ctx.find("thread", thread_id, owner)
        rec = self.ctx.find("run", run_id, owner, thread_id)
        self.engine.refresh(rec)
        return rec

    def run_response(self, rec: Record) -> Response:
        live = rec.obj["status"] not in TERMINAL
        return respond(rec.obj, headers=POLL_HEADERS if live else None)

    async def list(self, request: Request, owner: str | None, thread_id: str) -> Response:
        self.ctx.find("thread", thread_id, owner)
        ids = self.store.children("run", thread_id)
        for run_id in ids:
            rec = self.store.records[run_id]
            if rec.obj["status"] not in TERMINAL:
                self.engine.refresh(rec)
        return self.ctx.listing(request, ids)

    async def retrieve(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        return self.run_response(self.find_run(owner, thread_id, run_id))

    async def modify(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        rec = self.find_run(owner, thread_id, run_id)
        body = await self.ctx.body(request, self.ctx.bodies.modify_run)
        if body.get("metadata") is not None:
            rec.obj["metadata"] = body["metadata"]
        self.store.touch(rec)
        self.store.commit()
        return self.run_response(rec)

    async def cancel(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        rec = self.find_run(owner, thread_id, run_id)
        self.engine.cancel(rec)
        self.store.commit()
        return self.run_response(rec)

    async def submit_tool_outputs(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        rec = self.find_run(owner, thread_id, run_id)
        body = await self.ctx.body(request, self.ctx.bodies.submit_tool_outputs)
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
            return stream(self.engine, rec.id, queue)
        return self.run_response(rec)
