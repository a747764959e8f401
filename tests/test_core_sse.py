"""SSE parser framing (WHATWG rules, raw text kept) and the bounded consumer's verdicts, without HTTP."""

from __future__ import annotations

import pytest

from assistants_conformance.wire.sse import (
    ChunkTimeout, SSEParser, StreamBounds, StreamBroken, StreamVerdict, consume,
)

RUN = (
    "event: thread.run.created\ndata: {\"id\": \"run_1\"}\n\n"
    ": keep-alive\n\n"
    "event: thread.message.delta\ndata: {\"delta\": 1}\n\n"
    "event: done\ndata: [DONE]\n\n"
)


def feed_all(body: bytes, step: int | None = None) -> tuple[list, SSEParser]:
    parser = SSEParser()
    events = []
    step = step or len(body) or 1
    for i in range(0, len(body), step):
        events += parser.feed(body[i:i + step])
    events += parser.close()
    return events, parser


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("step", [None, 1, 7])
def test_line_ends_and_splits_give_the_same_events_and_exact_raw(eol, step):
    body = RUN.replace("\n", eol).encode()
    events, parser = feed_all(body, step)
    assert [e.event for e in events] == ["thread.run.created", "thread.message.delta", "done"]
    assert [e.data for e in events] == ['{"id": "run_1"}', '{"delta": 1}', "[DONE]"]
    assert events[0].raw == f"event: thread.run.created{eol}data: {{\"id\": \"run_1\"}}{eol}{eol}"
    assert events[2].raw == f"event: done{eol}data: [DONE]{eol}{eol}"
    assert parser.comments == 1


def test_crlf_split_between_chunks_stays_one_line_end():
    parser = SSEParser()
    first = parser.feed(b"data: a\r")
    second = parser.feed(b"\n\r")
    assert first == [] and [e.data for e in second] == ["a"]
    third = parser.feed(b"\ndata: b\r\n\r\n")
    assert second[0].raw == "data: a\r\n\r\n"  # the LF after the dispatching CR joined that event's raw
    assert [e.raw for e in third] == ["data: b\r\n\r\n"]


def test_cr_only_event_is_dispatched_without_waiting_for_more_bytes():
    parser = SSEParser()
    events = parser.feed(b"data: now\r\r")
    assert [e.data for e in events] == ["now"]


def test_multiline_data_comments_and_fields_without_colon():
    body = b": hello\ndata: one\ndata:two\ndata\ndata:  three\nevent: x\n\n"
    (event,), parser = feed_all(body)
    assert event.data == "one\ntwo\n\n three"  # one leading space stripped, no colon -> empty value
    assert event.event == "x" and event.comments == 1 and parser.comments == 1
    assert event.raw == body.decode()


def test_id_persists_nul_id_is_ignored_and_retry_needs_digits():
    body = b"id: 7\nretry: 1500\ndata: a\n\ndata: b\nretry: 1x\n\nid: bad\x00\ndata: c\n\nid\ndata: d\n\n"
    events, _ = feed_all(body)
    assert [(e.id, e.retry) for e in events] == [("7", 1500), ("7", None), ("7", None), ("", None)]


def test_empty_event_type_and_blocks_without_data_are_not_events():
    body = b"event: lonely\n\nevent:\ndata: x\n\n\n\n:only a comment\n\n"
    events, parser = feed_all(body)
    assert [(e.event, e.data) for e in events] == [(None, "x")]
    assert parser.comments == 1


@pytest.mark.parametrize("step", [None, 1, 2])
def test_bom_at_start_is_dropped_even_when_split(step):
    body = b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n"
    events, parser = feed_all(body, step)
    assert parser.bom
    # Only the first BOM is special; later the bytes are part of a field name that is then ignored.
    assert [e.data for e in events] == ["a"]
    assert events[0].raw == "data: a\n\n"


def test_multibyte_utf8_split_across_chunks():
    body = "data: 日本語のテキスト\n\n".encode()
    events, _ = feed_all(body, 1)
    assert events[0].data == "日本語のテキスト"


def test_event_without_its_blank_line_is_discarded_at_the_end():
    parser = SSEParser()
    assert parser.feed(b"data: a\n\nevent: done\ndata: [DONE]\n")[0].data == "a"
    assert parser.pending_bytes == len(b"event: done\ndata: [DONE]\n")
    assert parser.close() == []


def test_event_time_is_the_arrival_of_the_completing_chunk():
    parser = SSEParser()
    assert parser.feed(b"data: a\n", at=1.0) == []
    (event,) = parser.feed(b"\n", at=2.5)
    assert event.at == 2.5


# --- consume(): verdicts from a scripted reader and a fake clock -------------------------------------


class FakeStream:
    """read_chunk(deadline) over a script of (arrival time, bytes | None | 'broken'); the clock jumps."""

    def __init__(self, script):
        self.script = list(script)
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def read_chunk(self, deadline: float):
        if not self.script:
            self.now = max(self.now, deadline)
            raise ChunkTimeout
        at, chunk = self.script[0]
        if at > deadline:
            self.now = deadline
            raise ChunkTimeout
        self.script.pop(0)
        self.now = max(self.now, at)
        if chunk == "broken":
            raise StreamBroken("connection reset")
        return chunk


BOUNDS = StreamBounds(first_event=1.0, gap=0.5, total=3.0, max_events=5)


def run(script, bounds=BOUNDS, on_event=None):
    fake = FakeStream(script)
    return consume(fake.read_chunk, bounds, started=0.0, on_event=on_event, clock=fake.clock), fake


def ev(name: str, data: str = "{}") -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def test_complete_when_done_arrives_and_body_ends():
    progress, _ = run([(0.1, ev("a")), (0.2, ev("done", "[DONE]")), (0.3, None)])
    assert progress.verdict is StreamVerdict.COMPLETE
    assert [e.event for e in progress.events] == ["a", "done"]


def test_incomplete_when_body_ends_before_done():
    progress, _ = run([(0.1, ev("a")), (0.2, b"event: done\n"), (0.3, None)])
    assert progress.verdict is StreamVerdict.INCOMPLETE
    assert progress.message.startswith("incomplete stream: the body closed after 1 events without a done event")
    assert "bytes of an unterminated event were discarded" in progress.message


def test_bare_done_without_event_done_is_named_as_such():
    # Before: "the body closed after 2 events without a done event", as if nothing had arrived.
    progress, _ = run([(0.1, ev("a")), (0.2, b"data: [DONE]\n\n"), (0.3, None)])
    assert progress.verdict is StreamVerdict.INCOMPLETE
    assert progress.message == ("incomplete stream: event 1 of 2 is a bare `data: [DONE]` without "
                                "`event: done`, and no done event came")


def test_bare_done_then_an_open_body_waits_one_gap_not_the_whole_stream():
    progress, fake = run([(0.1, ev("a")), (0.2, b"data: [DONE]\n\n"), (2.5, ev("late"))])
    assert progress.verdict is StreamVerdict.INCOMPLETE and fake.now == pytest.approx(0.7)
    assert "bare `data: [DONE]`" in progress.message and "stayed open 0.5 s after it" in progress.message


def test_broken_connection_is_incomplete_too():
    progress, _ = run([(0.1, ev("a")), (0.2, "broken")])
    assert progress.verdict is StreamVerdict.INCOMPLETE and "connection reset" in progress.message


def test_first_event_gap_and_total_bounds():
    first, fake = run([(0.2, b": comment only\n\n")])
    assert first.verdict is StreamVerdict.TIMEOUT_FIRST_EVENT and fake.now == 1.0
    gap, fake = run([(0.1, ev("a")), (0.4, b": ping\n\n"), (0.55, b": ping\n\n")])
    assert gap.verdict is StreamVerdict.TIMEOUT_GAP and fake.now == pytest.approx(0.6)  # comments do not count
    slow = [(0.4 * i, ev("tick")) for i in range(1, 20)]
    total, fake = run(slow, bounds=StreamBounds(1.0, 0.5, 3.0, 1000))
    assert total.verdict is StreamVerdict.TIMEOUT_TOTAL and fake.now == 3.0


def test_too_many_events_and_abort_and_raising_callback():
    many, _ = run([(0.1, ev("a") * 6)])
    assert many.verdict is StreamVerdict.TOO_MANY_EVENTS and len(many.events) == 5
    aborted, _ = run([(0.1, ev("a") * 3)], on_event=lambda e: True)
    assert aborted.verdict is StreamVerdict.ABORTED and len(aborted.events) == 1

    def explode(event):
        raise ValueError("bad event")

    with pytest.raises(ValueError, match="bad event"):
        run([(0.1, ev("a"))], on_event=explode)


def test_body_left_open_after_done_is_complete_with_a_note():
    progress, fake = run([(0.1, ev("done", "[DONE]"))])
    assert progress.verdict is StreamVerdict.COMPLETE and "stayed open" in progress.message
    assert fake.now == pytest.approx(0.6)
