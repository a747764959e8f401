"""/v1/threads/{thread_id}/runs/{run_id}/steps: list and retrieve, with `include[]` for file_search contents."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .plumbing import Context, respond
from .runs import Runs
from .tool_turns import content_included, step_view


class Steps:
    def __init__(self, ctx: Context, runs: Runs) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.runs = runs

    def routes(self) -> list[Route]:
        r, steps = self.ctx.route, "/v1/threads/{thread_id}/runs/{run_id}/steps"
        return [r("GET", steps, self.list), r("GET", steps + "/{step_id}", self.retrieve)]

    async def list(self, request: Request, owner: str | None, thread_id: str, run_id: str) -> Response:
        include = content_included(request.query_params.getlist("include[]"))
        self.runs.find_run(owner, thread_id, run_id)
        return self.ctx.listing(request, self.store.children("step", run_id),
                                lambda i: step_view(self.store.records[i], include, self.ctx.faults))

    async def retrieve(self, request: Request, owner: str | None, thread_id: str, run_id: str,
                       step_id: str) -> Response:
        include = content_included(request.query_params.getlist("include[]"))
        self.runs.find_run(owner, thread_id, run_id)
        return respond(step_view(self.ctx.find("step", step_id, owner, run_id), include, self.ctx.faults))
