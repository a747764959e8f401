"""`assistants-conformance proxy` (judge live traffic) and `assistants-conformance judge` (judge a HAR file).

Exit codes: 0 no findings, 1 findings, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import uvicorn

from ..wire.config import ConfigError
from ..wire.dialects import DIALECTS, make_dialect
from ..protocol.grammar import load_grammar
from ..spec import load_contract
from . import report
from .app import JudgeFeed, ProxyApp
from .har import HarRecorder, judge_entries, read_har, recording_settings
from .judge import Judge
from .upstream import Pool

DEFAULT_LISTEN = "127.0.0.1:8900"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialect", default="openai", choices=sorted(DIALECTS),
                        help="contract overlays and API base of the target's dialect (default openai)")
    parser.add_argument("--api-version", default=None, help="azure: the api-version the contract is overlaid for")
    parser.add_argument("--report-dir", default=None,
                        help="where results.json, report.html, summary.md, junit.xml go (default reports/proxy-<UTC>)")


def _judge_for(dialect_name: str, api_version: str | None, base_path: str) -> Judge:
    dialect = make_dialect(dialect_name, api_version)
    contract = load_contract(overlays=dialect.overlays, variables={"api_version": api_version or ""})
    return Judge(contract, load_grammar(), base_path=base_path)


def _report_dir(value: str | None) -> Path:
    return Path(value or f"reports/proxy-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")


# --- proxy -------------------------------------------------------------------------------------------------


def proxy_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assistants-conformance proxy", description=(
        "Forward an application's Assistants API traffic to --target-url unchanged and judge every exchange."))
    parser.add_argument("--target-url", required=True, help="the target's API base, as the SDK's base_url")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help=f"HOST:PORT to listen on (default {DEFAULT_LISTEN}; "
                        "port 0 picks a free one)")
    parser.add_argument("--record", default=None, metavar="FILE", help="write every exchange to FILE as HAR")
    parser.add_argument("--flush-seconds", type=float, default=0, help="also write the report every N seconds")
    parser.add_argument("--upstream-timeout", type=float, default=600.0,
                        help="longest wait for the target's next bytes, in seconds (default 600)")
    parser.add_argument("--quiet", action="store_true", help="no live summary line")
    _common(parser)
    args = parser.parse_args(argv)
    try:
        dialect = make_dialect(args.dialect, args.api_version)
        base = dialect.normalize_base_url(args.target_url)
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"--target-url {args.target_url!r}: expected http(s)://HOST[:PORT][/PATH]")
        host, _, port = args.listen.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--listen {args.listen!r}: expected HOST:PORT")
        judge = _judge_for(args.dialect, args.api_version, parts.path)
    except ConfigError as exc:
        print(f"assistants-conformance proxy: {exc}", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), int(port)))
        sock.listen(2048)  # connections wait in the backlog until uvicorn accepts: ready once printed
    except OSError as exc:
        print(f"assistants-conformance proxy: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return 2
    runtime = ProxyRuntime(judge, f"{parts.scheme}://{parts.netloc}", base, args)
    bound = sock.getsockname()[1]
    shown_host = host if host not in ("0.0.0.0", "::") else "127.0.0.1"
    if host not in LOOPBACK:
        print(f"warning: listening on {host}, not loopback: anyone who can reach it can use your target through it",
              file=sys.stderr)
    print(f"assistants-conformance proxy listening on http://{shown_host}:{bound} -> {base}\n"
          f"  point the SDK at base_url=http://{shown_host}:{bound}{parts.path}; report: {runtime.report_dir}/ "
          f"(GET /_conformance/report writes it now; Ctrl-C writes it and stops)", flush=True)
    config = uvicorn.Config(runtime.app, lifespan="on", log_level="warning", access_log=False, server_header=False,
                            date_header=False, proxy_headers=False, timeout_graceful_shutdown=5)
    _Server(config).run(sockets=[sock])
    return runtime.exit_code


class _Server(uvicorn.Server):
    """uvicorn's server, but SIGINT/SIGTERM only stop it (the report is written on the way out and the
    exit code says whether there were findings; uvicorn would re-raise the signal)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class ProxyRuntime:
    """The proxy's parts and their life: started with the server, stopped (report written) with it."""

    def __init__(self, judge: Judge, origin: str, base: str, args: argparse.Namespace):
        self.judge, self.base, self.args = judge, base, args
        self.report_dir = _report_dir(args.report_dir)
        base_path = urlsplit(base).path
        self.recorder = HarRecorder(args.record, base_path=base_path, dialect=args.dialect) if args.record else None
        self.feed = JudgeFeed(judge, self.recorder)
        self.catalog: report.Catalog | None = None  # loaded once listening (its collection swaps sys.stdout)
        self.started = time.time()
        self.pool = Pool()
        self.tasks: list[asyncio.Task] = []
        self.exit_code = 0
        self.app = ProxyApp(origin, self.feed, self.pool, timeout=args.upstream_timeout, control=self.control,
                            on_startup=self.startup, on_shutdown=self.shutdown)

    async def startup(self) -> None:
        gc.freeze()  # the contract and grammar are loaded for good: keep them out of every collection
        self.catalog = report.Catalog()
        self.tasks.append(asyncio.create_task(self.feed.run()))
        if not self.args.quiet:
            self.tasks.append(asyncio.create_task(self._live()))
        if self.args.flush_seconds > 0:
            self.tasks.append(asyncio.create_task(self._flush()))

    async def shutdown(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.feed.drain()
        self.pool.close()
        if self.recorder is not None:
            self.recorder.close()
        doc = self.document()
        await asyncio.to_thread(report.write, self.report_dir, doc)
        self.exit_code = 1 if doc["proxy"]["findings"] else 0
        print(f"\n{report.summary_line(self.judge, self.feed.dropped, self.feed.errors)}\nreport: {self.report_dir}/ "
              f"({report.counts_line(doc) or 'nothing judged'})", file=sys.stderr, flush=True)

    def document(self) -> dict:
        extra = {"dropped_judgements": self.feed.dropped, "judge_errors": self.feed.errors,
                 "last_judge_error": self.feed.last_error, "upstream_errors": self.app.upstream_errors,
                 "recorded": self.recorder.entries if self.recorder else None}
        return report.document(self.judge, target_url=self.base, dialect=self.args.dialect, started=self.started,
                               catalog=self.catalog.wait() if self.catalog else {}, extra=extra)

    async def control(self, name: str) -> tuple[int, dict]:
        if name == "report":
            doc = self.document()
            await asyncio.to_thread(report.write, self.report_dir, doc)
            if self.recorder is not None:
                self.recorder.flush()
            return 200, {"report_dir": str(self.report_dir), "counts": doc["counts"], "proxy": doc["proxy"]}
        if name == "status":
            return 200, {"summary": report.summary_line(self.judge, self.feed.dropped, self.feed.errors), "queued": self.feed.queue.qsize(),
                         "catalog_ready": bool(self.catalog and self.catalog.ready)}
        return 404, {"error": f"unknown control path /_conformance/{name} (report, status)"}

    async def _live(self) -> None:
        tty = sys.stderr.isatty()
        shown, last_print = "", 0.0
        while True:
            await asyncio.sleep(1.0)
            line = report.summary_line(self.judge, self.feed.dropped, self.feed.errors)
            if line == shown or (not tty and time.monotonic() - last_print < 10):
                continue
            shown, last_print = line, time.monotonic()
            print(("\r\x1b[2K" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    async def _flush(self) -> None:
        while True:
            await asyncio.sleep(self.args.flush_seconds)
            await self.control("report")


# --- judge -------------------------------------------------------------------------------------------------


def judge_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assistants-conformance judge", description=(
        "Judge recorded traffic (a HAR file, e.g. from proxy --record or a browser) with the proxy's judges."))
    parser.add_argument("har", help="the HAR file")
    parser.add_argument("--base-path", default=None,
                        help="the API base path in the recorded URLs (default: what the proxy recorded, else /v1; "
                             "/openai for --dialect azure)")
    _common(parser)
    parser.set_defaults(dialect=None)
    args = parser.parse_args(argv)
    try:
        entries = read_har(args.har)
        recorded = recording_settings(args.har)
        args.dialect = args.dialect or recorded.get("dialect") or "openai"
        base_path = args.base_path if args.base_path is not None else recorded.get(
            "base_path", "/openai" if args.dialect == "azure" else "/v1")
        judge = _judge_for(args.dialect, args.api_version, base_path)
    except (OSError, ValueError, KeyError, ConfigError) as exc:
        print(f"assistants-conformance judge: {args.har}: {exc}", file=sys.stderr)
        return 2
    started = time.time()
    for _ in judge_entries(judge, entries):
        pass
    target = entries[0]["request"]["url"] if entries else "(empty recording)"
    doc = report.document(judge, target_url=target, dialect=args.dialect, started=started,
                          catalog=report.Catalog().wait(), extra={"recording": str(args.har)})
    folder = report.write(_report_dir(args.report_dir), doc)
    print(f"{report.summary_line(judge)}\nreport: {folder}/ ({report.counts_line(doc) or 'nothing judged'})")
    return 1 if doc["proxy"]["findings"] else 0
