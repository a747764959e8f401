"""Failure evidence as plain, redacted JSON.

Runs inside the pytest process that ran the check (an xdist worker, maybe): the result must be
plain data so that it can travel in `report.user_properties` to the controller that writes reports.

Shapes (all with "kind"):
    {"kind": "exchange", method, url, request_headers, request_body, status, response_headers,
     response_body, started, elapsed, error}
    {"kind": "stream", verdict, message, exchange: <exchange>|None, events: [<event>]}
    {"kind": "events", events: [<event>]}         <event> = {event, data, id, at}
    {"kind": "text", text}
    {"kind": "findings", groups: [{operation, problem, count,
                                   example: {curl, status, response, reason}}]}   (checks.Findings)
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable

from ..checks import Findings
from ..wire.redact import redact_headers, redact_text, redact_url

MAX_ITEMS = 20  # evidence items kept per failing test
MAX_TEXT = 65536  # characters of one text or body (the client already bounds recorded bodies)
MAX_EVENTS = 2000  # events kept per stream
MAX_GROUPS = 200  # finding groups kept per failing check


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    value = redact_text(value)
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"... [{len(value) - MAX_TEXT} more characters]"


def exchange_dict(exchange: Any) -> dict:
    """An Exchange (already redacted by the client) as JSON; redacted again, as defence in depth."""
    return {
        "kind": "exchange",
        "method": str(exchange.method),
        "url": redact_url(str(exchange.url)),
        "request_headers": redact_headers(dict(getattr(exchange, "request_headers", None) or {})),
        "request_body": _text(getattr(exchange, "request_body", None)),
        "status": getattr(exchange, "status", None),
        "response_headers": redact_headers(dict(getattr(exchange, "response_headers", None) or {})),
        "response_body": _text(getattr(exchange, "response_body", None)),
        "started": getattr(exchange, "started", None),
        "elapsed": getattr(exchange, "elapsed", None),
        "error": _text(getattr(exchange, "error", None)),
    }


def event_dict(event: Any) -> dict:
    return {"event": event.event, "data": _text(event.data) or "", "id": event.id, "at": event.at}


def _is_event(item: Any) -> bool:
    return hasattr(item, "event") and hasattr(item, "data") and hasattr(item, "raw")


def serialize(item: Any) -> dict:
    """One evidence item (Exchange, StreamResult, SSEEvent list, string, anything else) as JSON."""
    if hasattr(item, "method") and hasattr(item, "url"):
        return exchange_dict(item)
    if hasattr(item, "events") and hasattr(item, "verdict"):  # sse.StreamResult
        exchange = getattr(item, "exchange", None)
        return {
            "kind": "stream",
            "verdict": getattr(item.verdict, "value", str(item.verdict)),
            "message": _text(item.message) or "",
            "exchange": exchange_dict(exchange) if exchange is not None else None,
            "events": [event_dict(e) for e in list(item.events)[:MAX_EVENTS]],
        }
    if isinstance(item, Findings):
        return findings_dict(item)
    if _is_event(item):
        return {"kind": "events", "events": [event_dict(item)]}
    if isinstance(item, (list, tuple)) and item and all(_is_event(e) for e in item):
        return {"kind": "events", "events": [event_dict(e) for e in list(item)[:MAX_EVENTS]]}
    if isinstance(item, str):
        return {"kind": "text", "text": _text(item)}
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        item = dataclasses.asdict(item)
    return {"kind": "text", "text": _text(item)}


def findings_dict(findings: Findings) -> dict:
    """Grouped findings as JSON, every text redacted again and bounded."""
    groups = []
    for group in findings.groups[:MAX_GROUPS]:
        example = group.get("example") or {}
        groups.append({
            "operation": _text(group.get("operation")), "problem": _text(group.get("problem")),
            "count": int(group.get("count") or 0),
            "example": {"curl": _text(example.get("curl")), "status": example.get("status"),
                        "response": _text(example.get("response")), "reason": _text(example.get("reason"))},
        })
    return {"kind": "findings", "groups": groups}


def serialize_all(items: Iterable[Any]) -> list[dict]:
    out = []
    for item in list(items)[:MAX_ITEMS]:
        try:
            out.append(serialize(item))
        except Exception as exc:  # evidence must never turn a failure report into a crash
            out.append({"kind": "text", "text": f"(evidence could not be recorded: {type(exc).__name__})"})
    return out


def exchanges_in(evidence: Iterable[dict]) -> list[dict]:
    """Every exchange in serialized evidence, streams' exchanges included."""
    found = []
    for item in evidence:
        if item.get("kind") == "exchange":
            found.append(item)
        elif item.get("kind") == "stream" and item.get("exchange"):
            found.append(item["exchange"])
    return found


def is_stream_exchange(exchange: dict) -> bool:
    headers = {k.lower(): v for k, v in (exchange.get("response_headers") or {}).items()}
    return "text/event-stream" in str(headers.get("content-type", "")).lower()


def timeline(item: dict) -> list[dict] | None:
    """Events of a stream to show as a timeline: the recorded ones (with arrival times) or, for a
    plain exchange of a stream, the events parsed back from its raw body (arrival times unknown)."""
    if item.get("kind") in ("stream", "events"):
        return item.get("events") or []
    if item.get("kind") == "exchange" and is_stream_exchange(item) and item.get("response_body"):
        from ..wire.sse import SSEParser

        parser = SSEParser()
        events = parser.feed(item["response_body"].encode("utf-8")) + parser.close()
        return [{"event": e.event, "data": e.data, "id": e.id, "at": None} for e in events[:MAX_EVENTS]]
    return None
