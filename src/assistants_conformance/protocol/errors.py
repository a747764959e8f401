"""The error envelope every error answer must be in, and how error.param names a field."""

from __future__ import annotations

from typing import Any

ERROR_KEYS = ("message", "type", "param", "code")


def error_envelope_problems(body: Any) -> list[str]:
    """What is wrong with an error body against OpenAI's envelope
    {"error": {"message": str, "type": str, "param": str|null, "code": str|null}} (empty: nothing)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        shown = repr(body)[:200] if body is not None else "no JSON body"
        return [f'expected a JSON object {{"error": {{message, type, param, code}}}}, got {shown}']
    error = body["error"]
    problems = [f"error.{key} is missing" for key in ERROR_KEYS if key not in error]
    message = error.get("message")
    if "message" in error and not (isinstance(message, str) and message.strip()):
        problems.append(f"error.message must be a non-empty string, got {message!r}")
    if "type" in error and not isinstance(error["type"], str):
        problems.append(f"error.type must be a string, got {error['type']!r}")
    for key in ("param", "code"):
        if key in error and error[key] is not None and not isinstance(error[key], str):
            problems.append(f"error.{key} must be a string or null, got {error[key]!r}")
    return problems


def names_field(param: Any, field_name: str) -> bool:
    """error.param names `field_name` itself or a path inside it: "metadata", "metadata.key", "tools[20]"."""
    return isinstance(param, str) and (
        param == field_name or param.startswith((f"{field_name}.", f"{field_name}["))
    )
