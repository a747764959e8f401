"""The contract: load an OpenAPI document and validate response bodies and stream events against it.

    contract = load_contract()                      # specs/assistants-v2.openapi.yaml (cached per path + mtime)
    issues = contract.validate("getRun", 200, body)  # or ("GET", "/threads/{thread_id}/runs/{run_id}")
    issues = contract.validate_event("thread.run.created", data)

Any other OpenAPI document (OpenAI's published one, an Azure overlay) loads the same way with a path; its 3.0
habits are normalised first (normalise.py). Validation uses the Rust validator (`jsonschema_rs`) for a fast
yes/no and the Python `jsonschema` only to explain a failure, so the common case (valid body) costs microseconds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import jsonschema
import jsonschema_rs
import referencing
from jsonschema.exceptions import ValidationError, best_match
from referencing.jsonschema import DRAFT202012

from .. import paths
from ..errors import ContractError  # noqa: F401 - raised here, and importable from here
from .normalise import normalise, parse_document
from .overlay import overlaid_document_path

CONTRACT_FILENAME = "assistants-v2.openapi.yaml"
STREAM_EVENTS_KEY = "x-stream-events"
STREAM_SWITCH_KEY = "x-stream-switch"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_BASE_URI = "urn:assistants-conformance:contract"
_GOT_LIMIT = 80


@dataclass(frozen=True)
class ValidationIssue:
    pointer: str    # JSON pointer into the validated instance ("" = the whole body)
    expected: str   # what the failing keyword demanded, e.g. "type: ['integer', 'null']"
    got: str        # short repr of the offending value
    message: str    # one readable sentence

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


@dataclass(frozen=True)
class Operation:
    method: str          # upper case
    path: str            # template, e.g. /threads/{thread_id}/runs
    operation_id: str | None
    streaming: bool      # may answer with text/event-stream (declared, or has a `stream` request field)
    pointer: str         # JSON pointer of the operation object in the document

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(*tokens: str) -> str:
    return "".join("/" + _escape(str(t)) for t in tokens)


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _GOT_LIMIT else text[: _GOT_LIMIT - 3] + "..."


def _expected(error: ValidationError) -> str:
    if error.validator == "required":
        missing = [name for name in error.validator_value if isinstance(error.instance, dict)
                   and name not in error.instance]
        return f"required: {missing or error.validator_value}"
    if error.validator == "additionalProperties" and error.validator_value is False:
        return "no additional properties"
    if error.validator in ("$ref", "allOf", "anyOf", "oneOf"):
        return f"{error.validator} (see message)"
    return f"{error.validator}: {_short(error.validator_value)}"


def _unknown_discriminator(error: ValidationError) -> ValidationIssue | None:
    """oneOf/anyOf over `type`-tagged variants where the instance's `type` matches no variant at all."""
    if error.validator not in ("oneOf", "anyOf") or not isinstance(error.instance, dict) or not error.context:
        return None
    allowed, branches = [], set()
    for sub in error.context:
        if list(sub.relative_path) == ["type"] and sub.validator in ("const", "enum"):
            branches.add(sub.schema_path[0])
            allowed.extend([sub.validator_value] if sub.validator == "const" else sub.validator_value)
    if not branches or len(branches) != len(error.validator_value):
        return None
    pointer = _pointer(*error.absolute_path, "type")
    return ValidationIssue(pointer, f"one of {_short(allowed)}", _short(error.instance.get("type")),
                           f"type {error.instance.get('type')!r} matches no variant (expected one of {allowed})")


def _issue_from_error(error: ValidationError) -> ValidationIssue:
    tagged = _unknown_discriminator(error)
    if tagged is not None:
        return tagged
    error = best_match([error])  # descend into anyOf/oneOf to the most relevant branch failure
    pointer = _pointer(*error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return ValidationIssue(pointer=pointer, expected=_expected(error), got=_short(error.instance), message=message)


class _SchemaValidator:
    """One schema (given by a pointer into the document): fast Rust check, Python explanation on failure."""

    def __init__(self, contract: Contract, pointer: str):
        reference = {"$ref": f"{_BASE_URI}#{quote(pointer, safe='/~')}"}
        self._python = jsonschema.Draft202012Validator(reference, registry=contract._py_registry)
        self._fast = None
        if contract._rs_registry is not None:
            try:
                self._fast = jsonschema_rs.Draft202012Validator(reference, registry=contract._rs_registry)
            except Exception:  # noqa: BLE001 - an exotic document the Rust validator rejects: stay correct, go slow
                self._fast = None

    def issues(self, instance: Any) -> list[ValidationIssue]:
        if self._fast is not None:
            try:
                if self._fast.is_valid(instance):
                    return []
            except (ValueError, TypeError):  # a Python value with no JSON equivalent: let jsonschema judge it
                pass
        issues: list[ValidationIssue] = []
        seen = set()
        for error in sorted(self._python.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
            issue = _issue_from_error(error)
            if (issue.pointer, issue.expected, issue.message) not in seen:
                seen.add((issue.pointer, issue.expected, issue.message))
                issues.append(issue)
        return issues


class Contract:
    """A loaded, normalised OpenAPI document with cached validators. Do not mutate `document`."""

    def __init__(self, path: Path, raw: bytes):
        self.path = path
        self.spec_hash = hashlib.sha256(raw).hexdigest()
        try:
            self.document: dict = normalise(parse_document(raw))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ContractError(f"{path}: cannot parse: {exc}") from exc
        if not str(self.document.get("openapi", "")).startswith("3."):
            raise ContractError(f"{path}: not an OpenAPI 3.x document (openapi: {self.document.get('openapi')!r})")
        resource = referencing.Resource.from_contents(self.document, default_specification=DRAFT202012)
        self._py_registry = referencing.Registry().with_resource(_BASE_URI, resource)
        try:
            self._rs_registry = jsonschema_rs.Registry([(_BASE_URI, self.document)], draft=jsonschema_rs.Draft202012)
        except Exception:  # noqa: BLE001 - fall back to the Python validator alone
            self._rs_registry = None
        self._validators: dict[str, _SchemaValidator] = {}
        self._response_pointers: dict[tuple[tuple[str, str], int], str | None] = {}  # (op, status) -> pointer
        self._lock = threading.Lock()
        self.operations: list[Operation] = self._collect_operations()
        self._by_key = {op.key: op for op in self.operations}
        self._by_id = {op.operation_id: op for op in self.operations if op.operation_id}
        events = self.document.get(STREAM_EVENTS_KEY) or {}
        self.stream_events: dict[str, dict] = dict(events) if isinstance(events, dict) else {}

    # ------------------------------------------------------------------ lookup
    def _collect_operations(self) -> list[Operation]:
        found = []
        for path, item in (self.document.get("paths") or {}).items():
            for method in HTTP_METHODS:
                if isinstance(item, dict) and isinstance(item.get(method), dict):
                    op = item[method]
                    pointer = _pointer("paths", path, method)
                    found.append(Operation(method.upper(), path, op.get("operationId"),
                                           self._is_streaming(op), pointer))
        return found

    def _is_streaming(self, op: dict) -> bool:
        for status, response in (op.get("responses") or {}).items():
            response = self.deref(response)
            if str(status).startswith("2") and "text/event-stream" in (response.get("content") or {}):
                return True
        body_schema = self._request_schema_node(op)
        properties = self.deref(body_schema).get("properties", {}) if body_schema else {}
        return "stream" in properties

    def deref(self, node: Any) -> Any:
        """Follow local `$ref`s (`#/...`) at the top of a node."""
        hops = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            node = self._at(node["$ref"][1:])
            hops += 1
            if hops > 32:
                raise ContractError("reference cycle")
        return node

    def _at(self, pointer: str) -> Any:
        node: Any = self.document
        for token in pointer.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def operation(self, method: str, path_template: str) -> Operation:
        try:
            return self._by_key[(method.upper(), path_template)]
        except KeyError:
            raise ContractError(f"{method.upper()} {path_template} is not an operation of {self.path.name}") from None

    def _resolve_operation(self, operation: str | tuple[str, str] | Operation) -> Operation:
        if isinstance(operation, Operation):
            return operation
        if isinstance(operation, tuple):
            return self.operation(*operation)
        try:
            return self._by_id[operation]
        except KeyError:
            raise ContractError(f"no operationId {operation!r} in {self.path.name}") from None

    def schema(self, name: str) -> dict:
        try:
            return self.document["components"]["schemas"][name]
        except KeyError:
            raise ContractError(f"no schema {name!r} in {self.path.name}") from None

    def _request_schema_node(self, op: dict) -> dict | None:
        body = self.deref(op.get("requestBody"))
        if not isinstance(body, dict):
            return None
        content = body.get("content") or {}
        for media in ("application/json", "multipart/form-data", *content):
            if media in content and isinstance(content[media], dict) and "schema" in content[media]:
                return content[media]["schema"]
        return None

    def request_schema(self, operation: str | tuple[str, str]) -> dict | None:
        """The request body schema (top-level $ref followed), or None when the operation takes no body."""
        op = self._resolve_operation(operation)
        node = self._request_schema_node(self._at(op.pointer))
        return self.deref(node) if node is not None else None

    def _response_schema_pointer(self, op: Operation, status: int) -> str | None:
        responses = self._at(op.pointer).get("responses") or {}
        key = next((k for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default")
                    if k in responses), None)
        if key is None:
            raise ContractError(f"status {status} is not declared for {op.operation_id or op.key}")
        pointer = op.pointer + _pointer("responses", key)
        response = responses[key]
        if isinstance(response, dict) and isinstance(response.get("$ref"), str):
            pointer = response["$ref"][1:]
            response = self.deref(response)
        content = response.get("content") or {}
        media = next((m for m in content if "json" in m), None) or next(iter(content), None)
        if media is None or "schema" not in content[media]:
            return None
        return pointer + _pointer("content", media, "schema")

    # ------------------------------------------------------------------ validation
    def _validator(self, pointer: str) -> _SchemaValidator:
        validator = self._validators.get(pointer)
        if validator is None:
            with self._lock:
                validator = self._validators.get(pointer)
                if validator is None:
                    validator = self._validators[pointer] = _SchemaValidator(self, pointer)
        return validator

    def validate(self, operation: str | tuple[str, str], status: int, body: Any) -> list[ValidationIssue]:
        """Issues of a response body against the schema declared for (operation, status); [] when it conforms.

        An undeclared status raises ContractError (the caller decides whether that is a finding).
        A response that declares no body schema accepts anything.
        """
        op = self._resolve_operation(operation)
        try:
            pointer = self._response_pointers[(op.key, status)]
        except KeyError:
            pointer = self._response_pointers[(op.key, status)] = self._response_schema_pointer(op, status)
        if pointer is None:
            return []
        return self._validator(pointer).issues(body)

    def validate_request(self, operation: str | tuple[str, str], body: Any) -> list[ValidationIssue]:
        """Issues of a request body against the operation's request schema."""
        op = self._resolve_operation(operation)
        node = self._request_schema_node(self._at(op.pointer))
        if node is None:
            return [] if body is None else [ValidationIssue("", "no body", _short(body),
                                                            f"{op.operation_id} takes no request body")]
        body_pointer = self._at(op.pointer)["requestBody"]
        if isinstance(body_pointer, dict) and "$ref" in body_pointer:
            raise ContractError("requestBody $ref is not supported")  # not used by our contract
        media = next(m for m in (body_pointer.get("content") or {}) if body_pointer["content"][m].get("schema") is node)
        return self._validator(op.pointer + _pointer("requestBody", "content", media, "schema")).issues(body)

    def validate_event(self, event_name: str, data: Any) -> list[ValidationIssue]:
        """Issues of one stream event's data (parsed JSON, or the raw text) against the contract."""
        if event_name not in self.stream_events:
            return [ValidationIssue("", f"one of {len(self.stream_events)} event names in the contract",
                                    _short(event_name), f"unknown stream event {event_name!r} (not in the contract)")]
        schema = self.stream_events[event_name]
        if isinstance(data, (str, bytes)) and not _expects_string(schema):
            try:
                data = json.loads(data)
            except ValueError:
                return [ValidationIssue("", "JSON data", _short(data if isinstance(data, str) else repr(data)),
                                        f"data of {event_name!r} is not JSON")]
        return self._validator(_pointer(STREAM_EVENTS_KEY, event_name)).issues(data)

    @property
    def event_names(self) -> list[str]:
        return list(self.stream_events)


def _expects_string(schema: dict) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


_CACHE: dict[tuple[str, int, int], Contract] = {}
_CACHE_LOCK = threading.Lock()


def default_contract_path() -> Path:
    return paths.specs_dir() / CONTRACT_FILENAME


def load_contract(path: str | Path | None = None, *, overlays: Sequence[str] = (),
                  variables: Mapping[str, str] | None = None) -> Contract:
    """Load (or return the cached) contract at `path`; default: the project's own contract.

    `overlays` (names in specs/overlays/, or file paths) are applied in order on top of it, with
    `${name}` in their values replaced from `variables` (e.g. api_version); see overlay.py.
    """
    if overlays:
        path = overlaid_document_path(Path(path) if path is not None else default_contract_path(),
                                      overlays, variables or {})
    resolved = Path(path) if path is not None else default_contract_path()
    try:
        resolved = resolved.resolve()
        stat = resolved.stat()
    except OSError as exc:
        raise ContractError(f"cannot read contract {resolved}: {exc}") from exc
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            for stale in [k for k in _CACHE if k[0] == key[0]]:
                del _CACHE[stale]
            cached = _CACHE[key] = Contract(resolved, resolved.read_bytes())
    return cached
