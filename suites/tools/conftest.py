"""Session fixtures of the tools checks: the hosted-tool scenarios of _scenarios.py, each driven once per
session (per xdist worker) and shared by the checks that judge it."""

from __future__ import annotations

import pytest

from ._scenarios import (CODE_QUESTION, DOCUMENT, SEARCH_QUESTION, drive, generated_file_ids, indexed_store,
                         stream, streamed_file_ids, tool_scenario)


@pytest.fixture(scope="session")
def search_run(target, grammar):
    timeout = target.profile.run_poll_timeout

    def script(factory, record):
        uploaded, store = indexed_store(factory, timeout, "lighthouse.txt", DOCUMENT.encode())
        record.notes.update(file_id=uploaded["id"], vector_store_id=store["id"])
        assistant = factory.assistant(instructions="Answer questions from the attached files and quote them.",
                                      tools=[{"type": "file_search"}],
                                      tool_resources={"file_search": {"vector_store_ids": [store["id"]]}})
        thread = factory.thread(messages=[{"role": "user", "content": SEARCH_QUESTION}])
        drive(factory, record, timeout, thread["id"], assistant["id"], "file_search")
        stream(factory, record, target, grammar, assistant["id"], SEARCH_QUESTION, "file_search")

    yield from tool_scenario(target, "file_search run", ("files", "vector_stores", "file_search"), script)


@pytest.fixture(scope="session")
def code_run(target, grammar):
    timeout = target.profile.run_poll_timeout

    def script(factory, record):
        assistant = factory.assistant(instructions="You are a careful maths tutor. Use code to compute answers.",
                                      tools=[{"type": "code_interpreter"}])
        thread = factory.thread(messages=[{"role": "user", "content": CODE_QUESTION}])
        try:
            drive(factory, record, timeout, thread["id"], assistant["id"], "code_interpreter")
        finally:  # files the run wrote are ours to delete, whatever the checks find
            record.notes["generated_files"] = [i for _, i in generated_file_ids(record) if isinstance(i, str)]
        stream(factory, record, target, grammar, assistant["id"], CODE_QUESTION, "code_interpreter")
        if record.stream is not None:
            record.notes["generated_files"] += streamed_file_ids(record.stream)

    yield from tool_scenario(target, "code_interpreter run", ("code_interpreter",), script)
