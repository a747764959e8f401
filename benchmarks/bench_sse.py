"""SSE parsing throughput on a realistic Assistants run stream, ours side by side with httpx-sse.

The stream: run/step/message lifecycle events around a long run of `thread.message.delta` events,
each 300-2000 bytes of JSON (most of it the delta text), fed in 16 KiB network-sized chunks and,
separately, with CRLF line ends. Prints events/s for one core (CPU time, best of R); the harness needs
>= 100,000. httpx-sse (if installed: the dev extras) reads the same chunks through its public API,
`EventSource(response).iter_sse()` on an httpx.Response streaming them; our reader must be at least as
fast while keeping what httpx-sse drops (raw framing, per-event timing).

    python benchmarks/bench_sse.py [--events N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import random
import time

import httpx

from assistants_conformance.wire.sse import SSEParser

try:
    from httpx_sse import EventSource
except ImportError:  # the dev extras bring it
    EventSource = None

LIFECYCLE = ["thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created",
             "thread.run.step.in_progress", "thread.message.created", "thread.message.in_progress"]
ENDING = ["thread.message.completed", "thread.run.step.completed", "thread.run.completed"]


def _event(name: str, data: str, eol: str) -> str:
    return f"event: {name}{eol}data: {data}{eol}{eol}"


def build_stream(n_events: int, eol: str = "\n", seed: int = 7) -> bytes:
    rng = random.Random(seed)
    words = "the quick brown fox jumps over a lazy dog while assistants stream tokens 日本語 も".split()
    base = {"id": "run_abc123", "object": "thread.run", "thread_id": "thread_abc123", "status": "queued",
            "assistant_id": "asst_abc123", "model": "reference-model", "instructions": "Be brief. " * 20,
            "tools": [], "metadata": {"conformance_session": "conf-x"}, "created_at": 1700000000}
    parts = [_event(name, json.dumps(base), eol) for name in LIFECYCLE]
    for i in range(n_events - len(LIFECYCLE) - len(ENDING) - 1):
        size = rng.randint(300, 2000)
        text = " ".join(rng.choice(words) for _ in range(size // 6))
        delta = {"id": "msg_abc123", "object": "thread.message.delta",
                 "delta": {"content": [{"index": 0, "type": "text", "text": {"value": text}}]}}
        parts.append(_event("thread.message.delta", json.dumps(delta, ensure_ascii=False)[:size], eol))
    parts += [_event(name, json.dumps(base), eol) for name in ENDING]
    parts.append(_event("done", "[DONE]", eol))
    return "".join(parts).encode("utf-8")


def ours(chunks: list[bytes]) -> int:
    parser = SSEParser()
    count = 0
    for chunk in chunks:
        count += len(parser.feed(chunk, 0.0))
    return count


def theirs(chunks: list[bytes]) -> int:
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_Chunks(chunks))
    return sum(1 for _ in EventSource(response).iter_sse())


class _Chunks(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]):
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)


def measure(body: bytes, chunk_size: int, repeat: int, reader=ours) -> tuple[float, int]:
    chunks = [body[i:i + chunk_size] for i in range(0, len(body), chunk_size)]
    best = float("inf")
    count = 0
    for _ in range(repeat):
        t0 = time.process_time()  # CPU time: robust when other work shares the cores
        count = reader(chunks)
        best = min(best, time.process_time() - t0)
    return count / best, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    for label, eol, chunk in (("LF, 16 KiB chunks", "\n", 16384), ("CRLF, 16 KiB chunks", "\r\n", 16384),
                              ("CR, 16 KiB chunks", "\r", 16384), ("LF, 1 KiB chunks", "\n", 1024)):
        body = build_stream(args.events, eol)
        rate, count = measure(body, chunk, args.repeat)
        mb = len(body) / count * rate / 1e6
        line = f"{label:22} {count} events, {len(body) / count:.0f} B/event: ours {rate:,.0f} events/s ({mb:.0f} MB/s)"
        if EventSource is not None:
            their_rate, their_count = measure(body, chunk, args.repeat, theirs)
            assert their_count == count, (their_count, count)
            line += f", httpx-sse {their_rate:,.0f} events/s: ours/theirs {rate / their_rate:.2f}"
        print(line)


if __name__ == "__main__":
    main()
