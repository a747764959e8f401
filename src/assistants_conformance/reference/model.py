"""The deterministic reference model. Its rules are written down in README.md ("The reference model").

Everything here is pure: given the prompt (instructions + visible messages), the tools and the run's
options, ``decide`` returns the same Turn every time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# One token = optional leading whitespace + a run of non-whitespace characters (or trailing whitespace alone).
# Concatenating the tokens of a text gives back the text exactly, which is what streaming deltas rely on.
_TOKEN = re.compile(r"\s*\S+|\s+")
FAIL_DIRECTIVE = re.compile(r"REFERENCE-FAIL(?::(server_error|rate_limit_exceeded|invalid_prompt))?")
_WORD_REQUEST = re.compile(r"(?:at\s+least\s+|exactly\s+|about\s+|around\s+|approximately\s+|)(\d{1,6})[\s-]*words?\b",
                           re.IGNORECASE)
_COUNT_REQUEST = re.compile(r"\bcount\s+(?:from\s+1\s+)?(?:up\s+)?to\s+(\d{1,5})\b", re.IGNORECASE)
_QUOTED_REQUEST = re.compile(r"\b(?:reply|respond|answer|say|repeat|write|print|output)\b[^\"'“‘]*[\"“'‘](.+?)[\"”'’]",
                             re.IGNORECASE | re.DOTALL)
_TOOL_REQUEST = re.compile(r"\b(?:use|call|invoke|run)\b.{0,40}\b(?:tools?|functions?)\b", re.IGNORECASE | re.DOTALL)
MAX_REQUESTED_WORDS = 20_000
GREETING = "Hello! How can I help you today?"
_FILLER = ("The reference model writes plain deterministic words so that long replies are easy to measure "
           "and every streamed token can be checked against the final text").split()


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count_tokens(text: str | None) -> int:
    return len(_TOKEN.findall(text)) if text else 0


@dataclass
class PromptMessage:
    role: str
    text: str


@dataclass
class ToolCall:
    call_id: str
    name: str
    arguments: str


@dataclass
class Turn:
    kind: str                       # "text" | "tool_calls" | "fail" | "prompt_too_long"
    prompt_tokens: int
    text: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)   # (function name, JSON arguments)
    error_code: str = ""
    error_message: str = ""
    # Answers after a hosted tool (tool_turns.py): annotations of the text part, extra parts (image_file).
    annotations: list[dict] = field(default_factory=list)
    parts: list[dict] = field(default_factory=list)


def message_text(content: list[dict]) -> str:
    return "\n".join(part["text"]["value"] for part in content if part.get("type") == "text")


def fit_prompt(instructions: str | None, messages: list[PromptMessage], truncation: dict | None,
               max_prompt_tokens: int | None, extra_tokens: int = 0) -> tuple[list[PromptMessage], int] | None:
    """Apply truncation_strategy and max_prompt_tokens. None when even the last message alone does not fit."""
    if truncation and truncation.get("type") == "last_messages" and truncation.get("last_messages"):
        messages = messages[-truncation["last_messages"]:]
    base = count_tokens(instructions) + extra_tokens
    sizes = [count_tokens(m.text) for m in messages]
    total = base + sum(sizes)
    start = 0
    if max_prompt_tokens is not None:
        # Drop the oldest messages (always keeping the most recent one) until the prompt fits.
        while total > max_prompt_tokens and start < len(messages) - 1:
            total -= sizes[start]
            start += 1
        if total > max_prompt_tokens:
            return None
    return messages[start:], total


def decide(*, instructions: str | None, messages: list[PromptMessage], tools: list[dict], tool_choice: Any,
           parallel_tool_calls: bool, tool_outputs: list[tuple[str, str]] | None, truncation: dict | None,
           max_prompt_tokens: int | None) -> Turn:
    extra = sum(count_tokens(name) + count_tokens(out) for name, out in tool_outputs or ())
    fitted = fit_prompt(instructions, messages, truncation, max_prompt_tokens, extra)
    if fitted is None:
        return Turn("prompt_too_long", prompt_tokens=0)
    visible, prompt_tokens = fitted
    last_user = next((m.text for m in reversed(visible) if m.role == "user"), "")

    failing = FAIL_DIRECTIVE.search(last_user)
    if failing:
        code = failing.group(1) or "server_error"
        return Turn("fail", prompt_tokens, error_code=code,
                    error_message=f"The run failed as asked by the REFERENCE-FAIL directive ({code}).")
    if tool_outputs:
        return Turn("text", prompt_tokens, text=answer_from_outputs(tool_outputs))
    calls = choose_calls(last_user, tools, tool_choice, parallel_tool_calls)
    if calls:
        return Turn("tool_calls", prompt_tokens, calls=calls)
    return Turn("text", prompt_tokens, text=text_reply(last_user))


def answer_from_outputs(outputs: list[tuple[str, str]]) -> str:
    parts = [f"{name} returned {output}" for name, output in outputs]
    return "Based on the tool results: " + "; ".join(parts) + "."


def text_reply(user_text: str) -> str:
    text = user_text.strip()
    if not text:
        return GREETING
    counting = _COUNT_REQUEST.search(text)
    if counting:
        return ", ".join(str(i) for i in range(1, max(1, int(counting.group(1))) + 1)) + "."
    words = _WORD_REQUEST.search(text)
    if words and int(words.group(1)) > 0:
        n = min(int(words.group(1)), MAX_REQUESTED_WORDS)
        body = [_FILLER[i % len(_FILLER)] for i in range(n)]
        body[0] = body[0].capitalize()
        return " ".join(body) + "."
    quoted = _QUOTED_REQUEST.search(text)
    if quoted:
        return quoted.group(1)
    return f"You said: {text}"


def _mentions(text: str, name: str) -> int:
    """Position of the first mention of a function name (also with _/- read as spaces), or -1."""
    lowered = text.lower()
    spellings = {name.lower(), name.lower().replace("_", " ").replace("-", " ")}
    found = [m.start() for s in spellings for m in [re.search(r"(?<![\w-])" + re.escape(s) + r"(?![\w-])", lowered)]
             if m]
    return min(found) if found else -1


def choose_calls(user_text: str, tools: list[dict], tool_choice: Any,
                 parallel: bool) -> list[tuple[str, str]]:
    functions = [t["function"] for t in tools if t.get("type") == "function"]
    if not functions or tool_choice == "none":
        return []
    if isinstance(tool_choice, dict):
        if tool_choice.get("type") != "function":
            return []
        chosen = [f for f in functions if f["name"] == tool_choice["function"]["name"]][:1]
    else:
        positions = [(pos, i) for i, f in enumerate(functions) if (pos := _mentions(user_text, f["name"])) >= 0]
        chosen = [functions[i] for _, i in sorted(positions)]
        if not chosen and (tool_choice == "required" or _TOOL_REQUEST.search(user_text)):
            chosen = functions[:1]
    if not parallel:
        chosen = chosen[:1]
    return [(f["name"], json.dumps(minimal_instance(f.get("parameters") or {"type": "object"}),
                                   separators=(", ", ": "))) for f in chosen]


# ---- a minimal valid instance of a JSON schema ----------------------------------------------------------
# Hand-written because hypothesis-jsonschema etc. generate random, not minimal, deterministic instances.

_FORMAT_EXAMPLES = {"date": "2024-01-01", "date-time": "2024-01-01T00:00:00Z", "time": "00:00:00",
                    "email": "user@example.com", "uri": "https://example.com", "uuid": "00000000-0000-4000-8000-000000000000"}


def minimal_instance(schema: Any, root: Any = None, depth: int = 0) -> Any:
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 16:
        return None
    if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return minimal_instance(target, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return minimal_instance(schema[key][0], root, depth + 1)
    if schema.get("allOf"):
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(part)
        return minimal_instance(merged, root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_instance(props.get(name, {}), root, depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(schema.get("items", {}), root, depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        value = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1 if "exclusiveMinimum" in schema else 0)
        if "maximum" in schema and value > schema["maximum"]:
            value = schema["maximum"]
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if schema.get("format") in _FORMAT_EXAMPLES:
        return _FORMAT_EXAMPLES[schema["format"]]
    value = "example"
    if len(value) < schema.get("minLength", 0):
        value = value + "x" * (schema["minLength"] - len(value))
    if "maxLength" in schema:
        value = value[: schema["maxLength"]]
    return value
