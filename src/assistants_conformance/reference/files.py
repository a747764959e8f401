"""The Files API: multipart upload, list, retrieve, content download, delete.

A file is a Record of kind "file" (obj = the wire object); its bytes live in SQLite (`Store.put_blob`), never in
memory between requests. Deleting a file also detaches it from every vector store and code_interpreter list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import APIError, bad_request
from .faults import says_deleted
from .pagination import page
from .store import Record

if TYPE_CHECKING:
    from .app import API

UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
MULTIPART_SLACK = 64 * 1024      # room for boundaries, part headers and the purpose field around the file
FILES_LIST_MAX = 10_000          # /files pages: 1..10,000, default 10,000 (the other lists: 1..100, default 20)


def _ids_and_clock(ctx: Any) -> tuple[Any, Any]:
    """Both the API (ctx.engine.ids) and the Engine (ctx.ids) can register files."""
    engine = getattr(ctx, "engine", ctx)
    return engine.ids, engine.clock


def file_object(file_id: str, now: int | float, filename: str, purpose: str, size: int) -> dict:
    return {"id": file_id, "object": "file", "bytes": size, "created_at": now, "expires_at": None,
            "filename": filename, "purpose": purpose, "status": "processed", "status_details": None}


def create_file(ctx: Any, owner: str | None, filename: str, purpose: str, data: bytes) -> Record:
    """Store ``data`` as a new file (also used by code_interpreter for its outputs, purpose assistants_output).
    The record is committed, so the answer that names it can be sent at once."""
    ids, clock = _ids_and_clock(ctx)
    file_id = ids.new("file")
    ctx.store.put_blob(file_id, data)
    rec = ctx.store.new("file", file_id, owner, None, file_object(file_id, clock.now(), filename, purpose, len(data)))
    ctx.store.commit()
    return rec


def respond(body: Any, headers: dict | None = None) -> Response:
    from .app import _json   # one JSON encoder for every answer (app imports this module)
    return _json(body, headers=headers)


def owned(api: "API", ids: list[str], owner: str | None) -> list[str]:
    """The ids of ``owner``'s objects (every id when the server has no keys, as the other lists do)."""
    if "cross-key-visible" in api.faults or not api.owners:
        return ids
    return [i for i in ids if api.store.records[i].owner == owner]


class TooLarge(Exception):
    pass


class FilesAPI:
    def __init__(self, api: "API") -> None:
        self.api = api
        self.store = api.store
        settings = api.engine.settings
        self.max_bytes: int = getattr(settings, "max_file_bytes", DEFAULT_MAX_FILE_BYTES)
        self.unlimited = "file-size-unlimited" in api.faults

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
        rec = create_file(self.api, owner, upload.filename or "upload", purpose, data)
        return self.api_json(rec.obj)

    # ---- reads --------------------------------------------------------------------------------------
    async def list(self, request: Request, owner: str | None) -> Response:
        ids = owned(self.api, self.store.children("file", None), owner)
        purpose = request.query_params.get("purpose")
        if purpose is not None and "files-list-ignores-purpose" not in self.api.faults:
            ids = [i for i in ids if self.store.records[i].obj["purpose"] == purpose]
        return self.api_json(page(ids, self.api.render, request.query_params, self.api.faults,
                                  max_limit=FILES_LIST_MAX, default_limit=FILES_LIST_MAX))

    async def retrieve(self, request: Request, owner: str | None, file_id: str) -> Response:
        return self.api_json(self.api.find("file", file_id, owner).obj)

    async def content(self, request: Request, owner: str | None, file_id: str) -> Response:
        self.api.find("file", file_id, owner)
        data = self.store.get_blob(file_id) or b""
        if data and "files-content-mismatch" in self.api.faults:
            data = data[:-1] + bytes([data[-1] ^ 0x01])
        return Response(data, media_type="application/octet-stream")

    # ---- delete -------------------------------------------------------------------------------------
    async def delete(self, request: Request, owner: str | None, file_id: str) -> Response:
        rec = self.api.find("file", file_id, owner)
        from .vector_stores import detach_file_everywhere   # vector_stores imports this module
        detach_file_everywhere(self.api, file_id, owner)
        self._drop_from_code_interpreter(file_id, owner)
        self.store.delete(rec)
        self.store.delete_blob(file_id)
        self.store.commit()
        answer = {"id": file_id, "object": "file", "deleted": says_deleted(self.api.faults)}
        return self.api_json(answer)

    def _drop_from_code_interpreter(self, file_id: str, owner: str | None) -> None:
        """The docs: deleting a file removes it from every code_interpreter configuration of assistants and threads."""
        for kind in ("assistant", "thread"):
            for object_id in self.store.children(kind, None):
                rec = self.store.records[object_id]
                code = ((rec.obj.get("tool_resources") or {}).get("code_interpreter") or {})
                if rec.owner == owner and file_id in (code.get("file_ids") or ()):
                    code["file_ids"] = [f for f in code["file_ids"] if f != file_id]
                    self.store.touch(rec)

    def api_json(self, body: Any) -> Response:
        return respond(body)

    def routes(self) -> list[Route]:
        e = self.api.endpoint
        f = "/v1/files/{file_id}"
        return [
            Route("/v1/files", e(self.create), methods=["POST"]),
            Route("/v1/files", e(self.list), methods=["GET"]),
            Route(f, e(self.retrieve), methods=["GET"]),
            Route(f, e(self.delete), methods=["DELETE"]),
            Route(f + "/content", e(self.content), methods=["GET"]),
        ]


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
