"""Stream grammar: documented example streams are accepted, malformed ones rejected with useful text."""

import pytest

from assistants_conformance.protocol.grammar import GrammarError, load_grammar, parse_grammar

RUN_START = "thread.run.created thread.run.queued thread.run.in_progress"
MESSAGE = "thread.message.created thread.message.in_progress thread.message.delta thread.message.delta thread.message.completed"
MESSAGE_STEP = f"thread.run.step.created thread.run.step.in_progress {MESSAGE} thread.run.step.completed"
FUNCTION_PAUSE = (
    "thread.run.step.created thread.run.step.in_progress thread.run.step.delta thread.run.step.delta "
    "thread.run.step.delta thread.run.requires_action"
)
TOOL_STEP = "thread.run.step.created thread.run.step.in_progress thread.run.step.delta thread.run.step.delta thread.run.step.completed"

# The API reference's example streams (create run; create thread and run; functions; submit outputs).
PLAIN = f"{RUN_START} {MESSAGE_STEP} thread.run.completed done"
THREAD_AND_RUN = f"thread.created {PLAIN}"
WITH_FUNCTIONS = f"thread.created {RUN_START} {FUNCTION_PAUSE} done"
SUBMIT = f"thread.run.step.completed thread.run.queued thread.run.in_progress {MESSAGE_STEP} thread.run.completed done"


def ev(text: str) -> list[str]:
    return text.split()


@pytest.fixture(scope="module")
def g():
    return load_grammar()


def test_loads_all_kinds(g):
    assert set(g.kinds) == {"create_run", "create_thread_and_run", "submit_tool_outputs"}
    assert len(g.events) == 25
    assert load_grammar() is g  # cached


@pytest.mark.parametrize("kind,stream", [
    ("create_run", PLAIN),
    ("create_thread_and_run", THREAD_AND_RUN),
    ("create_thread_and_run", WITH_FUNCTIONS),
    ("create_run", f"{RUN_START} {FUNCTION_PAUSE} done"),
    ("submit_tool_outputs", SUBMIT),
    ("submit_tool_outputs", f"thread.run.step.completed thread.run.queued thread.run.in_progress {FUNCTION_PAUSE} done"),
    # code interpreter / file search step, then the answer
    ("create_run", f"{RUN_START} {TOOL_STEP} {MESSAGE_STEP} thread.run.completed done"),
    # several messages, a message with no deltas (e.g. an empty or image-only message)
    ("create_run", f"{RUN_START} {MESSAGE_STEP} {MESSAGE_STEP} thread.run.step.created thread.run.step.in_progress "
                   "thread.message.created thread.message.in_progress thread.message.completed thread.run.step.completed "
                   "thread.run.completed done"),
    # max tokens: message incomplete, step completed, run incomplete
    ("create_run", f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.message.created "
                   "thread.message.in_progress thread.message.delta thread.message.incomplete thread.run.step.completed "
                   "thread.run.incomplete done"),
    # failure mid-message closes message and step
    ("create_run", f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.message.created "
                   "thread.message.in_progress thread.message.delta thread.message.incomplete thread.run.step.failed "
                   "thread.run.failed done"),
    ("create_run", f"{RUN_START} thread.run.failed done"),
    ("create_run", "thread.run.created thread.run.queued thread.run.failed done"),
    ("create_run", "thread.run.created thread.run.queued thread.run.expired done"),
    ("create_run", f"{RUN_START} {TOOL_STEP} thread.run.step.created thread.run.step.in_progress thread.run.step.expired thread.run.expired done"),
    # cancel while queued, while streaming a message, between steps; best-effort completion
    ("create_run", "thread.run.created thread.run.queued thread.run.cancelling thread.run.cancelled done"),
    ("create_run", f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.message.created "
                   "thread.message.in_progress thread.message.delta thread.run.cancelling thread.message.delta "
                   "thread.message.incomplete thread.run.step.cancelled thread.run.cancelled done"),
    ("create_run", f"{RUN_START} {TOOL_STEP} thread.run.cancelling thread.run.cancelled done"),
    ("create_run", f"{RUN_START} thread.run.cancelling {MESSAGE_STEP} thread.run.completed done"),
    # error at any point, then done
    ("create_run", "error done"),
    ("create_run", "thread.run.created thread.run.queued thread.run.in_progress thread.run.step.created "
                   "thread.run.step.in_progress thread.message.created thread.message.in_progress "
                   "thread.message.delta error done"),
    ("create_run", f"{RUN_START} {MESSAGE_STEP} thread.run.completed error done"),
])
def test_accepts_legal_streams(g, kind, stream):
    assert g.check(kind, ev(stream)) == []


def check(g, kind, stream):
    return g.check(kind, ev(stream) if isinstance(stream, str) else stream)


def test_reordered_queued_in_progress(g):
    problems = check(g, "create_run", PLAIN.replace("thread.run.queued thread.run.in_progress", "thread.run.in_progress thread.run.queued"))
    assert problems[0] == "event 1 thread.run.in_progress: expected thread.run.queued after thread.run.created (thread.run.queued missing?)"


def test_missing_done(g):
    assert check(g, "create_run", PLAIN.removesuffix(" done")) == ["stream ended after thread.run.completed: expected done"]


def test_stream_cut_mid_message(g):
    stream = f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.message.created thread.message.in_progress thread.message.delta"
    (problem,) = check(g, "create_run", stream)
    assert problem.startswith("stream ended after thread.message.delta: expected one of thread.message.completed")


def test_empty_stream(g):
    assert check(g, "create_run", []) == ["stream ended before any event: expected thread.run.created"]


def test_delta_outside_a_message(g):
    before = f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.message.delta {MESSAGE} thread.run.step.completed thread.run.completed done"
    problems = check(g, "create_run", before)
    assert problems and problems[0].startswith("event 5 thread.message.delta: expected one of thread.message.created")
    after = f"{RUN_START} thread.run.step.created thread.run.step.in_progress {MESSAGE} thread.message.delta thread.run.step.completed thread.run.completed done"
    problems = check(g, "create_run", after)
    assert problems == ["event 10 thread.message.delta: expected one of thread.run.cancelling, thread.run.step.cancelled, thread.run.step.completed, "
                        "thread.run.step.expired or thread.run.step.failed after thread.message.completed (event skipped)"]


def test_message_completed_without_created(g):
    stream = f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.message.completed thread.run.step.completed thread.run.completed done"
    problems = check(g, "create_run", stream)
    assert problems[0].startswith("event 5 thread.message.completed: expected one of thread.message.created")


def test_two_run_endings(g):
    problems = check(g, "create_run", PLAIN.replace("thread.run.completed", "thread.run.completed thread.run.failed"))
    assert problems == ["event 12 thread.run.failed: expected done after thread.run.completed (event skipped)"]


def test_events_after_done(g):
    problems = check(g, "create_run", PLAIN + " thread.run.completed done")
    assert problems == [
        "event 13 thread.run.completed: the stream already ended with done (event 12)",
        "event 14 done: the stream already ended with done (event 12)",
    ]


def test_events_after_error(g):
    problems = check(g, "create_run", f"{RUN_START} error thread.run.completed done")
    assert problems == ["event 4 thread.run.completed: expected done after error (event skipped)"]
    assert check(g, "create_run", f"{RUN_START} error") == ["stream ended after error: expected done"]


def test_cancelled_needs_cancelling_and_no_pause_after_cancelling(g):
    problems = check(g, "create_run", f"{RUN_START} thread.run.cancelled done")
    assert problems == ["event 3 thread.run.cancelled: expected one of thread.run.cancelling, thread.run.completed, "
                        "thread.run.expired, thread.run.failed, thread.run.incomplete or thread.run.step.created "
                        "after thread.run.in_progress (thread.run.cancelling missing?)"]
    problems = check(g, "create_run", f"{RUN_START} thread.run.cancelling {FUNCTION_PAUSE} done")
    assert problems and "thread.run.requires_action" in problems[0]
    problems = check(g, "create_run", f"{RUN_START} thread.run.cancelling thread.run.cancelling thread.run.cancelled done")
    assert len(problems) == 1 and problems[0].startswith("event 4 thread.run.cancelling")


def test_step_completed_before_its_message(g):
    stream = f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.message.created thread.message.in_progress thread.run.step.completed thread.message.completed thread.run.completed done"
    assert check(g, "create_run", stream)[0].startswith("event 7 thread.run.step.completed")


def test_kind_specific_openings(g):
    assert check(g, "create_run", THREAD_AND_RUN)[0].startswith("event 0 thread.created: expected thread.run.created at the start of a create_run stream")
    assert check(g, "create_thread_and_run", PLAIN)[0].startswith("event 0 thread.run.created: expected thread.created at the start")
    assert check(g, "submit_tool_outputs", PLAIN)[0].startswith("event 0 thread.run.created: expected thread.run.step.completed")
    # the paused run does not pause again without running
    assert check(g, "submit_tool_outputs", "thread.run.step.completed thread.run.requires_action done") != []


def test_run_completed_with_open_step(g):
    stream = f"{RUN_START} thread.run.step.created thread.run.step.in_progress thread.run.step.delta thread.run.completed done"
    assert check(g, "create_run", stream)[0].startswith("event 6 thread.run.completed")


def test_unknown_events_ignored_or_rejected(g):
    events = ev(PLAIN)
    events.insert(3, "thread.run.step.thinking")
    auto = g.start("create_run")
    assert [auto.feed(e) for e in events] == [None] * len(events)
    assert auto.finish() is None and auto.unknown_events == [(3, "thread.run.step.thinking")]
    auto = g.start("create_run")
    results = [auto.feed(e, unknown="reject") for e in events]
    assert results[3] == "event 3 thread.run.step.thinking: not one of the 25 documented stream events"
    assert [r for r in results if r] == [results[3]]
    assert g.accepts("create_run", events) and not g.accepts("create_run", events, unknown="reject")


def test_missing_event_name(g):
    auto = g.start("create_run")
    assert auto.feed(None) == "event 0 has no `event:` name"


def test_expected_and_incremental_api(g):
    auto = g.start("create_thread_and_run")
    assert auto.expected() == {"thread.created", "error"}
    for e in ev(WITH_FUNCTIONS)[:-1]:
        assert auto.feed(e) is None
    assert auto.expected() == {"done", "error"}
    assert auto.finish() == "stream ended after thread.run.requires_action: expected done"
    assert auto.feed("done") is None and auto.finish() is None


def test_long_stream_is_fast(g):
    import time
    events = ev(RUN_START) + ev("thread.run.step.created thread.run.step.in_progress thread.message.created thread.message.in_progress")
    events += ["thread.message.delta"] * 20000 + ev("thread.message.completed thread.run.step.completed thread.run.completed done")
    t0 = time.perf_counter()
    assert g.accepts("create_run", events)
    assert time.perf_counter() - t0 < 0.5


def _doc(**over):
    doc = {"events": ["a", "b", "done", "error"], "fragments": {}, "streams": {"create_run": "a b*"},
           "every_stream": {"ends_with": "done", "abort_with": "error"}}
    doc.update(over)
    return doc


def test_grammar_file_errors_are_named():
    with pytest.raises(GrammarError, match="'c' is not a declared event"):
        parse_grammar(_doc(streams={"create_run": "a c"}))
    with pytest.raises(GrammarError, match="unknown fragment <x>"):
        parse_grammar(_doc(streams={"create_run": "a <x>"}))
    with pytest.raises(GrammarError, match="refers to itself"):
        parse_grammar(_doc(fragments={"x": "a <x>?"}, streams={"create_run": "<x>"}))
    with pytest.raises(GrammarError, match="missing '\\)'"):
        parse_grammar(_doc(streams={"create_run": "(a b"}))
    with pytest.raises(GrammarError, match="missing key 'streams'"):
        parse_grammar({"events": [], "every_stream": {"ends_with": "done"}})


def test_small_grammar_semantics():
    g = parse_grammar(_doc(fragments={"x": {"interleave_once": "b", "into": "a a"}}, streams={"create_run": "<x>"}))
    assert all(g.accepts("create_run", s.split()) for s in ["b a a done", "a b a done", "a a b done", "error done", "a error done"])
    assert not any(g.accepts("create_run", s.split()) for s in ["a a done", "b a b a done", "a a"])
