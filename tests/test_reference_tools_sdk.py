"""The documents' file_search and code_interpreter flows with the official openai SDK, unmodified, over real HTTP."""

from __future__ import annotations

import pytest

openai = pytest.importorskip("openai")
from openai import AssistantEventHandler, OpenAI  # noqa: E402

from reference_server import running_server  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # the SDK marks Assistants deprecated

HANDBOOK = (b"Travel handbook.\n\nEmployees book flights through the travel desk at least two weeks ahead. "
            b"Economy class is used for flights under six hours.\n\nHotel costs are refunded up to 150 euros a night.\n")
CONTENT = "step_details.tool_calls[*].file_search.results[*].content"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("tools-sdk"), "--token-delay-ms", "1") as server:
        yield OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0, timeout=15)


def test_file_search_assistant_answers_with_citations(client):
    store = client.vector_stores.create(name="Handbook")   # the docs' flow: a store, then a batch upload
    batch = client.vector_stores.file_batches.upload_and_poll(vector_store_id=store.id, files=[("handbook.txt", HANDBOOK)],
                                                              poll_interval_ms=20)
    assert batch.status == "completed" and batch.file_counts.completed == 1
    [uploaded] = client.vector_stores.files.list(vector_store_id=store.id).data
    assistant = client.beta.assistants.create(
        model="reference-1", instructions="Answer from the handbook.", tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}})
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "How much of a hotel night is refunded?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, include=[CONTENT],
                                                   poll_interval_ms=20)
    assert run.status == "completed" and run.usage.total_tokens > 0
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    text = message.content[0].text
    assert "Hotel costs are refunded up to 150 euros a night." in text.value
    [annotation] = text.annotations
    assert annotation.type == "file_citation" and annotation.file_citation.file_id == uploaded.id
    assert text.value[annotation.start_index:annotation.end_index] == annotation.text
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, include=[CONTENT], order="asc")
    call = steps.data[0].step_details.tool_calls[0]
    assert call.type == "file_search" and call.file_search.results[0].file_name == "handbook.txt"
    assert call.file_search.results[0].content[0].text.startswith("Travel handbook.")


def test_code_interpreter_solves_the_documents_equation(client):
    assistant = client.beta.assistants.create(
        model="reference-1", name="Math Tutor", tools=[{"type": "code_interpreter"}],
        instructions="You are a personal math tutor. Write and run code to answer math questions.")
    thread = client.beta.threads.create()
    client.beta.threads.messages.create(thread_id=thread.id, role="user",
                                        content="I need to solve the equation `3x + 11 = 14`. Can you help me?")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20)
    assert run.status == "completed"
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    call = steps[0].step_details.tool_calls[0]
    assert call.type == "code_interpreter" and "F(3) * x + F(11)" in call.code_interpreter.input
    assert [(o.type, o.logs) for o in call.code_interpreter.outputs] == [("logs", "x = 1\n")]
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.content[0].text.value == "The result is x = 1."


class CodeWatcher(AssistantEventHandler):
    """What the docs' streaming example prints: the code input and the logs as they arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.code, self.logs = "", ""

    def on_tool_call_delta(self, delta, snapshot) -> None:
        if delta.type == "code_interpreter":
            self.code += delta.code_interpreter.input or ""
            for output in delta.code_interpreter.outputs or ():
                if output.type == "logs":
                    self.logs += output.logs


def test_code_interpreter_generated_file_is_downloadable_and_streamed(client):
    assistant = client.beta.assistants.create(model="reference-1", tools=[{"type": "code_interpreter"}])
    thread = client.beta.threads.create(messages=[
        {"role": "user", "content": "Solve 5x - 3 = 2x + 9 and write the result to a CSV file."}])
    watcher = CodeWatcher()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=watcher) as stream:
        stream.until_done()
        [message] = stream.get_final_messages()
        [step] = [s for s in stream.get_final_run_steps() if s.type == "tool_calls"]
    assert watcher.code == step.step_details.tool_calls[0].code_interpreter.input and watcher.logs == "x = 4\n"
    text = message.content[0].text
    [annotation] = text.annotations
    assert annotation.type == "file_path" and text.value[annotation.start_index:annotation.end_index] == annotation.text
    content = client.files.content(annotation.file_path.file_id)
    assert content.text.splitlines() == ["problem,name,value", "5 * x - 3 = 2 * x + 9,x,4"]
    assert client.files.retrieve(annotation.file_path.file_id).purpose == "assistants_output"
