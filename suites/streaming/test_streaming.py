"""Server-sent event streams of runs (stream: true on create run, create thread and run, submit tool
outputs): framing, event schemas, event order, deltas, id consistency, and the pause/continue pair.

The streams are recorded once per module (see conftest.py); each check reads the recording.
"""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.protocol import stream_rules
from assistants_conformance.protocol.stream_rules import message_texts, text_parts
from assistants_conformance.protocol.transitions import TERMINAL
from assistants_conformance.wire.sse import StreamVerdict, is_bare_done

pytestmark = [pytest.mark.capability("streaming")]

MAX_LISTED = 8  # problems named in one failure message


def about(case, problems: list[str]) -> list[tuple]:
    """Problems paired with the stream case they are about (its exchanges are their evidence)."""
    return [(case, problem) for problem in problems]


def stream_only(case) -> list:
    return [case.stream.result.exchange]


def fail_with(found: list[tuple], evidence_of=lambda case: case.evidence) -> None:
    """Fail with (case, problem) pairs; the evidence is the exchanges of the cases named, and only those
    (a problem about no single case, case None, shows none of its own)."""
    if not found:
        return
    problems = [problem for _, problem in found]
    shown = problems[:MAX_LISTED]
    more = f" (and {len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
    evidence, cases = [], []
    for case, _ in found:
        if case is not None and not any(case is c for c in cases):
            cases.append(case)
            evidence += [e for e in evidence_of(case) if e is not None]
    violation("; ".join(shown) + more, evidence)


def unreadable(case) -> str | None:
    """Why the stream could not be read at all (HTTP error, wrong content type, timeout), else None. An
    INCOMPLETE stream (body closed before done) is judged on the events it did deliver; its missing
    ending is STREAM-003's finding."""
    result = case.stream.result
    if result.verdict in (StreamVerdict.COMPLETE, StreamVerdict.INCOMPLETE):
        return None
    return f"{case.label}: the stream could not be read ({result.verdict.value}): {result.message}"


def require_readable(case) -> None:
    """A stream that could not be read leaves nothing to judge: the check fails with what was answered."""
    why = unreadable(case)
    if why:
        violation(why, case.evidence)


def readable(cases: list) -> list:
    """The cases whose streams can be judged. A stream that could not be read is STREAM-001's finding
    (or that of the check about its own operation), not of checks judging the other streams; with none
    readable, the check fails with the first reader verdict."""
    usable = [case for case in cases if unreadable(case) is None]
    if not usable and cases:
        require_readable(cases[0])
    return usable


def order_problems(case) -> list[str]:
    stream = case.stream
    if not stream.order_violations:
        return []
    at = f" (first at {stream.first_violation_at:.3f} s into the stream)" if stream.first_violation_at else ""
    return [f"{case.label} stream order{at}: " + "; ".join(stream.order_violations)
            + f". Events: {' '.join(event_label(e) for e in stream.events)}"]


def event_label(event) -> str:
    """An event's name for a list of events; a nameless event shown by what it carried."""
    if is_bare_done(event):
        return "(bare data: [DONE])"
    return event.event or "(no event name)"


# --- framing and schemas --------------------------------------------------------------------------------


@pytest.mark.check("STREAM-001")
@pytest.mark.level("MUST")
def test_content_type(all_streams):
    """A streamed run is answered with Content-Type text/event-stream.

    API reference, create run: with stream: true the answer is a stream of server-sent events."""
    found = []
    for case in all_streams:
        result = case.stream.result
        content_type = result.headers.get("content-type", "")
        if result.verdict is StreamVerdict.HTTP_ERROR:  # "answered 404 with an error, not a stream: ..."
            found.append((case, f"{case.label}: {result.message}"))
        elif not content_type.split(";")[0].strip().lower() == "text/event-stream":
            found.append((case, f"{case.label}: answered {result.status_code} with Content-Type "
                                f"{content_type or '(none)'!r}, expected text/event-stream"))
    fail_with(found, stream_only)


@pytest.mark.check("STREAM-002")
@pytest.mark.level("MUST")
def test_event_schemas(all_streams, contract):
    """The data of every stream event matches the schema the contract gives for that event name.

    Events the contract does not name are skipped: the docs ask clients to tolerate new events."""
    found = []
    for case in readable(all_streams):
        for index, event in enumerate(case.stream.events):
            if event.event not in contract.event_names:
                continue
            for issue in contract.validate_event(event.event, event.data)[:3]:
                where = f" at {issue.pointer}" if issue.pointer else ""
                found.append((case, f"{case.label} event {index} {event.event}{where}: {issue.message}"))
    fail_with(found, stream_only)


@pytest.mark.check("STREAM-003")
@pytest.mark.level("MUST")
def test_stream_ends_with_done(all_streams):
    """Every stream ends with `event: done` carrying `data: [DONE]`, after which the body closes.

    API reference: the stream terminates when the run ends (or pauses) "with a data: [DONE] message"."""
    found = []
    for case in readable(all_streams):
        result = case.stream.result
        if result.verdict is StreamVerdict.INCOMPLETE:
            # The reader's words: a bare `data: [DONE]` without `event: done` is named as such.
            last = f" (last event: {event_label(result.events[-1])})" if result.events else ""
            found.append((case, f"{case.label}: {result.message}" + ("" if "bare" in result.message else last)))
            continue
        done = [i for i, e in enumerate(result.events) if e.event == "done"]
        if done and done[-1] != len(result.events) - 1:
            found.append((case, f"{case.label}: events after done (done is event {done[-1]} of "
                                f"{len(result.events)})"))
        for i in done:
            if result.events[i].data != "[DONE]":
                found.append((case, f"{case.label}: done event {i} carries data {result.events[i].data!r}, "
                                    "expected the literal [DONE]"))
    fail_with(found, stream_only)



# --- event order ------------------------------------------------------------------------------------------


@pytest.mark.check("STREAM-004")
@pytest.mark.level("MUST")
def test_create_run_order(plain_stream):
    """The events of a create-run stream come in the documented order.

    Run created, queued, in progress, each step with its message, then the run's ending and done."""
    require_readable(plain_stream)
    fail_with(about(plain_stream, order_problems(plain_stream)))


@pytest.mark.check("STREAM-005")
@pytest.mark.level("MUST")
def test_create_thread_and_run_order(thread_run_stream):
    """A create-thread-and-run stream begins with thread.created for the run's thread, then follows the run order."""
    case = thread_run_stream
    require_readable(case)
    events = case.stream.events
    if not events or events[0].event != "thread.created":
        first = events[0].event if events else "nothing"
        violation(f"the first event is {first}, expected thread.created (events: "
                  f"{' '.join(str(n) for n in case.stream.names()[:6])} ...)", case.evidence)
    thread = case.stream.payloads("thread.created")[0][2]
    problems = []
    if isinstance(thread, dict) and thread.get("id") != case.thread_id:
        problems.append(f"thread.created names thread {thread.get('id')!r} but the run belongs to {case.thread_id!r}")
    fail_with(about(case, problems + order_problems(case)))


# --- content and ids ------------------------------------------------------------------------------------------


def accumulated_texts(stream) -> dict[str, dict[int, str]]:
    """Message id -> {content index: text} built as a client does (the oracle's accumulator)."""
    return message_texts((name, data) for _, name, data in stream.payloads("thread.message."))


def describe_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return (f"{len(a)} vs {len(b)} characters, first difference at {at}: "
            f"{a[max(0, at - 15):at + 15]!r} vs {b[max(0, at - 15):at + 15]!r}")


@pytest.mark.check("STREAM-006")
@pytest.mark.level("MUST")
def test_deltas_make_the_message(all_streams):
    """A message's text deltas, appended at their index, give exactly its completed text, streamed and read back."""
    found = []
    checked = 0
    for case in readable(all_streams):
        problems: list[str] = []
        built = accumulated_texts(case.stream)
        for _, name, data in case.stream.payloads("thread.message."):
            if name not in ("thread.message.completed", "thread.message.incomplete") or not isinstance(data, dict):
                continue
            message_id = data.get("id")
            streamed = built.get(message_id, {})
            final = text_parts(data.get("content"))
            checked += 1
            for index in sorted(set(final) | set(streamed)):
                a, b = streamed.get(index, ""), final.get(index, "")
                if a != b:
                    problems.append(f"{case.label}: message {message_id} part {index}: deltas give "
                                    f"{describe_difference(a, b)} in {name}")
            read = case.message_reads.get(message_id)
            if read is None or read.status_code != 200 or not isinstance(read.json, dict):
                problems.append(f"{case.label}: message {message_id} could not be read back "
                                f"({getattr(read, 'status_code', 'not requested')})")
                continue
            stored = text_parts(read.json.get("content"))
            for index in sorted(set(stored) | set(streamed)):
                a, b = streamed.get(index, ""), stored.get(index, "")
                if a != b:
                    problems.append(f"{case.label}: message {message_id} part {index}: deltas give "
                                    f"{describe_difference(a, b)} in the message read back")
        found += about(case, problems)
    if not checked and not found:
        violation("no stream carried a completed assistant message to compare deltas with",
                  [c.stream.result.exchange for c in all_streams])
    fail_with(found)


# In-stream consistency rules of the oracle (protocol/stream_rules.py) that STREAM-007 applies.
ID_RULES = (
    "status_matches_event",
    "one_run_per_stream",
    "one_thread_per_stream",
    "steps_refer_to_created_steps",
    "messages_refer_to_created_messages",
    "message_step_names_its_message",
)


def rule_events(stream) -> list[tuple[str, object]]:
    """(event name, parsed data; the raw text when it is not JSON) as protocol.stream_rules takes them."""
    out = []
    for event in stream.events:
        try:
            data = event.json()
        except ValueError:
            data = event.data
        out.append((event.event or "", data))
    return out


def id_problems(case) -> list[str]:
    """Run, step and message ids and statuses agree across the events of one stream (the oracle's
    rules) and with the objects read back afterwards."""
    events = rule_events(case.stream)
    problems = [f"{case.label} {problem}" for rule in ID_RULES
                for problem in stream_rules.RULES[rule](events, case.stream.kind)]
    runs = [d for n, d in events if n.startswith("thread.run.") and not n.startswith("thread.run.step.")
            and isinstance(d, dict)]
    for data in runs[:1]:
        if data.get("id") != case.run_id or data.get("thread_id") != case.thread_id:
            problems.append(f"{case.label}: the stream is about run {data.get('id')!r} in thread "
                            f"{data.get('thread_id')!r}, expected run {case.run_id!r} in thread {case.thread_id!r}")
    steps = {d.get("id") for n, d in events if n.startswith("thread.run.step.") and n != "thread.run.step.delta"
             and isinstance(d, dict)}
    messages = {d.get("id") for n, d in events if n.startswith("thread.message.") and n != "thread.message.delta"
                and isinstance(d, dict)}
    last_run_status = runs[-1].get("status") if runs else None
    return problems + read_back_problems(case, last_run_status, steps, messages)


def read_back_problems(case, last_run_status, steps: set, messages: set) -> list[str]:
    label = case.label
    if case.run_read is None:
        return [f"{label}: the stream named no run to read back"]
    if case.run_read.status_code != 200 or not isinstance(case.run_read.json, dict):
        return [f"{label}: reading run {case.run_id} back answered {case.run_read.status_code}"]
    problems = []
    run = case.run_read.json
    if run.get("id") != case.run_id:
        problems.append(f"{label}: GET run {case.run_id} answered a run with id {run.get('id')!r}")
    if case.stream.result.ok and last_run_status and run.get("status") != last_run_status:
        problems.append(f"{label}: the last run event said {last_run_status!r}, the run read back after "
                        f"the stream ended says {run.get('status')!r}")
    listed = case.steps_read.json.get("data") if case.steps_read is not None and isinstance(case.steps_read.json, dict) else None
    if not isinstance(listed, list):
        problems.append(f"{label}: listing the run's steps answered {getattr(case.steps_read, 'status_code', None)}")
    else:
        stored = {s.get("id"): s for s in listed if isinstance(s, dict)}
        for step_id in steps:
            if step_id not in stored:
                problems.append(f"{label}: streamed step {step_id} is not in the run's step list "
                                f"({sorted(k for k in stored if k)})")
    for message_id in messages:
        read = case.message_reads.get(message_id)
        if read is None or read.status_code != 200:
            problems.append(f"{label}: streamed message {message_id} could not be read back "
                            f"({getattr(read, 'status_code', 'not requested')})")
    return problems


@pytest.mark.check("STREAM-007")
@pytest.mark.level("MUST")
def test_ids_consistent(plain_stream, thread_run_stream):
    """Run, step and message ids and statuses agree across a stream's events and the objects read back after it.

    All events name the same run and thread, a message_creation step names the message the stream
    delivers, each event's status matches its name, and the run, its steps and messages read back
    afterwards carry the same ids and the run's last streamed status."""
    found = []
    for case in readable([plain_stream, thread_run_stream]):
        found += about(case, id_problems(case))
    fail_with(found)


# --- pause for tool outputs and continuation ------------------------------------------------------------------


@pytest.mark.check("STREAM-008")
@pytest.mark.level("MUST")
def test_requires_action_stream(tool_streams):
    """A stream of a run that needs tool outputs ends with thread.run.requires_action, then done.

    The events before follow the documented order, and the run read back afterwards is requires_action."""
    case = tool_streams.paused
    require_readable(case)
    problems = order_problems(case)
    names = [e.event for e in case.stream.events if e.event != "done" and not is_bare_done(e)]
    if not names or names[-1] != "thread.run.requires_action":
        problems.append(f"the last event before done is {names[-1] or 'message' if names else 'nothing'}, "
                        "expected thread.run.requires_action")
    if case.stream.result.verdict is StreamVerdict.INCOMPLETE:
        problems.append(f"the stream did not end with done: {case.stream.result.message}")
    if case.run_read is not None and isinstance(case.run_read.json, dict) \
            and case.run_read.json.get("status") != "requires_action":
        problems.append(f"the run read back after the stream is {case.run_read.json.get('status')!r}, "
                        "expected requires_action")
    fail_with(about(case, problems))


@pytest.mark.check("STREAM-009")
@pytest.mark.level("MUST")
def test_tool_call_ids_match(tool_streams):
    """Tool call ids in thread.run.requires_action equal those of the streamed tool_calls step and the step read back."""
    case = tool_streams.paused
    require_readable(case)
    runs = [d for _, n, d in case.stream.run_events() if n == "thread.run.requires_action"]
    if not runs:
        violation("the stream has no thread.run.requires_action event to compare", case.evidence)
    required = [c.get("id") for c in tool_streams.required_calls(runs[-1])]
    problems = [f"{case.label} {p}" for p in
                stream_rules.tool_calls_match_required_action(rule_events(case.stream), case.stream.kind)]
    listed = case.steps_read.json.get("data") if case.steps_read is not None and isinstance(case.steps_read.json, dict) else []
    stored = [[c.get("id") for c in (s.get("step_details") or {}).get("tool_calls") or []]
              for s in listed or [] if isinstance(s, dict) and (s.get("step_details") or {}).get("type") == "tool_calls"]
    if sorted(required) not in [sorted(ids) for ids in stored]:
        problems.append(f"required_action names tool calls {required}, the tool_calls steps read back "
                        f"carry {stored or 'none'}")
    fail_with(about(case, problems))


@pytest.mark.check("STREAM-010")
@pytest.mark.level("MUST")
def test_submit_stream_continues_the_run(tool_streams):
    """A submit_tool_outputs stream continues the same run and ends with a terminal run event, then done.

    It opens by completing the paused tool_calls step, follows the documented order and names only that run."""
    if tool_streams.resumed is None:
        violation(f"the continuation could not be requested: {tool_streams.submit_problem}",
                  tool_streams.paused.evidence)
    paused, case = tool_streams.paused, tool_streams.resumed
    require_readable(case)
    problems = order_problems(case)
    paused_steps = {d.get("id") for _, n, d in paused.stream.payloads("thread.run.step.")
                    if n == "thread.run.step.created" and isinstance(d, dict)}
    payloads = case.stream.payloads()
    if payloads and payloads[0][1] == "thread.run.step.completed" and payloads[0][2].get("id") not in paused_steps:
        problems.append(f"the stream opens by completing step {payloads[0][2].get('id')!r}, which is not the "
                        f"paused tool_calls step {sorted(s for s in paused_steps if s)}")
    problems += id_problems(case)
    runs = case.stream.run_events()
    last = runs[-1][2].get("status") if runs else None
    if last not in TERMINAL:
        problems.append(f"the last run event says {last!r}, expected a terminal status ({', '.join(sorted(TERMINAL))})")
    if case.stream.result.verdict is StreamVerdict.INCOMPLETE:
        problems.append(f"the stream did not end with done: {case.stream.result.message}")
    fail_with(about(case, problems))
