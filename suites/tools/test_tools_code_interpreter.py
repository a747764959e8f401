"""code_interpreter runs: the tool_calls step (code input, logs / image outputs), generated files that can be
downloaded, file_path ranges, the stream.

One run forced to use code (tool_choice {"type": "code_interpreter"}) on "Use code to solve 3x + 11 = 14 and
print the value of x; save the answer to a CSV file and plot both sides", recorded once per session
(conftest.py `code_run`).
"""

from __future__ import annotations

import re

import pytest

from assistants_conformance.checks import violation

from ._judging import (annotation_range_problems, fail_with, step_contract_problems, stream_problems,
                       tool_call_problems)
from ._scenarios import generated_file_ids, inconclusive

pytestmark = [pytest.mark.capability("code_interpreter")]

PRINTS = re.compile(r"\bprint\s*\(")


def code_calls(record):
    calls = record.calls("code_interpreter")
    if not calls:
        kinds = [s.get("type") for s in record.steps]
        violation(f"tool_choice named code_interpreter and the run completed, but its steps ({kinds}) hold no "
                  "code_interpreter tool call", record.evidence())
    return calls


@pytest.mark.check("TOOL-020")
@pytest.mark.varies("what program the model writes, and what it prints and saves, is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_code_interpreter_step_shape(code_run, contract):
    """A run whose tool_choice names code_interpreter records a completed tool_calls step whose code_interpreter call has a non-empty id, its program as a non-empty input string and outputs that are logs or images, and its steps match the contract.

    Run steps object: code_interpreter tool calls {id, type: "code_interpreter", code_interpreter: {input,
    outputs: [{type: "logs", logs} | {type: "image", image: {file_id}}]}}.
    """
    record = code_run.ok()
    calls = code_calls(record)
    problems = step_contract_problems(record, contract) + tool_call_problems(record, calls)
    for step, call in calls:
        where = f"step {step.get('id')} call {call.get('id')!r}"
        details = call.get("code_interpreter") if isinstance(call.get("code_interpreter"), dict) else {}
        code = details.get("input")
        if not (isinstance(code, str) and code.strip()):
            problems.append(f"{where}: code_interpreter.input is {code!r}, expected the program as a string")
        outputs = details.get("outputs")
        if not isinstance(outputs, list):
            problems.append(f"{where}: code_interpreter.outputs is {outputs!r}, expected a list")
            continue
        for n, output in enumerate(outputs):
            kind = output.get("type") if isinstance(output, dict) else None
            if kind == "logs" and isinstance(output.get("logs"), str):
                continue
            if kind == "image" and isinstance((output.get("image") or {}).get("file_id"), str):
                continue
            problems.append(f"{where}: output {n} is {str(output)[:120]}, expected {{type: logs, logs: str}} "
                            "or {type: image, image: {file_id: str}}")
    fail_with(problems, record.evidence())


@pytest.mark.check("TOOL-021")
@pytest.mark.varies("what program the model writes, and what it prints and saves, is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_code_interpreter_logs(code_run):
    """A code_interpreter call whose program prints records what it printed as a non-empty logs output.

    Run steps object: outputs of a code_interpreter call include {type: "logs", logs: "the text output from
    the Code Interpreter tool call"}. The user asked for the value of x to be printed; a program that prints
    nothing (a model's choice) leaves nothing to judge: inconclusive.
    """
    record = code_run.ok()
    printing = [(step, call) for step, call in code_calls(record)
                if PRINTS.search(str((call.get("code_interpreter") or {}).get("input") or ""))]
    if not printing:
        inconclusive("no code_interpreter program of the run calls print()")
    problems = []
    for step, call in printing:
        outputs = (call.get("code_interpreter") or {}).get("outputs") or []
        logs = [o.get("logs") for o in outputs if isinstance(o, dict) and o.get("type") == "logs"]
        if not any(isinstance(text, str) and text.strip() for text in logs):
            problems.append(f"step {step.get('id')} call {call.get('id')}: the program prints, but its outputs "
                            f"{str(outputs)[:160]} hold no non-empty logs")
    fail_with(problems, record.evidence())


@pytest.mark.check("TOOL-022")
@pytest.mark.varies("what program the model writes, and what it prints and saves, is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_generated_files_downloadable(code_run, client):
    """Every file a code_interpreter run names (file_path annotations, image_file content, image outputs) can be retrieved and its content downloaded through the Files API.

    Messages object (file_path annotation, image_file content) and Files API: GET /files/{file_id} and
    GET /files/{file_id}/content. A model may write no file: then nothing to judge (inconclusive).
    """
    record = code_run.ok()
    named = [(where, file_id) for where, file_id in generated_file_ids(record)]
    if not named:
        inconclusive("the run names no generated file (no file_path annotation, image_file part or image output)")
    problems, evidence = [], []
    for where, file_id in named:
        if not (isinstance(file_id, str) and file_id):
            problems.append(f"{where}: file_id {file_id!r}, expected a file id")
            continue
        meta = client.get(f"/files/{file_id}")
        content = client.get(f"/files/{file_id}/content")
        if meta.status_code != 200 or content.status_code != 200 or not content.content:
            evidence += [meta.exchange, content.exchange]
            problems.append(f"{where}: GET /files/{file_id} answered {meta.status_code}, its content "
                            f"{content.status_code} with {len(content.content)} bytes; expected both 200 with bytes")
    fail_with(problems, evidence + record.evidence())


@pytest.mark.check("TOOL-023")
@pytest.mark.varies("what program the model writes, and what it prints and saves, is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_file_path_ranges(code_run):
    """Every file_path annotation's start_index and end_index delimit its text in the message value.

    Messages object, text content annotations: file_path {text, file_path: {file_id}, start_index, end_index}.
    A model may link no file: then nothing to judge (inconclusive), but every annotation present must
    point at its text.
    """
    record = code_run.ok()
    seen, problems = annotation_range_problems(record, "file_path")
    fail_with(problems, record.evidence())
    if not seen:
        inconclusive("the answer carries no file_path annotations (a model may not link its files)")


@pytest.mark.check("TOOL-024")
@pytest.mark.varies("what program the model writes, and what it prints and saves, is its choice: a run with nothing to judge is inconclusive")
@pytest.mark.level("MUST")
def test_code_interpreter_stream(code_run, contract):
    """A streamed code_interpreter run follows the stream grammar and the cross-event rules, and each event matches its schema.

    API reference, assistant stream events: the tool_calls step streams its code input and outputs as
    thread.run.step.delta events between its created and completed events; the stream ends with done.
    """
    record = code_run.ok()
    fail_with(stream_problems(record, contract), [record.stream.result.exchange] if record.stream else [])
