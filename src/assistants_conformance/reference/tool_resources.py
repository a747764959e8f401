"""tool_resources (assistants, threads, create-thread-and-run) and message attachments: the files and vector
stores a body names are checked before anything is made, helpers create their stores, attachments join the
thread's tools.
"""

from __future__ import annotations

from .errors import APIError, bad_request
from .plumbing import Context
from .store import Record
from .vector_index import THREAD_STORE_DAYS, VectorIndex


class ToolResources:
    def __init__(self, ctx: Context, index: VectorIndex) -> None:
        self.ctx = ctx
        self.index = index
        self.store = ctx.store
        self.faults = ctx.faults

    # ---- ids named in bodies ------------------------------------------------------------------------------
    def find_reference(self, kind: str, object_id: str, owner: str | None, param: str) -> Record:
        """An id named in a request body (not in the path): unknown or another key's -> 400 naming the field.
        404 is kept for the resource the URL names; a 404 here would read as "the thread just made is gone"."""
        try:
            return self.ctx.find(kind, object_id, owner, param=param)
        except APIError as exc:
            if exc.status != 404:
                raise
            raise bad_request(str(exc), param=param) from None

    def check_files(self, file_ids: list[str], owner: str | None, param: str) -> None:
        """Every named file must exist and belong to the caller (400 naming the field otherwise)."""
        for i, file_id in enumerate(file_ids):
            self.find_reference("file", file_id, owner, f"{param}[{i}]")

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

    # ---- what they make -----------------------------------------------------------------------------------
    def make_tool_resources(self, resources: dict | None, owner: str | None, for_thread: bool) -> dict | None:
        """Create the store a `file_search.vector_stores` helper asks for (ids already checked); a thread's
        expires 7 days after its last activity. The stored tool_resources name it by id."""
        helpers = ((resources or {}).get("file_search") or {}).get("vector_stores")
        if not helpers:
            return resources
        made = []
        expiry = {"anchor": "last_active_at", "days": THREAD_STORE_DAYS} if for_thread else None
        for helper in helpers:
            vs = self.index.new_store(owner, meta=helper.get("metadata"), expires_after=expiry)
            for file_id in helper.get("file_ids") or ():
                self.index.attach(vs, file_id, owner, helper.get("chunking_strategy"))
            self.index.refresh(vs)
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
            self.index.attach_to_thread(thread, search_files, owner)
        if code_files:
            code = thread.obj.setdefault("tool_resources", {}).setdefault("code_interpreter", {})
            code["file_ids"] = list(dict.fromkeys([*(code.get("file_ids") or ()), *code_files]))
            self.store.touch(thread)
