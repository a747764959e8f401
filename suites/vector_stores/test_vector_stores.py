"""Vector stores: asynchronous indexing seen by polling, file_counts, failed files, vector store files and
their status filter, file batches and their cancel, modify/expiry/delete, runs over an expired store, and files
deleted under a store.

One module-scoped store (`indexed`) serves the read-only checks: two readable text files given as file_ids
at creation, then a file that is not text attached through POST /vector_stores/{id}/files; every answer
read while it indexed is kept. Checks that change a store make their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

from assistants_conformance import prerequisites
from assistants_conformance.checks import ConformanceFailure, require, violation
from assistants_conformance.flows import (INDEXING_DONE, SLOW_WAIT_SECONDS, expect_error, poll_run, poll_vector_store,
                                         shared_factory)
from assistants_conformance.protocol.transitions import TERMINAL
from assistants_conformance.outcomes import unsupported

READABLE = (
    b"Conformance notes, part one. The harbour at Quillan freezes in February; boats wait at Port Esk.\n",
    b"Conformance notes, part two. The ferry timetable changes on the first Monday of April.\n",
)
# Not text: a PNG signature, NUL bytes and invalid UTF-8, under a .txt name so that no server refuses it by
# its extension. Indexing must fail (the documented last_error codes: unsupported_file, invalid_file).
UNREADABLE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(range(128, 256)) * 4
FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")
LAST_ERROR_CODES = ("server_error", "unsupported_file", "invalid_file")
DAY = 86_400
# After every file of a store finished indexing, how long the store itself may take to say completed.
STORE_SETTLE_SECONDS = 5.0


@dataclass
class Seen:
    operation: tuple[str, str]  # (method, contract path template)
    response: Any

    @property
    def body(self) -> Any:
        return self.response.json


@dataclass
class Indexed:
    store_id: str
    readable: list[str]  # file ids given at creation
    unreadable: str | None  # file id attached afterwards (None: the target refused to attach it)
    refused: Any = None  # the 400 answer that refused the unreadable file, if so
    store_reads: list[tuple[dict, Any]] = field(default_factory=list)  # (store object, exchange) in order
    files_final: dict[str, dict] = field(default_factory=dict)  # file id -> last read vector store file
    final_store: dict | None = None
    settle_failure: ConformanceFailure | None = None  # the store never said completed
    seen: list[Seen] = field(default_factory=list)


def _ok(response, what: str) -> dict:
    if response.status_code != 200 or not isinstance(response.json, dict):
        violation(f"{what} answered {response.status_code}", [response.exchange])
    return response.json


def _wait_files(client, store_id: str, file_ids: list[str], timeout: float) -> dict[str, dict]:
    """Poll each vector store file until its indexing ended."""
    return {fid: poll_vector_store(client, store_id, timeout=timeout, path_suffix=f"/files/{fid}").final
            for fid in file_ids}


def _settle(client, store_id: str, reads: list, until=("completed", "expired")) -> dict:
    """Read the store until its status is completed (its files are all done by now), for a few seconds."""
    deadline = time.monotonic() + STORE_SETTLE_SECONDS
    while True:
        response = client.get(f"/vector_stores/{store_id}")
        store = _ok(response, f"GET /vector_stores/{store_id}")
        reads.append((store, response.exchange))
        if store.get("status") in until:
            return store
        if time.monotonic() >= deadline:
            violation(f"every file of vector store {store_id} finished indexing, yet {STORE_SETTLE_SECONDS:g} s "
                      f"later the store still says status {store.get('status')!r} (expected completed)",
                      [response.exchange])
        time.sleep(0.1)


@pytest.fixture(scope="module")
def indexed(target) -> Iterator[Indexed]:
    timeout = target.profile.run_poll_timeout
    with shared_factory(target) as f:
        c = f.client
        readable = [f.file(f"notes-{i}.txt", data)["id"] for i, data in enumerate(READABLE)]
        bad = f.file("not-text.txt", UNREADABLE)["id"]
        created = f.post_vector_store({"name": "conformance indexing", "file_ids": readable, "metadata": f.tag()})
        store = f.created_object(created, "create a vector store with file_ids", "vector_store")
        state = Indexed(store["id"], readable, bad)
        state.seen.append(Seen(("POST", "/vector_stores"), created))
        state.store_reads.append((store, created.exchange))
        attach = c.post(f"/vector_stores/{store['id']}/files", json={"file_id": bad})
        if attach.status_code == 400:  # refusing a file that is not text at once is a valid answer too
            state.unreadable, state.refused = None, attach
        else:
            state.seen.append(Seen(("POST", "/vector_stores/{vector_store_id}/files"), _response(attach)))
        early = c.get(f"/vector_stores/{store['id']}")  # probably still in progress: its counts must add up
        state.store_reads.append((_ok(early, "GET the vector store"), early.exchange))
        files = readable + ([bad] if state.unreadable else [])
        state.files_final = _wait_files(c, store["id"], files, timeout)
        try:
            state.final_store = _settle(c, store["id"], state.store_reads)
        except ConformanceFailure as exc:
            state.settle_failure = exc
        state.seen.append(Seen(("GET", "/vector_stores/{vector_store_id}"), early))
        for fid in files:
            state.seen.append(Seen(("GET", "/vector_stores/{vector_store_id}/files/{file_id}"),
                                   c.get(f"/vector_stores/{store['id']}/files/{fid}")))
        state.seen.append(Seen(("GET", "/vector_stores/{vector_store_id}/files"),
                               c.get(f"/vector_stores/{store['id']}/files")))
        state.seen.append(Seen(("GET", "/vector_stores"), c.get("/vector_stores", params={"limit": 5})))
        yield state


def _response(response):
    if response.status_code != 200:
        violation(f"{response.exchange.method} {response.exchange.url} answered {response.status_code}",
                  [response.exchange])
    return response


def _counts_problem(counts: Any, total: int | None = None) -> str | None:
    """What is wrong with a file_counts object: parts not adding up to total, or total not `total`."""
    if not isinstance(counts, dict):
        return f"file_counts is {counts!r}, expected an object"
    values = [counts.get(k) for k in (*FILE_STATUSES, "total")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return f"file_counts {counts} should hold whole numbers for {', '.join(FILE_STATUSES)} and total"
    if sum(values[:-1]) != counts["total"]:
        return f"file_counts {counts} do not add up: the parts sum to {sum(values[:-1])}, total is {counts['total']}"
    if total is not None and counts["total"] != total:
        return f"file_counts.total is {counts['total']}, but {total} files are attached"
    return None


def _statuses_count(files: list[dict]) -> dict:
    return {status: sum(1 for f in files if f.get("status") == status) for status in FILE_STATUSES}


# --- indexing ----------------------------------------------------------------------------------------------


@pytest.mark.check("VSTORE-001")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_store_indexes_and_completes(indexed):
    """A vector store created with file_ids answers a vector_store object (id vs_...) and moves to status completed once its files are indexed.
    Vector stores: adding files is asynchronous; poll the store until its status is completed."""
    store, exchange = indexed.store_reads[0]
    require(store.get("object") == "vector_store", f"object = {store.get('object')!r}, expected 'vector_store'",
            [exchange])
    require(isinstance(store.get("id"), str) and store["id"].startswith("vs_") and len(store["id"]) > 3,
            f"id = {store.get('id')!r} should start with 'vs_'", [exchange])
    statuses = [s.get("status") for s, _ in indexed.store_reads]
    bad = [s for s in statuses if s not in ("in_progress", "completed")]
    require(not bad, f"a fresh store read with status {bad[:1]} (expected in_progress or completed); "
            f"statuses seen: {statuses}", [exchange])
    if indexed.settle_failure is not None:
        raise indexed.settle_failure
    files = ", ".join(f"{fid}: {f.get('status')}" for fid, f in indexed.files_final.items())
    require(indexed.final_store.get("status") == "completed",
            f"the store ended {indexed.final_store.get('status')!r} with its files {files}",
            [indexed.store_reads[-1][1]])


@pytest.mark.check("VSTORE-002")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_file_counts_add_up(indexed):
    """At every read a store's file_counts add up (in_progress + completed + failed + cancelled = total = files attached); once completed, each file is counted by its final status and usage_bytes > 0.
    Vector stores: the VectorStore object's file_counts and usage_bytes."""
    attached = len(indexed.readable) + (1 if indexed.unreadable else 0)
    for index, (store, exchange) in enumerate(indexed.store_reads):
        # The create answer may come before the later attach: it counts the files given at creation.
        expected = len(indexed.readable) if index == 0 else attached
        problem = _counts_problem(store.get("file_counts"), expected)
        require(problem is None, f"read {index} of the store: {problem}", [exchange])
    if indexed.final_store is None or indexed.final_store.get("status") != "completed":
        why = indexed.settle_failure.what if indexed.settle_failure is not None else "the store never completed"
        prerequisites.fail(prerequisites.STORE_INDEXED, why)  # the counts once completed cannot be judged
    store, exchange = indexed.store_reads[-1]
    wanted = _statuses_count(list(indexed.files_final.values()))
    counts = store["file_counts"]
    wrong = {k: counts.get(k) for k, v in wanted.items() if counts.get(k) != v}
    require(not wrong, f"the completed store counts {counts}, but its files' own statuses give {wanted}", [exchange])
    usage = store.get("usage_bytes")
    require(isinstance(usage, int) and not isinstance(usage, bool) and usage > 0,
            f"a completed store holding indexed files has usage_bytes = {usage!r}, expected a number > 0", [exchange])


@pytest.mark.check("VSTORE-003")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_unreadable_file_fails(indexed):
    """A file that is not text ends indexing with status failed and a last_error {code, message} (and the store counts it failed), while readable files complete.
    Vector store files: status, last_error codes server_error / unsupported_file / invalid_file."""
    for fid in indexed.readable:
        got = indexed.files_final[fid]
        require(got.get("status") == "completed" and got.get("last_error") is None,
                f"readable file {fid} ended {got.get('status')!r} with last_error {got.get('last_error')!r}")
    if indexed.unreadable is None:
        pytest.skip("inconclusive: the target refused to attach a file that is not text (400), which is allowed")
    got = indexed.files_final[indexed.unreadable]
    error = got.get("last_error")
    require(got.get("status") == "failed", f"a file that is not text (PNG bytes, invalid UTF-8) ended "
            f"{got.get('status')!r}, expected failed", [])
    require(isinstance(error, dict) and error.get("code") in LAST_ERROR_CODES
            and isinstance(error.get("message"), str) and error["message"].strip(),
            f"the failed file's last_error is {error!r}, expected {{code: one of {LAST_ERROR_CODES}, message}}")
    if indexed.final_store is not None:
        counts = indexed.final_store.get("file_counts") or {}
        require(counts.get("failed") == 1, f"the store's file_counts {counts} should count the failed file")


@pytest.mark.check("VSTORE-004")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_contract_shapes(indexed, contract):
    """Vector store, vector store file and list answers validate against the contract.
    Vector stores and vector store files: object shapes."""
    problems, evidence = [], []
    for seen in indexed.seen:
        issues = contract.validate(seen.operation, seen.response.status_code, seen.body)
        for issue in issues[:3]:
            problems.append(f"{' '.join(seen.operation)}: at {issue.pointer or '/'} expected {issue.expected}, "
                            f"got {issue.got}")
        if issues:
            evidence.append(seen.response.exchange)
    require(not problems, f"{len(problems)} contract violation(s): " + "; ".join(problems), evidence[:3])


# --- vector store files --------------------------------------------------------------------------------------


@pytest.mark.check("VSTORE-005")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_vector_store_files(factory, client, profile):
    """Vector store files can be attached, retrieved, listed by status (filter) and detached; a detached file is gone from the store but remains a file.
    Vector store files: create, retrieve, list (filter in_progress / completed / failed / cancelled), delete."""
    good = factory.file("vsf-good.txt", READABLE[0])["id"]
    bad = factory.file("vsf-not-text.txt", UNREADABLE)["id"]
    store = factory.vector_store(name="conformance vector store files")["id"]
    base = f"/vector_stores/{store}/files"
    attached = {}
    for fid in (good, bad):
        response = client.post(base, json={"file_id": fid})
        if fid == bad and response.status_code == 400:
            continue  # refusing a file that is not text at once is allowed
        obj = _ok(response, f"POST {base}")
        wrong = [f"{k} = {obj.get(k)!r}, expected {v!r}" for k, v in
                 {"id": fid, "object": "vector_store.file", "vector_store_id": store}.items() if obj.get(k) != v]
        if obj.get("status") not in FILE_STATUSES:
            wrong.append(f"status = {obj.get('status')!r}")
        require(not wrong, "attaching a file answered: " + "; ".join(wrong), [response.exchange])
        attached[fid] = obj
    final = _wait_files(client, store, list(attached), profile.run_poll_timeout)
    for fid, obj in final.items():
        require(obj.get("id") == fid and obj.get("vector_store_id") == store,
                f"GET {base}/{fid} answered id {obj.get('id')!r}, vector_store_id {obj.get('vector_store_id')!r}")
    for status in FILE_STATUSES:
        response = client.get(base, params={"filter": status, "limit": 100})
        items = (_ok(response, f"GET {base}?filter={status}").get("data") or [])
        got = sorted(i.get("id") for i in items if isinstance(i, dict))
        wanted = sorted(fid for fid, obj in final.items() if obj.get("status") == status)
        require(got == wanted, f"filter={status} listed {got}, but the files in status {status} are {wanted}",
                [response.exchange])
    response = client.delete(f"{base}/{good}")
    body = _ok(response, f"DELETE {base}/{good}")
    wanted = {"id": good, "object": "vector_store.file.deleted", "deleted": True}
    wrong = [f"{k} = {body.get(k)!r}, expected {v!r}" for k, v in wanted.items() if body.get(k) != v]
    require(not wrong, "the detach answer is wrong: " + "; ".join(wrong), [response.exchange])
    gone = client.get(f"{base}/{good}")
    require(gone.status_code == 404, f"GET {base}/{good} after the detach answered {gone.status_code}, expected 404",
            [gone.exchange])
    listing = client.get(base, params={"limit": 100})
    ids = [i.get("id") for i in _ok(listing, f"GET {base}").get("data") or [] if isinstance(i, dict)]
    require(good not in ids, f"the store still lists the detached file {good}", [listing.exchange])
    still = client.get(f"/files/{good}")
    require(still.status_code == 200, f"detaching {good} from a store should leave the file itself; GET /files/{good} "
            f"answered {still.status_code}", [still.exchange])


@pytest.mark.check("VSTORE-006")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_deleted_file_leaves_its_stores(factory, client, profile):
    """Deleting a file (DELETE /files/{id}) removes it from every vector store it is in.
    Vector stores: files can be removed by deleting the vector store file or the underlying file object."""
    keep = factory.file("keep.txt", READABLE[0])["id"]
    doomed = factory.file("doomed.txt", READABLE[1])["id"]
    stores = [factory.vector_store(name=f"conformance file delete {i}", file_ids=[keep, doomed])["id"] for i in (1, 2)]
    for store in stores:
        _wait_files(client, store, [keep, doomed], profile.run_poll_timeout)
    deleted = client.delete(f"/files/{doomed}")
    _ok(deleted, f"DELETE /files/{doomed}")
    for store in stores:
        read = client.get(f"/vector_stores/{store}/files/{doomed}")
        require(read.status_code == 404, f"vector store {store} still answers {read.status_code} for the deleted file "
                f"{doomed} (expected 404)", [read.exchange])
        listing = client.get(f"/vector_stores/{store}/files", params={"limit": 100})
        ids = [i.get("id") for i in _ok(listing, "list the store's files").get("data") or [] if isinstance(i, dict)]
        require(ids == [keep], f"vector store {store} lists {ids} after {doomed} was deleted, expected only {keep}",
                [listing.exchange])
        vs = client.get(f"/vector_stores/{store}")
        total = (_ok(vs, f"GET /vector_stores/{store}").get("file_counts") or {}).get("total")
        require(total == 1, f"vector store {store} counts total = {total!r} files after one of its two was deleted",
                [vs.exchange])


# --- modify, expiry, delete -------------------------------------------------------------------------------------


@pytest.mark.check("VSTORE-007")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_modify_and_delete(factory, client):
    """Modifying a store changes its name, metadata and expires_after (in the answer and on a later read); deleting it answers deleted: true and it then reads 404.
    Vector stores: modify, delete."""
    store = factory.vector_store(name="conformance before")["id"]
    change = {"name": "conformance after", "metadata": factory.tag({"step": "modified"}),
              "expires_after": {"anchor": "last_active_at", "days": 3}}
    answer = client.post(f"/vector_stores/{store}", json=change)
    read = client.get(f"/vector_stores/{store}")
    for label, response in (("the modify answer", answer), ("a later read", read)):
        obj = _ok(response, label)
        wrong = [f"{k} = {obj.get(k)!r}, expected {v!r}" for k, v in change.items() if obj.get(k) != v]
        require(not wrong, f"{label}: " + "; ".join(wrong), [response.exchange])
    deleted = client.delete(f"/vector_stores/{store}")
    body = _ok(deleted, f"DELETE /vector_stores/{store}")
    wanted = {"id": store, "object": "vector_store.deleted", "deleted": True}
    wrong = [f"{k} = {body.get(k)!r}, expected {v!r}" for k, v in wanted.items() if body.get(k) != v]
    require(not wrong, "the delete answer is wrong: " + "; ".join(wrong), [deleted.exchange])
    gone = client.get(f"/vector_stores/{store}")
    require(gone.status_code == 404, f"GET /vector_stores/{store} after the delete answered {gone.status_code}, "
            "expected 404", [gone.exchange])


def day_seconds(profile) -> float:
    """A vector store "day" on the target: 86,400 s unless its profile declares a test server's shorter day."""
    return profile.vector_store_day_seconds or DAY


def _expiry_problem(obj: dict, days: int, day: float) -> str | None:
    last, expires = obj.get("last_active_at"), obj.get("expires_at")
    for name, value in (("last_active_at", last), ("expires_at", expires)):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} = {value!r}, expected integer Unix seconds"
    length = days * day
    length = int(length) if length == int(length) else length  # whole seconds print as such (not 1.8e+09)
    if abs(expires - (last + length)) > 1:
        return (f"expires_at = {expires}, expected last_active_at + {days} day(s) = {last} + {length} = "
                f"{last + length}")
    return None


@pytest.mark.check("VSTORE-008")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_expires_after_sets_expires_at(factory, client, profile):
    """A store with expires_after {anchor: last_active_at, days: N} has expires_at = last_active_at + N days, at creation and after a modify changes N.
    Vector stores: expiration policies (expires_after, expires_at); a day is the profile's vector_store_day_seconds
    if it declares one (a test server's short day), else 86,400 s."""
    day = day_seconds(profile)
    created = factory.post_vector_store({"name": "conformance expiry", "metadata": factory.tag(),
                                         "expires_after": {"anchor": "last_active_at", "days": 3}})
    obj = _ok(created, "create a vector store with expires_after")
    problem = _expiry_problem(obj, 3, day)
    require(problem is None, f"at creation: {problem}", [created.exchange])
    longer = {"expires_after": {"anchor": "last_active_at", "days": 5}}
    modified = client.post(f"/vector_stores/{obj['id']}", json=longer)
    problem = _expiry_problem(_ok(modified, "modify expires_after"), 5, day)
    require(problem is None, f"after modify to 5 days: {problem}", [modified.exchange])


# Past a store's expiry by our clock, how long to wait more for the target to see it (expires_at is whole seconds).
EXPIRY_SLACK_SECONDS = 1.0
EXPIRED_STORE_QUESTION = "What do the conformance notes say about the harbour at Quillan? Quote them."


@pytest.mark.check("VSTORE-011")
@pytest.mark.level("MUST")
@pytest.mark.capability("file_search")
def test_expired_store_fails_runs(factory, client, profile, request):
    """A run that would search an expired vector store ends failed (or is refused with 400 when it is created); it never runs normally.
    Vector stores: expiration policies (runs that use expired vector stores fail). The store expires 1 day after
    its last activity (expires_after {anchor: last_active_at, days: 1}): the check needs the profile's
    vector_store_day_seconds, a test server's short day. Both answers the docs allow are accepted: a 400 at run
    creation, or a run that ends failed; completed, incomplete, requires_action or any other ending fails."""
    if not profile.has("vector_stores"):
        unsupported(f"the target profile {profile.name!r} does not declare the 'vector_stores' capability")
    day = profile.vector_store_day_seconds
    if day is None:
        unsupported(f"the target profile {profile.name!r} declares no vector_store_day_seconds (a store "
                    "expires a day, 86,400 s, after its last activity: too long for a check to wait)")
    if day > SLOW_WAIT_SECONDS and not request.config.getoption("--run-slow"):
        pytest.skip(f"slow check: run with --run-slow (it waits the profile's vector store day, {day:g} s)")
    notes = factory.file("expiring-notes.txt", READABLE[0])["id"]
    created = factory.post_vector_store({"name": "conformance expiring store", "file_ids": [notes],
                                         "metadata": factory.tag(),
                                         "expires_after": {"anchor": "last_active_at", "days": 1}})
    store = _ok(created, "create a vector store expiring 1 day after its last activity")["id"]
    active_until = time.monotonic() + day
    # Everything but the run is made while the store is still active, so only the run can be refused.
    assistant = factory.assistant(tools=[{"type": "file_search"}],
                                  tool_resources={"file_search": {"vector_store_ids": [store]}})
    thread = factory.thread(messages=[{"role": "user", "content": EXPIRED_STORE_QUESTION}])
    time.sleep(max(0.0, active_until - time.monotonic()) + EXPIRY_SLACK_SECONDS)
    read = client.get(f"/vector_stores/{store}")  # evidence: what the target says about the store now
    response = factory.post_run(thread["id"], {"assistant_id": assistant["id"], "metadata": factory.tag(),
                                               "tool_choice": {"type": "file_search"}})
    if response.status_code == 400:
        expect_error(response, 400, sent="a run over a vector store that has expired")
        return
    run = _ok(response, "create a run over an expired vector store")
    poll = poll_run(client, thread["id"], run["id"], until=TERMINAL | {"requires_action"},
                    timeout=profile.run_poll_timeout, factory=factory)
    status = read.json.get("status") if isinstance(read.json, dict) else None
    require(poll.final.get("status") == "failed",
            f"a run searching vector store {store}, expired {EXPIRY_SLACK_SECONDS:g} s ago (1 day of "
            f"{day:g} s after its last activity; the store reads status {status!r}), ended "
            f"{poll.final.get('status')!r}, expected failed (or a 400 at run creation)",
            [created.exchange, read.exchange, response.exchange])


# --- file batches ----------------------------------------------------------------------------------------------


def _batch_files(client, store: str, batch: str) -> tuple[list[dict], Any]:
    response = client.get(f"/vector_stores/{store}/file_batches/{batch}/files", params={"limit": 100})
    items = _ok(response, "list the batch's files").get("data") or []
    return [i for i in items if isinstance(i, dict)], response


@pytest.mark.check("VSTORE-009")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_batch_counts(factory, client, profile):
    """A file batch's file_counts add up to its files at every read; once it is completed its files are listed completed and the store counts them completed too.
    Vector store file batches: create, retrieve, list files; file_counts."""
    files = [factory.file(f"batch-{i}.txt", data)["id"] for i, data in enumerate(READABLE)]
    store = factory.vector_store(name="conformance batch")["id"]
    created = client.post(f"/vector_stores/{store}/file_batches", json={"file_ids": files})
    batch = _ok(created, "create a file batch")
    require(batch.get("object") == "vector_store.files_batch" and batch.get("vector_store_id") == store,
            f"the batch answer says object {batch.get('object')!r}, vector_store_id {batch.get('vector_store_id')!r}",
            [created.exchange])
    reads: list[dict] = [batch]
    poll = poll_vector_store(client, store, timeout=profile.run_poll_timeout,
                             path_suffix=f"/file_batches/{batch['id']}", on_read=reads.append)
    for index, read in enumerate(reads):
        problem = _counts_problem(read.get("file_counts"), len(files))
        require(problem is None, f"batch read {index} (status {read.get('status')!r}): {problem}")
    require(poll.final.get("status") == "completed", f"a batch of readable files ended {poll.final.get('status')!r}")
    require((poll.final.get("file_counts") or {}).get("completed") == len(files),
            f"the completed batch counts {poll.final.get('file_counts')}, expected {len(files)} completed")
    listed, response = _batch_files(client, store, batch["id"])
    got = sorted((i.get("id"), i.get("status")) for i in listed)
    require(got == sorted((f, "completed") for f in files),
            f"the completed batch lists {got}, expected its {len(files)} files completed", [response.exchange])
    vs = client.get(f"/vector_stores/{store}")
    counts = _ok(vs, "GET the store").get("file_counts") or {}
    require(counts.get("completed") == len(files) and counts.get("in_progress") == 0,
            f"after its batch completed the store counts {counts}, expected {len(files)} completed, 0 in_progress",
            [vs.exchange])


CANCEL_ATTEMPTS = 5  # each attempt is a new store and batch: a few milliseconds


@pytest.mark.check("VSTORE-010")
@pytest.mark.level("MUST")
@pytest.mark.capability("vector_stores")
def test_batch_cancel(factory, client, profile):
    """Cancelling an in-progress file batch answers it cancelling or cancelled; it ends cancelled, its files that did not complete are cancelled, and its counts add up.
    Vector store file batches: cancel (processing of the batch's files stops as soon as possible)."""
    files = [factory.file(f"cancel-{i}.txt", READABLE[i % 2])["id"] for i in range(4)]
    for attempt in range(CANCEL_ATTEMPTS):
        store = factory.vector_store(name=f"conformance batch cancel {attempt}")["id"]
        created = client.post(f"/vector_stores/{store}/file_batches", json={"file_ids": files})
        batch = _ok(created, "create a file batch")
        path = f"/vector_stores/{store}/file_batches/{batch['id']}"
        cancel = client.post(f"{path}/cancel")
        if cancel.status_code != 200:
            now = _ok(client.get(path), "read the batch")
            if now.get("status") in ("completed", "failed"):
                continue  # it finished before the cancel arrived: try again with a new batch
            violation(f"cancelling a batch in status {now.get('status')!r} answered {cancel.status_code}",
                      [cancel.exchange])
        answer = cancel.json
        require(isinstance(answer, dict) and answer.get("status") in ("cancelling", "cancelled"),
                f"the cancel answer says status {answer.get('status') if isinstance(answer, dict) else answer!r}, "
                "expected cancelling or cancelled", [cancel.exchange])
        poll = poll_vector_store(client, store, timeout=profile.run_poll_timeout,
                                 path_suffix=f"/file_batches/{batch['id']}", until=INDEXING_DONE)
        final = poll.final
        require(final.get("status") == "cancelled", f"after cancel the batch ended {final.get('status')!r}, "
                f"expected cancelled (statuses seen: {poll.statuses})")
        problem = _counts_problem(final.get("file_counts"), len(files))
        require(problem is None, f"the cancelled batch: {problem}")
        listed, response = _batch_files(client, store, batch["id"])
        wrong = [f"{i.get('id')}: {i.get('status')}" for i in listed
                 if i.get("status") not in ("completed", "cancelled", "failed")]
        require(not wrong, f"files of the cancelled batch are still {wrong} (files not completed should be cancelled)",
                [response.exchange])
        counted = _statuses_count(listed)
        mismatch = {k: final["file_counts"].get(k) for k, v in counted.items() if final["file_counts"].get(k) != v}
        require(not mismatch, f"the cancelled batch counts {final['file_counts']}, but its files' statuses give "
                f"{counted}", [response.exchange])
        return
    pytest.skip(f"inconclusive: each of {CANCEL_ATTEMPTS} batches completed before its cancel arrived")
