"""The load profiles as Locust user classes. Select by class (`locust -f load/locustfile.py StreamingUser`)
or by tag (`--tags streaming`); all of them together, by weight, are the `mixed` profile.

  polling     create thread and run, then poll with backoff until terminal
  streaming   streamed runs (create-thread-and-run, and a run on the user's own thread)
  tools       requires_action -> submit_tool_outputs, streamed and polled
  contention  many users on a few shared threads: lock rejections expected, two active runs never (LOAD-002)
  crud        assistants, threads and messages: create, read, update, delete
  files       upload a file, index it in a vector store, a file_search run on it, delete it all
"""

from __future__ import annotations

import logging
import random
import time

import gevent
from gevent.lock import Semaphore
from locust import between, tag, task

from ..flows import LOOKUP_FUNCTION, named_tool_choice
from ..protocol.transitions import LOCKING, TERMINAL, check_observed
from . import checks
from .metrics import (COUNT, FILE_SEARCH_RUN_END_TO_END, LOCK_REJECTIONS, METRIC, REQUIRES_ACTION_ROUND_TRIP, RUN_END_TO_END, TIME_TO_INDEXED, RequestFailure, fire)
from .profiles import PROFILES as PROFILE_NAMES
from .runtime import RUNTIME
from .session import RequestFailed
from .harness_user import HarnessUser, guarded  # noqa: F401 - HarnessUser is the base other modules import from here

log = logging.getLogger("assistants_conformance.load")
PROMPT = "count to 12"          # the reference model answers "1, 2, ..., 12." (12 text deltas)
TOOL_PROMPT = "Look up the conformance value for key load."
FILE_TEXT = ("Load test notes.\nThe conformance value of the load key is 42.\n"
             "Penguins live in the southern hemisphere, mostly around Antarctica.\n")
FILE_QUESTION = "Where do penguins live?"


class PollingUser(HarnessUser):
    weight = 3

    @tag("polling")
    @task
    @guarded
    def thread_and_run_polled(self, intended: float | None = None) -> None:
        begin = intended or time.monotonic()
        body = {"assistant_id": self.assistant(), "thread": {"messages": [{"role": "user", "content": PROMPT}]}}
        run = self.api.call("POST", "/threads/runs", "/threads/runs", json=body, intended=intended).json
        final, _ = self.poll(run["thread_id"], run["id"], first=run)
        fire(self.environment, RUNTIME.recorder, METRIC, RUN_END_TO_END, (time.monotonic() - begin) * 1000)
        self.api.usage(final.get("usage"))


class StreamingUser(HarnessUser):
    weight = 3
    _thread: str | None = None

    @tag("streaming")
    @task(2)
    @guarded
    def thread_and_run_streamed(self, intended: float | None = None) -> None:
        body = {"assistant_id": self.assistant(), "thread": {"messages": [{"role": "user", "content": PROMPT}]}}
        begin = intended or time.monotonic()
        self.api.stream("/threads/runs", "/threads/runs (stream)", body, "create_thread_and_run", intended=intended)
        fire(self.environment, RUNTIME.recorder, METRIC, RUN_END_TO_END, (time.monotonic() - begin) * 1000)

    @tag("streaming")
    @task(1)
    @guarded
    def run_streamed_on_own_thread(self) -> None:
        if self._thread is None:
            self._thread = self.api.call("POST", "/threads", "/threads", json={}).json["id"]
        self.api.call("POST", f"/threads/{self._thread}/messages", "/threads/{id}/messages",
                      json={"role": "user", "content": PROMPT})
        started = time.monotonic()
        self.api.stream(f"/threads/{self._thread}/runs", "/threads/{id}/runs (stream)",
                        {"assistant_id": self.assistant()}, "create_run")
        fire(self.environment, RUNTIME.recorder, METRIC, RUN_END_TO_END, (time.monotonic() - started) * 1000)


class ToolsUser(HarnessUser):
    """A run that calls the lookup function (named in tool_choice, so any model must call it), then
    submit_tool_outputs. requires_action_round_trip: from seeing requires_action to the run moving on
    (the submit's answer, or the continuation stream's first event)."""

    weight = 2

    def tools_body(self) -> dict:
        return {"assistant_id": self.assistant(tools=[LOOKUP_FUNCTION]),
                "tool_choice": named_tool_choice(LOOKUP_FUNCTION["function"]["name"]),
                "thread": {"messages": [{"role": "user", "content": TOOL_PROMPT}]}}

    @staticmethod
    def outputs(run: dict) -> list[dict]:
        calls = ((run.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls") or []
        return [{"tool_call_id": call["id"], "output": "42"} for call in calls]

    @tag("tools")
    @task
    @guarded
    def tools_streamed(self, intended: float | None = None) -> None:
        begin = intended or time.monotonic()
        first = self.api.stream("/threads/runs", "/threads/runs (stream, tools)", self.tools_body(),
                                "create_thread_and_run", intended=intended)
        run = first.run or {}
        if run.get("status") != "requires_action":
            raise self._unexpected("stream", run)
        seen = time.monotonic()
        path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
        second = self.api.stream(path, "/threads/{id}/runs/{id}/submit_tool_outputs (stream)",
                                 {"tool_outputs": self.outputs(run)}, "submit_tool_outputs")
        if second.first_event_at is not None:
            fire(self.environment, RUNTIME.recorder, METRIC, REQUIRES_ACTION_ROUND_TRIP,
                 (second.first_event_at - seen) * 1000)
        fire(self.environment, RUNTIME.recorder, METRIC, RUN_END_TO_END, (time.monotonic() - begin) * 1000)

    @tag("tools")
    @task
    @guarded
    def tools_polled(self, intended: float | None = None) -> None:
        begin = intended or time.monotonic()
        body = self.tools_body()
        run = self.api.call("POST", "/threads/runs", "/threads/runs (tools)", json=body, intended=intended).json
        run, _ = self.poll(run["thread_id"], run["id"], until=TERMINAL | {"requires_action"}, first=run)
        if run.get("status") != "requires_action":
            raise self._unexpected("polling", run)
        seen = time.monotonic()
        path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
        resumed = self.api.call("POST", path, "/threads/{id}/runs/{id}/submit_tool_outputs",
                                json={"tool_outputs": self.outputs(run)}).json
        fire(self.environment, RUNTIME.recorder, METRIC, REQUIRES_ACTION_ROUND_TRIP, (time.monotonic() - seen) * 1000)
        final, _ = self.poll(run["thread_id"], run["id"], first=resumed)
        fire(self.environment, RUNTIME.recorder, METRIC, RUN_END_TO_END, (time.monotonic() - begin) * 1000)
        self.api.usage(final.get("usage"))

    def _unexpected(self, how: str, run: dict) -> RequestFailed:
        reason = f"expected requires_action ({how}), run is {run.get('status')!r}"
        fire(self.environment, RUNTIME.recorder, "FLOW", "tools: requires_action", 0, exception=RequestFailure(reason))
        return RequestFailed(reason)


class SharedThreads:
    """The few threads the contention users of this process fight over (created once, lazily)."""

    COUNT = 3

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._lock = Semaphore()

    def get(self, user: "ContentionUser") -> list[str]:
        with self._lock:
            while len(self.ids) < self.COUNT:
                self.ids.append(user.api.call("POST", "/threads", "/threads", json={}).json["id"])
        return self.ids


SHARED_THREADS = SharedThreads()


class ContentionUser(HarnessUser):
    """Many users on a few threads. A 400 on a locked thread is expected (counted as lock_rejections);
    every operation goes into the thread's history, which the oracle checks when the run stops."""

    weight = 2
    wait_time = between(0.0, 0.02)

    def record(self, thread_id, kind, start, response=None, *, run=None, outcome=None):
        run = run if run is not None else (response.json if response is not None and response.status_code == 200 else None)
        outcome = outcome or ("ok" if run is not None else "fail")
        RUNTIME.histories.record(thread_id, kind, start, outcome, run_id=(run or {}).get("id"),
                                 status=(run or {}).get("status"))

    def contended_call(self, thread_id: str, kind: str, method: str, path: str, name: str, body):
        """A request whose outcome is part of the history: a transport failure is `unknown` (it may
        still take effect), a 400 is `fail` (no effect)."""
        start = time.monotonic()
        try:
            response = self.api.call(method, path, name, json=body, tolerate=(400,))
        except RequestFailed:
            RUNTIME.histories.record(thread_id, kind, start, "unknown")
            raise
        if response.status_code == 400:
            fire(self.environment, RUNTIME.recorder, COUNT, LOCK_REJECTIONS, 1)
        return start, response

    @tag("contention")
    @task(3)
    @guarded
    def run_on_shared_thread(self) -> None:
        thread_id = random.choice(SHARED_THREADS.get(self))
        start, response = self.contended_call(thread_id, "create_run", "POST", f"/threads/{thread_id}/runs",
                                              "/threads/{shared}/runs", {"assistant_id": self.assistant()})
        if response.status_code != 200:
            self.record(thread_id, "create_run", start, outcome="fail")
            return
        run = response.json
        self.record(thread_id, "create_run", start, run=run)
        statuses = [run["status"]]
        delay, deadline = 0.0, time.monotonic() + self.config.profile.run_poll_timeout
        while run.get("status") in LOCKING and time.monotonic() < deadline:
            gevent.sleep(delay)  # first read at once: the run must be seen active while it is
            delay = min(max(delay * 1.5, 0.01), 0.2)
            start = time.monotonic()
            run = self.api.call("GET", f"/threads/{thread_id}/runs/{run['id']}", "/threads/{shared}/runs/{id}").json
            self.record(thread_id, "get_run", start, run=run)
            statuses.append(run.get("status"))
        checks.judge(self.environment, RUNTIME.recorder, checks.RUN_STATUS_SEQUENCE,
                     [f"run {run['id']}: {problem}" for problem in check_observed(statuses)])

    @tag("contention")
    @task(1)
    @guarded
    def message_on_shared_thread(self) -> None:
        thread_id = random.choice(SHARED_THREADS.get(self))
        start, response = self.contended_call(thread_id, "create_message", "POST", f"/threads/{thread_id}/messages",
                                              "/threads/{shared}/messages", {"role": "user", "content": "hi"})
        self.record(thread_id, "create_message", start, outcome="ok" if response.status_code == 200 else "fail")


class CrudUser(HarnessUser):
    weight = 2

    @tag("crud")
    @task
    @guarded
    def assistant_thread_message_lifecycle(self) -> None:
        call = self.api.call
        asst = call("POST", "/assistants", "/assistants", json={"model": self.model, "name": "crud"}).json["id"]
        call("GET", f"/assistants/{asst}", "/assistants/{id}")
        call("POST", f"/assistants/{asst}", "/assistants/{id} (update)", json={"description": "updated"})
        thread = call("POST", "/threads", "/threads", json={"metadata": {"k": "v"}}).json["id"]
        call("GET", f"/threads/{thread}", "/threads/{id}")
        call("POST", f"/threads/{thread}", "/threads/{id} (update)", json={"metadata": {"k": "w"}})
        msg = call("POST", f"/threads/{thread}/messages", "/threads/{id}/messages",
                   json={"role": "user", "content": "crud"}).json["id"]
        call("GET", f"/threads/{thread}/messages/{msg}", "/threads/{id}/messages/{id}")
        call("POST", f"/threads/{thread}/messages/{msg}", "/threads/{id}/messages/{id} (update)",
             json={"metadata": {"seen": "yes"}})
        call("GET", f"/threads/{thread}/messages", "/threads/{id}/messages (list)", params={"limit": 5})
        call("DELETE", f"/threads/{thread}/messages/{msg}", "/threads/{id}/messages/{id} (delete)")
        call("DELETE", f"/threads/{thread}", "/threads/{id} (delete)")
        call("DELETE", f"/assistants/{asst}", "/assistants/{id} (delete)")


class FilesUser(HarnessUser):
    """Upload a small text file (purpose assistants), index it in a new vector store (polled until the
    file is indexed, within run_poll_timeout), ask an assistant with file_search about it (tool_choice
    file_search, streamed to done: grammar and consistency checked), then delete what was made.

    Figures: the upload request (POST /files (upload)), time_to_indexed (vector store create -> file
    counted completed), file_search_run_end_to_end (thread create -> stream done). Needs a target with
    files, vector_stores and file_search; the `load` command leaves it out of `mixed` otherwise."""

    weight = 1

    @tag("files")
    @task
    @guarded
    def upload_index_search(self) -> None:
        made: list[tuple[str, str]] = []   # (path, stats name) to delete, newest last
        try:
            self._upload_index_search(made)
        except gevent.GreenletExit:
            made.clear()  # the run is stopping: no new requests (leftovers are the target's to expire)
            raise
        finally:
            for path, name in reversed(made):
                try:
                    self.api.call("DELETE", path, name)
                except RequestFailed:
                    pass  # reported; the other deletes still run

    def _upload_index_search(self, made: list[tuple[str, str]]) -> None:
        call = self.api.call
        upload = call("POST", "/files", "/files (upload)", data={"purpose": "assistants"},
                      files={"file": ("load-notes.txt", FILE_TEXT.encode(), "text/plain")}).json
        made.append((f"/files/{upload['id']}", "/files/{id} (delete)"))
        indexing = time.monotonic()
        store = call("POST", "/vector_stores", "/vector_stores",
                     json={"name": "load", "file_ids": [upload["id"]]}).json
        made.append((f"/vector_stores/{store['id']}", "/vector_stores/{id} (delete)"))
        self._await_indexed(store, indexing)
        fire(self.environment, RUNTIME.recorder, METRIC, TIME_TO_INDEXED, (time.monotonic() - indexing) * 1000)
        assistant = call("POST", "/assistants", "/assistants (file_search)", json={
            "model": self.model, "name": "load-files", "tools": [{"type": "file_search"}],
            "tool_resources": {"file_search": {"vector_store_ids": [store["id"]]}}}).json
        made.append((f"/assistants/{assistant['id']}", "/assistants/{id} (delete)"))
        begin = time.monotonic()
        thread = call("POST", "/threads", "/threads", json={
            "messages": [{"role": "user", "content": FILE_QUESTION}]}).json
        made.append((f"/threads/{thread['id']}", "/threads/{id} (delete)"))
        outcome = self.api.stream(f"/threads/{thread['id']}/runs", "/threads/{id}/runs (stream, file_search)",
                                  {"assistant_id": assistant["id"], "tool_choice": {"type": "file_search"}},
                                  "create_run")
        if outcome.status != "completed":
            reason = f"file_search run ended {outcome.status!r}" + _last_error(outcome.run)
            fire(self.environment, RUNTIME.recorder, "FLOW", "files: run completed", 0,
                 exception=RequestFailure(reason))
            raise RequestFailed(reason)
        fire(self.environment, RUNTIME.recorder, METRIC, FILE_SEARCH_RUN_END_TO_END, (time.monotonic() - begin) * 1000)

    def _await_indexed(self, store: dict, since: float) -> None:
        """GET the store with backoff (25 ms, x1.5, at most 500 ms) until no file is in progress."""
        delay, deadline = 0.025, since + self.config.profile.run_poll_timeout
        while (store.get("file_counts") or {}).get("in_progress", 1) > 0 or store.get("status") == "in_progress":
            if time.monotonic() > deadline:
                raise self._flow_failure(f"vector store not indexed within {self.config.profile.run_poll_timeout:g} s;"
                                         f" file_counts {store.get('file_counts')}")
            gevent.sleep(delay)
            delay = min(delay * 1.5, 0.5)
            store = self.api.call("GET", f"/vector_stores/{store['id']}", "/vector_stores/{id} (poll)").json
        counts = store.get("file_counts") or {}
        if counts.get("completed") != 1:
            raise self._flow_failure(f"file not indexed: vector store {store.get('status')!r}, file_counts {counts}")

    def _flow_failure(self, reason: str) -> RequestFailed:
        fire(self.environment, RUNTIME.recorder, "FLOW", "files: indexed", 0, exception=RequestFailure(reason))
        return RequestFailed(reason)


def _last_error(run: dict | None) -> str:
    error = (run or {}).get("last_error")
    return f" ({error.get('code')}: {error.get('message')})" if isinstance(error, dict) else ""


PROFILES: dict[str, list[type[HarnessUser]]] = {
    name: [globals()[cls] for cls in classes] for name, classes in PROFILE_NAMES.items()}
