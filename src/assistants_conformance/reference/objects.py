"""Constructors of the wire objects, with every field OpenAI returns (see the SDK's types/beta)."""

from __future__ import annotations

from typing import Any

DEFAULT_TRUNCATION = {"type": "auto", "last_messages": None}


def text_part(value: str) -> dict:
    return {"type": "text", "text": {"value": value, "annotations": []}}


def normalize_content(content: str | list[dict]) -> list[dict]:
    if isinstance(content, str):
        return [text_part(content)]
    return [text_part(part["text"]) if part["type"] == "text" else dict(part) for part in content]


def assistant(object_id: str, now: Any, body: dict) -> dict:
    return {
        "id": object_id, "object": "assistant", "created_at": now,
        "name": body.get("name"), "description": body.get("description"), "model": body["model"],
        "instructions": body.get("instructions"), "tools": body.get("tools") or [],
        "tool_resources": body.get("tool_resources") or {}, "metadata": body.get("metadata") or {},
        "temperature": _or(body.get("temperature"), 1.0), "top_p": _or(body.get("top_p"), 1.0),
        "response_format": _or(body.get("response_format"), "auto"),
    }


def thread(object_id: str, now: Any, body: dict) -> dict:
    return {"id": object_id, "object": "thread", "created_at": now,
            "metadata": body.get("metadata") or {}, "tool_resources": body.get("tool_resources") or {}}


def message(object_id: str, now: Any, thread_id: str, body: dict, *, assistant_id: str | None = None,
            run_id: str | None = None, status: str = "completed") -> dict:
    return {
        "id": object_id, "object": "thread.message", "created_at": now, "thread_id": thread_id,
        "status": status, "incomplete_details": None,
        "completed_at": now if status == "completed" else None, "incomplete_at": None,
        "role": body["role"], "content": normalize_content(body.get("content", [])),
        "assistant_id": assistant_id, "run_id": run_id,
        "attachments": body.get("attachments") or [], "metadata": body.get("metadata") or {},
    }


def run(object_id: str, now: Any, thread_id: str, asst: dict, body: dict, expires_at: Any,
        object_name: str = "thread.run") -> dict:
    instructions = body.get("instructions")
    if instructions is None:
        instructions = asst.get("instructions") or ""
    if body.get("additional_instructions"):
        instructions = f"{instructions}\n{body['additional_instructions']}" if instructions else body["additional_instructions"]
    tools = body.get("tools")
    return {
        "id": object_id, "object": object_name, "created_at": now, "assistant_id": asst["id"],
        "thread_id": thread_id, "status": "queued", "started_at": None, "expires_at": expires_at,
        "cancelled_at": None, "failed_at": None, "completed_at": None, "required_action": None,
        "last_error": None, "model": body.get("model") or asst["model"], "instructions": instructions,
        "tools": tools if tools is not None else list(asst.get("tools") or []),
        "metadata": body.get("metadata") or {}, "usage": None, "incomplete_details": None,
        "temperature": _or(body.get("temperature"), asst.get("temperature", 1.0)),
        "top_p": _or(body.get("top_p"), asst.get("top_p", 1.0)),
        "max_prompt_tokens": body.get("max_prompt_tokens"),
        "max_completion_tokens": body.get("max_completion_tokens"),
        "truncation_strategy": body.get("truncation_strategy") or dict(DEFAULT_TRUNCATION),
        "response_format": _or(body.get("response_format"), asst.get("response_format", "auto")),
        "tool_choice": _or(body.get("tool_choice"), "auto"),
        "parallel_tool_calls": _or(body.get("parallel_tool_calls"), True),
    }


def step(object_id: str, now: Any, run_obj: dict, details: dict) -> dict:
    return {
        "id": object_id, "object": "thread.run.step", "created_at": now, "assistant_id": run_obj["assistant_id"],
        "thread_id": run_obj["thread_id"], "run_id": run_obj["id"], "type": details["type"],
        "status": "in_progress", "step_details": details, "last_error": None, "expired_at": None,
        "cancelled_at": None, "failed_at": None, "completed_at": None, "metadata": {}, "usage": None,
    }


def usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def deleted(object_id: str, kind: str) -> dict:
    return {"id": object_id, "object": f"{kind}.deleted", "deleted": True}


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value
