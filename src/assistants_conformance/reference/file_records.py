"""File records and their bytes, shared by the Files API and code_interpreter's outputs.

A file is a Record of kind "file" (obj = the wire object); its bytes live in SQLite (`Store.put_blob`), never in
memory between requests.
"""

from __future__ import annotations

from .ids import Clock, IdFactory
from .store import Record, Store


def file_object(file_id: str, now: int | float, filename: str, purpose: str, size: int) -> dict:
    return {"id": file_id, "object": "file", "bytes": size, "created_at": now, "expires_at": None,
            "filename": filename, "purpose": purpose, "status": "processed", "status_details": None}


def create_file(store: Store, ids: IdFactory, clock: Clock, owner: str | None, filename: str, purpose: str,
                data: bytes) -> Record:
    """Store ``data`` as a new file (also used by code_interpreter for its outputs, purpose assistants_output).
    The record is committed, so the answer that names it can be sent at once."""
    file_id = ids.new("file")
    store.put_blob(file_id, data)
    rec = store.new("file", file_id, owner, None, file_object(file_id, clock.now(), filename, purpose, len(data)))
    store.commit()
    return rec


def drop_from_code_interpreter(store: Store, file_id: str, owner: str | None) -> None:
    """The docs: deleting a file removes it from every code_interpreter configuration of assistants and threads."""
    for kind in ("assistant", "thread"):
        for object_id in store.children(kind, None):
            rec = store.records[object_id]
            code = ((rec.obj.get("tool_resources") or {}).get("code_interpreter") or {})
            if rec.owner == owner and file_id in (code.get("file_ids") or ()):
                code["file_ids"] = [f for f in code["file_ids"] if f != file_id]
                store.touch(rec)
