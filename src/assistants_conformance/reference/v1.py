"""The Assistants v1 dialect (`OpenAI-Beta: assistants=v1`) as a rendering of the stored v2 objects.

Objects are stored once, in their v2 form. A v1 request body is checked for the v1-only rules and translated
to the v2 body the app already understands; the app's v2 answer is rendered back as v1. The mapping:

  v1                                   stored (v2)
  assistant.file_ids (<= 20)       <-> assistant.tool_resources.code_interpreter.file_ids (also <= 20)
  tool {"type": "retrieval"}       <-> tool {"type": "file_search"} (its options are not shown under v1)
  message.file_ids (<= 10)         <-> message.attachments [{file_id, tools: [code_interpreter, file_search]}]
  run.file_ids                      -> the assistant's file_ids when the run is first shown under v1 (kept)
  (no tool_resources, attachments)     thread/assistant tool_resources, message attachments: v2 only

So a v2 client reading a v1 assistant sees its files as code_interpreter files and retrieval as file_search
(with no vector store); a v1 client reading a v2 assistant sees its code_interpreter files as file_ids.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import APIError, bad_request
from .plumbing import Context
from .store import Record
from .validation import array_of, string

ASSISTANT_FILES_MAX = 20
MESSAGE_FILES_MAX = 10
V2_ONLY_FIELDS = ("tool_resources", "attachments")
MESSAGE_FILE_TOOLS = [{"type": "code_interpreter"}, {"type": "file_search"}]   # v1 message files serve every tool


def file_usable(api: Context, file_id: str, owner: str | None) -> bool:
    """The one place that decides whether ``file_id`` names a file this caller may give an assistant or message."""
    rec = api.store.get(file_id, "file")
    if rec is None or not api.visible(rec, owner):
        return False
    return rec.obj.get("purpose", "assistants") == "assistants"


# ---- requests: v1 body -> v2 body --------------------------------------------------------------------------

class V1Request:
    """Checks and translates one v1 request body. ``owner`` is the authenticated caller (for file lookups)."""

    def __init__(self, api: Context, owner: str | None) -> None:
        self.api = api
        self.owner = owner

    def file_ids(self, value: Any, param: str, limit: int) -> list[str]:
        ids = array_of(string(nullable=False), max_items=limit, nullable=False)(value, param)
        for i, file_id in enumerate(ids):
            if not self.file_usable(file_id):
                raise bad_request(f"No file found with id '{file_id}' (it must be uploaded with purpose "
                                  "'assistants').", f"{param}[{i}]", "invalid_value")
        return ids

    def file_usable(self, file_id: str) -> bool:
        return file_usable(self.api, file_id, self.owner)

    def no_v2_fields(self, body: dict, where: str = "") -> None:
        for name in V2_ONLY_FIELDS:
            if name in body:
                if not self.api.rules.reject_unknown_fields:   # fault unknown-fields-accepted: dropped silently
                    del body[name]
                    continue
                param = f"{where}.{name}" if where else name
                raise bad_request(f"Unrecognized request argument supplied: {name} (not available with "
                                  "OpenAI-Beta: assistants=v1)", param, "unknown_parameter")

    def tools(self, body: dict, where: str = "") -> None:
        tools = body.get("tools")
        if not isinstance(tools, list):
            return   # absent, null or a wrong type: the app answers as it always does
        prefix = f"{where}." if where else ""
        out = []
        for i, tool in enumerate(tools):
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind == "file_search":
                raise bad_request("The file_search tool is not available with OpenAI-Beta: assistants=v1; use "
                                  "retrieval.", f"{prefix}tools[{i}].type", "invalid_value")
            if kind == "retrieval":
                if "v1-retrieval-rejected" in self.api.faults:
                    raise bad_request(f"Invalid value for '{prefix}tools[{i}].type': expected one of "
                                      "code_interpreter, function.", f"{prefix}tools[{i}].type", "invalid_value")
                if set(tool) != {"type"}:
                    extra = sorted(set(tool) - {"type"})[0]
                    raise bad_request(f"Unrecognized request argument supplied: {extra}",
                                      f"{prefix}tools[{i}].{extra}", "unknown_parameter")
                tool = {"type": "file_search"}
            out.append(tool)
        body["tools"] = out

    def tool_choice(self, body: dict) -> None:
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "retrieval":
            body["tool_choice"] = {**choice, "type": "file_search"}
        elif isinstance(choice, dict) and choice.get("type") == "file_search":
            raise bad_request("The file_search tool is not available with OpenAI-Beta: assistants=v1; use "
                              "retrieval.", "tool_choice.type", "invalid_value")

    def message(self, body: Any, where: str = "") -> None:
        if not isinstance(body, dict):
            return
        self.no_v2_fields(body, where)
        if "file_ids" in body:
            param = f"{where}.file_ids" if where else "file_ids"
            ids = self.file_ids(body.pop("file_ids"), param, MESSAGE_FILES_MAX)
            if ids:
                body["attachments"] = [{"file_id": f, "tools": [dict(t) for t in MESSAGE_FILE_TOOLS]} for f in ids]

    def messages(self, body: dict, key: str, where: str = "") -> None:
        items = body.get(key)
        if isinstance(items, list):
            prefix = f"{where}.{key}" if where else key
            for i, item in enumerate(items):
                self.message(item, f"{prefix}[{i}]")

    def assistant(self, body: dict, existing: Record | None) -> None:
        self.no_v2_fields(body)
        self.tools(body)
        if "file_ids" in body:
            ids = self.file_ids(body.pop("file_ids"), "file_ids", ASSISTANT_FILES_MAX)
            # Only the code_interpreter files change; a v2 file_search vector store on the assistant stays.
            resources = json.loads(json.dumps(existing.obj.get("tool_resources") or {})) if existing else {}
            resources.setdefault("code_interpreter", {})["file_ids"] = ids
            body["tool_resources"] = resources
            if existing is not None:
                current = assistant_file_ids(existing.obj)
                attached_now(self.api, existing, [f for f in ids if f not in current])

    def thread(self, body: dict, where: str = "") -> None:
        self.no_v2_fields(body, where)
        self.messages(body, "messages", where)

    def run(self, body: dict) -> None:
        self.tools(body)
        self.tool_choice(body)
        self.messages(body, "additional_messages")

    def thread_and_run(self, body: dict) -> None:
        self.no_v2_fields(body)
        self.run(body)
        if isinstance(body.get("thread"), dict):
            self.thread(body["thread"], "thread")


_ASSISTANT = re.compile(r"/v1/assistants/(?P<id>[^/]+)")
_THREAD = re.compile(r"/v1/threads/[^/]+")
_MESSAGE = re.compile(r"/v1/threads/[^/]+/messages")
_RUN = re.compile(r"/v1/threads/[^/]+/runs")


def translate_request(api: Context, owner: str | None, path: str, body: Any) -> Any:
    """The v2 body for a v1 POST to ``path`` (raises APIError for v1 rule violations). Other bodies unchanged."""
    if not isinstance(body, dict):
        return body
    v1 = V1Request(api, owner)
    if path == "/v1/assistants":
        v1.assistant(body, None)
    elif match := _ASSISTANT.fullmatch(path):
        existing = api.store.get(match["id"], "assistant")
        v1.assistant(body, existing if existing is not None and api.visible(existing, owner) else None)
    elif path == "/v1/threads":
        v1.thread(body)
    elif path == "/v1/threads/runs":
        v1.thread_and_run(body)
    elif _THREAD.fullmatch(path):
        v1.no_v2_fields(body)
    elif _MESSAGE.fullmatch(path):
        v1.message(body)
    elif _RUN.fullmatch(path):
        v1.run(body)
    return body


# ---- answers: v2 object -> v1 object -----------------------------------------------------------------------

def _v1_tool(tool: dict) -> dict:
    return {"type": "retrieval"} if tool.get("type") == "file_search" else tool


def _v1_tool_call(call: dict) -> dict:
    if call.get("type") != "file_search":
        return call
    out = {key: value for key, value in call.items() if key != "file_search"}
    out.update(type="retrieval", retrieval={})
    return out


def assistant_file_ids(obj: dict) -> list[str]:
    return list(((obj.get("tool_resources") or {}).get("code_interpreter") or {}).get("file_ids") or [])


def message_file_ids(obj: dict) -> list[str]:
    return list(dict.fromkeys(a["file_id"] for a in obj.get("attachments") or () if isinstance(a, dict)))


def run_file_ids(api: Context, run: dict) -> list[str]:
    """The assistant's files as they were when the run was first shown under v1 (kept with the run)."""
    rec = api.store.get(run.get("id", ""), "run")
    if rec is not None and "v1_file_ids" in rec.extra:
        return list(rec.extra["v1_file_ids"])
    asst = api.store.get(run.get("assistant_id", ""), "assistant")
    ids = assistant_file_ids(asst.obj) if asst is not None else []
    if rec is not None:
        rec.extra["v1_file_ids"] = ids
        api.store.touch(rec)
    return list(ids)


def render(api: Context, obj: Any) -> Any:
    """``obj`` (a parsed v2 answer or stream payload) as v1 shows it. Unknown shapes are returned unchanged."""
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("object")
    if kind == "list" and isinstance(obj.get("data"), list):
        obj["data"] = [render(api, item) for item in obj["data"]]
    elif kind == "assistant":
        obj["file_ids"] = assistant_file_ids(obj)
        obj.pop("tool_resources", None)
        obj["tools"] = [_v1_tool(t) for t in obj.get("tools") or ()]
    elif kind == "thread":
        obj.pop("tool_resources", None)
    elif kind == "thread.message":
        obj["file_ids"] = message_file_ids(obj)
        obj.pop("attachments", None)
    elif kind == "thread.run":
        obj["tools"] = [_v1_tool(t) for t in obj.get("tools") or ()]
        choice = obj.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "file_search":
            obj["tool_choice"] = {"type": "retrieval"}
        obj["file_ids"] = run_file_ids(api, obj)
    elif kind in ("thread.run.step", "thread.run.step.delta"):
        details = (obj.get("delta") or {}).get("step_details") if kind.endswith("delta") else obj.get("step_details")
        if isinstance(details, dict) and isinstance(details.get("tool_calls"), list):
            details["tool_calls"] = [_v1_tool_call(c) for c in details["tool_calls"]]
    return obj


# ---- the v1 file sub-resources (served by v1_files.py) -------------------------------------------------------

def attached_now(api: Context, asst: Record, file_ids: list[str]) -> None:
    """Remember when files were newly attached (assistant.file created_at). Files given when the assistant was
    created, or attached through v2 tool_resources, show the assistant's created_at."""
    times = asst.extra.setdefault("v1_file_times", {})
    now = api.clock.now()
    for file_id in file_ids:
        times[file_id] = now
    api.store.touch(asst)


def vector_stores_refused() -> APIError:
    return bad_request("Vector stores are only available with OpenAI-Beta: assistants=v2.")
