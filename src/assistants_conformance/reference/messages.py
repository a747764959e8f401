"""/v1/threads/{thread_id}/messages: create (refused while the thread is locked), list, retrieve, modify, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import objects
from .engine import Engine
from .plumbing import Context, respond
from .store import Record
from .tool_resources import ToolResources


class Messages:
    def __init__(self, ctx: Context, engine: Engine, resources: ToolResources) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.engine = engine
        self.resources = resources

    def routes(self) -> list[Route]:
        r, m = self.ctx.route, "/v1/threads/{thread_id}/messages"
        return [r("POST", m, self.create), r("GET", m, self.list), r("GET", m + "/{message_id}", self.retrieve),
                r("POST", m + "/{message_id}", self.modify), r("DELETE", m + "/{message_id}", self.delete)]

    def new_message(self, thread: Record, body: dict, owner: str | None) -> Record:
        """A user's message on ``thread`` (file ids checked by the caller); its attachments join the thread."""
        message_id = self.ctx.ids.new("message")
        rec = self.store.new("message", message_id, owner, thread.id,
                             objects.message(message_id, self.ctx.clock.now(), thread.id, body))
        self.resources.apply_attachments(thread, body, owner)
        return rec

    def find(self, owner: str | None, thread_id: str, message_id: str) -> Record:
        self.ctx.find("thread", thread_id, owner)
        return self.ctx.find("message", message_id, owner, thread_id)

    async def create(self, request: Request, owner: str | None, thread_id: str) -> Response:
        thread = self.ctx.find("thread", thread_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.create_message)
        self.resources.check_references(body, owner)
        self.engine.check_unlocked(thread.id, owner)
        rec = self.new_message(thread, body, owner)
        self.store.commit()
        return respond(rec.obj)

    async def list(self, request: Request, owner: str | None, thread_id: str) -> Response:
        self.ctx.find("thread", thread_id, owner)
        ids = self.store.children("message", thread_id)
        run_id = request.query_params.get("run_id")
        if run_id is not None:
            ids = [i for i in ids if self.store.records[i].obj["run_id"] == run_id]
        return self.ctx.listing(request, ids)

    async def retrieve(self, request: Request, owner: str | None, thread_id: str, message_id: str) -> Response:
        return respond(self.find(owner, thread_id, message_id).obj)

    async def modify(self, request: Request, owner: str | None, thread_id: str, message_id: str) -> Response:
        rec = self.find(owner, thread_id, message_id)
        body = await self.ctx.body(request, self.ctx.bodies.modify_message)
        if body.get("metadata") is not None:
            rec.obj["metadata"] = body["metadata"]
        self.store.touch(rec)
        self.store.commit()
        return respond(rec.obj)

    async def delete(self, request: Request, owner: str | None, thread_id: str, message_id: str) -> Response:
        rec = self.find(owner, thread_id, message_id)
        self.store.delete(rec)
        self.store.commit()
        return self.ctx.deleted(message_id, "thread.message")
