"""What the suites ask of a model: prompts any real model honours, and the function it is made to call by
naming it in tool_choice (deterministic on any server)."""

from __future__ import annotations

# A function the suites make the model call by naming it in tool_choice: deterministic on any server.
LOOKUP_FUNCTION = {
    "type": "function",
    "function": {
        "name": "lookup_conformance_value",
        "description": "Look up a value by key. Always call this when asked for a conformance value.",
        "parameters": {
            "type": "object",
            "properties": {"key": {"type": "string", "description": "The key to look up"}},
            "required": ["key"],
        },
    },
}


def named_tool_choice(function_name: str) -> dict:
    return {"type": "function", "function": {"name": function_name}}


HOLD_PROMPT = "What is the conformance value for the key 'alpha'? Look it up with lookup_conformance_value."
