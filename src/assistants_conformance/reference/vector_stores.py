"""/v1/vector_stores: stores (create, list, retrieve, modify, delete), their files (attach, list by status,
retrieve, attributes, detach, content) and file batches (create, retrieve, cancel, list files).

The records, indexing and expiry are vector_index.py's; search is vector_search.py.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import bad_request
from .plumbing import POLL_HEADERS, Context, respond
from .store import Record
from .tool_resources import ToolResources
from .vector_index import FILE_STATUSES, VectorIndex, counts_of, file_text, set_expiry, vector_store_expired


class VectorStores:
    def __init__(self, ctx: Context, index: VectorIndex, resources: ToolResources) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.faults = ctx.faults
        self.index = index
        self.resources = resources

    def routes(self) -> list[Route]:
        r, v = self.ctx.route, "/v1/vector_stores/{vector_store_id}"
        f, b = v + "/files/{file_id}", v + "/file_batches/{batch_id}"
        return [r("POST", "/v1/vector_stores", self.create), r("GET", "/v1/vector_stores", self.list),
                r("GET", v, self.retrieve), r("POST", v, self.modify), r("DELETE", v, self.delete),
                r("POST", v + "/files", self.create_file), r("GET", v + "/files", self.list_files),
                r("GET", f, self.retrieve_file), r("POST", f, self.update_file), r("DELETE", f, self.delete_file),
                r("GET", f + "/content", self.file_content),
                r("POST", v + "/file_batches", self.create_batch), r("GET", b, self.retrieve_batch),
                r("POST", b + "/cancel", self.cancel_batch), r("GET", b + "/files", self.list_batch_files)]

    def answer(self, body: dict) -> Response:
        live = body.get("status") == "in_progress"
        return respond(body, headers=POLL_HEADERS if live else None)

    # ---- store handlers ---------------------------------------------------------------------------------------
    def find_store(self, vs_id: str, owner: str | None) -> Record:
        return self.ctx.find("vector_store", vs_id, owner)

    async def create(self, request: Request, owner: str | None) -> Response:
        body = await self.ctx.body(request, self.ctx.bodies.create_vector_store)
        file_ids = body.get("file_ids") or []
        self.resources.check_files(file_ids, owner, "file_ids")
        vs = self.index.new_store(owner, body.get("name"), body.get("metadata"), body.get("expires_after"),
                                  body.get("description"))
        for file_id in file_ids:
            self.index.attach(vs, file_id, owner, body.get("chunking_strategy"))
        vs_obj = self.index.refresh(vs)
        self.store.commit()
        return self.answer(vs_obj)

    async def list(self, request: Request, owner: str | None) -> Response:
        ids = self.ctx.owned(self.store.children("vector_store", None), owner)
        return self.ctx.listing(request, ids, lambda i: self.index.refresh(self.store.records[i]))

    async def retrieve(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        return self.answer(self.index.refresh(self.find_store(vector_store_id, owner)))

    async def modify(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.modify_vector_store)
        if "vector-store-modify-ignored" in self.faults:
            body = {}
        if "name" in body:
            vs.obj["name"] = body["name"]
        if body.get("metadata") is not None:
            vs.obj["metadata"] = body["metadata"]
        if "expires_after" in body and vs.obj["status"] != "expired":
            if body["expires_after"] is None:
                vs.obj.pop("expires_after", None)
            else:
                vs.obj["expires_after"] = body["expires_after"]
            set_expiry(vs)
        vs_obj = self.index.refresh(vs)
        self.store.commit()
        return self.answer(vs_obj)

    async def delete(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        for rec_id in list(self.store.children("vector_store.file", vs.id)):
            self.index.detach(self.store.records[rec_id])
        for rec_id in list(self.store.children("vector_store.file_batch", vs.id)):
            self.store.delete(self.store.records[rec_id])
        self.store.delete(vs)
        self.store.commit()
        return self.ctx.deleted(vector_store_id, "vector_store")

    # ---- vector store files -------------------------------------------------------------------------------
    def writable_store(self, vs_id: str, owner: str | None) -> Record:
        vs = self.find_store(vs_id, owner)
        if vector_store_expired(self.store, vs.id):
            raise bad_request(f"Vector store {vs_id} has expired; files cannot be added to it.", None, "expired")
        return vs

    def find_file(self, vs_id: str, file_id: str, owner: str | None) -> Record:
        return self.ctx.find("vector_store.file", file_id, owner, record_id=f"{vs_id}:{file_id}")

    def filtered(self, request: Request, records: list[str]) -> list[str]:
        wanted = request.query_params.get("filter")
        if wanted is None or "vector-store-files-filter-ignored" in self.faults:
            return records
        if wanted not in FILE_STATUSES:
            raise bad_request(f"Invalid value for 'filter': expected one of {', '.join(FILE_STATUSES)}.", "filter",
                              "invalid_value")
        return [r for r in records if self.store.records[r].obj["status"] == wanted]

    def file_page(self, request: Request, record_ids: list[str]) -> Response:
        """Vector store file pages use file ids as cursors (the wire id), not our record ids."""
        by_file = {self.store.records[r].obj["id"]: r for r in record_ids}
        for r in record_ids:
            self.index.ensure_indexing(self.store.records[r])
        chosen = self.filtered(request, record_ids)
        return self.ctx.listing(request, [self.store.records[r].obj["id"] for r in chosen],
                                lambda file_id: self.store.records[by_file[file_id]].obj)

    async def create_file(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.writable_store(vector_store_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.create_vector_store_file)
        self.resources.find_reference("file", body["file_id"], owner, "file_id")
        rec = self.index.attach(vs, body["file_id"], owner, body.get("chunking_strategy"), body.get("attributes"))
        self.index.refresh(vs)
        self.store.commit()
        return self.answer(rec.obj)

    async def list_files(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        return self.file_page(request, list(self.store.children("vector_store.file", vs.id)))

    async def retrieve_file(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        self.find_store(vector_store_id, owner)
        rec = self.find_file(vector_store_id, file_id, owner)
        self.index.ensure_indexing(rec)
        return self.answer(rec.obj)

    async def update_file(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        self.find_store(vector_store_id, owner)
        rec = self.find_file(vector_store_id, file_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.update_vector_store_file)
        rec.obj["attributes"] = body["attributes"] or {}
        self.store.touch(rec)
        self.store.commit()
        return self.answer(rec.obj)

    async def delete_file(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        self.index.detach(self.find_file(vector_store_id, file_id, owner))
        self.index.refresh(vs)
        self.store.commit()
        return self.ctx.deleted(file_id, "vector_store.file")

    async def file_content(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        self.find_store(vector_store_id, owner)
        rec = self.find_file(vector_store_id, file_id, owner)
        text = file_text(self.store, file_id) if rec.obj["status"] == "completed" else None
        data = [{"type": "text", "text": text[s:e]} for s, e in rec.extra.get("chunks", ())] if text else []
        return respond({"object": "vector_store.file_content.page", "data": data, "has_more": False, "next_page": None})

    # ---- file batches -------------------------------------------------------------------------------------
    def find_batch(self, vs_id: str, batch_id: str, owner: str | None) -> Record:
        self.find_store(vs_id, owner)
        return self.ctx.find("vector_store.file_batch", batch_id, owner, parent=vs_id)

    async def create_batch(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.writable_store(vector_store_id, owner)
        body = await self.ctx.body(request, self.ctx.bodies.create_file_batch)
        if ("file_ids" in body) == ("files" in body):
            raise bad_request("Give exactly one of 'file_ids' or 'files'.", "file_ids", "invalid_value")
        strategy, attrs = body.get("chunking_strategy"), body.get("attributes")
        if "files" in body:
            wanted = [(f["file_id"], f.get("chunking_strategy") or strategy,
                       f.get("attributes") if f.get("attributes") is not None else attrs) for f in body["files"]]
            param = "files"
        else:
            wanted = [(file_id, strategy, attrs) for file_id in body["file_ids"]]
            param = "file_ids"
        for i, (file_id, _, _) in enumerate(wanted):
            self.resources.find_reference("file", file_id, owner, f"{param}[{i}]" if param == "file_ids" else f"files[{i}].file_id")
        batch_id = self.ctx.ids.new("file_batch")
        file_ids = list(dict.fromkeys(file_id for file_id, _, _ in wanted))
        batch = self.store.new("vector_store.file_batch", batch_id, owner, vs.id, {
            "id": batch_id, "object": "vector_store.files_batch", "created_at": self.ctx.clock.now(),
            "vector_store_id": vs.id, "status": "in_progress", "file_counts": counts_of([])}, {"files": file_ids})
        for file_id, file_strategy, file_attrs in wanted:
            self.index.attach(vs, file_id, owner, file_strategy, file_attrs, batch_id)
        self.index.refresh(vs)
        answer = self.index.refresh_batch(batch)
        self.store.commit()
        return self.answer(answer)

    async def retrieve_batch(self, request: Request, owner: str | None, vector_store_id: str, batch_id: str) -> Response:
        return self.answer(self.index.refresh_batch(self.find_batch(vector_store_id, batch_id, owner)))

    async def cancel_batch(self, request: Request, owner: str | None, vector_store_id: str, batch_id: str) -> Response:
        batch = self.find_batch(vector_store_id, batch_id, owner)
        self.index.refresh_batch(batch)
        if batch.obj["status"] != "in_progress":
            raise bad_request(f"Cannot cancel a file batch with status '{batch.obj['status']}'.")
        if "batch-cancel-ignored" not in self.faults:
            self.index.cancel_files(vector_store_id, batch.extra["files"])
            batch.obj["status"] = "cancelled"
            self.index.refresh(self.store.records[vector_store_id])
        answer = self.index.refresh_batch(batch)
        self.store.commit()
        return self.answer(answer)

    async def list_batch_files(self, request: Request, owner: str | None, vector_store_id: str, batch_id: str) -> Response:
        batch = self.find_batch(vector_store_id, batch_id, owner)
        records = [r for f in batch.extra["files"]
                   if (r := f"{vector_store_id}:{f}") in self.store.records]
        order = {r: self.store.records[r].seq for r in records}
        return self.file_page(request, sorted(records, key=order.__getitem__))
