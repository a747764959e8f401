"""Request-body validation against the documented limits.

Each body is described by a ``Schema``: field name -> validator. A validator takes (value, param) and returns
the normalized value or raises a 400 APIError whose ``param`` names the offending field.
"""

from __future__ import annotations

import re
from math import inf
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import bad_request

Validator = Callable[[Any, str], Any]

METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
RESPONSE_FORMAT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")   # an absolute URI: scheme ':' something
MESSAGE_MAX = 256_000


@dataclass(frozen=True)
class Rules:
    """Which checks are switched off by faults."""
    metadata_limits: bool = True
    reject_unknown_fields: bool = True
    length_limits: bool = True        # assistant name/description/instructions maxLength
    tool_count_limits: bool = True    # tools arrays: 128 on assistants, 20 on runs
    range_limits: bool = True         # temperature, top_p, max_prompt_tokens/max_completion_tokens minimum
    tool_resources_limits: bool = True  # code_interpreter.file_ids <= 20, file_search.vector_store_ids <= 1

    @classmethod
    def from_faults(cls, faults: frozenset[str]) -> "Rules":
        return cls(metadata_limits="no-metadata-limits" not in faults,
                   reject_unknown_fields="unknown-fields-accepted" not in faults,
                   length_limits="no-length-limits" not in faults,
                   tool_count_limits="no-tool-count-limits" not in faults,
                   range_limits="no-range-limits" not in faults,
                   tool_resources_limits="no-tool-resources-limits" not in faults)


@dataclass
class Schema:
    fields: dict[str, Validator]
    required: tuple[str, ...] = ()
    passthrough: frozenset[str] = field(default_factory=frozenset)


def validate(body: Any, schema: Schema, rules: Rules, where: str = "") -> dict:
    if not isinstance(body, dict):
        raise bad_request(f"Invalid type for '{where or 'body'}': expected an object.", where or None)
    out: dict = {}
    for name, value in body.items():
        param = f"{where}.{name}" if where else name
        check = schema.fields.get(name)
        if check is None:
            if rules.reject_unknown_fields:
                raise bad_request(f"Unrecognized request argument supplied: {name}", param, "unknown_parameter")
            continue
        out[name] = check(value, param)
    for name in schema.required:
        if body.get(name) is None:
            param = f"{where}.{name}" if where else name
            raise bad_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    return out


# ---- scalar validators -------------------------------------------------------------------------------

def _type_error(param: str, expected: str, value: Any) -> Exception:
    return bad_request(f"Invalid type for '{param}': expected {expected}, but got {type(value).__name__}.",
                       param, "invalid_type")


def too_many_properties(param: str, limit: int, count: int) -> Exception:
    return bad_request(f"Invalid '{param}': too many properties. Expected an object with at most {limit} "
                       f"properties, but got {count} instead.", param, "object_above_max_properties")


def string(max_len: int | None = None, nullable: bool = True, min_len: int = 0,
           pattern: re.Pattern | None = None) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise _type_error(param, "a string", value)
        if max_len is not None and len(value) > max_len:
            raise bad_request(f"Invalid '{param}': string too long. Expected a string with maximum length "
                              f"{max_len}, but got a string with length {len(value)} instead.", param,
                              "string_above_max_length")
        if len(value) < min_len:
            raise bad_request(f"Invalid '{param}': string too short (minimum length {min_len}).", param,
                              "string_below_min_length")
        if pattern is not None and not pattern.fullmatch(value):
            raise bad_request(f"Invalid '{param}': expected a string that matches the pattern "
                              f"'{pattern.pattern}'.", param, "invalid_value")
        return value
    return check


def enum(*choices: str, nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if value not in choices:
            raise bad_request(f"Invalid value for '{param}': expected one of {', '.join(choices)}.", param,
                              "invalid_value")
        return value
    return check


def number(low: float, high: float, nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(param, "a number", value)
        if not low <= value <= high:
            raise bad_request(f"Invalid '{param}': must be between {low} and {high}, got {value}.", param,
                              "invalid_value")
        return value
    return check


def integer(minimum: int, nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(param, "an integer", value)
        if value < minimum:
            raise bad_request(f"Invalid '{param}': integer below minimum value. Expected a value >= {minimum}, "
                              f"but got {value} instead.", param, "integer_below_min_value")
        return value
    return check


def boolean(nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, bool):
            raise _type_error(param, "a boolean", value)
        return value
    return check


def json_object(nullable: bool = True) -> Validator:
    """Any JSON object (e.g. a JSON Schema the server stores and echoes)."""
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, dict):
            raise _type_error(param, "an object", value)
        return value
    return check


def array_of(item: Validator, max_items: int | None = None, min_items: int = 0,
             nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, list):
            raise _type_error(param, "an array", value)
        if max_items is not None and len(value) > max_items:
            raise bad_request(f"Invalid '{param}': array too long. Expected an array with maximum length "
                              f"{max_items}, but got an array with length {len(value)} instead.", param,
                              "array_above_max_length")
        if len(value) < min_items:
            raise bad_request(f"Invalid '{param}': expected an array with minimum length {min_items}.", param,
                              "array_below_min_length")
        return [item(v, f"{param}[{i}]") for i, v in enumerate(value)]
    return check


def obj(schema: Schema, rules: Rules, nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        return validate(value, schema, rules, where=param)
    return check


# ---- composite validators ----------------------------------------------------------------------------

def metadata(rules: Rules) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _type_error(param, "an object", value)
        for key, item in value.items():
            if not isinstance(item, str):
                raise bad_request(f"Invalid type for '{param}.{key}': expected a string.", param, "invalid_type")
        if rules.metadata_limits:
            if len(value) > METADATA_MAX_PAIRS:
                raise too_many_properties(param, METADATA_MAX_PAIRS, len(value))
            for key, item in value.items():
                if len(key) > METADATA_KEY_MAX:
                    raise bad_request(f"Invalid '{param}': metadata key '{key[:20]}...' is longer than "
                                      f"{METADATA_KEY_MAX} characters.", param, "string_above_max_length")
                if len(item) > METADATA_VALUE_MAX:
                    raise bad_request(f"Invalid '{param}': value of metadata key '{key}' is longer than "
                                      f"{METADATA_VALUE_MAX} characters.", param, "string_above_max_length")
        return dict(value)
    return check


def tool(rules: Rules) -> Validator:
    function_schema = Schema(
        fields={"name": string(nullable=False), "description": string(nullable=False),
                "parameters": json_object(nullable=False), "strict": boolean()},
        required=("name",),
    )
    ranking = Schema(fields={"ranker": enum("auto", "default_2024_08_21", nullable=False),
                             "score_threshold": number(0, 1, nullable=False)}, required=("score_threshold",))
    file_search = Schema(fields={"max_num_results": _int_range(1, 50, nullable=False),
                                 "ranking_options": obj(ranking, rules, nullable=False)})

    def check(value: Any, param: str) -> Any:
        if not isinstance(value, dict):
            raise _type_error(param, "an object", value)
        kind = value.get("type")
        if kind == "function":
            out = validate(value, Schema({"type": enum("function"), "function": obj(function_schema, rules, False)},
                                         required=("function",)), rules, param)
            if not FUNCTION_NAME.fullmatch(out["function"]["name"]):
                raise bad_request(f"Invalid '{param}.function.name': expected a string that matches the pattern "
                                  "'^[a-zA-Z0-9_-]{1,64}$'.", f"{param}.function.name", "invalid_value")
            return out
        if kind == "file_search":
            return validate(value, Schema({"type": enum("file_search"),
                                           "file_search": obj(file_search, rules, nullable=False)}), rules, param)
        if kind == "code_interpreter":
            return validate(value, Schema({"type": enum("code_interpreter")}), rules, param)
        raise bad_request(f"Invalid value for '{param}.type': expected one of code_interpreter, file_search, "
                          "function.", f"{param}.type", "invalid_value")
    return check


def _int_range(low: int, high: int, nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        integer(low, nullable)(value, param)
        if value is not None and value > high:
            raise bad_request(f"Invalid '{param}': must be at most {high}.", param, "integer_above_max_value")
        return value
    return check


def tool_resources(rules: Rules, creating: bool) -> Validator:
    """Stored and echoed; files and vector stores themselves arrive in a later part."""
    ids = string(nullable=False)
    bound = (lambda n: n) if rules.tool_resources_limits else (lambda n: None)
    code = Schema({"file_ids": array_of(ids, max_items=bound(20), nullable=False)})
    store_fields: dict[str, Validator] = {"vector_store_ids": array_of(ids, max_items=bound(1), nullable=False)}
    if creating:
        new_store = Schema({"file_ids": array_of(ids, max_items=10_000, nullable=False),
                            "chunking_strategy": chunking_strategy(rules), "metadata": metadata(rules)})
        store_fields["vector_stores"] = array_of(obj(new_store, rules, nullable=False), max_items=1, nullable=False)
    search = obj(Schema(store_fields), rules, nullable=False)

    def file_search(value: Any, param: str) -> Any:
        out = search(value, param)
        # A new thread or assistant names its vector store one way: an existing id or one made inline.
        if creating and ("vector_store_ids" in out) == ("vector_stores" in out):
            raise bad_request(f"Invalid '{param}': give exactly one of 'vector_store_ids' or 'vector_stores'.",
                              param, "invalid_value")
        return out
    return obj(Schema({"code_interpreter": obj(code, rules, nullable=False), "file_search": file_search}), rules)


def chunking_strategy(rules: Rules) -> Validator:
    static = Schema({"max_chunk_size_tokens": _int_range(100, 4096, nullable=False),
                     "chunk_overlap_tokens": _int_range(0, 2048, nullable=False)},
                    required=("max_chunk_size_tokens", "chunk_overlap_tokens"))
    kinds = {"auto": Schema({"type": enum("auto", nullable=False)}, required=("type",)),
             "static": Schema({"type": enum("static", nullable=False), "static": obj(static, rules, nullable=False)},
                              required=("type", "static"))}
    as_tagged = tagged(kinds, rules)

    def check(value: Any, param: str) -> Any:
        out = as_tagged(value, param)
        sizes = out.get("static")
        # The docs: the overlap may not exceed half of max_chunk_size_tokens (JSON Schema cannot say so).
        if sizes and sizes["chunk_overlap_tokens"] * 2 > sizes["max_chunk_size_tokens"]:
            raise bad_request(f"Invalid '{param}.static.chunk_overlap_tokens': must be at most half of "
                              f"max_chunk_size_tokens ({sizes['max_chunk_size_tokens'] // 2}).",
                              f"{param}.static.chunk_overlap_tokens", "invalid_value")
        return out
    return check


def tagged(kinds: dict[str, Schema], rules: Rules, nullable: bool = False) -> Validator:
    """An object whose `type` picks its schema (OpenAI's discriminated unions)."""
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, dict):
            raise _type_error(param, "an object", value)
        schema = kinds.get(value.get("type")) if isinstance(value.get("type"), str) else None
        if schema is None:
            raise bad_request(f"Invalid value for '{param}.type': expected one of {', '.join(kinds)}.",
                              f"{param}.type", "invalid_value")
        return validate(value, schema, rules, param)
    return check


def response_format(rules: Rules) -> Validator:
    json_schema = Schema({"name": string(64, nullable=False, pattern=RESPONSE_FORMAT_NAME),
                          "description": string(nullable=False), "schema": json_object(nullable=False),
                          "strict": boolean()}, required=("name",))
    kinds = {"text": Schema({"type": enum("text")}),
             "json_object": Schema({"type": enum("json_object")}),
             "json_schema": Schema({"type": enum("json_schema"), "json_schema": obj(json_schema, rules, False)},
                                   required=("json_schema",))}
    as_object = tagged(kinds, rules, nullable=True)

    def check(value: Any, param: str) -> Any:
        return value if value == "auto" else as_object(value, param)
    return check


def tool_choice(value: Any, param: str) -> Any:
    if value is None or value in ("none", "auto", "required"):
        return value
    if isinstance(value, dict) and value.get("type") in ("code_interpreter", "file_search") and set(value) == {"type"}:
        return value
    if (isinstance(value, dict) and value.get("type") == "function" and isinstance(value.get("function"), dict)
            and isinstance(value["function"].get("name"), str) and set(value) <= {"type", "function"}):
        return {"type": "function", "function": {"name": value["function"]["name"]}}
    raise bad_request(f"Invalid value for '{param}': expected 'none', 'auto', 'required' or a tool choice object.",
                      param, "invalid_value")


def truncation_strategy(value: Any, param: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _type_error(param, "an object", value)
    kind = value.get("type")
    if kind not in ("auto", "last_messages"):
        raise bad_request(f"Invalid value for '{param}.type': expected 'auto' or 'last_messages'.",
                          f"{param}.type", "invalid_value")
    unknown = set(value) - {"type", "last_messages"}
    if unknown:
        raise bad_request(f"Unrecognized argument '{sorted(unknown)[0]}' in '{param}'.", param, "unknown_parameter")
    last = integer(1)(value.get("last_messages"), f"{param}.last_messages")
    return {"type": kind, "last_messages": last}


def message_content(rules: Rules) -> Validator:
    detail = enum("auto", "low", "high", nullable=False)
    image_file = Schema({"file_id": string(nullable=False), "detail": detail}, required=("file_id",))
    image_url = Schema({"url": string(nullable=False, pattern=URL), "detail": detail}, required=("url",))
    parts = array_of(tagged({
        "text": Schema({"type": enum("text"), "text": string(MESSAGE_MAX, nullable=False)}, required=("text",)),
        "image_file": Schema({"type": enum("image_file"), "image_file": obj(image_file, rules, False)},
                             required=("image_file",)),
        "image_url": Schema({"type": enum("image_url"), "image_url": obj(image_url, rules, False)},
                            required=("image_url",)),
    }, rules), min_items=1, nullable=False)
    text = string(MESSAGE_MAX, nullable=False)

    def check(value: Any, param: str) -> Any:
        return text(value, param) if isinstance(value, str) else parts(value, param)
    return check


def attachment(rules: Rules) -> Validator:
    tools = array_of(tagged({"code_interpreter": Schema({"type": enum("code_interpreter")}),
                             "file_search": Schema({"type": enum("file_search")})}, rules), nullable=False)
    return obj(Schema({"file_id": string(nullable=False), "tools": tools}, required=("file_id", "tools")), rules,
               nullable=False)


# ---- request bodies ----------------------------------------------------------------------------------

class Bodies:
    """The documented request bodies, built once for the server's Rules."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        meta = metadata(rules)
        # Faults switch bounds off by widening them; the type checks stay.
        length = (lambda n: n) if rules.length_limits else (lambda n: None)
        count = (lambda n: n) if rules.tool_count_limits else (lambda n: None)
        span = (lambda low, high: number(low, high)) if rules.range_limits else (lambda low, high: number(-inf, inf))
        tokens = integer(256) if rules.range_limits else integer(-(2**63))
        assistant_fields = {
            "model": string(nullable=False, min_len=1),
            "name": string(length(256)), "description": string(length(512)),
            "instructions": string(length(256_000)),
            "reasoning_effort": enum("none", "minimal", "low", "medium", "high", "xhigh", "max"),
            "tools": array_of(tool(rules), max_items=count(128), nullable=False),
            "tool_resources": tool_resources(rules, True),
            "metadata": meta, "temperature": span(0, 2), "top_p": span(0, 1),
            "response_format": response_format(rules),
        }
        self.create_assistant = Schema(assistant_fields, required=("model",))
        self.modify_assistant = Schema({**assistant_fields, "tool_resources": tool_resources(rules, False)})
        message_fields = {
            "role": enum("user", "assistant", nullable=False), "content": message_content(rules),
            "attachments": array_of(attachment(rules)), "metadata": meta,
        }
        self.create_message = Schema(message_fields, required=("role", "content"))
        self.modify_message = Schema({"metadata": meta})
        self.create_thread = Schema({
            "messages": array_of(obj(self.create_message, rules, nullable=False), nullable=False),
            "tool_resources": tool_resources(rules, True), "metadata": meta,
        })
        self.modify_thread = Schema({"tool_resources": tool_resources(rules, False), "metadata": meta})
        run_fields = {
            "assistant_id": string(nullable=False), "model": string(), "instructions": string(256_000),
            "tools": array_of(tool(rules), max_items=count(20)), "metadata": meta,
            "temperature": span(0, 2), "top_p": span(0, 1), "stream": boolean(),
            "max_prompt_tokens": tokens, "max_completion_tokens": tokens,
            "truncation_strategy": truncation_strategy, "tool_choice": tool_choice,
            "parallel_tool_calls": boolean(nullable=False), "response_format": response_format(rules),
        }
        self.create_run = Schema({
            **run_fields,
            "reasoning_effort": enum("none", "minimal", "low", "medium", "high", "xhigh", "max"),
            "additional_instructions": string(256_000),
            "additional_messages": array_of(obj(self.create_message, rules, nullable=False)),
        }, required=("assistant_id",))
        self.create_thread_and_run = Schema({
            **run_fields, "thread": obj(self.create_thread, rules, nullable=False),
            "tool_resources": tool_resources(rules, False),
        }, required=("assistant_id",))
        self.modify_run = Schema({"metadata": meta})
        output = Schema({"tool_call_id": string(nullable=False), "output": string(nullable=False)},
                        required=("tool_call_id", "output"))
        self.submit_tool_outputs = Schema({
            "tool_outputs": array_of(obj(output, rules, nullable=False), nullable=False), "stream": boolean(),
        }, required=("tool_outputs",))
