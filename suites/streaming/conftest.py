"""Streams shared by the streaming checks: each is opened once per module and read by several checks.

* `plain_stream`: create run with stream: true on a thread holding one user message.
* `thread_run_stream`: create thread and run with stream: true.
* `tool_streams`: a function assistant and tool_choice naming its function (requires_action on any
  server), streamed; then submit_tool_outputs with stream: true continuing the same run.

Every case also keeps what was read back afterwards with GET (run, its steps, each streamed message),
so the checks can compare the stream with the stored objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from assistants_conformance import prerequisites
from assistants_conformance.flows import (
    HOLD_PROMPT,
    LOOKUP_FUNCTION,
    CheckedStream,
    held_run_problem,
    named_tool_choice,
    shared_factory,
    stream_checked,
)
from assistants_conformance.outcomes import unsupported

PLAIN_PROMPT = "Reply with two short sentences about the sea."


@dataclass
class StreamCase:
    """One recorded stream and what the target answered when read back after it."""

    label: str
    stream: CheckedStream
    run_id: str | None
    thread_id: str | None
    run_read: Any = None  # Response of GET run after the stream, or None if no run id was streamed
    steps_read: Any = None  # Response of GET run steps (order asc, limit 100)
    message_reads: dict[str, Any] = field(default_factory=dict)  # message id -> Response of GET message

    @property
    def evidence(self) -> list:
        reads = [self.run_read, self.steps_read, *self.message_reads.values()]
        return [self.stream.result.exchange] + [r.exchange for r in reads if r is not None]


def first_run(stream: CheckedStream) -> dict:
    """Data of the first run event (its id and thread id name the run the stream is about)."""
    runs = stream.run_events()
    return runs[0][2] if runs else {}


def record_case(client, label: str, stream: CheckedStream, *, run_id: str | None = None,
                thread_id: str | None = None) -> StreamCase:
    run = first_run(stream)
    run_id = run_id or run.get("id")
    thread_id = thread_id or run.get("thread_id")
    case = StreamCase(label, stream, run_id, thread_id)
    if not (isinstance(run_id, str) and isinstance(thread_id, str)):
        return case
    case.run_read = client.get(f"/threads/{thread_id}/runs/{run_id}")
    case.steps_read = client.get(f"/threads/{thread_id}/runs/{run_id}/steps",
                                 params={"order": "asc", "limit": 100})
    for _, _, data in stream.payloads("thread.message."):
        message_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(message_id, str) and message_id not in case.message_reads:
            case.message_reads[message_id] = client.get(f"/threads/{thread_id}/messages/{message_id}")
    return case


@pytest.fixture(scope="module")
def stream_factory(target):
    with shared_factory(target) as made:
        yield made


@pytest.fixture(scope="module")
def stream_bounds(target):
    return target.profile.stream_bounds()


@pytest.fixture(scope="module")
def plain_stream(stream_factory, grammar, stream_bounds) -> StreamCase:
    assistant = stream_factory.assistant()
    thread = stream_factory.thread(messages=[{"role": "user", "content": PLAIN_PROMPT}])
    body = {"assistant_id": assistant["id"], "metadata": stream_factory.tag()}
    stream = stream_checked(stream_factory.client, f"/threads/{thread['id']}/runs", body, kind="create_run",
                            grammar=grammar, bounds=stream_bounds, factory=stream_factory)
    return record_case(stream_factory.client, "create run", stream, thread_id=thread["id"])


@pytest.fixture(scope="module")
def thread_run_stream(stream_factory, grammar, stream_bounds) -> StreamCase:
    assistant = stream_factory.assistant()
    body = {
        "assistant_id": assistant["id"],
        "metadata": stream_factory.tag(),
        "thread": {"messages": [{"role": "user", "content": PLAIN_PROMPT}], "metadata": stream_factory.tag()},
    }
    stream = stream_checked(stream_factory.client, "/threads/runs", body, kind="create_thread_and_run",
                            grammar=grammar, bounds=stream_bounds, factory=stream_factory)
    return record_case(stream_factory.client, "create thread and run", stream)


@dataclass
class ToolStreams:
    paused: StreamCase  # create run that stops in requires_action
    resumed: StreamCase | None  # submit_tool_outputs continuing it (None if no tool calls to answer)
    submit_problem: str | None  # why the continuation could not be requested, if so

    @staticmethod
    def required_calls(run: dict) -> list[dict]:
        """The tool calls a paused run asks outputs for (required_action.submit_tool_outputs)."""
        action = run.get("required_action") if isinstance(run, dict) else None
        calls = ((action or {}).get("submit_tool_outputs") or {}).get("tool_calls")
        return [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


@pytest.fixture(scope="module")
def tool_streams(target, stream_factory, grammar, stream_bounds) -> ToolStreams:
    if not target.profile.has("function_tools"):
        unsupported(f"the target profile {target.profile.name!r} does not declare "
                    "the 'function_tools' capability (needed for a requires_action stream)")
    client = stream_factory.client
    assistant = stream_factory.function_assistant()
    thread = stream_factory.thread(messages=[{"role": "user", "content": HOLD_PROMPT}])
    body = {"assistant_id": assistant["id"], "metadata": stream_factory.tag(),
            "tool_choice": named_tool_choice(LOOKUP_FUNCTION["function"]["name"])}
    stream = stream_checked(client, f"/threads/{thread['id']}/runs", body, kind="create_run",
                            grammar=grammar, bounds=stream_bounds, factory=stream_factory)
    paused = record_case(client, "create run (requires_action)", stream, thread_id=thread["id"])
    if paused.run_read is None or paused.run_read.status_code != 200:
        return ToolStreams(paused, None, "the paused run could not be read back")
    problem = held_run_problem(paused.run_read.json, LOOKUP_FUNCTION["function"]["name"])
    if problem:  # LIFE-018's rule, streamed: the checks of a requires_action stream are blocked by it
        prerequisites.fail(prerequisites.NAMED_TOOL_CHOICE, f"streamed: {problem}", [paused.run_read.exchange])
    calls = ToolStreams.required_calls(paused.run_read.json)
    if not calls:
        return ToolStreams(paused, None, f"the run read back is {paused.run_read.json.get('status')!r} "
                                         "with no required tool calls to answer")
    outputs = [{"tool_call_id": c.get("id"), "output": json.dumps({"value": "42"})} for c in calls]
    resumed_stream = stream_checked(
        client, f"/threads/{paused.thread_id}/runs/{paused.run_id}/submit_tool_outputs",
        {"tool_outputs": outputs}, kind="submit_tool_outputs", grammar=grammar, bounds=stream_bounds,
        factory=stream_factory)
    resumed = record_case(client, "submit tool outputs", resumed_stream, run_id=paused.run_id,
                          thread_id=paused.thread_id)
    return ToolStreams(paused, resumed, None)


@pytest.fixture(scope="module")
def all_streams(request, target, plain_stream, thread_run_stream) -> list[StreamCase]:
    """Every recorded stream: the tool streams only when the target does function tools."""
    cases = [plain_stream, thread_run_stream]
    if target.profile.has("function_tools"):
        tools = request.getfixturevalue("tool_streams")
        cases.append(tools.paused)
        if tools.resumed is not None:
            cases.append(tools.resumed)
    return cases
