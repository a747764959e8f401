"""Compare two OpenAPI contracts operation by operation and field by field (the drift check).

Both documents are loaded through spec.load_contract, so 3.0 nullables are already type unions. Schemas are
compared by shape, not by spelling: `$ref`s are followed, `allOf`s merged, `anyOf[X, null]` read as "X or null",
oneOf/anyOf variants paired by their `type` discriminator. A difference is named by where it sits in *our*
contract: `<OurSchema>.<property path>: <aspect>` inside a named schema of ours, `op:<operationId>...` otherwise,
so a difference in a shared schema (Metadata) is reported once, not at every use.

The differences and the allow-list are in differences.py.
"""

from __future__ import annotations

from typing import Any


from .contract import Contract
from .differences import AllowEntry, Difference, apply_allowlist, load_allowlist  # noqa: F401 - the drift API

ASSISTANTS_PATH_PREFIXES = ("/assistants", "/threads", "/vector_stores", "/files")
LIMIT_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
                  "pattern", "minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems")
_ANY: dict = {}


# ---------------------------------------------------------------------------------------------- schema shapes
def _ref_name(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/components/schemas/"):
        return node["$ref"].rsplit("/", 1)[1]
    return None


class _Side:
    """One document, with $ref following and allOf merging."""

    def __init__(self, contract: Contract):
        self.contract = contract

    def resolve(self, node: Any) -> tuple[dict, str | None]:
        """(schema with refs followed and allOf merged, name of the first component schema passed through)."""
        name = _ref_name(node)
        node = self.contract.deref(node) if isinstance(node, dict) else _ANY
        if not isinstance(node, dict):
            return _ANY, name
        if "allOf" in node:
            merged: dict = {k: v for k, v in node.items() if k != "allOf"}
            for member in node["allOf"]:
                part, _ = self.resolve(member)
                for key, value in part.items():
                    if key == "properties":
                        merged["properties"] = {**merged.get("properties", {}), **value}
                    elif key == "required":
                        merged["required"] = sorted(set(merged.get("required", [])) | set(value))
                    else:
                        merged.setdefault(key, value)
            node = merged
        return node, name

    def variants(self, node: dict) -> list[Any] | None:
        for key in ("oneOf", "anyOf"):
            if isinstance(node.get(key), list):
                return node[key]
        return None

    def types(self, node: dict, depth: int = 0) -> frozenset[str]:
        kind = node.get("type")
        if isinstance(kind, str):
            return frozenset([kind])
        if isinstance(kind, list):
            return frozenset(kind)
        variants = self.variants(node)
        if variants is not None and depth < 8:
            found: set[str] = set()
            for variant in variants:
                found |= self.types(self.resolve(variant)[0], depth + 1)
            return frozenset(found)
        if "properties" in node or "required" in node:
            return frozenset(["object"])
        if "const" in node or "enum" in node:
            values = [node["const"]] if "const" in node else node["enum"]
            return frozenset(_json_type(v) for v in values)
        return frozenset(["any"])

    def unwrap_nullable(self, node: dict) -> tuple[dict, bool]:
        """anyOf/oneOf [X, {type: null}] -> (X, True); anything else -> (node, False)."""
        variants = self.variants(node)
        if variants is not None:
            real = [v for v in variants if self.resolve(v)[0].get("type") != "null"]
            if len(real) == 1 and len(variants) == 2:
                inner, _ = self.resolve(real[0])
                return inner, True
        return node, False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _enum(node: dict) -> list | None:
    if "const" in node:
        return [node["const"]]
    if isinstance(node.get("enum"), list):
        return sorted((v for v in node["enum"] if v is not None), key=repr)
    return None


def _variant_key(side: _Side, variant: Any, index: int) -> str:
    node, _ = side.resolve(variant)
    type_schema = (node.get("properties") or {}).get("type")
    if isinstance(type_schema, dict):
        values = _enum(side.resolve(type_schema)[0])
        if values and len(values) == 1:
            return f"type={values[0]}"
    name = _ref_name(variant)
    if name:
        return f"ref:{name}"
    kinds = side.types(node)
    if len(kinds) == 1 and "any" not in kinds:
        return next(iter(kinds))
    if node.get("required") and not node.get("properties"):
        return "required=" + ",".join(sorted(node["required"]))
    return f"#{index}"


def _keyed_variants(side: _Side, variants: list) -> dict[str, Any]:
    keyed: dict[str, Any] = {}
    for index, variant in enumerate(variants):
        key = _variant_key(side, variant, index)
        keyed[key if key not in keyed else f"{key}#{index}"] = variant
    return keyed


class SchemaComparer:
    def __init__(self, ours: Contract, theirs: Contract):
        self.ours, self.theirs = _Side(ours), _Side(theirs)
        self.differences: dict[str, Difference] = {}
        self._seen: set[tuple[str, str]] = set()

    def add(self, location: str, aspect: str, ours: Any, theirs: Any) -> None:
        difference = Difference(location, aspect, ours, theirs)
        self.differences.setdefault(difference.key, difference)

    def compare(self, ours_node: Any, theirs_node: Any, location: str) -> None:
        ours, ours_name = self.ours.resolve(ours_node)
        theirs, theirs_name = self.theirs.resolve(theirs_node)
        if ours_name and self.ours.types(ours) & {"object", "array"}:
            # Name differences after our (structured) schema, once per (our schema, their schema) pair;
            # scalar aliases (Temperature, NullableUnixTime) stay positional, their meaning depends on the use.
            location = ours_name
            pair = (ours_name, theirs_name or repr(sorted(theirs.items()))[:400])
            if pair in self._seen:
                return
            self._seen.add(pair)
        if ours is _ANY or theirs is _ANY:
            if (ours is _ANY) != (theirs is _ANY):
                self.add(location, "schema", "any" if ours is _ANY else "constrained",
                         "any" if theirs is _ANY else "constrained")
            return
        ours, ours_null = self.ours.unwrap_nullable(ours)
        theirs, theirs_null = self.theirs.unwrap_nullable(theirs)
        ours_types = self.ours.types(ours) | ({"null"} if ours_null else set())
        theirs_types = self.theirs.types(theirs) | ({"null"} if theirs_null else set())
        if ours_types != theirs_types:
            self.add(location, "type", sorted(ours_types), sorted(theirs_types))
        if _enum(ours) != _enum(theirs):
            self.add(location, "enum", _enum(ours), _enum(theirs))
        for keyword in LIMIT_KEYWORDS:
            if ours.get(keyword) != theirs.get(keyword):
                self.add(location, keyword, ours.get(keyword), theirs.get(keyword))
        self._compare_object(ours, theirs, location)
        if "items" in ours or "items" in theirs:
            self.compare(ours.get("items", _ANY), theirs.get("items", _ANY), f"{location}[]")
        self._compare_variants(ours, theirs, location)

    def _compare_object(self, ours: dict, theirs: dict, location: str) -> None:
        if sorted(ours.get("required", [])) != sorted(theirs.get("required", [])):
            self.add(location, "required", sorted(ours.get("required", [])), sorted(theirs.get("required", [])))
        if (ours.get("additionalProperties") is False) != (theirs.get("additionalProperties") is False):
            self.add(location, "additionalProperties", ours.get("additionalProperties"),
                     theirs.get("additionalProperties"))
        for keyword in ("additionalProperties", "propertyNames"):
            mine, other = ours.get(keyword), theirs.get(keyword)
            if isinstance(mine, dict) or isinstance(other, dict):
                self.compare(mine if isinstance(mine, dict) else _ANY, other if isinstance(other, dict) else _ANY,
                             f"{location}{{{keyword}}}")
        ours_props, theirs_props = ours.get("properties") or {}, theirs.get("properties") or {}
        for name in sorted(set(ours_props) | set(theirs_props)):
            where = f"{location}.{name}"
            if name not in theirs_props:
                self.add(where, "property", "present", None)
            elif name not in ours_props:
                self.add(where, "property", None, "present")
            else:
                self.compare(ours_props[name], theirs_props[name], where)

    def _compare_variants(self, ours: dict, theirs: dict, location: str) -> None:
        ours_variants, theirs_variants = self.ours.variants(ours), self.theirs.variants(theirs)
        if ours_variants is None and theirs_variants is None:
            return
        mine = _keyed_variants(self.ours, ours_variants or [])
        other = _keyed_variants(self.theirs, theirs_variants or [])
        if ours_variants is None or theirs_variants is None:
            # A single plain schema on one side vs. variants on the other: compare with the matching variant.
            plain, side = (ours, "ours") if ours_variants is None else (theirs, "theirs")
            variants = other if side == "ours" else mine
            if len(variants) == 1:
                only = next(iter(variants.values()))
                self.compare(plain if side == "ours" else only, only if side == "ours" else plain,
                             f"{location}<variants>")
            else:
                self.add(location, "variants", sorted(mine) or None, sorted(other) or None)
            return
        for key in sorted(set(mine) | set(other)):
            where = f"{location}<{key}>"
            if key not in other:
                self.add(where, "variant", "present", None)
            elif key not in mine:
                self.add(where, "variant", None, "present")
            else:
                self.compare(mine[key], other[key], where)


# ---------------------------------------------------------------------------------------------- operations
def _assistants_family(path: str) -> bool:
    return path.startswith(ASSISTANTS_PATH_PREFIXES)


def _parameters(contract: Contract, method: str, path: str) -> dict[tuple[str, str], dict]:
    item = contract.document["paths"][path]
    found = {}
    for source in (item.get("parameters") or [], item[method.lower()].get("parameters") or []):
        for parameter in source:
            parameter = contract.deref(parameter)
            found[(parameter["in"], parameter["name"])] = parameter
    return found


def _media(contract: Contract, node: Any) -> dict:
    node = contract.deref(node) if isinstance(node, dict) else {}
    return node.get("content") or {}


def compare_contracts(ours: Contract, theirs: Contract) -> list[Difference]:
    """Every difference between our contract and theirs over the Assistants-family operations."""
    comparer = SchemaComparer(ours, theirs)
    ours_ops = {op.key: op for op in ours.operations if _assistants_family(op.path)}
    theirs_ops = {op.key: op for op in theirs.operations if _assistants_family(op.path)}
    for key in sorted(set(ours_ops) | set(theirs_ops)):
        label = f"op:{(ours_ops.get(key) or theirs_ops[key]).operation_id or ' '.join(key)}"
        if key not in theirs_ops:
            comparer.add(label, "operation", "present", None)
            continue
        if key not in ours_ops:
            comparer.add(label, "operation", None, "present")
            continue
        _compare_operation(comparer, ours, theirs, ours_ops[key], theirs_ops[key], label)
    # Stream events live outside operations in both documents: compare names, then each event's data schema.
    theirs_events = _their_stream_events(theirs)
    if theirs_events is not None:
        for name in sorted(set(ours.stream_events) | set(theirs_events)):
            if name not in theirs_events:
                comparer.add(f"event:{name}", "event", "present", None)
            elif name not in ours.stream_events:
                comparer.add(f"event:{name}", "event", None, "present")
            else:
                comparer.compare(ours.stream_events[name], theirs_events[name], f"event:{name}")
    return sorted(comparer.differences.values(), key=lambda d: d.key)


def _compare_operation(comparer: SchemaComparer, ours: Contract, theirs: Contract, ours_op, theirs_op,
                       label: str) -> None:
    if ours_op.operation_id != theirs_op.operation_id:
        comparer.add(label, "operationId", ours_op.operation_id, theirs_op.operation_id)
    ours_raw = ours._at(ours_op.pointer)
    theirs_raw = theirs._at(theirs_op.pointer)
    if bool(ours_raw.get("deprecated")) != bool(theirs_raw.get("deprecated")):
        comparer.add(label, "deprecated", bool(ours_raw.get("deprecated")), bool(theirs_raw.get("deprecated")))
    # parameters
    ours_params = _parameters(ours, ours_op.method, ours_op.path)
    theirs_params = _parameters(theirs, theirs_op.method, theirs_op.path)
    for where_name in sorted(set(ours_params) | set(theirs_params)):
        where = f"{label}.param.{where_name[0]}.{where_name[1]}"
        if where_name not in theirs_params:
            comparer.add(where, "parameter", "present", None)
        elif where_name not in ours_params:
            comparer.add(where, "parameter", None, "present")
        else:
            mine, other = ours_params[where_name], theirs_params[where_name]
            if bool(mine.get("required")) != bool(other.get("required")):
                comparer.add(where, "required", bool(mine.get("required")), bool(other.get("required")))
            comparer.compare(mine.get("schema", _ANY), other.get("schema", _ANY), where)
    # request body
    ours_body = ours.deref(ours_raw.get("requestBody")) or {}
    theirs_body = theirs.deref(theirs_raw.get("requestBody")) or {}
    if bool(ours_body.get("required")) != bool(theirs_body.get("required")):
        comparer.add(f"{label}.request", "required", bool(ours_body.get("required")),
                     bool(theirs_body.get("required")))
    _compare_content(comparer, _media(ours, ours_body), _media(theirs, theirs_body), f"{label}.request")
    # responses
    ours_responses = ours_raw.get("responses") or {}
    theirs_responses = theirs_raw.get("responses") or {}
    for status in sorted(set(ours_responses) | set(theirs_responses), key=str):
        where = f"{label}.response.{status}"
        if status not in theirs_responses:
            comparer.add(where, "status", "declared", None)
        elif status not in ours_responses:
            comparer.add(where, "status", None, "declared")
        else:
            _compare_content(comparer, _media(ours, ours_responses[status]), _media(theirs, theirs_responses[status]),
                             where)


def _compare_content(comparer: SchemaComparer, ours: dict, theirs: dict, where: str) -> None:
    for media in sorted(set(ours) | set(theirs)):
        if media not in theirs:
            comparer.add(f"{where}[{media}]", "media type", "declared", None)
        elif media not in ours:
            comparer.add(f"{where}[{media}]", "media type", None, "declared")
        else:
            comparer.compare(ours[media].get("schema", _ANY), theirs[media].get("schema", _ANY), where)


def _their_stream_events(contract: Contract) -> dict[str, Any] | None:
    """Event name -> data schema: a document's x-stream-events table, or OpenAI's AssistantStreamEvent variants."""
    if contract.stream_events:
        return dict(contract.stream_events)
    schemas = (contract.document.get("components") or {}).get("schemas") or {}
    if "AssistantStreamEvent" not in schemas:
        return None
    events: dict[str, Any] = {}
    side = _Side(contract)

    def collect(node: Any, depth: int = 0) -> None:
        node, _ = side.resolve(node)
        variants = side.variants(node)
        if variants is not None and depth < 6:
            for variant in variants:
                collect(variant, depth + 1)
            return
        properties = node.get("properties") or {}
        if isinstance(properties.get("event"), dict):
            for name in _enum(side.resolve(properties["event"])[0]) or []:
                events[name] = properties.get("data", _ANY)

    collect(schemas["AssistantStreamEvent"])
    return events
