"""file_search runs: the tool_calls step, result contents with include[], citation ranges, the stream.

One run forced to search (tool_choice {"type": "file_search"}) over a vector store holding one indexed text
file, recorded once per session (conftest.py `search_run`).
"""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation

from ._judging import (annotation_range_problems, fail_with, step_contract_problems, stream_problems,
                       tool_call_problems)
from ._scenarios import CONTENT_INCLUDE, inconclusive

pytestmark = [pytest.mark.capability("file_search", "files", "vector_stores")]  # the run searches an uploaded file


@pytest.mark.check("TOOL-010")
@pytest.mark.varies("what the model writes (and cites) is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_file_search_step_shape(search_run, contract):
    """A run whose tool_choice names file_search records a completed tool_calls step with a file_search call (non-empty id, type file_search), and its steps match the contract.

    Run steps object, tool_calls step details: file_search tool calls {id, type: "file_search",
    file_search: {ranking_options, results}}; tool_choice {"type": "file_search"} forces the tool.
    """
    record = search_run.ok()
    calls = record.calls("file_search")
    if not calls:
        kinds = [s.get("type") for s in record.steps]
        violation(f"tool_choice named file_search and the run completed, but its steps ({kinds}) hold no "
                  "file_search tool call", record.evidence())
    fail_with(step_contract_problems(record, contract) + tool_call_problems(record, calls), record.evidence())


@pytest.mark.check("TOOL-011")
@pytest.mark.varies("what the model writes (and cites) is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_include_result_content(search_run):
    """Run steps show file_search result contents (text parts) when include[] asks for them, and omit them otherwise.

    API reference, list/retrieve run steps: include[] = step_details.tool_calls[*].file_search.results[*].content
    fetches the file search result content. Both the steps list and a single step are read each way. A
    search that found nothing has no results to judge: reported inconclusive.
    """
    record = search_run.ok()
    reads = [("steps list with include[]", record.steps_with_content, True),
             ("steps list without include[]", record.steps_read, False)]
    for step_id, (plain, included) in record.step_reads.items():
        reads += [(f"step {step_id} with include[]", included, True), (f"step {step_id} without include[]", plain,
                                                                         False)]
    problems, judged = [], 0
    for what, response, wanted in reads:
        body = response.json if response is not None and response.status_code == 200 else None
        if body is None:
            problems.append(f"reading the {what} answered {getattr(response, 'status_code', None)}")
            continue
        steps = body.get("data") if isinstance(body.get("data"), list) else [body]
        for step, call in record.calls("file_search", [s for s in steps if isinstance(s, dict)]):
            results = (call.get("file_search") or {}).get("results") or []
            for n, result in enumerate(r for r in results if isinstance(r, dict)):
                judged += wanted
                where = f"{what}: call {call.get('id')} result {n}"
                content = result.get("content")
                if not wanted:
                    if "content" in result:
                        problems.append(f"{where} carries content without include[] asking for it")
                elif not (isinstance(content, list) and content):
                    problems.append(f"{where}: content is {content!r}; include[]={CONTENT_INCLUDE} asks for the "
                                    "result's text parts")
                elif not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                             and p["text"] for p in content):
                    problems.append(f"{where}: content {str(content)[:120]} is not a list of non-empty text parts")
    fail_with(problems, record.evidence())
    if not judged:
        inconclusive("the file_search calls listed no results, so there was no result content to ask for")


@pytest.mark.check("TOOL-012")
@pytest.mark.varies("what the model writes (and cites) is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_file_citation_ranges(search_run):
    """Every file_citation annotation's start_index and end_index delimit its text in the message value, and it cites a file of the searched vector store.

    Messages object, text content annotations: file_citation {text, file_citation: {file_id}, start_index,
    end_index}, "the text in the message content that needs to be replaced". A model may answer without
    citations: then there is nothing to judge (inconclusive), but every citation present must point at its text.
    """
    record = search_run.ok()
    seen, problems = annotation_range_problems(record, "file_citation")
    searched = {record.notes["file_id"]}
    for message, index, text in record.text_parts():
        for n, note in enumerate(text.get("annotations") or []):
            if isinstance(note, dict) and note.get("type") == "file_citation":
                cited = (note.get("file_citation") or {}).get("file_id")
                if cited not in searched:
                    problems.append(f"message {message.get('id')} content[{index}] annotation {n} cites file "
                                    f"{cited!r}; the run searched only {sorted(searched)}")
    fail_with(problems, record.evidence())
    if not seen:
        inconclusive("the answer carries no file_citation annotations (a model may answer without citing)")


@pytest.mark.check("TOOL-013")
@pytest.mark.varies("what the model writes (and cites) is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_file_search_stream(search_run, contract):
    """A streamed file_search run follows the stream grammar and the cross-event rules, and each event matches its schema.

    API reference, assistant stream events: a tool_calls step streams as thread.run.step.created /
    in_progress / delta / completed before the answer's message events; the stream ends with done.
    """
    record = search_run.ok()
    fail_with(stream_problems(record, contract), [record.stream.result.exchange] if record.stream else [])
