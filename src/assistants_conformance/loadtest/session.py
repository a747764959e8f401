"""One Locust user's connection to the target: every request and stream becomes Locust request events,
raw samples and, for streams, a grammar check as the events arrive. Plain requests go through the
FastTransport (geventhttpclient: cheap per request) when one is given, streams through the
ConformanceClient (its bounded SSE reader).

Failures are reported once, as one line (the client's TargetError reasons: "connection refused (is
the target running?)", "no response within 2 s", ...), then RequestFailed stops the task; the user class
turns that into a quiet reschedule. No tracebacks for target problems.
"""

from __future__ import annotations

import json as jsonlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gevent import GreenletExit

from ..wire import redact
from ..wire.client import ConformanceClient, Response, TargetError
from ..wire.dialects import UnsupportedOperation
from ..protocol import stream_rules
from ..protocol.grammar import load_grammar
from ..wire.sse import SSEEvent, StreamResult, StreamVerdict
from . import checks
from .metrics import (COMPLETION_TOKENS, COUNT, EVENT_GAP, METRIC, PROMPT_TOKENS, TIME_TO_DONE,
                      TIME_TO_FIRST_EVENT, TIME_TO_FIRST_TEXT_DELTA, Recorder, RequestFailure, fire)
from .transport import FastResponse, FastTransport


STALL_SECONDS = 1.0  # silent at least this long when the run ends: counted as stalled (shorter: just cut)


class RequestFailed(Exception):
    """Already reported as a Locust failure; the task cannot go on."""


@dataclass
class StreamOutcome:
    result: StreamResult
    run: dict | None = None          # the last run object seen in the stream
    usage: dict | None = None
    first_event_at: float | None = None   # monotonic
    names: list[str] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        return self.run.get("status") if self.run else None


class LoadSession:
    def __init__(self, environment, client: ConformanceClient | Callable[[], ConformanceClient], recorder: Recorder,
                 *, check_streams: bool = True, transport: FastTransport | None = None):
        """`client` may be a factory: a user that never streams then never builds one (an httpx client
        costs ~20 ms of CPU to set up, its TLS context)."""
        self.environment = environment
        self._client = client if isinstance(client, ConformanceClient) else None
        self._client_factory = None if self._client is not None else client
        self.transport = transport  # plain requests; None: through the ConformanceClient
        self.recorder = recorder
        self.check_streams = check_streams

    @property
    def client(self) -> ConformanceClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def close(self) -> None:
        for connection in (self._client, self.transport):
            if connection is not None:
                connection.close()

    # -- plain requests ----------------------------------------------------------------------------------
    def call(self, method: str, path: str, name: str, *, json: Any = None, params: dict | None = None,
             expect: tuple[int, ...] = (200,), tolerate: tuple[int, ...] = (), intended: float | None = None,
             timeout: float | None = None, files: Any = None, data: dict | None = None) -> Response | FastResponse:
        """One request; a status outside expect + tolerate, or a body that is not a JSON object, is a
        failure. `intended` (monotonic) is the open-loop start time the latency is measured from.
        A multipart upload (`files`, `data`) goes through the ConformanceClient (httpx builds it)."""
        started_wall, started = time.time(), time.monotonic()
        begin = intended if intended is not None else started
        try:
            if files is not None or self.transport is None:
                response = self.client.request(method, path, json=json, params=params, timeout=timeout,
                                               files=files, data=data)
            else:
                response = self.transport.request(method, path, json=json, params=params, timeout=timeout)
        except TargetError as exc:
            self._fail(method, name, begin, started_wall, exc.reason)
        except UnsupportedOperation as exc:
            self._fail(method, name, begin, started_wall, str(exc))
        except GreenletExit:
            self._unfinished(method, name, begin, started_wall, time.monotonic() - started)
        elapsed_ms = (time.monotonic() - begin) * 1000
        problem = None
        if response.status_code not in expect + tolerate:
            problem = f"HTTP {response.status_code} (expected {'/'.join(map(str, expect))}): {_short(response.text)}"
        elif response.status_code in expect and not isinstance(response.json, dict):
            problem = f"HTTP {response.status_code} but {response.json_error or 'the body is not a JSON object'}"
        if problem:
            self._fail(method, name, begin, started_wall, redact.redact_text(problem), length=len(response.content))
        fire(self.environment, self.recorder, method, name, elapsed_ms, at=_wall(begin, started, started_wall),
             length=len(response.content))
        return response

    def _fail(self, method, name, begin, started_wall, reason, length=0):
        elapsed_ms = (time.monotonic() - begin) * 1000
        fire(self.environment, self.recorder, method, name, elapsed_ms, at=started_wall,
             exception=RequestFailure(reason), length=length)
        raise RequestFailed(reason)

    def _unfinished(self, method, name, begin, started_wall, quiet: float, detail=""):
        """The run ended (user stopped) while this request waited. A stalled target must show up as
        failures, not vanish because its requests never finished; a request merely cut short (silent
        for less than STALL_SECONDS) is not counted at all."""
        if quiet < STALL_SECONDS:
            raise GreenletExit
        elapsed = time.monotonic() - begin
        fire(self.environment, self.recorder, method, name, elapsed * 1000, at=started_wall,
             exception=RequestFailure(f"no complete answer when the run ended (stalled?){detail}"))
        raise GreenletExit

    # -- streams -----------------------------------------------------------------------------------------
    def stream(self, path: str, name: str, body: dict, kind: str, *, intended: float | None = None) -> StreamOutcome:
        """POST a streaming request; fire time to first event / first text delta / gaps / time to done,
        check the event names against the grammar as they arrive (LOAD-001) and the payloads'
        consistency at the end (LOAD-004)."""
        automaton = load_grammar().start(kind) if self.check_streams else None
        grammar_problem: list[str] = []
        payloads: list[tuple[str, Any]] = []
        gaps: list[float] = []
        marks: dict[str, float] = {}
        state: dict[str, Any] = {"last": None, "run": None, "usage": None}
        started_wall, started = time.time(), time.monotonic()
        begin = intended if intended is not None else started
        offset = started - begin  # open loop: time already lost before the request could start

        def on_event(event: SSEEvent) -> None:
            at = event.at + offset
            if state["last"] is None:
                marks["first"] = at
            else:
                gaps.append(at - state["last"])
            state["last"] = at
            event_name = event.event or "message"
            if automaton is not None and not grammar_problem:
                problem = automaton.feed(event_name)
                if problem:
                    grammar_problem.append(problem)
            data: Any = event.data
            if event_name != "done":
                try:
                    data = jsonlib.loads(event.data)
                except ValueError:
                    pass
            if event_name == "thread.message.delta" and "text" not in marks:
                marks["text"] = at
            if event_name.startswith("thread.run.") and not event_name.startswith("thread.run.step.") \
                    and isinstance(data, dict):
                state["run"] = data
                if data.get("usage"):
                    state["usage"] = data["usage"]
            payloads.append((event_name, data))

        try:
            result = self.client.stream("POST", path, json={**body, "stream": True}, on_event=on_event)
        except TargetError as exc:
            self._fail("POST", name, begin, started_wall, exc.reason)
        except UnsupportedOperation as exc:
            self._fail("POST", name, begin, started_wall, str(exc))
        except GreenletExit:
            quiet = time.monotonic() - (begin + state["last"] if state["last"] is not None else started)
            self._unfinished("POST", name, begin, started_wall, quiet,
                             "; events so far: " + ("some" if payloads else "none"))
        at = _wall(begin, started, started_wall)
        env, rec = self.environment, self.recorder
        if result.verdict is not StreamVerdict.COMPLETE:
            self._fail("POST", name, begin, started_wall, f"stream {result.verdict.value}: {result.message}"
                       + (f" {_short(result.text)}" if result.text else ""))
        total_ms = (result.elapsed + offset) * 1000
        fire(env, rec, "POST", name, total_ms, at=at)
        if "first" in marks:
            fire(env, rec, METRIC, TIME_TO_FIRST_EVENT, marks["first"] * 1000, at=at)
        if "text" in marks:
            fire(env, rec, METRIC, TIME_TO_FIRST_TEXT_DELTA, marks["text"] * 1000, at=at)
        for gap in gaps:
            fire(env, rec, METRIC, EVENT_GAP, gap * 1000, at=at)
        if state["last"] is not None:
            fire(env, rec, METRIC, TIME_TO_DONE, state["last"] * 1000, at=at)
        if automaton is not None:
            problem = grammar_problem[0] if grammar_problem else automaton.finish()
            checks.judge(env, rec, checks.STREAM_GRAMMAR, [f"{name}: {problem}; events: {_names(payloads)}"] if problem else [])
            checks.judge(env, rec, checks.STREAM_CONSISTENCY,
                         [f"{name}: {problem}" for problem in stream_rules.check_stream(payloads, kind=kind)])
        self.usage(state["usage"], at=at)
        return StreamOutcome(result, state["run"], state["usage"],
                             begin + marks["first"] if "first" in marks else None, [n for n, _ in payloads])

    def usage(self, usage: Any, *, at: float | None = None) -> None:
        """Tokens come from `usage` only (never from counting chunks)."""
        if isinstance(usage, dict):
            for key, metric in (("prompt_tokens", PROMPT_TOKENS), ("completion_tokens", COMPLETION_TOKENS)):
                if isinstance(usage.get(key), int):
                    fire(self.environment, self.recorder, COUNT, metric, usage[key], at=at)


def _wall(begin: float, started: float, started_wall: float) -> float:
    return started_wall - (started - begin)


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"


def _names(payloads: list[tuple[str, Any]], limit: int = 12) -> str:
    names = [n for n, _ in payloads]
    shown = names if len(names) <= limit else names[:limit] + [f"… ({len(names) - limit} more)"]
    return ", ".join(shown)
