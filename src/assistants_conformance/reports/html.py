"""report.html and compare.html: jinja2 templates (autoescaped), CSS and JS inline, no network."""

from __future__ import annotations

import json
from functools import lru_cache

from ..outcomes import STATUSES
from . import evidence as ev
from .curl import curl_command
from .formats import ICONS, by_area, target_label
from .results import with_defaults
from .rules import rule_view

MAX_TIMELINE_EVENTS = 400  # events drawn per stream (the rest is counted)
MAX_SHOWN_BODY = 20000  # characters of a body shown inline


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("assistants_conformance.reports", "templates"),
        autoescape=True,  # every value from a target is untrusted text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ms"] = lambda s: "" if s is None else f"{s * 1000:.0f} ms"
    return env


def pretty(body: str | None) -> str:
    """A body as shown: JSON indented, anything else as is; bounded."""
    if not body:
        return ""
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body
    if len(text) > MAX_SHOWN_BODY:
        text = text[:MAX_SHOWN_BODY] + f"\n... [{len(text) - MAX_SHOWN_BODY} more characters: see exchanges.har]"
    return text


def _timeline_view(events: list[dict]) -> dict:
    shown = events[:MAX_TIMELINE_EVENTS]
    times = [e["at"] for e in shown if isinstance(e.get("at"), (int, float))]
    span = max(times) if times else 0.0
    rows = []
    for index, e in enumerate(shown):
        at = e.get("at")
        rows.append({
            "index": index, "name": e.get("event") or "message", "at": at,
            "left": (at / span * 100) if (span and isinstance(at, (int, float))) else None,
            "data": (e.get("data") or "")[:300],
        })
    return {"rows": rows, "span": span, "timed": bool(times), "more": len(events) - len(shown)}


def _evidence_view(item: dict) -> dict:
    view = {"kind": item.get("kind"), "item": item}
    if item.get("kind") == "exchange":
        view["curl"] = curl_command(item)
        view["request_body"] = pretty(item.get("request_body"))
        view["response_body"] = "" if ev.is_stream_exchange(item) else pretty(item.get("response_body"))
    elif item.get("kind") == "stream" and item.get("exchange"):
        view["exchange"] = _evidence_view(item["exchange"])
        # The stream's own events carry arrival times; the body parsed back would not.
        view["exchange"]["timeline"] = _timeline_view(item.get("events") or [])
    elif item.get("kind") == "text":
        view["text"] = pretty(item.get("text"))
    events = ev.timeline(item)
    view["timeline"] = _timeline_view(events) if events is not None else None
    return view


def what_happened(message: str) -> str:
    """A rendered failure without its evidence part (the report shows the evidence itself)."""
    return message.split("\nevidence:\n", 1)[0]


def _failing_view(check: dict, blocked: list[dict] = ()) -> dict:
    return {"check": check, "what": what_happened(check.get("message", "")), "blocked": list(blocked),
            "evidence": [_evidence_view(e) for e in check.get("evidence", [])]}


def short(message: str, limit: int = 200) -> str:
    """The 'what happened' line of a failure, for a table cell."""
    text = what_happened(message or "")
    for line in text.splitlines():
        if line.startswith("what happened:"):
            text = line.removeprefix("what happened:").strip()
            break
    return text if len(text) <= limit else text[:limit] + "…"


def report_html(document: dict, gate: dict | None = None) -> str:
    """Rules broken first (each with what it blocked), then unstable checks, other blockers and harness
    errors, then the matrix and every check by area (areas with nothing wrong folded)."""
    checks = [with_defaults(c) for c in document["checks"]]
    view = rule_view(checks)
    broken = [_failing_view(entry["check"], entry["blocked"]) for entry in view["broken"]]
    levels = sorted({c["level"] for c in checks if c["level"]}, key=["MUST", "SHOULD", "MAY"].index)
    return _environment().get_template("report.html.j2").render(
        doc=document, checks=checks, areas=by_area(checks), statuses=STATUSES, levels=levels, icons=ICONS,
        view=view, broken=broken, unstable=[_failing_view(c) for c in view["unstable"]],
        errors=[_failing_view(c) for c in view["errors"]],
        failing_ids={c["id"] for c in checks if c["status"] in ("fail", "error", "unstable")},
        short=short, target=target_label(document), gate=gate,
    )


def compare_html(matrix: dict) -> str:
    return _environment().get_template("compare.html.j2").render(m=matrix, icons=ICONS, statuses=STATUSES)
