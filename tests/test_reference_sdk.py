"""The reference server driven by the official openai SDK, unmodified, over real HTTP."""

from __future__ import annotations

import pytest

openai = pytest.importorskip("openai")
from openai import AssistantEventHandler, OpenAI  # noqa: E402

from reference_server import running_server  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # the SDK marks Assistants deprecated

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1}, "optional": {"type": "boolean"}},
        "required": ["city", "unit", "days"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("sdk"), "--token-delay-ms", "1") as server:
        yield OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0, timeout=10)


@pytest.fixture(scope="module")
def assistant(client):
    return client.beta.assistants.create(model="reference-1", name="sdk", instructions="Be brief.",
                                         tools=[WEATHER, TIME])


class Collector(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.text: list[str] = []

    def on_event(self, event) -> None:
        self.names.append(event.event)

    def on_text_delta(self, delta, snapshot) -> None:
        self.text.append(delta.value)


def test_create_and_poll_completes_with_usage(client, assistant):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Reply with 'pong' please"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                    poll_interval_ms=20, timeout=10)
    assert run.status == "completed" and run.object == "thread.run"
    assert run.id.startswith("run_") and thread.id.startswith("thread_")
    assert run.completed_at >= run.started_at >= run.created_at and run.expires_at is None
    assert run.usage.total_tokens == run.usage.prompt_tokens + run.usage.completion_tokens
    reply = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert [m.content[0].text.value for m in reply] == ["pong"]
    assert reply[0].assistant_id == assistant.id and reply[0].run_id == run.id and reply[0].status == "completed"


def test_stream_text_deltas_concatenate_to_final_text(client, assistant):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Write at least 40 words about rivers."}])
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as s:
        s.until_done()
    final = s.get_final_messages()[0].content[0].text.value
    assert "".join(handler.text) == final and len(final.split()) >= 40
    assert handler.names[:7] == ["thread.run.created", "thread.run.queued", "thread.run.in_progress",
                                 "thread.run.step.created", "thread.run.step.in_progress",
                                 "thread.message.created", "thread.message.in_progress"]
    assert handler.names[-3:] == ["thread.message.completed", "thread.run.step.completed", "thread.run.completed"]
    stored = client.beta.threads.messages.retrieve(thread_id=thread.id, message_id=s.get_final_messages()[0].id)
    assert stored.content[0].text.value == final


def test_parallel_function_calls_through_streams(client, assistant):
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "Use get_weather for Paris and also get_time."}])
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as s:
        s.until_done()
    run = s.get_final_run()
    assert run.status == "requires_action" and handler.names[-1] == "thread.run.requires_action"
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert {"city", "unit", "days"} <= set(__import__("json").loads(calls[0].function.arguments))
    step = s.get_final_run_steps()[0]
    assert [tc.id for tc in step.step_details.tool_calls] == [c.id for c in calls]

    handler = Collector()
    with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id, run_id=run.id, event_handler=handler,
            tool_outputs=[{"tool_call_id": c.id, "output": f"out-{c.function.name}"} for c in calls]) as s:
        s.until_done()
    assert handler.names[:3] == ["thread.run.step.completed", "thread.run.queued", "thread.run.in_progress"]
    assert s.get_final_run().status == "completed"
    text = "".join(handler.text)
    assert "out-get_weather" in text and "out-get_time" in text
    steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id, order="asc").data
    assert [(x.type, x.status) for x in steps] == [("tool_calls", "completed"), ("message_creation", "completed")]
    assert steps[0].step_details.tool_calls[0].function.output == "out-get_weather"


def test_parallel_tool_calls_false_and_tool_choice(client, assistant):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "get_weather and get_time"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                    parallel_tool_calls=False, poll_interval_ms=20, timeout=10)
    assert len(run.required_action.submit_tool_outputs.tool_calls) == 1
    client.beta.threads.runs.cancel(thread_id=thread.id, run_id=run.id)
    run = client.beta.threads.runs.poll(thread_id=thread.id, run_id=run.id, poll_interval_ms=20, timeout=10)
    assert run.status == "cancelled" and run.cancelled_at is not None

    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, tool_choice={"type": "function", "function": {"name": "get_time"}},
        poll_interval_ms=20, timeout=10)
    assert [c.function.name for c in run.required_action.submit_tool_outputs.tool_calls] == ["get_time"]
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id, poll_interval_ms=20, timeout=10,
        tool_outputs=[{"tool_call_id": run.required_action.submit_tool_outputs.tool_calls[0].id, "output": "noon"}])
    assert run.status == "completed"
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                    tool_choice="none", poll_interval_ms=20, timeout=10)
    assert run.status == "completed"


def test_create_thread_and_run_and_update_metadata(client, assistant):
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "hello"}]},
        poll_interval_ms=20, timeout=10)
    assert run.status == "completed"
    updated = client.beta.threads.runs.update(thread_id=run.thread_id, run_id=run.id, metadata={"k": "v"})
    assert updated.metadata == {"k": "v"} and updated.status == "completed"

    handler = Collector()
    with client.beta.threads.create_and_run_stream(
            assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "say 'hi'"}]},
            event_handler=handler) as s:
        s.until_done()
    assert handler.names[0] == "thread.created" and "".join(handler.text) == "hi"


def test_assistant_crud_and_auto_pagination(client):
    created = [client.beta.assistants.create(model="reference-1", name=f"a{i}", metadata={"i": str(i)})
               for i in range(7)]
    fetched = client.beta.assistants.retrieve(created[0].id)
    assert fetched.name == "a0" and fetched.object == "assistant"
    updated = client.beta.assistants.update(created[0].id, name="renamed", metadata={"x": "y"})
    assert updated.name == "renamed" and updated.metadata == {"x": "y"}
    seen = [a.id for a in client.beta.assistants.list(limit=2, order="asc")]
    assert [i for i in seen if i in {a.id for a in created}] == [a.id for a in created]
    assert len(seen) == len(set(seen))
    deleted = client.beta.assistants.delete(created[1].id)
    assert deleted.deleted and deleted.object == "assistant.deleted"
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve(created[1].id)
