"""Judgements shared by the tools checks: contract validity of step reads, annotation ranges, streams."""

from __future__ import annotations

from assistants_conformance.checks import violation
from assistants_conformance.outcomes import unsupported
from assistants_conformance.protocol import stream_rules
from assistants_conformance.wire.sse import StreamVerdict

from ._scenarios import ToolRun, inconclusive

MAX_LISTED = 8  # problems named in one failure message
STEPS_LIST = ("GET", "/threads/{thread_id}/runs/{run_id}/steps")
STEP_GET = ("GET", "/threads/{thread_id}/runs/{run_id}/steps/{step_id}")


def fail_with(problems: list[str], evidence: list) -> None:
    if problems:
        more = f" (and {len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
        violation("; ".join(problems[:MAX_LISTED]) + more, evidence)


def step_contract_problems(record: ToolRun, contract) -> list[str]:
    """Every read of the run's steps (list and single, with and without include[]) against the contract."""
    reads = [("steps list", STEPS_LIST, record.steps_read), ("steps list with include[]", STEPS_LIST,
                                                                record.steps_with_content)]
    for step_id, (plain, included) in record.step_reads.items():
        reads += [(f"step {step_id}", STEP_GET, plain), (f"step {step_id} with include[]", STEP_GET, included)]
    problems = []
    for what, operation, response in reads:
        if response is None:
            continue
        if response.status_code != 200:
            problems.append(f"reading the {what} answered {response.status_code}")
            continue
        for issue in contract.validate(operation, 200, response.json)[:3]:
            where = f" at {issue.pointer}" if issue.pointer else ""
            problems.append(f"{what}{where}: {issue.message}")
    return problems


def tool_call_problems(record: ToolRun, calls: list[tuple[dict, dict]]) -> list[str]:
    """What every hosted-tool call of a completed run must satisfy: a non-empty id unique within the run, its
    step completed and listed under this run. `calls` are (step, call) pairs of one tool type."""
    ids = [call.get("id") for kind in ("file_search", "code_interpreter", "function")
           for _, call in record.calls(kind)]
    problems = []
    for step, call in calls:
        where = f"step {step.get('id')} call {call.get('id')!r}"
        if not (isinstance(call.get("id"), str) and call["id"]):
            problems.append(f"{where}: id {call.get('id')!r}, expected a non-empty string")
        elif ids.count(call["id"]) > 1:
            problems.append(f"{where}: the call id is used by {ids.count(call['id'])} calls of the run")
        if step.get("status") != "completed":
            problems.append(f"{where}: the step of a completed run is {step.get('status')!r}, expected completed")
        if step.get("run_id") != record.run.get("id"):
            problems.append(f"{where}: run_id {step.get('run_id')!r}, listed under run {record.run.get('id')}")
    return problems


def annotation_range_problems(record: ToolRun, kind: str) -> tuple[int, list[str]]:
    """(annotations of `kind` seen, problems): each must satisfy 0 <= start_index <= end_index <= len(value)
    and value[start_index:end_index] == its text."""
    seen, problems = 0, []
    for message, index, text in record.text_parts():
        value = text.get("value")
        for n, note in enumerate(text.get("annotations") or []):
            if not isinstance(note, dict) or note.get("type") != kind:
                continue
            seen += 1
            where = f"message {message.get('id')} content[{index}] annotation {n} ({kind})"
            start, end, marker = note.get("start_index"), note.get("end_index"), note.get("text")
            if not isinstance(value, str):
                problems.append(f"{where}: the text part's value is {value!r}, expected a string")
            elif not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(value)):
                problems.append(f"{where}: start_index {start!r} / end_index {end!r} are not a range inside the "
                                f"{len(value)}-character value")
            elif value[start:end] != marker:
                problems.append(f"{where}: value[{start}:{end}] is {value[start:end]!r}, but the annotation's "
                                f"text is {marker!r}")
    return seen, problems


def stream_problems(record: ToolRun, contract) -> list[str]:
    """A recorded stream: readable to its done event, in the grammar's order, consistent across events
    (protocol.stream_rules), and every documented event valid against its schema."""
    stream = record.stream
    if record.stream_skipped:
        unsupported(record.stream_skipped)
    if stream is None:
        inconclusive("no stream was recorded")
    result = stream.result
    label = f"streamed {record.label}"
    if result.verdict is not StreamVerdict.COMPLETE:
        return [f"{label}: the stream did not end with its done event ({result.verdict.value}): {result.message}"]
    problems = []
    if stream.order_violations:
        problems.append(f"{label} event order: " + "; ".join(stream.order_violations)
                        + f". Events: {' '.join(str(n) for n in stream.names())}")
    events = [(e.event, _data(e)) for e in stream.events]
    problems += [f"{label}: {p}" for p in stream_rules.check_stream(events, kind=stream.kind)]
    for index, event in enumerate(stream.events):
        if event.event in contract.event_names:
            for issue in contract.validate_event(event.event, event.data)[:3]:
                where = f" at {issue.pointer}" if issue.pointer else ""
                problems.append(f"{label} event {index} {event.event}{where}: {issue.message}")
    return problems


def _data(event):
    """Parsed JSON data, or the raw text (done's [DONE], broken data: the schema check reports those)."""
    try:
        return event.json()
    except ValueError:
        return event.data
