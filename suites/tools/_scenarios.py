"""Hosted-tool scenarios shared by the tools checks (fixtures in conftest.py): a file_search run and a code_interpreter run, each
driven once per session (per xdist worker) and recorded with everything read back afterwards.

* `search_run`: a text file indexed in a vector store, an assistant with file_search over it, a question
  about the file and tool_choice {"type": "file_search"} (the run must search); its steps read with and
  without include[] of the result contents, its answer message; then the same run streamed.
* `code_run`: an assistant with code_interpreter, "Use code to solve 3x + 11 = 14 ..." and tool_choice
  {"type": "code_interpreter"}; steps and answer; then the same run streamed.

Prompts are plain requests a real model honours; tool_choice forces the tool through the protocol. What a
model writes (citations, files, printing) is its choice: the checks accept every valid one and report
"inconclusive" (a skip) when the answer gives them nothing to judge. A scenario never fails on its own:
its problem is re-raised by every check that uses it (`ToolRun.ok()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from assistants_conformance import prerequisites
from assistants_conformance.checks import ConformanceFailure, violation
from assistants_conformance.wire.client import TargetError
from assistants_conformance.flows import poll_run, poll_vector_store, shared_factory, stream_checked
from assistants_conformance.protocol.transitions import TERMINAL
from assistants_conformance.outcomes import unsupported

# The one include[] value the API defines for run steps.
CONTENT_INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"

# A made-up document, so that the answer can only come from the file.
DOCUMENT = """\
The Marrowby Lighthouse Logbook

The Marrowby lighthouse stands on the northern cliff of Quillan Island. It was built in 1862 from grey granite.
In 1897 the keeper, Ada Fenwick, had the tower painted teal with a single white band below the lantern room.
The lamp burned colza oil until 1911, when a paraffin vapour burner replaced it.
The fog bell was cast in Leith and rings twice every thirty seconds in thick weather.
Supply boats came from Port Esk every second Tuesday, weather permitting.
"""
SEARCH_QUESTION = ("According to the attached lighthouse logbook, what colour was the Marrowby lighthouse painted "
                   "in 1897? Quote the sentence that says so.")
CODE_QUESTION = ("Use code to solve 3x + 11 = 14 and print the value of x. Then save the answer to a CSV file, "
                 "and plot both sides of the equation as a chart.")


def need(profile, *capabilities: str) -> None:
    """Skip as unsupported when the profile lacks one of the capabilities a scenario also needs (a check
    is marked with one capability; its setup may need files or vector stores besides)."""
    missing = [c for c in capabilities if not profile.has(c)]
    if missing:
        unsupported(f"the target profile {profile.name!r} does not declare the "
                    f"{', '.join(repr(c) for c in missing)} capabilit{'ies' if len(missing) > 1 else 'y'}")


def inconclusive(why: str) -> None:
    """The model's valid choice left nothing to judge: a skip, never a pass."""
    pytest.skip(f"inconclusive: {why}")


def listed(response) -> list[dict]:
    body = response.json if response is not None and response.status_code == 200 else None
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


@dataclass
class ToolRun:
    """One hosted-tool run and what was read back after it ended."""

    label: str
    exchanges: list = field(default_factory=list)
    failure: BaseException | None = None
    run: dict = field(default_factory=dict)  # the run as last polled (terminal)
    run_exchange: Any = None
    steps_read: Any = None  # GET steps (order asc) without include[]
    steps_with_content: Any = None  # the same with include[]=CONTENT_INCLUDE
    step_reads: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # step id -> (GET plain, GET include[])
    messages_read: Any = None  # GET messages of the thread (order asc)
    notes: dict = field(default_factory=dict)  # scenario specifics: file ids, vector store, stream case
    stream: Any = None  # flows.CheckedStream of the same run streamed, or None
    stream_skipped: str | None = None  # why no stream was recorded: what the target lacks (unsupported)

    def ok(self) -> "ToolRun":
        if self.failure is not None:
            raise self.failure
        return self

    @property
    def steps(self) -> list[dict]:
        return listed(self.steps_read)

    def calls(self, tool_type: str, steps: list[dict] | None = None) -> list[tuple[dict, dict]]:
        """(step, call) for each tool call of `tool_type` in the tool_calls steps."""
        out = []
        for step in self.steps if steps is None else steps:
            details = step.get("step_details") if isinstance(step.get("step_details"), dict) else {}
            if step.get("type") != "tool_calls" or not isinstance(details.get("tool_calls"), list):
                continue
            out += [(step, c) for c in details["tool_calls"] if isinstance(c, dict) and c.get("type") == tool_type]
        return out

    def answers(self) -> list[dict]:
        """The assistant messages this run wrote."""
        return [m for m in listed(self.messages_read)
                if m.get("role") == "assistant" and m.get("run_id") == self.run.get("id")]

    def text_parts(self) -> list[tuple[dict, int, dict]]:
        """(message, content index, text object) of each text part of the answer."""
        out = []
        for message in self.answers():
            for index, part in enumerate(message.get("content") or []):
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), dict):
                    out.append((message, index, part["text"]))
        return out

    def evidence(self) -> list:
        reads = [self.run_exchange, *(r.exchange for r in (self.steps_read, self.steps_with_content,
                                                           self.messages_read) if r is not None)]
        return [e for e in reads if e is not None]


def drive(factory, record: ToolRun, timeout: float, thread_id: str, assistant_id: str, tool: str) -> None:
    """Run with tool_choice forcing `tool`, poll to the end, read steps and messages back."""
    run = factory.run(thread_id, assistant_id, tool_choice={"type": tool})
    poll = poll_run(factory.client, thread_id, run["id"], until=TERMINAL | {"requires_action"},
                    timeout=timeout, factory=factory)
    record.run, record.run_exchange = poll.final, record.exchanges[-1]
    if poll.final.get("status") != "completed":
        violation(f"{record.label}: the run ended {poll.final.get('status')!r} (last_error "
                  f"{poll.final.get('last_error')!r}); a run forcing {tool} on a plain request should complete",
                  [record.run_exchange])
    steps_path = f"/threads/{thread_id}/runs/{run['id']}/steps"
    record.steps_read = factory.client.get(steps_path, params={"order": "asc", "limit": 100})
    record.steps_with_content = factory.client.get(
        steps_path, params={"order": "asc", "limit": 100, "include[]": CONTENT_INCLUDE})
    for step in record.steps:
        if step.get("type") == "tool_calls" and isinstance(step.get("id"), str):
            path = f"{steps_path}/{step['id']}"
            record.step_reads[step["id"]] = (factory.client.get(path),
                                             factory.client.get(path, params={"include[]": CONTENT_INCLUDE}))
    record.messages_read = factory.client.get(f"/threads/{thread_id}/messages",
                                              params={"order": "asc", "limit": 100})


def stream(factory, record: ToolRun, target, grammar, assistant_id: str, question: str, tool: str) -> None:
    if not target.profile.has("streaming"):
        record.stream_skipped = (f"the target profile {target.profile.name!r} does not declare "
                                 "the 'streaming' capability")
        return
    thread = factory.thread(messages=[{"role": "user", "content": question}])
    body = {"assistant_id": assistant_id, "metadata": factory.tag(), "tool_choice": {"type": tool}}
    record.stream = stream_checked(factory.client, f"/threads/{thread['id']}/runs", body, kind="create_run",
                                   grammar=grammar, bounds=target.profile.stream_bounds(), factory=factory)


def tool_scenario(target, label: str, capabilities: tuple[str, ...], script: Callable[[Any, ToolRun], None]):
    """Generator for a session fixture: skip when unsupported, run `script(factory, record)`, keep its
    failure, clean up at the end of the session."""
    need(target.profile, *capabilities)
    record = ToolRun(label)
    with shared_factory(target, recorder=record.exchanges) as factory:
        try:
            script(factory, record)
        except (ConformanceFailure, TargetError) as exc:
            record.failure = exc
        yield record
        if target.profile.has("files"):  # without a Files API (Azure) they cannot be deleted by us
            for file_id in record.notes.get("generated_files", ()):
                factory.adopt("file", file_id, "/files")


def indexed_store(factory, timeout: float, name: str, data: bytes) -> tuple[dict, dict]:
    """A file uploaded and indexed in a new vector store (both tagged); (file, vector store). A store that
    does not finish indexing is VSTORE-001's failure, and blocks the checks that needed the store."""
    prerequisites.remembered(factory.session_id, prerequisites.STORE_INDEXED)
    uploaded = factory.file(name, data)
    store = factory.vector_store(name="conformance tools", file_ids=[uploaded["id"]])
    try:
        poll = poll_vector_store(factory.client, store["id"], path_suffix=f"/files/{uploaded['id']}",
                                 timeout=timeout)
        if poll.final.get("status") != "completed":
            violation(f"the file {uploaded['id']} in vector store {store['id']} ended indexing as "
                      f"{poll.final.get('status')!r} (last_error {poll.final.get('last_error')!r}), expected "
                      "completed", [poll.exchange])
        poll = poll_vector_store(factory.client, store["id"], timeout=timeout)
        if poll.final.get("status") != "completed":
            violation(f"vector store {store['id']} ended {poll.final.get('status')!r} once its file was indexed, "
                      "expected completed", [poll.exchange])
    except ConformanceFailure as exc:
        prerequisites.judged(factory.session_id, prerequisites.STORE_INDEXED, exc)
    return uploaded, store


def generated_file_ids(record: ToolRun) -> list[tuple[str, str]]:
    """(where, file id) of every file the run says it made: file_path annotations, image_file parts of its
    answer, image outputs of its code_interpreter calls."""
    out = []
    for message, index, text in record.text_parts():
        for n, note in enumerate(text.get("annotations") or []):
            if isinstance(note, dict) and note.get("type") == "file_path":
                out.append((f"message {message.get('id')} content[{index}] annotation {n} (file_path)",
                            (note.get("file_path") or {}).get("file_id")))
    for message in record.answers():
        for index, part in enumerate(message.get("content") or []):
            if isinstance(part, dict) and part.get("type") == "image_file":
                out.append((f"message {message.get('id')} content[{index}] (image_file)",
                            (part.get("image_file") or {}).get("file_id")))
    for step, call in record.calls("code_interpreter"):
        for n, output in enumerate((call.get("code_interpreter") or {}).get("outputs") or []):
            if isinstance(output, dict) and output.get("type") == "image":
                out.append((f"step {step.get('id')} call {call.get('id')} output {n} (image)",
                            (output.get("image") or {}).get("file_id")))
    return out


def streamed_file_ids(stream) -> list[str]:
    """File ids named anywhere in a stream's message and step payloads (for cleanup only)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("file_id"), str):
                found.append(value["file_id"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for _, _, data in stream.payloads("thread."):
        walk(data)
    return found
