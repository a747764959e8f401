"""The judges of one exchange, fed as it passes: `begin` at the response headers, `chunk` for each piece
of a stream's body, `end` once it is over. The same calls judge a live exchange (app.py, from the judging
queue) and one replayed from a HAR file (har.py).

    judge = Judge(contract, grammar, base_path="/v1")
    judge.begin(ex); judge.chunk(ex, data, at); judge.end(ex)
    judge.findings.records(catalog)

Every judgement goes through the oracle: Contract.validate / validate_event, the stream grammar's
automaton (one event at a time), protocol.stream_rules, protocol.transitions (via state.State) and
protocol.history (the lock checker, via state.State); error bodies through protocol.errors.error_envelope_problems.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from typing import Any

from ..protocol.errors import error_envelope_problems
from ..protocol import stream_rules
from ..protocol.grammar import Grammar
from ..wire.redact import register_secret
from ..spec import Contract, ContractError
from ..wire.sse import SSEEvent
from .exchange import Observed
from .findings import Findings
from .judging import (EVIDENCE_EVENTS, Judging, KEY_HEADERS, MAX_KEYS, MAX_STREAM_EVENTS, RETAINED_EVENTS,
                      RUN_OBSERVATIONS, STREAM_KINDS, StreamJudging, asks_stream, clip, hosted_tool, items_of,
                      path_of, stream_check)
from .routes import Route, Router
from .rules import (GRAMMAR_CHECKS, STREAM_RULE_CHECKS, STREAM_RULE_DEFAULT,
                    object_check)
from .state import State

class Judge:
    def __init__(self, contract: Contract, grammar: Grammar, *, base_path: str = "/v1",
                 findings: Findings | None = None):
        self.contract, self.grammar = contract, grammar
        self.router = Router(contract, base_path)
        self.findings = findings or Findings()
        self.state = State(self.findings.judge, self._report_sources)
        self.stats: Counter = Counter()
        self._keys: set[str] = set()

    # --- the three calls -----------------------------------------------------------------------------
    def begin(self, ex: Observed) -> None:
        self.stats["exchanges"] += 1
        self._register_keys(ex)
        route = self.router.match(ex.method, ex.path)
        judging = ex.judging = Judging(route)
        if route is None:
            self.stats["unrouted"] += 1
        encoding = ex.response_headers.get("content-encoding", "identity").lower().strip()
        decoder = None
        if encoding in ("gzip", "deflate"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        elif encoding not in ("identity", ""):
            judging.undecodable = True
            self.stats["undecodable"] += 1
            return
        if ex.status is None or route is None:
            return
        asked_stream = route.operation.streaming and ex.method == "POST" and asks_stream(ex)
        if ex.is_stream and 200 <= ex.status < 300:
            self.stats["streams"] += 1
            kind = STREAM_KINDS.get(route.template)
            automaton = self.grammar.start(kind) if kind else None
            judging.stream = StreamJudging(kind, automaton, decoder=decoder)
            if asked_stream:
                self.findings.judge("STREAM-001")
        elif asked_stream and ex.status == 200:
            self.findings.judge("STREAM-001")
            self._report("STREAM-001", f"a request with stream: true was answered 200 with Content-Type "
                         f"{ex.content_type or '(none)'}, not text/event-stream", [ex.evidence()], ex)

    def chunk(self, ex: Observed, data: bytes, at: float) -> None:
        judging = ex.judging
        stream = judging.stream if judging is not None else None
        if stream is None or ex.lost:
            return
        if stream.decoder is not None:
            try:
                data = stream.decoder.decompress(data)
            except zlib.error:
                stream.decoder, judging.stream = None, None
                return
        for event in stream.parser.feed(data, at) if stream.parser is not None else ():
            self._event(ex, stream, event)

    def end(self, ex: Observed) -> None:
        if ex.judging is None:
            self.begin(ex)
        judging = ex.judging
        if ex.lost and judging.stream is not None:
            self._flush(ex, judging.stream)  # what was found before judging was dropped still counts
        if ex.status is None or ex.lost:
            return
        in_api = self.router.api_path(ex.path) is not None
        if in_api:
            self.findings.judge("FUZZ-001")
            if ex.status >= 500:
                self._report("FUZZ-001", f"{ex.method} {path_of(ex)} was answered {ex.status}", [ex.evidence()], ex)
        if judging.undecodable:
            return  # a body we cannot decode: only its status was judged
        stream = judging.stream
        if stream is not None:
            self._end_stream(ex, stream)
            self._flush(ex, stream)
            stream.events, stream.parser = [], None  # judged: free the payloads
            del stream.shown[RETAINED_EVENTS:]  # what a later finding about this stream may still show
            return
        body = self._body(ex)
        if in_api and ex.status >= 400 and ex.method != "HEAD" and not ex.truncated:
            self.findings.judge("ERR-014")
            problems = error_envelope_problems(body)
            if problems:
                self._report("ERR-014", f"{ex.method} {path_of(ex)} was answered {ex.status} outside the error "
                             f"envelope: {'; '.join(problems)}", [ex.evidence()], ex)
        route = judging.route
        if route is None or not 200 <= ex.status < 300:
            return
        self._validate(ex, route, body)
        if isinstance(body, dict):
            self._observe(ex, route, body)

    def _register_keys(self, ex: Observed) -> None:
        """The credentials a client sends are secrets wherever they reappear (a server echoing a key in an
        error message): registered for redaction, a bounded number of them."""
        for name in KEY_HEADERS:
            value = ex.request_headers.get(name)
            if value and value not in self._keys and len(self._keys) < MAX_KEYS:
                self._keys.add(value)
                register_secret(value.removeprefix("Bearer ").strip())

    # --- plain answers -------------------------------------------------------------------------------
    def _body(self, ex: Observed) -> Any:
        if "json" not in ex.content_type or not ex.body or ex.truncated:
            return None
        data = bytes(ex.body)
        if ex.judging.stream is None and ex.response_headers.get("content-encoding", "").lower() in ("gzip", "deflate"):
            try:
                data = zlib.decompress(data, zlib.MAX_WBITS | 32)
            except zlib.error:
                return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def _validate(self, ex: Observed, route: Route, body: Any) -> None:
        check_id = object_check(route.template)
        try:
            self.findings.judge(check_id)
            if body is None and "json" in ex.content_type and ex.body and not ex.truncated:
                self._report(check_id, f"{ex.method} {path_of(ex)} answered {ex.status} with a body that is not "
                             f"JSON", [ex.evidence()], ex)
                return
            if body is None:
                return
            issues = self.contract.validate(route.operation, ex.status, body)
        except ContractError as exc:
            self.findings.judge("FUZZ-002")
            self._report("FUZZ-002", f"{ex.method} {path_of(ex)}: {exc}", [ex.evidence()], ex)
            return
        if issues:
            shown = "; ".join(str(issue) for issue in issues[:3])
            more = f" (and {len(issues) - 3} more)" if len(issues) > 3 else ""
            self._report(check_id, f"{ex.method} {path_of(ex)} answered {ex.status} with a body that does not "
                         f"match the contract ({route.operation.operation_id}): {shown}{more}", [ex.evidence()], ex)

    def _observe(self, ex: Observed, route: Route, body: dict) -> None:
        """Feed the answer's runs, lock operations and read-backs to the state."""
        handler = _OBSERVERS.get((ex.method, route.template))
        if handler is not None:
            handler(self, ex, route, body, f"{ex.method} {route.template}")

    def _message_created(self, ex: Observed, route: Route, body: dict, how: str) -> None:
        self.state.lock_op(route.params.get("thread_id"), "create_message", ex.started, ex.ended or ex.started,
                           "ok", ex)

    def _run_created(self, ex: Observed, route: Route, body: dict, how: str) -> None:
        end = ex.ended or ex.started
        self.state.run_seen(body, ex.started, end, ex, how)
        self.state.lock_op(body.get("thread_id") or route.params.get("thread_id"), "create_run", ex.started, end,
                           "ok", ex, body.get("id"), body.get("status"))

    def _run_read(self, ex: Observed, route: Route, body: dict, how: str) -> None:
        end = ex.ended or ex.started
        self.state.run_seen(body, ex.started, end, ex, how)
        self.state.lock_op(route.params.get("thread_id"), RUN_OBSERVATIONS[(ex.method, route.template)],
                           ex.started, end, "ok", ex, body.get("id"), body.get("status"))

    def _runs_listed(self, ex: Observed, route: Route, body: dict, how: str) -> None:
        end = ex.ended or ex.started
        for run in items_of(body):
            self.state.run_seen(run, ex.started, end, ex, how)
            self.state.lock_op(route.params.get("thread_id"), "observation", ex.started, end, "ok", ex,
                               run.get("id"), run.get("status"))

    def _messages_read(self, ex: Observed, route: Route, body: dict, how: str) -> None:
        for message in ([body] if body.get("object") == "thread.message" else items_of(body)):
            self.state.read_back(message, "message", ex, stream_rules.text_parts(message.get("content")))

    def _steps_read(self, ex: Observed, route: Route, body: dict, how: str) -> None:
        for step in ([body] if body.get("object") == "thread.run.step" else items_of(body)):
            self.state.read_back(step, "step", ex, None)

    # --- streams -------------------------------------------------------------------------------------
    def _event(self, ex: Observed, stream: StreamJudging, event: SSEEvent) -> None:
        self.stats["events"] += 1
        stream.count += 1
        name = event.event or "message"
        if len(stream.shown) < EVIDENCE_EVENTS:
            stream.shown.append(event)
        if stream.automaton is not None:
            problem = stream.automaton.feed(event.event)
            if problem:
                self._stream_finding(ex, stream, GRAMMAR_CHECKS[stream.kind],
                                     f"{stream.kind} stream out of the grammar: {problem}")
        if name == "done":
            stream.done = True
            data: Any = event.data
        else:
            try:
                data = json.loads(event.data)
            except ValueError:
                data = event.data
        if name == "thread.run.requires_action":
            stream.paused = True
        elif stream.hosted is None and name.startswith("thread.run.step.") and isinstance(data, dict):
            stream.hosted = hosted_tool(data)
        if name in self.contract.stream_events:
            issues = self.contract.validate_event(name, data)
            if issues:
                self._stream_finding(ex, stream, "STREAM-002", f"event {stream.count - 1} {name}: data does not "
                                     f"match the contract: {'; '.join(str(i) for i in issues[:3])}")
        if len(stream.events) < MAX_STREAM_EVENTS:
            stream.events.append((name, data))
        else:
            stream.overflow = True
        if isinstance(data, dict) and name.startswith("thread.run.") and not name.startswith("thread.run.step."):
            self._stream_run(ex, stream, name, data, event.at)

    def _stream_run(self, ex: Observed, stream: StreamJudging, name: str, run: dict, at: float) -> None:
        self.state.run_seen(run, ex.started, at, ex, f"stream event {name}")
        if not stream.created_run:
            stream.created_run = True
            kind = "submit_tool_outputs" if stream.kind == "submit_tool_outputs" else "create_run"
            self.state.lock_op(run.get("thread_id"), kind, ex.started, at, "ok", ex, run.get("id"), run.get("status"))
        else:
            self.state.lock_op(run.get("thread_id"), "observation", ex.started, at, "ok", ex, run.get("id"),
                               run.get("status"))

    def _end_stream(self, ex: Observed, stream: StreamJudging) -> None:
        if stream.decoder is not None:
            self.chunk(ex, b"", ex.ended or ex.started)
        if stream.count:
            self._judge_stream(stream, "STREAM-002")
        if not stream.done:
            if ex.client_gone:
                return  # the client hung up: nothing to say about how the target would have ended it
            self._judge_stream(stream, "STREAM-003")
            how = f" ({ex.error})" if ex.error else ""
            self._stream_finding(ex, stream, "STREAM-003", f"the stream's body closed after {stream.count} events "
                                 f"without a done event{how}")
            return
        self._judge_stream(stream, "STREAM-003")
        if stream.automaton is not None:
            self._judge_stream(stream, GRAMMAR_CHECKS[stream.kind])
            problem = stream.automaton.finish()
            if problem:
                self._stream_finding(ex, stream, GRAMMAR_CHECKS[stream.kind],
                                     f"{stream.kind} stream ended out of the grammar: {problem}")
        if stream.overflow:
            self.stats["streams_too_long"] += 1
        else:
            for rule, check in stream_rules.RULES.items():
                check_id = STREAM_RULE_CHECKS.get(rule, STREAM_RULE_DEFAULT)
                self._judge_stream(stream, check_id)
                problems = check(stream.events, stream.kind)
                if problems:
                    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
                    self._stream_finding(ex, stream, check_id, f"{'; '.join(problems[:3])}{more}")
        for name, data in stream.events:
            if not isinstance(data, dict) or name.endswith(".delta"):
                continue
            if name in ("thread.message.completed", "thread.message.incomplete"):
                self.state.streamed_object(data.get("id"), "message", data.get("status"),
                                           stream_rules.text_parts(data.get("content")), ex)
            elif name.startswith("thread.run.step.") and name.rsplit(".", 1)[1] not in ("created", "in_progress"):
                self.state.streamed_object(data.get("id"), "step", data.get("status"), None, ex)


    def _stream_finding(self, ex: Observed, stream: StreamJudging, check_id: str, message: str) -> None:
        if check_id in stream.reported:
            return  # one finding per rule and stream
        stream.reported.add(check_id)
        stream.pending.append((check_id, f"{ex.method} {path_of(ex)}: {message}"))

    def _flush(self, ex: Observed, stream: StreamJudging) -> None:
        """Report a stream's findings once it ended, with the whole stream (bounded) as their evidence."""
        if stream.pending:
            evidence = self._evidence(ex)
            reported = set()
            for check_id, message in stream.pending:
                check_id = stream_check(stream, check_id)
                if check_id not in reported:  # one finding per check and stream
                    reported.add(check_id)
                    self._report(check_id, message, [evidence], ex)
            stream.pending = []

    def _judge_stream(self, stream: StreamJudging, check_id: str) -> None:
        self.findings.judge(stream_check(stream, check_id))

    # --- evidence ------------------------------------------------------------------------------------
    def _evidence(self, ex: Observed) -> dict:
        stream = ex.judging.stream if ex.judging is not None else None
        if stream is None:
            return ex.evidence()
        verdict = "complete" if stream.done else "incomplete"
        return {"kind": "stream", "verdict": verdict,
                "message": f"{stream.count} events" + (f"; {ex.error}" if ex.error else ""),
                "exchange": ex.evidence(body_limit=2048),
                "events": [{"event": e.event, "data": clip(e.data), "id": e.id, "at": round(e.at - ex.started, 6)}
                           for e in stream.shown]}

    def _report_sources(self, check_id: str, message: str, sources: list) -> None:
        self._report(check_id, message, [self._evidence(s) for s in sources], sources[-1] if sources else None)

    def _report(self, check_id: str, message: str, evidence: list[dict], ex: Observed | None) -> None:
        self.findings.add(check_id, message, evidence, ex.seq if ex is not None else 0)


_OBSERVERS = {
    ("POST", "/threads/{thread_id}/messages"): Judge._message_created,
    ("POST", "/threads/{thread_id}/runs"): Judge._run_created,
    ("POST", "/threads/runs"): Judge._run_created,
    **{key: Judge._run_read for key in RUN_OBSERVATIONS},
    ("GET", "/threads/{thread_id}/runs"): Judge._runs_listed,
    ("GET", "/threads/{thread_id}/messages"): Judge._messages_read,
    ("GET", "/threads/{thread_id}/messages/{message_id}"): Judge._messages_read,
    ("GET", "/threads/{thread_id}/runs/{run_id}/steps"): Judge._steps_read,
    ("GET", "/threads/{thread_id}/runs/{run_id}/steps/{step_id}"): Judge._steps_read,
}  # (method, path template) -> what an answer of that operation tells the state
