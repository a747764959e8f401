"""What the judging proxy adds, in one run: requests through it vs straight to the reference server.

  * added latency: 50 clients each retrieving a run every 25 ms (paced, what the SDK's polling does),
    straight to the server, then through the proxy; added = proxied percentile - direct percentile
    (targets: p50 < 0.5 ms, p99 < 2 ms);
  * throughput: 50 clients back to back through the proxy; requests/s, and requests per second of the
    proxy's own CPU (the proxy is one asyncio process: one core; target >= 5,000 req/s);
  * time to first event: sequential create-thread-and-run streams, direct vs proxied (target: < 1 ms added);
  * stream judging: a long real stream (its text deltas repeated) through proxy.judge.Judge in 16 KiB
    chunks, CPU time (target >= 100,000 events/s).
The proxy's own report is read at the end: no judgement may have been dropped.

    python benchmarks/bench_proxy.py [--clients 50] [--duration 8] [--streams 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from bench_reference_common import (cpu_seconds, host_port, install_uvloop, make_assistant,  # noqa: E402
                                    percentile, reference_server, retrieve_load, run_paths, summary_ms)
from proxy_helpers import start_proxy  # noqa: E402

from assistants_conformance.protocol.grammar import load_grammar  # noqa: E402
from assistants_conformance.proxy.exchange import Observed  # noqa: E402
from assistants_conformance.proxy.judge import Judge  # noqa: E402
from assistants_conformance.spec import load_contract  # noqa: E402
from assistants_conformance.wire.sse import SSEParser  # noqa: E402


async def first_event_times(root_url: str, assistant_id: str, n: int) -> tuple[list[float], bytes]:
    """Seconds from writing a create-thread-and-run stream request to its first complete event; the last body."""
    host, port = host_port(root_url)
    body = json.dumps({"assistant_id": assistant_id, "stream": True,
                       "thread": {"messages": [{"role": "user", "content": "Tell me a story."}]}}).encode()
    head = (f"POST /v1/threads/runs HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    reader, writer = await asyncio.open_connection(host, port)
    times, raw = [], b""
    for _ in range(n):
        started = time.perf_counter()
        writer.write(head + body)
        await reader.readuntil(b"\r\n\r\n")
        raw, first = b"", None
        while not raw.endswith(b"\r\n0\r\n\r\n"):
            raw += await reader.read(65536)
            if first is None and b"\n\n" in raw:
                first = time.perf_counter() - started
        times.append(first)
    writer.close()
    return times, _dechunk(raw)


def _dechunk(raw: bytes) -> bytes:
    out, pos = b"", 0
    while True:
        end = raw.index(b"\r\n", pos)
        size = int(raw[pos:end], 16)
        if size == 0:
            return out
        out += raw[end + 2:end + 2 + size]
        pos = end + 4 + size


def drained(proxy, bound: float = 120.0) -> None:
    """Wait (bounded) until the proxy has judged everything it forwarded (and has its check catalog: the
    child process collecting it would share the cores with the measurement)."""
    deadline = time.monotonic() + bound
    while True:
        status = httpx.get(f"{proxy.root_url}/_conformance/status", timeout=10).json()
        if not status["queued"] and status["catalog_ready"]:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the proxy's judging queue did not drain within {bound:g} s")
        time.sleep(0.1)


def long_stream(body: bytes, deltas: int) -> bytes:
    """The real stream with its first text delta repeated `deltas` times (completed text to match)."""
    parser = SSEParser()
    events = parser.feed(body)
    first = next(i for i, e in enumerate(events) if e.event == "thread.message.delta")
    delta = events[first]
    piece = json.loads(delta.data)["delta"]["content"][0]["text"]["value"]
    out = [e.raw for e in events[:first]] + [delta.raw] * deltas
    for e in events[first:]:
        if e.event == "thread.message.delta":
            continue
        if e.event == "thread.message.completed":
            message = json.loads(e.data)
            message["content"][0]["text"]["value"] = piece * deltas
            message["content"][0]["text"]["annotations"] = []
            out.append(f"event: thread.message.completed\ndata: {json.dumps(message)}\n\n")
        else:
            out.append(e.raw)
    return "".join(out).encode()


def judge_rate(stream: bytes, repeat: int = 3) -> tuple[float, int, dict]:
    contract, grammar = load_contract(), load_grammar()
    best, events, found = float("inf"), 0, {}
    for i in range(repeat):
        judge = Judge(contract, grammar)  # a fresh one: the same run streamed twice would be a finding
        ex = Observed(i, "POST", "http://t/v1/threads/runs", "/v1/threads/runs", {},
                      b'{"assistant_id": "asst_1", "stream": true}', time.time(), status=200,
                      response_headers={"content-type": "text/event-stream"})
        t0 = time.process_time()
        judge.begin(ex)
        for j in range(0, len(stream), 16384):
            judge.chunk(ex, stream[j:j + 16384], time.time())
        ex.ended = time.time()
        judge.end(ex)
        best = min(best, time.process_time() - t0)
        events, found = judge.stats["events"], dict(judge.findings.found)
    return events / best, events, found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--interval-ms", type=float, default=25.0)
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--deltas", type=int, default=50_000)
    args = ap.parse_args()
    install_uvloop()
    ok = True
    with reference_server(token_delay_ms=0) as server, tempfile.TemporaryDirectory() as tmp:
        proxy = start_proxy(server.base_url, Path(tmp))
        try:
            assistant_id = asyncio.run(make_assistant(server.root_url))
            paths = asyncio.run(run_paths(server.root_url, assistant_id, 200))
            interval = args.interval_ms / 1000
            drained(proxy)
            direct = asyncio.run(retrieve_load(server.root_url, paths, args.clients, args.duration, interval))
            proxied = asyncio.run(retrieve_load(proxy.root_url, paths, args.clients, args.duration, interval))
            print(f"paced, {args.clients} clients each every {args.interval_ms:g} ms:")
            print(f"  direct:  {len(direct['latencies']) / direct['elapsed']:.0f} req/s, {summary_ms(direct['latencies'])}")
            print(f"  proxied: {len(proxied['latencies']) / proxied['elapsed']:.0f} req/s, {summary_ms(proxied['latencies'])}")
            added = {p: (percentile(proxied["latencies"], p) - percentile(direct["latencies"], p)) * 1000 for p in (50, 99)}
            met = added[50] < 0.5 and added[99] < 2.0
            ok &= met
            print(f"  added: p50 {added[50]:.2f} ms, p99 {added[99]:.2f} ms (targets < 0.5 / < 2): "
                  f"{'met' if met else 'MISSED'}; errors {direct['errors'] + proxied['errors']}")

            drained(proxy)
            cpu0 = cpu_seconds(proxy.process.pid)
            closed = asyncio.run(retrieve_load(proxy.root_url, paths, args.clients, args.duration, None))
            cpu = cpu_seconds(proxy.process.pid) - cpu0
            drained(proxy)  # saturated, forwarding goes first: the judging of the last requests is still queued
            cpu_judged = cpu_seconds(proxy.process.pid) - cpu0
            n = len(closed["latencies"])
            per_core = n / cpu_judged if cpu_judged else float("inf")
            ok &= per_core >= 5000
            print(f"closed loop, {args.clients} clients through the proxy: {n / closed['elapsed']:.0f} req/s forwarded, "
                  f"proxy CPU {100 * cpu / closed['elapsed']:.0f}% of one core; {summary_ms(closed['latencies'])}")
            print(f"  every one judged: {per_core:,.0f} req per proxy CPU-second (its CPU during the load and for the "
                  f"judging still queued after it), i.e. on one core (target >= 5,000): "
                  f"{'met' if per_core >= 5000 else 'MISSED'}")

            drained(proxy)
            direct_ttfe, body = asyncio.run(first_event_times(server.root_url, assistant_id, args.streams))
            proxied_ttfe, _ = asyncio.run(first_event_times(proxy.root_url, assistant_id, args.streams))
            ttfe_added = (percentile(proxied_ttfe, 50) - percentile(direct_ttfe, 50)) * 1000
            ok &= ttfe_added < 1.0
            print(f"time to first event, {args.streams} streams each: direct {summary_ms(direct_ttfe)}")
            print(f"  proxied {summary_ms(proxied_ttfe)}; added p50 {ttfe_added:.2f} ms (target < 1): "
                  f"{'met' if ttfe_added < 1.0 else 'MISSED'}")
            drained(proxy)
            report = httpx.get(f"{proxy.root_url}/_conformance/report", timeout=60).json()["proxy"]
            print(f"proxy report: {report['exchanges']} exchanges, {report['events']} events judged, "
                  f"{report['findings']} findings, {report['dropped_judgements']} judgements dropped")
            ok &= report["dropped_judgements"] == 0 and report["findings"] == 0
        finally:
            proxy.stop()
    stream = long_stream(body, args.deltas)
    rate, events, found = judge_rate(stream)
    ok &= rate >= 100_000 and not found
    print(f"stream judging: {events} events ({len(stream) / events:.0f} B/event) at {rate:,.0f} events/s of CPU "
          f"(target >= 100,000): {'met' if rate >= 100_000 else 'MISSED'}; findings {found or 'none'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
