"""Schemathesis-driven fuzzing of the target against the contract (specs/assistants-v2.openapi.yaml).

A *campaign* generates requests for each operation the target's profile supports (positive: valid by
the contract; negative: breaking it, including malformed bodies), sends them to the target with real
ids of objects made for the campaign, and records what each of schemathesis' checks says about every
answer. The checks in test_fuzz.py then read the outcomes that concern their rule.

Safety against production targets: every body that can carry metadata is tagged with the session id,
`stream` is pinned to false (streams are the streaming suite's business), every object a 200 answer of a
create operation reports is tracked by the campaign's Factory and deleted (runs: cancelled) afterwards,
and only those objects.

Budget: ASSISTANTS_CONFORMANCE_FUZZ_EXAMPLES examples per operation and mode (default below).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config._checks import NegativeDataRejectionConfig
from schemathesis.core.control import SkipTest
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from assistants_conformance.wire import redact
from assistants_conformance.checks import Findings, violation
from assistants_conformance.reports.curl import curl_command
from assistants_conformance.reports.evidence import exchange_dict
from assistants_conformance.wire.dialects import dialect_for
from assistants_conformance.flows import TAG_KEY, Created, Factory
from assistants_conformance.protocol.errors import error_envelope_problems

EXAMPLES_ENV = "ASSISTANTS_CONFORMANCE_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES = 6  # per operation and mode: keeps the suite near 20 s against the reference server

# Paths whose operations need a capability beyond the core Assistants API.
PATH_CAPABILITIES = (("/files", "files"), ("/vector_stores", "vector_stores"))

# The schemathesis checks the campaign evaluates on every answer, by name.
CHECKS: dict[str, Callable] = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": status_code_conformance,
    "content_type_conformance": content_type_conformance,
    "response_schema_conformance": response_schema_conformance,
    "negative_data_rejection": negative_data_rejection,
}
# Statuses a request that breaks the contract may get: 400, or 404 when it names no existing object.
REJECTION_STATUSES = ["400", "404"]

# OpenAI's id prefix for each object type (objects not listed here are not checked).
ID_PREFIXES = {
    "assistant": "asst_",
    "thread": "thread_",
    "thread.message": "msg_",
    "thread.run": "run_",
    "thread.run.step": "step_",
    "vector_store": "vs_",
    "file": "file-",
}
# Reference fields and the prefix of the object they point at.
REFERENCE_PREFIXES = {"assistant_id": "asst_", "thread_id": "thread_", "run_id": "run_"}


def examples_per_operation() -> int:
    raw = os.environ.get(EXAMPLES_ENV)
    if not raw:
        return DEFAULT_EXAMPLES
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{EXAMPLES_ENV} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{EXAMPLES_ENV} must be a positive integer, got {raw!r}")
    return value


def load_schema(spec_path: str, *, modes: list[GenerationMode]):
    """The contract as a schemathesis schema: no generated credentials (we send the real ones), no
    undeclared query/header/cookie parameters (the documents never say an unknown query parameter is
    refused, and OpenAI ignores them: a server that ignores `?h=-3077` keeps the contract), negative
    answers judged against REJECTION_STATUSES."""
    schema = schemathesis.openapi.from_path(spec_path)
    schema.config.generation.update(modes=modes, with_security_parameters=False, allow_extra_parameters=False)
    schema.config.checks.negative_data_rejection = NegativeDataRejectionConfig(expected_statuses=REJECTION_STATUSES)
    return schema


def unsupported_path_regex(capabilities: frozenset[str]) -> str | None:
    """A regex of the paths whose capability the profile lacks (None: every path is supported)."""
    missing = [prefix for prefix, cap in PATH_CAPABILITIES if cap not in capabilities]
    return "^(" + "|".join(missing) + ")(/|$)" if missing else None


def supported_operations(schema, capabilities: frozenset[str]) -> list:
    """Operations the profile's capabilities cover, deletes last (children before parents) so that the
    other operations meet existing objects."""
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        needed = [cap for prefix, cap in PATH_CAPABILITIES if operation.path.startswith(prefix)]
        if all(cap in capabilities for cap in needed):
            operations.append(operation)

    def order(operation) -> tuple:
        deleting = operation.method.upper() == "DELETE"
        return (deleting, -operation.path.count("/") if deleting else 0)

    return sorted(operations, key=order)


@dataclass
class Seeds:
    """Real objects on the target whose ids replace generated path parameters and assistant ids."""

    ids: dict[str, str]  # path parameter name -> id

    def path_parameters(self, operation) -> dict[str, str]:
        return {p.name: self.ids[p.name] for p in operation.path_parameters if p.name in self.ids}


def make_seeds(factory: Factory, held_run, *, capabilities: frozenset[str]) -> Seeds:
    """An assistant, a thread with a message and a run held in requires_action, its first step, and a
    vector store when the target has them."""
    ids = {
        "assistant_id": held_run.assistant["id"],
        "thread_id": held_run.thread_id,
        "run_id": held_run.run["id"],
    }
    messages = factory.client.get(f"/threads/{held_run.thread_id}/messages", params={"limit": 1})
    if messages.status_code == 200 and isinstance(messages.json, dict) and messages.json.get("data"):
        ids["message_id"] = messages.json["data"][0]["id"]
    steps = factory.client.get(f"/threads/{held_run.thread_id}/runs/{held_run.run['id']}/steps", params={"limit": 1})
    if steps.status_code == 200 and isinstance(steps.json, dict) and steps.json.get("data"):
        ids["step_id"] = steps.json["data"][0]["id"]
    if "vector_stores" in capabilities:
        store = factory.client.post("/vector_stores", json={"name": "conformance", "metadata": factory.tag()})
        track_created(factory, "POST", "/vector_stores", {}, store.status_code, store.json)
        if store.status_code == 200 and isinstance(store.json, dict):
            ids["vector_store_id"] = store.json["id"]
    if "files" in capabilities:
        upload = factory.post_file("seed.txt", b"Seed document for the contract campaign.\n")
        if upload.status_code == 200 and isinstance(upload.json, dict):
            ids["file_id"] = upload.json["id"]
    if "vector_store_id" in ids and "file_id" in ids:
        # The store's file and batch operations need a file attached to it and a batch of it.
        store_path = f"/vector_stores/{ids['vector_store_id']}"
        factory.client.post(f"{store_path}/files", json={"file_id": ids["file_id"]})
        batch = factory.client.post(f"{store_path}/file_batches", json={"file_ids": [ids["file_id"]]})
        if batch.status_code == 200 and isinstance(batch.json, dict):
            ids["batch_id"] = batch.json["id"]
    return Seeds(ids)


@dataclass
class Outcome:
    """One generated request and what the checks said about its answer."""

    operation: str
    mode: str
    description: str  # what the generator did to the data (negative: what it broke)
    status: int | None
    evidence: str  # request and answer, redacted
    failures: dict[str, str] = field(default_factory=dict)  # check name -> message
    id_problems: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # check name -> the problem, for grouping findings
    exchange: dict | None = None  # the request and answer as an evidence exchange dict (for its curl line)


@dataclass
class Campaign:
    schema: Any
    factory: Factory
    seeds: Seeds
    base_url: str
    headers: dict[str, str]
    timeout: float
    examples: int
    outcomes: list[Outcome] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)  # operations with nothing to break

    def run(self, operations: list, mode: GenerationMode) -> list[Outcome]:
        for operation in operations:
            if mode is GenerationMode.NEGATIVE and not has_free_input(operation):
                # e.g. GET /threads/{thread_id} with a real id: nothing left to break
                self.unsatisfiable.append(f"{operation.label} ({mode.value})")
                continue
            self._fuzz(operation, mode)
            if mode is GenerationMode.NEGATIVE and operation.method.upper() == "POST":
                self._unknown_field(operation)
                self._malformed_json(operation)
        return self.outcomes

    def _malformed_json(self, operation) -> None:
        """One explicit negative case per JSON POST: a body that is not JSON at all, which must get 400 and
        the envelope (never a 5xx). The random negative cases may or may not send one; this one always does."""
        content = (operation.definition.raw.get("requestBody") or {}).get("content") or {}
        seeded = self.seeds.path_parameters(operation)
        if "application/json" not in content or any(p.name not in seeded for p in operation.path_parameters):
            return
        body = b'{"conformance_malformed": '
        response = self.factory.client.post(operation.path.format(**seeded), content=body,
                                            headers={"Content-Type": "application/json"}, timeout=self.timeout)
        text = response.text[:1500]
        outcome = Outcome(operation=operation.label, mode="negative", description="a body that is not valid JSON",
                          status=response.status_code,
                          evidence=redact.redact_text(f"{response.exchange.method} {response.exchange.url} -> "
                                                      f"{response.status_code}\n  request:  {body.decode()}\n"
                                                      f"  response: {text}"),
                          exchange=exchange_dict(response.exchange))
        if response.status_code >= 500:
            outcome.failures["not_a_server_error"] = f"malformed JSON answered {response.status_code}"
            outcome.reasons["not_a_server_error"] = f"malformed JSON answered {response.status_code}"
        problems = [] if response.status_code == 400 else [f"expected 400, got {response.status_code}"]
        if response.status_code == 400:
            problems += error_envelope_problems(response.json)
        if problems:
            outcome.failures[MALFORMED_JSON_CHECK] = outcome.reasons[MALFORMED_JSON_CHECK] = (
                "malformed JSON: " + "; ".join(problems))
        self.outcomes.append(outcome)

    def _unknown_field(self, operation) -> None:
        """One explicit negative case per POST: a valid request plus one unknown top-level field, which
        must be rejected with 400 and the envelope. Random negative cases may or may not add a field; this
        one always does, so the rule is judged on every run."""
        seeded = self.seeds.path_parameters(operation)
        unseeded = [p.name for p in operation.path_parameters if p.name not in seeded]
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=seeded)

        @given(case=strategy)
        @settings(max_examples=1, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), derandomize=True)
        def send(case):
            prepare_body(case, self.factory, self.seeds, positive=True)
            if not isinstance(case.body, dict):
                return  # no JSON object body to add a field to
            case.body = {**case.body, UNKNOWN_FIELD: True}
            response = case.call(base_url=self.base_url, headers=self.headers, timeout=self.timeout)
            self._track(case, response)
            outcome = Outcome(operation=case.operation.label, mode="negative",
                              description=f"valid request plus the unknown field {UNKNOWN_FIELD!r}",
                              status=response.status_code, evidence=render_exchange(case, response),
                              exchange=exchange_record(response))
            # A path id we had no real object for (e.g. a store's file on a target without a Files API) names
            # no existing object, and 404 is then as right as 400.
            allowed = (400, 404) if unseeded else (400,)
            problems = [] if response.status_code in allowed else [
                f"expected {' or '.join(map(str, allowed))}, got {response.status_code}"]
            if response.status_code in allowed:
                problems += error_envelope_problems(_json(response))
            if problems:
                outcome.failures[UNKNOWN_FIELD_CHECK] = outcome.reasons[UNKNOWN_FIELD_CHECK] = (
                    f"an unknown field: {'; '.join(problems)}")
            self.outcomes.append(outcome)

        try:
            send()
        except (Unsatisfiable, SkipTest):
            self.unsatisfiable.append(f"{operation.label} (unknown field)")

    def _fuzz(self, operation, mode: GenerationMode) -> None:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=self.seeds.path_parameters(operation))

        # Outcomes are collected, not raised: hypothesis must not shrink against a live server, and a
        # check wants to see every problem of the campaign at once.
        @given(case=strategy)
        @settings(max_examples=self.examples, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), derandomize=False)
        def send(case):
            self._send(case, mode)

        try:
            send()
        except (Unsatisfiable, SkipTest):
            # e.g. negative mode for GET /threads/{thread_id} with a real id: no part of the request is free
            self.unsatisfiable.append(f"{operation.label} ({mode.value})")

    def _send(self, case, mode: GenerationMode) -> None:
        prepare_body(case, self.factory, self.seeds, positive=mode is GenerationMode.POSITIVE)
        response = case.call(base_url=self.base_url, headers=self.headers, timeout=self.timeout)
        self._track(case, response)
        problem = untagged_creation(case, response, self.factory.session_id)
        if problem:  # a harness bug, not the target's: stop loudly
            raise AssertionError(problem)
        outcome = Outcome(
            operation=case.operation.label,
            mode=case.meta.generation.mode.value if case.meta else mode.value,
            description=(case.meta.phase.data.description if case.meta else "") or "",
            status=response.status_code,
            evidence=render_exchange(case, response),
            exchange=exchange_record(response),
        )
        for name, check in CHECKS.items():
            try:
                case.validate_response(response, checks=[check], headers=self.headers)
            except FailureGroup as exc:
                outcome.failures[name], outcome.reasons[name] = describe_failures(exc, response.status_code)
        if response.status_code == 200:
            outcome.id_problems = id_prefix_problems(_json(response))
        self.outcomes.append(outcome)

    def _track(self, case, response) -> None:
        track_created(self.factory, case.method.upper(), case.path, case.path_parameters, response.status_code,
                      _json(response))


SHOWN = 3  # exchanges shown when there is no finding to group (e.g. nothing was linked)
UNKNOWN_FIELD = "conformance_unknown_field"
UNKNOWN_FIELD_CHECK = "unknown_field_rejection"  # our own judgement of the explicit unknown-field cases
MALFORMED_JSON_CHECK = "malformed_json_rejection"  # ... and of the explicit malformed-JSON cases
RESPONSE_SHOWN = 1500  # characters of an example's answer


def failures_of(outcomes: list[Outcome], *checks: str) -> list[tuple[Outcome, str, str]]:
    """(outcome, problem, message) for every named check that objected to an outcome."""
    return [(o, o.reasons.get(name) or o.failures[name], o.failures[name])
            for o in outcomes for name in checks if name in o.failures]


def report_failures(findings: list[tuple[Outcome, str, str]], what: str) -> None:
    """Fail when there are findings (outcome, problem, message): one group per (operation, problem),
    counted, each with its smallest request as a curl line, all in the evidence (checks.Findings)."""
    if not findings:
        return
    groups = group_findings(findings)
    operations = {g["operation"] for g in groups}
    violation(f"{len(findings)} generated request(s) {what}: {len(groups)} problem(s) on {len(operations)} "
              "operation(s), each with its smallest request", [Findings(groups)])


def group_findings(findings: list[tuple[Outcome, str, str]]) -> list[dict]:
    """One group per (operation, problem), most frequent first; the example is the smallest request."""
    grouped: dict[tuple[str, str], list[tuple[Outcome, str]]] = {}
    for outcome, problem, message in findings:
        grouped.setdefault((outcome.operation, problem), []).append((outcome, message))
    groups = []
    for (operation, problem), members in grouped.items():
        outcome, message = min(members, key=lambda m: _request_size(m[0]))
        exchange = outcome.exchange or {}
        groups.append({
            "operation": operation, "problem": problem, "count": len(members),
            "example": {"curl": curl_command(exchange) if exchange else outcome.evidence.splitlines()[0],
                        "status": outcome.status,
                        "response": (exchange.get("response_body") or "")[:RESPONSE_SHOWN] if exchange else
                        outcome.evidence,
                        "reason": f"[{outcome.mode}] {message}"},
        })
    return sorted(groups, key=lambda g: (-g["count"], g["operation"], g["problem"]))


def _request_size(outcome: Outcome) -> int:
    exchange = outcome.exchange or {}
    return len(exchange.get("url") or "") + len(exchange.get("request_body") or "") if exchange else 1 << 30


def describe_failures(exc: FailureGroup, status: int) -> tuple[str, str]:
    """schemathesis' failures of one check as (their own words, redacted; the problem they name, for
    grouping: the answer's status, each failure's title and, for a schema violation, where and which
    keyword, without the values that differ from request to request)."""
    message = "; ".join(f"{f.title}: {' '.join(f.message.split())}" for f in exc.exceptions)
    problems = []
    for failure in exc.exceptions:
        where = getattr(failure, "instance_path", None)
        keyword = next((str(p) for p in reversed(getattr(failure, "schema_path", None) or [])
                        if isinstance(p, str)), None)
        if where is not None:
            pointer = "/" + "/".join("*" if isinstance(p, int) else str(p) for p in where)
            problems.append(f"{failure.title} at {pointer}" + (f" ({keyword})" if keyword else ""))
        else:
            problems.append(failure.title)
    problem = f"answered {status}: " + "; ".join(sorted(set(problems)))
    return redact.redact_text(message) or "", redact.redact_text(problem) or ""


def has_free_input(operation) -> bool:
    """Whether a request to `operation` has anything besides its path (which gets real ids)."""
    return bool(operation.body) or len(operation.query) > 0


# --- shared by the campaigns and the stateful machine ----------------------------------------------------


def auth_headers(config) -> dict[str, str]:
    """The headers every request of the target's dialect carries (credentials, beta opt-in)."""
    return dialect_for(config).headers(config.api_key)


def prepare_body(case, factory: Factory, seeds: Seeds | None, *, positive: bool) -> None:
    """Pin `stream` to false, tag metadata with the session id, and (positive) use a real assistant.

    Assigns a new body (never edits in place) so that schemathesis re-validates the case: a negative
    case whose only flaw was the `stream` value we overwrite is then judged as the valid case it became.
    """
    body = case.body
    if case.method.upper() == "POST" and case.path in CREATE_PATHS and not isinstance(body, (dict, list, str)):
        body = {}  # no body at all would create an untagged object (POST /threads takes none)
    if not isinstance(body, dict):
        return
    body = dict(body)
    if "stream" in body:
        body["stream"] = False
    if _accepts_metadata(case):
        body["metadata"] = _tagged(body.get("metadata"), factory, positive)
    if case.path == "/threads/runs" and body.get("thread") is None:
        body["thread"] = {}  # the thread this call creates must carry the tag too
    if isinstance(body.get("thread"), dict):
        body["thread"] = {**body["thread"], "metadata": _tagged(body["thread"].get("metadata"), factory, positive)}
    if positive and seeds is not None and "assistant_id" in body and "assistant_id" in seeds.ids:
        body["assistant_id"] = seeds.ids["assistant_id"]
    case.body = body


# POST operations whose body has `metadata` (create and modify of taggable objects).
METADATA_BODIES = frozenset({
    "/assistants", "/assistants/{assistant_id}", "/threads", "/threads/{thread_id}", "/threads/runs",
    "/threads/{thread_id}/messages", "/threads/{thread_id}/messages/{message_id}", "/threads/{thread_id}/runs",
    "/threads/{thread_id}/runs/{run_id}", "/vector_stores", "/vector_stores/{vector_store_id}",
})


def _accepts_metadata(case) -> bool:
    return case.method.upper() == "POST" and case.path in METADATA_BODIES


def _tagged(metadata: Any, factory: Factory, positive: bool) -> Any:
    if metadata is None:
        return factory.tag()
    if not isinstance(metadata, dict):
        return metadata  # a negative case broke the type: nothing to tag, and it must be rejected anyway
    if positive and len(metadata) >= 16:  # keep a valid case valid: the tag takes one of the 16 pairs
        metadata = dict(list(metadata.items())[:15])
    return factory.tag(metadata)


def untagged_creation(case, response, session_id: str) -> str | None:
    """Why an object the target just created (200 to a create call) was not tagged with the session id
    in the body that went over the wire (None: tagged, or nothing was created, or the generated
    metadata was not an object at all, which a negative case does on purpose)."""
    if response.status_code != 200 or case.method.upper() != "POST" or case.path not in CREATE_PATHS:
        return None
    sent = _sent_json(response)
    holders = [("metadata", sent)]
    if case.path == "/threads/runs":
        holders.append(("thread.metadata", (sent or {}).get("thread") if isinstance(sent, dict) else None))
    for where, holder in holders:
        metadata = holder.get("metadata") if isinstance(holder, dict) else None
        if holder is not None and not isinstance(holder, dict):
            continue
        if metadata is not None and not isinstance(metadata, dict):
            continue
        if not isinstance(metadata, dict) or metadata.get(TAG_KEY) != session_id:
            return (f"harness: {case.method.upper()} {case.path} created an object but the request sent "
                    f"{where}={metadata!r}, without {TAG_KEY}={session_id!r}")
    return None


# Create operations of taggable objects (messages are deleted with their thread, but tagged too).
CREATE_PATHS = frozenset({"/assistants", "/threads", "/threads/runs", "/threads/{thread_id}/messages",
                          "/threads/{thread_id}/runs", "/vector_stores"})


def _sent_json(response) -> Any:
    """The request body as it went over the wire, parsed (None when absent or not JSON)."""
    body = response.request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def track_created(factory: Factory, method: str, path_template: str, path_parameters: dict, status: int,
                  body: Any) -> None:
    """Hand every object a create operation reports with 200 to the factory, for cleanup; a 200 to a
    DELETE makes the factory forget the object (cleanup does not delete it again)."""
    if method == "DELETE" and status == 200 and isinstance(path_parameters, dict):
        try:
            factory.forget(path_template.format(**path_parameters))
        except (KeyError, IndexError, ValueError):
            pass  # a path parameter the case did not fill: nothing of ours was named
        return
    if method != "POST" or status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return
    obj = body.get("object")
    top_level = {"/assistants": "assistant", "/threads": "thread", "/files": "file", "/vector_stores": "vector_store"}
    if path_template in top_level:
        factory.created.append(Created(top_level[path_template], body["id"], f"{path_template}/{body['id']}"))
    elif path_template == "/threads/runs" and isinstance(body.get("thread_id"), str):
        factory.created.append(Created("thread", body["thread_id"], f"/threads/{body['thread_id']}"))
        factory.note_run(body)
    elif path_template == "/threads/{thread_id}/runs" or obj == "thread.run":
        factory.note_run({**body, "thread_id": body.get("thread_id") or path_parameters.get("thread_id")})
    # messages live in threads the factory owns and go with them


def id_prefix_problems(body: Any) -> list[str]:
    """Ids of objects (and of lists' items) without OpenAI's prefix for their object type."""
    if not isinstance(body, dict):
        return []
    items = body["data"] if body.get("object") == "list" and isinstance(body.get("data"), list) else [body]
    problems = []
    for item in items:
        if not isinstance(item, dict):
            continue
        prefix = ID_PREFIXES.get(item.get("object"))
        if prefix and isinstance(item.get("id"), str) and not item["id"].startswith(prefix):
            problems.append(f"{item['object']} id {item['id']!r} does not start with {prefix!r}")
        for name, ref_prefix in REFERENCE_PREFIXES.items():
            value = item.get(name)
            if isinstance(value, str) and not value.startswith(ref_prefix):
                problems.append(f"{item.get('object')}.{name} {value!r} does not start with {ref_prefix!r}")
    return problems


def _json(response) -> Any:
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - not JSON: nothing to read
        return None


def exchange_record(response) -> dict:
    """The request a schemathesis case sent and its answer, as an evidence exchange dict (redacted)."""
    request = response.request
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    return {"kind": "exchange", "method": request.method, "url": redact.redact_url(str(request.url)),
            "request_headers": redact.redact_headers({k: v for k, v in request.headers.items()
                                                      if k.lower() != "x-schemathesis-testcaseid"}),
            "request_body": redact.redact_text(body) if body else None, "status": response.status_code,
            "response_body": redact.redact_text(response.content[:RESPONSE_SHOWN].decode("utf-8", "replace"))}


def render_exchange(case, response, limit: int = 1500) -> str:
    request = response.request
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    # A file download is bytes, not text: show it decoded with replacements rather than crash on it.
    text = response.content[:limit].decode("utf-8", "replace") + ("..." if len(response.content) > limit else "")
    lines = [f"{request.method} {request.url} -> {response.status_code}"]
    if body:
        lines.append(f"  request:  {str(body)[:limit]}")
    lines.append(f"  response: {text}")
    return redact.redact_text("\n".join(lines))
