"""Reading OpenAPI documents and turning OpenAPI 3.0 schema habits into plain JSON Schema 2020-12.

Used by contract.py (validation) and drift.py (comparison). Published documents, OpenAI's among them, mix
3.0 keywords into 3.1 documents; a strict 2020-12 validator ignores `nullable: true`, so a normal run with
`started_at: null` would fail. We rewrite those habits once, at load time, instead of special-casing them.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

NULL_SCHEMA = {"type": "null"}


class _NoDatesLoader(yaml.SafeLoader):
    """SafeLoader that keeps `2024-01-01` as a string: schema enums and examples must not turn into dates."""


_NoDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_document(raw: bytes) -> dict:
    """JSON or YAML bytes -> dict (YAML without date coercion)."""
    text = raw.decode("utf-8")
    if text.lstrip().startswith("{"):
        return json.loads(text)
    document = yaml.load(text, Loader=_NoDatesLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError("an OpenAPI document must be a mapping at the top level")
    return document


def _nullable_wrap(node: dict) -> dict:
    """`{..., nullable: true}` without a usable `type` -> `anyOf: [{...}, {type: null}]` (annotations kept outside)."""
    inner = dict(node)
    outer = {}
    for key in ("description", "title"):
        if key in inner:
            outer[key] = inner.pop(key)
    outer["anyOf"] = [inner, dict(NULL_SCHEMA)]
    return outer


def _is_nullable_marker(member: Any) -> bool:
    """An allOf member that only says `nullable: true` (plus annotations)."""
    return (
        isinstance(member, dict)
        and member.get("nullable") is True
        and set(member) <= {"nullable", "description", "title", "default", "example"}
    )


def normalise_schema_node(node: dict) -> dict:
    """Rewrite one schema object (children are handled by the caller's walk)."""
    node = dict(node)
    # allOf: [X, {nullable: true}]  ->  anyOf: [X, null]   (as written, null is rejected by every validator)
    all_of = node.get("allOf")
    if isinstance(all_of, list) and any(_is_nullable_marker(m) for m in all_of):
        rest = [m for m in all_of if not _is_nullable_marker(m)]
        del node["allOf"]
        inner = rest[0] if len(rest) == 1 else {"allOf": rest}
        node["anyOf"] = [inner, dict(NULL_SCHEMA)]
    # boolean exclusiveMinimum/Maximum (3.0)  ->  numeric (2020-12)
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(exclusive), bool):
            if node.pop(exclusive) and bound in node:
                node[exclusive] = node.pop(bound)
    nullable = node.pop("nullable", None)
    if nullable is not True:
        return node
    if "$ref" in node:
        ref_part = {"$ref": node.pop("$ref")}
        node["anyOf"] = [ref_part, dict(NULL_SCHEMA)]
        return node
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
    elif isinstance(kind, list):
        if "null" not in kind:
            node["type"] = [*kind, "null"]
    else:
        return _nullable_wrap(node)
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    return node


# Keys whose values are maps of name -> schema (never a schema themselves).
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}


def normalise(value: Any, *, in_schema_map: bool = False) -> Any:
    """Walk a whole document and normalise every schema-like mapping. Returns a new structure."""
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if not isinstance(value, dict):
        return value
    if in_schema_map:
        # Keys are property names; "nullable" here is a property called nullable, not the keyword.
        return {key: normalise(child) for key, child in value.items()}
    node = normalise_schema_node(value) if _looks_like_schema(value) else value
    return {key: normalise(child, in_schema_map=key in _SCHEMA_MAPS) for key, child in node.items()}


def _looks_like_schema(node: dict) -> bool:
    return any(key in node for key in ("nullable", "allOf", "exclusiveMinimum", "exclusiveMaximum"))
