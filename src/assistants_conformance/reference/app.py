"""The reference server's ASGI app, assembled: one resource module per API family, each registering its routes
through ``Context.route``, in one Starlette app under /v1, wrapped by the dialect layer (Azure, v1).

This module only assembles; it is the one that imports the dialect layers. The import order of every module is
in README.md ("Layout"); tests/test_architecture_imports.py holds the code to it.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .assistants import Assistants
from .dialects import DialectMiddleware
from .engine import Engine
from .errors import APIError
from .files import Files
from .messages import Messages
from .plumbing import Context, respond
from .runs import Runs
from .steps import Steps
from .store import Store
from .threads import Threads
from .tool_resources import ToolResources
from .vector_index import VectorIndex
from .vector_search import VectorStoreSearch
from .vector_stores import VectorStores


class API:
    def __init__(self, store: Store, engine: Engine, api_keys: list[str], faults: frozenset[str]) -> None:
        self.ctx = Context(store, engine.ids, engine.clock, api_keys, faults)
        settings = engine.settings
        index = VectorIndex(store, engine.ids, engine.clock, faults, settings.index_delay_seconds,
                            settings.vector_store_day_seconds)
        resources = ToolResources(self.ctx, index)
        messages = Messages(self.ctx, engine, resources)
        threads = Threads(self.ctx, engine, resources, messages)
        runs = Runs(self.ctx, engine, resources, threads, messages)
        # Runs first: POST /v1/threads/runs must be matched before /v1/threads/{thread_id} takes "runs" for an id.
        self.resources = [runs, Steps(self.ctx, runs), Assistants(self.ctx, resources), threads, messages,
                          Files(self.ctx, index, settings.max_file_bytes), VectorStores(self.ctx, index, resources),
                          VectorStoreSearch(self.ctx, index)]

    async def health(self, request: Request) -> Response:
        return respond({"status": "ok"})

    def routes(self) -> list[Route]:
        return [Route("/health", self.health, methods=["GET"]), *(r for res in self.resources for r in res.routes())]

    def application(self, lifespan: Any = None) -> Callable:
        async def http_error(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            message = {404: f"Invalid URL ({request.method} {request.url.path})",
                       405: f"Method {request.method} not allowed on {request.url.path}"}.get(
                status, "The server had an error while processing your request.")
            return self.ctx.error(APIError(status, message,
                                           type_="invalid_request_error" if status < 500 else "server_error"))

        app = Starlette(routes=self.routes(), lifespan=lifespan,
                        exception_handlers={HTTPException: http_error, Exception: http_error})
        return DialectMiddleware(app, self.ctx)   # Azure /openai routes and the v1 dialect (reference/dialects.py)
