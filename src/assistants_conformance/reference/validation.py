"""The validators request bodies are made of, and ``validate`` (the bodies themselves are in bodies.py).

Each body is described by a ``Schema``: field name -> validator. A validator takes (value, param) and returns
the normalized value or raises a 400 APIError whose ``param`` names the offending field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import bad_request

Validator = Callable[[Any, str], Any]

METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512


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

def type_error(param: str, expected: str, value: Any) -> Exception:
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
            raise type_error(param, "a string", value)
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
            raise type_error(param, "a number", value)
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
            raise type_error(param, "an integer", value)
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
            raise type_error(param, "a boolean", value)
        return value
    return check


def json_object(nullable: bool = True) -> Validator:
    """Any JSON object (e.g. a JSON Schema the server stores and echoes)."""
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, dict):
            raise type_error(param, "an object", value)
        return value
    return check


def array_of(item: Validator, max_items: int | None = None, min_items: int = 0,
             nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, list):
            raise type_error(param, "an array", value)
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


def int_range(low: int, high: int, nullable: bool = True) -> Validator:
    def check(value: Any, param: str) -> Any:
        integer(low, nullable)(value, param)
        if value is not None and value > high:
            raise bad_request(f"Invalid '{param}': must be at most {high}.", param, "integer_above_max_value")
        return value
    return check


def tagged(kinds: dict[str, Schema], rules: Rules, nullable: bool = False) -> Validator:
    """An object whose `type` picks its schema (OpenAI's discriminated unions)."""
    def check(value: Any, param: str) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, dict):
            raise type_error(param, "an object", value)
        schema = kinds.get(value.get("type")) if isinstance(value.get("type"), str) else None
        if schema is None:
            raise bad_request(f"Invalid value for '{param}.type': expected one of {', '.join(kinds)}.",
                              f"{param}.type", "invalid_value")
        return validate(value, schema, rules, param)
    return check


def metadata(rules: Rules) -> Validator:
    def check(value: Any, param: str) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise type_error(param, "an object", value)
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
