"""/v1/files: multipart upload (size limit), list, retrieve, content download, delete.

Records and bytes are kept by file_records.py. Deleting a file also detaches it from every vector store and
code_interpreter list.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import APIError, bad_request
from .faults import says_deleted
from .file_records import create_file, drop_from_code_interpreter
from .plumbing import Context, respond
from .vector_index import VectorIndex

UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
MULTIPART_SLACK = 64 * 1024      # room for boundaries, part headers and the purpose field around the file
FILES_LIST_MAX = 10_000          # /files pages: 1..10,000, default 10,000 (the other lists: 1..100, default 20)


class TooLarge(Exception):
    pass


class Files:
    def __init__(self, ctx: Context, index: VectorIndex, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.faults = ctx.faults
        self.index = index
        self.max_bytes = max_bytes
        self.unlimited = "file-size-unlimited" in ctx.faults

    def routes(self) -> list[Route]:
        r, f = self.ctx.route, "/v1/files/{file_id}"
        return [r("POST", "/v1/files", self.create), r("GET", "/v1/files", self.list), r("GET", f, self.retrieve),
                r("DELETE", f, self.delete), r("GET", f + "/content", self.content)]

    def too_large(self, size: int | None = None) -> APIError:
        got = f" (got {size} bytes)" if size is not None else ""
        return bad_request(f"File is too large: the maximum size is {self.max_bytes} bytes{got}.", "file",
                           "file_too_large")

    # ---- upload -------------------------------------------------------------------------------------
    async def create(self, request: Request, owner: str | None) -> Response:
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            raise bad_request("Uploads must be sent as multipart/form-data with fields 'file' and 'purpose'.",
                              None, "invalid_request")
        limit = None if self.unlimited else self.max_bytes + MULTIPART_SLACK
        declared = request.headers.get("content-length")
        if limit is not None and declared and declared.isdigit() and int(declared) > limit:
            raise self.too_large()   # refused before reading the body
        try:
            form = await _limited(request, limit).form(max_files=1, max_fields=4)
        except TooLarge:
            raise self.too_large() from None
        except APIError:
            raise
        except Exception as exc:   # malformed multipart bodies (starlette raises its own HTTP/multipart errors)
            raise bad_request(f"Could not parse the multipart body: {exc}.", None, "invalid_request") from None
        try:
            return await self._store_upload(form, owner)
        finally:
            await form.close()

    async def _store_upload(self, form: Any, owner: str | None) -> Response:
        for name in form.keys():
            if name not in ("file", "purpose"):
                raise bad_request(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
        upload, purpose = form.get("file"), form.get("purpose")
        if upload is None or isinstance(upload, str):
            raise bad_request("Missing required parameter: 'file' (a file part).", "file", "missing_required_parameter")
        if purpose is None:
            raise bad_request("Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter")
        if purpose not in UPLOAD_PURPOSES:
            raise bad_request(f"Invalid value for 'purpose': expected one of {', '.join(UPLOAD_PURPOSES)}.",
                              "purpose", "invalid_value")
        data = await upload.read()
        if not self.unlimited and len(data) > self.max_bytes:
            raise self.too_large(len(data))
        ctx = self.ctx
        rec = create_file(self.store, ctx.ids, ctx.clock, owner, upload.filename or "upload", purpose, data)
        return respond(rec.obj)

    # ---- reads --------------------------------------------------------------------------------------
    async def list(self, request: Request, owner: str | None) -> Response:
        ids = self.ctx.owned(self.store.children("file", None), owner)
        purpose = request.query_params.get("purpose")
        if purpose is not None and "files-list-ignores-purpose" not in self.faults:
            ids = [i for i in ids if self.store.records[i].obj["purpose"] == purpose]
        return self.ctx.listing(request, ids, max_limit=FILES_LIST_MAX, default_limit=FILES_LIST_MAX)

    async def retrieve(self, request: Request, owner: str | None, file_id: str) -> Response:
        return respond(self.ctx.find("file", file_id, owner).obj)

    async def content(self, request: Request, owner: str | None, file_id: str) -> Response:
        self.ctx.find("file", file_id, owner)
        data = self.store.get_blob(file_id) or b""
        if data and "files-content-mismatch" in self.faults:
            data = data[:-1] + bytes([data[-1] ^ 0x01])
        return Response(data, media_type="application/octet-stream")

    # ---- delete -------------------------------------------------------------------------------------
    async def delete(self, request: Request, owner: str | None, file_id: str) -> Response:
        rec = self.ctx.find("file", file_id, owner)
        self.index.detach_everywhere(file_id, owner)
        drop_from_code_interpreter(self.store, file_id, owner)
        self.store.delete(rec)
        self.store.delete_blob(file_id)
        self.store.commit()
        return respond({"id": file_id, "object": "file", "deleted": says_deleted(self.faults)})


def _limited(request: Request, limit: int | None) -> Request:
    """The same request whose body stream raises TooLarge once more than ``limit`` bytes arrived, so an
    oversized upload without (or with a lying) Content-Length is refused while it streams in."""
    if limit is None:
        return request
    received = 0
    receive = request.receive

    async def counting_receive() -> dict:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge()
        return message
    return Request(request.scope, counting_receive)
