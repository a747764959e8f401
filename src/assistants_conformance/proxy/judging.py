"""What the judges hold while an exchange passes (a stream being judged, an exchange's judgement), the
tables that route answers to judges, and the small helpers the judges share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..protocol.grammar import StreamAutomaton
from ..wire.redact import redact_text
from ..wire.sse import SSEEvent, SSEParser
from .exchange import Observed
from .routes import Route
from .rules import GRAMMAR_CHECKS, HOSTED_STREAM_CHECKS, STREAM_LEVEL_CHECKS, TOOL_STREAM_CHECK

KEY_HEADERS = ("authorization", "api-key", "x-api-key")
MAX_KEYS = 100  # distinct credentials registered for redaction
MAX_STREAM_EVENTS = 20_000  # events of one stream kept for the cross-event rules (past it: not judged)
EVIDENCE_EVENTS = 300  # events of one stream shown in a finding made while it is judged
RETAINED_EVENTS = 60  # kept once it is judged (the state may hold on to the exchange)
STREAM_KINDS = {"/threads/{thread_id}/runs": "create_run", "/threads/runs": "create_thread_and_run",
                "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs": "submit_tool_outputs"}
RUN_OBSERVATIONS = {  # (method, template) -> history operation kind of a run read in the answer
    ("GET", "/threads/{thread_id}/runs/{run_id}"): "get_run",
    ("POST", "/threads/{thread_id}/runs/{run_id}"): "get_run",
    ("POST", "/threads/{thread_id}/runs/{run_id}/cancel"): "cancel_run",
    ("POST", "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"): "submit_tool_outputs",
}


@dataclass
class StreamJudging:
    kind: str | None
    automaton: StreamAutomaton | None
    parser: SSEParser | None = field(default_factory=SSEParser)
    decoder: Any = None  # zlib decompressobj for a compressed body
    events: list[tuple[str, Any]] = field(default_factory=list)
    shown: list[SSEEvent] = field(default_factory=list)
    count: int = 0
    overflow: bool = False
    done: bool = False
    reported: set[str] = field(default_factory=set)
    pending: list[tuple[str, str]] = field(default_factory=list)  # findings, reported with the whole stream
    created_run: bool = False
    paused: bool = False  # a thread.run.requires_action event came
    hosted: str | None = None  # "file_search" / "code_interpreter": a step of that hosted tool came


@dataclass
class Judging:
    route: Route | None
    stream: StreamJudging | None = None
    undecodable: bool = False


def stream_check(stream: StreamJudging, check_id: str) -> str:
    """The suites' check for a rule on this stream: a hosted tool's stream has its own (TOOL-013, TOOL-024),
    the order of a run stream that paused for tool outputs is STREAM-008's."""
    if stream.hosted is not None and check_id in STREAM_LEVEL_CHECKS:
        return HOSTED_STREAM_CHECKS[stream.hosted]
    if check_id == GRAMMAR_CHECKS.get(stream.kind) and stream.paused and stream.kind != "submit_tool_outputs":
        return TOOL_STREAM_CHECK
    return check_id


def hosted_tool(step: dict) -> str | None:
    """The hosted tool a step (or a step delta) calls, if any."""
    details = step.get("step_details") or (step.get("delta") or {}).get("step_details") or {}
    for call in (details.get("tool_calls") or []) if isinstance(details, dict) else []:
        if isinstance(call, dict) and call.get("type") in HOSTED_STREAM_CHECKS:
            return call["type"]
    return None


def asks_stream(ex: Observed) -> bool:
    body = ex.request_json()
    return isinstance(body, dict) and body.get("stream") is True


def items_of(body: dict) -> list[dict]:
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def path_of(ex: Observed) -> str:
    return ex.path


def clip(text: str, limit: int = 2000) -> str:
    text = redact_text(text)
    return text if len(text) <= limit else text[:limit] + "…"
