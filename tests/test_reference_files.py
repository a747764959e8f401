"""Reference server: Files API, vector stores (files, batches, indexing, expiry), tool_resources and attachments.

Real HTTP on 127.0.0.1. Every JSON answer is checked against our contract (specs/assistants-v2.openapi.yaml).
Servers run with small knobs: uploads up to 8 KiB, 30 ms indexing per file (2 s on the "slow" server, so a batch
can be caught in progress), vector store "days" of 1 second.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

from assistants_conformance.spec import load_contract
from reference_server import poll_run, running_server

TIMEOUT = httpx.Timeout(10.0)
MAX_BYTES = 8192
KEYS = ("--api-key", "key-a", "--api-key", "key-b")
TEXT = b"Llamas are members of the camelid family. They hum when they are content.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("files"), "--index-delay-ms", "30", "--max-file-bytes", str(MAX_BYTES),
                        "--vector-store-day-seconds", "1", "--token-delay-ms", "0", *KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("slow"), "--index-delay-ms", "2000", *KEYS) as running:
        yield running


def client_for(server, key: str = "key-a") -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def http(server):
    with client_for(server) as client:
        yield client


@pytest.fixture
def slow(slow_server):
    with client_for(slow_server) as client:
        yield client


def ok(response: httpx.Response, method: str, path: str) -> dict:
    """200 and a body the contract accepts (path is the contract's template)."""
    assert response.status_code == 200, response.text
    body = response.json()
    issues = load_contract().validate((method, path), 200, body)
    assert issues == [], issues
    return body


def error(response: httpx.Response, status: int, param: str | None = "?") -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    if param != "?":
        assert body["error"]["param"] == param, body
    return body["error"]


def upload(http, data: bytes = TEXT, name: str = "notes.txt", purpose: str = "assistants") -> dict:
    return ok(http.post("/files", files={"file": (name, data, "text/plain")}, data={"purpose": purpose}), "POST", "/files")


def words(n: int) -> bytes:
    return " ".join(f"w{i}" for i in range(n)).encode()


def wait_store(http, vs_id: str, bound: float = 5.0) -> dict:
    deadline = time.monotonic() + bound
    while True:
        vs = ok(http.get(f"/vector_stores/{vs_id}"), "GET", "/vector_stores/{vector_store_id}")
        if vs["status"] != "in_progress" or time.monotonic() > deadline:
            return vs
        time.sleep(0.02)


def make_store(http, file_ids: list[str], **extra) -> dict:
    return ok(http.post("/vector_stores", json={"file_ids": file_ids, **extra}), "POST", "/vector_stores")


# ---- files --------------------------------------------------------------------------------------------------

def test_file_upload_retrieve_content_delete(http):
    made = upload(http, TEXT, "llamas.txt")
    assert made["object"] == "file" and made["id"].startswith("file-") and made["bytes"] == len(TEXT)
    assert made["filename"] == "llamas.txt" and made["purpose"] == "assistants" and isinstance(made["created_at"], int)
    assert ok(http.get(f"/files/{made['id']}"), "GET", "/files/{file_id}") == made
    content = http.get(f"/files/{made['id']}/content")
    assert content.status_code == 200 and content.content == TEXT
    assert content.headers["content-type"] == "application/octet-stream"
    gone = ok(http.delete(f"/files/{made['id']}"), "DELETE", "/files/{file_id}")
    assert gone == {"id": made["id"], "object": "file", "deleted": True}
    error(http.get(f"/files/{made['id']}"), 404)
    error(http.get(f"/files/{made['id']}/content"), 404)
    error(http.delete(f"/files/{made['id']}"), 404)


def test_binary_content_round_trips_exactly(http):
    data = bytes(range(256)) * 4
    made = upload(http, data, "blob.bin")
    assert http.get(f"/files/{made['id']}/content").content == data


def test_file_list_purpose_order_limit_after(server):
    with client_for(server, "key-b") as http:   # its own key: a list of only these files
        a = upload(http, b"a", purpose="assistants")
        b = upload(http, b"b", purpose="user_data")
        c = upload(http, b"c", purpose="assistants")
        page = ok(http.get("/files"), "GET", "/files")
        assert [f["id"] for f in page["data"]] == [c["id"], b["id"], a["id"]] and page["has_more"] is False
        only = ok(http.get("/files", params={"purpose": "assistants"}), "GET", "/files")
        assert [f["id"] for f in only["data"]] == [c["id"], a["id"]]
        first = ok(http.get("/files", params={"limit": 1, "order": "asc"}), "GET", "/files")
        assert [f["id"] for f in first["data"]] == [a["id"]] and first["has_more"] is True
        rest = ok(http.get("/files", params={"limit": 10_000, "order": "asc", "after": a["id"]}), "GET", "/files")
        assert [f["id"] for f in rest["data"]] == [b["id"], c["id"]]
        error(http.get("/files", params={"limit": 10_001}), 400, "limit")
        error(http.get("/files", params={"after": "file-unknown"}), 400, "after")


def test_upload_size_limit_at_and_past_the_boundary(http):
    assert upload(http, b"x" * MAX_BYTES)["bytes"] == MAX_BYTES
    error(http.post("/files", files={"file": ("big", b"x" * (MAX_BYTES + 1))}, data={"purpose": "assistants"}), 400, "file")
    # Far past the limit: refused from Content-Length, before the body is read.
    error(http.post("/files", files={"file": ("huge", b"x" * 2_000_000)}, data={"purpose": "assistants"}), 400, "file")


def test_upload_size_limit_without_content_length(http):
    """A chunked body declares no size: the server counts while it reads and stops past the limit."""
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(200):
            yield b"y" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()
    answer = http.post("/files", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    error(answer, 400, "file")


def test_upload_rejects_bad_forms(http):
    error(http.post("/files", files={"file": ("f", b"x")}, data={"purpose": "fine-tuning"}), 400, "purpose")
    error(http.post("/files", files={"file": ("f", b"x")}), 400, "purpose")
    error(http.post("/files", data={"purpose": "assistants"}, files={"other": ("f", b"x")}), 400)
    error(http.post("/files", files={"file": ("f", b"x")}, data={"purpose": "assistants", "extra": "1"}), 400, "extra")
    error(http.post("/files", json={"purpose": "assistants"}), 400)


# ---- vector stores: indexing --------------------------------------------------------------------------------

def test_indexing_moves_from_in_progress_to_completed_and_failed(http):
    good = upload(http, TEXT)
    binary = upload(http, b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "image.png")
    empty = upload(http, b"  \n", "empty.txt")
    vs = make_store(http, [good["id"], binary["id"], empty["id"]], name="docs", metadata={"k": "v"})
    assert vs["status"] == "in_progress" and vs["object"] == "vector_store" and vs["id"].startswith("vs_")
    assert vs["file_counts"] == {"in_progress": 3, "completed": 0, "failed": 0, "cancelled": 0, "total": 3}
    assert vs["usage_bytes"] == 0 and vs["name"] == "docs" and vs["metadata"] == {"k": "v"}
    done = wait_store(http, vs["id"])
    assert done["status"] == "completed" and done["usage_bytes"] == len(TEXT)
    assert done["file_counts"] == {"in_progress": 0, "completed": 1, "failed": 2, "cancelled": 0, "total": 3}
    listed = ok(http.get(f"/vector_stores/{vs['id']}/files", params={"order": "asc"}),
                "GET", "/vector_stores/{vector_store_id}/files")
    by_id = {f["id"]: f for f in listed["data"]}
    assert [f["id"] for f in listed["data"]] == [good["id"], binary["id"], empty["id"]]
    assert by_id[good["id"]]["status"] == "completed" and by_id[good["id"]]["last_error"] is None
    assert by_id[binary["id"]]["last_error"]["code"] == "unsupported_file"
    assert by_id[empty["id"]]["last_error"]["code"] == "invalid_file"
    assert by_id[good["id"]]["chunking_strategy"] == {"type": "static", "static": {"max_chunk_size_tokens": 800,
                                                                                   "chunk_overlap_tokens": 400}}
    failed = ok(http.get(f"/vector_stores/{vs['id']}/files", params={"filter": "failed"}),
                "GET", "/vector_stores/{vector_store_id}/files")
    assert {f["id"] for f in failed["data"]} == {binary["id"], empty["id"]}
    error(http.get(f"/vector_stores/{vs['id']}/files", params={"filter": "done"}), 400, "filter")


def test_poll_header_while_in_progress(http):
    vs = http.post("/vector_stores", json={"file_ids": [upload(http)["id"]]})
    assert vs.headers.get("openai-poll-after-ms") == "25"
    assert "openai-poll-after-ms" not in http.get(f"/vector_stores/{wait_store(http, vs.json()['id'])['id']}").headers


def test_static_chunking_is_honoured_and_content_lists_chunks(http):
    text = words(1000)
    made = upload(http, text)
    vs = make_store(http, [made["id"]], chunking_strategy={"type": "static", "static": {
        "max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}})
    wait_store(http, vs["id"])
    vsf = ok(http.get(f"/vector_stores/{vs['id']}/files/{made['id']}"), "GET", "/vector_stores/{vector_store_id}/files/{file_id}")
    assert vsf["chunking_strategy"]["static"] == {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}
    content = ok(http.get(f"/vector_stores/{vs['id']}/files/{made['id']}/content"),
                 "GET", "/vector_stores/{vector_store_id}/files/{file_id}/content")
    chunks = [part["text"] for part in content["data"]]
    assert len(chunks) == 19 and all(len(c.split()) == 100 for c in chunks)   # windows of 100 words, step 50
    assert chunks[0].split()[50:] == chunks[1].split()[:50] and chunks[-1].endswith("w999")


@pytest.mark.parametrize("static, param", [
    ({"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}, "chunking_strategy.static.max_chunk_size_tokens"),
    ({"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0}, "chunking_strategy.static.max_chunk_size_tokens"),
    ({"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 401}, "chunking_strategy.static.chunk_overlap_tokens"),
    ({"max_chunk_size_tokens": 800}, "chunking_strategy.static.chunk_overlap_tokens"),
])
def test_static_chunking_limits(http, static, param):
    error(http.post("/vector_stores", json={"chunking_strategy": {"type": "static", "static": static}}), 400, param)


def test_static_chunking_boundaries_accepted(http):
    for static in ({"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50},
                   {"max_chunk_size_tokens": 4096, "chunk_overlap_tokens": 2048}):
        make_store(http, [], chunking_strategy={"type": "static", "static": static})


def test_vector_store_crud_and_validation(http):
    vs = make_store(http, [], name="a")
    assert vs["status"] == "completed" and vs["file_counts"]["total"] == 0 and vs["expires_at"] is None
    changed = ok(http.post(f"/vector_stores/{vs['id']}", json={"name": "b", "metadata": {"x": "1"}}),
                 "POST", "/vector_stores/{vector_store_id}")
    assert changed["name"] == "b" and changed["metadata"] == {"x": "1"}
    listed = ok(http.get("/vector_stores", params={"limit": 100}), "GET", "/vector_stores")
    assert vs["id"] in [v["id"] for v in listed["data"]]
    error(http.post("/vector_stores", json={"file_ids": ["file-nope"]}), 400, "file_ids[0]")
    error(http.post("/vector_stores", json={"metadata": {str(i): "v" for i in range(17)}}), 400, "metadata")
    error(http.post("/vector_stores", json={"expires_after": {"anchor": "created_at", "days": 1}}), 400)
    error(http.post("/vector_stores", json={"expires_after": {"anchor": "last_active_at", "days": 366}}), 400,
          "expires_after.days")
    error(http.post("/vector_stores", json={"file_ids": ["f"] * 501}), 400, "file_ids")
    error(http.post("/vector_stores", json={"colour": "red"}), 400, "colour")
    gone = ok(http.delete(f"/vector_stores/{vs['id']}"), "DELETE", "/vector_stores/{vector_store_id}")
    assert gone == {"id": vs["id"], "object": "vector_store.deleted", "deleted": True}
    error(http.get(f"/vector_stores/{vs['id']}"), 404)


def test_vector_store_file_attach_attributes_detach(http):
    vs = make_store(http, [])
    made = upload(http)
    vsf = ok(http.post(f"/vector_stores/{vs['id']}/files", json={"file_id": made["id"], "attributes": {"lang": "en"}}),
             "POST", "/vector_stores/{vector_store_id}/files")
    assert vsf["status"] == "in_progress" and vsf["vector_store_id"] == vs["id"] and vsf["attributes"] == {"lang": "en"}
    path = f"/vector_stores/{vs['id']}/files/{made['id']}"
    attrs = {"n": 3, "ok": True, "s": "x" * 512}
    assert ok(http.post(path, json={"attributes": attrs}), "POST", "/vector_stores/{vector_store_id}/files/{file_id}")[
        "attributes"] == attrs
    error(http.post(path, json={"attributes": {str(i): 1 for i in range(17)}}), 400, "attributes")
    error(http.post(path, json={"attributes": {"s": "x" * 513}}), 400, "attributes.s")
    error(http.post(path, json={"attributes": {"k" * 65: 1}}), 400, "attributes")
    error(http.post(path, json={"attributes": {"a": [1]}}), 400, "attributes.a")
    error(http.post(f"/vector_stores/{vs['id']}/files", json={"file_id": "file-nope"}), 400, "file_id")
    assert wait_store(http, vs["id"])["file_counts"]["completed"] == 1
    gone = ok(http.delete(path), "DELETE", "/vector_stores/{vector_store_id}/files/{file_id}")
    assert gone == {"id": made["id"], "object": "vector_store.file.deleted", "deleted": True}
    error(http.get(path), 404)
    after = ok(http.get(f"/vector_stores/{vs['id']}"), "GET", "/vector_stores/{vector_store_id}")
    assert after["file_counts"]["total"] == 0 and after["usage_bytes"] == 0
    assert http.get(f"/files/{made['id']}").status_code == 200   # detaching keeps the file


# ---- batches --------------------------------------------------------------------------------------------------

def test_batch_counts_and_listing(http):
    vs = make_store(http, [])
    ids = [upload(http, TEXT + bytes([65 + i]))["id"] for i in range(3)] + [upload(http, b"\xff\xfe\xfd")["id"]]
    batch = ok(http.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": ids}),
               "POST", "/vector_stores/{vector_store_id}/file_batches")
    assert batch["object"] == "vector_store.files_batch" and batch["id"].startswith("vsfb_")
    assert batch["status"] == "in_progress" and batch["file_counts"]["in_progress"] == 4
    path = f"/vector_stores/{vs['id']}/file_batches/{batch['id']}"
    deadline = time.monotonic() + 5
    while batch["status"] == "in_progress" and time.monotonic() < deadline:
        batch = ok(http.get(path), "GET", "/vector_stores/{vector_store_id}/file_batches/{batch_id}")
        time.sleep(0.02)
    assert batch["status"] == "completed"
    assert batch["file_counts"] == {"in_progress": 0, "completed": 3, "failed": 1, "cancelled": 0, "total": 4}
    files = ok(http.get(path + "/files", params={"order": "asc", "limit": 2}),
               "GET", "/vector_stores/{vector_store_id}/file_batches/{batch_id}/files")
    assert [f["id"] for f in files["data"]] == ids[:2] and files["has_more"] is True
    rest = ok(http.get(path + "/files", params={"order": "asc", "after": ids[1]}),
              "GET", "/vector_stores/{vector_store_id}/file_batches/{batch_id}/files")
    assert [f["id"] for f in rest["data"]] == ids[2:]
    error(http.post(path + "/cancel"), 400)   # already completed


def test_batch_with_files_and_validation(http):
    vs = make_store(http, [])
    made = upload(http)
    batch = ok(http.post(f"/vector_stores/{vs['id']}/file_batches", json={"files": [
        {"file_id": made["id"], "attributes": {"a": 1}}]}), "POST", "/vector_stores/{vector_store_id}/file_batches")
    assert batch["file_counts"]["total"] == 1
    error(http.post(f"/vector_stores/{vs['id']}/file_batches", json={}), 400)
    error(http.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": []}), 400, "file_ids")
    error(http.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": [made["id"], "file-x"]}), 400,
          "file_ids[1]")
    error(http.get(f"/vector_stores/{vs['id']}/file_batches/vsfb_nope"), 404)


def test_batch_cancel_cancels_its_pending_files(slow):
    vs = make_store(slow, [])
    ids = [upload(slow)["id"] for _ in range(3)]
    batch = ok(slow.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": ids}),
               "POST", "/vector_stores/{vector_store_id}/file_batches")
    cancelled = ok(slow.post(f"/vector_stores/{vs['id']}/file_batches/{batch['id']}/cancel"),
                   "POST", "/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel")
    assert cancelled["status"] == "cancelled"
    assert cancelled["file_counts"] == {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 3, "total": 3}
    store = ok(slow.get(f"/vector_stores/{vs['id']}"), "GET", "/vector_stores/{vector_store_id}")
    assert store["status"] == "completed" and store["file_counts"]["cancelled"] == 3
    files = slow.get(f"/vector_stores/{vs['id']}/files", params={"filter": "cancelled"}).json()["data"]
    assert {f["id"] for f in files} == set(ids)
    error(slow.post(f"/vector_stores/{vs['id']}/file_batches/{batch['id']}/cancel"), 400)


# ---- deletion cascade, isolation ------------------------------------------------------------------------------

def test_deleting_a_file_removes_it_from_every_store_and_code_interpreter(http):
    made, other = upload(http), upload(http)
    first, second = make_store(http, [made["id"], other["id"]]), make_store(http, [made["id"]])
    wait_store(http, first["id"]), wait_store(http, second["id"])
    asst = http.post("/assistants", json={"model": "m", "tools": [{"type": "code_interpreter"}], "tool_resources": {
        "code_interpreter": {"file_ids": [made["id"], other["id"]]}}}).json()
    ok(http.delete(f"/files/{made['id']}"), "DELETE", "/files/{file_id}")
    for vs, left in ((first, [other["id"]]), (second, [])):
        listed = http.get(f"/vector_stores/{vs['id']}/files").json()["data"]
        assert [f["id"] for f in listed] == left
        counts = http.get(f"/vector_stores/{vs['id']}").json()["file_counts"]
        assert counts["total"] == counts["completed"] == len(left)
    again = http.get(f"/assistants/{asst['id']}").json()
    assert again["tool_resources"]["code_interpreter"]["file_ids"] == [other["id"]]


def test_files_and_stores_belong_to_their_key(server, http):
    made = upload(http)
    vs = make_store(http, [made["id"]])
    with client_for(server, "key-b") as other:
        error(other.get(f"/files/{made['id']}"), 404)
        error(other.get(f"/files/{made['id']}/content"), 404)
        error(other.delete(f"/files/{made['id']}"), 404)
        error(other.get(f"/vector_stores/{vs['id']}"), 404)
        error(other.get(f"/vector_stores/{vs['id']}/files/{made['id']}"), 404)
        assert made["id"] not in [f["id"] for f in other.get("/files").json()["data"]]
        assert vs["id"] not in [v["id"] for v in other.get("/vector_stores").json()["data"]]
        error(other.post("/vector_stores", json={"file_ids": [made["id"]]}), 400, "file_ids[0]")
        error(other.post("/assistants", json={"model": "m", "tool_resources": {
            "file_search": {"vector_store_ids": [vs["id"]]}}}), 400, "tool_resources.file_search.vector_store_ids[0]")


# ---- tool_resources and attachments -------------------------------------------------------------------------

def test_tool_resources_limits_at_and_past_the_boundary(http):
    ids = [upload(http, b"x")["id"] for _ in range(21)]
    vs = [make_store(http, [])["id"] for _ in range(2)]
    ok(http.post("/assistants", json={"model": "m", "tool_resources": {"code_interpreter": {"file_ids": ids[:20]}}}),
       "POST", "/assistants")
    error(http.post("/assistants", json={"model": "m", "tool_resources": {"code_interpreter": {"file_ids": ids}}}),
          400, "tool_resources.code_interpreter.file_ids")
    ok(http.post("/threads", json={"tool_resources": {"file_search": {"vector_store_ids": vs[:1]}}}), "POST", "/threads")
    error(http.post("/threads", json={"tool_resources": {"file_search": {"vector_store_ids": vs}}}),
          400, "tool_resources.file_search.vector_store_ids")
    thread = http.post("/threads", json={}).json()
    error(http.post(f"/threads/{thread['id']}", json={"tool_resources": {"code_interpreter": {"file_ids": ids}}}),
          400, "tool_resources.code_interpreter.file_ids")
    helpers = [{"file_ids": []}, {"file_ids": []}]
    error(http.post("/threads", json={"tool_resources": {"file_search": {"vector_stores": helpers}}}),
          400, "tool_resources.file_search.vector_stores")


def test_tool_resources_name_existing_objects(http):
    error(http.post("/assistants", json={"model": "m", "tool_resources": {"code_interpreter": {"file_ids": ["file-x"]}}}),
          400, "tool_resources.code_interpreter.file_ids[0]")
    error(http.post("/threads", json={"tool_resources": {"file_search": {"vector_store_ids": ["vs_x"]}}}),
          400, "tool_resources.file_search.vector_store_ids[0]")
    error(http.post("/threads", json={"messages": [{"role": "user", "content": "hi", "attachments": [
        {"file_id": "file-x", "tools": [{"type": "file_search"}]}]}]}), 400, "messages[0].attachments[0].file_id")
    before = len(http.get("/vector_stores", params={"limit": 100}).json()["data"])
    error(http.post("/threads", json={"tool_resources": {"file_search": {"vector_stores": [{"file_ids": ["file-x"]}]}}}),
          400, "tool_resources.file_search.vector_stores[0].file_ids[0]")
    assert len(http.get("/vector_stores", params={"limit": 100}).json()["data"]) == before   # nothing made


def test_vector_stores_helper_creates_the_store(http):
    made = upload(http, words(300))
    thread = ok(http.post("/threads", json={"tool_resources": {"file_search": {"vector_stores": [{
        "file_ids": [made["id"]], "metadata": {"from": "helper"},
        "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}}]}}}),
        "POST", "/threads")
    (vs_id,) = thread["tool_resources"]["file_search"]["vector_store_ids"]
    vs = wait_store(http, vs_id)
    assert vs["metadata"] == {"from": "helper"} and vs["file_counts"]["completed"] == 1
    assert vs["expires_after"] == {"anchor": "last_active_at", "days": 7}
    chunks = http.get(f"/vector_stores/{vs_id}/files/{made['id']}/content").json()["data"]
    assert len(chunks) == 3
    asst = ok(http.post("/assistants", json={"model": "m", "tool_resources": {"file_search": {"vector_stores": [
        {"file_ids": [made["id"]]}]}}}), "POST", "/assistants")
    (asst_vs,) = asst["tool_resources"]["file_search"]["vector_store_ids"]
    assert "expires_after" not in http.get(f"/vector_stores/{asst_vs}").json()   # only thread helpers expire


def test_attachments_fill_the_threads_store_and_code_interpreter(http):
    doc, data, both = upload(http), upload(http, b"1,2\n"), upload(http, b"shared")
    thread = ok(http.post("/threads", json={"messages": [{"role": "user", "content": "read this", "attachments": [
        {"file_id": doc["id"], "tools": [{"type": "file_search"}]},
        {"file_id": data["id"], "tools": [{"type": "code_interpreter"}]}]}]}), "POST", "/threads")
    thread = ok(http.get(f"/threads/{thread['id']}"), "GET", "/threads/{thread_id}")
    (vs_id,) = thread["tool_resources"]["file_search"]["vector_store_ids"]
    assert thread["tool_resources"]["code_interpreter"]["file_ids"] == [data["id"]]
    vs = http.get(f"/vector_stores/{vs_id}").json()
    assert vs["expires_after"] == {"anchor": "last_active_at", "days": 7} and vs["expires_at"] is not None
    message = http.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "and this", "attachments": [
        {"file_id": both["id"], "tools": [{"type": "file_search"}, {"type": "code_interpreter"}]}]})
    assert ok(message, "POST", "/threads/{thread_id}/messages")["attachments"][0]["file_id"] == both["id"]
    thread = http.get(f"/threads/{thread['id']}").json()
    assert thread["tool_resources"]["file_search"]["vector_store_ids"] == [vs_id]    # the same store grows
    assert thread["tool_resources"]["code_interpreter"]["file_ids"] == [data["id"], both["id"]]
    listed = {f["id"] for f in http.get(f"/vector_stores/{vs_id}/files").json()["data"]}
    assert listed == {doc["id"], both["id"]}
    error(http.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "x", "attachments": [
        {"file_id": "file-missing", "tools": [{"type": "file_search"}]}]}), 400, "attachments[0].file_id")


def test_attachments_on_an_existing_thread_store(http):
    vs = make_store(http, [])
    thread = http.post("/threads", json={"tool_resources": {"file_search": {"vector_store_ids": [vs["id"]]}}}).json()
    made = upload(http)
    http.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "x", "attachments": [
        {"file_id": made["id"], "tools": [{"type": "file_search"}]}]})
    assert [f["id"] for f in http.get(f"/vector_stores/{vs['id']}/files").json()["data"]] == [made["id"]]


# ---- expiry ---------------------------------------------------------------------------------------------------

def test_store_expires_after_its_days_and_runs_using_it_fail(http):
    made = upload(http)
    vs = make_store(http, [made["id"]], expires_after={"anchor": "last_active_at", "days": 1})   # a day is 1 s here
    assert vs["expires_after"] == {"anchor": "last_active_at", "days": 1}
    assert vs["expires_at"] - vs["last_active_at"] in (1, 2)
    asst = http.post("/assistants", json={"model": "m", "tools": [{"type": "file_search"}], "tool_resources": {
        "file_search": {"vector_store_ids": [vs["id"]]}}}).json()
    deadline = time.monotonic() + 5
    while vs["status"] != "expired" and time.monotonic() < deadline:
        time.sleep(0.1)
        vs = ok(http.get(f"/vector_stores/{vs['id']}"), "GET", "/vector_stores/{vector_store_id}")
    assert vs["status"] == "expired"
    error(http.post(f"/vector_stores/{vs['id']}/files", json={"file_id": made["id"]}), 400)
    run = http.post("/threads/runs", json={"assistant_id": asst["id"], "thread": {
        "messages": [{"role": "user", "content": "what do llamas do?"}]}}).json()
    run = poll_run(http, run["thread_id"], run["id"], ("queued", "in_progress"))
    assert run["status"] == "failed" and run["last_error"]["code"] == "invalid_prompt"
    assert vs["id"] in run["last_error"]["message"]
    assert load_contract().validate(("GET", "/threads/{thread_id}/runs/{run_id}"), 200, run) == []


def test_runs_keep_a_store_active(http):
    vs = make_store(http, [], expires_after={"anchor": "last_active_at", "days": 2})
    asst = http.post("/assistants", json={"model": "m", "tools": [{"type": "file_search"}], "tool_resources": {
        "file_search": {"vector_store_ids": [vs["id"]]}}}).json()
    time.sleep(1.1)
    run = http.post("/threads/runs", json={"assistant_id": asst["id"], "thread": {
        "messages": [{"role": "user", "content": "hello"}]}}).json()
    assert poll_run(http, run["thread_id"], run["id"], ("queued", "in_progress"))["status"] == "completed"
    after = http.get(f"/vector_stores/{vs['id']}").json()
    assert after["status"] == "completed" and after["last_active_at"] > vs["last_active_at"]
    assert after["expires_at"] > vs["expires_at"]


def test_modify_expiry_and_remove_it(http):
    vs = make_store(http, [])
    set_ = ok(http.post(f"/vector_stores/{vs['id']}", json={"expires_after": {"anchor": "last_active_at", "days": 30}}),
              "POST", "/vector_stores/{vector_store_id}")
    assert set_["expires_at"] == set_["last_active_at"] + 30
    cleared = ok(http.post(f"/vector_stores/{vs['id']}", json={"expires_after": None}),
                 "POST", "/vector_stores/{vector_store_id}")
    assert cleared["expires_at"] is None and "expires_after" not in cleared


def test_restart_resumes_indexing_and_keeps_blobs(tmp_path):
    """Bytes are in SQLite; files a restart left in_progress are indexed when next read."""
    with running_server(tmp_path, "--index-delay-ms", "3000") as first, \
            httpx.Client(base_url=first.base_url, timeout=TIMEOUT) as http:
        made = upload(http)
        vs = make_store(http, [made["id"]])
    with running_server(tmp_path, "--index-delay-ms", "10") as second, \
            httpx.Client(base_url=second.base_url, timeout=TIMEOUT) as http:
        assert http.get(f"/files/{made['id']}/content").content == TEXT
        assert wait_store(http, vs["id"])["file_counts"]["completed"] == 1


def test_serve_rejects_bad_knobs():
    import subprocess, sys
    for args in (["--max-file-bytes", "0"], ["--index-delay-ms", "-1"], ["--vector-store-day-seconds", "0"]):
        done = subprocess.run([sys.executable, "-m", "assistants_conformance.reference", *args],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and re.search(r"--max-file-bytes|--index-delay-ms|--vector-store-day-seconds", done.stderr)
