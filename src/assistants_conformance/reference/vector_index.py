"""Vector store records: their files and batches, asynchronous indexing, derived fields, expiry, chunks.

Records: "vector_store" (parent None), "vector_store.file" (parent = store id, record id f"{vs_id}:{file_id}",
obj.id = the file id), "vector_store.file_batch" (parent = store id). A store's file_counts, usage_bytes and
status are derived from its file records whenever it is read or changed. Indexing a file waits
``--index-delay-ms`` (so that polling sees in_progress), then decodes and chunks it: completed, or failed with
``last_error`` (unsupported_file: not UTF-8/UTF-16 text; invalid_file: no words in it).

Expiry: ``expires_after {anchor: last_active_at, days}`` puts ``expires_at`` ``days`` days after
``last_active_at``; a day lasts ``--vector-store-day-seconds`` (86,400 unless a test shortens it). Past it the
store's status is ``expired`` for good, and runs that would search it fail.

The HTTP side is vector_stores.py (and vector_search.py); the engine and the hosted tools use the functions here.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time

from .chunking import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP, Chunk, chunk_text, decode_text
from .ids import Clock, IdFactory
from .store import Record, Store

FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")
THREAD_STORE_DAYS = 7            # stores made by thread helpers expire 7 days after their last activity
DEFAULT_INDEX_DELAY = 0.05       # seconds per file
DEFAULT_DAY_SECONDS = 86_400.0


# ---- functions other parts use (engine, tools, search) ------------------------------------------------------

def store_chunks(store: Store, vector_store_id: str) -> list[Chunk]:
    """The chunks of every completed file of a store, in attachment order."""
    chunks: list[Chunk] = []
    for rec_id in list(store.children("vector_store.file", vector_store_id)):
        rec = store.records[rec_id]
        if rec.obj["status"] != "completed":
            continue
        text = file_text(store, rec.obj["id"])
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
    set_expiry(rec)
    store.touch(rec)


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


# ---- helpers ----------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _decoded(store: Store, file_id: str) -> str | None:
    data = store.get_blob(file_id)
    return None if data is None else decode_text(data)


def file_text(store: Store, file_id: str) -> str | None:
    """Files never change once uploaded, so their decoded text can be cached by id."""
    return _decoded(store, file_id)


def set_expiry(rec: Record) -> None:
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


class VectorIndex:
    """The vector stores' records and indexing tasks (shared by the vector store, file and tool_resources APIs)."""

    def __init__(self, store: Store, ids: IdFactory, clock: Clock, faults: frozenset[str],
                 index_delay: float = DEFAULT_INDEX_DELAY, day_seconds: float = DEFAULT_DAY_SECONDS) -> None:
        self.store = store
        self.ids = ids
        self.clock = clock
        self.faults = faults
        self.index_delay = index_delay
        self.day_seconds = day_seconds
        self.tasks: dict[str, asyncio.Task] = {}       # vector store file record id -> indexing task

    # ---- derived fields ---------------------------------------------------------------------------------------
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

    # ---- creation, attachment, indexing ------------------------------------------------------------------------
    def new_store(self, owner: str | None, name: str | None = None, meta: dict | None = None,
                  expires_after: dict | None = None, description: str | None = None) -> Record:
        vs_id = self.ids.new("vector_store")
        now = self.clock.now()
        obj_ = {"id": vs_id, "object": "vector_store", "created_at": now, "name": name, "usage_bytes": 0,
                "file_counts": counts_of([]), "status": "completed", "last_active_at": now,
                "metadata": meta or {}, "expires_at": None}
        if expires_after is not None:
            obj_["expires_after"] = expires_after
        skew = 3600 if "vector-store-expires-at-wrong" in self.faults else 0
        rec = self.store.new("vector_store", vs_id, owner, None, obj_,
                             {"day_seconds": self.day_seconds, "description": description, "expires_at_skew": skew})
        set_expiry(rec)
        return rec

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
                "created_at": self.clock.now(), "vector_store_id": vs.id, "status": "in_progress",
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

    def cancel_files(self, vs_id: str, file_ids: list[str]) -> None:
        """A cancelled batch: its files still indexing stop and become cancelled."""
        for file_id in file_ids:
            rec = self.store.get(f"{vs_id}:{file_id}", "vector_store.file")
            if rec is not None and rec.obj["status"] == "in_progress":
                task = self.tasks.pop(rec.id, None)
                if task is not None:
                    task.cancel()
                rec.obj["status"] = "cancelled"
                self.store.touch(rec)

    def detach_everywhere(self, file_id: str, owner: str | None) -> None:
        """A deleted file leaves every vector store it was in."""
        if "deleted-file-stays-in-store" in self.faults:
            return
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
