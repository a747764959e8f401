"""POST /v1/vector_stores/{vector_store_id}/search: BM25 over a store's chunks, filtered by file attributes
(the body and its filter validation are in bodies.py).

    {"query": "llama diet", "max_num_results": 5,
     "filters": {"type": "and", "filters": [{"type": "eq", "key": "team", "value": "ops"},
                                            {"type": "gt", "key": "year", "value": 2020}]},
     "ranking_options": {"score_threshold": 0.3}}

Only completed files are searched; a list query is searched as its strings joined by spaces. There is no model
to rewrite a query, so ``rewrite_query: true`` keeps it as it is, and every ``ranker`` is the same local BM25.
Filter semantics: a comparison on a key the file's attributes lack is false, except ne and nin (true); gt/gte/
lt/lte compare two numbers or two strings, anything else (booleans, mixed types) does not match; booleans are
never equal to numbers; in/nin take an array (a single value counts as an array of one).
"""

from __future__ import annotations

import operator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import bad_request
from .plumbing import Context, respond
from .search import rank
from .vector_index import VectorIndex, store_chunks, touch_vector_store, vector_store_expired

DEFAULT_MAX_RESULTS = 10
_ORDER = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


# ---- filtering ----------------------------------------------------------------------------------------------

def _same(have: Any, want: Any) -> bool:
    """JSON equality: a boolean never equals a number (Python's True == 1 does)."""
    return isinstance(have, bool) == isinstance(want, bool) and have == want


def _ordered(have: Any, want: Any) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (have, want))
    return numbers or (isinstance(have, str) and isinstance(want, str))


def matches(flt: dict, attributes: dict) -> bool:
    """Whether a file's attributes satisfy a (validated) filter."""
    kind = flt["type"]
    if kind == "and":
        return all(matches(inner, attributes) for inner in flt["filters"])
    if kind == "or":
        return any(matches(inner, attributes) for inner in flt["filters"])
    present, have, want = flt["key"] in attributes, attributes.get(flt["key"]), flt["value"]
    if kind in ("in", "nin"):
        found = present and any(_same(have, option) for option in (want if isinstance(want, list) else [want]))
        return found if kind == "in" else not found
    if kind in ("eq", "ne"):
        equal = present and _same(have, want)
        return equal if kind == "eq" else not equal
    return present and _ordered(have, want) and _ORDER[kind](have, want)


# ---- the endpoint -------------------------------------------------------------------------------------------

class VectorStoreSearch:
    def __init__(self, ctx: Context, index: VectorIndex) -> None:
        self.ctx = ctx
        self.index = index
        self.store = ctx.store

    def routes(self) -> list[Route]:
        return [self.ctx.route("POST", "/v1/vector_stores/{vector_store_id}/search", self.search)]

    def attributes_of(self, vs_id: str, file_id: str) -> dict:
        rec = self.store.get(f"{vs_id}:{file_id}", "vector_store.file")
        return (rec.obj.get("attributes") if rec is not None else None) or {}

    async def search(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.ctx.find("vector_store", vector_store_id, owner)
        self.index.refresh(vs)     # picks up indexing a restart left pending, and expiry
        if vector_store_expired(self.store, vs.id):
            raise bad_request(f"Vector store {vector_store_id} has expired; it cannot be searched.", None, "expired")
        body = await self.ctx.body(request, self.ctx.bodies.search_vector_store)
        query = body["query"]
        chunks = store_chunks(self.store, vs.id)
        if body.get("filters") is not None:
            chunks = [c for c in chunks if matches(body["filters"], self.attributes_of(vs.id, c.file_id))]
        options = body.get("ranking_options") or {}
        found = rank(chunks, query if isinstance(query, str) else " ".join(query),
                     k=body.get("max_num_results") or DEFAULT_MAX_RESULTS,
                     score_threshold=options.get("score_threshold") or 0.0)
        touch_vector_store(self.store, vs.id)   # a search is activity: last_active_at, and so the expiry, move
        self.store.commit()
        data = [{"file_id": chunk.file_id, "filename": chunk.filename, "score": score,
                 "attributes": self.attributes_of(vs.id, chunk.file_id),
                 "content": [{"type": "text", "text": chunk.text}]} for chunk, score in found]
        return respond({"object": "vector_store.search_results.page", "search_query": query, "data": data,
                        "has_more": False, "next_page": None})
