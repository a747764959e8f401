"""tool_resources on assistants and threads: documented limits at and past the boundary, and the vector store
message attachments give a thread.

API reference (create assistant / create thread, tool_resources): code_interpreter.file_ids "a maximum of 20
files", file_search.vector_store_ids "a maximum of 1 vector store". File search guide: files attached to a
message with the file_search tool go into a vector store created for the thread (expiring 7 days after it
was last active).
"""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.flows import expect_error

from ._judging import fail_with
from ._scenarios import DOCUMENT

MAX_CODE_FILES = 20
MAX_VECTOR_STORES = 1
ATTACH_PROMPT = "Keep the attached lighthouse logbook for the questions that follow."


def _bound(factory, resources_for, count_inside: int, count_past: int, what: str) -> None:
    """Create an assistant and a thread past the bound (400 naming tool_resources), then at the bound
    (200), then modify each past the bound again (400)."""
    sends = {
        "assistant": lambda res: factory.post_assistant({"model": factory.model, "metadata": factory.tag(),
                                                         "tools": [{"type": res[1]}], "tool_resources": res[0]}),
        "thread": lambda res: factory.post_thread({"metadata": factory.tag(), "tool_resources": res[0]}),
    }
    for kind, send in sends.items():
        past, inside = resources_for(count_past), resources_for(count_inside)
        expect_error(send(past), 400, param="tool_resources", sent=f"create {kind} with {what} of {count_past}")
        accepted = send(inside)
        if accepted.status_code != 200 or not isinstance(accepted.json, dict):
            violation(f"create {kind} with {what} of {count_inside} is within the documented limit but was "
                      f"answered {accepted.status_code}", [accepted.exchange])
        path = f"/{kind}s/{accepted.json.get('id')}"
        expect_error(factory.client.post(path, json={"tool_resources": past[0]}), 400, param="tool_resources",
                     sent=f"modify {kind} with {what} of {count_past}")


@pytest.mark.check("TOOL-001")
@pytest.mark.level("MUST")
@pytest.mark.capability("code_interpreter", "files")
@pytest.mark.dialect("openai", "azure")  # v1 has no tool_resources (assistant file_ids instead)
def test_code_interpreter_file_limit(factory, profile):
    """tool_resources.code_interpreter.file_ids of up to 20 files is accepted on assistants and threads, and 21 is rejected with 400 naming tool_resources.

    Create assistant / create thread / modify: "a list of file IDs made available to the code_interpreter
    tool. There can be a maximum of 20 files associated with the tool."
    """
    ids = [factory.file(f"limit-{i}.txt", f"conformance file {i}\n".encode())["id"]
           for i in range(MAX_CODE_FILES + 1)]
    _bound(factory, lambda n: ({"code_interpreter": {"file_ids": ids[:n]}}, "code_interpreter"),
           MAX_CODE_FILES, MAX_CODE_FILES + 1, "code_interpreter.file_ids")


@pytest.mark.check("TOOL-002")
@pytest.mark.level("MUST")
@pytest.mark.capability("file_search", "vector_stores")
def test_file_search_vector_store_limit(factory, profile):
    """tool_resources.file_search.vector_store_ids of one vector store is accepted on assistants and threads, and two are rejected with 400 naming tool_resources.

    Create assistant / create thread / modify: "the vector store attached to this assistant. There can be a
    maximum of 1 vector store attached."
    """
    ids = [factory.vector_store(name=f"conformance limit {i}")["id"] for i in range(MAX_VECTOR_STORES + 1)]
    _bound(factory, lambda n: ({"file_search": {"vector_store_ids": ids[:n]}}, "file_search"),
           MAX_VECTOR_STORES, MAX_VECTOR_STORES + 1, "file_search.vector_store_ids")


def _thread_store(factory, thread_id: str, file_id: str, how: str) -> list[str]:
    """Problems with the vector store the thread got from an attachment (adopted for cleanup)."""
    read = factory.client.get(f"/threads/{thread_id}")
    if read.status_code != 200 or not isinstance(read.json, dict):
        violation(f"{how}: reading the thread answered {read.status_code}", [read.exchange])
    store_ids = (((read.json.get("tool_resources") or {}).get("file_search") or {}).get("vector_store_ids"))
    if not (isinstance(store_ids, list) and len(store_ids) == 1 and isinstance(store_ids[0], str)):
        violation(f"{how}: the thread's tool_resources.file_search.vector_store_ids is {store_ids!r}, expected "
                  "the one vector store created for the attachment", [read.exchange])
    store_id = store_ids[0]
    factory.adopt("vector_store", store_id, "/vector_stores")
    problems = []
    member = factory.client.get(f"/vector_stores/{store_id}/files/{file_id}")
    if member.status_code != 200:
        problems.append(f"{how}: the thread's vector store {store_id} does not hold the attached file {file_id} "
                        f"(GET its vector store file answered {member.status_code})")
    store = factory.client.get(f"/vector_stores/{store_id}")
    expires = store.json.get("expires_after") if isinstance(store.json, dict) else None
    if store.status_code != 200 or expires != {"anchor": "last_active_at", "days": 7}:
        problems.append(f"{how}: the thread's vector store {store_id} answered {store.status_code} with "
                        f"expires_after {expires!r}, expected {{anchor: last_active_at, days: 7}}")
    return problems


@pytest.mark.check("TOOL-003")
@pytest.mark.level("MUST")
@pytest.mark.capability("file_search", "files", "vector_stores")
def test_attachments_create_thread_store(factory, profile):
    """A file attached to a message with the file_search tool goes into a vector store created for the thread (named in its tool_resources, expiring 7 days after last activity).

    File search guide, "Attaching files to messages": the files are added to a vector store associated with
    the thread, created if it has none; such stores expire 7 days after they were last active. Attachments
    are tried on create thread (its messages) and on create message.
    """
    attached = factory.file("attachment.txt", DOCUMENT.encode())
    attachments = [{"file_id": attached["id"], "tools": [{"type": "file_search"}]}]
    message = {"role": "user", "content": ATTACH_PROMPT, "attachments": attachments}
    with_thread = factory.thread(messages=[message])
    problems = _thread_store(factory, with_thread["id"], attached["id"], "create thread with an attachment")
    later = factory.thread()
    factory.message(later["id"], ATTACH_PROMPT, attachments=attachments)
    problems += _thread_store(factory, later["id"], attached["id"], "create message with an attachment")
    fail_with(problems, [])  # no evidence of its own: the plugin shows the test's last exchanges
