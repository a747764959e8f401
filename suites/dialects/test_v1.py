"""The Assistants API v1 (OpenAI-Beta: assistants=v1): files are attached by id (file_ids on assistants,
messages and runs, and the /files sub-resources), the search tool is retrieval, and objects have no v2
fields (tool_resources, attachments). Run with --dialect v1."""

from __future__ import annotations

import pytest

from assistants_conformance.checks import require, violation
from assistants_conformance.flows import LOOKUP_FUNCTION, hold_run

pytestmark = pytest.mark.dialect("v1")


def _ok(response, what: str) -> dict:
    if response.status_code != 200 or not isinstance(response.json, dict):
        violation(f"{what}: expected 200 with a JSON object, got {response.status_code}", [response.exchange])
    return response.json


def _file_ids(obj: dict, what: str, response) -> list:
    value = obj.get("file_ids")
    if not isinstance(value, list):
        violation(f"{what} should carry file_ids (a list), got {value!r}", [response.exchange])
    return value


@pytest.mark.check("V1-001")
@pytest.mark.level("MUST")
def test_assistant_file_ids_round_trip(client, factory, v1_files):
    """An assistant created with file_ids has exactly those file_ids when created, retrieved and listed, and a modify replaces them.

    Assistants v1: file_ids on assistants (at most 20).
    """
    created = factory.post_assistant({"model": factory.model, "tools": [{"type": "code_interpreter"}],
                                      "file_ids": v1_files, "metadata": factory.tag()})
    assistant = _ok(created, "create an assistant with file_ids")
    require(sorted(_file_ids(assistant, "the created assistant", created)) == sorted(v1_files),
            f"the created assistant should have file_ids {v1_files}, got {assistant.get('file_ids')}", [created.exchange])
    read = client.get(f"/assistants/{assistant['id']}")
    require(sorted(_file_ids(_ok(read, "retrieve the assistant"), "the retrieved assistant", read)) == sorted(v1_files),
            f"the retrieved assistant should have file_ids {v1_files}, got {read.json.get('file_ids')}", [read.exchange])
    modified = client.post(f"/assistants/{assistant['id']}", json={"file_ids": v1_files[:1]})
    require(_file_ids(_ok(modified, "modify the assistant's file_ids"), "the modified assistant", modified) == v1_files[:1],
            f"after a modify with file_ids {v1_files[:1]} the assistant should have them, got "
            f"{modified.json.get('file_ids')}", [modified.exchange])
    listed = client.get("/assistants", params={"limit": 100})
    mine = [a for a in _ok(listed, "list assistants").get("data", []) if a.get("id") == assistant["id"]]
    if mine:  # a busy shared list may have pushed it past the first page; retrieval above already judged it
        require(mine[0].get("file_ids") == v1_files[:1],
                f"the listed assistant should have file_ids {v1_files[:1]}, got {mine[0].get('file_ids')}",
                [listed.exchange])


@pytest.mark.check("V1-002")
@pytest.mark.level("MUST")
def test_retrieval_tool_accepted(client, factory, v1_files):
    """The retrieval tool is accepted on assistants and kept as {"type": "retrieval"} in the assistant and its runs.

    Assistants v1: tools are code_interpreter, retrieval and function.
    """
    created = factory.post_assistant({"model": factory.model, "tools": [{"type": "retrieval"}, LOOKUP_FUNCTION],
                                      "file_ids": v1_files[:1], "metadata": factory.tag()})
    assistant = _ok(created, "create an assistant with the retrieval tool")
    types = [t.get("type") for t in assistant.get("tools", []) if isinstance(t, dict)]
    require("retrieval" in types, f"the assistant's tools should include retrieval, got {types}", [created.exchange])
    thread = factory.thread()
    run = factory.post_run(thread["id"], {"assistant_id": assistant["id"], "metadata": factory.tag()})
    body = _ok(run, "create a run of an assistant with retrieval")
    run_types = [t.get("type") for t in body.get("tools", []) if isinstance(t, dict)]
    require("retrieval" in run_types, f"the run's tools should include the assistant's retrieval tool, got {run_types}",
            [run.exchange])
    require(_file_ids(body, "the run", run) == v1_files[:1],
            f"the run should carry the assistant's file_ids {v1_files[:1]}, got {body.get('file_ids')}", [run.exchange])


@pytest.mark.check("V1-003")
@pytest.mark.level("MUST")
def test_assistant_files_resource(client, factory, v1_files):
    """/assistants/{id}/files attaches (assistant.file), lists, retrieves and detaches (assistant.file.deleted) an assistant's files.

    Assistants v1: Assistant Files API.
    """
    assistant = factory.assistant()
    base = f"/assistants/{assistant['id']}/files"
    attached = client.post(base, json={"file_id": v1_files[0]})
    link = _ok(attached, "attach a file to an assistant")
    expected = {"id": v1_files[0], "object": "assistant.file", "assistant_id": assistant["id"]}
    wrong = {k: link.get(k) for k, v in expected.items() if link.get(k) != v}
    require(not wrong and isinstance(link.get("created_at"), int),
            f"the attach answer should be an assistant.file {expected} with an integer created_at, differs in "
            f"{wrong or {'created_at': link.get('created_at')}}", [attached.exchange])
    listed = client.get(base)
    page = _ok(listed, "list the assistant's files")
    ids = [item.get("id") for item in page.get("data", [])]
    require(page.get("object") == "list" and ids == [v1_files[0]]
            and all(item.get("object") == "assistant.file" for item in page.get("data", [])),
            f"the list should be a list of the one assistant.file {v1_files[0]}, got object {page.get('object')!r} "
            f"with ids {ids}", [listed.exchange])
    read = client.get(f"{base}/{v1_files[0]}")
    require(_ok(read, "retrieve the assistant file").get("object") == "assistant.file",
            f"the retrieved assistant file should have object 'assistant.file', got {read.json.get('object')!r}",
            [read.exchange])
    assistant_now = client.get(f"/assistants/{assistant['id']}")
    require(v1_files[0] in (_ok(assistant_now, "retrieve the assistant").get("file_ids") or []),
            "an attached file should appear in the assistant's file_ids", [assistant_now.exchange])
    detached = client.delete(f"{base}/{v1_files[0]}")
    gone = _ok(detached, "detach the file")
    require(gone.get("object") == "assistant.file.deleted" and gone.get("deleted") is True
            and gone.get("id") == v1_files[0],
            f"the detach answer should be {{id: {v1_files[0]!r}, object: 'assistant.file.deleted', deleted: true}}, "
            f"got {gone}", [detached.exchange])
    after = client.get(f"{base}/{v1_files[0]}")
    require(after.status_code == 404, f"a detached assistant file should be answered 404, got {after.status_code}",
            [after.exchange])


@pytest.mark.check("V1-004")
@pytest.mark.level("MUST")
def test_message_file_ids_and_files(client, factory, v1_files):
    """A message created with file_ids carries them, and /threads/{t}/messages/{m}/files lists and retrieves them as thread.message.file objects.

    Assistants v1: file_ids on messages (at most 10), Message Files API.
    """
    thread = factory.thread()
    created = client.post(f"/threads/{thread['id']}/messages",
                          json={"role": "user", "content": "Summarise the notes.", "file_ids": v1_files})
    message = _ok(created, "create a message with file_ids")
    require(sorted(_file_ids(message, "the message", created)) == sorted(v1_files),
            f"the message should have file_ids {v1_files}, got {message.get('file_ids')}", [created.exchange])
    base = f"/threads/{thread['id']}/messages/{message['id']}/files"
    listed = client.get(base)
    page = _ok(listed, "list the message's files")
    items = page.get("data", [])
    require(sorted(i.get("id") for i in items) == sorted(v1_files)
            and all(i.get("object") == "thread.message.file" and i.get("message_id") == message["id"] for i in items),
            f"the list should hold thread.message.file objects for {v1_files} of message {message['id']}, got "
            f"{[(i.get('id'), i.get('object'), i.get('message_id')) for i in items]}", [listed.exchange])
    read = client.get(f"{base}/{v1_files[0]}")
    one = _ok(read, "retrieve a message file")
    require(one.get("object") == "thread.message.file" and one.get("id") == v1_files[0]
            and isinstance(one.get("created_at"), int),
            f"the message file should be {{id: {v1_files[0]!r}, object: 'thread.message.file', created_at: int}}, "
            f"got {one}", [read.exchange])


@pytest.mark.check("V1-005")
@pytest.mark.level("MUST")
def test_objects_have_no_v2_fields(client, factory, profile):
    """v1 assistants, threads and runs carry no tool_resources and v1 messages no attachments; assistants, messages and runs carry file_ids.

    Assistants v1 objects: tool_resources, attachments and vector stores came with v2.
    """
    held = hold_run(factory, timeout=profile.run_poll_timeout)
    reads = {
        "assistant": client.get(f"/assistants/{held.assistant['id']}"),
        "thread": client.get(f"/threads/{held.thread_id}"),
        "run": client.get(f"/threads/{held.thread_id}/runs/{held.run['id']}"),
    }
    messages = client.get(f"/threads/{held.thread_id}/messages")
    problems, evidence = [], []
    for kind, response in reads.items():
        obj = _ok(response, f"retrieve the {kind}")
        if "tool_resources" in obj:
            problems.append(f"the {kind} has tool_resources (a v2 field)")
            evidence.append(response.exchange)
        if kind != "thread" and not isinstance(obj.get("file_ids"), list):
            problems.append(f"the {kind} has no file_ids list")
            evidence.append(response.exchange)
    for message in _ok(messages, "list the messages").get("data", []):
        if "attachments" in message or not isinstance(message.get("file_ids"), list):
            problems.append(f"message {message.get('id')} has attachments or no file_ids list")
            evidence.append(messages.exchange)
    if problems:
        violation("; ".join(problems), evidence[:3])
