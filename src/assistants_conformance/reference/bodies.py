"""Every request body of the API, as a ``Schema`` per body (``Bodies``), built once for the server's Rules.

The validators they are made of are in validation.py; here are the composite ones (tools, tool_resources,
chunking strategies, response formats, message content, attachments, vector store file attributes, attribute
filters) and the bodies themselves, for every API family (assistants, threads, messages, runs, vector stores,
their files, batches and search, the v1 assistant files).
"""

from __future__ import annotations

import re
from math import inf
from typing import Any

from .errors import bad_request
from .validation import (Rules, Schema, Validator, array_of, boolean, enum, int_range, integer, json_object,
                         metadata, number, obj, string, tagged, too_many_properties, type_error, validate)

FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
RESPONSE_FORMAT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")   # an absolute URI: scheme ':' something
MESSAGE_MAX = 256_000
ATTRIBUTES_MAX_PAIRS = 16
ATTRIBUTE_KEY_MAX = 64
ATTRIBUTE_STRING_MAX = 512
MAX_FILTER_DEPTH = 32      # nesting of compound filters (the contract sets none; this keeps recursion bounded)
COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")
COMPOUNDS = ("and", "or")
RANKERS = ("none", "auto", "default-2024-11-15")


# ---- composite validators ----------------------------------------------------------------------------

def tool(rules: Rules) -> Validator:
    function_schema = Schema(
        fields={"name": string(nullable=False), "description": string(nullable=False),
                "parameters": json_object(nullable=False), "strict": boolean()},
        required=("name",),
    )
    ranking = Schema(fields={"ranker": enum("auto", "default_2024_08_21", nullable=False),
                             "score_threshold": number(0, 1, nullable=False)}, required=("score_threshold",))
    file_search = Schema(fields={"max_num_results": int_range(1, 50, nullable=False),
                                 "ranking_options": obj(ranking, rules, nullable=False)})

    def check(value: Any, param: str) -> Any:
        if not isinstance(value, dict):
            raise type_error(param, "an object", value)
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
    static = Schema({"max_chunk_size_tokens": int_range(100, 4096, nullable=False),
                     "chunk_overlap_tokens": int_range(0, 2048, nullable=False)},
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
        raise type_error(param, "an object", value)
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


def attributes(value: Any, param: str) -> Any:
    """Vector store file attributes: up to 16 pairs, keys <= 64 characters, values strings (<= 512), numbers or booleans."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise type_error(param, "an object", value)
    if len(value) > ATTRIBUTES_MAX_PAIRS:
        raise too_many_properties(param, ATTRIBUTES_MAX_PAIRS, len(value))
    for key, item in value.items():
        if len(key) > ATTRIBUTE_KEY_MAX:
            raise bad_request(f"Invalid '{param}': key '{key[:20]}...' is longer than {ATTRIBUTE_KEY_MAX} characters.",
                              param, "string_above_max_length")
        if isinstance(item, str):
            if len(item) > ATTRIBUTE_STRING_MAX:
                raise bad_request(f"Invalid '{param}.{key}': string longer than {ATTRIBUTE_STRING_MAX} characters.",
                                  f"{param}.{key}", "string_above_max_length")
        elif not isinstance(item, (bool, int, float)):
            raise type_error(f"{param}.{key}", "a string, number or boolean", item)
    return dict(value)


def _comparison_value(value: Any, param: str) -> Any:
    """A string, number or boolean; or an array of strings and numbers (for in/nin)."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise type_error(f"{param}[{i}]", "a string or number", item)
        return value
    raise type_error(param, "a string, number, boolean or array", value)


def attribute_filter(rules: Rules) -> Validator:
    """A ComparisonFilter {type, key, value} or a CompoundFilter {type: and|or, filters: [...]}, nested."""
    comparison = Schema({"type": enum(*COMPARISONS, nullable=False), "key": string(nullable=False),
                         "value": _comparison_value}, required=("type", "key", "value"))

    def check(value: Any, param: str, depth: int = 0) -> Any:
        if not isinstance(value, dict):
            raise type_error(param, "an object", value)
        kind = value.get("type")
        if isinstance(kind, str) and kind in COMPOUNDS:
            if depth >= MAX_FILTER_DEPTH:
                raise bad_request(f"Invalid '{param}': compound filters nest at most {MAX_FILTER_DEPTH} deep.",
                                  param, "invalid_value")
            inner = array_of(lambda item, where: check(item, where, depth + 1), nullable=False)
            return validate(value, Schema({"type": enum(*COMPOUNDS, nullable=False), "filters": inner},
                                          required=("type", "filters")), rules, param)
        if isinstance(kind, str) and kind in COMPARISONS:
            return validate(value, comparison, rules, param)
        raise bad_request(f"Invalid value for '{param}.type': expected one of {', '.join(COMPARISONS + COMPOUNDS)}.",
                          f"{param}.type", "invalid_value")
    return lambda value, param: check(value, param)


_QUERIES = array_of(string(nullable=False), min_items=1, nullable=False)


def search_query(value: Any, param: str) -> Any:
    """A search query: a string, or a non-empty array of strings."""
    return value if isinstance(value, str) else _QUERIES(value, param)


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
        # ---- vector stores, their files, batches and search ----
        ids = string(nullable=False)
        strategy = chunking_strategy(rules)
        expiry = Schema({"anchor": enum("last_active_at", nullable=False), "days": int_range(1, 365, nullable=False)},
                        required=("anchor", "days"))
        self.create_vector_store = Schema({
            "file_ids": array_of(ids, max_items=500, nullable=False), "name": string(nullable=False),
            "description": string(nullable=False), "expires_after": obj(expiry, rules, nullable=False),
            "chunking_strategy": strategy, "metadata": meta})
        self.modify_vector_store = Schema({"name": string(), "expires_after": obj(expiry, rules), "metadata": meta})
        self.create_vector_store_file = Schema({"file_id": ids, "chunking_strategy": strategy, "attributes": attributes},
                                               required=("file_id",))
        self.update_vector_store_file = Schema({"attributes": attributes}, required=("attributes",))
        self.create_file_batch = Schema({
            "file_ids": array_of(ids, max_items=2000, min_items=1, nullable=False),
            "files": array_of(obj(self.create_vector_store_file, rules, nullable=False), max_items=2000, min_items=1,
                              nullable=False),
            "chunking_strategy": strategy, "attributes": attributes})
        ranking_options = Schema({"ranker": enum(*RANKERS, nullable=False), "score_threshold": number(0, 1, nullable=False)})
        self.search_vector_store = Schema({
            "query": search_query, "rewrite_query": boolean(nullable=False),
            "max_num_results": int_range(1, 50, nullable=False), "filters": attribute_filter(rules),
            "ranking_options": obj(ranking_options, rules, nullable=False)}, required=("query",))
        # ---- v1: POST /assistants/{id}/files ----
        self.attach_assistant_file = Schema({"file_id": string(nullable=False)}, required=("file_id",))
