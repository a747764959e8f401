"""/v1/assistants: create, list, retrieve, modify, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import objects
from .plumbing import Context, respond
from .tool_resources import ToolResources


class Assistants:
    def __init__(self, ctx: Context, resources: ToolResources) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.resources = resources

    def routes(self) -> list[Route]:
        r, a = self.ctx.route, "/v1/assistants/{assistant_id}"
        return [r("POST", "/v1/assistants", self.create), r("GET", "/v1/assistants", self.list),
                r("GET", a, self.retrieve), r("POST", a, self.modify), r("DELETE", a, self.delete)]

    async def create(self, request: Request, owner: str | None) -> Response:
        body = await self.ctx.body(request, self.ctx.bodies.create_assistant)
        self.resources.check_references(body, owner)
        body["tool_resources"] = self.resources.make_tool_resources(body.get("tool_resources"), owner, False)
        object_id = self.ctx.ids.new("assistant")
        rec = self.store.new("assistant", object_id, owner, None, objects.assistant(object_id, self.ctx.clock.now(), body))
        self.store.commit()
        return respond(rec.obj)

    async def list(self, request: Request, owner: str | None) -> Response:
        return self.ctx.listing(request, self.ctx.owned(self.store.children("assistant", None), owner))

    async def retrieve(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        return respond(self.ctx.find("assistant", assistant_id, owner).obj)

    async def modify(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        rec = self.ctx.find("assistant", assistant_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.modify_assistant)
        self.resources.check_references(body, owner)
        for key, value in body.items():
            # null clears the nullable texts; for other fields it means "leave as is".
            if key != "reasoning_effort" and (value is not None or key in ("name", "description", "instructions")):
                rec.obj[key] = value
        self.store.touch(rec)
        self.store.commit()
        return respond(rec.obj)

    async def delete(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        rec = self.ctx.find("assistant", assistant_id, owner)
        self.store.delete(rec)
        self.store.commit()
        return self.ctx.deleted(assistant_id, "assistant")
