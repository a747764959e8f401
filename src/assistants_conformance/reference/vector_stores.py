"""Vector stores, their files and file batches; asynchronous indexing; expiry; the thread's attachment store.

Records: "vector_store" (parent None), "vector_store.file" (parent = store id, record id f"{vs_id}:{file_id}",
obj.id = the file id), "vector_store.file_batch" (parent = store id). A store's file_counts, usage_bytes and
status are derived from its file records whenever it is read or changed. Indexing a file waits
``--index-delay-ms`` (so that polling sees in_progress), then decodes and chunks it: completed, or failed with
``last_error`` (unsupported_file: not UTF-8/UTF-16 text; invalid_file: no words in it).

Expiry: ``expires_after {anchor: last_active_at, days}`` puts ``expires_at`` ``days`` days after
``last_active_at``; a day lasts ``--vector-store-day-seconds`` (86,400 unless a test shortens it). Past it the
store's status is ``expired`` for good, and runs that would search it fail.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .chunking import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP, Chunk, chunk_text, decode_text
from .errors import APIError, bad_request, not_found
from .files import owned, respond
from .pagination import page
from .store import Record, Store

if TYPE_CHECKING:
    from .app import API

FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")
THREAD_STORE_DAYS = 7            # stores made by thread helpers expire 7 days after their last activity
DEFAULT_INDEX_DELAY = 0.05       # seconds per file
DEFAULT_DAY_SECONDS = 86_400.0
POLL_HEADERS = {"openai-poll-after-ms": "25"}


# ---- functions other parts use (engine, tools) --------------------------------------------------------------

def store_chunks(store: Store, vector_store_id: str) -> list[Chunk]:
    """The chunks of every completed file of a store, in attachment order."""
    chunks: list[Chunk] = []
    for rec_id in list(store.children("vector_store.file", vector_store_id)):
        rec = store.records[rec_id]
        if rec.obj["status"] != "completed":
            continue
        text = _file_text(store, rec.obj["id"])
        if text is None:
            continue
        filename = rec.extra.get("filename", "")
        chunks.extend(Chunk(rec.obj["id"], filename, text[s:e], s, e) for s, e in rec.extra.get("chunks", ()))
    return chunks


def vector_store_expired(store: Store, vs_id: str) -> bool:
    rec = store.get(vs_id, "vector_store")
    if rec is None:
        return False
    _expire_if_due(store, rec)
    return rec.obj["status"] == "expired"


def touch_vector_store(store: Store, vs_id: str) -> None:
    """The store was used now (last_active_at), which also moves its expiry."""
    rec = store.get(vs_id, "vector_store")
    if rec is None or vector_store_expired(store, vs_id):
        return
    rec.obj["last_active_at"] = max(rec.obj.get("last_active_at") or 0, int(time.time()))
    _set_expiry(rec)
    store.touch(rec)


def thread_store_for_attachments(ctx: "API", thread_record: Record, file_ids: list[str], owner: str | None) -> str:
    """Add files to the thread's vector store, creating it (7-day expiry after last activity) when it has none."""
    return ctx.vector_stores.attach_to_thread(thread_record, file_ids, owner)


def run_vector_store_ids(store: Store, run: dict) -> list[str]:
    """The stores a run searches: the assistant's and the thread's file_search vector stores."""
    ids: list[str] = []
    for rec in (store.get(run["assistant_id"], "assistant"), store.get(run["thread_id"], "thread")):
        if rec is not None:
            search = (rec.obj.get("tool_resources") or {}).get("file_search") or {}
            ids.extend(i for i in search.get("vector_store_ids") or () if i not in ids)
    return ids


def expired_store_error(store: Store, run: dict) -> dict | None:
    """A run with file_search over an expired store fails (the docs: "runs that use expired vector stores will
    fail"). The contract's run last_error codes are server_error, rate_limit_exceeded and invalid_prompt: the
    request, not the server, is at fault, so invalid_prompt. Otherwise the stores become active now."""
    if not any(tool.get("type") == "file_search" for tool in run.get("tools") or ()):
        return None
    ids = run_vector_store_ids(store, run)
    for vs_id in ids:
        if vector_store_expired(store, vs_id):
            return {"code": "invalid_prompt",
                    "message": f"Vector store {vs_id} has expired. Create a new vector store with the same files "
                               "and attach it instead."}
    for vs_id in ids:
        touch_vector_store(store, vs_id)
    return None


def detach_file_everywhere(api: "API", file_id: str, owner: str | None) -> None:
    """A deleted file leaves every vector store it was in."""
    if "deleted-file-stays-in-store" in api.faults:
        return
    api.vector_stores.detach_everywhere(file_id, owner)


# ---- private helpers ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _decoded(store: Store, file_id: str) -> str | None:
    data = store.get_blob(file_id)
    return None if data is None else decode_text(data)


def _file_text(store: Store, file_id: str) -> str | None:
    """Files never change once uploaded, so their decoded text can be cached by id."""
    return _decoded(store, file_id)


def _set_expiry(rec: Record) -> None:
    after = rec.obj.get("expires_after")
    if after is None:
        rec.obj["expires_at"] = None
        rec.extra["deadline"] = None
        return
    length = after["days"] * rec.extra.get("day_seconds", DEFAULT_DAY_SECONDS)
    deadline = rec.obj["last_active_at"] + length
    rec.extra["deadline"] = deadline
    # Fault vector-store-expires-at-wrong: the wire value is an hour late (the store still expires on time).
    rec.obj["expires_at"] = int(math.ceil(deadline)) + rec.extra.get("expires_at_skew", 0)


def _expire_if_due(store: Store, rec: Record) -> None:
    deadline = rec.extra.get("deadline")
    if rec.obj["status"] != "expired" and deadline is not None and time.time() >= deadline:
        rec.obj["status"] = "expired"
        store.touch(rec)


def counts_of(records: list[Record]) -> dict:
    counts = {status: 0 for status in FILE_STATUSES}
    for rec in records:
        counts[rec.obj["status"]] += 1
    return {**counts, "total": len(records)}


class VectorStoresAPI:
    def __init__(self, api: "API") -> None:
        self.api = api
        self.store = api.store
        self.faults = api.faults
        settings = api.engine.settings
        self.index_delay: float = getattr(settings, "index_delay_seconds", DEFAULT_INDEX_DELAY)
        self.day_seconds: float = getattr(settings, "vector_store_day_seconds", DEFAULT_DAY_SECONDS)
        self.tasks: dict[str, asyncio.Task] = {}       # vector store file record id -> indexing task
    # ---- stores: derived fields -----------------------------------------------------------------------------
    def refresh(self, rec: Record) -> dict:
        """Recompute a store's counts, usage and status from its files; returns the wire object."""
        _expire_if_due(self.store, rec)
        files = [self.store.records[i] for i in self.store.children("vector_store.file", rec.id)]
        for vsf in files:
            self.ensure_indexing(vsf)
        counts = counts_of(files)
        if "vector-store-counts-stale" in self.faults:   # counts frozen as they were when the files arrived
            counts["in_progress"] += counts["completed"] + counts["failed"]
            counts["completed"] = counts["failed"] = 0
        vs = rec.obj
        vs["file_counts"] = counts
        vs["usage_bytes"] = sum(f.obj["usage_bytes"] for f in files)
        if vs["status"] != "expired":
            busy = any(f.obj["status"] == "in_progress" for f in files)
            vs["status"] = "in_progress" if busy or "vector-store-never-completes" in self.faults else "completed"
        self.store.touch(rec)
        return vs

    def refresh_batch(self, rec: Record) -> dict:
        records = self.store.records
        files = [records[r] for f in rec.extra["files"] if (r := f"{rec.parent}:{f}") in records]
        for vsf in files:
            self.ensure_indexing(vsf)
        counts = counts_of(files)
        batch = rec.obj
        if batch["status"] != "cancelled":
            if counts["in_progress"]:
                batch["status"] = "in_progress"
            else:
                batch["status"] = "failed" if counts["total"] and counts["failed"] == counts["total"] else "completed"
        if "batch-counts-stale" in self.faults:   # the counts the batch was created with, for good
            counts = rec.extra.setdefault("counts_at_creation", counts)
        batch["file_counts"] = counts
        self.store.touch(rec)
        return batch

    def answer(self, body: dict) -> Response:
        live = body.get("status") == "in_progress"
        return respond(body, headers=POLL_HEADERS if live else None)

    # ---- stores: creation and attachment (also used by tool_resources helpers and attachments) ----------------
    def new_store(self, owner: str | None, name: str | None = None, meta: dict | None = None,
                  expires_after: dict | None = None, description: str | None = None) -> Record:
        vs_id = self.api.engine.ids.new("vector_store")
        now = self.api.engine.clock.now()
        obj_ = {"id": vs_id, "object": "vector_store", "created_at": now, "name": name, "usage_bytes": 0,
                "file_counts": counts_of([]), "status": "completed", "last_active_at": now,
                "metadata": meta or {}, "expires_at": None}
        if expires_after is not None:
            obj_["expires_after"] = expires_after
        skew = 3600 if "vector-store-expires-at-wrong" in self.faults else 0
        rec = self.store.new("vector_store", vs_id, owner, None, obj_,
                             {"day_seconds": self.day_seconds, "description": description, "expires_at_skew": skew})
        _set_expiry(rec)
        return rec

    def find_reference(self, kind: str, object_id: str, owner: str | None, param: str) -> Record:
        """An id named in a request body (not in the path): unknown or another key's -> 400 naming the field.
        404 is kept for the resource the URL names; a 404 here would read as "the thread just made is gone"."""
        try:
            return self.api.find(kind, object_id, owner, param=param)
        except APIError as exc:
            if exc.status != 404:
                raise
            raise bad_request(str(exc), param=param) from None

    def check_files(self, file_ids: list[str], owner: str | None, param: str) -> None:
        """Every named file must exist and belong to the caller (400 naming the field otherwise)."""
        for i, file_id in enumerate(file_ids):
            self.find_reference("file", file_id, owner, f"{param}[{i}]")

    def attach(self, vs: Record, file_id: str, owner: str | None, strategy: dict | None = None,
               attrs: dict | None = None, batch_id: str | None = None) -> Record:
        """Attach an (existing, checked) file to a store and start indexing it; an attached file stays as it is."""
        rec_id = f"{vs.id}:{file_id}"
        existing = self.store.get(rec_id, "vector_store.file")
        if existing is not None:
            return existing
        static = (strategy or {}).get("static") or {"max_chunk_size_tokens": DEFAULT_MAX_TOKENS,
                                                    "chunk_overlap_tokens": DEFAULT_OVERLAP}
        file_rec = self.store.records[file_id]
        obj_ = {"id": file_id, "object": "vector_store.file", "usage_bytes": 0,
                "created_at": self.api.engine.clock.now(), "vector_store_id": vs.id, "status": "in_progress",
                "last_error": None, "chunking_strategy": {"type": "static", "static": dict(static)},
                "attributes": attrs or {}}
        rec = self.store.new("vector_store.file", rec_id, owner, vs.id, obj_,
                             {"filename": file_rec.obj["filename"], "batch": batch_id})
        self.ensure_indexing(rec)
        return rec

    def ensure_indexing(self, rec: Record) -> None:
        """Files in progress have a task (also those a restart left in progress, picked up when first read)."""
        if rec.obj["status"] == "in_progress" and rec.id not in self.tasks:
            self.tasks[rec.id] = asyncio.get_running_loop().create_task(self._index(rec))

    async def _index(self, rec: Record) -> None:
        try:
            await asyncio.sleep(self.index_delay)
            if self.store.records.get(rec.id) is not rec or rec.obj["status"] != "in_progress":
                return
            file_id = rec.obj["id"]
            data = self.store.get_blob(file_id)
            text = None if data is None else decode_text(data)
            if data is None:
                error = {"code": "server_error", "message": "The file was deleted before it could be indexed."}
            elif text is None:
                error = {"code": "unsupported_file", "message": "The file is not UTF-8 or UTF-16 text."}
            elif not text.strip():
                error = {"code": "invalid_file", "message": "The file contains no text to index."}
            else:
                error = None
            if error is not None and data is not None and "unreadable-file-completes" in self.faults:
                rec.obj.update(status="completed", usage_bytes=len(data))   # indexed as if it were text, no chunks
            elif error is None:
                static = rec.obj["chunking_strategy"]["static"]
                rec.extra["chunks"] = [list(span) for span in chunk_text(
                    text, static["max_chunk_size_tokens"], static["chunk_overlap_tokens"])]
                rec.obj.update(status="completed", usage_bytes=len(data))
            else:
                rec.obj.update(status="failed", last_error=error)
            self.store.touch(rec)
            vs = self.store.get(rec.parent, "vector_store")
            if vs is not None:
                self.refresh(vs)
        finally:
            if self.tasks.get(rec.id) is asyncio.current_task():
                del self.tasks[rec.id]

    def detach(self, rec: Record) -> None:
        task = self.tasks.pop(rec.id, None)
        if task is not None:
            task.cancel()
        self.store.delete(rec)

    def detach_everywhere(self, file_id: str, owner: str | None) -> None:
        for vs_id in list(self.store.children("vector_store", None)):
            rec = self.store.get(f"{vs_id}:{file_id}", "vector_store.file")
            if rec is not None:
                self.detach(rec)
                self.refresh(self.store.records[vs_id])

    def attach_to_thread(self, thread: Record, file_ids: list[str], owner: str | None) -> str:
        resources = thread.obj.setdefault("tool_resources", {})
        search = resources.setdefault("file_search", {})
        current = [i for i in search.get("vector_store_ids") or () if self.store.get(i, "vector_store") is not None]
        if current:
            vs = self.store.records[current[0]]
        else:
            vs = self.new_store(owner, expires_after={"anchor": "last_active_at", "days": THREAD_STORE_DAYS})
            search["vector_store_ids"] = [vs.id]
            self.store.touch(thread)
        for file_id in file_ids:
            self.attach(vs, file_id, owner)
        self.refresh(vs)
        return vs.id

    def check_references(self, body: dict, owner: str | None, where: str = "") -> None:
        """Every file and vector store a request body names (tool_resources, attachments, also inside its
        messages or thread) must exist and belong to the caller: 400 naming the field. Run before any change."""
        resources = body.get("tool_resources") or {}
        code = resources.get("code_interpreter") or {}
        self.check_files(code.get("file_ids") or [], owner, f"{where}tool_resources.code_interpreter.file_ids")
        search = resources.get("file_search") or {}
        for i, vs_id in enumerate(search.get("vector_store_ids") or ()):
            self.find_reference("vector_store", vs_id, owner, f"{where}tool_resources.file_search.vector_store_ids[{i}]")
        for i, helper in enumerate(search.get("vector_stores") or ()):
            self.check_files(helper.get("file_ids") or [], owner,
                             f"{where}tool_resources.file_search.vector_stores[{i}].file_ids")
        for i, attachment in enumerate(body.get("attachments") or ()):
            self.find_reference("file", attachment["file_id"], owner, f"{where}attachments[{i}].file_id")
        for key in ("messages", "additional_messages"):
            for i, message in enumerate(body.get(key) or ()):
                self.check_references(message, owner, f"{where}{key}[{i}].")
        if body.get("thread"):
            self.check_references(body["thread"], owner, f"{where}thread.")

    def make_tool_resources(self, resources: dict | None, owner: str | None, for_thread: bool) -> dict | None:
        """Create the store a `file_search.vector_stores` helper asks for (ids already checked); a thread's
        expires 7 days after its last activity. The stored tool_resources name it by id."""
        helpers = ((resources or {}).get("file_search") or {}).get("vector_stores")
        if not helpers:
            return resources
        made = []
        expiry = {"anchor": "last_active_at", "days": THREAD_STORE_DAYS} if for_thread else None
        for helper in helpers:
            vs = self.new_store(owner, meta=helper.get("metadata"), expires_after=expiry)
            for file_id in helper.get("file_ids") or ():
                self.attach(vs, file_id, owner, helper.get("chunking_strategy"))
            self.refresh(vs)
            made.append(vs.id)
        return {**resources, "file_search": {"vector_store_ids": made}}

    def apply_attachments(self, thread: Record, message: dict, owner: str | None) -> None:
        """A message's attachments join the thread's tools: file_search files its vector store (made on demand),
        code_interpreter files its code_interpreter.file_ids."""
        search_files, code_files = [], []
        for attachment in message.get("attachments") or ():
            kinds = {tool["type"] for tool in attachment["tools"]}
            if "file_search" in kinds:
                search_files.append(attachment["file_id"])
            if "code_interpreter" in kinds:
                code_files.append(attachment["file_id"])
        if search_files and "attachments-no-thread-store" not in self.faults:
            thread_store_for_attachments(self.api, thread, search_files, owner)
        if code_files:
            code = thread.obj.setdefault("tool_resources", {}).setdefault("code_interpreter", {})
            code["file_ids"] = list(dict.fromkeys([*(code.get("file_ids") or ()), *code_files]))
            self.store.touch(thread)

    # ---- store handlers ---------------------------------------------------------------------------------------
    def find_store(self, vs_id: str, owner: str | None) -> Record:
        return self.api.find("vector_store", vs_id, owner)

    async def create(self, request: Request, owner: str | None) -> Response:
        body = await self.api.body(request, self.api.bodies.create_vector_store)
        file_ids = body.get("file_ids") or []
        self.check_files(file_ids, owner, "file_ids")
        vs = self.new_store(owner, body.get("name"), body.get("metadata"), body.get("expires_after"),
                            body.get("description"))
        for file_id in file_ids:
            self.attach(vs, file_id, owner, body.get("chunking_strategy"))
        vs_obj = self.refresh(vs)
        self.store.commit()
        return self.answer(vs_obj)

    async def list(self, request: Request, owner: str | None) -> Response:
        ids = owned(self.api, self.store.children("vector_store", None), owner)
        return respond(page(ids, lambda i: self.refresh(self.store.records[i]), request.query_params, self.faults))

    async def retrieve(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        return self.answer(self.refresh(self.find_store(vector_store_id, owner)))

    async def modify(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        body = await self.api.body(request, self.api.bodies.modify_vector_store)
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
            _set_expiry(vs)
        vs_obj = self.refresh(vs)
        self.store.commit()
        return self.answer(vs_obj)

    async def delete(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        for rec_id in list(self.store.children("vector_store.file", vs.id)):
            self.detach(self.store.records[rec_id])
        for rec_id in list(self.store.children("vector_store.file_batch", vs.id)):
            self.store.delete(self.store.records[rec_id])
        self.store.delete(vs)
        self.store.commit()
        return self.api.deleted(vector_store_id, "vector_store")

    # ---- vector store files -------------------------------------------------------------------------------
    def writable_store(self, vs_id: str, owner: str | None) -> Record:
        vs = self.find_store(vs_id, owner)
        if vector_store_expired(self.store, vs.id):
            raise bad_request(f"Vector store {vs_id} has expired; files cannot be added to it.", None, "expired")
        return vs

    def find_file(self, vs_id: str, file_id: str, owner: str | None) -> Record:
        rec = self.store.get(f"{vs_id}:{file_id}", "vector_store.file")
        if rec is None or (rec.owner != owner and "cross-key-visible" not in self.faults):
            error = not_found("vector store file", file_id)
            if "not-found-as-400" in self.faults:
                error.status = 400
            raise error
        return rec

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
            self.ensure_indexing(self.store.records[r])
        chosen = self.filtered(request, record_ids)
        result = page([self.store.records[r].obj["id"] for r in chosen],
                      lambda file_id: self.store.records[by_file[file_id]].obj, request.query_params, self.faults)
        return respond(result)

    async def create_file(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.writable_store(vector_store_id, owner)
        body = await self.api.body(request, self.api.bodies.create_vector_store_file)
        self.find_reference("file", body["file_id"], owner, "file_id")
        rec = self.attach(vs, body["file_id"], owner, body.get("chunking_strategy"), body.get("attributes"))
        self.refresh(vs)
        self.store.commit()
        return self.answer(rec.obj)

    async def list_files(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        return self.file_page(request, list(self.store.children("vector_store.file", vs.id)))

    async def retrieve_file(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        self.find_store(vector_store_id, owner)
        rec = self.find_file(vector_store_id, file_id, owner)
        self.ensure_indexing(rec)
        return self.answer(rec.obj)

    async def update_file(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        self.find_store(vector_store_id, owner)
        rec = self.find_file(vector_store_id, file_id, owner)
        body = await self.api.body(request, self.api.bodies.update_vector_store_file)
        rec.obj["attributes"] = body["attributes"] or {}
        self.store.touch(rec)
        self.store.commit()
        return self.answer(rec.obj)

    async def delete_file(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        vs = self.find_store(vector_store_id, owner)
        self.detach(self.find_file(vector_store_id, file_id, owner))
        self.refresh(vs)
        self.store.commit()
        return self.api.deleted(file_id, "vector_store.file")

    async def file_content(self, request: Request, owner: str | None, vector_store_id: str, file_id: str) -> Response:
        self.find_store(vector_store_id, owner)
        rec = self.find_file(vector_store_id, file_id, owner)
        text = _file_text(self.store, file_id) if rec.obj["status"] == "completed" else None
        data = [{"type": "text", "text": text[s:e]} for s, e in rec.extra.get("chunks", ())] if text else []
        return respond({"object": "vector_store.file_content.page", "data": data, "has_more": False, "next_page": None})

    # ---- file batches -------------------------------------------------------------------------------------
    def find_batch(self, vs_id: str, batch_id: str, owner: str | None) -> Record:
        self.find_store(vs_id, owner)
        return self.api.find("vector_store.file_batch", batch_id, owner, parent=vs_id)

    async def create_batch(self, request: Request, owner: str | None, vector_store_id: str) -> Response:
        vs = self.writable_store(vector_store_id, owner)
        body = await self.api.body(request, self.api.bodies.create_file_batch)
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
            self.find_reference("file", file_id, owner, f"{param}[{i}]" if param == "file_ids" else f"files[{i}].file_id")
        batch_id = self.api.engine.ids.new("file_batch")
        file_ids = list(dict.fromkeys(file_id for file_id, _, _ in wanted))
        batch = self.store.new("vector_store.file_batch", batch_id, owner, vs.id, {
            "id": batch_id, "object": "vector_store.files_batch", "created_at": self.api.engine.clock.now(),
            "vector_store_id": vs.id, "status": "in_progress", "file_counts": counts_of([])}, {"files": file_ids})
        for file_id, file_strategy, file_attrs in wanted:
            self.attach(vs, file_id, owner, file_strategy, file_attrs, batch_id)
        self.refresh(vs)
        answer = self.refresh_batch(batch)
        self.store.commit()
        return self.answer(answer)

    async def retrieve_batch(self, request: Request, owner: str | None, vector_store_id: str, batch_id: str) -> Response:
        return self.answer(self.refresh_batch(self.find_batch(vector_store_id, batch_id, owner)))

    async def cancel_batch(self, request: Request, owner: str | None, vector_store_id: str, batch_id: str) -> Response:
        batch = self.find_batch(vector_store_id, batch_id, owner)
        self.refresh_batch(batch)
        if batch.obj["status"] != "in_progress":
            raise bad_request(f"Cannot cancel a file batch with status '{batch.obj['status']}'.")
        if "batch-cancel-ignored" not in self.faults:
            for file_id in batch.extra["files"]:
                rec = self.store.get(f"{vector_store_id}:{file_id}", "vector_store.file")
                if rec is not None and rec.obj["status"] == "in_progress":
                    task = self.tasks.pop(rec.id, None)
                    if task is not None:
                        task.cancel()
                    rec.obj["status"] = "cancelled"
                    self.store.touch(rec)
            batch.obj["status"] = "cancelled"
            self.refresh(self.store.records[vector_store_id])
        answer = self.refresh_batch(batch)
        self.store.commit()
        return self.answer(answer)

    async def list_batch_files(self, request: Request, owner: str | None, vector_store_id: str, batch_id: str) -> Response:
        batch = self.find_batch(vector_store_id, batch_id, owner)
        records = [r for f in batch.extra["files"]
                   if (r := f"{vector_store_id}:{f}") in self.store.records]
        order = {r: self.store.records[r].seq for r in records}
        return self.file_page(request, sorted(records, key=order.__getitem__))

    # ---- routing ------------------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        from .vector_search import VectorStoreSearch   # imported here: it imports this module
        e = self.api.endpoint
        v = "/v1/vector_stores/{vector_store_id}"
        f = v + "/files/{file_id}"
        b = v + "/file_batches/{batch_id}"
        return [
            Route("/v1/vector_stores", e(self.create), methods=["POST"]),
            Route("/v1/vector_stores", e(self.list), methods=["GET"]),
            Route(v, e(self.retrieve), methods=["GET"]),
            Route(v, e(self.modify), methods=["POST"]),
            Route(v, e(self.delete), methods=["DELETE"]),
            Route(v + "/search", e(VectorStoreSearch(self).search), methods=["POST"]),
            Route(v + "/files", e(self.create_file), methods=["POST"]),
            Route(v + "/files", e(self.list_files), methods=["GET"]),
            Route(f, e(self.retrieve_file), methods=["GET"]),
            Route(f, e(self.update_file), methods=["POST"]),
            Route(f, e(self.delete_file), methods=["DELETE"]),
            Route(f + "/content", e(self.file_content), methods=["GET"]),
            Route(v + "/file_batches", e(self.create_batch), methods=["POST"]),
            Route(b, e(self.retrieve_batch), methods=["GET"]),
            Route(b + "/cancel", e(self.cancel_batch), methods=["POST"]),
            Route(b + "/files", e(self.list_batch_files), methods=["GET"]),
        ]

