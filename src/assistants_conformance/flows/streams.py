"""Streams checked as they arrive: every event fed to the stream grammar, threads and runs seen tracked
for cleanup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .factory import Created, Factory


@dataclass
class CheckedStream:
    """One `stream: true` request read through client.stream, with the stream grammar's findings taken
    event by event (so a bad order is pinned to the moment it happened, not found after the body)."""

    kind: str  # grammar stream kind: create_run | create_thread_and_run | submit_tool_outputs
    result: Any  # sse.StreamResult: events, verdict, message, headers, exchange
    order_violations: list[str]  # the grammar's findings in arrival order (the ending only if done came)
    first_violation_at: float | None = None  # seconds into the stream when the first bad event arrived

    @property
    def events(self) -> list:
        return self.result.events

    def names(self) -> list[str | None]:
        return self.result.names()

    def payloads(self, prefix: str = "") -> list[tuple[int, str, Any]]:
        """(index, event name, parsed data) of the JSON events whose name starts with `prefix`. Data
        that is not JSON (the done event's [DONE], or a broken event) is left out: the schema check
        reports broken ones."""
        out = []
        for index, event in enumerate(self.events):
            if not (event.event or "").startswith(prefix) or event.event == "done":
                continue
            try:
                out.append((index, event.event, event.json()))
            except ValueError:
                continue
        return out

    def run_events(self) -> list[tuple[int, str, dict]]:
        """thread.run.<status> events (not step events) with dict data."""
        return [(i, n, d) for i, n, d in self.payloads("thread.run.")
                if not n.startswith("thread.run.step.") and isinstance(d, dict)]


def stream_checked(client, path: str, body: dict, *, kind: str, grammar, bounds=None,
                   factory: Factory | None = None, stop_on_violation: bool = False) -> CheckedStream:
    """POST `body` with stream: true to `path` under `bounds` (default: the profile's), feeding every
    event to `grammar.start(kind)` as it arrives. The ending is judged only when done arrived: a body
    that closed early is the verdict INCOMPLETE, reported as such by the caller. With a factory,
    threads and runs seen in the stream are tracked for cleanup."""
    automaton = grammar.start(kind)
    first_bad: list[float] = []

    def on_event(event) -> bool:
        problem = automaton.feed(event.event)
        if problem and not first_bad:
            first_bad.append(event.at)
        if factory is not None:
            _track_streamed(factory, event)
        return bool(problem) and stop_on_violation

    result = client.stream("POST", path, json={**body, "stream": True}, bounds=bounds, on_event=on_event)
    if result.ok:
        automaton.finish()
    return CheckedStream(kind, result, list(automaton.violations), first_bad[0] if first_bad else None)


def _track_streamed(factory: Factory, event) -> None:
    name = event.event or ""
    if not name.startswith("thread.") or name.startswith(("thread.message.", "thread.run.step.")):
        return
    try:
        data = event.json()
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    thread_id = data.get("id") if name == "thread.created" else data.get("thread_id")
    if isinstance(thread_id, str) and not any(c.id == thread_id for c in factory.created):
        factory.created.append(Created("thread", thread_id, f"/threads/{thread_id}"))
    if name.startswith("thread.run."):
        factory.note_run(data)
