"""Cross-event payload rules over synthetic streams shaped like the API reference's examples."""

import copy

from assistants_conformance.protocol.grammar import load_grammar
from assistants_conformance.protocol.stream_rules import check_stream, message_texts


def run(status, **extra):
    return {"id": "run_1", "object": "thread.run", "thread_id": "thread_1", "status": status, "required_action": None, **extra}


def step(status, type_="message_creation", **extra):
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_1"}} if type_ == "message_creation" else {"type": "tool_calls", "tool_calls": []}
    return {"id": "step_1" if type_ == "message_creation" else "step_t", "object": "thread.run.step", "run_id": "run_1",
            "thread_id": "thread_1", "status": status, "type": type_, "step_details": details, **extra}


def message(status, text="", **extra):
    content = [{"type": "text", "text": {"value": text, "annotations": []}}] if text else []
    return {"id": "msg_1", "object": "thread.message", "thread_id": "thread_1", "run_id": "run_1", "role": "assistant",
            "status": status, "content": content, **extra}


def text_delta(value, first=False):
    text = {"value": value, "annotations": []} if first else {"value": value}
    return {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [{"index": 0, "type": "text", "text": text}]}}


def call_delta(index, **call):
    return {"id": "step_t", "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [{"index": index, **call}]}}}


PLAIN = [
    ("thread.run.created", run("queued")),
    ("thread.run.queued", run("queued")),
    ("thread.run.in_progress", run("in_progress")),
    ("thread.run.step.created", step("in_progress")),
    ("thread.run.step.in_progress", step("in_progress")),
    ("thread.message.created", message("in_progress")),
    ("thread.message.in_progress", message("in_progress")),
    ("thread.message.delta", text_delta("Hello", first=True)),
    ("thread.message.delta", text_delta(" there")),
    ("thread.message.completed", message("completed", "Hello there")),
    ("thread.run.step.completed", step("completed")),
    ("thread.run.completed", run("completed")),
    ("done", "[DONE]"),
]

FUNCTIONS = [
    ("thread.created", {"id": "thread_1", "object": "thread"}),
    ("thread.run.created", run("queued")),
    ("thread.run.queued", run("queued")),
    ("thread.run.in_progress", run("in_progress")),
    ("thread.run.step.created", step("in_progress", "tool_calls")),
    ("thread.run.step.in_progress", step("in_progress", "tool_calls")),
    ("thread.run.step.delta", call_delta(0, id="call_a", type="function", function={"name": "f", "arguments": "", "output": None})),
    ("thread.run.step.delta", call_delta(0, type="function", function={"arguments": "{\"x\":1}"})),
    ("thread.run.step.delta", call_delta(1, id="call_b", type="function", function={"name": "g", "arguments": "{}", "output": None})),
    ("thread.run.requires_action", run("requires_action", required_action={"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}},
        {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}})),
    ("done", "[DONE]"),
]


def test_example_streams_are_consistent():
    assert check_stream(PLAIN, "create_run") == []
    assert check_stream(FUNCTIONS, "create_thread_and_run") == []
    g = load_grammar()
    assert g.accepts("create_run", [n for n, _ in PLAIN])
    assert g.accepts("create_thread_and_run", [n for n, _ in FUNCTIONS])


def test_submit_stream_may_complete_the_paused_step():
    events = [("thread.run.step.completed", step("completed", "tool_calls")), ("thread.run.queued", run("queued"))]
    assert check_stream(events, "submit_tool_outputs") == []
    assert check_stream(events, "create_run") == ["event 0 thread.run.step.completed: step 'step_t' never created in this stream"]


def test_text_deltas_must_add_up():
    events = copy.deepcopy(PLAIN)
    events[9] = ("thread.message.completed", message("completed", "Hello world"))
    assert check_stream(events) == ["event 9 thread.message.completed: content[0] text is 'Hello world' but its deltas add up to 'Hello there'"]


def test_a_text_part_with_no_deltas_must_still_be_built_by_the_stream():
    events = [e for e in copy.deepcopy(PLAIN) if e[0] != "thread.message.delta"]
    assert check_stream(events) == ["event 7 thread.message.completed: content[0] text is 'Hello there' but its deltas add up to ''"]


def test_the_created_snapshot_counts_like_a_client_counts_it():
    events = copy.deepcopy(PLAIN)
    events[5] = ("thread.message.created", message("in_progress", "Oh. "))
    events[9] = ("thread.message.completed", message("completed", "Oh. Hello there"))
    assert check_stream(events) == []
    assert message_texts(events) == {"msg_1": {0: "Oh. Hello there"}}


def test_ids_must_stay_the_same():
    events = copy.deepcopy(PLAIN)
    events[11] = ("thread.run.completed", run("completed", id="run_2"))
    events[4][1]["thread_id"] = "thread_9"
    problems = check_stream(events)
    assert "event 11 thread.run.completed: run id 'run_2' differs from 'run_1' of event 0" in problems
    assert "event 4 thread.run.step.in_progress: thread 'thread_9' differs from 'thread_1' of event 0 thread.run.created" in problems


def test_thread_created_id_is_the_runs_thread():
    events = copy.deepcopy(FUNCTIONS)
    events[0] = ("thread.created", {"id": "thread_0", "object": "thread"})
    problems = check_stream(events)
    assert problems[0] == "event 1 thread.run.created: thread 'thread_1' differs from 'thread_0' of event 0 thread.created"


def test_status_must_match_event_name():
    events = copy.deepcopy(PLAIN)
    events[2] = ("thread.run.in_progress", run("queued"))
    assert check_stream(events) == ["event 2 thread.run.in_progress: object status is 'queued', expected 'in_progress'"]


def test_delta_for_unknown_or_finished_message():
    events = copy.deepcopy(PLAIN)
    events.insert(10, ("thread.message.delta", text_delta("!")))
    problems = check_stream(events)
    assert "event 10 thread.message.delta: message 'msg_1' already ended" in problems
    events = copy.deepcopy(PLAIN)
    events[7][1]["id"] = "msg_x"
    assert "event 7 thread.message.delta: message 'msg_x' never created in this stream" in check_stream(events)


def test_message_step_names_its_message():
    events = copy.deepcopy(PLAIN)
    events[3][1]["step_details"]["message_creation"]["message_id"] = "msg_other"
    assert check_stream(events) == ["event 5 thread.message.created: message 'msg_1' but its step 'step_1' names message 'msg_other'"]


def test_required_action_matches_streamed_calls():
    events = copy.deepcopy(FUNCTIONS)
    del events[8]
    assert check_stream(events) == [
        "event 8 thread.run.requires_action: required_action lists tool calls ['call_a', 'call_b'] but the step deltas streamed ['call_a']"
    ]


def test_done_data():
    events = PLAIN[:-1] + [("done", "{}")]
    assert check_stream(events) == ["event 12 done: data is '{}', expected [DONE]"]
