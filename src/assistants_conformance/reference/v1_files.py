"""The v1-only file sub-resources: /v1/assistants/{id}/files and /v1/threads/{t}/messages/{m}/files.

Served only for v1-shaped requests (dialects.py matches them before the /v1 app, which does not have them);
their routes are registered as every resource module's are (``Context.route``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from .errors import bad_request, not_found
from .plumbing import Context, respond
from .store import Record
from .v1 import ASSISTANT_FILES_MAX, assistant_file_ids, attached_now, file_usable, message_file_ids


def assistant_file(asst: Record, file_id: str) -> dict:
    created = asst.extra.get("v1_file_times", {}).get(file_id, asst.obj["created_at"])
    return {"id": file_id, "object": "assistant.file", "created_at": created, "assistant_id": asst.id}


def message_file(msg: Record, file_id: str) -> dict:
    return {"id": file_id, "object": "thread.message.file", "created_at": msg.obj["created_at"], "message_id": msg.id}


class FileEndpoints:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.routes = self.make_routes()

    def make_routes(self) -> list[Route]:
        r = self.ctx.route
        a, m = "/v1/assistants/{assistant_id}/files", "/v1/threads/{thread_id}/messages/{message_id}/files"
        return [r("POST", a, self.attach), r("GET", a, self.list_assistant_files),
                r("GET", a + "/{file_id}", self.get_assistant_file), r("DELETE", a + "/{file_id}", self.detach),
                r("GET", m, self.list_message_files), r("GET", m + "/{file_id}", self.get_message_file)]

    def match(self, scope: dict[str, Any]) -> tuple[Route, dict[str, Any]] | None:
        """The route serving this request and its scope (with path_params); None when no route has this path
        and method (HEAD included: these routes answer only their own methods)."""
        if scope["method"] == "HEAD":
            return None
        for route in self.routes:
            found, child = route.matches(scope)
            if found is Match.FULL:
                return route, {**scope, **child}
        return None

    # ---- assistant files -----------------------------------------------------------------------------
    def _assistant(self, owner: str | None, assistant_id: str) -> Record:
        return self.ctx.find("assistant", assistant_id, owner)

    def _attached(self, asst: Record, file_id: str) -> None:
        if file_id not in assistant_file_ids(asst.obj):
            raise not_found("file", file_id)

    async def attach(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        asst = self._assistant(owner, assistant_id)
        body = await self.ctx.body(request, self.ctx.bodies.attach_assistant_file)
        file_id = body["file_id"]
        if not file_usable(self.ctx, file_id, owner):
            raise bad_request(f"No file found with id '{file_id}' (it must be uploaded with purpose 'assistants').",
                              "file_id", "invalid_value")
        ids = assistant_file_ids(asst.obj)
        if file_id not in ids:   # attaching an attached file again answers the existing attachment
            if len(ids) >= ASSISTANT_FILES_MAX:
                raise bad_request(f"An assistant can have at most {ASSISTANT_FILES_MAX} files.", "file_id",
                                  "array_above_max_length")
            resources = asst.obj.setdefault("tool_resources", {})
            resources.setdefault("code_interpreter", {})["file_ids"] = ids + [file_id]
            attached_now(self.ctx, asst, [file_id])
            self.ctx.store.commit()
        return respond(assistant_file(asst, file_id))

    async def list_assistant_files(self, request: Request, owner: str | None, assistant_id: str) -> Response:
        asst = self._assistant(owner, assistant_id)
        return self.ctx.listing(request, assistant_file_ids(asst.obj), lambda f: assistant_file(asst, f))

    async def get_assistant_file(self, request: Request, owner: str | None, assistant_id: str,
                                 file_id: str) -> Response:
        asst = self._assistant(owner, assistant_id)
        self._attached(asst, file_id)
        return respond(assistant_file(asst, file_id))

    async def detach(self, request: Request, owner: str | None, assistant_id: str, file_id: str) -> Response:
        asst = self._assistant(owner, assistant_id)
        self._attached(asst, file_id)
        ids = [f for f in assistant_file_ids(asst.obj) if f != file_id]
        asst.obj["tool_resources"]["code_interpreter"]["file_ids"] = ids
        asst.extra.get("v1_file_times", {}).pop(file_id, None)
        self.ctx.store.touch(asst)
        self.ctx.store.commit()
        return self.ctx.deleted(file_id, "assistant.file")

    # ---- message files -------------------------------------------------------------------------------
    def _message(self, owner: str | None, thread_id: str, message_id: str) -> Record:
        self.ctx.find("thread", thread_id, owner)
        return self.ctx.find("message", message_id, owner, thread_id)

    async def list_message_files(self, request: Request, owner: str | None, thread_id: str,
                                 message_id: str) -> Response:
        msg = self._message(owner, thread_id, message_id)
        return self.ctx.listing(request, message_file_ids(msg.obj), lambda f: message_file(msg, f))

    async def get_message_file(self, request: Request, owner: str | None, thread_id: str, message_id: str,
                               file_id: str) -> Response:
        msg = self._message(owner, thread_id, message_id)
        if file_id not in message_file_ids(msg.obj):
            raise not_found("file", file_id)
        return respond(message_file(msg, file_id))
