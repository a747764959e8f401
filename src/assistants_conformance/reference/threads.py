"""/v1/threads: create (with messages and tool_resources), retrieve, modify, delete (its runs stop)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import objects
from .engine import Engine
from .messages import Messages
from .plumbing import Context, respond
from .store import Record
from .tool_resources import ToolResources


class Threads:
    def __init__(self, ctx: Context, engine: Engine, resources: ToolResources, messages: Messages) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.engine = engine
        self.resources = resources
        self.messages = messages

    def routes(self) -> list[Route]:
        r, t = self.ctx.route, "/v1/threads/{thread_id}"
        return [r("POST", "/v1/threads", self.create), r("GET", t, self.retrieve), r("POST", t, self.modify),
                r("DELETE", t, self.delete)]

    def new_thread(self, body: dict, owner: str | None) -> Record:
        """Ids the body names were checked (ToolResources.check_references); helpers make their stores here."""
        if body.get("tool_resources"):
            body = {**body, "tool_resources": self.resources.make_tool_resources(body["tool_resources"], owner, True)}
        thread_id = self.ctx.ids.new("thread")
        rec = self.store.new("thread", thread_id, owner, None, objects.thread(thread_id, self.ctx.clock.now(), body))
        for message in body.get("messages") or ():
            self.messages.new_message(rec, message, owner)
        return rec

    async def create(self, request: Request, owner: str | None) -> Response:
        body = await self.ctx.body(request, self.ctx.bodies.create_thread, optional=True)
        self.resources.check_references(body, owner)
        rec = self.new_thread(body, owner)
        self.store.commit()
        return respond(rec.obj)

    async def retrieve(self, request: Request, owner: str | None, thread_id: str) -> Response:
        return respond(self.ctx.find("thread", thread_id, owner).obj)

    async def modify(self, request: Request, owner: str | None, thread_id: str) -> Response:
        rec = self.ctx.find("thread", thread_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.modify_thread)
        self.resources.check_references(body, owner)
        for key in ("metadata", "tool_resources"):
            if body.get(key) is not None:
                rec.obj[key] = body[key]
        self.store.touch(rec)
        self.store.commit()
        return respond(rec.obj)

    async def delete(self, request: Request, owner: str | None, thread_id: str) -> Response:
        rec = self.ctx.find("thread", thread_id, owner)
        self.engine.forget_thread(thread_id)
        self.store.delete(rec)
        self.store.commit()
        return self.ctx.deleted(thread_id, "thread")
