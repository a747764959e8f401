"""The Factory: creates objects on the target, tags each with metadata {conformance_run: <session id>},
and at teardown deletes exactly what it created and the test did not delete itself (nothing else)."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .. import prerequisites
from ..protocol.transitions import TERMINAL
from ..wire.client import ConformanceClient
from .prompts import LOOKUP_FUNCTION

TAG_KEY = "conformance_run"


def succeeded(response) -> bool:
    """A 2xx answer: what the Factory's setups and cleanup tracking accept. The API documents 200 for every
    create; a server answering 201 made the object all the same (the SDK takes any 2xx), so it is used and
    deleted like any other, and the status itself is judged by the contract checks (OBJ-*, FUZZ-*)."""
    return 200 <= response.status_code < 300


class CleanupWarning(UserWarning):
    """Deleting what a test made failed: shown once in pytest's warnings summary, never a test error
    (the check's verdict is about the rule it checks, not about our teardown)."""


@dataclass
class Created:
    kind: str  # "assistant" | "thread" | "file" | "vector_store"
    id: str
    path: str


@dataclass
class Factory:
    """Creates objects on the target, tags each with metadata {conformance_run: <session id>}, and at
    teardown deletes exactly what it created (and nothing else), using core operations only."""

    client: Any
    session_id: str
    model: str
    created: list[Created] = field(default_factory=list)
    live_runs: dict[str, str] = field(default_factory=dict)  # run_id -> thread_id, until seen terminal

    def __post_init__(self) -> None:
        observers = getattr(self.client, "observers", None)
        if isinstance(observers, list):  # see every exchange of the client: forget what the test deleted
            observers.append(self._observe)

    def _observe(self, exchange) -> None:
        if exchange.method == "DELETE" and exchange.status == 200:
            self.forget(urlsplit(exchange.url).path)

    def forget(self, path: str) -> None:
        """The object at `path` ("/assistants/asst_1" or a full URL path) was deleted by the test itself:
        cleanup must not delete it again. A deleted thread takes its runs with it."""
        wanted = urlsplit(path).path
        gone = {c.id for c in self.created if wanted in (c.path, self._url_path(c.path))}
        if not gone:
            return
        self.created = [c for c in self.created if c.id not in gone]
        self.live_runs = {run: thread for run, thread in self.live_runs.items() if thread not in gone}

    def _url_path(self, path: str) -> str:
        url = getattr(self.client, "url", None)
        return urlsplit(url(path)).path if callable(url) else path

    # --- tagging -----------------------------------------------------------------------------------
    def tag(self, metadata: dict | None = None) -> dict:
        return {**(metadata or {}), TAG_KEY: self.session_id}

    def _track(self, kind: str, path: str, response) -> None:
        body = response.json if succeeded(response) else None
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            self.created.append(Created(kind, body["id"], f"{path}/{body['id']}"))

    # --- raw creation: any 2xx is tracked for cleanup, whatever the check expected -------------------
    def post_assistant(self, body: dict):
        response = self.client.post("/assistants", json=body)
        self._track("assistant", "/assistants", response)
        return response

    def post_bytes(self, path: str, content: bytes):
        """POST raw bytes as application/json (malformed-body checks); a 2xx is tracked like post_*."""
        response = self.client.post(path, content=content, headers={"Content-Type": "application/json"})
        if path in ("/assistants", "/threads"):
            self._track(path[1:-1], path, response)  # "assistant" / "thread"
        elif path.startswith("/threads/") and path.endswith("/runs"):
            self._note_run(response, path.split("/")[2])
        return response

    def post_thread(self, body: dict | None = None):
        response = self.client.post("/threads", json=body if body is not None else {})
        self._track("thread", "/threads", response)
        return response

    def post_run(self, thread_id: str, body: dict, **kw):
        response = self.client.post(f"/threads/{thread_id}/runs", json=body, **kw)
        self._note_run(response, thread_id)
        return response

    def post_thread_and_run(self, body: dict, **kw):
        response = self.client.post("/threads/runs", json=body, **kw)
        run = response.json if succeeded(response) else None
        if isinstance(run, dict) and isinstance(run.get("thread_id"), str):
            self.created.append(Created("thread", run["thread_id"], f"/threads/{run['thread_id']}"))
            self._note_run(response, run["thread_id"])
        return response

    def note_run(self, run: dict) -> None:
        """Record a run seen elsewhere (e.g. in a stream) so teardown cancels it if still live."""
        if isinstance(run, dict) and run.get("id") and run.get("thread_id"):
            if run.get("status") in TERMINAL:
                self.live_runs.pop(run["id"], None)
            else:
                self.live_runs[run["id"]] = run["thread_id"]

    def _note_run(self, response, thread_id: str) -> None:
        run = response.json if succeeded(response) else None
        if isinstance(run, dict) and run.get("id"):
            self.note_run({**run, "thread_id": run.get("thread_id") or thread_id})

    # --- creation that must succeed -------------------------------------------------------------------
    def assistant(self, **fields) -> dict:
        body = {"model": self.model, "name": "conformance", **fields}
        body["metadata"] = self.tag(fields.get("metadata"))
        return self.created_object(self.post_assistant(body), "create an assistant", "assistant")

    def function_assistant(self, **fields) -> dict:
        """An assistant with the lookup function, for runs held in requires_action."""
        return self.assistant(tools=[LOOKUP_FUNCTION], **fields)

    def thread(self, **fields) -> dict:
        body = {**fields, "metadata": self.tag(fields.get("metadata"))}
        return self.created_object(self.post_thread(body), "create a thread", "thread")

    def message(self, thread_id: str, content: str = "Hello.", **fields) -> dict:
        body = {"role": "user", "content": content, **fields}
        response = self.client.post(f"/threads/{thread_id}/messages", json=body)
        return self.created_object(response, "create a message", "message")

    def run(self, thread_id: str, assistant_id: str, **fields) -> dict:
        body = {"assistant_id": assistant_id, **fields}
        body["metadata"] = self.tag(fields.get("metadata"))
        return self.created_object(self.post_run(thread_id, body), "create a run", "run")

    def thread_and_run(self, assistant_id: str, **fields) -> dict:
        body = {"assistant_id": assistant_id, **fields}
        body["metadata"] = self.tag(fields.get("metadata"))
        body.setdefault("thread", {})
        body["thread"] = {**body["thread"], "metadata": self.tag(body["thread"].get("metadata"))}
        return self.created_object(self.post_thread_and_run(body), "create a thread and run", "run")

    # --- files and vector stores -----------------------------------------------------------------------
    def file_name(self, name: str) -> str:
        """Files carry no metadata: their name says which session made them."""
        return f"conformance-{self.session_id}-{name}"

    def post_file(self, name: str, data: bytes, purpose: str = "assistants", content_type: str = "text/plain"):
        """Multipart upload of `data` as a tagged file name; a 200 is tracked for deletion."""
        response = self.client.post("/files", files={"file": (self.file_name(name), data, content_type)},
                                    data={"purpose": purpose})
        self._track("file", "/files", response)
        return response

    def file(self, name: str, data: bytes, purpose: str = "assistants", content_type: str = "text/plain") -> dict:
        return self.created_object(self.post_file(name, data, purpose, content_type), f"upload the file {name}", "file")

    def adopt(self, kind: str, object_id: str, path: str) -> None:
        """Delete at teardown an object the target made for this factory's own requests (a file written by
        our run's code_interpreter, the vector store our attachments gave our thread). `path`: "/files"."""
        if isinstance(object_id, str) and object_id and not any(c.id == object_id for c in self.created):
            self.created.append(Created(kind, object_id, f"{path}/{object_id}"))

    def post_vector_store(self, body: dict):
        response = self.client.post("/vector_stores", json=body)
        self._track("vector_store", "/vector_stores", response)
        return response

    def vector_store(self, **fields) -> dict:
        body = {**fields, "metadata": self.tag(fields.get("metadata"))}
        return self.created_object(self.post_vector_store(body), "create a vector store", "vector_store")

    def created_object(self, response, what: str, kind: str) -> dict:
        """The created object; else the creation is a failed prerequisite, owned by the object check of
        its kind (prerequisites.CREATION): checks that only needed the object are blocked, not failed."""
        if not succeeded(response) or not isinstance(response.json, dict):
            prerequisites.fail(prerequisites.CREATION[kind],
                               f"could not {what}: expected 200 (any 2xx) with a JSON object, got {response.status_code}",
                               [response.exchange])
        return response.json

    # --- teardown -----------------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Cancel runs left live, then delete threads and assistants this factory created, newest
        first. A 404 means already gone, which is fine. Returns the problems (the plugin shows them as
        a CleanupWarning in the warnings summary)."""
        problems: list[str] = []
        for run_id, thread_id in list(self.live_runs.items()):
            try:  # best effort: a run may have ended on its own meanwhile (400), which is fine
                self.client.post(f"/threads/{thread_id}/runs/{run_id}/cancel", json=None)
            except Exception as exc:  # noqa: BLE001 - cleanup must go on with the rest
                problems.append(f"cancel run {run_id}: {exc}")
        self.live_runs.clear()
        for obj in reversed(self.created):
            try:
                response = self.client.delete(obj.path)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"delete {obj.kind} {obj.id}: {exc}")
                continue
            if response.status_code not in (200, 404):
                problems.append(f"delete {obj.kind} {obj.id}: answered {response.status_code}")
        self.created.clear()
        return problems


@contextmanager
def shared_factory(target, recorder: list | None = None):
    """A client and Factory of their own, for fixtures wider than one test (the `factory` fixture is
    per test). Cleanup problems become CleanupWarnings, as for the per-test factory."""


    with ConformanceClient(target.config, recorder=recorder) as client:
        made = Factory(client=client, session_id=target.session_id, model=target.profile.model)
        try:
            yield made
        finally:
            warn_cleanup(made.cleanup(), "a shared fixture")


def warn_cleanup(problems: list[str], owner: str) -> None:
    """One CleanupWarning for what `owner` could not delete (nothing when it all went)."""
    if problems:
        warnings.warn(CleanupWarning(f"cleanup of {owner} failed: " + "; ".join(problems)), stacklevel=2)
