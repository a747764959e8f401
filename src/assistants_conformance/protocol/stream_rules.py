"""Cross-event consistency of one stream's payloads (the grammar checks only the event names).

    problems = check_stream([(event_name, parsed_data), ...], kind="create_run")

`parsed_data` is the JSON-decoded `data:` (dict), or the raw string for `done` ("[DONE]"). Every
rule returns violation strings naming the event index (0-based); payloads that are not objects are
left to schema validation and skipped here.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

Event = tuple[str, Any]

# Status carried by the object of each *.created event (the object starts in that status).
_CREATED_STATUS = {"thread.run.created": "queued", "thread.run.step.created": "in_progress", "thread.message.created": "in_progress"}


def _family(name: str) -> str | None:
    if name.startswith("thread.run.step."):
        return "step"
    if name.startswith("thread.run."):
        return "run"
    if name.startswith("thread.message."):
        return "message"
    return None


def _objects(events: list[Event], family: str, include_deltas: bool = False):
    for i, (name, data) in enumerate(events):
        if _family(name) == family and isinstance(data, dict) and (include_deltas or not name.endswith(".delta")):
            yield i, name, data


def status_matches_event(events: list[Event], kind: str | None = None) -> list[str]:
    """thread.run.completed carries a run with status completed, *.created carries the initial status."""
    out = []
    for family in ("run", "step", "message"):
        for i, name, data in _objects(events, family):
            want = _CREATED_STATUS.get(name, name.rsplit(".", 1)[1])
            got = data.get("status")
            if got != want:
                out.append(f"event {i} {name}: object status is {got!r}, expected {want!r}")
    return out


def one_run_per_stream(events: list[Event], kind: str | None = None) -> list[str]:
    """All run events, steps and assistant messages belong to the same run."""
    out = []
    run_id = None
    first = None
    for i, name, data in _objects(events, "run"):
        if run_id is None:
            run_id, first = data.get("id"), i
        elif data.get("id") != run_id:
            out.append(f"event {i} {name}: run id {data.get('id')!r} differs from {run_id!r} of event {first}")
    if run_id is None:
        return out
    for family in ("step", "message"):
        for i, name, data in _objects(events, family):
            if data.get("run_id") != run_id:
                out.append(f"event {i} {name}: run_id {data.get('run_id')!r}, expected {run_id!r} (the stream's run)")
    return out


def one_thread_per_stream(events: list[Event], kind: str | None = None) -> list[str]:
    """thread.created's id is the thread_id of the run, its steps and its messages."""
    out = []
    thread_id, source = None, None
    for i, (name, data) in enumerate(events):
        if not isinstance(data, dict):
            continue
        if name == "thread.created":
            got = data.get("id")
        elif _family(name) and not name.endswith(".delta"):
            got = data.get("thread_id")
        else:
            continue
        if thread_id is None:
            thread_id, source = got, f"event {i} {name}"
        elif got != thread_id:
            out.append(f"event {i} {name}: thread {got!r} differs from {thread_id!r} of {source}")
    return out


def _lifecycle(events: list[Event], family: str, kind: str | None) -> list[str]:
    """Every event about a step/message refers to one created earlier in the stream and not yet ended."""
    noun = "step" if family == "step" else "message"
    out = []
    open_ids: set[str] = set()
    ended: set[str] = set()
    for i, name, data in _objects(events, family, include_deltas=True):
        oid = data.get("id")
        verb = name.rsplit(".", 1)[1]
        if verb == "created":
            if oid in open_ids or oid in ended:
                out.append(f"event {i} {name}: {noun} {oid!r} created twice")
            open_ids.add(oid)
            continue
        resumed_step = family == "step" and kind == "submit_tool_outputs" and i == 0  # the paused step
        if oid not in open_ids and not resumed_step:
            where = "already ended" if oid in ended else "never created in this stream"
            out.append(f"event {i} {name}: {noun} {oid!r} {where}")
        if verb not in ("in_progress", "delta"):
            open_ids.discard(oid)
            ended.add(oid)
    return out


def steps_refer_to_created_steps(events: list[Event], kind: str | None = None) -> list[str]:
    return _lifecycle(events, "step", kind)


def messages_refer_to_created_messages(events: list[Event], kind: str | None = None) -> list[str]:
    return _lifecycle(events, "message", kind)


def message_step_names_its_message(events: list[Event], kind: str | None = None) -> list[str]:
    """A message_creation step's step_details.message_creation.message_id is the message created in it."""
    out = []
    current_step: dict | None = None
    for i, (name, data) in enumerate(events):
        if not isinstance(data, dict):
            continue
        if name == "thread.run.step.created":
            current_step = data
        elif name == "thread.message.created" and current_step is not None:
            details = current_step.get("step_details") or {}
            if details.get("type") == "message_creation":
                named = (details.get("message_creation") or {}).get("message_id")
                if named != data.get("id"):
                    out.append(
                        f"event {i} {name}: message {data.get('id')!r} but its step {current_step.get('id')!r} "
                        f"names message {named!r}"
                    )
    return out


def text_parts(content) -> dict[int, str]:
    """{index: text} of the text parts of a message's content list."""
    out = {}
    for index, part in enumerate(content if isinstance(content, list) else []):
        if isinstance(part, dict) and part.get("type") == "text":
            out[index] = str((part.get("text") or {}).get("value", ""))
    return out


def _accumulate(texts: dict[str, dict[int, str]], name: str, data: dict) -> None:
    """One message event applied as a client applies it: the created snapshot's text parts, then each
    text delta appended at its `index` (a delta part without an int index is left to the schema check)."""
    if name == "thread.message.created":
        texts[data.get("id")] = text_parts(data.get("content"))
    elif name == "thread.message.delta":
        target = texts.setdefault(data.get("id"), {})
        for part in ((data.get("delta") or {}).get("content") or []):
            if isinstance(part, dict) and part.get("type", "text") == "text" and isinstance(part.get("index"), int):
                target[part["index"]] = target.get(part["index"], "") + ((part.get("text") or {}).get("value") or "")


def message_texts(events: Iterable[Event]) -> dict[str, dict[int, str]]:
    """Message id -> {content index: text}, as a client builds it from the stream."""
    texts: dict[str, dict[int, str]] = {}
    for name, data in events:
        if isinstance(data, dict):
            _accumulate(texts, name, data)
    return texts


def deltas_add_up_to_message(events: list[Event], kind: str | None = None) -> list[str]:
    """The created snapshot plus the text deltas, appended at their index, equal the completed message text."""
    out = []
    texts: dict[str, dict[int, str]] = {}
    for i, (name, data) in enumerate(events):
        if not isinstance(data, dict):
            continue
        _accumulate(texts, name, data)
        if name in ("thread.message.completed", "thread.message.incomplete"):
            built, final = texts.get(data.get("id"), {}), text_parts(data.get("content"))
            for index in sorted(set(built) | set(final)):
                if built.get(index, "") != final.get(index, ""):
                    out.append(f"event {i} {name}: content[{index}] text is {_clip(final.get(index, ''))} "
                               f"but its deltas add up to {_clip(built.get(index, ''))}")
    return out


def tool_calls_match_required_action(events: list[Event], kind: str | None = None) -> list[str]:
    """The function calls streamed in step deltas are exactly those listed in required_action."""
    out = []
    streamed: list[str] = []
    for i, (name, data) in enumerate(events):
        if not isinstance(data, dict):
            continue
        if name in ("thread.run.step.created", "thread.run.step.delta"):
            details = (data.get("delta") or {}).get("step_details") if name.endswith("delta") else data.get("step_details")
            for call in ((details or {}).get("tool_calls") or []):
                if isinstance(call, dict) and call.get("type") == "function" and call.get("id"):
                    if call["id"] not in streamed:
                        streamed.append(call["id"])
        elif name == "thread.run.requires_action":
            action = (data.get("required_action") or {}).get("submit_tool_outputs") or {}
            required = [c.get("id") for c in action.get("tool_calls") or [] if isinstance(c, dict)]
            if sorted(required) != sorted(streamed):
                out.append(
                    f"event {i} {name}: required_action lists tool calls {sorted(required)} but the step "
                    f"deltas streamed {sorted(streamed)}"
                )
    return out


def done_is_literal(events: list[Event], kind: str | None = None) -> list[str]:
    return [
        f"event {i} done: data is {_clip(data)}, expected [DONE]"
        for i, (name, data) in enumerate(events)
        if name == "done" and data != "[DONE]"
    ]


def _clip(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


RULES: dict[str, Callable[[list[Event], str | None], list[str]]] = {
    "status_matches_event": status_matches_event,
    "one_run_per_stream": one_run_per_stream,
    "one_thread_per_stream": one_thread_per_stream,
    "steps_refer_to_created_steps": steps_refer_to_created_steps,
    "messages_refer_to_created_messages": messages_refer_to_created_messages,
    "message_step_names_its_message": message_step_names_its_message,
    "deltas_add_up_to_message": deltas_add_up_to_message,
    "tool_calls_match_required_action": tool_calls_match_required_action,
    "done_is_literal": done_is_literal,
}


def check_stream(events: Iterable[Event], kind: str | None = None) -> list[str]:
    """All cross-event violations of one stream, rule by rule."""
    evs = list(events)
    return [problem for rule in RULES.values() for problem in rule(evs, kind)]
