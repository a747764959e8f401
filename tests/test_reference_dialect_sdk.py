"""The official openai SDK, unmodified, against the reference server's dialects over real HTTP:
* the Azure reference's examples with `openai.AzureOpenAI(azure_endpoint=root, api_version=..., api_key=...)`;
* the v1 guide's flow (files, assistant with file_ids and retrieval, message with file_ids, run, steps,
  assistant files) with an `openai.OpenAI` client sending `OpenAI-Beta: assistants=v1`.

The SDK's typed models are v2 models: v1 fields (`file_ids`) are sent with `extra_body` and read from
`model_extra`; the v1-only file sub-resources have no SDK method and are called with the client's generic
`get`/`delete`. The SDK's beta resources send `OpenAI-Beta: assistants=v2` on every call, which overrides
`default_headers`, so the v1 client also sets the header with an httpx request hook (shown below).
"""

from __future__ import annotations

import time

import pytest

openai = pytest.importorskip("openai")

from reference_server import running_server  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # the SDK marks Assistants deprecated

KEY = "azure-sdk-key"
API_VERSION = "2024-08-01-preview"
WEATHER = {"type": "function", "function": {
    "name": "getCurrentWeather", "description": "Get the weather in location",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"},
                                                    "unit": {"type": "string", "enum": ["c", "f"]}},
                   "required": ["location"]}}}
V1_HEADERS = {"OpenAI-Beta": "assistants=v1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("dialect-sdk"), "--api-key", KEY, "--token-delay-ms", "1") as running:
        yield running


@pytest.fixture(scope="module")
def azure(server):
    return openai.AzureOpenAI(azure_endpoint=server.root_url, api_version=API_VERSION, api_key=KEY,
                              max_retries=0, timeout=10)


def wait(retrieve, *, leave: tuple[str, ...] = ("queued", "in_progress", "cancelling"), bound: float = 10.0):
    """Poll as the guides do (retrieve until the status leaves ``leave``), bounded."""
    deadline = time.monotonic() + bound
    run = retrieve()
    while run.status in leave and time.monotonic() < deadline:
        time.sleep(0.05)
        run = retrieve()
    return run


# ---- Azure OpenAI --------------------------------------------------------------------------------------------

def test_azure_threads(azure):
    empty_thread = azure.beta.threads.create()
    assert empty_thread.object == "thread" and empty_thread.id.startswith("thread_")
    my_thread = azure.beta.threads.retrieve(empty_thread.id)
    assert my_thread.id == empty_thread.id
    my_updated_thread = azure.beta.threads.update(empty_thread.id, metadata={"modified": "true", "user": "abc123"})
    assert my_updated_thread.metadata == {"modified": "true", "user": "abc123"}
    response = azure.beta.threads.delete(empty_thread.id)
    assert response.deleted is True and response.id == empty_thread.id
    with pytest.raises(openai.NotFoundError):
        azure.beta.threads.retrieve(empty_thread.id)


def test_azure_messages(azure):
    thread = azure.beta.threads.create()
    message = azure.beta.threads.messages.create(thread.id, role="user", content="What is 3x + 11 = 14?")
    assert message.role == "user" and message.content[0].text.value == "What is 3x + 11 = 14?"
    listed = azure.beta.threads.messages.list(thread.id)
    assert [m.id for m in listed.data] == [message.id]
    assert azure.beta.threads.messages.retrieve(message.id, thread_id=thread.id).id == message.id
    updated = azure.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={"seen": "yes"})
    assert updated.metadata == {"seen": "yes"}
    # Azure has no message delete: the SDK's call is answered 404.
    with pytest.raises(openai.NotFoundError):
        azure.beta.threads.messages.delete(message.id, thread_id=thread.id)


def test_azure_runs_tool_outputs_and_steps(azure):
    assistant = azure.beta.assistants.create(model="gpt-4o-deployment", name="weather",
                                             instructions="You are a weather bot.", tools=[WEATHER])
    thread = azure.beta.threads.create(messages=[{"role": "user", "content": "Weather in Seattle?"}])
    run = azure.beta.threads.runs.create(thread.id, assistant_id=assistant.id,
                                         tool_choice={"type": "function", "function": {"name": "getCurrentWeather"}})
    run = wait(lambda: azure.beta.threads.runs.retrieve(run.id, thread_id=thread.id))
    assert run.status == "requires_action"
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [c.function.name for c in calls] == ["getCurrentWeather"]
    run = azure.beta.threads.runs.submit_tool_outputs(
        run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": calls[0].id, "output": "22C"}])
    run = wait(lambda: azure.beta.threads.runs.retrieve(run.id, thread_id=thread.id))
    assert run.status == "completed"
    assert "22C" in azure.beta.threads.messages.list(thread.id).data[0].content[0].text.value
    updated = azure.beta.threads.runs.update(run.id, thread_id=thread.id, metadata={"checked": "1"})
    assert updated.metadata == {"checked": "1"}
    assert [r.id for r in azure.beta.threads.runs.list(thread.id).data] == [run.id]
    steps = azure.beta.threads.runs.steps.list(run.id, thread_id=thread.id)
    assert {s.type for s in steps.data} == {"tool_calls", "message_creation"}
    assert all(s.status == "completed" for s in steps.data)


def test_azure_cancel_run(azure):
    assistant = azure.beta.assistants.create(model="gpt-4o-deployment")
    thread = azure.beta.threads.create(messages=[{"role": "user", "content": "Write 3000 words."}])
    run = azure.beta.threads.runs.create(thread.id, assistant_id=assistant.id)
    cancelling = azure.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    assert cancelling.status in ("cancelling", "cancelled")
    assert wait(lambda: azure.beta.threads.runs.retrieve(run.id, thread_id=thread.id)).status == "cancelled"


def test_azure_wrong_key_and_version(server):
    wrong = openai.AzureOpenAI(azure_endpoint=server.root_url, api_version=API_VERSION, api_key="nope",
                               max_retries=0, timeout=10)
    with pytest.raises(openai.AuthenticationError):
        wrong.beta.threads.create()
    old = openai.AzureOpenAI(azure_endpoint=server.root_url, api_version="2023-05-15", api_key=KEY,
                             max_retries=0, timeout=10)
    with pytest.raises(openai.NotFoundError):
        old.beta.threads.create()


# ---- Assistants v1 (the v1 guide) ----------------------------------------------------------------------------

def v1_client(server, sent: list[str]):
    def force_v1(request) -> None:   # the beta resources' per-call OpenAI-Beta: assistants=v2 beats default_headers
        request.headers["OpenAI-Beta"] = "assistants=v1"
        sent.append(request.headers["OpenAI-Beta"])
    return openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=10,
                         default_headers=V1_HEADERS,
                         http_client=openai.DefaultHttpxClient(event_hooks={"request": [force_v1]}))


def test_default_headers_alone_do_not_reach_the_beta_resources(server):
    client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=10, default_headers=V1_HEADERS)
    made = client.beta.assistants.create(model="gpt-4-1106-preview")
    assert made.tool_resources is not None and "file_ids" not in (made.model_extra or {})   # served as v2


def test_v1_guide_flow(server):
    sent: list[str] = []
    client = v1_client(server, sent)
    file = client.files.create(file=("knowledge.txt", b"To turn the device off, hold the red switch."),
                               purpose="assistants")
    assistant = client.beta.assistants.create(
        instructions="You are a customer support chatbot. Use your knowledge base to best respond to customer queries.",
        model="gpt-4-1106-preview", tools=[{"type": "retrieval"}], extra_body={"file_ids": [file.id]})
    assert assistant.model_extra["file_ids"] == [file.id] and assistant.tool_resources is None
    assert assistant.tools[0].type == "retrieval"

    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Summarise this file.",
                                                   "file_ids": [file.id]}])
    message = client.beta.threads.messages.create(
        thread_id=thread.id, role="user", content="I can't find in the PDF manual how to turn off this device.",
        extra_body={"file_ids": [file.id]})
    assert message.model_extra["file_ids"] == [file.id] and message.attachments is None

    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id,
                                          instructions="Please address the user as Jane Doe.")
    assert run.model_extra["file_ids"] == [file.id]
    run = wait(lambda: client.beta.threads.runs.retrieve(thread_id=thread.id, run_id=run.id))
    assert run.status == "completed"
    messages = client.beta.threads.messages.list(thread_id=thread.id)
    assert [m.role for m in messages.data] == ["assistant", "user", "user"]
    assert all("file_ids" in m.model_extra for m in messages.data)

    run_steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id)
    assert run_steps.data and run_steps.data[0].status == "completed"

    # Assistant files: no SDK method any more, so the client's generic calls.
    files = client.get(f"/assistants/{assistant.id}/files", cast_to=object)
    assert [(f["id"], f["object"]) for f in files["data"]] == [(file.id, "assistant.file")]
    message_files = client.get(f"/threads/{thread.id}/messages/{message.id}/files", cast_to=object)
    assert [f["object"] for f in message_files["data"]] == ["thread.message.file"]
    file_deletion_status = client.delete(f"/assistants/{assistant.id}/files/{file.id}", cast_to=object)
    assert file_deletion_status == {"id": file.id, "object": "assistant.file.deleted", "deleted": True}
    assert client.beta.assistants.retrieve(assistant.id).model_extra["file_ids"] == []
    assert sent and set(sent) == {"assistants=v1"}
