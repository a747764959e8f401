"""The hosted tool turns of a run: a file_search or code_interpreter tool_calls step, then the answer.

    turn = await hosted_turn(engine, rec, turn)     # in Engine._drive, when the model would answer with text

When the rules in ``tool_model`` pick a hosted tool, this records its tool_calls step (streamed as step
deltas), runs it (BM25 search over the run's vector stores, or the generated program in the sandbox, off the
event loop and killed if the run is cancelled or expires), and returns the answer Turn: text plus its
annotations (file_citation / file_path, start/end indexes at their markers) and extra content parts
(image_file). Otherwise it returns the turn unchanged; None means the run left in_progress meanwhile.

Step-level file_search result contents are kept in the step's private ``extra`` and shown only when asked
with ``include[]`` (on create run for the run's own events, on list/get steps for reads): ``step_view``.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from bisect import bisect_left

from . import arithmetic, model, sandbox, search, tool_model
from .errors import bad_request
from .file_records import create_file
from .run_output import RunOutput
from .store import Record
from .vector_index import run_vector_store_ids, store_chunks

CODE_TIMEOUT_S = 10.0
CODE_MEMORY_MB = 256
DEFAULT_MAX_RESULTS = 20          # file_search max_num_results default (1..50)
DEFAULT_RANKER = "default_2024_08_21"
CONTENT_INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"
SANDBOX_PREFIX = "sandbox:/mnt/data/"
IMAGE_SUFFIXES = (".png",)


async def hosted_turn(engine: RunOutput, rec: Record, turn: model.Turn) -> model.Turn | None:
    run = rec.obj
    user_text = next((m.text for m in reversed(engine.prompt(run["thread_id"])) if m.role == "user"), "")
    store_ids = run_vector_store_ids(engine.store, run)
    tool = tool_model.choose_hosted_tool(user_text, run["tools"], run["tool_choice"], bool(store_ids))
    if tool == "code_interpreter":
        return await _code_interpreter(engine, rec, turn, user_text)
    if tool == "file_search":
        return await _file_search(engine, rec, turn, user_text, store_ids)
    return turn


# ---- shared step plumbing --------------------------------------------------------------------------------------

def _open_call(engine: RunOutput, rec: Record, call: dict) -> Record:
    step = engine.new_step(rec, {"type": "tool_calls", "tool_calls": []})
    step.obj["step_details"]["tool_calls"].append(call)   # after the created event, as function calls are
    engine.step_delta(rec, step.id, {"index": 0, **copy.deepcopy(call)})
    return step


def _answer(rec: Record, prompt_tokens: int, text: str, annotations: list[dict] | None = None,
            parts: list[dict] | None = None) -> model.Turn:
    """The model's second turn of the run (its prompt now holds the tool's output)."""
    rec.extra["prompt"] += prompt_tokens
    return model.Turn("text", prompt_tokens, text=text, annotations=annotations or [], parts=parts or [])


def _annotation(engine: RunOutput, kind: str, text: str, start: int, file_id: str) -> dict:
    end = start + len(text) + (1 if "citation-range-off" in engine.faults else 0)
    return {"type": kind, "text": text, kind: {"file_id": file_id}, "start_index": start, "end_index": end}


# ---- file_search -----------------------------------------------------------------------------------------------

def _file_search_options(tools: list[dict]) -> tuple[int, dict]:
    tool = next((t for t in tools if t.get("type") == "file_search"), {})
    options = tool.get("file_search") or {}
    ranking = options.get("ranking_options") or {}
    return (options.get("max_num_results") or DEFAULT_MAX_RESULTS,
            {"ranker": ranking.get("ranker") if ranking.get("ranker") not in (None, "auto") else DEFAULT_RANKER,
             "score_threshold": float(ranking.get("score_threshold") or 0.0)})


async def _file_search(engine: RunOutput, rec: Record, turn: model.Turn, query: str,
                       store_ids: list[str]) -> model.Turn | None:
    faults = engine.faults
    limit, ranking = _file_search_options(rec.obj["tools"])
    chunks = [chunk for vs_id in store_ids for chunk in store_chunks(engine.store, vs_id)]
    ranked = search.rank(chunks, query, k=limit, score_threshold=ranking["score_threshold"])
    completion = model.count_tokens(query)        # the model writes the search query
    step_index = len(engine.store.children("step", rec.id))
    if "file-search-step-missing" not in faults:
        call = {"id": engine.ids.new("call"), "type": "file_search", "file_search": {}}
        step = _open_call(engine, rec, call)
        if not await engine.pause(rec):
            return None
        with_content = rec.extra.get("include_content") and "file-search-no-results-content" not in faults
        results = [{"file_id": c.file_id, "file_name": c.filename, "score": round(score, 6),
                    **({"content": [{"type": "text", "text": c.text}]} if with_content else {})}
                   for c, score in ranked]
        call["file_search"] = {"ranking_options": ranking, "results": results}
        step.extra["file_search_contents"] = {"0": [[{"type": "text", "text": c.text}] for c, _ in ranked]}
        engine.step_delta(rec, step.id, {"index": 0, "type": "file_search",
                                          "file_search": copy.deepcopy(call["file_search"])})
        rec.extra["completion"] += completion
        engine.complete_step(rec, step, turn.prompt_tokens, completion)
    cited = tool_model.citation_answer([(c.file_id, c.filename, c.text) for c, _ in ranked], query, step_index)
    notes = [_annotation(engine, "file_citation", cited.text[s:e], s, file_id) for s, e, file_id in cited.citations]
    read = sum(model.count_tokens(c.text) for c, _ in ranked)
    return _answer(rec, turn.prompt_tokens + completion + read, cited.text, notes)


# ---- code_interpreter ------------------------------------------------------------------------------------------

def _code_files(engine: RunOutput, run: dict) -> dict[str, bytes]:
    """filename -> bytes of the code_interpreter files: the assistant's and thread's tool_resources, and
    attachments of the thread's messages that name the code_interpreter tool."""
    store = engine.store
    ids: list[str] = []
    for holder in (store.get(run["assistant_id"], "assistant"), store.get(run["thread_id"], "thread")):
        if holder is not None:
            ids += ((holder.obj.get("tool_resources") or {}).get("code_interpreter") or {}).get("file_ids") or []
    for message_id in list(store.children("message", run["thread_id"])):
        for attachment in store.records[message_id].obj.get("attachments") or ():
            if any(t.get("type") == "code_interpreter" for t in attachment.get("tools") or ()):
                ids.append(attachment["file_id"])
    out: dict[str, bytes] = {}
    for file_id in dict.fromkeys(ids):
        file_rec, data = store.get(file_id, "file"), store.get_blob(file_id)
        if file_rec is not None and data is not None:
            out[file_rec.obj["filename"]] = data
    return out


async def _run_program(code: str, inputs: dict[str, bytes]) -> sandbox.SandboxResult:
    """The sandbox in a worker thread; a cancelled run (cancel, expiry) kills the program at once."""
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(sandbox.run_python, code, inputs, CODE_TIMEOUT_S, CODE_MEMORY_MB,
                                       cancel=cancel)
    except asyncio.CancelledError:
        cancel.set()
        raise


async def _code_interpreter(engine: RunOutput, rec: Record, turn: model.Turn, user_text: str) -> model.Turn | None:
    faults = engine.faults
    math = arithmetic.find_math(user_text)
    code = tool_model.program_for(math, tool_model.wanted_outputs(user_text) if math else [])
    call = {"id": engine.ids.new("call"), "type": "code_interpreter", "code_interpreter": {"input": "", "outputs": []}}
    step = _open_call(engine, rec, call)
    details = call["code_interpreter"]
    for i, fragment in enumerate(model.tokenize(code)):   # the program is streamed as the model writes it
        if (engine.settings.token_delay_seconds or i % 200 == 199) and not await engine.pause(rec):
            return None
        details["input"] += fragment
        engine.step_delta(rec, step.id, {"index": 0, "type": "code_interpreter",
                                          "code_interpreter": {"input": fragment}})
    completion = model.count_tokens(code)
    rec.extra["completion"] += completion
    result = await _run_program(code, _code_files(engine, rec.obj))
    if rec.obj["status"] != "in_progress":
        return None
    logs = result.stdout + result.stderr
    outputs: list[dict] = [{"type": "logs", "logs": logs}] if logs else []
    text = tool_model.code_answer(result.stdout, result.stderr, result.timed_out, CODE_TIMEOUT_S)
    notes: list[dict] = []
    parts: list[dict] = []
    for name, data in result.outputs.items():
        made = create_file(engine.store, engine.ids, engine.clock, rec.owner, name, "assistants_output", data)
        if name.lower().endswith(IMAGE_SUFFIXES):
            outputs.append({"type": "image", "image": {"file_id": made.id}})
            parts.append({"type": "image_file", "image_file": {"file_id": made.id}})
            text += f" The image {name} is attached."
        else:
            shown = engine.ids.new("file") if "generated-file-missing" in faults else made.id
            marker = SANDBOX_PREFIX + name
            text += f" I saved it as [{name}]("
            notes.append(_annotation(engine, "file_path", marker, len(text), shown))
            text += marker + ")."
    if "code-step-no-logs" in faults:
        outputs = []
    if "code-call-no-input" in faults:
        details["input"] = ""
    details["outputs"] = outputs
    if outputs:
        engine.step_delta(rec, step.id, {"index": 0, "type": "code_interpreter", "code_interpreter": {
            "outputs": [{"index": i, **copy.deepcopy(o)} for i, o in enumerate(outputs)]}})
    engine.complete_step(rec, step, turn.prompt_tokens, completion)
    return _answer(rec, turn.prompt_tokens + completion + model.count_tokens(logs), text, notes, parts)


# ---- answer messages (used by Engine._message) -----------------------------------------------------------------

def notes_per_token(tokens: list[str], annotations: list[dict]) -> list[list[dict]]:
    """For each streamed token, the annotations whose marker ends inside it: they go out with that token's
    delta. Annotations past the last token (a reply cut by max_completion_tokens) are dropped."""
    out: list[list[dict]] = [[] for _ in tokens]
    ends, position = [], 0
    for token in tokens:
        position += len(token)
        ends.append(position)
    for note in annotations:
        marker_end = note["start_index"] + len(note["text"])
        index = bisect_left(ends, marker_end)
        if index < len(tokens):
            out[index].append(note)
    return out


def attach_notes(part: dict, notes: list[dict]) -> list[dict]:
    """Add annotations to a message's text part; returns them as delta annotations (with their index)."""
    delta = []
    for note in notes:
        delta.append({"index": len(part["text"]["annotations"]), **note})
        part["text"]["annotations"].append(note)
    return delta


def add_parts(engine: RunOutput, rec: Record, msg: Record, parts: list[dict]) -> None:
    """Append non-text content parts (image_file) to the answer, each sent as one message delta."""
    for part in parts:
        index = len(msg.obj["content"])
        msg.obj["content"].append(part)
        engine.emit(rec.id, "thread.message.delta", {"id": msg.id, "object": "thread.message.delta",
                                                     "delta": {"content": [{"index": index, **part}]}})


# ---- reading steps ---------------------------------------------------------------------------------------------

def content_included(include: list[str]) -> bool:
    """`include[]` on run steps names extra fields; only file search result contents exist. True if asked."""
    for value in include:
        if value != CONTENT_INCLUDE:
            raise bad_request(f"Invalid value for 'include[]': expected one of {CONTENT_INCLUDE}.", "include[]",
                              "invalid_value")
    return bool(include)


def step_view(step: Record, include_content: bool, faults: frozenset[str] = frozenset()) -> dict:
    """A step as a read shows it: file_search result contents only with include[] (CONTENT_INCLUDE)."""
    contents = step.extra.get("file_search_contents")
    if not contents:
        return step.obj
    include_content = include_content and "file-search-no-results-content" not in faults
    view = copy.deepcopy(step.obj)
    for index, call in enumerate(view["step_details"]["tool_calls"]):
        results = (call.get("file_search") or {}).get("results") or []
        for result, content in zip(results, contents.get(str(index), ())):
            if include_content:
                result["content"] = content
            else:
                result.pop("content", None)
    return view
