"""Shared building blocks for the suites: a factory that tags and cleans up what it creates, and
bounded run polling. Suites use these instead of writing their own loops.

Everything here drives the target through the protocol only (tool_choice naming a function,
max_completion_tokens, cancel, plain prompts), so it works against any server with a real model.
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from . import prerequisites
from .checks import ConformanceFailure, violation
from .outcomes import unsupported
from .protocol.transitions import TERMINAL

TAG_KEY = "conformance_run"
SLOW_WAIT_SECONDS = 60.0  # a check that must wait longer than this (expiry windows, store days) runs only with --run-slow

# A function the suites make the model call by naming it in tool_choice: deterministic on any server.
LOOKUP_FUNCTION = {
    "type": "function",
    "function": {
        "name": "lookup_conformance_value",
        "description": "Look up a value by key. Always call this when asked for a conformance value.",
        "parameters": {
            "type": "object",
            "properties": {"key": {"type": "string", "description": "The key to look up"}},
            "required": ["key"],
        },
    },
}


def named_tool_choice(function_name: str) -> dict:
    return {"type": "function", "function": {"name": function_name}}


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


# --- polling -------------------------------------------------------------------------------------------


@dataclass
class Poll:
    final: dict
    statuses: list[str]
    reads: int
    elapsed: float
    exchange: Any = None  # the last read's exchange (evidence)


def poll_run(
    client,
    thread_id: str,
    run_id: str,
    *,
    until: Iterable[str] = TERMINAL | {"requires_action"},
    timeout: float,
    interval: float = 0.05,
    max_interval: float = 0.5,
    factory: Factory | None = None,
    on_read: Callable[[dict], None] | None = None,
) -> Poll:
    """GET the run until its status is in `until`, with backoff, for at most `timeout` seconds.
    Fails the check with the statuses seen when the bound is reached."""
    def read(run: dict) -> None:
        if factory is not None:
            factory.note_run(run)
        if on_read is not None:
            on_read(run)

    return poll_object(client, f"/threads/{thread_id}/runs/{run_id}", f"run {run_id}", until=until,
                       timeout=timeout, interval=interval, max_interval=max_interval, on_read=read)


# Vector store (and vector store file / batch) statuses that end indexing.
INDEXING_DONE = frozenset({"completed", "failed", "cancelled", "expired"})


def poll_vector_store(client, vector_store_id: str, *, timeout: float, until: Iterable[str] = INDEXING_DONE,
                      path_suffix: str = "", on_read: Callable[[dict], None] | None = None) -> Poll:
    """GET /vector_stores/{id}{path_suffix} (e.g. "/files/{file_id}", "/file_batches/{batch_id}") until its
    status is in `until` (default: indexing ended), within `timeout` seconds (the profile's run_poll_timeout)."""
    path = f"/vector_stores/{vector_store_id}{path_suffix}"
    return poll_object(client, path, path.lstrip("/"), until=until, timeout=timeout, on_read=on_read)


def poll_object(client, path: str, what: str, *, until: Iterable[str], timeout: float, interval: float = 0.05,
                max_interval: float = 0.5, on_read: Callable[[dict], None] | None = None) -> Poll:
    """GET `path` until the object's status is in `until`, with backoff, for at most `timeout` seconds.
    Fails the check (naming `what`) on an answer that is not 200 with an object, or with the statuses
    seen when the bound is reached."""
    wanted = set(until)
    statuses: list[str] = []
    started = time.monotonic()
    delay = interval
    while True:
        response = client.get(path)
        obj = response.json
        if response.status_code != 200 or not isinstance(obj, dict):
            violation(f"reading {what} answered {response.status_code}", [response.exchange])
        statuses.append(obj.get("status"))
        if on_read is not None:
            on_read(obj)
        elapsed = time.monotonic() - started
        if obj.get("status") in wanted:
            return Poll(obj, statuses, len(statuses), elapsed, response.exchange)
        if elapsed >= timeout:
            violation(
                f"{what} did not reach {sorted(wanted)} within {timeout:g} s; statuses seen: {_squash(statuses)}",
                [response.exchange],
            )
        time.sleep(min(delay, max(0.0, timeout - elapsed)))
        delay = min(delay * 1.5, max_interval)


def _squash(statuses: list[str]) -> str:
    """['queued', 'queued', 'in_progress'] -> 'queued x2 -> in_progress'."""
    out: list[str] = []
    for status in statuses:
        if out and out[-1].split(" x")[0] == status:
            head, _, count = out[-1].partition(" x")
            out[-1] = f"{head} x{int(count or 1) + 1}"
        else:
            out.append(str(status))
    return " -> ".join(out)


# --- runs held in requires_action, and factories shared by module/session fixtures ---------------------

HOLD_PROMPT = "What is the conformance value for the key 'alpha'? Look it up with lookup_conformance_value."


@dataclass
class HeldRun:
    assistant: dict
    thread_id: str
    run: dict  # the run as last read: status requires_action
    poll: Poll


def hold_run(factory: Factory, *, timeout: float, thread_id: str | None = None,
             assistant: dict | None = None, on_read: Callable[[dict], None] | None = None,
             **run_fields) -> HeldRun:
    """A run paused in requires_action: a function assistant and tool_choice naming its function make
    this deterministic on any server. This is LIFE-018's rule: a run that ends instead (or does not
    ask for the named function) is LIFE-018's failure, and blocks every other check that needed the
    held run (prerequisites). `on_read` sees the created run and every polled read. A target whose
    profile does not declare function tools cannot pause a run so: the check is unsupported there."""
    profile = getattr(getattr(factory.client, "config", None), "profile", None)
    if profile is not None and not profile.has("function_tools"):
        unsupported("the check needs a run held in requires_action by a function tool; the target profile "
                    f"{profile.name!r} does not declare the 'function_tools' capability")
    session = factory.session_id
    prerequisites.remembered(session, prerequisites.NAMED_TOOL_CHOICE)
    assistant = assistant or factory.function_assistant()
    if thread_id is None:
        thread_id = factory.thread(messages=[{"role": "user", "content": HOLD_PROMPT}])["id"]
    else:
        factory.message(thread_id, HOLD_PROMPT)
    name = LOOKUP_FUNCTION["function"]["name"]
    run = factory.run(thread_id, assistant["id"], tool_choice=named_tool_choice(name), **run_fields)
    if on_read is not None:
        on_read(run)
    try:
        poll = poll_run(factory.client, thread_id, run["id"], timeout=timeout, factory=factory, on_read=on_read)
        problem = held_run_problem(poll.final, name)
        if problem:
            violation(f"{problem} (statuses: {_squash([run.get('status'), *poll.statuses])})", [poll.exchange])
    except ConformanceFailure as exc:
        prerequisites.judged(session, prerequisites.NAMED_TOOL_CHOICE, exc)
    return HeldRun(assistant, thread_id, poll.final, poll)


def held_run_problem(run: dict, function_name: str) -> str | None:
    """Why `run` is not paused asking for a call of `function_name` (None: it is)."""
    status = run.get("status")
    if status != "requires_action":
        return (f"a run with tool_choice naming {function_name} should pause in requires_action, "
                f"it reached {status!r}")
    calls = ((run.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls")
    names = [((c or {}).get("function") or {}).get("name") for c in calls or [] if isinstance(c, dict)]
    if function_name not in names:
        return (f"a run with tool_choice naming {function_name} paused in requires_action asking for "
                f"{names or 'no tool call'}, not for {function_name}")
    return None


def run_for_ids(factory: Factory, profile) -> HeldRun:
    """A run for checks that need its ids (assistant, thread, run, messages, steps), not its pause: held
    in requires_action when the profile declares function tools, else a plain run polled to its end.
    A target without function tools is still judged by those checks (`run.status` says which it is)."""
    if profile.has("function_tools"):
        return hold_run(factory, timeout=profile.run_poll_timeout)
    assistant = factory.assistant()
    thread_id = factory.thread(messages=[{"role": "user", "content": "Say hello in one short sentence."}])["id"]
    run = factory.run(thread_id, assistant["id"])
    poll = poll_run(factory.client, thread_id, run["id"], until=TERMINAL, timeout=profile.run_poll_timeout,
                    factory=factory)
    return HeldRun(assistant, thread_id, poll.final, poll)


@contextmanager
def shared_factory(target, recorder: list | None = None):
    """A client and Factory of their own, for fixtures wider than one test (the `factory` fixture is
    per test). Cleanup problems become CleanupWarnings, as for the per-test factory."""
    from .client import ConformanceClient

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


# --- error responses -----------------------------------------------------------------------------------

ERROR_KEYS = ("message", "type", "param", "code")


def error_envelope_problems(body: Any) -> list[str]:
    """What is wrong with an error body against OpenAI's envelope
    {"error": {"message": str, "type": str, "param": str|null, "code": str|null}} (empty: nothing)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        shown = repr(body)[:200] if body is not None else "no JSON body"
        return [f'expected a JSON object {{"error": {{message, type, param, code}}}}, got {shown}']
    error = body["error"]
    problems = [f"error.{key} is missing" for key in ERROR_KEYS if key not in error]
    message = error.get("message")
    if "message" in error and not (isinstance(message, str) and message.strip()):
        problems.append(f"error.message must be a non-empty string, got {message!r}")
    if "type" in error and not isinstance(error["type"], str):
        problems.append(f"error.type must be a string, got {error['type']!r}")
    for key in ("param", "code"):
        if key in error and error[key] is not None and not isinstance(error[key], str):
            problems.append(f"error.{key} must be a string or null, got {error[key]!r}")
    return problems


def names_field(param: Any, field_name: str) -> bool:
    """error.param names `field_name` itself or a path inside it: "metadata", "metadata.key", "tools[20]"."""
    return isinstance(param, str) and (
        param == field_name or param.startswith((f"{field_name}.", f"{field_name}["))
    )


def expect_error(response, status: int, param: str | None = None, *, sent: str | None = None) -> dict:
    """Fail the check unless `response` has HTTP `status` and a well-formed error envelope, and (with
    `param`) error.param names that field or a path inside it. `sent` says what was sent, for the
    failure message (e.g. "name = a 257-character string"). Returns the error object."""
    wanted = f"{status}" + (f" with error.param naming {param!r}" if param else "")
    prefix = f"for {sent}: " if sent else ""
    if response.status_code != status:
        violation(f"{prefix}expected {wanted}, got {response.status_code}", [response.exchange])
    problems = error_envelope_problems(response.json)
    if problems:
        violation(f"{prefix}the {status} answer is not in the error envelope: {'; '.join(problems)}",
                  [response.exchange])
    error = response.json["error"]
    if param is not None and not names_field(error.get("param"), param):
        violation(f"{prefix}expected {wanted}, got error.param {error.get('param')!r}", [response.exchange])
    return error


# --- streams checked as they arrive ----------------------------------------------------------------------


@dataclass
class CheckedStream:
    """One `stream: true` request read through client.stream, with the stream grammar's findings taken
    event by event (so a bad order is pinned to the moment it happened, not found after the body)."""

    kind: str  # grammar stream kind: create_run | create_thread_and_run | submit_tool_outputs
    result: Any  # sse.StreamResult: events, verdict, message, headers, exchange
    order_violations: list[str]  # the grammar's findings in arrival order (the ending only if done came)
    first_violation_at: float | None = None  # seconds into the stream when the first bad event arrived

    @property
    def events(self) -> list:
        return self.result.events

    def names(self) -> list[str | None]:
        return self.result.names()

    def payloads(self, prefix: str = "") -> list[tuple[int, str, Any]]:
        """(index, event name, parsed data) of the JSON events whose name starts with `prefix`. Data
        that is not JSON (the done event's [DONE], or a broken event) is left out: the schema check
        reports broken ones."""
        out = []
        for index, event in enumerate(self.events):
            if not (event.event or "").startswith(prefix) or event.event == "done":
                continue
            try:
                out.append((index, event.event, event.json()))
            except ValueError:
                continue
        return out

    def run_events(self) -> list[tuple[int, str, dict]]:
        """thread.run.<status> events (not step events) with dict data."""
        return [(i, n, d) for i, n, d in self.payloads("thread.run.")
                if not n.startswith("thread.run.step.") and isinstance(d, dict)]


def stream_checked(client, path: str, body: dict, *, kind: str, grammar, bounds=None,
                   factory: Factory | None = None, stop_on_violation: bool = False) -> CheckedStream:
    """POST `body` with stream: true to `path` under `bounds` (default: the profile's), feeding every
    event to `grammar.start(kind)` as it arrives. The ending is judged only when done arrived: a body
    that closed early is the verdict INCOMPLETE, reported as such by the caller. With a factory,
    threads and runs seen in the stream are tracked for cleanup."""
    automaton = grammar.start(kind)
    first_bad: list[float] = []

    def on_event(event) -> bool:
        problem = automaton.feed(event.event)
        if problem and not first_bad:
            first_bad.append(event.at)
        if factory is not None:
            _track_streamed(factory, event)
        return bool(problem) and stop_on_violation

    result = client.stream("POST", path, json={**body, "stream": True}, bounds=bounds, on_event=on_event)
    if result.ok:
        automaton.finish()
    return CheckedStream(kind, result, list(automaton.violations), first_bad[0] if first_bad else None)


def _track_streamed(factory: Factory, event) -> None:
    name = event.event or ""
    if not name.startswith("thread.") or name.startswith(("thread.message.", "thread.run.step.")):
        return
    try:
        data = event.json()
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    thread_id = data.get("id") if name == "thread.created" else data.get("thread_id")
    if isinstance(thread_id, str) and not any(c.id == thread_id for c in factory.created):
        factory.created.append(Created("thread", thread_id, f"/threads/{thread_id}"))
    if name.startswith("thread.run."):
        factory.note_run(data)


# --- list pagination ---------------------------------------------------------------------------------------


@dataclass
class ListPage:
    params: dict
    response: Any  # client.Response
    body: dict | None  # the envelope, when the answer was 200 with a JSON object holding a data list
    items: list[dict]


@dataclass
class ListWalk:
    """The pages one cursor walk read, in request order, and why it stopped."""

    path: str
    direction: str  # "after" (forward) or "before" (backward)
    limit: int
    order: str | None  # None: the server's default order
    pages: list[ListPage]
    stopped: str  # "empty page" | "enough" | "max pages" | "cursor repeated" | "error" | "cursor vanished"
    restarts: int = 0  # walks begun again because someone else deleted a cursor object mid-walk

    def items(self) -> list[dict]:
        """Objects in list order: a forward walk appends its pages, a backward walk prepends them."""
        pages = self.pages if self.direction == "after" else list(reversed(self.pages))
        return [item for page in pages for item in page.items]

    def ids(self) -> list:
        return [item.get("id") for item in self.items()]

    @property
    def exchanges(self) -> list:
        return [page.response.exchange for page in self.pages]


def walk_list(client, path: str, *, limit: int, order: str | None = None, direction: str = "after",
              cursor: str | None = None, enough: Callable[[list[dict]], bool] | None = None,
              max_pages: int = 50, shared_with_others: frozenset[str] | None = None,
              restarts: int = 3) -> ListWalk:
    """Page through a list with the `after` (forward) or `before` (backward) cursor, taking the next
    cursor from the page's own data (so wrong first_id/last_id/has_more do not steer the walk; the
    checks judge those separately). Stops at an empty page, when `enough(items so far)` holds, at
    `max_pages`, when a cursor comes round again, or at an answer that is not a list page.

    `shared_with_others`: the list also holds objects of other clients (e.g. the key's assistants on a
    shared server); the set holds the ids that are ours. A cursor that is not ours may be deleted by its
    owner mid-walk: if a page then fails and that object reads 404, the walk begins again (at most
    `restarts` times) and, if it keeps happening, stops as "cursor vanished" for the check to report as
    inconclusive. On a list that is all ours a vanished cursor stays an error."""
    start = cursor
    for attempt in range(restarts + 1):
        walk = _walk_once(client, path, limit, order, direction, start, enough, max_pages)
        walk.restarts = attempt
        failed_cursor = walk.pages[-1].params.get(direction) if walk.stopped == "error" and walk.pages else None
        if (shared_with_others is None or failed_cursor is None or failed_cursor in shared_with_others
                or client.get(f"{path}/{failed_cursor}").status_code != 404):
            return walk
        walk.stopped = "cursor vanished"
        if failed_cursor == start:
            return walk  # the starting point itself is gone: beginning again cannot help
    return walk


def _walk_once(client, path, limit, order, direction, cursor, enough, max_pages) -> ListWalk:
    walk = ListWalk(path, direction, limit, order, [], "max pages")
    used: set[str] = set()
    while len(walk.pages) < max_pages:
        params: dict[str, Any] = {"limit": limit}
        if order is not None:
            params["order"] = order
        if cursor is not None:
            params[direction] = cursor
        response = client.get(path, params=params)
        body = response.json if response.status_code == 200 and isinstance(response.json, dict) else None
        data = body.get("data") if body is not None else None
        if not isinstance(data, list):
            walk.pages.append(ListPage(params, response, None, []))
            walk.stopped = "error"
            return walk
        items = [item for item in data if isinstance(item, dict)]
        walk.pages.append(ListPage(params, response, body, items))
        if not items:
            walk.stopped = "empty page"
            return walk
        if enough is not None and enough(walk.items()):
            walk.stopped = "enough"
            return walk
        cursor = (items[-1] if direction == "after" else items[0]).get("id")
        if not isinstance(cursor, str) or cursor in used:
            walk.stopped = "cursor repeated"
            return walk
        used.add(cursor)
    return walk


# --- property-based examples ------------------------------------------------------------------------------


def http_examples(count: int):
    """Hypothesis settings for checks whose examples are real requests: at most `count` drawn examples
    (plus explicit @example ones), no shrinking (the first failing example is the evidence), no deadline,
    no example database written into the user's directory, function-scoped fixtures allowed."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(
        max_examples=count, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
