"""Server-sent events: an incremental parser that keeps the raw framing, and a bounded stream consumer.

The parser follows the WHATWG "event stream interpretation" rules: CRLF, LF and CR line ends; lines
starting with ":" are comments (ignored, but counted); a field with no colon has an empty value; one
space after the colon is stripped; data lines are joined with "\\n"; `id` (without NUL) sets the last
event id, which persists; `retry` (ASCII digits only) sets the reconnection time; a blank line
dispatches the event when data was given; a UTF-8 BOM at the very start is dropped; an event not
terminated by a blank line when the body ends is discarded.

Own parser rather than httpx-sse: httpx-sse normalizes line ends (so the raw framing is lost), keeps a
trailing CR until more bytes arrive (a CR-only server looks stalled) and has no per-event timing.

`consume` drives a stream through the parser under StreamBounds and decides a StreamVerdict; it gets
its bytes from a `read_chunk(deadline)` callable, so it knows nothing of HTTP (client.py supplies one).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

_BOM = b"\xef\xbb\xbf"
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n)")


@dataclass(slots=True)
class SSEEvent:
    event: str | None  # the `event:` field; None when absent or empty (the spec's default type "message")
    data: str  # data lines joined with "\n"
    id: str | None  # the last event id in force at dispatch (the spec's lastEventId; it persists)
    raw: str  # the exact text of the event block, comments and line ends included, up to its blank line
    at: float  # seconds from the start of the request until the chunk that completed this event arrived
    retry: int | None = None  # a `retry:` value given within this event's block
    comments: int = 0  # comment lines within this event's block

    def json(self) -> Any:
        """`data` parsed as JSON (raises ValueError when it is not JSON)."""
        import json

        return json.loads(self.data)


class SSEParser:
    """Incremental: feed() bytes as they arrive, in any split, get the events they complete.

    LF-only text (the usual case) is scanned in one loop with single-character finds, data and event
    lines parsed in place and each block's raw text sliced once; other line ends go line by line. This
    keeps the reader ahead of httpx-sse while keeping the raw framing (benchmarks/bench_sse.py).
    """

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # bytes after the last line end
        self._at_start = True  # a BOM is only legal before the first byte of the stream
        self._cr_owner: object | None = None  # who a LF following a chunk-final CR belongs to (CRLF split)
        self._raw: list[str] = []  # raw text of the event block in progress
        self._data: list[str] = []
        self._event_type: str | None = None
        self._retry: int | None = None
        self._block_comments = 0
        self._last_dispatched: SSEEvent | None = None  # event of the latest blank line, if it made one
        self.last_event_id: str | None = None
        self.comments = 0  # comment lines seen in the whole stream
        self.events = 0  # events dispatched
        self.bom = False  # the stream started with a BOM

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished line or event block (discarded if the body ends now)."""
        return sum(map(len, self._pending)) + sum(len(s.encode()) for s in self._raw)

    def feed(self, chunk: bytes, at: float = 0.0) -> list[SSEEvent]:
        if not chunk:
            return []
        if self._at_start:
            head = b"".join(self._pending) + chunk
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._pending = [head]  # could still be a BOM: wait for more
                return []
            self._pending = []
            self._at_start = False
            if head.startswith(_BOM):
                self.bom = True
                head = head[len(_BOM):]
            chunk = head
        if self._cr_owner is not None:
            owner, self._cr_owner = self._cr_owner, None
            if chunk[:1] == b"\n":  # second half of a CRLF whose CR ended a line already
                chunk = chunk[1:]
                if owner is self:
                    self._raw.append("\n")
                elif isinstance(owner, SSEEvent):
                    owner.raw += "\n"
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if cut < 0:
            if chunk:
                self._pending.append(chunk)
            return []
        if self._pending:
            self._pending.append(chunk[: cut + 1])
            complete = b"".join(self._pending)
        else:
            complete = chunk[: cut + 1]
        self._pending = [chunk[cut + 1:]] if cut + 1 < len(chunk) else []
        # Safe to decode here: CR and LF bytes never occur inside a multi-byte UTF-8 sequence.
        text = complete.decode("utf-8", "replace")
        out: list[SSEEvent] = []
        line = self._line
        if "\r" not in text:
            self._lines(text, "\n", 0, at, out)
        elif text.count("\r") == text.count("\n") == text.count("\r\n"):  # CRLF only
            self._lines(text, "\n", 1, at, out)
        elif "\n" not in text:  # CR only
            self._lines(text, "\r", 0, at, out)
            self._cr_owner = self if self._raw else self._last_dispatched  # a LF may still follow
        else:  # mixed line ends
            for match in _LINE.finditer(text):
                line(match.group(1), match.group(2), at, out)
            if text.endswith("\r"):
                # The final CR may be half of a CRLF: the LF, if it comes, belongs to the same line end.
                self._cr_owner = self if self._raw else self._last_dispatched
        return out

    def close(self) -> list[SSEEvent]:
        """End of body: an event without its blank line is discarded, as the spec says."""
        self._pending = []
        self._raw = []
        self._data.clear()
        return []

    def _lines(self, text: str, sep: str, trim: int, at: float, out: list[SSEEvent]) -> None:
        """Complete lines all ending the same way (LF, CR: sep; CRLF: sep LF, trim 1), text starting at a
        line's start: what _line does line by line, in one loop."""
        find, startswith = text.find, text.startswith
        pos = block = 0  # block: where the block in progress starts within text
        size = len(text)
        data = self._data
        while pos < size:
            end = find(sep, pos)  # found: text ends with a line end
            stop = end - trim  # the line's content ends here
            if stop == pos:  # a blank line: dispatch
                raw = text[block:end + 1]
                if self._raw:
                    raw = "".join(self._raw) + raw
                    self._raw = []
                self._dispatch_raw(raw, at, out)
                pos = block = end + 1
                continue
            first = text[pos]
            if first == "d" and startswith("data:", pos, stop):
                data.append(text[pos + 6 if startswith(" ", pos + 5, stop) else pos + 5:stop])
            elif first == "e" and startswith("event:", pos, stop):
                self._event_type = text[pos + 7 if startswith(" ", pos + 6, stop) else pos + 6:stop] or None
            else:
                self._field(text[pos:stop])
            pos = end + 1
        if block < size:
            self._raw.append(text[block:])

    def _line(self, line: str, end: str, at: float, out: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(end, at, out)
            return
        self._raw.append(line + end)
        self._field(line)

    def _field(self, line: str) -> None:
        if line[0] == ":":
            self.comments += 1
            self._block_comments += 1
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value or None
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        # any other field name is ignored, as the spec says

    def _dispatch(self, end: str, at: float, out: list[SSEEvent]) -> None:
        raw = "".join(self._raw) + end
        self._raw = []
        self._dispatch_raw(raw, at, out)

    def _dispatch_raw(self, raw: str, at: float, out: list[SSEEvent]) -> None:
        self._last_dispatched = None
        if self._data:
            event = SSEEvent(self._event_type, "\n".join(self._data), self.last_event_id, raw, at,
                             self._retry, self._block_comments)
            out.append(event)
            self._last_dispatched = event
            self.events += 1
            self._data.clear()  # in place: _lines_lf holds it
        self._event_type = None
        self._retry = None
        self._block_comments = 0


# --- bounded consumption ----------------------------------------------------------------------------


class StreamVerdict(str, Enum):
    COMPLETE = "complete"  # an `event: done` arrived
    INCOMPLETE = "incomplete"  # the body ended (or the connection broke) before `done`
    TIMEOUT_FIRST_EVENT = "timeout_first_event"
    TIMEOUT_GAP = "timeout_gap"
    TIMEOUT_TOTAL = "timeout_total"
    TOO_MANY_EVENTS = "too_many_events"
    HTTP_ERROR = "http_error"  # status >= 400; the body is in StreamResult.json / .text
    BAD_CONTENT_TYPE = "bad_content_type"  # not text/event-stream; a bounded prefix is in .text
    ABORTED = "aborted"  # on_event returned a truthy value


@dataclass(frozen=True)
class StreamBounds:
    first_event: float  # seconds from sending the request to the first event
    gap: float  # longest silence between two events (comments do not count as events)
    total: float  # whole stream
    max_events: int  # more events than this is TOO_MANY_EVENTS


@dataclass
class StreamResult:
    status_code: int | None  # None when no response headers arrived in time
    headers: Any  # httpx.Headers (unredacted; the exchange holds the redacted copy)
    events: list[SSEEvent]
    verdict: StreamVerdict
    message: str  # one line saying what happened, for failure text
    exchange: Any = None  # client.Exchange, redacted; its response_body is the raw stream (bounded)
    elapsed: float = 0.0
    comments: int = 0
    json: Any = None  # parsed body for HTTP_ERROR / BAD_CONTENT_TYPE when it is JSON
    text: str = ""  # body (prefix) for HTTP_ERROR / BAD_CONTENT_TYPE

    @property
    def ok(self) -> bool:
        return self.verdict is StreamVerdict.COMPLETE

    def names(self) -> list[str | None]:
        return [e.event for e in self.events]


class ChunkTimeout(Exception):
    """read_chunk found nothing before the deadline it was given."""


class StreamBroken(Exception):
    """read_chunk lost the connection mid-body (reset, truncated chunked encoding)."""


@dataclass
class StreamProgress:
    """What consume() saw: the caller turns it into a StreamResult with evidence."""

    events: list[SSEEvent] = field(default_factory=list)
    verdict: StreamVerdict = StreamVerdict.INCOMPLETE
    message: str = ""
    comments: int = 0


def consume(
    read_chunk: Callable[[float], bytes | None],
    bounds: StreamBounds,
    *,
    started: float,
    on_event: Callable[[SSEEvent], Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> StreamProgress:
    """Read chunks through the parser until `done`, the end of the body, a bound, or the caller stops.

    `read_chunk(deadline)` returns the next bytes (b"" allowed), None at the end of the body, raises
    ChunkTimeout when `deadline` (a `clock()` value) passes first, StreamBroken when the connection
    breaks. `started` is the `clock()` time the request was sent. If `on_event` raises, the exception
    propagates (the caller closes the stream); if it returns a truthy value the verdict is ABORTED.
    """
    parser = SSEParser()
    progress = StreamProgress()
    events = progress.events
    total_deadline = started + bounds.total
    last_event_at: float | None = None
    done = False

    def finish(verdict: StreamVerdict, message: str) -> StreamProgress:
        progress.verdict, progress.message, progress.comments = verdict, message, parser.comments
        return progress

    while True:
        if done or (events and is_bare_done(events[-1])):
            # after `done` (or a bare `data: [DONE]`) the body should end at once; wait at most one gap
            event_deadline = last_event_at + bounds.gap
        elif last_event_at is None:
            event_deadline = started + bounds.first_event
        else:
            event_deadline = last_event_at + bounds.gap
        deadline = min(event_deadline, total_deadline)
        try:
            if clock() >= deadline:
                raise ChunkTimeout
            chunk = read_chunk(deadline)
        except ChunkTimeout:
            if not done and events and is_bare_done(events[-1]):
                return finish(StreamVerdict.INCOMPLETE, _incomplete(events, parser, f" (the body stayed open "
                                                                                  f"{bounds.gap:g} s after it)"))
            return finish(*_timeout_verdict(done, deadline, total_deadline, events, bounds))
        except StreamBroken as exc:
            if done:
                return finish(StreamVerdict.COMPLETE, f"done after {len(events)} events; then {exc}")
            return finish(StreamVerdict.INCOMPLETE, _incomplete(events, parser, f" ({exc})"))
        if chunk is None:
            if done:
                return finish(StreamVerdict.COMPLETE,
                              f"done after {len(events)} events in {clock() - started:.2f} s")
            return finish(StreamVerdict.INCOMPLETE, _incomplete(events, parser, ""))
        now = clock()
        for event in parser.feed(chunk, now - started):
            if len(events) >= bounds.max_events:
                return finish(StreamVerdict.TOO_MANY_EVENTS,
                              f"too many events: more than {bounds.max_events} without a done event")
            events.append(event)
            last_event_at = now
            if on_event is not None and on_event(event):
                return finish(StreamVerdict.ABORTED, f"stopped by the caller after {len(events)} events")
            if event.event == "done":
                done = True


def _timeout_verdict(done: bool, deadline: float, total_deadline: float, events: list[SSEEvent],
                     bounds: StreamBounds) -> tuple[StreamVerdict, str]:
    if done:
        return StreamVerdict.COMPLETE, (f"done after {len(events)} events, but the body stayed open "
                                        f"{bounds.gap:g} s after it")
    if deadline >= total_deadline:
        return StreamVerdict.TIMEOUT_TOTAL, (f"stream not finished within {bounds.total:g} s "
                                             f"({len(events)} events so far, no done event)")
    if not events:
        return StreamVerdict.TIMEOUT_FIRST_EVENT, f"no event within {bounds.first_event:g} s of the request"
    last = events[-1].event or "message"
    return StreamVerdict.TIMEOUT_GAP, (f"stream stalled: no event for {bounds.gap:g} s after event "
                                       f"{len(events)} ({last})")


def is_bare_done(event: SSEEvent) -> bool:
    """`data: [DONE]` without `event: done` (the chat completions ending): not the Assistants `done` event."""
    return event.event is None and event.data.strip() == "[DONE]"


def _incomplete(events: list[SSEEvent], parser: SSEParser, why: str) -> str:
    pending = parser.pending_bytes
    tail = f"; {pending} bytes of an unterminated event were discarded" if pending else ""
    bare = [i for i, e in enumerate(events) if is_bare_done(e)]
    if bare:
        return (f"incomplete stream: event {bare[-1]} of {len(events)} is a bare `data: [DONE]` without "
                f"`event: done`, and no done event came{why}{tail}")
    return f"incomplete stream: the body closed after {len(events)} events without a done event{why}{tail}"
