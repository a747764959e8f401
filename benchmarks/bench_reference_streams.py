"""Many streams open at once against the reference server (target: 500 at --token-delay-ms 20, no errors).

Starts the server at --token-delay-ms 20, opens STREAMS streaming create-thread-and-run requests at the
same moment (one connection each) asking for WORDS words (so each stream stays open WORDS x 20 ms), and
counts streams that ended with `event: done`, errors (status, broken or unfinished streams), the peak
number of streams open together, and the time to first event (request sent -> first `event:` line).

    python benchmarks/bench_reference_streams.py [--streams 500] [--words 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference_common import (cpu_seconds, host_port, install_uvloop, make_assistant,  # noqa: E402
                                    reference_server, rss_mb, summary_ms)

STREAM_BOUND = 60.0   # seconds one stream may take, whatever happens


async def one_stream(root_url: str, assistant_id: str, words: int, state: dict) -> float:
    """Returns the time to first event; raises on any error."""
    host, port = host_port(root_url)
    body = json.dumps({"assistant_id": assistant_id, "stream": True, "thread": {
        "messages": [{"role": "user", "content": f"Write {words} words."}]}}).encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        started = time.monotonic()
        writer.write(f"POST /v1/threads/runs HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        if b" 200 " not in status_line:
            raise RuntimeError(f"status line {status_line!r}")
        seen = b""
        first = None
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("connection closed before event: done")
            if first is None and b"event:" in seen[-8:] + chunk:
                first = time.monotonic() - started
                state["open"] += 1
                state["peak"] = max(state["peak"], state["open"])
            seen = seen[-64:] + chunk
            if b"event: done" in seen:
                state["open"] -= 1
                return first
    finally:
        writer.close()


async def measure(root_url: str, pid: int, streams: int, words: int) -> dict:
    assistant_id = await make_assistant(root_url)
    state = {"open": 0, "peak": 0}
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    results = await asyncio.gather(
        *[asyncio.wait_for(one_stream(root_url, assistant_id, words, state), STREAM_BOUND) for _ in range(streams)],
        return_exceptions=True)
    elapsed = time.monotonic() - t0
    firsts = [r for r in results if isinstance(r, float)]
    errors = [r for r in results if not isinstance(r, float)]
    for e in errors[:5]:
        print(f"error: {e!r}", file=sys.stderr)
    return {"complete": len(firsts), "errors": len(errors), "peak": state["peak"], "firsts": firsts,
            "elapsed": elapsed, "server_cpu_s": cpu_seconds(pid) - cpu0, "rss_mb": rss_mb(pid)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--token-delay-ms", type=float, default=20)
    args = parser.parse_args()
    install_uvloop()
    with reference_server(token_delay_ms=args.token_delay_ms) as server:
        r = asyncio.run(measure(server.root_url, server.pid, args.streams, args.words))
    print(f"streams: {args.streams} opened at once, {r['complete']} complete, {r['errors']} errors, "
          f"peak {r['peak']} open together, all done in {r['elapsed']:.1f} s")
    if r["firsts"]:
        print(f"time to first event: {summary_ms(r['firsts'])}")
    print(f"server CPU {r['server_cpu_s']:.2f} s, server RSS {r['rss_mb']:.0f} MB")
    ok = r["complete"] == args.streams and r["errors"] == 0 and r["peak"] >= min(args.streams, 500)
    print(f"target {args.streams} concurrent streams without errors:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
