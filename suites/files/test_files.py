"""The Files API: multipart upload, retrieve, content download, list (purpose, limit, order, after), delete,
the upload size limit, and files staying with the API key that uploaded them.

One module-scoped set of uploads serves the read-only checks: file `a` (purpose assistants), then, in a
later second so that created_at orders them on any server, `b` (purpose user_data: the content round
trip; OpenAI refuses to download files of purpose assistants) and `c` (purpose assistants). The files
list is shared with everything else the key uploaded, so the list checks judge only our files and the
order of what they see, never the whole list.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import pytest

from assistants_conformance.checks import require, violation
from assistants_conformance.flows import expect_error, shared_factory

# Bytes a text-normalising server would alter: a UTF-8 byte order mark, CRLF line ends, multi-byte
# characters, a tab, trailing blanks and no final newline.
ROUND_TRIP = ("\ufeffconformance round trip\r\nnaïve café — 日本語 ✓\r\n\tindented line   \r\nno final newline"
              ).encode("utf-8")


@dataclass
class Uploads:
    a: dict  # purpose assistants, the oldest
    b: dict  # purpose user_data, ROUND_TRIP, at least one second after a
    c: dict  # purpose assistants, the newest
    sent: dict  # file id -> (filename, purpose, bytes)
    exchanges: dict  # file id -> the upload's exchange


def _next_second() -> None:
    """Sleep into the next whole second, so that what comes next has a later created_at."""
    time.sleep(1.0 - (time.time() % 1.0) + 0.02)


@pytest.fixture(scope="module")
def uploads(target) -> Iterator[Uploads]:
    # FILE-006 is an isolation check that needs files too: without them it is unsupported, before any upload.
    if not target.profile.has("files"):
        pytest.skip(f"unsupported: the target profile {target.profile.name!r} does not declare the 'files' capability")
    with shared_factory(target) as f:
        sent, exchanges, made = {}, {}, {}
        for label, purpose, data in (("a", "assistants", b"file a: conformance list checks\n"),
                                     ("b", "user_data", ROUND_TRIP),
                                     ("c", "assistants", b"file c: conformance list checks\n")):
            if label == "b":
                _next_second()
            response = f.post_file(f"{label}.txt", data, purpose)
            made[label] = f._ok(response, f"upload file {label}")
            sent[made[label]["id"]] = (f.file_name(f"{label}.txt"), purpose, data)
            exchanges[made[label]["id"]] = response.exchange
        yield Uploads(made["a"], made["b"], made["c"], sent, exchanges)


def _items(response) -> list[dict]:
    body = response.json if response.status_code == 200 else None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        violation(f"GET /files answered {response.status_code} without a list page", [response.exchange])
    return [item for item in data if isinstance(item, dict)]


# --- objects --------------------------------------------------------------------------------------------


@pytest.mark.check("FILE-001")
@pytest.mark.level("MUST")
@pytest.mark.capability("files")
def test_upload_answers_the_file_object(uploads, client, contract):
    """An upload answers a file object (id file-..., object "file", bytes = the size sent, filename and purpose as sent, integer created_at) and retrieving it answers the same.
    Files API: upload file, retrieve file, the File object."""
    problems, evidence = [], []
    for uploaded in (uploads.a, uploads.b, uploads.c):
        file_id = uploaded.get("id")
        filename, purpose, data = uploads.sent[file_id]
        read = client.get(f"/files/{file_id}")
        for label, obj, exchange, operation in (("upload", uploaded, uploads.exchanges[file_id], ("POST", "/files")),
                                                ("retrieve", read.json, read.exchange, ("GET", "/files/{file_id}"))):
            bad = []
            if label == "retrieve" and read.status_code != 200:
                bad.append(f"answered {read.status_code}")
            elif not isinstance(obj, dict):
                bad.append("answered no JSON object")
            else:
                expected = {"object": "file", "bytes": len(data), "filename": filename, "purpose": purpose,
                            "id": file_id}
                bad += [f"{k} = {obj.get(k)!r}, expected {v!r}" for k, v in expected.items() if obj.get(k) != v]
                if not (isinstance(file_id, str) and file_id.startswith("file-") and len(file_id) > 5):
                    bad.append(f"id {file_id!r} should start with 'file-'")
                created = obj.get("created_at")
                if isinstance(created, bool) or not isinstance(created, int):
                    bad.append(f"created_at = {created!r} should be integer Unix seconds")
                bad += [f"contract: at {i.pointer or '/'} expected {i.expected}, got {i.got}"
                        for i in contract.validate(operation, 200, obj)[:3]]
            if bad:
                problems.append(f"{label} of {filename}: " + "; ".join(bad))
                evidence.append(exchange)
    require(not problems, "; ".join(problems), evidence[:3])


@pytest.mark.check("FILE-002")
@pytest.mark.level("MUST")
@pytest.mark.capability("files")
def test_content_round_trip(uploads, client):
    """GET /files/{file_id}/content answers exactly the bytes that were uploaded.
    Files API: retrieve file content."""
    file_id = uploads.b["id"]
    response = client.get(f"/files/{file_id}/content")
    if response.status_code != 200:
        violation(f"downloading a user_data file answered {response.status_code}", [response.exchange])
    got = response.content
    if got != ROUND_TRIP:
        at = next((i for i, (x, y) in enumerate(zip(got, ROUND_TRIP)) if x != y), min(len(got), len(ROUND_TRIP)))
        violation(f"the content differs from the {len(ROUND_TRIP)} bytes uploaded: got {len(got)} bytes, first "
                  f"difference at byte {at} (sent {ROUND_TRIP[at:at + 8]!r}, got {got[at:at + 8]!r})",
                  [response.exchange])


@pytest.mark.check("FILE-003")
@pytest.mark.level("MUST")
@pytest.mark.capability("files")
def test_delete_file(factory, client):
    """Deleting a file answers {id, object: "file", deleted: true}, and afterwards the file and its content read 404.
    Files API: delete file."""
    made = factory.file("deleted.txt", b"conformance: this file is deleted at once\n", "user_data")
    file_id = made["id"]
    response = client.delete(f"/files/{file_id}")
    body = response.json if response.status_code == 200 else None
    if not isinstance(body, dict):
        violation(f"DELETE /files/{file_id} answered {response.status_code}", [response.exchange])
    wanted = {"id": file_id, "object": "file", "deleted": True}
    wrong = [f"{k} = {body.get(k)!r}, expected {v!r}" for k, v in wanted.items() if body.get(k) != v]
    require(not wrong, "the delete answer is wrong: " + "; ".join(wrong), [response.exchange])
    for path in (f"/files/{file_id}", f"/files/{file_id}/content"):
        after = client.get(path)
        require(after.status_code == 404, f"GET {path} after the delete answered {after.status_code}, expected 404",
                [after.exchange])


# --- the list --------------------------------------------------------------------------------------------


@pytest.mark.check("FILE-004")
@pytest.mark.level("MUST")
@pytest.mark.capability("files")
def test_list_purpose_filter(uploads, client):
    """GET /files?purpose=P lists only files of purpose P (and lists the caller's files of that purpose).
    Files API: list files, purpose."""
    response = client.get("/files", params={"purpose": "user_data", "order": "desc", "limit": 100})
    items = _items(response)
    others = [f"{i.get('id')} ({i.get('purpose')!r})" for i in items if i.get("purpose") != "user_data"]
    require(not others, f"purpose=user_data listed files of other purposes: {', '.join(others[:5])}",
            [response.exchange])
    ids = {i.get("id") for i in items}
    require(uploads.b["id"] in ids, f"purpose=user_data did not list our newest user_data file {uploads.b['id']}",
            [response.exchange])


@pytest.mark.check("FILE-005")
@pytest.mark.level("MUST")
@pytest.mark.capability("files")
def test_list_limit_order_after(uploads, client):
    """The files list honours limit (at most that many, has_more when more remain), order (asc oldest first, desc newest first by created_at) and after (the files that follow the cursor in that order).
    Files API: list files, limit / order / after."""
    a, c = uploads.a, uploads.c  # both purpose assistants; c created at least a second after a
    base = {"purpose": "assistants"}
    one = client.get("/files", params={**base, "limit": 1, "order": "desc"})
    items = _items(one)
    require(len(items) == 1, f"limit=1 answered {len(items)} files", [one.exchange])
    require(one.json.get("has_more") is True,
            f"limit=1 over at least two files answered has_more = {one.json.get('has_more')!r}", [one.exchange])

    for order, cursor, later, sign in (("asc", a, c, 1), ("desc", c, a, -1)):
        response = client.get("/files", params={**base, "order": order, "after": cursor["id"], "limit": 100})
        items = _items(response)
        ids = [i.get("id") for i in items]
        where = f"order={order}, after={cursor['id']}"
        require(cursor["id"] not in ids, f"{where}: the page holds the cursor file itself", [response.exchange])
        require(later["id"] in ids, f"{where}: the page lacks {later['id']}, created "
                f"{'after' if sign > 0 else 'before'} the cursor (created_at {later.get('created_at')} vs "
                f"{cursor.get('created_at')})", [response.exchange])
        stamps = [i.get("created_at") for i in items]
        if all(isinstance(s, (int, float)) for s in [*stamps, cursor.get("created_at")]):
            bad = [k for k in range(len(stamps) - 1) if (stamps[k + 1] - stamps[k]) * sign < 0]
            require(not bad, f"{where}: created_at out of {order} order: item {bad[0] if bad else 0} has "
                    f"{stamps[bad[0]] if bad else ''}, the next {stamps[bad[0] + 1] if bad else ''}",
                    [response.exchange])
            off_side = [i.get("id") for i in items if (i.get("created_at") - cursor["created_at"]) * sign < 0]
            require(not off_side, f"{where}: files created {'before' if sign > 0 else 'after'} the cursor are "
                    f"listed after it: {off_side[:3]}", [response.exchange])


# --- isolation and the size limit -------------------------------------------------------------------------


@pytest.mark.check("FILE-006")
@pytest.mark.level("MUST")
@pytest.mark.capability("isolation")
def test_files_stay_with_their_key(uploads, second_client):
    """Files uploaded with one API key (project) are invisible to another: retrieve, content and delete answer 404 and the list leaves them out.
    Files API; the docs scope objects to the project that made them."""
    file_id = uploads.b["id"]
    for method, path in (("GET", f"/files/{file_id}"), ("GET", f"/files/{file_id}/content"),
                         ("DELETE", f"/files/{file_id}")):
        response = second_client.request(method, path)
        require(response.status_code == 404,
                f"{method} {path} with the second key answered {response.status_code}, expected 404",
                [response.exchange])
    listing = second_client.get("/files", params={"purpose": "user_data", "order": "desc", "limit": 100})
    ids = {i.get("id") for i in _items(listing)}
    require(file_id not in ids, f"the second key's files list shows {file_id}, uploaded with the first key",
            [listing.exchange])


@pytest.mark.check("FILE-007")
@pytest.mark.level("MUST")
@pytest.mark.capability("files")
def test_size_limit(factory, profile):
    """An upload one byte past the target's size limit is refused with 400 naming the file; one of exactly the limit is accepted.
    Files API: individual files can be up to 512 MB (the profile's max_file_bytes declares the target's limit)."""
    limit = profile.max_file_bytes
    if limit is None:
        pytest.skip(f"unsupported: the target profile {profile.name!r} declares no max_file_bytes "
                    "(a check cannot upload OpenAI's 512 MB)")
    at_limit = factory.post_file("at-limit.txt", b"x" * limit, "user_data")
    require(at_limit.status_code == 200,
            f"an upload of exactly max_file_bytes = {limit} bytes answered {at_limit.status_code}, expected 200",
            [at_limit.exchange])
    past = factory.post_file("past-limit.txt", b"x" * (limit + 1), "user_data")
    expect_error(past, 400, "file", sent=f"a file of {limit + 1} bytes (max_file_bytes {limit})")
